"""An archive in an index folder behind the store seam (qa/store/__init__.py): the folder's format,
build and load are qa/store/folder.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qa import __version__
from qa.documents import Document, Passage, text_hash
from qa.embed.cache import read_cache
from qa.ingest import recordings
from qa.ingest.chunking import passages_for
from qa.ingest.parsing import parse_turns
from qa.locks import writing
from qa.store.folder import MANIFEST, Index, documents_of, load, recover
from qa.store.folder_write import _build, build_from, corpus_passages
from qa.store.settings import Settings, archive_corpus, in_order


class FolderStore:
    """An archive in an index folder (this module): the embedded default. Each change writes a
    complete new folder and swaps it in (build_from)."""

    def __init__(self, folder: Path) -> None:
        self.target = folder

    @property
    def recordings(self) -> Path:
        return self.target / recordings.FOLDER

    @property
    def lock_dir(self) -> Path:
        return self.target

    def exists(self) -> bool:
        return self.target.exists()

    def open(self) -> Index:
        """The index, every file checked against the manifest; QAError says what to do."""
        return load(self.target)

    def recover(self) -> None:
        recover(self.target)

    def settings_now(self) -> Settings | None:
        """The settings its manifest records now, read without the lock (None: no archive, or one
        that cannot say): what a writer embeds new texts with before it takes the lock."""
        return Settings.read(self.target / MANIFEST)

    def cached(self, model) -> dict[str, np.ndarray]:
        """The vectors of this model it holds now (read without the lock: only a shortcut)."""
        return read_cache(self.target, model) if self.target.is_dir() else {}

    @contextlib.contextmanager
    def changing(self) -> Iterator[_FolderChange]:
        """The archive under its write lock, to change (writers queue: qa/locks.py)."""
        with writing(self.target):
            recover(self.target)  # an interrupted swap is not an empty archive
            yield _FolderChange(self.target, load(self.target) if self.target.exists() else None)

    def build(self, corpus_dir: Path, settings: Settings, progress: bool = False) -> Index:
        embedder, scoring, multilingual = settings.embedder, settings.scoring, settings.multilingual
        with writing(self.target):
            return _build(corpus_dir, self.target, embedder, scoring, multilingual, progress)

    def write(self, documents, passages, settings: Settings, corpus: dict, progress: bool = False) -> Index:
        """A new index of these interviews and passages (a BEIR collection's, say)."""
        return _written(self.target, documents, passages, settings, corpus, progress)


class _FolderChange:
    """An index folder under its write lock: what it holds, and the writes that replace it whole."""

    def __init__(self, folder: Path, existing: Index | None) -> None:
        self.folder, self.existing = folder, existing
        self.absent = f"no index at {folder} (missing {MANIFEST}); run `qa build` to create it"
        self.documents = {d.doc_id: d for d in documents_of(existing)} if existing else {}
        self.settings = Settings.of(existing.manifest) if existing else None
        self.hashes = {text_hash(d.text): d.doc_id for d in self.documents.values()}

    def put(self, documents, passages: dict, media: dict, settings: Settings, ahead: dict, progress) -> Index:
        """The archive with these interviews added or replacing those of their doc ids; `passages`
        are theirs by doc id, `media` the recordings that come with them."""
        every = in_order({**self.documents, **{d.doc_id: d for d in documents}}.values())
        return self._write(every, self._passages(every, passages), settings, progress, media, ahead)

    def delete(self, doc_ids: list[str], progress: bool = False) -> Index:
        kept = [d for d in self.documents.values() if d.doc_id not in set(doc_ids)]
        every = in_order(kept)
        return self._write(every, self._passages(every, {}), self.settings, progress)

    def rewrite(self, settings: Settings, progress: bool = False) -> Index:
        """Every interview again, with these settings (after a model or qa upgrade)."""
        every = in_order(self.documents.values())
        self.existing.close()
        return self._write(every, corpus_passages(every), settings, progress)

    def _passages(self, documents: list[Document], new: dict) -> list[Passage]:
        """The passages of these interviews, in their order, parsed as little as can be under the
        write lock: a new one's were made when its file was read, one already in the archive keeps
        those its index holds when the same qa version wrote it (so chunked alike); the rest are
        parsed again."""
        kept: dict[str, list[Passage]] = {}
        if self.existing is not None and self.existing.manifest.get("qa_version") == __version__:
            for passage in self.existing.passages:
                kept.setdefault(passage.doc_id, []).append(passage)
        passages: list[Passage] = []
        for document in documents:
            own = new.get(document.doc_id) or kept.get(document.doc_id)
            passages += own if own is not None else passages_for(document, parse_turns(document))
        return passages

    def _write(self, documents, passages, settings: Settings, progress, media=None, ahead=None) -> Index:
        corpus = archive_corpus(documents)
        return _written(self.folder, documents, passages, settings, corpus, progress, media, ahead)


def _written(folder, documents, passages, settings: Settings, corpus, progress, media=None, ahead=None):
    """The index at folder rewritten with these interviews and passages (qa.store.folder_write.build_from),
    with these settings; `media` and `ahead` as build_from takes them."""
    return build_from(
        documents,
        passages,
        folder,
        settings.embedder,
        corpus=corpus,
        scoring=settings.scoring,
        multilingual=settings.multilingual,
        progress=progress,
        media=media,
        ahead=ahead,
    )
