"""The `qa` command: a thin layer over the same functions the app calls, one module per family of
commands (archive, ask, evaluate, serve), each adding its own to the parser.

Errors a user can fix are printed as one line on stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

from qa import __version__
from qa.cli import archive, ask, evaluate, serve
from qa.documents import QAError

USAGE_ERROR = 2


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="qa", description="Ask interview transcripts questions.")
    main_parser.add_argument("--version", action="version", version=f"qa {__version__}")
    commands = main_parser.add_subparsers(dest="command", required=True)
    for family in (archive, ask, evaluate, serve):
        family.register(commands)
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
