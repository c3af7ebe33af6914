"""The two ways a question is answered: in English (the embedder's dense vectors with BM25), or, in
another script, by e5's multilingual vectors. Each route has its retrievers, its model's thresholds
(whether the archive covers a question, how well a card matches) and how its cards are scored."""

from __future__ import annotations

import numpy as np

from qa.answer.coverage import MULTILINGUAL_THRESHOLDS, Thresholds, covers_english, covers_foreign
from qa.answer.rerank import CrossEncoderReranker, RerankingRetriever
from qa.answer.retrievers import (
    BM25Retriever,
    DenseRetriever,
    MultilingualRetriever,
    Retriever,
    make_retriever,
)
from qa.documents import Filter, Passage

# A card's order beyond its retrieval share (EnglishRoute.order): chosen on the own, held-out, press
# conference, SciFact and small-archive sets so that no set's first card is right less often than
# its first passage (eval/README.md, "Card order").
QUOTE_WEIGHT = 0.2
SIMILARITY_WEIGHT = 0.3


def _reranked(retriever: Retriever, reranker: CrossEncoderReranker | None) -> Retriever:
    return RerankingRetriever(retriever, reranker) if reranker else retriever


class EnglishRoute:
    """English (and any Latin-script) questions: every mode, cards by their quote and passage."""

    name = "english"
    typed = True  # cards weigh what kind of answer a question asks for (qa/answer/question_types.py)

    def __init__(
        self, index, dense: DenseRetriever, thresholds: Thresholds, reranker: CrossEncoderReranker | None
    ) -> None:
        self.index, self.dense, self.thresholds, self.reranker = index, dense, thresholds, reranker
        self.bm25 = BM25Retriever(index)
        self._retrievers: dict[str, Retriever] = {}

    def retriever(self, mode: str) -> Retriever:
        if mode not in self._retrievers:
            self._retrievers[mode] = _reranked(make_retriever(mode, self.dense, self.bm25), self.reranker)
        return self._retrievers[mode]

    def covers(self, question: str, allowed: Filter | None) -> bool:
        return covers_english(self.index, self.dense, self.bm25, self.thresholds, question, allowed)

    def judge(self, question: str, passages: list[Passage], vectors: np.ndarray, sizes: list[int]):
        """(each card's passage similarity to the question, each of its sentences' similarity)."""
        return self.dense.scores_of(question, passages), vectors @ self.dense.encode_question(question)[0]

    @staticmethod
    def order(share: float, quote_score: float, similarity: float) -> float:
        """A card's place: its answer's retrieval score as a share of the best (see cards.shares),
        then its quote's score and its passage's own similarity, which reorder answers the
        retriever scored close together and never one it clearly preferred."""
        return share + QUOTE_WEIGHT * quote_score + SIMILARITY_WEIGHT * similarity


class MultilingualRoute:
    """Questions in another script, by e5 alone: its own threshold, its passages' order stands."""

    name = "multilingual"
    typed = False
    thresholds = MULTILINGUAL_THRESHOLDS

    def __init__(
        self, index, retriever: MultilingualRetriever, reranker: CrossEncoderReranker | None
    ) -> None:
        self.index, self.search = index, retriever
        self._retriever = _reranked(retriever, reranker)

    def retriever(self, mode: str) -> Retriever:
        return self._retriever

    def covers(self, question: str, allowed: Filter | None) -> bool:
        return covers_foreign(self.search, question, allowed)

    def judge(self, question: str, passages: list[Passage], vectors: np.ndarray, sizes: list[int]):
        # English sentence vectors cannot judge a question in another script: the sentences
        # closest to what each passage as a whole says (which e5 judged) stand for it
        meanings = self.index.passage_vectors(passages)
        toward = np.einsum("ij,ij->i", vectors, np.repeat(meanings, sizes, axis=0))
        return self.search.scores_of(question, passages), toward

    @staticmethod
    def order(share: float, quote_score: float, similarity: float) -> float:
        return share  # e5's own order: English sentence vectors cannot judge the question


Route = EnglishRoute | MultilingualRoute
