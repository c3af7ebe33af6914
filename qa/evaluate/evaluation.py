"""Eval sets as data, runs as {qid: {pid: score}}, metrics through ranx in trec_eval's conventions."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.answer.answers import Answer
from qa.answer.retrievers import Retriever
from qa.documents import Passage, QAError

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"
DEFAULT_EVAL_SET = EVAL_DIR / "interview_questions.jsonl"

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]


@dataclass(frozen=True)
class EvalTarget:
    """A set to score: question texts and relevance by query id, and how to get a run for a mode."""

    name: str
    questions: dict[str, str]
    qrels: Qrels
    run: Callable[[str], Run]
    # for sets with gold quotes: a mode's quote report (see quote_report); None for the rest
    quotes: Callable[[str], dict] | None = None


@dataclass(frozen=True)
class EvalQuestion:
    """A question and its gold answer: verbatim quotes (robust to re-chunking) or passage ids."""

    qid: str
    question: str
    gold: tuple[str, ...] = ()
    relevant: tuple[str, ...] = ()


def fold(text: str) -> str:
    """Case and whitespace folded (a no-break space is a space), for matching gold quotes."""
    return " ".join(text.lower().split())


def load_eval_set(path: Path) -> list[EvalQuestion]:
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise QAError(f"{path}: cannot read eval set ({error})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            question = EvalQuestion(
                qid=str(item["id"]),
                question=str(item["question"]),
                gold=tuple(item.get("gold", ())),
                relevant=tuple(item.get("relevant", ())),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise QAError(f"{path}:{number}: not an eval question ({error})") from None
        if not question.gold and not question.relevant:
            raise QAError(f"{path}:{number}: needs 'gold' quotes or 'relevant' passage ids")
        questions.append(question)
    if not questions:
        raise QAError(f"{path}: eval set is empty")
    return questions


def derived_eval_set(passages: list[Passage] | tuple[Passage, ...]) -> list[EvalQuestion]:
    """Each interviewer question as a query; every passage of the answer to it is relevant."""
    by_question: dict[tuple[str, str], list[str]] = {}
    for passage in passages:
        if passage.in_answer_to:
            by_question.setdefault((passage.doc_id, passage.in_answer_to), []).append(passage.passage_id)
    return [
        EvalQuestion(qid=f"{doc_id}:asked:{number}", question=question, relevant=tuple(ids))
        for number, ((doc_id, question), ids) in enumerate(by_question.items(), start=1)
    ]


def qrels_for(questions: list[EvalQuestion], passages: tuple[Passage, ...] | list[Passage]) -> Qrels:
    """Relevant passages per question; a gold quote that no passage contains is an error in the set."""
    folded = [(p.passage_id, fold(p.text)) for p in passages]
    known = {p.passage_id for p in passages}
    qrels: Qrels = {}
    for q in questions:
        relevant = {pid: 1 for pid in q.relevant if pid in known}
        for quote in q.gold:
            matches = [pid for pid, text in folded if fold(quote) in text]
            if not matches:
                raise QAError(f"eval question {q.qid}: gold quote not found in any passage: {quote!r}")
            relevant.update(dict.fromkeys(matches, 1))
        if not relevant:
            raise QAError(f"eval question {q.qid}: none of its relevant passage ids is in the index")
        qrels[q.qid] = relevant
    return qrels


def retrieve(retriever: Retriever, questions: list[EvalQuestion], k: int, allowed=None) -> Run:
    """Each question's top k passages (of those the filter `allowed` admits, when given)."""
    return {
        q.qid: {h.passage.passage_id: h.score for h in retriever.search(q.question, k, allowed)}
        for q in questions
    }


def trec_order(run: Run) -> Run:
    """Scores replaced by strictly falling ones in trec_eval's order: score, then doc id descending."""
    ordered: Run = {}
    for qid, docs in run.items():
        ranked = sorted(docs.items(), key=lambda item: (item[1], item[0]), reverse=True)
        ordered[qid] = {doc: float(len(ranked) - i) for i, (doc, _) in enumerate(ranked)}
    return ordered


def ranx_pair(qrels: Qrels, run: Run, name: str = "run"):
    """ranx Qrels and Run for the queries in both, the run in trec_eval's order, every id replaced by
    its code (see _coded)."""
    from ranx import Qrels as RanxQrels
    from ranx import Run as RanxRun

    judged = {qid: docs for qid, docs in qrels.items() if qid in run}
    if not judged:
        raise QAError("no query is both in the eval set and in the run")
    ordered = {qid: docs for qid, docs in trec_order(run).items() if qid in judged}
    # ranx cannot hold a query with no results: give it one sentinel document that is never relevant.
    ordered = {qid: docs or {"\0no-result": 0.0} for qid, docs in ordered.items()}
    return (
        RanxQrels.from_dict(
            {_coded(q): {_coded(d): r for d, r in docs.items()} for q, docs in judged.items()}
        ),
        RanxRun.from_dict(
            {_coded(q): {_coded(d): v for d, v in docs.items()} for q, docs in ordered.items()}, name=name
        ),
    )


def _coded(text: str) -> str:
    """A fixed-width code for an id. ranx compiles its numba code anew for every longest-id length
    it meets (it holds ids as fixed-width strings), which cost the first `qa eval` on a new set half
    a minute; with codes of one width, what `make` compiled (warm_up) serves every set. The run's
    order is already fixed by trec_order, so codes change no result."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def score(
    qrels: Qrels, run: Run, metrics: tuple[str, ...] = METRICS
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """(mean over queries, per query) for ranx metric names, on queries in both qrels and run."""
    from ranx import evaluate

    judged, ordered = ranx_pair(qrels, run)
    per_metric = evaluate(judged, ordered, list(metrics), return_mean=False, threads=1)
    if len(metrics) == 1:
        per_metric = {metrics[0]: per_metric}
    original = {_coded(qid): qid for qid in qrels}
    codes = sorted(judged.qrels)  # ranx's order of queries
    per_query = {
        original[code]: {m: float(per_metric[m][i]) for m in metrics} for i, code in enumerate(codes)
    }
    means = {m: float(sum(v[m] for v in per_query.values()) / len(per_query)) for m in metrics}
    return means, per_query


def read_trec_qrels(path: Path) -> Qrels:
    qrels: Qrels = {}
    for line in path.read_text().splitlines():
        if line.strip():
            qid, _, doc, rel = line.split()
            qrels.setdefault(qid, {})[doc] = int(rel)
    return qrels


def read_trec_run(path: Path) -> Run:
    run: Run = {}
    for line in path.read_text().splitlines():
        if line.strip():
            qid, _, doc, _rank, value, _tag = line.split()
            run.setdefault(qid, {})[doc] = float(value)
    return run


def evaluate_retriever(
    retriever: Retriever,
    questions: list[EvalQuestion],
    passages: tuple[Passage, ...] | list[Passage],
    k: int = 10,
) -> dict:
    """Score a retriever on an eval set of the index's own passages."""
    qrels = qrels_for(questions, passages)
    run = retrieve(retriever, questions, max(k, 10))
    return report({q.qid: q.question for q in questions}, qrels, run, k)


def report(questions: dict[str, str], qrels: Qrels, run: Run, k: int = 10) -> dict:
    """What `qa eval --json` prints: {"n", "k", "metrics", "per_question"}, questions in qrels order."""
    means, per_query = score(qrels, run)
    per_question = []
    for qid in (q for q in qrels if q in run):
        ranked = sorted(run[qid], key=run[qid].get, reverse=True)
        first_relevant = next((i for i, pid in enumerate(ranked, start=1) if pid in qrels[qid]), None)
        per_question.append(
            {
                "id": qid,
                "question": questions.get(qid, ""),
                "relevant": sorted(qrels[qid]),
                "retrieved": ranked[:k],
                "first_relevant_rank": first_relevant,
                "metrics": per_query[qid],
            }
        )
    return {"n": len(per_question), "k": k, "metrics": means, "per_question": per_question}


QUOTE_METRICS = ("quote@1", "quote@3", "card@1", "excerpt_words_median", "excerpt_words_max")


def quote_report(questions: list[EvalQuestion], answers: dict[str, Answer]) -> dict:
    """The cards judged against the gold quotes (only questions that have them), as a person reads
    them: `quote@1` the first card's quote contains a gold quote (case and whitespace folded),
    `quote@3` one of the first three cards' quotes does, `card@1` the first card's whole answer
    does, and the first card's excerpt length in words (median and maximum over the questions)."""
    judged = [q for q in questions if q.gold and q.qid in answers]
    if not judged:
        return {"n": 0, "metrics": {}, "per_question": []}
    per_question = []
    for q in judged:
        cards = answers[q.qid].cards
        gold = [fold(quote) for quote in q.gold]

        def holds(text: str, gold=gold) -> bool:
            return any(quote in fold(text) for quote in gold)

        found = next((c.rank for c in cards[:3] if holds(c.quote.text)), None)
        first = cards[0] if cards else None
        per_question.append(
            {
                "id": q.qid,
                "question": q.question,
                "gold": list(q.gold),
                "quote": first.quote.text if first else "",
                "quote_rank": found,
                "card@1": bool(first) and holds(" ".join(span.text for span in first.context)),
                "excerpt_words": len(first.excerpt.text.split()) if first else 0,
            }
        )
    words = sorted(item["excerpt_words"] for item in per_question)
    n = len(per_question)
    metrics = {
        "quote@1": sum(item["quote_rank"] == 1 for item in per_question) / n,
        "quote@3": sum(item["quote_rank"] is not None for item in per_question) / n,
        "card@1": sum(item["card@1"] for item in per_question) / n,
        "excerpt_words_median": float(statistics.median(words)),
        "excerpt_words_max": float(words[-1]),
    }
    return {"n": n, "metrics": metrics, "per_question": per_question}


def answer_all(engine, questions: list[EvalQuestion], mode: str, doc_ids=None, k: int = 5) -> dict:
    """Each gold-quoted question answered as a person would ask it (k cards): the finished answers."""
    return {q.qid: engine.ask(q.question, k, mode, doc_ids) for q in questions if q.gold}


def quote_table(reports: dict[str, dict]) -> str:
    """Plain-text table of each mode's quote metrics."""
    lines = [f"{'mode':<12}" + "".join(f"{m:>22}" for m in QUOTE_METRICS)]
    for mode, report in reports.items():
        cells = "".join(
            f"{report['metrics'][m]:>22.0f}" if m.startswith("excerpt") else f"{report['metrics'][m]:>22.4f}"
            for m in QUOTE_METRICS
        )
        lines.append(f"{mode:<12}{cells}")
    n = next(iter(reports.values()))["n"]
    lines.append(
        f"quotes judged on the {n} questions with gold quotes; excerpt lengths of the first card, in words"
    )
    return "\n".join(lines)
