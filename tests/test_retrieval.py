import math

import numpy as np
import pytest

from qa.answer.answers import MAX_QUESTION_CHARS, answer_json, clean_question
from qa.answer.engine import Engine
from qa.documents import Filter, QAError
from qa.store import build


@pytest.fixture
def engine(tiny_corpus, tmp_path, keyword_embedder):
    return Engine(build(tiny_corpus, tmp_path / "index", keyword_embedder), keyword_embedder)


def ids(hits):
    return [h.passage.passage_id for h in hits]


def test_dense_scores_are_the_weighted_mean_of_passage_question_and_best_sentence(engine):
    first, second = engine.retriever("dense").search("border treaty", 2)
    assert first.passage.passage_id == "tiny:1:0" and first.rank == 1
    # q = (border + treaty)/sqrt2. Passage "border treaty india pakistan" = each 1/2; its question
    # "border" adds 0.25 to the border dimension, so FAISS scores (0.75 + 0.5)/sqrt2; the sentence
    # "The border treaty was signed." matches exactly (1.0) with weight 0.5; all over 1.75.
    assert math.isclose(first.score, (1.25 / math.sqrt(2) + 0.5) / 1.75, rel_tol=1e-6)
    assert second.passage.passage_id == "tiny:3:0" and second.score == 0.0


def test_the_summit_answer_wins_for_a_summit_question(engine):
    (hit,) = engine.retriever("dense").search("summit music", 1)
    # passage "summit summit music" = (2, 1)/sqrt5 plus 0.25 summit from its question; the
    # sentence "The summit had music." matches exactly.
    assert hit.passage.passage_id == "tiny:3:0"
    assert math.isclose(hit.score, ((3 / math.sqrt(5) + 0.25) / math.sqrt(2) + 0.5) / 1.75, rel_tol=1e-6)


def test_bm25_scores_by_hand(engine):
    (hit,) = engine.retriever("bm25").search("summit music", 5)
    # Only "The summit had music. The summit ended late." shares a word. After stopwords and
    # stemming it is [summit, had, music, summit, end, late]: 6 terms; the other passage has 7
    # ([border, treati, sign, india, pakistan, were, part]), so the average is 6.5.
    # Lucene BM25 (k1 1.2, b 0.75): idf = ln(1 + (2 - 1 + 0.5) / (1 + 0.5)) = ln 2 for each term;
    # tf part = tf / (tf + 1.2 * (0.25 + 0.75 * 6 / 6.5)).
    norm = 1.2 * (0.25 + 0.75 * 6 / 6.5)
    assert hit.passage.passage_id == "tiny:3:0"
    assert math.isclose(hit.score, math.log(2) * (2 / (2 + norm) + 1 / (1 + norm)), rel_tol=1e-5)


def test_hybrid_fuses_min_max_normalised_scores(engine):
    hits = engine.retriever("hybrid").search("summit music", 5)
    # dense ranks the summit answer first (normalised 1) and the border one last (0); BM25 finds
    # only the summit answer (a one-item list normalises to 1). 0.6 * 1 + 0.4 * 1 = 1; 0.6 * 0 = 0.
    assert [(h.passage.passage_id, h.score) for h in hits] == [("tiny:3:0", 1.0), ("tiny:1:0", 0.0)]
    rrf = engine.retriever("hybrid-rrf").search("summit music", 5)
    # reciprocal rank fusion, half weight each: 0.5/61 + 0.5/61 for the summit, 0.5/62 for the border
    assert ids(rrf) == ["tiny:3:0", "tiny:1:0"]
    assert math.isclose(rrf[0].score, 1 / 61) and math.isclose(rrf[1].score, 0.5 / 62)


def test_a_search_can_be_scoped_to_some_documents(engine):
    assert ids(engine.retriever("hybrid").search("summit", 5, Filter.of({"tiny"}))) == [
        "tiny:3:0",
        "tiny:1:0",
    ]
    for mode in ("dense", "bm25", "hybrid", "hybrid-rrf"):
        assert engine.retriever(mode).search("summit", 5, Filter.of({"other"})) == []


@pytest.fixture
def archive(tiny_corpus, tmp_path, keyword_embedder):
    """The tiny interview and a second one with two interviewees, to filter by interview and speaker."""
    (tiny_corpus / "panel.txt").write_text(
        "Question: And the summit?\n\nAnna Berg: The summit was about bread.\n\n"
        "Question: The border?\n\nOla Lind: The border summit failed.\n",
        encoding="utf-8",
    )
    return Engine(build(tiny_corpus, tmp_path / "archive", keyword_embedder), keyword_embedder)


def test_filters_by_interview_and_speaker_combine_and_an_empty_match_gives_nothing(archive):
    def asked(**filters):
        return ids(archive.ask("summit", 10, "hybrid", **filters).hits)

    assert sorted(asked()) == ["panel:1:0", "panel:3:0", "tiny:1:0", "tiny:3:0"]
    assert asked(doc_ids={"panel"}) == ["panel:1:0", "panel:3:0"]
    assert asked(speakers={"Ola Lind"}) == ["panel:3:0"]
    assert sorted(asked(speakers={"Ola Lind", "Guest Speaker"})) == ["panel:3:0", "tiny:1:0", "tiny:3:0"]
    assert asked(doc_ids={"tiny"}, speakers={"Anna Berg"}) == []  # she is not in that interview
    nothing = archive.ask("summit", 10, "hybrid", doc_ids={"tiny"}, speakers={"Anna Berg"})
    assert nothing.abstained and nothing.hits == ()
    assert asked(doc_ids=set()) == [] and asked(speakers={"Nobody"}) == []


def test_k_larger_than_the_index_returns_every_passage_once(engine):
    assert [h.rank for h in engine.retriever("dense").search("border", 10)] == [1, 2]


def test_an_off_topic_question_abstains_with_no_hits(engine):
    answer = engine.ask("bread", 5)
    assert answer.abstained and answer.hits == ()
    assert answer_json(answer) == {"question": "bread", "abstained": True, "hits": [], "cards": []}


def test_words_the_model_cannot_place_still_count_when_a_passage_holds_most_of_them(engine):
    # The keyword model sees nothing in "signed part" (dense score 0 < 0.2), but one passage
    # contains both terms (share 1.0 >= 0.6), so the question is covered.
    answer = engine.ask("signed part", 1)
    assert not answer.abstained and ids(answer.hits) == ["tiny:1:0"]


def test_answer_json_has_the_documented_fields(engine):
    answer = engine.ask("  border\ttreaty ", 1)
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


def test_an_unknown_mode_is_a_clear_error(engine):
    with pytest.raises(QAError, match="unknown mode 'fuzzy'; choose one of dense, bm25, hybrid, hybrid-rrf"):
        engine.ask("border", 1, mode="fuzzy")


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


@pytest.mark.parametrize(
    ("text", "foreign"),
    [
        ("Where is the summit?", False),
        ("Где пройдёт саммит ШОС?", True),
        ("2018年上合组织峰会在哪里举行？", True),
        ("Что такое SCO?", True),  # Cyrillic letters outnumber the Latin ones
        ("What did Путин say?", False),
        ("2018?", False),
    ],
)
def test_questions_written_mostly_in_another_script_go_to_the_multilingual_model(text, foreign):
    from qa.embed.multilingual import is_foreign

    assert is_foreign(text) is foreign


def test_hits_from_one_answer_are_grouped_and_its_passages_merged_into_stretches():
    from qa.answer.answers import by_answer_turn
    from qa.answer.quotes import Span, merged
    from qa.documents import Hit, Passage

    def hit(pid, start, text, rank):
        doc, turn, chunk = pid.split(":")
        return Hit(
            Passage(pid, doc, int(turn), int(chunk), "S", "Q?", text, start, start + len(text)),
            1.0 / rank,
            rank,
        )

    # source: "One two. Three four. Five six." at 100; chunk 0 = first two sentences, chunk 1 = last
    # two (sharing "Three four."), and a chunk of another answer in between in rank.
    a = hit("d:1:1", 109, "Three four. Five six.", 1)
    other = hit("d:3:0", 500, "Elsewhere.", 2)
    b = hit("d:1:0", 100, "One two. Three four.", 3)
    first, second = by_answer_turn([a, other, b])
    assert [h.passage.passage_id for h in first] == ["d:1:1", "d:1:0"]  # best first
    assert merged(h.passage for h in first) == (Span(100, 130, "One two. Three four. Five six."),)
    assert merged(h.passage for h in second) == (Span(500, 510, "Elsewhere."),)
    apart = merged([hit("d:1:0", 100, "One.", 1).passage, hit("d:1:2", 200, "Two.", 2).passage])
    assert [s.text for s in apart] == ["One.", "Two."]  # not touching: two stretches


@pytest.mark.parametrize(
    ("message", "searched"),
    [
        ("And what about Pakistan?", "What does India's accession mean? And what about Pakistan?"),
        ("What about Iran?", "What does India's accession mean? What about Iran?"),
        ("Why did they join?", "What does India's accession mean? Why did they join?"),
        ("Where is the 2018 summit?", "Where is the 2018 summit?"),
    ],
)
def test_a_follow_up_is_searched_with_the_question_before_it(message, searched):
    from qa.answer.answers import contextual_question

    assert contextual_question(message, "What does India's accession mean?") == searched
    assert contextual_question(message, None) == message


def test_relevance_labels_come_from_each_card_s_own_dense_score(engine):
    hits = engine.retriever("hybrid").search("music summit", 2)
    dense = {h.passage.passage_id: h.score for h in engine.retriever("dense").search("music", 2)}
    assert engine.dense.scores_of("music", [h.passage for h in hits]).tolist() == pytest.approx(
        [dense[p] for p in ids(hits)]
    )
    # the music answer: (cos 0.447 passage + 0 question + 0.5 x 0.707 sentence) / 1.75 = 0.458,
    # over 0.2 + 0.24; the border answer shares no keyword with "music": 0
    assert dense == pytest.approx({"tiny:3:0": (5**-0.5 + 0.5 * 2**-0.5) / 1.75, "tiny:1:0": 0.0})
    # the cards carry the same labels: 0.458 is over the strong line (0.2 + 0.24), 0 is weak
    cards = engine.ask("music summit", 2, "hybrid").cards
    assert [(c.passage_ids, c.label) for c in cards] == [
        (("tiny:3:0",), "strong match"),
        (("tiny:1:0",), "weak match"),
    ]


def test_a_lexical_hit_sharing_one_term_of_several_weighs_half_in_hybrid_fusion():
    from qa.answer.retrievers import HybridRetriever
    from qa.documents import Hit, Passage

    def hits(*scored):
        return [
            Hit(Passage(pid, "d", i, 0, "S", "", pid, 0, 1), score, rank)
            for rank, (i, (pid, score)) in enumerate(enumerate(scored), start=1)
        ]

    class Fixed:
        def __init__(self, found, shared=None):
            self.found, self.shared = found, shared

        def search(self, question, k, allowed=None):
            return self.found

        def terms_shared(self, question, found):
            return np.array([self.shared[h.passage.passage_id] for h in found]), 3

    dense = Fixed(hits(("bridge", 0.6), ("other", 0.4), ("reef", 0.2)))
    # BM25: the reef passage scores best but holds one of the question's three terms ("centuri"),
    # the bridge passage holds two of them
    lexical = Fixed(
        hits(("reef", 2.0), ("bridge", 1.5), ("other", 1.0)), {"reef": 1, "bridge": 2, "other": 2}
    )
    fused = HybridRetriever(dense, lexical, "convex", 0.6).search("q", 3)
    # min-max: dense bridge 1, other 0.5, reef 0; BM25 reef 1 (halved: 0.5), bridge 0.5, other 0
    # bridge 0.6 + 0.4 x 0.5 = 0.8; reef 0 + 0.4 x 0.5 = 0.2; other 0.6 x 0.5 = 0.3
    assert [(h.passage.passage_id, round(h.score, 6)) for h in fused] == [
        ("bridge", 0.8),
        ("other", 0.3),
        ("reef", 0.2),
    ]
    # without the halving the reef passage would have scored 0.4, above "other"


def test_a_question_naming_an_interviewee_is_answered_from_their_words_first(archive):
    assert archive.named_speakers("What did Anna Berg say about the summit?") == ("Anna Berg",)
    assert archive.named_speakers("what did BERG say?") == ()  # a surname must be capitalised...
    assert archive.named_speakers("What did Berg say?") == ("Anna Berg",)  # ...as names are
    answer = archive.ask("What did Berg say about the summit?", 5, "hybrid")
    assert answer.named == ("Anna Berg",) and ids(answer.hits) == ["panel:1:0"]
    assert answer_json(answer)["named"] == ["Anna Berg"]
    # not naming her, the same question finds every summit passage, hers and the others'
    everyone = archive.ask("What was said about the summit?", 5, "hybrid")
    assert everyone.named == () and {"panel:1:0", "panel:3:0", "tiny:3:0"} <= set(ids(everyone.hits))
    # when her words do not cover the question, everyone's are searched, and the answer says none
    # was named: "music" is in nothing she said
    music = archive.ask("What did Berg say about music?", 5, "hybrid")
    assert music.named == () and ids(music.hits)[0] == "tiny:3:0"
    # a speaker filter the user chose wins over the name in the question
    assert archive.ask("What did Berg say about the summit?", 5, "hybrid", speakers={"Ola Lind"}).named == ()
    from qa.app.ui import answer as page_reply

    shown = page_reply("What did Berg say about the summit?", [], "hybrid", 5, engine=archive)
    assert shown.startswith('<p class="qa-named">From the words of Anna Berg, whom the question names')


HARBOUR = """\
Question: What happened to the ferries during the winter storms this year?

Lena Holm: We closed the harbour for six weeks.

Question: And the buses?

Lena Holm: The ferries stopped in the winter storms this year, so the buses ran instead.
"""


def test_a_question_an_interviewer_asked_gets_the_answer_that_followed_it_first(tmp_path, keyword_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    engine = Engine(build(corpus, tmp_path / "index", keyword_embedder), keyword_embedder)
    asked = "What happened to the ferries during the winter storms this year?"
    # the second answer repeats the question's words; the first is what was said to it
    assert ids(engine.retriever("hybrid").search(asked, 2))[0] == "harbour:3:0"
    assert [p.passage_id for p in engine.asked_before(asked)] == ["harbour:1:0"]
    answer = engine.ask(asked, 2, "hybrid")
    assert [card.quote.text for card in answer.cards] == [
        "We closed the harbour for six weeks.",
        "The ferries stopped in the winter storms this year, so the buses ran instead.",
    ]
    # nearly word for word is enough ("this winter's storms"); other words or a short question are not
    assert engine.asked_before("what happened to the ferries in this winter's storms this year") != ()
    assert engine.asked_before("Why did the ferries stop in the storms?") == ()
    assert engine.asked_before("And the buses?") == ()  # under ASKED_MIN_TERMS content words


@pytest.mark.parametrize(
    ("question", "about"),
    [
        ("What did Putin say about doping in Russian sport?", "doping in Russian sport?"),
        ("How does Obama describe his relationship with Congress?", "his relationship with Congress?"),
        ("What does the Secretary-General think about climate change?", "climate change?"),
        ("What did Obama say about Putin's speech?", "Putin's speech?"),
        ("What did the President say about the Super Bowl?", "the Super Bowl?"),
        ("Did Berg comment on the bread?", "the bread?"),
        ("Why did the ferries stop?", "Why did the ferries stop?"),  # no one asked, no frame
        ("What did Putin say?", "What did Putin say?"),  # nothing left: the question stands
    ],
)
def test_a_question_s_topic_leaves_out_who_is_asked_and_how(question, about):
    from qa.answer.question_types import topic

    assert topic(question) == about
