"""Speaker labels learned from the document's shape (qa/ingest/labels.py): house styles no list names."""

from __future__ import annotations

import pytest

from qa.documents import INTERVIEWEE, INTERVIEWER
from qa.ingest.corpus import read_document
from qa.ingest.parsing import is_unlabelled, parse_turns, turn_text

HERALD = """\
Jane Roe: the Herald interview

By Tom Ash

12 March 2024

Herald reporter: You closed the mine last year. Why?

Jane Roe: The seam was exhausted. We had said so for a decade.

Herald reporter: And the miners?

Jane Roe: Every one was offered work on the new line, and most took it.

Herald reporter: Will you run again?

Jane Roe: No. Two terms are enough for anyone.
"""


def turns_of(tmp_path, text: str, name: str = "talk.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    document = read_document(path)
    return document, [(t.speaker, t.role, turn_text(document, t)) for t in parse_turns(document)]


def test_an_outlet_s_reporter_label_asks_and_the_headline_is_the_title_not_an_answer(tmp_path):
    document, turns = turns_of(tmp_path, HERALD)
    assert (document.title, document.interviewee, document.interviewer, document.published) == (
        "Jane Roe: the Herald interview",
        "Jane Roe",
        "Tom Ash",
        "2024-03-12",
    )
    assert turns == [
        ("Tom Ash", INTERVIEWER, "You closed the mine last year. Why?"),
        ("Jane Roe", INTERVIEWEE, "The seam was exhausted. We had said so for a decade."),
        ("Tom Ash", INTERVIEWER, "And the miners?"),
        ("Jane Roe", INTERVIEWEE, "Every one was offered work on the new line, and most took it."),
        ("Tom Ash", INTERVIEWER, "Will you run again?"),
        ("Jane Roe", INTERVIEWEE, "No. Two terms are enough for anyone."),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # names in capitals with a title's stop, then a full stop
            "MR. SMITH. Why did you leave?\n\nMS. JONES. I was tired.\n\nMR. SMITH. Of what?\n\n"
            "MS. JONES. Of the noise.\n",
            [("MR. SMITH", INTERVIEWER), ("MS. JONES", INTERVIEWEE)] * 2,
        ),
        (  # a role in capitals on a line of its own, the name too
            "INTERVIEWER\nWhy did you leave?\n\nJANE ROE\nI was tired.\n\nINTERVIEWER\nOf what?\n\n"
            "JANE ROE\nOf the noise, all day.\n",
            [("INTERVIEWER", INTERVIEWER), ("JANE ROE", INTERVIEWEE)] * 2,
        ),
        (  # diarisation ids in brackets
            "[SPEAKER_00]: Why did you leave?\n\n[SPEAKER_01]: I was tired of it all.\n\n"
            "[SPEAKER_00]: Of what?\n\n[SPEAKER_01]: Of the noise, all day and all night.\n",
            [("SPEAKER_00", INTERVIEWER), ("SPEAKER_01", INTERVIEWEE)] * 2,
        ),
        (  # a bold run with no colon
            "**Ann** Why did you leave?\n\n**Bo** I was tired of it all, really.\n\n**Ann** Of what?\n\n"
            "**Bo** Of the noise, all day and all night.\n",
            [("Ann", INTERVIEWER), ("Bo", INTERVIEWEE)] * 2,
        ),
    ],
)
def test_label_styles_no_list_names_are_learned_from_their_repetition(tmp_path, text, expected):
    _, turns = turns_of(tmp_path, text)
    assert [(speaker, role) for speaker, role, _ in turns] == expected
    assert turns[1][2].startswith("I was tired")


def test_a_known_label_inside_a_paragraph_starts_a_turn(tmp_path):
    text = (
        "Anna Berg: How do you get to work?\n\n"
        "Barack Obama: By car, a short commute. Anna Berg: Really? Barack Obama: [laughs] I am told so.\n"
    )
    _, turns = turns_of(tmp_path, text)
    assert turns == [
        ("Anna Berg", INTERVIEWER, "How do you get to work?"),
        ("Barack Obama", INTERVIEWEE, "By car, a short commute."),
        ("Anna Berg", INTERVIEWER, "Really?"),
        ("Barack Obama", INTERVIEWEE, "[laughs] I am told so."),
    ]


def test_a_shape_seen_once_is_prose(tmp_path):
    text = "The reason is simple: we ran out of money.\n\nThen we started again, slowly.\n"
    document, turns = turns_of(tmp_path, text)
    assert is_unlabelled(document)
    assert [t[2] for t in turns] == [
        "The reason is simple: we ran out of money.",
        "Then we started again, slowly.",
    ]


def test_generic_labels_take_the_names_the_document_gives(tmp_path):
    text = (
        "An interview with Jane Roe\n\nSpeaker 1: Why did you leave the mine?\n\n"
        "Speaker 2: The seam was exhausted, and we had said so for a decade.\n\n"
        "Speaker 1: What next?\n\nSpeaker 2: A new line, and work on it for everyone who wants it.\n"
    )
    document, turns = turns_of(tmp_path, text)
    assert document.interviewee == "Jane Roe"
    assert [(speaker, role) for speaker, role, _ in turns] == [
        ("Speaker 1", INTERVIEWER),
        ("Jane Roe", INTERVIEWEE),
    ] * 2


def test_an_a_label_is_the_interviewee_the_headline_names(tmp_path):
    text = "An interview with Jane Roe\n\nQ: Why did you leave the mine?\n\nA: The seam was exhausted.\n"
    document, turns = turns_of(tmp_path, text)
    assert (document.title, document.interviewee) == ("An interview with Jane Roe", "Jane Roe")
    assert [(speaker, role) for speaker, role, _ in turns] == [("Q", INTERVIEWER), ("Jane Roe", INTERVIEWEE)]
