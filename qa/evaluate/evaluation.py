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
from qa.documents import Filter, Passage, QAError

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"
DEFAULT_EVAL_SET = EVAL_DIR / "interview_questions.jsonl"

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]


Answers = dict[str, set[tuple[str, int]]]  # query id -> the answers it asks for: (interview, answer turn)


@dataclass(frozen=True)
class EvalTarget:
    """A set to score: question texts and relevance by query id, how to get a run for a mode, and
    how to get a mode's finished answers (k cards each, as `qa ask` gives them) with the answer
    turns each question asks for, to judge the cards by (card_report, quote_report)."""

    name: str
    questions: dict[str, str]
    qrels: Qrels
    run: Callable[[str], Run]
    wanted: Answers
    ask: Callable[[str], dict[str, Answer]]
    quoted: tuple[EvalQuestion, ...] = ()  # the questions with gold quotes

    def judge(self, mode: str) -> dict:
        """A mode's answers judged (see `judged`)."""
        return judged(self.questions, self.wanted, self.ask(mode), self.quoted)

    @classmethod
    def of_index(
        cls, name: str, engine, questions: list[EvalQuestion], qrels: Qrels, doc_ids=None, depth: int = 10
    ) -> EvalTarget:
        """An eval set of the index's own on `engine` (its qrels from qrels_for): retrieved to
        `depth` and answered within the interviews `doc_ids` (None: the whole archive)."""
        texts = {q.qid: q.question for q in questions}
        allowed = Filter.of(doc_ids)
        return cls(
            name=name,
            questions=texts,
            qrels=qrels,
            run=lambda mode: retrieve(engine.retriever(mode), questions, depth, allowed),
            wanted=answer_turns(qrels, engine.index.passages),
            ask=lambda mode: answer_all(engine, texts, mode, doc_ids),
            quoted=tuple(q for q in questions if q.gold),
        )


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


CARD_METRICS = ("hit@1", "card@1")
QUOTE_METRICS = ("quote@1", "quote@3", "excerpt_words_median", "excerpt_words_max")


def answer_turns(qrels: Qrels, passages) -> Answers:
    """The answers each question asks for: the (interview, answer turn) of its relevant passages."""
    where = {p.passage_id: (p.doc_id, p.turn_index) for p in passages}
    return {qid: {where[pid] for pid in relevant if pid in where} for qid, relevant in qrels.items()}


def card_report(questions: dict[str, str], wanted: Answers, answers: dict[str, Answer]) -> dict:
    """The finished answers judged by which answer they put first: `hit@1` the first passage (as
    the retriever ranked them) is from an answer the question asks for, `card@1` the first card
    is. `lost` names the questions where the retriever had it first and the card order did not.
    Questions the engine would not take (too long for `qa ask`) are left out and counted; an
    abstention counts as neither."""
    per_question = []
    for qid, asked_for in wanted.items():
        if qid not in answers:
            continue
        answer = answers[qid]
        first = answer.hits[0].passage if answer.hits else None
        ranks = [card.rank for card in answer.cards if _answer_of(card) in asked_for]
        per_question.append(
            {
                "id": qid,
                "question": questions.get(qid, ""),
                "hit@1": first is not None and (first.doc_id, first.turn_index) in asked_for,
                "card@1": ranks[:1] == [1],
                "card_rank": ranks[0] if ranks else None,
                "abstained": answer.abstained,
                "first_passage": first.text if first else "",
                "first_quote": answer.cards[0].quote.text if answer.cards else "",
            }
        )
    n = len(per_question)
    return {
        "n": n,
        "not_asked": len(wanted) - n,
        "abstained": sum(item["abstained"] for item in per_question),
        "metrics": {m: sum(item[m] for item in per_question) / n if n else 0.0 for m in CARD_METRICS},
        "lost": [item["id"] for item in per_question if item["hit@1"] and not item["card@1"]],
        "per_question": per_question,
    }


def judged(questions: dict[str, str], wanted: Answers, answers: dict[str, Answer], quoted=()) -> dict:
    """Finished answers judged: {"cards": card_report, "quotes": quote_report of the `quoted`
    EvalQuestions that have gold quotes (its n is 0 when none has)}."""
    return {
        "cards": card_report(questions, wanted, answers),
        "quotes": quote_report(list(quoted), answers),
    }


def _answer_of(card) -> tuple[str, int]:
    return card.source.doc_id, card.hits[0].passage.turn_index


def quote_report(questions: list[EvalQuestion], answers: dict[str, Answer]) -> dict:
    """The cards judged against the gold quotes (only questions that have them), as a person reads
    them: `quote@1` the first card's quote contains a gold quote (case and whitespace folded),
    `quote@3` one of the first three cards' quotes does, and the first card's excerpt length in
    words (median and maximum over the questions)."""
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
                "excerpt_words": len(first.excerpt.text.split()) if first else 0,
            }
        )
    words = sorted(item["excerpt_words"] for item in per_question)
    n = len(per_question)
    metrics = {
        "quote@1": sum(item["quote_rank"] == 1 for item in per_question) / n,
        "quote@3": sum(item["quote_rank"] is not None for item in per_question) / n,
        "excerpt_words_median": float(statistics.median(words)),
        "excerpt_words_max": float(words[-1]),
    }
    return {"n": n, "metrics": metrics, "per_question": per_question}


ANSWER_K = 5  # cards per answer when a set is answered as a person would ask it


def answer_all(
    engine, questions: dict[str, str], mode: str, scope=None, k: int = ANSWER_K
) -> dict[str, Answer]:
    """Each question answered as a person would ask it (k cards): the finished answers. `scope`
    gives a question's interviews (a set of ids, or a function of its id; None: all of them). A
    question the engine will not take (longer than `qa ask` allows) is left out."""
    answers = {}
    for qid, question in questions.items():
        doc_ids = scope(qid) if callable(scope) else scope
        try:
            answers[qid] = engine.ask(question, k, mode, doc_ids)
        except QAError:
            continue
    return answers


def judged_table(reports: dict[str, dict]) -> str:
    """Plain-text table of each mode's card and quote metrics (from EvalTarget.judge)."""
    quoted = any(judged["quotes"]["n"] for judged in reports.values())
    names = CARD_METRICS + (QUOTE_METRICS if quoted else ())
    lines = [f"{'mode':<12}" + "".join(f"{m:>22}" for m in names)]
    for mode, judged in reports.items():
        values = {**judged["cards"]["metrics"], **judged["quotes"]["metrics"]}
        cells = "".join(
            f"{values[m]:>22.0f}" if m.startswith("excerpt") else f"{values[m]:>22.4f}" for m in names
        )
        lines.append(f"{mode:<12}{cells}")
    first = next(iter(reports.values()))
    lines.append(
        f"answers as `qa ask` gives them ({ANSWER_K} cards) to {first['cards']['n']} questions: "
        "hit@1 the first passage is from the answer asked for, card@1 the first card is"
        + (
            f"; quotes judged on the {first['quotes']['n']} with gold quotes, excerpt lengths in words"
            if quoted
            else ""
        )
    )
    return "\n".join(lines)
