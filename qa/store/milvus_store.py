"""An archive in Milvus behind the store seam (qa/store/__init__.py): its reader is
qa/store/milvus_index.py, its writes qa/store/milvus_write.py, its connection qa/store/milvus.py."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import qa.store.milvus_write as milvus_write
from qa.documents import Document
from qa.ingest import recordings
from qa.locks import writing
from qa.store.milvus import Location, connected, lock_dir
from qa.store.milvus_index import load
from qa.store.settings import Settings, archive_corpus, in_order

SETTINGS_NOTE = "settings.json"  # in the archive's local state folder


class MilvusStore:
    """An archive in Milvus: a Milvus Lite file or a server's collections (qa/store/milvus.py).
    A change writes or deletes only its interviews' rows; `qa build` writes a new generation."""

    def __init__(self, where: Location) -> None:
        self.target = where

    @property
    def recordings(self) -> Path:
        """In its local state folder, beside its write lock."""
        return self.target.state_dir / recordings.FOLDER

    @property
    def lock_dir(self) -> Path:
        return lock_dir(self.target)

    def exists(self) -> bool:
        return milvus_write.current(self.target) is not None

    def open(self):
        return load(self.target)

    def recover(self) -> None:
        """Nothing to finish: a Milvus archive switches generations in one write."""

    def settings_now(self) -> Settings | None:
        """The settings its last writer noted beside its lock (Milvus Lite serves one process at a
        time, so the archive itself cannot be asked without the lock); None when there is no note."""
        return Settings.read(self.target.state_dir / SETTINGS_NOTE)

    def cached(self, model) -> dict:
        """Milvus keeps no embedding cache: every new text is embedded."""
        return {}

    @contextlib.contextmanager
    def changing(self) -> Iterator[_MilvusChange]:
        # one connection for the whole change (on Milvus Lite each new one starts its server again)
        with writing(self.lock_dir), connected(self.target):
            yield _MilvusChange(self)

    def build(self, corpus_dir: Path, settings: Settings, progress: bool = False):
        from qa.ingest.corpus import load_corpus
        from qa.store.folder_write import corpus_record, with_recordings

        documents, media = with_recordings(load_corpus(corpus_dir))
        corpus = corpus_record(corpus_dir, documents)
        return milvus_write.build(self.target, documents, settings, corpus, progress, media=media)

    def write(self, documents, passages, settings: Settings, corpus: dict, progress: bool = False):
        """A new generation of these interviews and passages (a BEIR collection's, say)."""
        return milvus_write.build(self.target, documents, settings, corpus, progress, passages)


class _MilvusChange:
    """A Milvus archive under its write lock: what it holds, and writes of only the rows changed."""

    def __init__(self, store: MilvusStore) -> None:
        self.store, self.where = store, store.target
        self.found = milvus_write.current(self.where)
        self.absent = f"no archive in Milvus at {self.where}; `qa add --store milvus` creates one"
        self.settings = Settings.of(self.found[0]) if self.found else None
        self.hashes = self.found[2] if self.found else {}
        if self.found:
            self._note(self.found[0])

    def put(
        self, documents: list[Document], passages: dict, media: dict, settings: Settings, ahead, progress
    ):
        """These interviews' rows written (replacing those of their doc ids), the others untouched;
        a new archive is written as its first generation."""
        documents = in_order(documents)
        rows = [p for d in documents for p in passages[d.doc_id]]
        recordings.keep(self.store.recordings, media)
        if self.found:
            manifest, names = self.found[0], self.found[1]
            milvus_write.put(self.where, manifest, names, documents, progress, ahead, rows)
        else:
            corpus = archive_corpus(documents)
            milvus_write.write_generation(self.where, documents, settings, corpus, progress, rows, ahead)
            self._note(milvus_write.current(self.where)[0])
        return milvus_write.summary(self.where)

    def delete(self, doc_ids: list[str], progress: bool = False):
        milvus_write.delete(self.where, self.found[1], doc_ids)
        recordings.drop(self.store.recordings, doc_ids)
        return milvus_write.summary(self.where)

    def rewrite(self, settings: Settings, progress: bool = False):
        """Every interview again, with these settings, as a new generation."""
        from qa.store.folder import documents_of

        index = load(self.where)
        documents = in_order(documents_of(index))
        index.close()
        milvus_write.write_generation(self.where, documents, settings, archive_corpus(documents), progress)
        return load(self.where)

    def _note(self, manifest: dict) -> None:
        """The manifest's settings noted beside the lock: what the next writer embeds its new texts
        with before it takes the lock (settings_now). Only a guess for that: the manifest read under
        the lock decides."""
        keep = {k: manifest.get(k) for k in ("embedder", "multilingual", "scoring", "lexical")}
        (self.store.lock_dir / SETTINGS_NOTE).write_text(json.dumps(keep) + "\n", encoding="utf-8")
