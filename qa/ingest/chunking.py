"""Answer turns -> passages: sentence-aware chunks that fit the embedder, offsets into the source kept."""

from __future__ import annotations

import math
import re

from qa.documents import INTERVIEWEE, Document, Passage, Turn
from qa.ingest.parsing import turn_text

MAX_WORDS = 180  # all-MiniLM-L6-v2 reads 256 word pieces; 180 English words stay under that
OVERLAP_WORDS = 40  # the last sentence of a chunk opens the next one if it is at most this long

# A stop before a space and a capital or digit; in Chinese and Japanese, 。！？ whatever follows.
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’)\]]*(?=\s+[\"“‘(\[]?[A-ZА-Я0-9])|[。！？]+[」』”’)）]*")
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "prof", "st", "vs", "gen", "jr", "sr", "e.g", "i.e"}
# initials before the final stop, alone or after a dash or slash: "U.N.", "Cuba-U.S.", "/U.S."
_INITIALS = re.compile(r"(?:^|\W)(?:[a-zа-я]\.)+[a-zа-я]$")
_BEFORE_A_NUMBER = {"no"}  # "No. 5" abbreviates; "No. If you..." ends a sentence
# Speech recognised without punctuation (auto-captions) has no sentences: a run of words with no mark
# at all is cut into windows of WINDOW_WORDS from its start, so a passage's own text, split again,
# gives the same windows. Its passages are shorter, as nothing but length and pauses bounds them.
_MARK = re.compile(r"[,;:!?…—–](?=\s|$)|\.(?=\s+[\"“‘(\[]?[A-ZА-Я0-9]|$)|[，。！？]")  # not "u.s. locks"
_WORD = re.compile(r"\S+")
WINDOW_WORDS = 20
UNPUNCTUATED_MAX_WORDS = 100


def sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside text[start:end], each trimmed of surrounding whitespace."""
    spans = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.group().startswith(".") and _abbreviated(text, cursor, match):
            continue
        spans.append((cursor, match.end()))
        cursor = match.end()
        while cursor < end and text[cursor].isspace():
            cursor += 1
    if cursor < end:
        spans.append((cursor, end))
    return [window for span in spans for window in _windows(text, *span)]


def _abbreviated(text: str, cursor: int, match: re.Match) -> bool:
    """Whether the stop at `match` ends an abbreviation rather than a sentence: a title ("Dr."), an
    initial ("J. Smith"), initials ("U.N. Security Council"), or "No." before a number."""
    before = text[max(cursor, match.start() - 40) : match.start()].split()
    word = before[-1].lower().rstrip(".") if before else ""
    if word in _BEFORE_A_NUMBER:
        return text[match.end() : match.end() + 40].lstrip()[:1].isdigit()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or bool(_INITIALS.search(word))


def _windows(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The span itself, or, when it is over WINDOW_WORDS words with no punctuation at all, its
    consecutive windows of WINDOW_WORDS words (the last one shorter)."""
    if _MARK.search(text, start, end):
        return [(start, end)]
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    if len(words) <= WINDOW_WORDS:
        return [(start, end)]
    return [
        (words[i][0], words[min(i + WINDOW_WORDS, len(words)) - 1][1])
        for i in range(0, len(words), WINDOW_WORDS)
    ]


def unpunctuated(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is speech recognised without punctuation: fewer marks (stops,
    commas, question marks) than one in 60 words."""
    words = len(text[start:end].split())
    return words > WINDOW_WORDS and len(_MARK.findall(text, start, end)) * 60 < words


def _blocks(text: str, turn: Turn) -> list[list[tuple[int, int]]]:
    """Runs of paragraphs with only whitespace between them: a chunk never spans left-out text."""
    blocks: list[list[tuple[int, int]]] = []
    previous_end = None
    for start, end in turn.spans:
        if previous_end is None or text[previous_end:start].strip():
            blocks.append([])
        blocks[-1].append((start, end))
        previous_end = end
    return blocks


def _words(text: str, span: tuple[int, int]) -> int:
    return len(text[span[0] : span[1]].split())


def pack(text: str, spans: list[tuple[int, int]], max_words: int = MAX_WORDS) -> list[list[tuple[int, int]]]:
    """Group consecutive sentences into chunks of about equal size, each at most max_words.

    When a block is split, the next chunk repeats the previous chunk's last sentence (if short) so a
    thought that straddles the boundary is whole in one of them.
    """
    total = sum(_words(text, s) for s in spans)
    if total <= max_words:
        return [spans]
    target = total / math.ceil(total / max_words)
    chunks: list[list[tuple[int, int]]] = []
    i = 0
    while i < len(spans):
        chunk = [spans[i]]
        size = _words(text, spans[i])
        i += 1
        while i < len(spans) and size < target and size + _words(text, spans[i]) <= max_words:
            chunk.append(spans[i])
            size += _words(text, spans[i])
            i += 1
        chunks.append(chunk)
        last = _words(text, chunk[-1])
        if (
            i < len(spans)
            and len(chunk) > 1
            and last <= OVERLAP_WORDS
            and last + _words(text, spans[i]) <= max_words
        ):
            i -= 1  # overlap: the next chunk opens with this chunk's last sentence
    if len(chunks) > 1:
        tail = [s for s in chunks[-1] if s not in chunks[-2]]
        tail_words = sum(_words(text, s) for s in tail)
        previous_words = sum(_words(text, s) for s in chunks[-2])
        if tail_words < target / 2 and previous_words + tail_words <= max_words:
            chunks[-2:] = [chunks[-2] + tail]  # a scrap of a sentence or two is no passage
    return chunks


def _question_run(by_index: dict[int, Turn], asked_by: int | None) -> list[Turn]:
    """The interviewer's turns an answer follows, in order: the question, and any the interviewer
    said just before it with no answer between ("Mr President." "History." "And pe--")."""
    run = []
    while asked_by is not None and asked_by in by_index and by_index[asked_by].role != INTERVIEWEE:
        run.append(by_index[asked_by])
        asked_by -= 1
    return run[::-1]


def passages_for(document: Document, turns: list[Turn], max_words: int = MAX_WORDS) -> list[Passage]:
    """Passages of every answer turn, each knowing who spoke and which question it answers (the
    interviewer's words since the answer before)."""
    by_index = {turn.index: turn for turn in turns}
    passages = []
    for turn in turns:
        if turn.role != INTERVIEWEE:
            continue
        in_answer_to = "\n\n".join(turn_text(document, q) for q in _question_run(by_index, turn.asked_by))
        chunk_no = 0
        for block in _blocks(document.text, turn):
            spans = [s for start, end in block for s in sentences(document.text, start, end)]
            most = max_words
            if unpunctuated(document.text, block[0][0], block[-1][1]):
                most = min(max_words, UNPUNCTUATED_MAX_WORDS)
            for chunk in pack(document.text, spans, most):
                start, end = chunk[0][0], chunk[-1][1]
                passages.append(
                    Passage(
                        passage_id=f"{document.doc_id}:{turn.index}:{chunk_no}",
                        doc_id=document.doc_id,
                        turn_index=turn.index,
                        chunk=chunk_no,
                        speaker=turn.speaker,
                        in_answer_to=in_answer_to,
                        text=document.text[start:end],
                        start=start,
                        end=end,
                    )
                )
                chunk_no += 1
    return passages
