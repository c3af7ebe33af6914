"""Transcript text -> speaker turns, with offsets into the source kept.

Handles labelled transcripts: `Question:` / `Q:` / `Name:` / `NAME:` at the start of a paragraph,
also in bold (`**Name:**`, `**Name**:`), the press-office `Q.` / `THE PRESIDENT.`, or a label alone on
its line (`## Name`, `PUTIN:`) over the speaker's paragraphs; and any label whose shape recurs
(qa.ingest.labels: "FT reporter:", "MR. SMITH.", "[SPEAKER_00]"). Paragraphs without a label continue the
current turn; in a written transcript, text before the first question (headline, standfirst) is
intro; page furniture (see qa.ingest.boilerplate), the document's record of itself ("Interviewee: ..."), a
table of contents, section headings, stand-alone quoted lines that repeat the interview's own words
(pull quotes) and a closing byline are left out of every turn. Who asks is a `Question:`/`Q:`/
`Reporter:` label or one naming the role, the metadata's interviewer or outlet, else the evidence in
the turns (qa.ingest.roles). Text with no labels at all becomes one turn per paragraph, with questions
guessed where a short one is followed by a longer reply (see `is_unlabelled`, `_guessed_turns`).
"""

from __future__ import annotations

import re

from qa.documents import INTERVIEWEE, INTERVIEWER, UNKNOWN_SPEAKER, Document, QAError, Turn
from qa.ingest import labels
from qa.ingest.boilerplate import is_back_channel, is_boilerplate
from qa.ingest.labels import Label as _Label
from qa.ingest.record import is_contents, is_field, is_heading, is_headline_label
from qa.ingest.roles import askers

_INTERVIEWER_LABELS = {"question", "q", "interviewer", "вопрос", "в", "reporter", "journalist", "host"}
_INTERVIEWER_LABELS |= {"moderator", "presenter", "anchor", "correspondent", "корреспондент", "журналист"}
_INTERVIEWEE_LABELS = {"answer", "a", "ответ", "о"}
_QUOTED = re.compile(r'^["“«].*["”»][.!?]?$', re.DOTALL)
_TRAILER = re.compile(r"^(interviewed by|interview by|for more detail|read more|source:)", re.I)
_WORD = re.compile(r"\w+")
# A paragraph of this many words ending in "?" ("So why impose all this structure?"; "Right?" is
# too short), before one at least twice as long, is guessed to be a question.
GUESSED_QUESTION_WORDS = (4, 30)
TIMED_FORMATS = (
    "subtitles",
    "timed",
)  # transcripts of a recording, read by qa.ingest.captions and qa.ingest.timed
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


def _pulled(text: str, start: int, end: int) -> bool:
    """is_pull_quote for text[start:end], the rest of the text made only for a quoted line (making
    it for every paragraph would cost the square of the text)."""
    paragraph = text[start:end]
    return bool(_QUOTED.match(paragraph)) and is_pull_quote(paragraph, text[:start] + text[end:])


def _role(label: str, document: Document, asking: frozenset[str] | set[str] = frozenset()) -> tuple[str, str]:
    """(speaker, role) for a label, using the document's metadata to name generic labels; a label
    naming the outlet ("TASS:", "CNN:") is its interviewer."""
    folded = label.lower()
    outlet = " ".join(document.outlet.lower().split())
    if (
        folded in _INTERVIEWER_LABELS
        or labels.asks_by_title(label)
        or label in asking
        or names(label, document.interviewer)
        or folded == outlet
    ):
        return (document.interviewer or label), INTERVIEWER
    if folded in _INTERVIEWEE_LABELS or (folded.startswith("the ") and document.interviewee):
        return (document.interviewee or label), INTERVIEWEE  # "A:", "THE PRESIDENT." name the interviewee
    if names(label, document.interviewee):
        return document.interviewee, INTERVIEWEE  # "Bradski:" is Gary Bradski
    return label, INTERVIEWEE


def names(label: str, person: str) -> bool:
    """Whether a speaker label names this person: the full name or the surname, in any case
    ("Jane Holm", "HOLM", "Holm")."""
    if not person:
        return False
    label, person = " ".join(label.lower().split()), " ".join(person.lower().split())
    return label == person or label == person.split()[-1]


def _speakers(document: Document, spans, found) -> set[str]:
    counts: dict[str, int] = {}
    for match in found:
        if match:
            counts[match.label] = counts.get(match.label, 0) + 1
    # A label is a speaker if it recurs, is a generic Q/A label, names a person in the metadata, or
    # is the first label after a question (who answers); "Note: ..." once is prose. A label known
    # only by its shape (qa.ingest.labels) must recur.
    named = {document.interviewer, document.interviewee} - {""}
    speakers = {
        label
        for label, n in counts.items()
        if n >= 2 or label.lower() in _INTERVIEWER_LABELS | _INTERVIEWEE_LABELS or label in named
    }
    strict = [m for m in found if m and not m.loose]
    # With none of those, labels opening at least half of the paragraphs are a dialogue's speakers.
    if not speakers and len(strict) >= max(2, len(spans) / 2):
        speakers |= {m.label for m in strict}
    after_question = False
    for match in strict:
        if after_question:
            speakers.add(match.label)
        after_question = match.label in speakers and _role(match.label, document)[1] == INTERVIEWER
    return speakers


def _askers(document: Document, raw: list[tuple[str, list[tuple[int, int]]]]) -> set[str]:
    """Who asks, when neither a Question/Q label nor the metadata says: the speakers whose turns
    read as questions or are brief beside the main speaker's (see qa.ingest.roles). Acknowledgements
    ("Uh-huh.", "Thank you.") are no evidence either way."""
    said = [(label, _said(document.text, spans)) for label, spans in raw]
    said = [(label, words) for label, words in said if not is_back_channel(words)]
    if any(_role(label, document)[1] == INTERVIEWER for label, _ in said):
        return set()
    return askers(said)


def _spoken(document: Document) -> tuple[list[tuple[int, int]], list[_Label | None], set[str]]:
    """(spans, labels, speakers): the paragraphs somebody said, the label opening each (or None), and
    which labels are speakers. Page furniture (rights lines, captions, player text, bylines) is in
    the text but nobody said it."""
    text = document.text
    spans = [(s, e) for s, e in paragraphs(text) if not is_boilerplate(text[s:e])]
    spans = [(s, e) for i, (s, e) in enumerate(spans) if not _is_head_matter(text[s:e], first=i == 0)]
    found = [labels.label_at(text, start, end) for start, end in spans]
    speakers = _speakers(document, spans, found)
    if speakers:
        split = labels.split_inline(text, spans, speakers)
        if len(split) > len(spans):
            spans, found = split, [labels.label_at(text, start, end) for start, end in split]
    return spans, found, speakers


def _is_head_matter(paragraph: str, first: bool) -> bool:
    """The document's own record of itself, not speech: its fields ("Interviewee: ...", "Date:
    ..."), a table of contents, and a headline of a label's shape ("Vladimir Putin: the FT
    interview") when it opens the document."""
    return is_field(paragraph) or is_contents(paragraph) or (first and is_headline_label(paragraph))


def _labelled_turns(text: str, spans, found, speakers: set[str]) -> list[tuple[str, list[tuple[int, int]]]]:
    """(label, paragraph spans) per turn: a speaker's label opens one, unlabelled paragraphs continue
    it; turns with no words after their label are dropped."""
    raw: list[tuple[str, list[tuple[int, int]]]] = []
    for (start, end), match in zip(spans, found, strict=True):
        if match and match.label in speakers:
            raw.append((match.label, [(match.end, end)] if match.end < end else []))
        elif raw and not is_heading(text, start, end):  # a section heading is structure
            raw[-1][1].append((start, end))
    return [(label, turn_spans) for label, turn_spans in raw if turn_spans]


def roles_uncertain(document: Document) -> bool:
    """True when two or more people speak and nothing says who asks: no Question/Q label, no
    interviewer or outlet in the metadata or a byline, and nothing in the turns singles one out (see
    qa.ingest.roles). Every turn is then taken as an answer, and `qa add --interviewer NAME` settles it."""
    spans, found, speakers = _spoken(document)
    if len(speakers) < 2 or any(_role(label, document)[1] == INTERVIEWER for label in speakers):
        return False
    return not _askers(document, _labelled_turns(document.text, spans, found, speakers))


def is_unlabelled(document: Document) -> bool:
    """True when the text has no speaker labels, so each paragraph is taken as a turn."""
    return not _spoken(document)[2]


def parse_turns(document: Document) -> list[Turn]:
    """Split a transcript into speaker turns; unlabelled text becomes one turn per paragraph,
    said by the metadata's interviewee (or an unknown speaker)."""
    text = document.text
    spans, found, speakers = _spoken(document)
    if not speakers:
        kept = [(s, e) for s, e in spans if not _pulled(text, s, e)]
        if not kept:
            raise QAError(f"{document.path}: no text to index")
        return _guessed_turns(document, kept)

    raw = _labelled_turns(text, spans, found, speakers)
    asking = _askers(document, raw)
    stand_in = _stand_ins(document, [label for label, _ in raw], asking)

    _drop_trailer(raw, text)
    # Before the first question come the headline and standfirst, even when a headline reads
    # "Name: ..."; a transcript with no questions at all is all answers. A recording's transcript
    # (captions, a tool's timed export) has no headline: what is said before the first question (a
    # clip's teaser, a host's welcome) is speech.
    first_question = next(
        (i for i, (label, _) in enumerate(raw) if _role(label, document, asking)[1] == INTERVIEWER), 0
    )
    if document.format not in TIMED_FORMATS:
        raw = raw[first_question:]
    turns: list[Turn] = []
    last_question: int | None = None
    for label, turn_spans in raw:
        kept = [(s, e) for s, e in turn_spans if not _pulled(text, s, e)]
        if not kept:
            continue
        speaker, role = _role(label, document, asking)
        speaker = stand_in.get(label, speaker)
        asked = turns[-1].role == INTERVIEWER and _said(text, turns[-1]).endswith("?") if turns else False
        if is_back_channel(_said(text, kept), answers_a_question=asked and role == INTERVIEWEE):
            continue  # "Uh-huh.", "Right.": nothing to quote, and no question to answer
        index = len(turns)
        asked_by = last_question if role == INTERVIEWEE else None
        turns.append(Turn(document.doc_id, index, speaker, role, tuple(kept), asked_by))
        if role == INTERVIEWER:
            last_question = index
    return turns


def _guessed_turns(document: Document, kept: list[tuple[int, int]]) -> list[Turn]:
    """Turns of text with no speaker labels, one per paragraph. A short paragraph that ends in a
    question and is followed by a longer one (GUESSED_QUESTION_WORDS) is guessed to be a question,
    said by the document's interviewer, else an unknown speaker, and the next its answer; the rest
    are answers, said by the document's interviewee, else an unknown speaker. Nobody is given a
    name the document lacks."""
    text = document.text
    lengths = [len(text[s:e].split()) for s, e in kept]
    turns: list[Turn] = []
    for i, span in enumerate(kept):
        said = text[span[0] : span[1]].rstrip('"”’) ')
        asks_here = (
            said.endswith("?")
            and GUESSED_QUESTION_WORDS[0] <= lengths[i] <= GUESSED_QUESTION_WORDS[1]
            and i + 1 < len(kept)
            and lengths[i + 1] > 2 * lengths[i]
        )
        if asks_here:
            turns.append(
                Turn(document.doc_id, i, document.interviewer or UNKNOWN_SPEAKER, INTERVIEWER, (span,))
            )
            continue
        asked_by = i - 1 if turns and turns[-1].role == INTERVIEWER and turns[-1].index == i - 1 else None
        speaker = document.interviewee or UNKNOWN_SPEAKER
        turns.append(Turn(document.doc_id, i, speaker, INTERVIEWEE, (span,), asked_by))
    return turns


def _stand_ins(document: Document, raw_labels: list[str], asking: set[str]) -> dict[str, str]:
    """Names for labels that name nobody ("Speaker 2", "SPEAKER_01"): when exactly one such label
    answers and the document names its interviewee, that label is the interviewee; likewise the one
    such label that asks, and the document's interviewer."""
    generic = {label for label in raw_labels if labels.is_generic(label) and len(label) > 1}
    out = {}
    for role, person in ((INTERVIEWEE, document.interviewee), (INTERVIEWER, document.interviewer)):
        matching = [label for label in generic if _role(label, document, asking)[1] == role]
        if person and len(matching) == 1:
            out[matching[0]] = person
    return out


def _said(text: str, turn_or_spans) -> str:
    spans = turn_or_spans.spans if isinstance(turn_or_spans, Turn) else turn_or_spans
    return " ".join(text[s:e] for s, e in spans).rstrip()


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
