"""`qa ask`: questions from the command line or stdin, answered as the page answers them."""

from __future__ import annotations

import argparse
import json
import sys

from qa.answer.engine import DEFAULT_K
from qa.cli.options import archive_target, index_arg, known, mode_arg, reranker_arg
from qa.documents import QAError


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
    engine = Engine.open(archive_target(args), args.reranker)
    doc_ids = known(args.interview, engine.index.interviews, "interview")
    speakers = known(args.speaker, engine.index.speakers, "speaker")
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


def register(commands) -> None:
    """`qa ask`, on the `qa` parser."""
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
    mode_arg(ask_parser)
    reranker_arg(ask_parser)
    index_arg(ask_parser)
    ask_parser.set_defaults(run=cmd_ask)
