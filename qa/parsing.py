"""Transcript text -> speaker turns, with offsets into the source kept.

Handles labelled transcripts (`Question:` / `Name:` at the start of a paragraph). Paragraphs without
a label continue the current turn; text before the first label (headline, standfirst) is intro;
stand-alone quoted lines that repeat the interview's own words (pull quotes) and a closing byline are
left out of every turn.
"""

from __future__ import annotations

import re

from qa.documents import INTERVIEWEE, INTERVIEWER, Document, QAError, Turn

SPEAKER_LABEL = re.compile(r"(?P<label>[A-Z][\w.'’\-]*(?: [A-Z][\w.'’\-]*){0,3}):[ \t]+(?=\S)")
_INTERVIEWER_LABELS = {"question", "q", "interviewer"}
_INTERVIEWEE_LABELS = {"answer", "a"}
_QUOTED = re.compile(r'^["“«].*["”»][.!?]?$', re.DOTALL)
_TRAILER = re.compile(r"^(interviewed by|interview by|for more detail|read more|source:)", re.I)
_WORD = re.compile(r"\w+")
PULL_QUOTE_OVERLAP = 0.6  # share of a quoted line's word pairs found elsewhere in the text


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Every non-blank line is a paragraph: (start, end) with surrounding whitespace trimmed."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        if line.strip():
            start = match.start() + len(line) - len(line.lstrip())
            end = match.end() - (len(line) - len(line.rstrip()))
            spans.append((start, end))
    return spans


def _bigrams(text: str) -> set[tuple[str, str]]:
    words = [w.lower() for w in _WORD.findall(text)]
    return set(zip(words, words[1:], strict=False))


def is_pull_quote(paragraph: str, rest_of_text: str) -> bool:
    """A stand-alone quoted line that repeats words said elsewhere in the interview."""
    if not _QUOTED.match(paragraph):
        return False
    pairs = _bigrams(paragraph)
    if not pairs:
        return False
    return len(pairs & _bigrams(rest_of_text)) / len(pairs) >= PULL_QUOTE_OVERLAP


def _role(label: str, document: Document) -> tuple[str, str]:
    """(speaker, role) for a label, using the document's metadata to name generic labels."""
    folded = label.lower()
    if folded in _INTERVIEWER_LABELS or (document.interviewer and label == document.interviewer):
        return (document.interviewer or label), INTERVIEWER
    if folded in _INTERVIEWEE_LABELS:
        return (document.interviewee or label), INTERVIEWEE
    return label, INTERVIEWEE


def parse_turns(document: Document) -> list[Turn]:
    """Split a labelled transcript into turns; raise QAError when it has no speaker labels."""
    text = document.text
    spans = paragraphs(text)
    labels = [SPEAKER_LABEL.match(text, start, end) for start, end in spans]
    counts: dict[str, int] = {}
    for match in labels:
        if match:
            counts[match["label"]] = counts.get(match["label"], 0) + 1
    # A label is a speaker if it recurs, is a generic Q/A label, names a person in the metadata, or
    # is the first label after a question (who answers); "Note: ..." once is prose.
    named = {document.interviewer, document.interviewee} - {""}
    speakers = {
        label
        for label, n in counts.items()
        if n >= 2 or label.lower() in _INTERVIEWER_LABELS | _INTERVIEWEE_LABELS or label in named
    }
    after_question = False
    for match in filter(None, labels):
        if after_question:
            speakers.add(match["label"])
        after_question = match["label"] in speakers and _role(match["label"], document)[1] == INTERVIEWER
    if not speakers:
        raise QAError(f"{document.path}: no speaker labels (like 'Question:' or 'Name:') found")

    raw: list[tuple[str, list[tuple[int, int]]]] = []  # (label, paragraph spans)
    for (start, end), match in zip(spans, labels, strict=True):
        if match and match["label"] in speakers:
            raw.append((match["label"], [(match.end(), end)]))
        elif raw:
            raw[-1][1].append((start, end))

    _drop_trailer(raw, text)
    # Before the first question come the headline and standfirst, even when a headline reads
    # "Name: ..."; a transcript with no questions at all is all answers.
    first_question = next(
        (i for i, (label, _) in enumerate(raw) if _role(label, document)[1] == INTERVIEWER), 0
    )
    raw = raw[first_question:]
    turns: list[Turn] = []
    last_question: int | None = None
    for label, turn_spans in raw:
        kept = [(s, e) for s, e in turn_spans if not is_pull_quote(text[s:e], text[:s] + text[e:])]
        if not kept:
            continue
        speaker, role = _role(label, document)
        index = len(turns)
        asked_by = last_question if role == INTERVIEWEE else None
        turns.append(Turn(document.doc_id, index, speaker, role, tuple(kept), asked_by))
        if role == INTERVIEWER:
            last_question = index
    return turns


def _drop_trailer(raw: list[tuple[str, list[tuple[int, int]]]], text: str) -> None:
    """Remove a closing byline and 'for more detail' lines from the end of the last turn."""
    if not raw:
        return
    last = raw[-1][1]
    while len(last) > 1 and _TRAILER.match(text[last[-1][0] : last[-1][1]]):
        last.pop()


def turn_text(document: Document, turn: Turn) -> str:
    """The turn's words as spoken: its paragraphs joined by blank lines."""
    return "\n\n".join(document.text[s:e] for s, e in turn.spans)
