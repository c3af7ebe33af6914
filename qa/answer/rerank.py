"""An optional reranking stage: a cross-encoder from a local folder rescores the top passages.

No reranker ships its weights in any PyPI package, so none is bundled: users who have one on disk
pass `--reranker PATH`. Off by default.
"""

from __future__ import annotations

import os
from pathlib import Path

from qa.documents import Filter, Hit, QAError

RERANK_DEPTH = 20  # passages the cross-encoder rescores; it costs one forward pass each


class CrossEncoderReranker:
    def __init__(self, path: Path) -> None:
        if not (path / "config.json").is_file():
            raise QAError(f"{path}: not a cross-encoder folder (no config.json)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        try:
            self.model = CrossEncoder(str(path), device="cpu")
        except (OSError, ValueError) as error:
            raise QAError(f"{path}: cannot load the cross-encoder ({error})") from None
        self.path = path

    def scores(self, question: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        return [
            float(s)
            for s in self.model.predict([(question, text) for text in texts], show_progress_bar=False)
        ]


class RerankingRetriever:
    """The base retriever's top RERANK_DEPTH passages, reordered by the cross-encoder's scores."""

    def __init__(self, base, reranker: CrossEncoderReranker, depth: int = RERANK_DEPTH) -> None:
        self.base, self.reranker, self.depth = base, reranker, depth

    def search(self, question: str, k: int, allowed: Filter | None = None) -> list[Hit]:
        hits = self.base.search(question, max(self.depth, k), allowed)
        scores = self.reranker.scores(question, [h.passage.text for h in hits])
        order = sorted(range(len(hits)), key=lambda i: -scores[i])[:k]
        return [Hit(hits[i].passage, scores[i], rank) for rank, i in enumerate(order, start=1)]
