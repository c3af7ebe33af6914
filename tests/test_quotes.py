"""Choosing the words to quote: an answer's sentences, the quote window, the excerpt, and the cards
the engine resolves, with exact spans on a fake embedder and the real model's on the bundled interview."""

import json
import math

import numpy as np
import pytest

from qa.answer import quotes
from qa.answer.answers import answer_json
from qa.answer.engine import Engine
from qa.answer.question_types import (
    DURATION,
    NAME,
    NUMBER,
    PLACE,
    REASON,
    TIME,
    VERDICT,
    holds,
    question_type,
)
from qa.answer.quotes import Sentence, Span, answer_sentences, choose_quote, grow_excerpt, span_of, windows
from qa.documents import Passage
from qa.store import build, documents_of

SOURCE = "Q: x?\n\nA: One two three. Four five six seven.\n\nEight nine. Ten eleven twelve."


def passage(chunk: int, first: str, last: str) -> Passage:
    """The chunk from the sentence starting with `first` to the end of the one ending with `last`."""
    start, end = SOURCE.index(first), SOURCE.index(last) + len(last)
    return Passage(f"d:1:{chunk}", "d", 1, chunk, "A", "x?", SOURCE[start:end], start, end)


def sentence(words: int, paragraph: int = 0, stretch: int = 0) -> Sentence:
    text = " ".join(["word"] * words)
    return Sentence(0, len(text), text, stretch, paragraph, (), words)


def test_an_answer_s_sentences_come_once_each_in_order_with_their_paragraphs_and_vector_rows():
    # two chunks sharing "Eight nine.": rows 0 and 1 of the index, whose sentence vectors start at
    # 10 and 13 (chunk 0 has three sentences: 10, 11, 12; chunk 1 two: 13, 14)
    first, second = passage(0, "One", "nine."), passage(1, "Eight", "twelve.")
    assert first.text == "One two three. Four five six seven.\n\nEight nine."
    assert second.text == "Eight nine. Ten eleven twelve."
    starts = np.array([10, 13, 15])
    stretches, found = answer_sentences([(0, first), (1, second)], starts)
    whole = SOURCE.index("One")
    assert stretches == (Span(whole, len(SOURCE), SOURCE[whole:]),)  # overlapping chunks: one stretch
    assert [(s.text, s.paragraph, s.vector_rows) for s in found] == [
        ("One two three.", 0, (10,)),
        ("Four five six seven.", 0, (11,)),
        ("Eight nine.", 1, (12, 13)),  # in both chunks: both vectors
        ("Ten eleven twelve.", 1, (14,)),
    ]
    assert all(SOURCE[s.start : s.end] == s.text for s in found)


def test_quote_windows_are_one_to_three_sentences_of_one_paragraph_within_the_word_limit(monkeypatch):
    monkeypatch.setattr(quotes, "QUOTE_MAX_WORDS", 10)
    found = (sentence(4), sentence(5), sentence(12), sentence(2, 1), sentence(2, 1))
    # (0, 1) has 9 words; (0, 2) would have 21; a 12-word sentence alone is still a window; the last
    # two share paragraph 1, so (2, 3) crosses a paragraph and is no window
    assert windows(found) == [(0, 0), (0, 1), (1, 1), (2, 2), (3, 3), (3, 4), (4, 4)]


def test_the_quote_is_the_window_closest_to_the_question_with_its_terms_and_the_asked_for_kind():
    found = (sentence(5), sentence(5), sentence(5))
    question = np.array([1.0, 0.0])
    # sentence 0 lies along the question, 1 across it, 2 halfway
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [math.sqrt(0.5), math.sqrt(0.5)]])
    nothing, weights = np.zeros((3, 1)), np.array([1.0])
    untyped = np.zeros(3)
    # cosines: (0,0) 1; (0,1) 1/sqrt2; (1,2) (0.707)/|(0.707, 1.707)| = 0.383; sentence 0 alone wins
    assert choose_quote(windows(found), vectors, question, nothing, weights, untyped) == (
        0,
        0,
        pytest.approx(1.0),
    )
    # sentence 2 holds the question's one term: 0.707 + 0.4 x 1 = 1.107 beats sentence 0's 1.0; with
    # sentence 1 before it, (1, 2) scores 0.383 + 0.4 = 0.783
    holding = np.array([[0.0], [0.0], [1.0]])
    assert choose_quote(windows(found), vectors, question, holding, weights, untyped) == (
        2,
        2,
        pytest.approx(math.sqrt(0.5) + quotes.LEXICAL_WEIGHT),
    )
    # sentence 1 holds the kind of thing asked for (+0.1): (0, 1) = 0.707 + 0.1 still loses to 1.0
    typed = np.array([0.0, 1.0, 0.0])
    assert choose_quote(windows(found), vectors, question, nothing, weights, typed)[:2] == (0, 0)


def test_the_excerpt_grows_by_whole_sentences_to_fifty_words_and_some_context_never_past_120():
    found = tuple(sentence(20) for _ in range(5)) + (sentence(90),)
    scores = np.array([0.1, 0.5, 0.9, 0.2, 0.3, 0.0])
    # from the quote, sentence 2 (20 words): sentence 1 (0.5) scores above 3 (0.2): 40 words; then 3
    # (0.2) above 0 (0.1): 60 words, at least 50
    assert grow_excerpt(found, scores, 2, 2) == (1, 3)
    # a quote of sentence 4 can only grow by 3 (the 90-word one would pass 120): 40, then 2: 60
    assert grow_excerpt(found, scores, 4, 4) == (2, 4)
    # a quote of 90 words has more than 50, but shows 20 words of what leads to it: 110
    assert grow_excerpt(found, scores, 5, 5) == (4, 5)


def test_a_quote_or_excerpt_never_crosses_a_stretch():
    found = (sentence(20, 0, 0), sentence(20, 1, 1))
    assert grow_excerpt(found, np.array([1.0, 1.0]), 0, 0) == (0, 0)
    assert windows(found) == [(0, 0), (1, 1)]


def test_span_of_is_verbatim_from_the_first_sentence_s_start_to_the_last_one_s_end():
    stretches, found = answer_sentences([(0, passage(0, "One", "twelve."))], np.array([0, 4]))
    start = SOURCE.index("Four")
    assert span_of(found, stretches, 1, 2) == Span(start, start + 33, "Four five six seven.\n\nEight nine.")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When was the SCO founded?", TIME),
        ("How long did it take?", DURATION),
        ("How many years did it take?", DURATION),
        ("How many documents must a member accept?", NUMBER),
        ("What share of the world economy is theirs?", NUMBER),
        ("Where will the summit be held?", PLACE),
        ("Which pianists have performed?", NAME),
        ("Who decides?", NAME),
        ("Why did they join?", REASON),
        ("Are there fewer sceptics than before?", VERDICT),
        ("Will the organisation help settle the conflict?", VERDICT),
        ("What drew her to the sea?", None),
        ("Tell me about the summit.", None),
    ],
)
def test_a_question_s_opening_words_say_what_kind_of_answer_it_wants(question, kind):
    assert question_type(question) == kind


def test_a_sentence_holds_the_kind_asked_for():
    assert holds(DURATION, "It took almost ten years to elaborate.", "How long did it take?")
    assert holds(DURATION, "We have trained together since 2009.", "How long have you trained?")
    # a year named is a time, not a length of time: the sentence that restates the deal is not it
    assert not holds(DURATION, "The agreement came into force this year.", "How long did it take?")
    assert holds(TIME, "This project dates back to 2002.", "When did it start?")
    assert not holds(TIME, "It met the interests of all member states.", "When did it start?")
    assert holds(NUMBER, "The SCO covers 61 percent of Eurasia.", "How much of Eurasia?")
    assert holds(PLACE, "I will be in Kunming on 31 December.", "Where will you be?")
    assert not holds(PLACE, "In particular, we celebrate Nowruz.", "Where will you be?")  # opens it
    # a name the question does not already say
    assert holds(NAME, "It was launched by pianist Tian Jiaxin.", "Which pianists performed?")
    assert not holds(NAME, "Our pianists performed at the SCO.", "Which pianists performed at the SCO?")
    assert holds(REASON, "They joined because the market is large.", "Why did they join?")
    assert not holds(REASON, "They joined in 2017.", "Why did they join?")
    # a yes-or-no question is answered by a verdict
    assert holds(VERDICT, "I would say these approaches were incorrect.", "Were they right?")
    assert holds(VERDICT, 'The answer is a firm "yes".', "Does the SCO care?")
    assert holds(VERDICT, "It doesn't deal with disputes.", "Will it settle the dispute?")
    assert not holds(VERDICT, "The SCO pays attention to culture.", "Does the SCO care?")
    assert not holds(None, "Anything at all in 2002.", "Tell me.")


def test_the_question_s_content_words_are_found_in_sentences_weighted_by_idf(
    tiny_corpus, tmp_path, keyword_embedder
):
    index = build(tiny_corpus, tmp_path / "index", keyword_embedder)
    stems = index.lexical.content_stems(["A treaty, signed.", "Music."])
    assert stems == [frozenset({"treati", "sign"}), frozenset({"music"})]  # "a": a function word
    held, weights = index.lexical.held("Which treaty was signed at the summit?", stems)
    # "which", "was", "at" and "the" say nothing of a sentence's subject; the rest are stemmed as the
    # index stems them; "signed" is in one of the two passages: Lucene idf ln(1 + 1.5 / 1.5) = ln 2
    assert held.tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]  # columns: sign, summit, treati
    assert weights.tolist() == pytest.approx([math.log(2)] * 3)


def test_every_span_of_an_answer_is_verbatim_from_its_transcript(tiny_corpus, tmp_path, keyword_embedder):
    index = build(tiny_corpus, tmp_path / "index", keyword_embedder)
    engine = Engine(index, keyword_embedder)
    assert_verbatim(engine, ["border treaty", "summit music", "India"])


def assert_verbatim(engine: Engine, questions: list[str]) -> None:
    """`text == source[start:end]` for every hit, quote and excerpt, in the JSON that
    `qa ask --json` and /search give; and each card's quote lies inside its excerpt."""
    sources = {d.doc_id: d.text for d in documents_of(engine.index)}
    for question in questions:
        reply = json.loads(json.dumps(answer_json(engine.ask(question, 5))))
        assert reply["cards"], question
        for hit in reply["hits"]:
            assert sources[hit["doc_id"]][hit["start"] : hit["end"]] == hit["text"]
        for card in reply["cards"]:
            source = sources[card["doc_id"]]
            for span in [card["quote"], card["excerpt"]]:
                assert source[span["start"] : span["end"]] == span["text"]
            assert (
                card["excerpt"]["start"]
                <= card["quote"]["start"]
                < card["quote"]["end"]
                <= card["excerpt"]["end"]
            )
            assert card["citation"].startswith(f'"{" ".join(card["quote"]["text"].split())}" - ')


def test_the_answer_json_adds_cards_to_today_s_fields(tiny_corpus, tmp_path, keyword_embedder):
    engine = Engine(build(tiny_corpus, tmp_path / "index", keyword_embedder), keyword_embedder)
    reply = answer_json(engine.ask("border", 1, "dense"))
    assert list(reply) == ["question", "abstained", "hits", "cards"]
    (card,) = reply["cards"]
    assert card == {
        "rank": 1,
        "score": card["score"],  # checked below
        "label": "strong match",
        "speaker": "Guest Speaker",
        "in_answer_to": "What about the border?",
        "doc_id": "tiny",
        "passage_ids": ["tiny:1:0"],
        "quote": {"text": "The border treaty was signed.", "start": 75, "end": 104},
        "excerpt": {
            "text": "The border treaty was signed. India and Pakistan were not part of it.",
            "start": 75,
            "end": 144,
        },
        "source": {
            "title": "Tiny <b>talk</b>",
            "outlet": "Test Post",
            "published": "2020-01",
            "url": "https://example.org/tiny",
        },
        "citation": '"The border treaty was signed." - Guest Speaker, Test Post, 2020-01',
    }
    # the order: the only answer's retrieval share (1), plus 0.2 x its quote's score, "The border
    # treaty was signed." = (border + treaty)/sqrt2, cosine 1/sqrt2 with "border", holding the
    # question's one term (+0.4), plus 0.3 x the passage's dense score ((1/2 + 0.25) + 0.5/sqrt2) / 1.75
    dense = ((0.5 + 0.25) + 0.5 / math.sqrt(2)) / 1.75
    assert card["score"] == pytest.approx(1 + 0.2 * (1 / math.sqrt(2) + 0.4) + 0.3 * dense, abs=1e-6)


@pytest.mark.model
def test_real_answers_about_the_bundled_interview_are_verbatim_short_and_marked(engine):
    from qa.evaluate.evaluation import DEFAULT_EVAL_SET, load_eval_set

    questions = [q.question for q in load_eval_set(DEFAULT_EVAL_SET)]
    assert_verbatim(engine, questions[:20])
    card = engine.ask("How long did it take to prepare the road transport deal?").cards[0]
    assert card.passage_ids[0].startswith("sco-alimov-tass-2017:7:")
    assert len(card.excerpt.text.split()) <= quotes.EXCERPT_MAX_WORDS
