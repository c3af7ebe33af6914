import pytest

from qa.documents import INTERVIEWEE, INTERVIEWER, Document
from qa.ingest.corpus import BUNDLED_CORPUS, load_corpus, read_document
from qa.ingest.parsing import is_pull_quote, is_unlabelled, parse_turns, turn_text


@pytest.fixture(scope="module")
def interview():
    (document,) = load_corpus(BUNDLED_CORPUS)
    return document, parse_turns(document)


def test_bundled_interview_alternates_twelve_questions_and_answers(interview):
    document, turns = interview
    assert len(turns) == 24
    assert [t.role for t in turns] == [INTERVIEWER, INTERVIEWEE] * 12
    assert {t.speaker for t in turns if t.role == INTERVIEWER} == {"Andrei Kirillov"}
    assert {t.speaker for t in turns if t.role == INTERVIEWEE} == {"Rashid Alimov"}
    assert [t.asked_by for t in turns if t.role == INTERVIEWEE] == list(range(0, 24, 2))


def test_headline_standfirst_and_byline_are_not_turns(interview):
    document, turns = interview
    first = turn_text(document, turns[0])
    assert first.startswith("The SCO, which many initially viewed as")
    last = turn_text(document, turns[-1])
    assert last.endswith(
        "I invite you to\xa0attend this large-scale SCO sports, cultural and entertainment event."
    )
    everything = "\n".join(turn_text(document, t) for t in turns)
    assert "Interviewed by" not in everything and "For more detail" not in everything
    assert "agenda is an agenda for region-wide development\n" not in everything
    assert "discusses the secrets of the SCO's success" not in everything


def test_pull_quotes_are_left_out_but_the_sentence_they_repeat_stays(interview):
    document, turns = interview
    pull_quotes = [line for line in document.text.splitlines() if line.startswith('"')]
    assert len(pull_quotes) == 6
    spans = [span for turn in turns for span in turn.spans]
    for quote in pull_quotes:
        start = document.text.index(quote)
        assert all(not (s <= start < e) for s, e in spans), quote
    answer = turn_text(document, turns[3])
    assert "The SCO's agenda today is essentially an agenda of\xa0region-wide development" in answer


def test_a_paragraph_without_a_blank_line_before_it_stays_in_its_answer(interview):
    document, turns = interview
    answer = turn_text(document, turns[11])
    assert "In addition to\xa0this, business circles and financial institutes" in answer


def test_offsets_point_at_the_words_in_the_source(interview):
    document, turns = interview
    turn = turns[1]
    start, end = turn.spans[0]
    assert document.text[start:end].startswith("I would say these approaches were incorrect")
    assert document.text[start - len("Rashid Alimov: ") : start] == "Rashid Alimov: "


def make(text: str, **metadata) -> Document:
    return Document(doc_id="t", path="t.txt", text=text, **metadata)


def test_generic_labels_take_names_from_metadata():
    document = make(
        "Q: Why?\n\nA: Because.\n\nQ: When?\n\nA: Now.", interviewer="Ann Asker", interviewee="Bo Answer"
    )
    turns = parse_turns(document)
    assert [(t.speaker, t.role) for t in turns] == [
        ("Ann Asker", INTERVIEWER),
        ("Bo Answer", INTERVIEWEE),
        ("Ann Asker", INTERVIEWER),
        ("Bo Answer", INTERVIEWEE),
    ]
    assert [turn_text(document, t) for t in turns] == ["Why?", "Because.", "When?", "Now."]


def test_a_label_seen_once_is_prose_not_a_speaker():
    document = make(
        "Question: Why?\n\nJo Smith: Because.\nNote: this stays in the answer.\n\n"
        "Question: More?\n\nJo Smith: No."
    )
    turns = parse_turns(document)
    assert turn_text(document, turns[1]) == "Because.\n\nNote: this stays in the answer."


def test_a_quoted_line_that_repeats_nothing_is_kept():
    document = make(
        'Question: Why?\n\nJo Smith: Because.\n\n"Entirely new words here."\n\n'
        "Question: More?\n\nJo Smith: No."
    )
    assert turn_text(document, parse_turns(document)[1]) == 'Because.\n\n"Entirely new words here."'


def test_pull_quote_detection_tolerates_reordered_words():
    said = "the vast region is poised to become, in the near future, the main driving force of growth"
    assert is_pull_quote(
        '"The vast region is poised to become the main driving force of growth in the near future"', said
    )
    assert not is_pull_quote("The vast region is poised to become the main driving force", said)


def test_text_without_speaker_labels_becomes_one_turn_per_paragraph_and_says_so():
    document = make("Just some prose.\n\nMore prose.")
    assert is_unlabelled(document)
    assert [(t.speaker, t.role, turn_text(document, t)) for t in parse_turns(document)] == [
        ("Unknown speaker", "interviewee", "Just some prose."),
        ("Unknown speaker", "interviewee", "More prose."),
    ]
    assert not is_unlabelled(make("Question: Why?\n\nJo: Because."))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**Q:** Why now?\n\n**Jo Ann:** Because.\n", [("Q", "interviewer"), ("Jo Ann", "interviewee")]),
        ("**Q**: Why now?\n\n**Jo**: Because.\n", [("Q", "interviewer"), ("Jo", "interviewee")]),
        ("__Q:__ Why?\n\n__A:__ So.\n", [("Q", "interviewer"), ("A", "interviewee")]),
        (
            "## Q\n\nWhy now?\n\n## Jo\n\nBecause.\n\nAnd more.\n",
            [("Q", "interviewer"), ("Jo", "interviewee")],
        ),
        ("QUESTION: Why?\n\nJO DOE: So.\n", [("QUESTION", "interviewer"), ("JO DOE", "interviewee")]),
        ("Question: Why?\n\nAnswer: So.\n", [("Question", "interviewer"), ("Answer", "interviewee")]),
    ],
)
def test_bold_heading_and_generic_labels_give_speaker_turns(text, expected):
    turns = parse_turns(make(text))
    assert [(t.speaker, t.role) for t in turns] == expected
    assert turns[1].asked_by == 0


def test_who_asks_is_inferred_from_question_marks_when_no_label_or_metadata_says():
    document = make(
        "Ann Lee: Welcome. What brought you here?\n\nBo Chen: The river, mostly.\n\n"
        "Ann Lee: And why stay?\n\nBo Chen: Work. Friends, too.\n"
    )
    turns = parse_turns(document)
    assert [(t.speaker, t.role, t.asked_by) for t in turns] == [
        ("Ann Lee", "interviewer", None),
        ("Bo Chen", "interviewee", 0),
        ("Ann Lee", "interviewer", None),
        ("Bo Chen", "interviewee", 2),
    ]
    overridden = make(document.text, interviewer="Bo Chen")
    # the metadata wins; Ann's opening, before the first question, is then taken as intro
    assert [(t.speaker, t.role) for t in parse_turns(overridden)][:2] == [
        ("Bo Chen", "interviewer"),
        ("Ann Lee", "interviewee"),
    ]


def test_headline_and_byline_stand_in_for_missing_metadata(tmp_path):
    path = tmp_path / "talk.txt"
    path.write_text(
        "Big talk: a headline\n\nQuestion: Why?\n\nJo Smith: Because.\n\nInterviewed by Ann Asker\n"
    )
    document = read_document(path)
    assert (document.title, document.interviewer) == ("Big talk: a headline", "Ann Asker")
    turns = parse_turns(document)
    assert [(t.speaker, t.role) for t in turns] == [("Ann Asker", INTERVIEWER), ("Jo Smith", INTERVIEWEE)]
    assert turn_text(document, turns[-1]) == "Because."


NEWS_PAGE = """\
Minister says the harbour will reopen in spring

By Jane Holm

Watch: the minister on the harbour closure

Holm: When will the harbour reopen?

Petersen: In April, if the ice allows it. The dredging starts in March.

Holm: And the ferries.

Petersen: Uh-huh.

Holm: The ferries stop until then.

Petersen: Right.

Petersen: They stop, yes. We will run buses along the coast instead.

Subtitles unavailable

Holm: Will the port fees rise?

Petersen: No.

Holm: Thank you.

© 2024 Example Herald. All rights reserved.
"""


def test_page_furniture_and_back_channel_are_left_out_of_the_turns_with_offsets_kept():
    document = Document("news", "news.txt", NEWS_PAGE)
    turns = parse_turns(document)
    said = [(t.speaker, t.role, turn_text(document, t)) for t in turns]
    # the byline, the player line, the caption notice and the rights line are nobody's words; the
    # interviewer's "Thank you." and the minister's "Uh-huh." and "Right." acknowledge, nothing more;
    # "No." answers a question and stays
    assert said == [
        ("Holm", INTERVIEWER, "When will the harbour reopen?"),
        ("Petersen", INTERVIEWEE, "In April, if the ice allows it. The dredging starts in March."),
        ("Holm", INTERVIEWER, "And the ferries."),
        ("Holm", INTERVIEWER, "The ferries stop until then."),
        ("Petersen", INTERVIEWEE, "They stop, yes. We will run buses along the coast instead."),
        ("Holm", INTERVIEWER, "Will the port fees rise?"),
        ("Petersen", INTERVIEWEE, "No."),
    ]
    assert turns[4].asked_by == 3  # the answer knows the statement before it, not an "Uh-huh."
    for turn in turns:  # still offsets into the unchanged text
        for start, end in turn.spans:
            assert NEWS_PAGE[start:end] in turn_text(document, turn)


@pytest.mark.parametrize(
    ("line", "furniture"),
    [
        ("© 2019 The Example Times. All rights reserved.", True),
        ("Copyright 2019 Example Media", True),
        ("Subtitles unavailable", True),
        ("Watch: Putin on sanctions", True),
        ("Read more: the full text", True),
        ("By Jane Doe, Moscow", True),
        ("Sign up for our newsletter", True),
        ("Photo: Reuters", True),
        ("By and large, the economy grew.", False),
        ("Copyright is a big issue for us, and we have spent years fighting piracy.", False),
        ("Related to that, I think we can.", False),
        ("Listen, I told them no.", False),
    ],
)
def test_page_furniture_is_told_from_speech(line, furniture):
    from qa.ingest.boilerplate import is_boilerplate

    assert is_boilerplate(line) is furniture


STATEMENTS = """\
The president on history

By Tom Varga

VARGA: Mr President. History.

KOVACS: History is what we leave to our children, and we owe them the truth about it.

VARGA: And the border.

KOVACS: The border was drawn in 1920 and it will not be redrawn by us.

VARGA: The treaty, then.

KOVACS: The treaty stands. We signed it and we keep it.
"""


def test_a_byline_names_the_interviewer_who_asks_without_question_marks(tmp_path):
    from qa.ingest.corpus import read_document

    (tmp_path / "president.txt").write_text(STATEMENTS, encoding="utf-8")
    document = read_document(tmp_path / "president.txt")
    assert document.interviewer == "Tom Varga"  # from "By Tom Varga"
    turns = parse_turns(document)
    # no turn ends in "?", so only the byline says who asks: "VARGA" is his surname, in capitals
    assert [(t.speaker, t.role) for t in turns] == [("Tom Varga", INTERVIEWER), ("KOVACS", INTERVIEWEE)] * 3
    assert [t.asked_by for t in turns if t.role == INTERVIEWEE] == [0, 2, 4]
    # without the byline, VARGA still asks: he speaks first, and briefly beside KOVACS
    bare = Document("x", "x.txt", STATEMENTS.replace("By Tom Varga\n\n", ""))
    assert [(t.speaker, t.role) for t in parse_turns(bare)] == [
        ("VARGA", INTERVIEWER),
        ("KOVACS", INTERVIEWEE),
    ] * 3


@pytest.mark.parametrize(
    ("head", "published"),
    [
        ("June 12, 2024", "2024-06-12"),
        ("Published 12 June 2024, 10:40", "2024-06-12"),
        ("Oslo | 2024-06-12", "2024-06-12"),
        ("Updated yesterday", ""),  # no year, no date
    ],
)
def test_a_news_page_s_dateline_and_rights_line_give_its_date_and_outlet(tmp_path, head, published):
    from qa.ingest.corpus import read_document

    (tmp_path / "news.txt").write_text(NEWS_PAGE.replace("By Jane Holm\n", f"By Jane Holm\n{head}\n"))
    document = read_document(tmp_path / "news.txt")
    assert (document.interviewer, document.outlet, document.published) == (
        "Jane Holm",
        "Example Herald",
        published,
    )
    # a date said in an answer is not the page's date
    (tmp_path / "news.txt").write_text(NEWS_PAGE.replace("In April", "On April 2, 2024"))
    assert read_document(tmp_path / "news.txt").published == ""


def test_the_press_office_style_gives_turns_and_its_title_label_takes_the_interviewee_s_name():
    text = (
        "The President's News Conference\n\nQ. Mr. President, why now?\n\n"
        "THE PRESIDENT. Because the bill is ready. Congress has it.\n\n"
        "Q. And the budget?\n\nTHE PRESIDENT. It balances.\n"
    )
    said = [(t.speaker, t.role) for t in parse_turns(make(text, interviewee="Joseph R. Biden"))]
    assert said == [("Q", INTERVIEWER), ("Joseph R. Biden", INTERVIEWEE)] * 2
    document = make(text)  # no interviewee named: the label stands
    assert [turn_text(document, t) for t in parse_turns(document)][:2] == [
        "Mr. President, why now?",
        "Because the bill is ready. Congress has it.",
    ]
    assert parse_turns(document)[1].speaker == "THE PRESIDENT"
