"""Every transcript format and encoding read into verbatim text and speaker turns; bad files named."""

import codecs
import json
import random

import pytest

from qa.documents import QAError
from qa.ingest.corpus import read_document
from qa.ingest.parsing import parse_turns, turn_text

RUSSIAN = "Вопрос: Как идут дела в ШОС сегодня?\n\nОтвет: Хорошо, спасибо. Работы много.\n"


def turns_of(path):
    document = read_document(path)
    return document, [(t.speaker, t.role, turn_text(document, t)) for t in parse_turns(document)]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf8.txt", RUSSIAN.encode("utf-8")),
        ("bom.txt", codecs.BOM_UTF8 + RUSSIAN.encode("utf-8")),
        ("utf16.txt", RUSSIAN.encode("utf-16")),  # with its BOM
        ("utf16le.txt", RUSSIAN.encode("utf-16-le")),  # without
        ("cp1251.txt", RUSSIAN.encode("cp1251")),
    ],
)
def test_every_common_encoding_reads_to_the_same_text(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    document, turns = turns_of(path)
    assert document.text == RUSSIAN
    assert turns == [
        ("Вопрос", "interviewer", "Как идут дела в ШОС сегодня?"),
        ("Ответ", "interviewee", "Хорошо, спасибо. Работы много."),
    ]


def test_yaml_front_matter_is_metadata_and_a_sidecar_overrides_it(tmp_path):
    path = tmp_path / "talk.md"
    path.write_text(
        "---\ntitle: River talk\npublished: 2024-05-01\ninterviewer: Ann Lee\ninterviewee: Bo Chen\n---\n"
        "Ann Lee: Why the river?\n\nBo Chen: It was there.\n",
        encoding="utf-8",
    )
    document, turns = turns_of(path)
    assert (document.title, document.published, document.interviewee) == (
        "River talk",
        "2024-05-01",
        "Bo Chen",
    )
    assert document.text == "Ann Lee: Why the river?\n\nBo Chen: It was there.\n"
    assert turns[1] == ("Bo Chen", "interviewee", "It was there.")
    (tmp_path / "talk.json").write_text(json.dumps({"title": "Better title"}))
    assert read_document(path).title == "Better title"


SRT = """1
00:00:01,000 --> 00:00:03,500
Ann Lee: Why did you come back?

2
00:00:04,000 --> 00:00:06,000
Bo Chen: The river.

3
00:00:06,200 --> 00:01:08,250
It was always
the river.
"""


def test_srt_cues_merge_into_speaker_turns_that_keep_their_times(tmp_path):
    path = tmp_path / "talk.srt"
    path.write_text(SRT, encoding="utf-8")
    document, turns = turns_of(path)
    assert (
        document.text == "Ann Lee: Why did you come back?\n\nBo Chen: The river. It was always the river.\n"
    )
    assert turns == [
        ("Ann Lee", "interviewer", "Why did you come back?"),
        ("Bo Chen", "interviewee", "The river. It was always the river."),
    ]
    assert [(document.text[s:e], t0, t1) for s, e, t0, t1 in document.cues] == [
        ("Why did you come back?", 1.0, 3.5),
        ("The river.", 4.0, 6.0),
        ("It was always the river.", 6.2, 68.25),
    ]


def test_webvtt_voice_tags_name_the_speakers(tmp_path):
    path = tmp_path / "talk.vtt"
    path.write_text(
        "WEBVTT\n\nNOTE recorded in May\n\n00:01.000 --> 00:02.000\n<v Ann Lee>Why?</v>\n\n"
        "intro-2\n00:02.500 --> 00:04.000\n<v Bo Chen><i>Because</i> of it.\n",
        encoding="utf-8",
    )
    document, turns = turns_of(path)
    assert turns == [("Ann Lee", "interviewer", "Why?"), ("Bo Chen", "interviewee", "Because of it.")]
    assert [c[2:] for c in document.cues] == [(1.0, 2.0), (2.5, 4.0)]


def test_subtitles_naming_no_one_become_paragraphs_at_pauses(tmp_path):
    path = tmp_path / "talk.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\nFirst words.\n\n2\n00:00:02,500 --> 00:00:03,000\nStill first.\n\n"
        "3\n00:00:06,000 --> 00:00:07,000\nAfter a pause.\n",
        encoding="utf-8",
    )
    document, turns = turns_of(path)
    assert document.text == "First words. Still first.\n\nAfter a pause.\n"
    assert [t[2] for t in turns] == ["First words. Still first.", "After a pause."]


def test_word_documents_read_as_paragraphs(tmp_path):
    import datetime

    import docx

    word = docx.Document()
    word.core_properties.title = "A Word interview"
    word.core_properties.created = datetime.datetime(2013, 12, 23, 23, 15)  # as a template stamps it
    for line in ("Q: Why Word?", "Jo Doe: Because the office uses it.", "And it prints well."):
        word.add_paragraph(line)
    word.save(tmp_path / "talk.docx")
    document, turns = turns_of(tmp_path / "talk.docx")
    assert document.title == "A Word interview" and document.format == "docx"
    assert document.published == ""  # the file's created date is not when the interview appeared
    assert turns == [
        ("Q", "interviewer", "Why Word?"),
        ("Jo Doe", "interviewee", "Because the office uses it.\n\nAnd it prints well."),
    ]


def pdf_with_lines(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds these lines (Helvetica, one per row)."""
    rows = " ".join(f"({line}) Tj 0 -20 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td {rows} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_a_pdf_text_layer_reads_as_speaker_paragraphs(tmp_path):
    (tmp_path / "talk.pdf").write_bytes(
        pdf_with_lines(
            [
                "Q: Why print it?",
                "Jo Doe: Because paper lasts",
                "longer than disks.",
                "Q: Really?",
                "Jo Doe: Yes.",
            ]
        )
    )
    _, turns = turns_of(tmp_path / "talk.pdf")
    assert turns == [
        ("Q", "interviewer", "Why print it?"),
        ("Jo Doe", "interviewee", "Because paper lasts longer than disks."),
        ("Q", "interviewer", "Really?"),
        ("Jo Doe", "interviewee", "Yes."),
    ]


def test_a_saved_web_page_gives_the_article_text_and_its_metadata(tmp_path):
    (tmp_path / "page.html").write_text(
        '<html><head><title>Site | Talk</title><meta property="og:title" content="The river talk">'
        '<meta property="og:site_name" content="River News"><script>var x = "Q: no";</script></head>'
        "<body><nav>Home &middot; Q: Menu</nav><article><h1>The river talk</h1>"
        '<time datetime="2024-05-01T10:00">May 1</time>'
        "<p><b>Q:</b> Why &amp; how?</p><p><b>Bo Chen:</b> Slowly.<br>With care.</p></article>"
        "<footer>(c) River News</footer></body></html>",
        encoding="utf-8",
    )
    document, turns = turns_of(tmp_path / "page.html")
    assert (document.title, document.outlet, document.published) == (
        "The river talk",
        "River News",
        "2024-05-01",
    )
    assert turns == [("Q", "interviewer", "Why & how?"), ("Bo Chen", "interviewee", "Slowly.\n\nWith care.")]
    assert "Menu" not in document.text and "var x" not in document.text and "(c)" not in document.text


def test_unlabelled_text_is_indexed_as_paragraphs_by_the_named_interviewee(tmp_path):
    (tmp_path / "essay.txt").write_text("First thought.\n\nSecond thought.\n", encoding="utf-8")
    (tmp_path / "essay.json").write_text('{"interviewee": "Bo Chen"}')
    _, turns = turns_of(tmp_path / "essay.txt")
    assert turns == [
        ("Bo Chen", "interviewee", "First thought."),
        ("Bo Chen", "interviewee", "Second thought."),
    ]


def sparse_file(path, size):
    with path.open("wb") as out:
        out.truncate(size)


def word_file(path, document_xml: bytes) -> None:
    """A .docx whose main part is this XML: a zip bomb (80 MB of spaces packs into ~80 KB) or broken."""
    import zipfile

    types = (
        b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument'
        b'.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'officeDocument" Target="word/document.xml"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as packed:
        packed.writestr("[Content_Types].xml", types)
        packed.writestr("_rels/.rels", rels)
        packed.writestr("word/document.xml", document_xml)


@pytest.mark.parametrize(
    ("name", "make", "problem"),
    [
        ("empty.txt", lambda p: p.write_bytes(b""), "the file is empty"),
        ("blank.txt", lambda p: p.write_bytes(b" \n\n \t\n"), "the file is empty"),
        (
            "image.txt",
            lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 4),
            "looks like a binary file",
        ),
        (
            "huge.txt",
            lambda p: sparse_file(p, 50 * 2**20),
            "50 MB is too large for a transcript (limit 20 MB)",
        ),
        (
            "scan.pdf",
            lambda p: p.write_bytes(_blank_pdf()),
            "the PDF has no text layer (a scan?); run OCR on it first",
        ),
        ("broken.pdf", lambda p: p.write_bytes(b"%PDF-1.4\nnot really"), "not a readable PDF"),
        ("broken.docx", lambda p: p.write_bytes(b"PK\x03\x04 not a zip"), "not a readable Word document"),
        (
            "bad.srt",
            lambda p: p.write_text("1\n00:00:01,000 --> 00:00:0x,000\nHi.\n"),
            "caption 1's time line '00:00:01,000 --> 00:00:0x,000' is not two times like "
            "'00:00:01,000 --> 00:00:04,000'; correct that line (or export the captions anew) and add the "
            "file again",
        ),
        (  # a WebVTT file is shown WebVTT's own time line, not SRT's
            "bad.vtt",
            lambda p: p.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nHi.\n"),
            "is not two times like '00:00:01.000 --> 00:00:04.000'",
        ),
        (
            "backwards.srt",
            lambda p: p.write_text("1\n00:00:05,000 --> 00:00:01,000\nHi.\n"),
            "caption 1 ends (00:00:01.000) before it starts (00:00:05.000); correct that line",
        ),
        (
            "untimed.srt",
            lambda p: p.write_text("1\nHello there\n\n2\nAgain\n"),
            "no captions in it: each caption starts with a time line like '00:00:01,000 --> 00:00:04,000'; "
            "export the captions again, or save the words as a .txt transcript",
        ),
        (
            "noise.txt",
            lambda p: p.write_bytes(bytes(random.Random(1).randrange(128, 256) for _ in range(400))),
            "text in an unknown encoding; save it as UTF-8",
        ),
        (
            "front.md",
            lambda p: p.write_text("---\ntitle: [unclosed\n---\nQ: Hi?\n"),
            "the YAML front matter is not valid YAML",
        ),
        ("talk.rtf", lambda p: p.write_text("{\\rtf1 Q: Hi}"), "not a transcript format this reads"),
        (
            "impossible.srt",
            lambda p: p.write_text("1\n99:99:99,000 --> 99:99:99,500\nHi.\n"),
            "caption 1's time line '99:99:99,000 --> 99:99:99,500' has minutes or seconds past 59",
        ),
        ("bomb.docx", lambda p: word_file(p, b"<w:document>" + b" " * 80 * 2**20), "unpacks to 80 MB of XML"),
        (  # 370,000 paragraphs of one letter: 14 MB of XML in a file of a few dozen KB
            "paragraphs.docx",
            lambda p: word_file(p, b"<w:document><w:body>" + b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * 370_000),
            "its XML unpacks to",
        ),
        (  # 128,000 short paragraphs, each its own words, packed as text packs
            "lines.docx",
            lambda p: word_file(
                p,
                b"<w:document><w:body>"
                + b"".join(b"<w:p><w:r><w:t>Line %d of it.</w:t></w:r></w:p>" % i for i in range(128_000)),
            ),
            "128,000 paragraphs (limit 20,000); not read as a transcript",
        ),
        ("broken.docx", lambda p: word_file(p, b"<w:document><w:body>"), "not a readable Word document"),
    ],
)
def test_bad_files_get_one_line_naming_the_file_and_the_problem(tmp_path, name, make, problem):
    path = tmp_path / name
    make(path)
    with pytest.raises(QAError) as error:
        read_document(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message


def _blank_pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_broadcaster_s_word_file_reads_right_despite_its_template_and_page_furniture(tmp_path):
    """The failure a user met: a .docx with a template's properties, a heading, a byline, speaker
    names set alone in bold, an interviewer who asks in fragments, captions and a rights footer."""
    import datetime

    import docx

    from qa.ingest.chunking import passages_for

    word = docx.Document()
    word.core_properties.title = "Broadcast transcript template"
    word.core_properties.author = "Newsroom"
    word.core_properties.created = datetime.datetime(2013, 12, 23, 23, 15)
    word.add_heading("The president on history and the border", level=1)
    for line in ("By Tom Varga", "Watch: the full interview", "Subtitles unavailable"):
        word.add_paragraph(line)
    said = [
        ("TOM VARGA", "Mr President. History."),
        ("PRESIDENT KOVACS", "History is what we leave to our children, and we owe them the truth about it."),
        ("TOM VARGA", "And pe--"),
        ("PRESIDENT KOVACS", "Uh-huh."),
        ("TOM VARGA", "And peace with the north. The treaty."),
        ("PRESIDENT KOVACS", "The treaty stands. We signed it in 1995 and we keep it, whoever governs."),
    ]
    for name, words in said:
        word.add_paragraph().add_run(name).bold = True
        word.add_paragraph(words)
    word.add_paragraph("© 2016 Example Broadcasting. All rights reserved.")
    word.save(tmp_path / "president.docx")

    document, turns = turns_of(tmp_path / "president.docx")
    assert (document.title, document.interviewer) == ("The president on history and the border", "Tom Varga")
    assert (document.outlet, document.published) == ("Example Broadcasting", "")  # no created date
    assert turns == [
        ("Tom Varga", "interviewer", "Mr President. History."),
        ("PRESIDENT KOVACS", "interviewee", said[1][1]),
        ("Tom Varga", "interviewer", "And pe--"),
        ("Tom Varga", "interviewer", "And peace with the north. The treaty."),
        ("PRESIDENT KOVACS", "interviewee", said[5][1]),
    ]
    passages = passages_for(document, parse_turns(document))
    assert [(p.speaker, p.in_answer_to, p.text) for p in passages] == [
        ("PRESIDENT KOVACS", "Mr President. History.", said[1][1]),
        # the answer follows all the interviewer said since the last one, the cut-off start too
        ("PRESIDENT KOVACS", "And pe--\n\nAnd peace with the north. The treaty.", said[5][1]),
    ]


def test_a_teams_word_transcript_keeps_its_speakers_and_times(tmp_path):
    import docx

    word = docx.Document()
    word.add_paragraph("Ann Lee started transcription")
    for name, at, said in (
        ("Ann Lee", "0:03", "Why did you come back?"),
        ("Bo Chen", "0:06", "The river. It was always the river."),
        ("Ann Lee", "0:12", "And now?"),
        ("Bo Chen", "0:14", "Now it is home."),
    ):
        word.add_paragraph(f"{name}   {at}")
        word.add_paragraph(said)
    path = tmp_path / "meeting.docx"
    word.save(path)
    document, turns = turns_of(path)
    assert document.title == "meeting"  # not "Ann Lee started transcription"
    assert turns == [
        ("Ann Lee", "interviewer", "Why did you come back?"),
        ("Bo Chen", "interviewee", "The river. It was always the river."),
        ("Ann Lee", "interviewer", "And now?"),
        ("Bo Chen", "interviewee", "Now it is home."),
    ]
    # each sentence's time lies within its turn's: "The river." from 0:06, the turn ending at 0:12
    river = next(c for c in document.cues if document.text[c[0] : c[1]] == "The river.")
    assert river[2] == 6.0 and river[3] < 12.0


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (  # Descript and Rev's named style: the name, its time in parentheses, the words below
            "descript.txt",
            "Ann Lee (00:00:01):\nWhy did you come back?\n\nBo Chen (00:00:04):\nThe river. It was always "
            "the river.\n\nAnn Lee (00:00:12):\nAnd now?\n\nBo Chen (00:00:14):\nNow it is home, for good.\n",
        ),
        (  # Trint: the time in brackets after the name
            "trint.txt",
            "Ann Lee [00:00:01]\nWhy did you come back?\n\nBo Chen [00:00:04]\nThe river. It was always the "
            "river.\n\nAnn Lee [00:00:12]\nAnd now?\n\nBo Chen [00:00:14]\nNow it is home, for good.\n",
        ),
        (  # the time first, then "Name: words" on one line
            "stamped.txt",
            "[00:00:01] Ann Lee: Why did you come back?\n[00:00:04] Bo Chen: The river. It was always the "
            "river.\n[00:00:12] Ann Lee: And now?\n[00:00:14] Bo Chen: Now it is home, for good.\n",
        ),
        (  # WhisperX JSON: segments with start, end, text and a diarised speaker
            "whisperx.json",
            json.dumps(
                {
                    "segments": [
                        {"start": 1.0, "end": 3.0, "text": " Why did you come back?", "speaker": "Ann Lee"},
                        {"start": 4.0, "end": 6.0, "text": " The river.", "speaker": "Bo Chen"},
                        {"start": 6.0, "end": 9.0, "text": " It was always the river.", "speaker": "Bo Chen"},
                        {"start": 12.0, "end": 13.0, "text": " And now?", "speaker": "Ann Lee"},
                        {"start": 14, "end": 16, "text": " Now it is home, for good.", "speaker": "Bo Chen"},
                    ]
                }
            ),
        ),
    ],
)
def test_tool_exports_in_other_shapes_give_the_same_turns_and_times(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    document, turns = turns_of(path)
    assert turns == [
        ("Ann Lee", "interviewer", "Why did you come back?"),
        ("Bo Chen", "interviewee", "The river. It was always the river."),
        ("Ann Lee", "interviewer", "And now?"),
        ("Bo Chen", "interviewee", "Now it is home, for good."),
    ]
    said = [c[2] for c in document.cues if document.text[c[0] : c[1]] in ("The river.", "And now?")]
    assert said == [4.0, 12.0]


def test_a_json_file_that_holds_no_segments_is_one_line_naming_what_was_expected(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text('{"text": "not a list"}', encoding="utf-8")
    with pytest.raises(QAError) as error:
        read_document(path)
    assert str(error.value) == (
        f'{path}: not a JSON transcript: expected segments with "text" and a time ("start" or'
        ' "timestamp"), and a "speaker" where known'
    )
