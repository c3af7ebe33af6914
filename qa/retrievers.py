"""The Retriever seam: `search(question, k) -> list[Hit]`, best first."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from qa.documents import Hit
from qa.embedders import Embedder
from qa.store import Index
from qa.vectors import best_sentence_scores


class Retriever(Protocol):
    def search(self, question: str, k: int) -> list[Hit]: ...


class DenseRetriever:
    """FAISS finds candidates by passage (and interviewer question); each passage's best sentence
    then adds its evidence. The score is the weighted mean of the cosines (see qa/vectors.py)."""

    min_candidates = 100

    def __init__(self, index: Index, embedder: Embedder) -> None:
        import faiss

        # FAISS and torch each start a thread pool; on a small machine they fight over the cores.
        faiss.omp_set_num_threads(1)
        self.index = index
        self.embedder = embedder

    def search(self, question: str, k: int) -> list[Hit]:
        k = min(k, len(self.index.passages))
        if k <= 0:
            return []
        index = self.index
        vector = self.embedder.encode([question])
        candidates = min(len(index.passages), max(self.min_candidates, 10 * k))
        scores, rows = index.faiss_index.search(vector, candidates)
        keep = rows[0] >= 0
        scores, rows = scores[0][keep], rows[0][keep]
        sentence = best_sentence_scores(vector[0], rows, index.sentence_vectors, index.sentence_starts)
        combined = (scores + index.scoring.sentence_weight * sentence) / index.scoring.total
        order = np.argsort(-combined, kind="stable")[:k]
        return [
            Hit(index.passages[rows[i]], float(combined[i]), rank) for rank, i in enumerate(order, start=1)
        ]
