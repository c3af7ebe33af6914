"""Questions in, answers out: the checks on a question, abstention, and the shapes people read."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qa.documents import Hit, QAError
from qa.retrievers import Retriever

MAX_QUESTION_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Answer:
    question: str
    abstained: bool
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class Excerpt:
    """A verbatim stretch of the transcript: `text` is source[start:end]."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Card:
    """What one quote card shows: the hits from one answer turn, best first, and their text merged
    into excerpts in transcript order (overlapping chunks become one excerpt, never two)."""

    hits: tuple[Hit, ...]
    excerpts: tuple[Excerpt, ...]


def cards(hits: tuple[Hit, ...] | list[Hit]) -> list[Card]:
    """Group hits by answer turn, in the order of each turn's best hit."""
    groups: dict[tuple[str, int], list[Hit]] = {}
    for hit in hits:
        groups.setdefault((hit.passage.doc_id, hit.passage.turn_index), []).append(hit)
    return [Card(tuple(group), merged(h.passage for h in group)) for group in groups.values()]


def merged(passages) -> tuple[Excerpt, ...]:
    """Passages of one answer as excerpts in transcript order, overlapping ones joined."""
    excerpts: list[Excerpt] = []
    for p in sorted(passages, key=lambda p: p.start):
        last = excerpts[-1] if excerpts else None
        if last and p.start <= last.end:  # overlapping chunks of one answer: one stretch of text
            if p.end > last.end:
                excerpts[-1] = Excerpt(last.start, p.end, last.text + p.text[last.end - p.start :])
        else:
            excerpts.append(Excerpt(p.start, p.end, p.text))
    return tuple(excerpts)


_FOLLOW_UP_OPENINGS = ("and ", "but ", "what about", "how about", "also", "then ", "what else", "why not")
_REFERRING_WORDS = {
    "it",
    "its",
    "they",
    "them",
    "their",
    "that",
    "this",
    "those",
    "these",
    "he",
    "she",
    "there",
}


def contextual_question(message: str, previous: str | None) -> str:
    """The question to search: a follow-up ("And what about Pakistan?") carries the previous
    question along, since the fragment alone says too little; anything else stands alone."""
    message = " ".join(message.split())
    if not previous:
        return message
    words = message.lower().rstrip("?.!").split()
    follow_up = message.lower().startswith(_FOLLOW_UP_OPENINGS) or (
        len(words) <= 6 and bool(_REFERRING_WORDS & set(words))
    )
    return f"{previous} {message}" if follow_up else message


def clean_question(question: str) -> str:
    """The question as searched: control characters dropped, whitespace folded; QAError if unusable."""
    question = " ".join(_CONTROL.sub(" ", question or "").split())
    if not question:
        raise QAError("the question is empty: type a question about the interview")
    if len(question) > MAX_QUESTION_CHARS:
        raise QAError(f"the question is {len(question)} characters long; ask in at most {MAX_QUESTION_CHARS}")
    return question


def ask(
    retriever: Retriever,
    question: str,
    k: int,
    covers: Callable[[str, np.ndarray | None], bool],
    allowed: np.ndarray | None = None,
) -> Answer:
    """Top-k passages (of the `allowed` rows only, when given), or an abstention when `covers` says
    nothing there is about the question."""
    question = clean_question(question)
    if k < 1:
        raise QAError(f"k must be at least 1, not {k}")
    if not covers(question, allowed):
        return Answer(question, True, ())
    hits = retriever.search(question, k, allowed)
    return Answer(question, not hits, tuple(hits))


def timespan(document: dict, start: int, end: int) -> tuple[float, float] | None:
    """When the words at source[start:end] were said, from a subtitle file's cue times (None for
    transcripts without times)."""
    times = [(t0, t1) for s, e, t0, t1 in document.get("cues", ()) if s < end and e > start]
    return (min(t for t, _ in times), max(t for _, t in times)) if times else None


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def hit_json(hit: Hit) -> dict:
    p = hit.passage
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "passage_id": p.passage_id,
        "doc_id": p.doc_id,
        "speaker": p.speaker,
        "in_answer_to": p.in_answer_to,
        "text": p.text,
        "start": p.start,
        "end": p.end,
    }


def answer_json(answer: Answer) -> dict:
    return {
        "question": answer.question,
        "abstained": answer.abstained,
        "hits": [hit_json(hit) for hit in answer.hits],
    }


ABSTAIN_MESSAGE = "Nothing in the interviews answers that question."


def answer_text(answer: Answer) -> str:
    """What the CLI prints: each excerpt with who said it and the question it answered."""
    lines = [f"Q: {answer.question}"]
    if answer.abstained:
        lines.append(f"   {ABSTAIN_MESSAGE}")
    for hit in answer.hits:
        p = hit.passage
        lines.append(f"[{hit.rank}] {hit.score:.3f}  {p.speaker}  ({p.passage_id})")
        if p.in_answer_to:
            lines.append(f"    in answer to: {_shorten(p.in_answer_to, 100)}")
        for paragraph in p.text.replace("\xa0", " ").split("\n\n"):
            lines.extend(textwrap.wrap(paragraph, 100, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(lines)


def _shorten(text: str, width: int) -> str:
    return textwrap.shorten(" ".join(text.split()), width, placeholder=" ...")
