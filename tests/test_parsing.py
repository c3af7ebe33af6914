import pytest

from qa.corpus import BUNDLED_CORPUS, load_corpus, read_document
from qa.documents import INTERVIEWEE, INTERVIEWER, Document, QAError
from qa.parsing import is_pull_quote, parse_turns, turn_text


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


def test_text_without_speaker_labels_is_a_clear_error():
    with pytest.raises(QAError, match=r"^t\.txt: no speaker labels"):
        parse_turns(make("Just some prose.\n\nMore prose."))


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"", "transcript is empty"), (b"\xff\xfe\xfa caf\xe9", "not UTF-8 text"), (b"Q: a\0b", "binary file")],
)
def test_unreadable_transcripts_name_the_file_and_the_problem(tmp_path, content, problem):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(QAError, match=problem) as error:
        read_document(path)
    assert str(error.value).startswith(str(path))
    assert "\n" not in str(error.value)


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
