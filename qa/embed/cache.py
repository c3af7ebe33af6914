"""Vectors by text content, so a rebuild embeds only text it has not embedded before.

An index keeps, per model, the vector of every text it embedded (passages, their sentences, the
interviewers' questions) under `cache/`: `MODEL.npy` and `MODEL.keys` (one SHA-1 of the text per
row; a sentence read within its passage is keyed by the passage's SHA-1 and its span,
`SHA1@START-END`). Adding or removing an interview rebuilds FAISS, BM25 and the passage list
together from these vectors plus the few new texts; the cache written back holds only what the new
index uses.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from qa.embed.embedders import Spans, encode_spans_apart, split_rows

CACHE_DIR = "cache"


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


class CachedEncoder:
    """Wraps a model (anything with `encode(texts, progress=)`): known texts come from the cache,
    the rest are encoded in one batch. `used` holds every vector handed out, for saving; `fresh`
    every vector the model made here. `ahead` are vectors made for this same change before it (an
    archive's new texts, embedded before its write lock is taken): used like the cache's, but
    counted as encoded."""

    def __init__(
        self,
        model,
        known: dict[str, np.ndarray] | None = None,
        ahead: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.model = model
        self.known = {**(known or {}), **(ahead or {})}
        self.ahead = set(ahead or ())
        self.used: dict[str, np.ndarray] = {}
        self.fresh: dict[str, np.ndarray] = {}
        self.encoded = 0  # texts the model encoded, here or ahead
        self.reused = 0

    def _count(self, keys: list[str], missing) -> None:
        ahead = self.ahead.intersection(keys).difference(missing)
        self.ahead -= ahead  # a text embedded ahead counts once, as encoded
        self.encoded += len(missing) + len(ahead)
        self.reused += len(keys) - len(missing) - len(ahead)

    def __getattr__(self, name: str):  # name, version, dims, abstain_below, ... of the model
        return getattr(self.model, name)

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in self.known}
        if missing:
            fresh = self.model.encode(list(missing.values()), progress=progress)
            self.known.update(zip(missing, fresh, strict=True))
            self.fresh.update(zip(missing, fresh, strict=True))
        self._count(keys, missing)
        vectors = np.stack([self.known[key] for key in keys]) if keys else np.zeros((0, self.model.dims))
        self.used.update(zip(keys, vectors, strict=True))
        # a copy: `used` holds rows of `vectors`, and a caller that adds to what it gets back (as
        # embed_passages adds the interviewer's question) must not change what the cache will save
        return np.array(vectors, dtype=np.float32, copy=True)

    def encode_spans(
        self, texts: list[str], spans: list[Spans], *, progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector and its spans' vectors (Embedder.encode_spans where the model reads
        spans in context, else every span encoded as a text of its own)."""
        if not hasattr(self.model, "encode_spans"):
            return encode_spans_apart(self, texts, spans, progress=progress)
        keys = [text_key(t) for t in texts]
        span_keys = [span_keys_of(key, own) for key, own in zip(keys, spans, strict=True)]
        missing = {
            key: (text, own)
            for key, text, own, own_keys in zip(keys, texts, spans, span_keys, strict=True)
            if key not in self.known or any(k not in self.known for k in own_keys)
        }
        if missing:
            fresh_texts = [text for text, _ in missing.values()]
            fresh_spans = [own for _, own in missing.values()]
            fresh, fresh_pooled = self.model.encode_spans(fresh_texts, fresh_spans, progress=progress)
            for key, vector, own, pooled in zip(missing, fresh, fresh_spans, fresh_pooled, strict=True):
                made = {key: vector, **dict(zip(span_keys_of(key, own), pooled, strict=True))}
                self.known.update(made)
                self.fresh.update(made)
        self._count(keys, missing)
        flat = [k for own in span_keys for k in own]
        for key in keys + flat:
            self.used[key] = self.known[key]
        vectors = np.stack([self.known[k] for k in keys]) if keys else np.zeros((0, self.model.dims))
        rows = np.stack([self.known[k] for k in flat]) if flat else np.zeros((0, self.model.dims))
        return (
            np.ascontiguousarray(vectors, dtype=np.float32),
            split_rows(np.ascontiguousarray(rows, dtype=np.float32), spans),
        )


def span_keys_of(key: str, spans: Spans) -> list[str]:
    return [f"{key}@{start}-{end}" for start, end in spans]


# 2: caches written by qa 0.1.0 could hold passage vectors with the interviewer's question already
# added (see CachedEncoder.encode); they are not read.
CACHE_FORMAT = 2


def cache_name(model) -> str:
    return f"{model.name}-{model.version}-v{CACHE_FORMAT}".replace("/", "_")


def read_cache(index_dir: Path, model) -> dict[str, np.ndarray]:
    """The vectors an index holds for this model (empty when it has none or they do not fit)."""
    folder = index_dir / CACHE_DIR
    vectors_path, keys_path = folder / f"{cache_name(model)}.npy", folder / f"{cache_name(model)}.keys"
    if not (vectors_path.exists() and keys_path.exists()):
        return {}
    try:
        vectors = np.load(vectors_path)
        keys = keys_path.read_text(encoding="ascii").split()
    except (OSError, ValueError, UnicodeDecodeError):
        return {}  # a cache is only a shortcut: without it, everything is embedded again
    if vectors.shape != (len(keys), model.dims):
        return {}
    return dict(zip(keys, vectors, strict=True))


def write_cache(folder: Path, encoder: CachedEncoder) -> None:
    folder.mkdir(exist_ok=True)
    keys = sorted(encoder.used)
    dims = encoder.model.dims
    vectors = np.stack([encoder.used[k] for k in keys]) if keys else np.zeros((0, dims), np.float32)
    np.save(folder / f"{cache_name(encoder.model)}.npy", vectors.astype(np.float32))
    (folder / f"{cache_name(encoder.model)}.keys").write_text("\n".join(keys) + "\n", encoding="ascii")
