"""Kept quotes exported as Markdown, CSV and Word, read back; `qa ask --cite` (qa/app/collection.py)."""

import csv
import io

import pytest

from qa.answer.answers import Source
from qa.answer.engine import Engine
from qa.app.collection import COLUMNS, Kept, csv_text, docx_bytes, markdown
from qa.cli import main
from qa.store import build

SRT = """1
00:00:01,000 --> 00:00:03,500
Ann Lee: Why did you come back to the river?

2
00:00:04,000 --> 00:00:06,000
Bo Chen: The river was cold that year.

3
00:01:06,200 --> 00:01:08,250
The summit had music, and the border treaty was signed.
"""

KEPT = [
    Kept(
        "The border\xa0treaty was\nsigned.",
        "Bo Chen",
        "Why did you\ncome back?",
        Source("talk", "River talk", "Test Post", "2020-01", "https://example.org/talk"),
        (66.2, 68.25),
    ),
    Kept("Yes.", "Jo", "", Source("notes")),
]


def test_a_kept_quote_is_cited_verbatim_with_who_where_and_when():
    assert [k.cited() for k in KEPT] == [
        '"The border treaty was signed." - Bo Chen, Test Post, 2020-01 [00:01:06-00:01:08]',
        '"Yes." - Jo, notes',  # no outlet, no title: the file's name says which interview
    ]


def test_the_markdown_export_holds_each_quote_its_credit_link_and_question():
    assert markdown(KEPT) == (
        "> The border treaty was signed.\n\n"
        "— Bo Chen, Test Post, 2020-01 [00:01:06-00:01:08] <https://example.org/talk>\n\n"
        "*In answer to:* Why did you come back?\n\n---\n\n"
        "> Yes.\n\n— Jo, notes\n"
    )
    assert markdown([]) == ""


def test_the_csv_export_reads_back_as_one_row_per_quote():
    rows = list(csv.reader(io.StringIO(csv_text(KEPT))))
    assert rows[0] == list(COLUMNS)
    assert rows[1:] == [
        ["The border treaty was signed.", "Bo Chen", "Why did you come back?", "River talk", "Test Post",
         "2020-01", "https://example.org/talk", "66.2", "68.25", "talk"],
        ["Yes.", "Jo", "", "", "", "", "", "", "", "notes"],
    ]  # fmt: skip


def test_the_word_export_reads_back_in_order():
    import docx

    document = docx.Document(io.BytesIO(docx_bytes(KEPT)))
    assert [p.text for p in document.paragraphs] == [
        "“The border treaty was signed.”",
        "— Bo Chen, Test Post, 2020-01 [00:01:06-00:01:08]",
        "In answer to: Why did you come back?",
        "https://example.org/talk",
        "“Yes.”",
        "— Jo, notes",
    ]
    assert document.paragraphs[1].runs[0].italic


def test_a_card_from_a_timed_transcript_is_kept_with_the_time_it_was_said(tmp_path, keyword_embedder):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "river.srt").write_text(SRT, encoding="utf-8")
    engine = Engine(build(folder, tmp_path / "index", keyword_embedder), keyword_embedder)
    card = engine.ask("Was the border treaty signed?", 1).cards[0]
    kept = Kept.of(card)
    assert kept.quote == card.quote.text and kept.timecode == card.timecode == (66.2, 68.25)
    # no outlet: the title (here the file's name) says which interview, then when it was said
    assert kept.cited() == (
        '"The summit had music, and the border treaty was signed." - Bo Chen, “river” [00:01:06-00:01:08]'
    )


@pytest.mark.model
def test_qa_ask_cite_prints_one_citation_line_per_card(bundled_index_dir, capsys, engine):
    question = "What are the SCO's plans for Afghanistan?"
    assert main(["ask", "--index", str(bundled_index_dir), "--cite", "-k", "3", question]) == 0
    lines = capsys.readouterr().out.splitlines()
    cards = engine.ask(question, 3).cards
    assert lines == [f'"{" ".join(c.quote.text.split())}" - Rashid Alimov, TASS, 2017-12' for c in cards]
    with pytest.raises(SystemExit) as usage:  # argparse: the two shapes are one or the other
        main(["ask", "--index", str(bundled_index_dir), "--cite", "--json", question])
    assert usage.value.code == 2


def test_what_the_page_sends_back_to_export_is_checked():
    from qa.app.collection import MAX_KEPT, export, from_records, record
    from qa.documents import QAError

    sent = [record(k) for k in KEPT]
    assert from_records(sent) == KEPT
    name, media, data = export(sent, "csv")
    assert (name, media, data.decode()) == ("quotes.csv", "text/csv", csv_text(KEPT))
    bad = [
        "not a list",
        [{"quote": "x"}],
        [{**sent[0], "quote": 3}],
        [{**sent[0], "quote": ""}],
        [{**sent[0], "timecode": [1.0]}],
        [{**sent[0], "source": "talk"}],
        [sent[1]] * (MAX_KEPT + 1),
    ]
    for records in bad:
        with pytest.raises(QAError):
            export(records, "markdown")
    with pytest.raises(QAError, match="export as markdown, csv, docx, not 'pdf'"):
        export(sent, "pdf")
