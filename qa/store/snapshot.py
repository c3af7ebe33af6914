"""What a store opens: one version of an archive, with its searches, its vectors by passage and its
stamp.

Two stores answer behind it as peers: the folder (qa/store/folder.py: FAISS, BM25 arrays and numpy
files, every passage in memory) and Milvus (qa/store/milvus_index.py: a reader that keeps only the
interviews' records and fetches the passages it shows). The engine reads a Snapshot and never asks
which. Searches give (scores, passages) best first, over every passage or only those a Filter
admits; equal scores go in passage order (by interview, turn and chunk), whichever store answers.

Each store also has `folder`, a local folder of its own (an index folder; a Milvus archive's state
folder) where the page's votes and the recordings are kept, `lexical` (its BM25 terms and their
idf, qa/answer/lexical.py), and `passages`, every passage: the folder holds them, Milvus reads
them all when asked, for batch work (evaluation, an export), never on a question's way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.documents import Filter, Passage
from qa.embed.vectors import Scoring


@dataclass(frozen=True)
class Interview:
    """One interview as the archive holds it: its passages' count and speakers (in order)."""

    passages: int
    speakers: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    manifest: dict
    documents: dict[str, dict]  # each interview's record (title, outlet, url, ...) by doc id
    interviews: dict[str, Interview]  # the same interviews' passages and speakers
    scoring: Scoring

    @property
    def multilingual(self) -> bool:
        """Whether the archive holds e5 vectors for questions in other scripts."""
        return bool(self.manifest.get("multilingual"))

    @cached_property
    def speakers(self) -> tuple[str, ...]:
        """Every speaker of the archive's passages, in the order they first speak."""
        return tuple(dict.fromkeys(s for own in self.interviews.values() for s in own.speakers))

    def matches(self, where: Filter | None) -> bool:
        """Whether any passage passes the filter."""
        if where is None:
            return True
        return any(
            where.speakers is None or not where.speakers.isdisjoint(own.speakers)
            for doc_id, own in self.interviews.items()
            if where.doc_ids is None or doc_id in where.doc_ids
        )

    def matched_terms(self, question: str, passages: list[Passage]) -> tuple[np.ndarray, int]:
        """(for each passage, how many of the question's distinct BM25 terms it holds; how many
        terms the question has)."""
        terms = self.lexical.terms(question)
        held = [set(own) for own in self.lexical.tokens([p.text for p in passages], self.lexical.settings)]
        return np.array([sum(t in own for t in terms) for own in held], dtype=np.int64), len(terms)

    # Each store's own: its searches, its vectors, and how it is reached again.
    def dense_top(self, vector: np.ndarray, k: int, where: Filter | None) -> tuple[np.ndarray, list[Passage]]:
        """The k passages closest to the question vector."""
        raise NotImplementedError

    def multilingual_top(self, vector: np.ndarray, k: int, where: Filter | None):
        """The same over the e5 vectors."""
        raise NotImplementedError

    def bm25_top(self, question: str, k: int, where: Filter | None):
        """The passages sharing a term with the question, by BM25 score."""
        raise NotImplementedError

    def sentence_scores(self, vector: np.ndarray, passages: list[Passage]) -> np.ndarray:
        """For each passage, the cosine of its best sentence with the question vector."""
        raise NotImplementedError

    def passage_vectors(self, passages: list[Passage]) -> np.ndarray:
        """These passages' vectors, one row each."""
        raise NotImplementedError

    def multilingual_vectors(self, passages: list[Passage]) -> np.ndarray:
        """These passages' e5 vectors."""
        raise NotImplementedError

    def turn(self, doc_id: str, turn_index: int) -> list[tuple[Passage, np.ndarray]]:
        """One answer turn's passages in order, each with its sentence vectors."""
        raise NotImplementedError

    def passages_of(self, doc_id: str) -> list[Passage]:
        """One interview's passages, in order."""
        raise NotImplementedError

    def asked_candidates(self, stems: frozenset[str], needed: int, words: str) -> Iterable[Passage]:
        """Passages (in order) that may answer an interviewer's question holding at least `needed`
        of these content stems, or whose words are `words` (qa/answer/asked.py decides): every
        passage that does, and perhaps others."""
        raise NotImplementedError

    def has_passage(self, passage_id: str) -> bool:
        raise NotImplementedError

    def recording(self, doc_id: str) -> Path | None:
        """The file of this interview's recording, when the archive keeps one (looked up by doc id in
        the archive's own records, never a path from elsewhere: qa/ingest/recordings.py)."""
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


def interviews_of(passages: Iterable[Passage]) -> dict[str, Interview]:
    """Each interview's passage count and speakers, from its passages in order."""
    counts: dict[str, int] = {}
    speakers: dict[str, dict[str, None]] = {}
    for passage in passages:
        counts[passage.doc_id] = counts.get(passage.doc_id, 0) + 1
        speakers.setdefault(passage.doc_id, {})[passage.speaker] = None
    return {doc_id: Interview(count, tuple(speakers[doc_id])) for doc_id, count in counts.items()}
