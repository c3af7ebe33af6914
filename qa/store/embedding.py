"""How passages are embedded for an archive, the one way every write does it (a folder's build, a
Milvus generation or interview, the vectors `qa add` makes before the write lock): the embedder's
passage and sentence vectors (qa/embed/vectors.py) and, when the archive has them, e5's; texts
already embedded (a folder's cache, vectors made ahead) are not embedded again."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.documents import Passage
from qa.embed.cache import CachedEncoder, cache_name
from qa.embed.multilingual import E5
from qa.embed.vectors import Vectors, embed_passages
from qa.store.settings import Settings


@dataclass(frozen=True)
class Embedded:
    vectors: Vectors  # passage and sentence vectors, by the archive's embedder
    e5: np.ndarray | None  # e5 passage vectors, when the archive answers other languages
    encoders: tuple[CachedEncoder, ...]  # the embedder's, then e5's: what each encoded and reused

    @property
    def encoded(self) -> int:
        """Texts (passages, sentences, questions) the models encoded, here or ahead."""
        return sum(encoder.encoded for encoder in self.encoders)

    @property
    def reused(self) -> int:
        return sum(encoder.reused for encoder in self.encoders)

    def fresh(self) -> dict[str, dict[str, np.ndarray]]:
        """The vectors the models made here, by cache_name of their model: what a write made ahead
        of its lock hands to the write."""
        return {cache_name(encoder.model): encoder.fresh for encoder in self.encoders}


def embed(
    passages: list[Passage],
    settings: Settings,
    *,
    known=lambda model: {},
    ahead: dict[str, dict[str, np.ndarray]] | None = None,
    progress: bool = False,
) -> Embedded:
    """These passages embedded with the archive's settings. `known(model)`: vectors the archive
    keeps, by text (reused, counted as reused); `ahead`: vectors made for this write before it, by
    cache_name of their model (used, counted as encoded)."""
    ahead = ahead or {}

    def cached(model) -> CachedEncoder:
        return CachedEncoder(model, known(model), ahead.get(cache_name(model)))

    encoder = cached(settings.embedder)
    vectors = embed_passages(encoder, passages, settings.scoring, progress=progress)
    if not settings.multilingual:
        return Embedded(vectors, None, (encoder,))
    multilingual = cached(E5())
    e5 = multilingual.encode([p.text for p in passages], progress=progress)
    return Embedded(vectors, e5, (encoder, multilingual))
