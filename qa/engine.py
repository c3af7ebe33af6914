"""One loaded index with its embedder and retrievers: what the CLI and the app both answer from."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from qa import multilingual as e5
from qa.answers import Answer, ask, merged
from qa.chunking import sentences
from qa.documents import Passage, QAError
from qa.embedders import Embedder, get_embedder
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
from qa.store import MANIFEST, Index, load, staleness

DEFAULT_K = 5
# A question is "covered" when its best passage's dense score reaches the embedder's abstain_below,
# or when one passage holds at least this share of its terms (a name the model does not know).
# Off-topic questions matched at most 0.40 of their terms; see eval/README.md.
LEXICAL_COVERAGE = 0.6
# Relevance labels: a hit's dense score this far above the embedder's abstention threshold is a
# "strong" or "good" match. For MiniLM (0.50 and 0.38): half of the passages relevant to the 50 own
# eval questions scored 0.52 or more, 95% 0.375 or more; of the irrelevant ones in the same top 10s,
# 25% scored 0.46 or more.
STRONG_ABOVE, GOOD_ABOVE = 0.24, 0.12


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
        self.passage_ids = self._rows.keys()

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

    def covers(self, question: str, allowed: np.ndarray | None = None) -> bool:
        """Whether anything in the index (or its `allowed` rows) is about the question; else the
        answer abstains."""
        if self.multilingual and is_foreign(question):
            best = self.multilingual.search(question, 1, allowed)
            return bool(best) and best[0].score >= e5.ABSTAIN_BELOW
        best = self.dense.search(question, 1, allowed)
        if best and best[0].score >= self.embedder.abstain_below:
            return True
        lexical = self.bm25.search(question, 1, allowed)
        if not lexical:
            return False
        row = self._rows[lexical[0].passage.passage_id]
        return self.index.lexical.matched_share(question, row) >= LEXICAL_COVERAGE

    def relevance(self, question: str, hits) -> list[str]:
        """A readable label per hit: "strong match", "good match" or "weak match", from the hit's
        own dense score (the fused score of a hybrid search is relative to the other hits)."""
        rows = np.array([self._rows[h.passage.passage_id] for h in hits], dtype=np.int64)
        if not len(rows):
            return []
        if self.multilingual and is_foreign(question):
            scores = self.multilingual.scores_of(question, rows)
            strong, good = e5.STRONG_FROM, e5.GOOD_FROM
        else:
            scores = self.dense.scores_of(question, rows)
            strong, good = (self.embedder.abstain_below + above for above in (STRONG_ABOVE, GOOD_ABOVE))
        return [_label(score, strong, good) for score in scores]

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
        self,
        question: str,
        k: int = DEFAULT_K,
        mode: str = DEFAULT_MODE,
        doc_ids: set[str] | None = None,
        speakers: set[str] | None = None,
    ) -> Answer:
        """The answer from the interviews in doc_ids, in the words of these speakers (all when None).
        Filters that match no passage give no hits, never every passage."""
        allowed = self.index.rows_where(doc_ids, speakers)
        return ask(self.retriever(mode), question, k, self.covers, allowed)


class LiveEngine:
    """The engine over the index that is complete at a folder now, for a long-running server.

    `qa build`, `qa add` or the page's own uploads replace the index folder in one rename; the next
    `get()` sees the manifest change and loads the new index, while requests already running finish
    on the engine they started with. Until the new index loads cleanly the old one keeps serving.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stamp = _stamp(engine.index.folder)
        self._refused: tuple[int, int] | None = None  # a manifest that did not load: not retried
        self._lock = threading.Lock()

    def get(self) -> Engine:
        engine = self._engine
        stamp = _stamp(engine.index.folder)
        if stamp is None or stamp in (self._stamp, self._refused):
            return engine
        with self._lock:
            if stamp not in (self._stamp, self._refused):
                try:
                    index = load(engine.index.folder)
                    name = index.manifest["embedder"]["name"]  # rebuilt with another model?
                    embedder = engine.embedder if name == engine.embedder.name else get_embedder(name)
                    fresh = Engine(index, embedder, engine.reranker)
                except QAError:
                    self._refused = stamp  # damaged: keep answering from the old one
                    return self._engine
                self._engine, self._stamp = fresh, stamp
        return self._engine


def _stamp(folder: Path) -> tuple[int, int] | None:
    try:
        found = (folder / MANIFEST).stat()
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns


def _label(score: float, strong: float, good: float) -> str:
    return "strong match" if score >= strong else "good match" if score >= good else "weak match"
