"""What is embedded for each passage, and how the pieces add up to its score.

A passage scores by three cosines with the question, weighted and averaged:
- the passage itself;
- the interviewer's question it answers (people often ask what the interviewer asked);
- its best-matching sentence (a factual question is often answered by one sentence of a long answer).
FAISS holds `passage + question_weight * question` so its inner product is the first two terms;
the sentence term is added to FAISS's candidates from the stored sentence vectors.
The weights were chosen on the interview's own eval set (see eval/README.md).

A sentence's vector is the sentence encoded alone, or (opt-in) pooled from its own tokens as the
model read them within the passage (see PooledEmbedder.encode_spans), so that embedding an index
reads each passage once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from qa.documents import Passage
from qa.embed.cache import CachedEncoder
from qa.embed.embedders import encode_spans_apart
from qa.ingest.chunking import sentences

ALONE, IN_CONTEXT = "alone", "in-context"


@dataclass(frozen=True)
class Scoring:
    question_weight: float = 0.25
    sentence_weight: float = 0.5
    # How sentence vectors are made: each sentence encoded as a text of its own (the default), or
    # pooled from the passage's single reading (`qa build --sentences in-context`): a build about
    # twice as fast, with the ranking changes eval/README.md reports.
    sentences: str = ALONE

    @property
    def total(self) -> float:
        return 1.0 + self.question_weight + self.sentence_weight

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Vectors:
    passages: np.ndarray  # one row per passage: what FAISS searches
    sentences: np.ndarray  # one row per sentence, passage by passage
    sentence_starts: np.ndarray  # passage i owns sentence rows sentence_starts[i]:sentence_starts[i + 1]


def passage_sentences(passage: Passage) -> list[str]:
    return [passage.text[s:e] for s, e in sentences(passage.text, 0, len(passage.text))]


def embed_passages(
    embedder: CachedEncoder, passages: list[Passage], scoring: Scoring, progress: bool = False
) -> Vectors:
    spans = [sentences(p.text, 0, len(p.text)) for p in passages]
    texts = [p.text for p in passages]
    if scoring.sentences == IN_CONTEXT:
        vectors, per_passage = embedder.encode_spans(texts, spans, progress=progress)
    else:
        vectors, per_passage = encode_spans_apart(embedder, texts, spans, progress=progress)
    questions = sorted({p.in_answer_to for p in passages if p.in_answer_to})
    if questions and scoring.question_weight:
        by_question = dict(zip(questions, embedder.encode(questions), strict=True))
        vectors = vectors.copy()  # the encoder's vectors are the cache's: add to a copy
        for row, passage in enumerate(passages):
            if passage.in_answer_to:
                vectors[row] += scoring.question_weight * by_question[passage.in_answer_to]
    starts = np.cumsum([0] + [len(own) for own in spans]).astype(np.int64)
    dims = vectors.shape[1]
    sentence_vectors = np.concatenate(per_passage) if passages else np.zeros((0, dims), np.float32)
    return Vectors(np.ascontiguousarray(vectors, dtype=np.float32), sentence_vectors, starts)


def best_sentence_scores(
    question: np.ndarray, rows: np.ndarray, sentence_vectors: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """For each passage row, the cosine of its best sentence with the question vector."""
    lengths = starts[rows + 1] - starts[rows]
    gathered = np.repeat(starts[rows] - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    sims = sentence_vectors[gathered] @ question
    return np.maximum.reduceat(sims, np.cumsum(lengths) - lengths)
