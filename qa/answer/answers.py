"""Questions in, answers out: the checks on a question, abstention, and the shapes people read."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from qa.answer.quotes import Span
from qa.documents import UNKNOWN_SPEAKER, Hit, QAError

MAX_QUESTION_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Source:
    """What a card cites: the interview's title, outlet, date and link (empty where unknown)."""

    doc_id: str
    title: str = ""
    outlet: str = ""
    published: str = ""
    url: str = ""
    recording: str = ""  # the archive's name for its recording (qa/ingest/recordings.py), when it has one

    @classmethod
    def of(cls, doc_id: str, document: dict) -> Source:
        cited = ("title", "outlet", "published", "url", "recording")
        return cls(doc_id, *(str(document.get(f) or "") for f in cited))


@dataclass(frozen=True)
class Card:
    """One quote card, resolved once by the engine: the words to quote, a short excerpt of whole
    sentences around them, the whole answer for context, and everything a renderer shows.

    `quote` and `excerpt` are verbatim (`text == source[start:end]`); `context` is the whole answer
    turn as stretches of text (pull quotes left out); `hits` are the passages it came from, best first.
    """

    rank: int
    speaker: str
    in_answer_to: str
    quote: Span
    excerpt: Span
    context: tuple[Span, ...]
    source: Source
    label: str  # "strong match", "good match" or "weak match": the best passage's own similarity
    score: float  # what orders the cards: see Engine.ask
    timecode: tuple[float, float] | None  # when the quote was said (subtitle transcripts only)
    hits: tuple[Hit, ...]

    @property
    def passage_ids(self) -> tuple[str, ...]:
        return tuple(h.passage.passage_id for h in self.hits)

    @property
    def labelled(self) -> bool:
        """False for a transcript with no speaker labels: who spoke is unknown, and the question an
        answer follows was guessed from the text (qa.ingest.parsing)."""
        return self.speaker != UNKNOWN_SPEAKER


@dataclass(frozen=True)
class Answer:
    """A question's finished answer: the top-k passages (`hits`, as the retriever ranked them) and up
    to k cards, one per answer turn, best first. An abstention has neither."""

    question: str
    abstained: bool
    hits: tuple[Hit, ...]
    cards: tuple[Card, ...] = ()
    route: str = "english"  # "english", or "multilingual" for a question in another script
    # the interviewees the question names, whose words alone were searched (none: everyone's)
    named: tuple[str, ...] = ()


def by_answer_turn(hits) -> list[list[Hit]]:
    """Hits grouped by answer turn, in the order of each turn's best hit."""
    groups: dict[tuple[str, int], list[Hit]] = {}
    for hit in hits:
        groups.setdefault((hit.passage.doc_id, hit.passage.turn_index), []).append(hit)
    return list(groups.values())


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
    """The question as searched: control characters dropped, whitespace folded; QAError if unusable
    (not text, empty, too long, or not valid Unicode: invalid UTF-8 read from a pipe, an unpaired
    surrogate sent to the API)."""
    if not isinstance(question, str):
        raise QAError(f"the question must be text, not {type(question).__name__}")
    if _SURROGATE.search(question):
        raise QAError("the question is not valid text (invalid UTF-8 or an unpaired surrogate); retype it")
    question = " ".join(_CONTROL.sub(" ", question or "").split())
    if not question:
        raise QAError("the question is empty: type a question about the interview")
    if len(question) > MAX_QUESTION_CHARS:
        raise QAError(f"the question is {len(question)} characters long; ask in at most {MAX_QUESTION_CHARS}")
    return question


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


def span_json(span: Span) -> dict:
    return {"text": span.text, "start": span.start, "end": span.end}


def citation(card: Card) -> str:
    """`"<quote>" - <speaker>, <source>, <date> [<when said>]`, whitespace (no-break spaces too) made
    plain: what the page shows on each card and copies, and `qa ask --cite` prints."""
    return f'"{" ".join(card.quote.text.split())}" - ' + credit(card.speaker, card.source, card.timecode)


def credit(speaker: str, source: Source, timecode: tuple[float, float] | None) -> str:
    """`<speaker>, <source>, <date> [<when said>]`: the attribution, and for a timed transcript when
    the words were said (`[00:01:06-00:01:08]`)."""
    said = attribution(speaker, source)
    return f"{said} [{clock(timecode[0])}-{clock(timecode[1])}]" if timecode else said


def attribution(speaker: str, source: Source) -> str:
    """`<speaker>, <source>, <date>`: what is known and no more. The source is always named: the
    outlet, else the interview's title (in quotes), else its file's name; an unknown date is left
    out, never guessed."""
    named = source.outlet or (f"“{source.title}”" if source.title else source.doc_id)
    return ", ".join(p for p in (speaker, named, source.published) if p)


def card_json(card: Card) -> dict:
    record = {
        "rank": card.rank,
        "score": round(card.score, 6),
        "label": card.label,
        "speaker": card.speaker,
        "in_answer_to": card.in_answer_to,
        "doc_id": card.source.doc_id,
        "passage_ids": list(card.passage_ids),
        "quote": span_json(card.quote),
        "excerpt": span_json(card.excerpt),
        "source": {f: getattr(card.source, f) for f in ("title", "outlet", "published", "url")},
        "citation": citation(card),
    }
    if card.timecode:
        record["timecode"] = {"start": card.timecode[0], "end": card.timecode[1]}
    return record


def answer_json(answer: Answer) -> dict:
    """What `qa ask --json` and the API's /search give: the passages as ranked (`hits`) and the cards."""
    return {
        "question": answer.question,
        "abstained": answer.abstained,
        "hits": [hit_json(hit) for hit in answer.hits],
        "cards": [card_json(card) for card in answer.cards],
        **({"named": list(answer.named)} if answer.named else {}),
    }


ABSTAIN_MESSAGE = "Nothing in the interviews answers that question."


def answer_text(answer: Answer) -> str:
    """What the CLI prints: each card's excerpt with its quote between » and «, who said it, the
    question it answered and the source."""
    lines = [f"Q: {answer.question}"]
    if answer.abstained:
        lines.append(f"   {ABSTAIN_MESSAGE}")
    for card in answer.cards:
        when = f"  [{clock(card.timecode[0])}-{clock(card.timecode[1])}]" if card.timecode else ""
        who = card.speaker if card.labelled else f"{card.speaker} (no speaker labels)"
        lines.append(f"[{card.rank}] {card.label}  {who}{when}  ({', '.join(card.passage_ids)})")
        if card.in_answer_to:
            guessed = "" if card.labelled else " (guessed)"
            lines.append(f"    in answer to{guessed}: {_shorten(card.in_answer_to, 100)}")
        excerpt, quote = card.excerpt, card.quote
        text = (
            excerpt.text[: quote.start - excerpt.start]
            + "»"
            + quote.text
            + "«"
            + excerpt.text[quote.end - excerpt.start :]
        )
        for paragraph in text.replace("\xa0", " ").split("\n\n"):
            lines.extend(textwrap.wrap(paragraph, 100, initial_indent="    ", subsequent_indent="    "))
        source = ", ".join(
            x
            for x in (card.source.title or card.source.doc_id, card.source.outlet, card.source.published)
            if x
        )
        lines.append(f"    source: {source}")
    return "\n".join(lines)


def _shorten(text: str, width: int) -> str:
    return textwrap.shorten(" ".join(text.split()), width, placeholder=" ...")
