import json
import math

import pytest
from conftest import SHARED

from qa.documents import Passage, QAError
from qa.evaluate.evaluation import (
    METRICS,
    EvalQuestion,
    derived_eval_set,
    load_eval_set,
    qrels_for,
    read_trec_qrels,
    read_trec_run,
    score,
    trec_order,
)

TREC = SHARED / "benchmarks" / "trec_eval_reference"
# trec_eval measure name -> ranx metric name
TREC_NAMES = {
    "recip_rank": "mrr",
    "recall_5": "recall@5",
    "recall_10": "recall@10",
    "ndcg_cut_10": "ndcg@10",
    "P_5": "precision@5",
    "map": "map",
    "success_1": "hit_rate@1",
}


def reference(path):
    """{(measure, qid): value} from trec_eval's -q output."""
    values = {}
    for line in path.read_text().splitlines():
        measure, qid, value = line.split()
        if measure in TREC_NAMES:
            values[TREC_NAMES[measure], qid] = float(value)
    return values


@pytest.mark.skipif(not TREC.is_dir(), reason="../shared/benchmarks/trec_eval_reference is not here")
def test_metrics_equal_trec_evals_own_output_per_query_and_overall():
    expected = reference(TREC / "out.test.aq")
    means, per_query = score(
        read_trec_qrels(TREC / "qrels.test"), read_trec_run(TREC / "results.test"), tuple(TREC_NAMES.values())
    )
    for (metric, qid), value in expected.items():
        got = means[metric] if qid == "all" else per_query[qid][metric]
        assert round(got, 4) == value, (metric, qid)
    assert len(expected) == 7 * 4  # three topics and "all" for each measure


def test_trec_order_breaks_ties_by_doc_id_descending():
    assert trec_order({"q": {"a": 1.0, "c": 1.0, "b": 2.0}}) == {"q": {"b": 3.0, "c": 2.0, "a": 1.0}}


def test_metrics_by_hand():
    qrels = {"q1": {"d2": 1}, "q2": {"d1": 1, "d4": 1}}
    run = {"q1": {"d1": 0.9, "d2": 0.5}, "q2": {"d4": 0.8, "d3": 0.7, "d1": 0.1}}
    means, per_query = score(qrels, run)
    # q1: its only relevant doc is 2nd. q2: one of two relevant at 1st, the other at 3rd.
    assert per_query["q1"] == {
        "recall@1": 0.0,
        "recall@5": 1.0,
        "recall@10": 1.0,
        "mrr@10": 0.5,
        "ndcg@10": 1 / math.log2(3),
    }
    assert per_query["q2"]["recall@1"] == 0.5 and per_query["q2"]["mrr@10"] == 1.0
    ideal = 1 + 1 / math.log2(3)
    assert math.isclose(per_query["q2"]["ndcg@10"], (1 + 1 / math.log2(4)) / ideal)
    assert means["mrr@10"] == 0.75
    assert list(means) == list(METRICS)


def test_a_question_with_no_results_scores_zero():
    means, _ = score({"q1": {"d1": 1}}, {"q1": {}})
    assert means == dict.fromkeys(METRICS, 0.0)


def passage(pid, text, question=""):
    return Passage(pid, "doc", int(pid.split(":")[1]), 0, "Guest", question, text, 0, len(text))


def test_gold_quotes_match_any_passage_containing_them_whatever_the_case_and_spacing():
    passages = [
        passage("doc:1:0", "The Border\xa0treaty was  signed."),
        passage("doc:3:0", "Border treaty again."),
    ]
    questions = [
        EvalQuestion("a", "q", gold=("border treaty",)),
        EvalQuestion("b", "q", relevant=("doc:3:0",)),
    ]
    assert qrels_for(questions, passages) == {"a": {"doc:1:0": 1, "doc:3:0": 1}, "b": {"doc:3:0": 1}}


def test_a_gold_quote_found_nowhere_is_an_error_naming_the_question():
    with pytest.raises(QAError, match="eval question a: gold quote not found"):
        qrels_for([EvalQuestion("a", "q", gold=("never said",))], [passage("doc:1:0", "something")])


def test_the_derived_set_asks_each_interviewer_question_of_its_whole_answer():
    passages = [
        passage("doc:1:0", "x", "Why?"),
        passage("doc:1:1", "y", "Why?"),
        passage("doc:3:0", "z", "How?"),
    ]
    assert derived_eval_set(passages) == [
        EvalQuestion("doc:asked:1", "Why?", relevant=("doc:1:0", "doc:1:1")),
        EvalQuestion("doc:asked:2", "How?", relevant=("doc:3:0",)),
    ]


def test_eval_set_files_load_and_bad_lines_are_named(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": 1, "question": "Why?", "gold": ["because"]}) + "\n\n")
    assert load_eval_set(good) == [EvalQuestion("1", "Why?", gold=("because",))]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "question": "Why?", "gold": ["x"]}\n{"id": 2}\n')
    with pytest.raises(QAError, match=r"bad.jsonl:2: not an eval question"):
        load_eval_set(bad)


def test_the_shipped_eval_set_is_well_formed_and_covers_every_answer():
    from qa.evaluate.evaluation import DEFAULT_EVAL_SET
    from qa.ingest.corpus import BUNDLED_CORPUS, load_corpus
    from qa.store import corpus_passages

    questions = load_eval_set(DEFAULT_EVAL_SET)
    assert len(questions) >= 40 and len({q.qid for q in questions}) == len(questions)
    passages = corpus_passages(load_corpus(BUNDLED_CORPUS))
    qrels = qrels_for(questions, passages)
    answered_turns = {pid.rsplit(":", 1)[0] for relevant in qrels.values() for pid in relevant}
    assert answered_turns == {p.passage_id.rsplit(":", 1)[0] for p in passages}


def test_comparison_uses_a_paired_t_test_against_the_first_run():
    from qa.evaluate.compare import compare_runs, comparison_table

    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}, "q4": {"d": 1}}
    first = {"q1": {"a": 2, "x": 1}, "q2": {"x": 2, "b": 1}, "q3": {"c": 1}, "q4": {"x": 3, "y": 2, "d": 1}}
    perfect = {qid: {doc: 1.0 for doc in docs} for qid, docs in qrels.items()}
    result = compare_runs(qrels, {"first": first, "perfect": perfect}, ("recall@1", "recall@5"))
    assert result["metrics"] == {
        "first": {"recall@1": 0.5, "recall@5": 1.0},
        "perfect": {"recall@1": 1.0, "recall@5": 1.0},
    }
    # recall@1 differences per query are 0, 1, 0, 1: mean 0.5, sd 0.577, t = 1.732 with 3 degrees
    # of freedom, two-sided p = 0.1817. Equal scores everywhere give no difference: p = 1.
    assert round(result["p_values"]["perfect"]["recall@1"], 4) == 0.1817
    assert result["p_values"]["perfect"]["recall@5"] == 1.0
    assert (
        comparison_table(result).splitlines()[-1] == "* differs from first (paired t-test, p < 0.05); n = 4"
    )


def test_cards_are_judged_by_their_quotes_and_their_excerpt_lengths():
    from qa.answer.answers import Answer, Card, Source
    from qa.answer.quotes import Span
    from qa.evaluate.evaluation import EvalQuestion, quote_report

    def card(rank: int, quote: str, excerpt_words: int, answer: str = "") -> Card:
        span = Span(0, len(quote), quote)
        excerpt = Span(0, 1, " ".join(["w"] * excerpt_words))
        return Card(
            rank, "S", "", span, excerpt, (Span(0, 1, answer or quote),), Source("d"), "", 0.0, None, ()
        )

    questions = [
        EvalQuestion("a", "?", gold=("in Qingdao",)),
        EvalQuestion("b", "?", gold=("Iran and Afghanistan",)),
        EvalQuestion("c", "?", gold=("ten years",)),
        EvalQuestion("d", "?", relevant=("x:1:0",)),  # no gold quote: not judged here
    ]
    answers = {
        # first card's quote holds the gold (case and spacing folded): quote@1, quote@3
        "a": Answer("?", False, (), (card(1, "The summit is IN\xa0 qingdao.", 60),)),
        # the first card's answer holds it but its quote does not; the second card's quote does
        "b": Answer(
            "?",
            False,
            (),
            (
                card(1, "Two applications.", 40, "Two applications. From Iran and Afghanistan."),
                card(2, "Iran and Afghanistan applied.", 90),
            ),
        ),
        # nothing holds it
        "c": Answer("?", False, (), (card(1, "A long time.", 100),)),
        "d": Answer("?", False, (), (card(1, "x", 10),)),
    }
    report = quote_report(questions, answers)
    assert report["n"] == 3
    assert report["metrics"] == {
        "quote@1": 1 / 3,
        "quote@3": 2 / 3,
        "excerpt_words_median": 60.0,  # of 60, 40 and 100: the first cards'
        "excerpt_words_max": 100.0,
    }
    assert [q["quote_rank"] for q in report["per_question"]] == [1, 2, None]


def test_answers_are_judged_by_the_answer_their_first_passage_and_first_card_come_from():
    from qa.answer.answers import Answer, Card, Source
    from qa.answer.quotes import Span
    from qa.documents import Hit, Passage
    from qa.evaluate.evaluation import answer_turns, card_report

    def passage(doc: str, turn: int) -> Passage:
        return Passage(f"{doc}:{turn}:0", doc, turn, 0, "S", "Q?", f"said in {doc} {turn}", 0, 9)

    def hit(doc: str, turn: int) -> Hit:
        return Hit(passage(doc, turn), 1.0, 1)

    def card(rank: int, doc: str, turn: int) -> Card:
        span = Span(0, 4, "said")
        return Card(rank, "S", "", span, span, (span,), Source(doc), "", 0.0, None, (hit(doc, turn),))

    passages = [passage("a", 1), passage("a", 3), passage("b", 1)]
    qrels = {"x": {"a:1:0": 1}, "y": {"a:3:0": 1, "b:1:0": 1}, "z": {"b:1:0": 1}, "w": {"a:1:0": 1}}
    wanted = answer_turns(qrels, passages)
    assert wanted == {"x": {("a", 1)}, "y": {("a", 3), ("b", 1)}, "z": {("b", 1)}, "w": {("a", 1)}}
    answers = {
        # the retriever and the cards agree on the right answer
        "x": Answer("?", False, (hit("a", 1),), (card(1, "a", 1), card(2, "b", 1))),
        # the retriever had it first, the card order put another answer first: lost
        "y": Answer("?", False, (hit("b", 1), hit("a", 1)), (card(1, "a", 1), card(2, "b", 1))),
        # the cards found what the retriever did not
        "z": Answer("?", False, (hit("a", 3), hit("b", 1)), (card(1, "b", 1),)),
        # "w" was not asked (too long for the engine)
    }
    report = card_report({"x": "X?", "y": "Y?", "z": "Z?", "w": "W?"}, wanted, answers)
    assert (report["n"], report["not_asked"], report["abstained"]) == (3, 1, 0)
    assert report["metrics"] == {"hit@1": 2 / 3, "card@1": 2 / 3}
    assert report["lost"] == ["y"]
    assert [q["card_rank"] for q in report["per_question"]] == [1, 2, 1]
    assert report["per_question"][1]["first_passage"] == "said in b 1"
