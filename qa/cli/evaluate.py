"""`qa eval`: retrieval and quotes scored on the index's own eval sets or a BEIR collection."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.answer.retrievers import MODES
from qa.cli.options import archive_target, index_arg, known, mode_arg, reranker_arg
from qa.documents import QAError


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluate.compare import compare_runs, comparison_table, write_trec_run
    from qa.evaluate.evaluation import ANSWER_K, METRICS, QUOTE_METRICS, judged_table, report

    target = _eval_target(args)
    modes = args.compare or [args.mode]
    runs = {mode: target.run(mode) for mode in modes}
    if args.run_dir:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        for mode, run in runs.items():
            write_trec_run(run, args.run_dir / f"{mode}.trec", mode)
    judged = {mode: target.judge(mode) for mode in modes}
    if len(modes) > 1:
        comparison = {"set": target.name, **compare_runs(target.qrels, runs)}
        comparison["cards"] = {mode: found["cards"]["metrics"] for mode, found in judged.items()}
        comparison["lost"] = {mode: found["cards"]["lost"] for mode, found in judged.items()}
        if target.quoted:
            comparison["quotes"] = {mode: found["quotes"]["metrics"] for mode, found in judged.items()}
        if args.json:
            print(json.dumps(comparison))
        else:
            print(f"eval set: {target.name}\n{comparison_table(comparison)}")
            print(judged_table(judged))
            for mode, lost in comparison["lost"].items():
                if lost:
                    print(f"{mode}: the card order lost the retriever's first answer on {', '.join(lost)}")
        return 0
    result = {
        "set": target.name,
        "mode": args.mode,
        **report(target.questions, target.qrels, runs[args.mode], args.k),
        **judged[args.mode],
    }
    if not target.quoted:
        del result["quotes"]
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"eval set: {target.name} ({result['n']} questions), mode {args.mode}")
    for metric in METRICS:
        print(f"  {metric:<10} {result['metrics'][metric]:.4f}")
    cards = result["cards"]
    skipped = f"; {cards['not_asked']} too long to ask" if cards["not_asked"] else ""
    abstained = f"; {cards['abstained']} abstained" if cards["abstained"] else ""
    print(f"answers ({cards['n']} questions as `qa ask` answers them, {ANSWER_K} cards{skipped}{abstained}):")
    print(f"  {'hit@1':<21} {cards['metrics']['hit@1']:.4f}  the first passage is from the answer asked for")
    print(f"  {'card@1':<21} {cards['metrics']['card@1']:.4f}  the first card is")
    if cards["lost"]:
        print(f"card order lost the retriever's first answer ({len(cards['lost'])}):")
        for item in cards["per_question"]:
            if item["id"] in cards["lost"]:
                print(f"  {item['id']}: card {item['card_rank'] or '-'}  {item['question'][:100]}")
    if target.quoted:
        found = result["quotes"]
        print(f"quotes ({found['n']} questions with gold quotes; cards as `qa ask` shows them):")
        for metric in QUOTE_METRICS:
            value = found["metrics"][metric]
            print(
                f"  {metric:<21} {value:.0f} words"
                if metric.startswith("excerpt")
                else f"  {metric:<21} {value:.4f}"
            )
        quote_misses = [q for q in found["per_question"] if q["quote_rank"] != 1]
        if quote_misses:
            print(f"quote not first ({len(quote_misses)}):")
            for q in quote_misses[:50]:
                print(f"  {q['id']}: quote rank {q['quote_rank'] or '-'}  {q['question'][:100]}")
    misses = [q for q in result["per_question"] if q["first_relevant_rank"] != 1]
    if misses:
        print(f"not first ({len(misses)}):")
        for q in misses[:50]:
            print(f"  {q['id']}: rank {q['first_relevant_rank'] or '-'}  {q['question'][:100]}")
    return 0


def _eval_target(args: argparse.Namespace):
    """What `qa eval` scores: the index's own eval set, its derived set, or a BEIR collection."""
    from qa.answer.engine import Engine
    from qa.evaluate.evaluation import (
        DEFAULT_EVAL_SET,
        EvalTarget,
        derived_eval_set,
        load_eval_set,
        qrels_for,
    )

    if args.beir:
        if args.interview:
            raise QAError("--interview scopes the index's own eval sets; a BEIR collection uses --filter")
        return _beir_target(args)
    if args.filter or args.where:
        raise QAError("--filter and --where apply to --beir collections")
    engine = Engine.open(archive_target(args), args.reranker)
    passages = engine.index.passages
    doc_ids = known([args.interview] if args.interview else None, engine.index.interviews, "interview")
    if args.derived:
        in_scope = [p for p in passages if doc_ids is None or p.doc_id in doc_ids]
        questions, name = derived_eval_set(in_scope), "derived from the interviewers' questions"
    else:
        path = args.eval_set or DEFAULT_EVAL_SET
        questions, name = load_eval_set(path), str(path)
    qrels = qrels_for(questions, passages)
    if doc_ids:  # only the questions this interview answers, searched in it alone
        ids = {p.passage_id for p in passages if p.doc_id in doc_ids}
        qrels = {
            qid: kept for qid, rel in qrels.items() if (kept := {p: v for p, v in rel.items() if p in ids})
        }
        questions = [q for q in questions if q.qid in qrels]
        if not questions:
            raise QAError(f"no question in {name} is answered in the interview {args.interview!r}")
        name += f", within {args.interview}"
    return EvalTarget.of_index(name, engine, questions, qrels, doc_ids, max(args.k, 10))


def _beir_target(args: argparse.Namespace):
    import re
    import tempfile

    from qa.answer.engine import Engine
    from qa.answer.rerank import CrossEncoderReranker
    from qa.embed.embedders import get_embedder
    from qa.evaluate.beir import (
        collection_answers,
        collection_index,
        collection_run,
        collection_scope,
        load_collection,
        select_queries,
    )
    from qa.evaluate.evaluation import EvalTarget, answer_all
    from qa.store import side_target

    collection = select_queries(load_collection(args.beir), args.where)
    embedder = get_embedder()
    name = "beir_" + re.sub(r"\W+", "_", collection.folder.resolve().name)[:60]
    kept = side_target(args.store, args.index, args.milvus_uri, name)
    if kept is not None:
        index = collection_index(collection, kept, embedder, progress=not args.json)
    else:
        # a throwaway index: loading reads every file into memory, so its folder can go at once
        with tempfile.TemporaryDirectory(prefix="qa-beir-") as scratch:
            index = collection_index(collection, Path(scratch) / "index", embedder, progress=not args.json)
    engine = Engine(index, embedder, CrossEncoderReranker(args.reranker) if args.reranker else None)
    depth = max(args.k, 10)
    texts = {qid: collection.queries[qid]["text"] for qid in collection.qrels}
    return EvalTarget(
        name=f"{args.beir}"
        + (f" where {args.where}" if args.where else "")
        + (f", within {args.filter}" if args.filter else ""),
        questions=texts,
        qrels=collection.qrels,
        run=lambda mode: collection_run(engine, mode, collection, k=depth, scope=args.filter),
        wanted=collection_answers(collection),
        ask=lambda mode: answer_all(engine, texts, mode, collection_scope(collection, args.filter)),
    )


def register(commands) -> None:
    """`qa eval`, on the `qa` parser."""
    eval_parser = commands.add_parser("eval", help="score retrieval on an eval set")
    which = eval_parser.add_mutually_exclusive_group()
    which.add_argument("--eval-set", type=Path, help="JSONL eval set (default: the interview's own)")
    which.add_argument("--derived", action="store_true", help="use the interviewers' questions as queries")
    which.add_argument("--beir", type=Path, help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv)")
    eval_parser.add_argument(
        "--filter", help="with --beir: search only passages sharing this field with the query"
    )
    eval_parser.add_argument(
        "--where", help="with --beir: only queries with FIELD=VALUE (e.g. kind=journalist_question)"
    )
    eval_parser.add_argument(
        "--compare", nargs="+", choices=MODES, metavar="MODE", help="compare modes, first is the baseline"
    )
    eval_parser.add_argument("--run-dir", type=Path, help="write each mode's run as a TREC run file here")
    eval_parser.add_argument(
        "--interview", metavar="DOC_ID", help="score one interview: its questions, searched in it alone"
    )
    eval_parser.add_argument("-k", type=int, default=10, help="passages listed per question (default 10)")
    eval_parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    mode_arg(eval_parser)
    reranker_arg(eval_parser)
    index_arg(eval_parser)
    eval_parser.set_defaults(run=cmd_eval)
