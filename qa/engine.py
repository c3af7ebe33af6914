"""One loaded index with its embedder and retrievers: what the CLI and the app both answer from."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.answers import Answer, ask, merged
from qa.chunking import sentences
from qa.documents import Passage, QAError
from qa.embedders import Embedder, get_embedder
from qa.multilingual import ABSTAIN_BELOW as MULTILINGUAL_ABSTAIN_BELOW
from qa.multilingual import E5, is_foreign
from qa.rerank import CrossEncoderReranker, RerankingRetriever
from qa.retrievers import (
    DEFAULT_MODE,
    MODES,
    BM25Retriever,
    DenseRetriever,
    LanguageRouter,
    MultilingualRetriever,
    Retriever,
    make_retriever,
)
from qa.store import Index, load, staleness

DEFAULT_K = 5
# A question is "covered" when its best passage's dense score reaches the embedder's abstain_below,
# or when one passage holds at least this share of its terms (a name the model does not know).
# Off-topic questions matched at most 0.40 of their terms; see eval/README.md.
LEXICAL_COVERAGE = 0.6


class Engine:
    def __init__(
        self, index: Index, embedder: Embedder, reranker: CrossEncoderReranker | None = None
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.reranker = reranker
        self.dense = DenseRetriever(index, embedder)
        self.bm25 = BM25Retriever(index)
        self._retrievers: dict[str, Retriever] = {}
        self.multilingual = MultilingualRetriever(index, E5()) if index.multilingual is not None else None
        self._rows = {p.passage_id: row for row, p in enumerate(index.passages)}

    @classmethod
    def open(cls, index_dir: Path, reranker: Path | None = None) -> Engine:
        """Load a current index; a missing, damaged or stale one raises QAError saying how to fix it."""
        index = load(index_dir)
        embedder = get_embedder(index.manifest["embedder"]["name"])
        reason = staleness(index, embedder)
        if reason:
            raise QAError(f"index at {index_dir} is stale ({reason}); run `qa build` to rebuild it")
        return cls(index, embedder, CrossEncoderReranker(reranker) if reranker else None)

    def retriever(self, mode: str = DEFAULT_MODE) -> Retriever:
        if mode not in MODES:
            raise QAError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        if mode not in self._retrievers:
            retriever = make_retriever(mode, self.dense, self.bm25)
            if self.multilingual and mode != "bm25":  # bm25 is asked for words, not meaning
                retriever = LanguageRouter(retriever, self.multilingual)
            if self.reranker:
                retriever = RerankingRetriever(retriever, self.reranker)
            self._retrievers[mode] = retriever
        return self._retrievers[mode]

    def covers(self, question: str) -> bool:
        """Whether anything in the index is about the question (else the answer abstains)."""
        if self.multilingual and is_foreign(question):
            best = self.multilingual.search(question, 1)
            return bool(best) and best[0].score >= MULTILINGUAL_ABSTAIN_BELOW
        best = self.dense.search(question, 1)
        if best and best[0].score >= self.embedder.abstain_below:
            return True
        lexical = self.bm25.search(question, 1)
        if not lexical:
            return False
        row = self._rows[lexical[0].passage.passage_id]
        return self.index.lexical.matched_share(question, row) >= LEXICAL_COVERAGE

    def answer_turn(self, doc_id: str, turn_index: int) -> tuple:
        """The whole answer a passage belongs to, as merged excerpts (pull quotes left out)."""
        rows = self.index.doc_rows.get(doc_id, ())
        return merged(p for p in (self.index.passages[r] for r in rows) if p.turn_index == turn_index)

    def best_sentence(self, question: str, passage: Passage) -> tuple[int, int] | None:
        """Where in passage.text the sentence closest to the question lies (None for questions in
        another script, which the English sentence vectors cannot judge)."""
        if is_foreign(question):
            return None
        row = self._rows[passage.passage_id]
        start, end = self.index.sentence_starts[row], self.index.sentence_starts[row + 1]
        sims = self.index.sentence_vectors[start:end] @ self.dense.encode_question(question)[0]
        spans = sentences(passage.text, 0, len(passage.text))
        return spans[int(np.argmax(sims))] if len(spans) == len(sims) and len(spans) else None

    def ask(
        self, question: str, k: int = DEFAULT_K, mode: str = DEFAULT_MODE, doc_ids: set[str] | None = None
    ) -> Answer:
        return ask(self.retriever(mode), question, k, self.covers, doc_ids)
