"""BM25 over passages with bm25s: English stopwords removed, words stemmed (Snowball).

Kept as bm25s's own readable arrays (params JSON, vocabulary JSON, CSC matrix as .npy) in the index
folder's `bm25/`, never a pickle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

BM25_DIR = "bm25"


@dataclass(frozen=True)
class LexicalSettings:
    stopwords: str = "en"
    stemmer: str = "english"
    method: str = "lucene"
    k1: float = 1.2
    b: float = 0.75

    def to_json(self) -> dict:
        return asdict(self)


class Lexical:
    """A BM25 model over one text per passage, in passage order."""

    def __init__(self, model, settings: LexicalSettings) -> None:
        self.model = model
        self.settings = settings
        self._stemmer = _stemmer(settings.stemmer)

    @classmethod
    def build(cls, texts: list[str], settings: LexicalSettings = LexicalSettings()) -> Lexical:  # noqa: B008
        import bm25s

        model = bm25s.BM25(method=settings.method, k1=settings.k1, b=settings.b)
        tokens = bm25s.tokenize(
            texts, stopwords=settings.stopwords, stemmer=_stemmer(settings.stemmer), show_progress=False
        )
        model.index(tokens, show_progress=False)
        return cls(model, settings)

    def save(self, folder: Path) -> None:
        self.model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, settings: LexicalSettings) -> Lexical:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), show_progress=False), settings)

    def terms(self, question: str) -> list[str]:
        """The question's distinct terms: stopwords dropped, stemmed."""
        import bm25s

        (words,) = bm25s.tokenize(
            [question],
            stopwords=self.settings.stopwords,
            stemmer=self._stemmer,
            return_ids=False,
            show_progress=False,
        )
        return list(dict.fromkeys(words))

    def scores(self, question: str) -> np.ndarray:
        """One BM25 score per passage (all zero when no term of the question is in the index)."""
        known = [w for w in self.terms(question) if w in self.model.vocab_dict]
        if not known:
            return np.zeros(self.model.scores["num_docs"], dtype=np.float32)
        return np.asarray(self.model.get_scores(known), dtype=np.float32)

    def matched_share(self, question: str, row: int) -> float:
        """The share of the question's terms that occur in passage `row` (0 for a question of none)."""
        terms = self.terms(question)
        if not terms:
            return 0.0
        matrix = (
            self.model.scores
        )  # CSC: for token id t, the passages holding it are indices[indptr[t]:indptr[t+1]]
        found = 0
        for term in terms:
            token = self.model.vocab_dict.get(term)
            if (
                token is not None
                and row in matrix["indices"][matrix["indptr"][token] : matrix["indptr"][token + 1]]
            ):
                found += 1
        return found / len(terms)


def _stemmer(language: str):
    if not language:
        return None
    import Stemmer

    return Stemmer.Stemmer(language).stemWords
