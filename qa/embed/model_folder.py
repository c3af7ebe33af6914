"""A sentence-transformers model folder run as it was trained: its transformer (qa/embed/bert.py for a
BERT, transformers for the rest), mean pooling over the tokens, in batches of similar length."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from qa.documents import QAError


class MeanPoolingModel:
    """A sentence-transformers model folder (a transformer, mean pooling, normalisation) run on
    tokenizers and torch directly: a BERT by qa.embed.bert, any other transformer by transformers. Its
    vectors are sentence-transformers' own (tests/test_model.py compares the two), but a start skips
    importing sentence-transformers (about 2.5 s here: scikit-learn, pandas, its trainers) and, for
    a BERT, transformers' model code (about 3.5 s)."""

    def __init__(self, folder: Path, device: str = "cpu") -> None:
        max_tokens = _mean_pooling_layout(folder)
        from tokenizers import Tokenizer

        self.device = device
        self.encoder = _encoder(folder, device)
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        padding = tokenizer.padding or {}
        tokenizer.enable_truncation(max_tokens)
        # pad each batch to its longest text (the file's own setting pads every text to 128)
        tokenizer.enable_padding(pad_id=padding.get("pad_id", 0), pad_token=padding.get("pad_token", "[PAD]"))
        self.tokenizer = tokenizer

    def batches(self, texts: list[str], batch_size: int, progress: bool = False, bfloat16: bool = False):
        import torch

        for rows, ids, mask, _, offsets in token_batches(self.tokenizer, texts, batch_size, progress):
            with torch.inference_mode(), autocast(self.device, bfloat16):
                hidden = self.encoder(
                    torch.from_numpy(ids).to(self.device), torch.from_numpy(mask).to(self.device)
                )
            yield rows, hidden.float().cpu().numpy(), mask.astype(bool), offsets


def autocast(device: str, bfloat16: bool):
    """bfloat16 matrix products on a CPU that has them in hardware; float32 otherwise. A GPU model
    already holds float16 weights (see qa.embed.hardware.device_dtype) and needs no autocast."""
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16 and device == "cpu")


def _encoder(folder: Path, device: str):
    """The folder's transformer as a function (token ids, mask) -> token embeddings."""
    from qa.embed.hardware import device_dtype

    config = json.loads((folder / "config.json").read_text())
    if config.get("model_type") == "bert" and (folder / "model.safetensors").is_file():
        from qa.embed.bert import Bert

        return Bert.from_folder(folder).to(device, device_dtype(device))
    # Never reach for a hub: the weights are on disk, and many users are air-gapped.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # "Loading weights" on every start is noise
    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    model.to(device, device_dtype(device))
    return lambda ids, mask: model(input_ids=ids, attention_mask=mask).last_hidden_state


def token_batches(tokenizer, texts: list[str], batch_size: int, progress=False):
    """Texts tokenised in batches of similar length (less padding): per batch, the texts' rows and
    their token ids, attention mask, type ids and character offsets, as int64 arrays. `progress`:
    True for a progress bar, or a function told (texts done, texts in all) after each batch."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    tell = progress if callable(progress) else None
    starts = range(0, len(order), batch_size)
    if progress is True:  # a bar costs a tenth of a millisecond: not for one question
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="Batches")
    for start in starts:
        rows = order[start : start + batch_size]
        encoded = tokenizer.encode_batch([texts[i] for i in rows])
        fields = ("ids", "attention_mask", "type_ids", "offsets")
        yield rows, *(np.array([getattr(e, name) for e in encoded], dtype=np.int64) for name in fields)
        if tell:
            tell(min(start + batch_size, len(order)), len(order))


def _mean_pooling_layout(folder: Path) -> int:
    """The model's token limit, once the folder is checked to hold a transformer read out by mean
    pooling (and normalisation), the layout MeanPoolingModel computes."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text())
        config = json.loads((folder / "sentence_bert_config.json").read_text())
    except (OSError, ValueError, KeyError, IndexError) as error:
        raise QAError(f"{folder}: not a sentence-transformers model folder ({error})") from None
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
    if kinds[:2] != ["Transformer", "Pooling"] or modes != ["pooling_mode_mean_tokens"]:
        raise QAError(f"{folder}: only a transformer with mean pooling is supported, not {kinds} {modes}")
    return int(config.get("max_seq_length", 512))
