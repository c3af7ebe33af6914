"""`qa serve` (the page) and `qa feedback export` (the votes cast on it)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qa.cli.options import archive_target, auth, index_arg, reranker_arg


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from qa.app.feedback import export, read
    from qa.store import load

    index = load(archive_target(args))
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


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.app.ui import serve

    serve(
        archive_target(args),
        host=args.host,
        port=args.port,
        reranker=args.reranker,
        auth=auth(args),
        allow_uploads=args.allow_uploads,
    )
    return 0


def register(commands) -> None:
    """`qa serve` and `qa feedback`, on the `qa` parser."""
    feedback_parser = commands.add_parser("feedback", help="the page's thumbs up and down")
    feedback_commands = feedback_parser.add_subparsers(dest="feedback_command", required=True)
    export_parser = feedback_commands.add_parser(
        "export", help="write the votes as an eval set (JSONL with relevant ids) for `qa eval --eval-set`"
    )
    export_parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    index_arg(export_parser)
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
    reranker_arg(serve_parser)
    index_arg(serve_parser)
    serve_parser.set_defaults(run=cmd_serve)
