"""Options several commands share, and how a command reads them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from qa.answer.retrievers import DEFAULT_MODE, MODES
from qa.documents import QAError


def index_arg(parser: argparse.ArgumentParser) -> None:
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


def reranker_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reranker",
        type=Path,
        metavar="PATH",
        help="a cross-encoder folder on disk to rerank the top passages",
    )


def mode_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=DEFAULT_MODE,
        help=f"retriever: {', '.join(MODES)} (default {DEFAULT_MODE})",
    )


def multilingual_arg(command: argparse.ArgumentParser, when: str = "") -> None:
    command.add_argument(
        "--no-multilingual",
        dest="multilingual",
        action="store_false",
        help=f"{when}skip the e5 vectors that answer questions in other languages (faster for large corpora)",
    )


def device_arg(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--device",
        metavar="WHERE",
        help="encode on: auto (default: a CUDA GPU when torch sees one, else the CPU), cpu, cuda or "
        "cuda:N (or set QA_DEVICE)",
    )


def sentences_arg(command: argparse.ArgumentParser, when: str = "") -> None:
    from qa.embed.vectors import ALONE, IN_CONTEXT

    command.add_argument(
        "--sentences",
        choices=(ALONE, IN_CONTEXT),
        default=ALONE,
        help=f"{when}encode each sentence alone (default) or pool it from its passage's reading "
        "(in-context: about twice as fast to build; eval/README.md has the ranking figures)",
    )


def archive_target(args: argparse.Namespace):
    """The archive the command works on: a folder, or a Milvus archive (qa.store.target_from)."""
    from qa.store import target_from

    return target_from(args.store, args.index, args.milvus_uri)


def known(wanted: list[str] | None, present: dict, what: str) -> set[str] | None:
    """The filter values asked for, each checked to be in the index (a typo would match nothing)."""
    if wanted is None:
        return None
    missing = [value for value in wanted if value not in present]
    if missing:
        raise QAError(f"no {what} {missing[0]!r} in the index; there are: {', '.join(sorted(present))}")
    return set(wanted)


def auth(args: argparse.Namespace) -> tuple[str, str] | None:
    """The login from --auth or $QA_AUTH, as USER:PASSWORD (None: no login)."""
    value = args.auth or os.environ.get("QA_AUTH")
    if not value:
        return None
    user, _, password = value.partition(":")
    if not user or not password:
        raise QAError("--auth and QA_AUTH take USER:PASSWORD, both non-empty")
    return user, password
