"""Where an archive lives, behind one seam: an index folder (qa/store/folder_store.py over the
format in qa/store/folder.py; the embedded default) or Milvus (qa/store/milvus_store.py), chosen
once by `at` from what a command names (a folder's path, or a qa.store.milvus.Location); nothing
outside this package asks which.

A store answers the same questions and takes the same writes:

    store = at(target)
    store.exists(), store.open() -> Snapshot    the archive to search (qa/store/snapshot.py)
    store.recordings, store.lock_dir             where its recordings and its write lock live
    store.settings_now(), store.cached(model)    read without the lock: how a writer embeds ahead
    with store.changing() as archive:            the write lock (writers queue, qa/locks.py)
        archive.settings, archive.hashes         what it holds: settings, text hash -> doc id
        archive.put(...), .delete(...), .rewrite(...)  -> what was written (Written)
    store.build(corpus_dir, settings), store.write(documents, passages, settings, corpus)
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from qa.store.folder import (
    CORE_FILES,
    FEEDBACK_FILE,
    FORMAT,
    MANIFEST,
    Index,
    default_index_dir,
    documents_of,
    faiss_search,
    model_record,
    staleness,
    vector_index,
)
from qa.store.folder_store import FolderStore
from qa.store.folder_write import build_from, corpus_passages
from qa.store.settings import ARCHIVE, DEFAULT_LEXICAL, DEFAULT_SCORING, Settings, Written
from qa.store.snapshot import Snapshot

__all__ = [
    "ARCHIVE",
    "CORE_FILES",
    "DEFAULT_LEXICAL",
    "DEFAULT_SCORING",
    "FEEDBACK_FILE",
    "FORMAT",
    "MANIFEST",
    "Index",
    "Settings",
    "Snapshot",
    "Written",
    "at",
    "build",
    "build_from",
    "corpus_passages",
    "default_index_dir",
    "documents_of",
    "exists",
    "faiss_search",
    "load",
    "model_record",
    "recordings_folder",
    "recover",
    "side_target",
    "staleness",
    "target_from",
    "vector_index",
]


def at(target):
    """The store of the archive a command names: a folder's path, or a Milvus Location."""
    if isinstance(target, str | os.PathLike):
        return FolderStore(Path(target))
    from qa.store.milvus_store import MilvusStore

    return MilvusStore(target)


def target_from(store: str | None, index: Path | None, milvus_uri: str | None):
    """What the options name: `--store` (or $QA_STORE) folder or milvus, with `--index` (or
    $QA_INDEX_DIR) for a folder and `--milvus-uri` (or $QA_MILVUS_URI) for Milvus."""
    from qa.documents import QAError

    store = store or os.environ.get("QA_STORE") or "folder"
    if store not in ("folder", "milvus"):
        raise QAError(f"QA_STORE is 'folder' or 'milvus', not {store!r}")
    if store == "milvus":
        if index:
            raise QAError("--index names a folder; a Milvus archive is named by --milvus-uri")
        from qa.store.milvus import location

        return location(milvus_uri)
    if milvus_uri:
        raise QAError("--milvus-uri needs --store milvus (or QA_STORE=milvus)")
    return index or default_index_dir()


def side_target(store: str | None, index: Path | None, milvus_uri: str | None, name: str):
    """Where a side index (a BEIR collection `qa eval --beir` scores) is kept: in Milvus beside
    the archive the options name, in collections called `name`; in the folder `--index` names; or
    None, for a throwaway folder (never the default index folder)."""
    target = target_from(store, index, milvus_uri)
    if isinstance(target, str | os.PathLike):
        return index
    return dataclasses.replace(target, name=name)


def load(target) -> Snapshot:
    """The archive to search, every part checked; QAError says what to do."""
    return at(target).open()


def exists(target) -> bool:
    """Whether there is an archive to load there."""
    return at(target).exists()


def recordings_folder(target) -> Path:
    """Where the archive keeps its recordings."""
    return at(target).recordings


def recover(target) -> None:
    """Finish what a writer killed mid-swap left (qa/store/folder.py); safe to call any time."""
    at(target).recover()


def build(corpus_dir: Path, target, embedder, *, scoring=DEFAULT_SCORING, multilingual=False, progress=False):
    """Parse, chunk, embed and write a new archive of the transcripts in corpus_dir, replacing the
    one there only once it is complete (and after any other change to it in progress)."""
    return at(target).build(corpus_dir, Settings(embedder, scoring, multilingual), progress)
