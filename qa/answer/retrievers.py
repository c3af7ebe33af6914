"""The Retriever seam: `search(question, k) -> list[Hit]`, best first.

`dense` embeds the question; `bm25` matches its words; `hybrid` fuses the two, by a weighted sum of
min-max normalised scores (convex) or by reciprocal rank fusion (rrf). Questions in another script
can be routed to the multilingual e5 vectors.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from qa.answer import lexical as lexicon
from qa.documents import Filter, Hit, Passage
from qa.embed.embedders import Embedder
from qa.embed.multilingual import E5, is_foreign
from qa.store import Snapshot

MODES = ("dense", "bm25", "hybrid", "hybrid-rrf")
DEFAULT_MODE = "hybrid"
# Share of the fused score given to the dense side in convex fusion; chosen from data (eval/README.md).
DENSE_WEIGHT = 0.6
RRF_K = 60  # the constant of Cormack et al. (2009): rank r scores 1 / (60 + r)


class Retriever(Protocol):
    def search(self, question: str, k: int, allowed: Filter | None = None) -> list[Hit]:
        """The k best passages; only those the filter admits when `allowed` is given."""
        ...


class LastQuestion:
    """Encodes a question, remembering the last one: an answer asks the same retriever twice (the
    relevance check, then the search), and the model should run once."""

    def __init__(self, encode) -> None:
        self._encode = encode
        self._last: tuple[str, np.ndarray] | None = None

    def __call__(self, question: str) -> np.ndarray:
        last = self._last  # one read: the app answers several people at once, from threads
        if last is None or last[0] != question:
            last = (question, self._encode(question))
            self._last = last
        return last[1]

    def forget(self) -> None:
        """Drop the remembered question (benchmarks time a fresh encode with it)."""
        self._last = None


class RemembersLast:
    """A retriever that keeps its last search: the engine judges whether the archive covers a
    question from the very list its answer is ranked from (qa/answer/coverage.py), not a second
    search."""

    _last: tuple[str, Filter | None, list[Hit]] | None = None

    def _keep(self, question: str, allowed: Filter | None, hits: list[Hit]) -> list[Hit]:
        self._last = (question, allowed, hits)
        return hits

    def best(self, question: str, allowed: Filter | None = None) -> Hit | None:
        """The best hit for the question: from the last search when that was this question within
        the same filter (read once: the app answers several people at once, from threads)."""
        last = self._last
        if last is None or last[0] != question or last[1] != allowed:
            last = (question, allowed, self.search(question, 1, allowed))
        return last[2][0] if last[2] else None


def hits_from(passages: list[Passage], scores: np.ndarray, k: int) -> list[Hit]:
    """The k best of these passages by score, as ranked hits (equal scores in the order given)."""
    order = np.argsort(-scores, kind="stable")[: max(k, 0)]
    return [Hit(passages[i], float(scores[i]), rank) for rank, i in enumerate(order.tolist(), start=1)]


class DenseRetriever(RemembersLast):
    """FAISS finds candidates by passage (and interviewer question); each passage's best sentence
    then adds its evidence. The score is the weighted mean of the cosines (see qa/embed/vectors.py)."""

    min_candidates = 100

    def __init__(self, index: Snapshot, embedder: Embedder) -> None:
        import faiss

        # FAISS and torch each start a thread pool; on a small machine they fight over the cores.
        faiss.omp_set_num_threads(1)
        self.index = index
        self.embedder = embedder
        # a model with its own side for queries (e5's "query: ") says so with encode_query
        encode = getattr(embedder, "encode_query", None) or embedder.encode
        self.encode_question = LastQuestion(lambda question: encode([question]))

    def scores_of(self, question: str, passages: list[Passage]) -> np.ndarray:
        """The dense score of these passages, whatever retriever found them."""
        index = self.index
        vector = self.encode_question(question)
        passage = index.passage_vectors(passages) @ vector[0]
        sentence = index.sentence_scores(vector[0], passages)
        return (passage + index.scoring.sentence_weight * sentence) / index.scoring.total

    def search(self, question: str, k: int, allowed: Filter | None = None) -> list[Hit]:
        index = self.index
        vector = self.encode_question(question)
        candidates = max(self.min_candidates, 10 * k)
        scores, passages = index.dense_top(vector, candidates, allowed)
        sentence = index.sentence_scores(vector[0], passages)
        combined = (scores + index.scoring.sentence_weight * sentence) / index.scoring.total
        return self._keep(question, allowed, hits_from(passages, combined, k))


class BM25Retriever(RemembersLast):
    """Okapi BM25 over the passage text; passages sharing no word with the question are not hits."""

    def __init__(self, index: Snapshot) -> None:
        self.index = index

    def terms_shared(self, question: str, hits: list[Hit]) -> tuple[np.ndarray, int]:
        """(how many of the question's distinct terms each hit's passage holds, how many it has)."""
        return self.index.matched_terms(question, [hit.passage for hit in hits])

    def search(self, question: str, k: int, allowed: Filter | None = None) -> list[Hit]:
        scores, passages = self.index.bm25_top(question, k, allowed)
        return self._keep(question, allowed, hits_from(passages, scores, k))


class HybridRetriever:
    """Both retrievers' top `depth` candidates, fused; a passage missing from one list scores 0 there."""

    depth = 100

    def __init__(
        self, dense: Retriever, lexical: Retriever, fusion: str = "convex", dense_weight: float = DENSE_WEIGHT
    ):
        if fusion not in ("convex", "rrf"):
            raise ValueError(f"unknown fusion {fusion!r}")
        self.dense, self.lexical = dense, lexical
        self.fusion, self.dense_weight = fusion, dense_weight

    def search(self, question: str, k: int, allowed: Filter | None = None) -> list[Hit]:
        depth = max(self.depth, k)
        lists = (self.dense.search(question, depth, allowed), self.lexical.search(question, depth, allowed))
        weights = (self.dense_weight, 1.0 - self.dense_weight)
        normalised = (self._normalised(lists[0]), self._lexical_normalised(question, lists[1]))
        fused: dict[str, float] = {}
        passages = {}
        for hits, weight, values in zip(lists, weights, normalised, strict=True):
            for hit, value in zip(hits, values, strict=True):
                passages[hit.passage.passage_id] = hit.passage
                fused[hit.passage.passage_id] = fused.get(hit.passage.passage_id, 0.0) + weight * value
        ranked = sorted(fused.items(), key=lambda item: -item[1])[:k]
        return [Hit(passages[pid], score, rank) for rank, (pid, score) in enumerate(ranked, start=1)]

    def _lexical_normalised(self, question: str, hits: list[Hit]) -> list[float]:
        """BM25 scores min-max normalised, but a passage sharing a single term with a question of
        several counts half: min-max alone gives the best lexical hit full weight even when all it
        shares is one common word ("a century" in a question about bridges lasting a century)."""
        values = self._normalised(hits)
        if self.fusion == "rrf" or not hits or not hasattr(self.lexical, "terms_shared"):
            return values
        counts, terms = self.lexical.terms_shared(question, hits)
        needed = min(lexicon.SHARED_TERMS, terms)
        return [
            value * min(1.0, float(count) / needed) if needed else value
            for value, count in zip(values, counts, strict=True)
        ]

    def _normalised(self, hits: list[Hit]) -> list[float]:
        if self.fusion == "rrf":
            return [1.0 / (RRF_K + hit.rank) for hit in hits]
        if not hits:
            return []
        top, bottom = hits[0].score, hits[-1].score
        if top == bottom:
            return [1.0] * len(hits)
        return [(hit.score - bottom) / (top - bottom) for hit in hits]


class MultilingualRetriever(RemembersLast):
    """Search over the index's e5 passage vectors (exact up to the folder's FLAT_UP_TO passages, an
    HNSW graph past it; Milvus's own index on a Milvus archive)."""

    def __init__(self, index: Snapshot, model: E5) -> None:
        self.index = index
        self.model = model
        self.encode_question = LastQuestion(model.encode_query)

    def scores_of(self, question: str, passages: list[Passage]) -> np.ndarray:
        return self.index.multilingual_vectors(passages) @ self.encode_question(question)[0]

    def search(self, question: str, k: int, allowed: Filter | None = None) -> list[Hit]:
        vector = self.encode_question(question)
        scores, passages = self.index.multilingual_top(vector, k, allowed)
        return self._keep(question, allowed, hits_from(passages, scores, k))


class LanguageRouter:
    """English (and other Latin-script) questions go to `english`, the rest to `foreign`."""

    def __init__(self, english: Retriever, foreign: MultilingualRetriever) -> None:
        self.english, self.foreign = english, foreign

    def search(self, question: str, k: int, allowed: Filter | None = None) -> list[Hit]:
        return (self.foreign if is_foreign(question) else self.english).search(question, k, allowed)


def make_retriever(
    mode: str, dense: DenseRetriever, bm25: BM25Retriever, dense_weight: float = DENSE_WEIGHT
) -> Retriever:
    """The retriever for a mode, built on shared dense and BM25 retrievers."""
    if mode == "dense":
        return dense
    if mode == "bm25":
        return bm25
    if mode == "hybrid":
        return HybridRetriever(dense, bm25, "convex", dense_weight)
    if mode == "hybrid-rrf":
        return HybridRetriever(dense, bm25, "rrf", 0.5)
    raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
