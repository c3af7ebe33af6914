"""Property-based: the readers and the parser, fed arbitrary text and bytes, return speaker turns
whose spans lie inside the text, or raise the project's own QAError; nothing else."""

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.documents import Document, QAError
from qa.ingest.corpus import read_document
from qa.ingest.formats import SUFFIXES
from qa.ingest.parsing import parse_turns

# Text built from the pieces transcripts are made of, so labels, cues and markup actually occur.
PIECES = st.sampled_from(
    [
        "Question: ",
        "Q: ",
        "A: ",
        "Jo Doe: ",
        "**Ann:** ",
        "## Bo\n",
        "\n\n",
        "\n",
        " ",
        "?",
        ".",
        '"',
        "“",
        "Interviewed by X",
        "1\n",
        "00:00:01,000 --> 00:00:02,000\n",
        "WEBVTT\n\n",
        "<v Ann>",
        "<p>",
        "</p>",
        "<article>",
        "<script>",
        "---\n",
        "title: x\n",
        "\0",
        "\x1b",
        "Вопрос: ",
        "答：",
        "\u202e",
        "😀",
    ]
)
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=40).map("".join)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check_turns(document: Document) -> None:
    for turn in parse_turns(document):
        assert turn.speaker and turn.role in ("interviewer", "interviewee")
        for start, end in turn.spans:
            assert 0 <= start < end <= len(document.text)


@SETTINGS
@given(text=TEXT)
def test_the_parser_gives_turns_inside_the_text_or_a_clear_error(text):
    try:
        check_turns(Document(doc_id="t", path="t.txt", text=text))
    except QAError as error:
        assert str(error) and "\n" not in str(error)


@SETTINGS
@given(
    data=st.one_of(
        st.binary(max_size=300),
        TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
        TEXT.map(lambda t: t.encode("utf-16", "surrogatepass")),
        # the starts of real PDF and Word (zip) files, then anything
        st.tuples(
            st.sampled_from([b"%PDF-1.4\n", b"PK\x03\x04", b"\xef\xbb\xbf"]), st.binary(max_size=300)
        ).map(b"".join),
    ),
    suffix=st.sampled_from(SUFFIXES),
)
def test_every_reader_gives_a_document_or_a_clear_error(tmp_path, data, suffix):
    # a folder per example: an x.json left by one would be the next x.txt's metadata
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / f"x{suffix}"
    path.write_bytes(data)
    try:
        check_turns(read_document(path))
    except QAError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
