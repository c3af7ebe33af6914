import math

import pytest

from qa.answers import MAX_QUESTION_CHARS, answer_json, ask, clean_question
from qa.documents import QAError
from qa.retrievers import DenseRetriever
from qa.store import build


@pytest.fixture
def retriever(tiny_corpus, tmp_path, keyword_embedder):
    return DenseRetriever(build(tiny_corpus, tmp_path / "index", keyword_embedder), keyword_embedder)


def test_scores_are_the_weighted_mean_of_passage_question_and_best_sentence(retriever):
    first, second = retriever.search("border treaty", 2)
    assert first.passage.passage_id == "tiny:1:0" and first.rank == 1
    # q = (border + treaty)/sqrt2. Passage "border treaty india pakistan" = each 1/2; its question
    # "border" adds 0.25 to the border dimension, so FAISS scores (0.75 + 0.5)/sqrt2; the sentence
    # "The border treaty was signed." matches exactly (1.0) with weight 0.5; all over 1.75.
    assert math.isclose(first.score, (1.25 / math.sqrt(2) + 0.5) / 1.75, rel_tol=1e-6)
    assert second.passage.passage_id == "tiny:3:0" and second.score == 0.0


def test_the_summit_answer_wins_for_a_summit_question(retriever):
    (hit,) = retriever.search("summit music", 1)
    # passage "summit summit music" = (2, 1)/sqrt5 plus 0.25 summit from its question; the
    # sentence "The summit had music." matches exactly.
    assert hit.passage.passage_id == "tiny:3:0"
    assert math.isclose(hit.score, ((3 / math.sqrt(5) + 0.25) / math.sqrt(2) + 0.5) / 1.75, rel_tol=1e-6)


def test_k_larger_than_the_index_returns_every_passage_once(retriever):
    assert [h.rank for h in retriever.search("border", 10)] == [1, 2]


def test_an_off_topic_question_abstains_with_no_hits(retriever):
    answer = ask(retriever, "bread", 5, abstain_below=0.2)
    assert answer.abstained and answer.hits == ()
    assert answer_json(answer) == {"question": "bread", "abstained": True, "hits": []}


def test_answer_json_has_the_documented_fields(retriever):
    answer = ask(retriever, "  border\ttreaty ", 1, abstain_below=0.2)
    (hit,) = answer_json(answer)["hits"]
    assert answer.question == "border treaty"
    assert list(hit) == [
        "rank",
        "score",
        "passage_id",
        "doc_id",
        "speaker",
        "in_answer_to",
        "text",
        "start",
        "end",
    ]
    assert hit["speaker"] == "Guest Speaker"
    assert hit["in_answer_to"] == "What about the border?"
    assert hit["text"] == "The border treaty was signed. India and Pakistan were not part of it."


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "the question is empty"),
        (" \n\t\x00 ", "the question is empty"),
        ("x" * (MAX_QUESTION_CHARS + 1), "characters long"),
    ],
)
def test_unusable_questions_get_one_clear_line(question, message):
    with pytest.raises(QAError, match=message):
        clean_question(question)


def test_control_characters_are_dropped_from_a_question():
    assert clean_question("what\x07 about\x1b the border?") == "what about the border?"
