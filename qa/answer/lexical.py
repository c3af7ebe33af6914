"""BM25 over passages with bm25s: English stopwords removed, words stemmed (Snowball).

Kept as bm25s's own readable arrays (params JSON, vocabulary JSON, CSC matrix as .npy) in the index
folder's `bm25/`, never a pickle.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

BM25_DIR = "bm25"
# Text sharing fewer than this many distinct terms with a question that has as many is weak lexical
# evidence, however rare the one shared word: a hybrid search counts such a BM25 hit in proportion
# (qa/answer/retrievers.py), and so does a quote's score (qa/answer/quotes.py). In a small archive
# every word is rare, and min-max fusion gave a lone "century" full weight in a question about
# bridges.
SHARED_TERMS = 2


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
        self._last: tuple[str, tuple[str, ...]] | None = None

    @classmethod
    def build(cls, texts: list[str], settings: LexicalSettings = LexicalSettings()) -> Lexical:  # noqa: B008
        import bm25s

        model = bm25s.BM25(method=settings.method, k1=settings.k1, b=settings.b)
        tokens = bm25s.tokenize(
            texts, stopwords=settings.stopwords, stemmer=_stemmer(settings.stemmer), show_progress=False
        )
        model.index(tokens, show_progress=False)
        return cls(model, settings)

    @staticmethod
    def tokens(texts: list[str], settings: LexicalSettings = LexicalSettings()) -> list[list[str]]:  # noqa: B008
        """Each text's terms as `build` indexes them (stopwords dropped, stemmed), in order."""
        import bm25s

        return bm25s.tokenize(
            texts,
            stopwords=settings.stopwords,
            stemmer=_stemmer(settings.stemmer),
            return_ids=False,
            show_progress=False,
        )

    def save(self, folder: Path) -> None:
        self.model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, settings: LexicalSettings) -> Lexical:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), show_progress=False), settings)

    def terms(self, question: str) -> list[str]:
        """The question's distinct terms: stopwords dropped, stemmed (the last question's are kept:
        one answer asks for them several times)."""
        import bm25s

        last = self._last  # one read: the app answers several people at once, from threads
        if last is not None and last[0] == question:
            return list(last[1])
        (words,) = bm25s.tokenize(
            [question],
            stopwords=self.settings.stopwords,
            stemmer=self._stemmer,
            return_ids=False,
            show_progress=False,
        )
        terms = tuple(dict.fromkeys(words))
        self._last = (question, terms)
        return list(terms)

    def scores(self, question: str) -> np.ndarray:
        """One BM25 score per passage (all zero when no term of the question is in the index)."""
        known = [w for w in self.terms(question) if w in self.model.vocab_dict]
        if not known:
            return np.zeros(self.model.scores["num_docs"], dtype=np.float32)
        return np.asarray(self.model.get_scores(known), dtype=np.float32)

    def matched_share(self, question: str, row: int) -> float:
        """The share of the question's terms that occur in passage `row` (0 for a question of none)."""
        counts, terms = self.matched_terms(question, np.array([row], dtype=np.int64))
        return float(counts[0]) / terms if terms else 0.0

    def matched_terms(self, question: str, rows: np.ndarray) -> tuple[np.ndarray, int]:
        """(for each passage row, how many of the question's distinct terms it holds; how many terms
        the question has)."""
        terms = self.terms(question)
        matrix = self.model.scores  # CSC: the passages holding token t are indices[indptr[t]:indptr[t+1]]
        counts = np.zeros(len(rows), dtype=np.int64)
        for term in terms:
            token = self.model.vocab_dict.get(term)
            if token is not None:
                postings = matrix["indices"][matrix["indptr"][token] : matrix["indptr"][token + 1]]
                counts += np.isin(rows, postings)
        return counts, len(terms)

    def content_stems(self, texts: list[str]) -> list[frozenset[str]]:
        """Each text's content words, stemmed as the index stems them (each distinct word once);
        question words and auxiliaries ("which", "does") are left out, as they say nothing of what a
        sentence is about."""
        words = [set(_WORD.findall(text.lower())) - _function_words() for text in texts]
        distinct = sorted(set().union(*words))
        stems = dict(zip(distinct, self._stemmer(distinct) if self._stemmer else distinct, strict=True))
        return [frozenset(stems[word] for word in own) for own in words]

    def held(self, question: str, stems: list[frozenset[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(held, weights): which of the question's content words each text holds (a texts x terms
        0/1 matrix, from the texts' `content_stems`) and each term's idf, so that rare words (names,
        numbers) count most."""
        terms = sorted(self.content_stems([question])[0])
        held = np.array([[term in own for term in terms] for own in stems], dtype=np.float32)
        return held.reshape(len(stems), len(terms)), self.idfs(terms)

    def idfs(self, terms: list[str]) -> np.ndarray:
        """Each term's idf (a store that counts its terms elsewhere looks them up in one go)."""
        return np.array([self.idf(t) for t in terms], dtype=np.float32)

    def idf(self, term: str) -> float:
        """Lucene's BM25 idf of a (stemmed) term over the passages; an unknown term counts as the rarest."""
        matrix = self.model.scores
        count = matrix["num_docs"]
        token = self.model.vocab_dict.get(term)
        found = 0 if token is None else int(matrix["indptr"][token + 1] - matrix["indptr"][token])
        return float(lucene_idf(count, found))


def lucene_idf(passages, holding):
    """Lucene's BM25 idf of a term held by `holding` of `passages` (numbers or arrays of them)."""
    return np.log(1 + (passages - holding + 0.5) / (holding + 0.5))


_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's own token pattern


@functools.cache
def _function_words() -> frozenset[str]:
    from bm25s.tokenization import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


def _stemmer(language: str):
    if not language:
        return None
    import Stemmer

    return Stemmer.Stemmer(language).stemWords
