"""The quotes a person keeps for a story: each verbatim with its citation, exported as Markdown, CSV
or Word.

A kept quote carries what a citation needs and nothing it does not: the words (verbatim), who said
them, the question they answered, the interview's title, outlet, date and link, and for a timed
transcript when they were said. The exports hold each quote as the transcript has it (whitespace
made plain, as `qa.answer.answers.citation` does), in the order the person put them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from qa.answer.answers import Card, Source, clock, credit

COLUMNS = (
    "quote",
    "speaker",
    "in_answer_to",
    "title",
    "outlet",
    "published",
    "url",
    "start",
    "end",
    "doc_id",
)


@dataclass(frozen=True)
class Kept:
    quote: str
    speaker: str
    in_answer_to: str
    source: Source
    timecode: tuple[float, float] | None = None

    @classmethod
    def of(cls, card: Card) -> Kept:
        return cls(card.quote.text, card.speaker, card.in_answer_to, card.source, card.timecode)

    @property
    def words(self) -> str:
        """The quote with its whitespace made plain (no-break spaces, line breaks)."""
        return " ".join(self.quote.split())

    @property
    def asked(self) -> str:
        return " ".join(self.in_answer_to.split())

    @property
    def when(self) -> str:
        """`00:01:02-00:01:09` for a timed transcript, else empty."""
        return f"{clock(self.timecode[0])}-{clock(self.timecode[1])}" if self.timecode else ""

    @property
    def credit(self) -> str:
        """`<speaker>, <source>, <date> [<when>]`: who said it, where and when (answers.credit)."""
        return credit(self.speaker, self.source, self.timecode)

    def cited(self) -> str:
        """The citation line `qa ask --cite` prints: `"<quote>" - <credit>`."""
        return f'"{self.words}" - {self.credit}'


def markdown(kept: list[Kept]) -> str:
    """One block quote per kept quote, its credit and link under it, then the question it answered."""
    blocks = []
    for quote in kept:
        lines = [
            f"> {quote.words}",
            "",
            f"— {quote.credit}" + (f" <{quote.source.url}>" if quote.source.url else ""),
        ]
        if quote.asked:
            lines += ["", f"*In answer to:* {quote.asked}"]
        blocks.append("\n".join(lines))
    return "\n\n---\n\n".join(blocks) + "\n" if blocks else ""


def csv_text(kept: list[Kept]) -> str:
    """A header row (COLUMNS), then one row per quote; times in seconds."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for quote in kept:
        source = quote.source
        start, end = (f"{t:g}" for t in quote.timecode) if quote.timecode else ("", "")
        writer.writerow(
            [
                quote.words,
                quote.speaker,
                quote.asked,
                source.title,
                source.outlet,
                source.published,
                source.url,
                start,
                end,
                source.doc_id,
            ]  # fmt: skip
        )
    return out.getvalue()


def docx_bytes(kept: list[Kept]) -> bytes:
    """A Word document: each quote a paragraph of its own, its credit under it in italics, then the
    question it answered and the link."""
    import docx

    document = docx.Document()
    for quote in kept:
        document.add_paragraph(f"“{quote.words}”")
        document.add_paragraph().add_run(f"— {quote.credit}").italic = True
        if quote.asked:
            document.add_paragraph(f"In answer to: {quote.asked}")
        if quote.source.url:
            document.add_paragraph(quote.source.url)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# What the page sends back to export (its collection lives in the browser): checked, as any API input
MAX_KEPT, MAX_FIELD = 500, 20_000
FORMATS = {
    "markdown": ("quotes.md", "text/markdown"),
    "csv": ("quotes.csv", "text/csv"),
    "docx": ("quotes.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
}


def record(kept: Kept) -> dict:
    """A kept quote as the page holds it (and sends it back to export)."""
    source = {f: getattr(kept.source, f) for f in ("doc_id", "title", "outlet", "published", "url")}
    return {
        "quote": kept.quote,
        "speaker": kept.speaker,
        "in_answer_to": kept.in_answer_to,
        "source": source,
        "timecode": list(kept.timecode) if kept.timecode else None,
    }


def from_records(records) -> list[Kept]:
    """The kept quotes a client sent; QAError for anything that is not what `record` makes."""
    from qa.documents import QAError

    if not isinstance(records, list) or len(records) > MAX_KEPT:
        raise QAError(f"the collection to export is a list of at most {MAX_KEPT} kept quotes")
    kept = []
    for item in records:
        try:
            texts = [item["quote"], item["speaker"], item["in_answer_to"]]
            fields = [item["source"][f] for f in ("doc_id", "title", "outlet", "published", "url")]
            timecode = item.get("timecode")
            if not all(isinstance(t, str) and len(t) <= MAX_FIELD for t in texts + fields) or not texts[0]:
                raise TypeError
            if timecode is not None:
                timecode = tuple(float(t) for t in timecode)
                if len(timecode) != 2:
                    raise TypeError
        except (KeyError, TypeError, ValueError, AttributeError):
            raise QAError("a kept quote to export is not one the page made") from None
        kept.append(Kept(texts[0], texts[1], texts[2], Source(*fields), timecode))
    return kept


def export(records, fmt: str) -> tuple[str, str, bytes]:
    """(file name, media type, bytes) of the collection in this format (markdown, csv or docx)."""
    from qa.documents import QAError

    if fmt not in FORMATS:
        raise QAError(f"export as {', '.join(FORMATS)}, not {fmt!r}")
    kept = from_records(records)
    data = {"markdown": lambda: markdown(kept).encode(), "csv": lambda: csv_text(kept).encode(),
            "docx": lambda: docx_bytes(kept)}[fmt]()  # fmt: skip
    return (*FORMATS[fmt], data)
