"""What a store opens: one version of an archive, with its searches and its vectors by row.

Two stores answer behind it as peers, the folder (qa/store/folder.py: FAISS, BM25 arrays and numpy
files) and Milvus (qa/store/milvus_index.py); the engine reads a Snapshot and never asks which.
A row is a passage's place in `passages`; searches give (scores, rows) best first, over every
passage or only those a Filter admits. Each also has a local `folder` of its own (an index folder;
a Milvus archive's state folder), where the page's votes and the recordings are kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.answer.lexical import Lexical
from qa.documents import Filter, Passage
from qa.embed.vectors import Scoring

NO_ROWS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Snapshot:
    manifest: dict
    passages: tuple[Passage, ...]
    documents: dict[str, dict]  # each interview's record (title, outlet, url, ...) by doc id
    scoring: Scoring
    lexical: Lexical
    doc_rows: dict[str, np.ndarray]  # each interview's passage rows, for searches scoped to some
    speaker_rows: dict[str, np.ndarray]  # each speaker's passage rows, for the speaker filter
    rows: dict[str, int]  # each passage id's row, for the retrievers and the engine alike

    @property
    def multilingual(self) -> bool:
        """Whether the archive holds e5 vectors for questions in other scripts."""
        return bool(self.manifest.get("multilingual"))

    def rows_for(self, where: Filter | None) -> np.ndarray | None:
        """The passage rows a filter admits, ascending (None: every row)."""
        if where is None:
            return None
        rows = [_union(self.doc_rows, where.doc_ids)] if where.doc_ids is not None else []
        rows += [_union(self.speaker_rows, where.speakers)] if where.speakers is not None else []
        if not rows:
            return None
        return rows[0] if len(rows) == 1 else np.intersect1d(*rows, assume_unique=True)

    def matches(self, where: Filter | None) -> bool:
        """Whether any passage passes the filter."""
        rows = self.rows_for(where)
        return rows is None or len(rows) > 0

    # Each store's own: its searches, its vectors by row, and how it is reached again.
    def dense_top(self, vector: np.ndarray, k: int, where: Filter | None):
        """(scores, rows) of the k passages closest to the question vector."""
        raise NotImplementedError

    def multilingual_top(self, vector: np.ndarray, k: int, where: Filter | None):
        """The same over the e5 vectors."""
        raise NotImplementedError

    def bm25_top(self, question: str, k: int, where: Filter | None):
        """(scores, rows) of the passages sharing a term with the question, by BM25 score."""
        raise NotImplementedError

    def sentence_scores(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """For each passage row, the cosine of its best sentence with the question vector."""
        raise NotImplementedError

    def passage_vectors(self, rows: np.ndarray) -> np.ndarray:
        """These passages' vectors, one row each."""
        raise NotImplementedError

    def multilingual_vectors(self, rows: np.ndarray) -> np.ndarray:
        """These passages' e5 vectors."""
        raise NotImplementedError

    def turn(self, doc_id: str, turn_index: int) -> list[tuple[Passage, np.ndarray]]:
        """One answer turn's passages in order, each with its sentence vectors."""
        raise NotImplementedError

    def recording(self, doc_id: str) -> Path | None:
        """The file of this interview's recording, when the archive keeps one."""
        raise NotImplementedError

    @property
    def target(self):
        """What `load`, `qa add` and `qa remove` are given to reach this archive again."""
        raise NotImplementedError

    def stamp(self):
        """Changes whenever a writer replaces the archive (None: nothing to compare now)."""
        raise NotImplementedError

    def reopen(self) -> Snapshot:
        """The archive as it is now (after another writer's change)."""
        raise NotImplementedError

    def close(self) -> None:
        """Let go of what the snapshot holds open."""

    def sources(self) -> dict[str, str]:
        """Each interview's source text by doc id."""
        raise NotImplementedError

    def turn_rows(self, doc_id: str, turn_index: int) -> list[int]:
        """The rows of one answer turn's passages, in order."""
        return [int(r) for r in self.doc_rows[doc_id] if self.passages[r].turn_index == turn_index]


def _union(rows_by_key: dict[str, np.ndarray], keys) -> np.ndarray:
    parts = [rows_by_key[key] for key in keys if key in rows_by_key]
    return np.unique(np.concatenate(parts)) if parts else NO_ROWS


def looked_up(passages: tuple[Passage, ...]) -> dict:
    """A Snapshot's look-ups of its passages: each interview's rows, each speaker's, each id's row."""
    return {
        "doc_rows": _rows_by(passages, "doc_id"),
        "speaker_rows": _rows_by(passages, "speaker"),
        "rows": {p.passage_id: row for row, p in enumerate(passages)},
    }


def _rows_by(passages: tuple[Passage, ...], field: str) -> dict[str, np.ndarray]:
    rows: dict[str, list[int]] = {}
    for row, passage in enumerate(passages):
        rows.setdefault(getattr(passage, field), []).append(row)
    return {key: np.array(r, dtype=np.int64) for key, r in rows.items()}
