"""Which words of an answer to quote: its sentences scored against the question, the best one to three
consecutive sentences as the quote, and a short excerpt of whole sentences around it.

Pure functions over an answer's sentences and their scores, so every choice is plain arithmetic that
tests can state exactly. The engine supplies the scores (qa/answer/engine.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.answer import lexical
from qa.documents import Passage
from qa.ingest.chunking import sentences

# A sentence's score is its own cosine with the question plus this weight times the share of the
# question's terms (idf-weighted) it holds: names and numbers the model reads loosely. Chosen on the
# own 50 questions and checked on the held-out set (eval/README.md).
LEXICAL_WEIGHT = 0.4
# A window holding the kind of thing the question asks for (a time for "when", ...) gains this.
ANSWER_TYPE_WEIGHT = 0.1
QUOTE_MAX_SENTENCES = 3
TIE = 1e-6  # scores closer than this are equal (summed float32 vectors differ in the last bits)
QUOTE_MAX_WORDS = 70
# The excerpt: the quote and whole sentences around it, grown until it has this many words and at
# least CONTEXT_WORDS more than the quote (so a long quote still shows what leads to it), never past
# the most (a quote longer than that is its own excerpt).
EXCERPT_MIN_WORDS, EXCERPT_MAX_WORDS = 50, 120
CONTEXT_WORDS = 20


@dataclass(frozen=True)
class Span:
    """A verbatim stretch of a transcript: `text` is source[start:end]."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer, in source offsets, with the stretch of the answer it lies in (pull
    quotes split an answer into stretches, and a quote or excerpt never crosses one) and the rows of
    its vectors in the index's sentence vectors (two when overlapping passages share it)."""

    start: int
    end: int
    text: str
    stretch: int
    paragraph: int
    vector_rows: tuple[int, ...]
    words: int


def merged(passages) -> tuple[Span, ...]:
    """Passages of one answer as stretches of text in transcript order, overlapping ones joined."""
    stretches: list[Span] = []
    for p in sorted(passages, key=lambda p: p.start):
        last = stretches[-1] if stretches else None
        if last and p.start <= last.end:  # overlapping chunks of one answer: one stretch of text
            if p.end > last.end:
                stretches[-1] = Span(last.start, p.end, last.text + p.text[last.end - p.start :])
        else:
            stretches.append(Span(p.start, p.end, p.text))
    return tuple(stretches)


def answer_sentences(
    passages: list[tuple[int, Passage]], sentence_starts: np.ndarray
) -> tuple[tuple[Span, ...], tuple[Sentence, ...]]:
    """(stretches, sentences) of one answer from its (row, passage) pairs: every sentence once, in
    transcript order, as the passages split it (the same split their sentence vectors were made of)."""
    stretches = merged(p for _, p in passages)
    found: dict[tuple[int, int], list[int]] = {}
    texts: dict[tuple[int, int], str] = {}
    for row, p in passages:
        first = int(sentence_starts[row])
        for i, (s, e) in enumerate(sentences(p.text, 0, len(p.text))):
            key = (p.start + s, p.start + e)
            found.setdefault(key, []).append(first + i)
            texts[key] = p.text[s:e]
    ordered: list[Sentence] = []
    paragraph = 0
    for start, end in sorted(found):
        stretch = next(i for i, span in enumerate(stretches) if span.start <= start and end <= span.end)
        if ordered:
            last = ordered[-1]
            gap = stretches[stretch].text[
                max(last.end - stretches[stretch].start, 0) : start - stretches[stretch].start
            ]
            if last.stretch != stretch or "\n" in gap:
                paragraph += 1
        text = texts[start, end]
        ordered.append(
            Sentence(start, end, text, stretch, paragraph, tuple(found[start, end]), len(text.split()))
        )
    return stretches, tuple(ordered)


def windows(found: tuple[Sentence, ...]) -> list[tuple[int, int]]:
    """[first, last] of every run of one to QUOTE_MAX_SENTENCES consecutive sentences of one
    paragraph with at most QUOTE_MAX_WORDS words (a longer single sentence is a window of its own)."""
    runs = []
    for first in range(len(found)):
        words = 0
        for last in range(first, min(first + QUOTE_MAX_SENTENCES, len(found))):
            if found[last].paragraph != found[first].paragraph:
                break
            words += found[last].words
            if last > first and words > QUOTE_MAX_WORDS:
                break
            runs.append((first, last))
    return runs


def choose_quote(
    runs: list[tuple[int, int]],
    vectors: np.ndarray,
    question: np.ndarray,
    held: np.ndarray,
    weights: np.ndarray,
    typed: np.ndarray,
) -> tuple[int, int, float]:
    """[first, last] sentence indexes of one answer's quote and its score (see choose_quotes)."""
    return choose_quotes([runs], vectors, vectors @ question, held, weights, typed)[0]


def choose_quotes(
    runs: list[list[tuple[int, int]]],
    vectors: np.ndarray,
    toward: np.ndarray,
    held: np.ndarray,
    weights: np.ndarray,
    typed: np.ndarray,
) -> list[tuple[int, int, float]]:
    """For each answer, [first, last] sentence indexes of its quote and the quote's score: of its
    windows (`runs[i]`, see `windows`), the one whose summed sentence vectors lie closest to the
    question, plus LEXICAL_WEIGHT times the idf-weighted share of the question's terms it holds (see
    `_lexical`), plus ANSWER_TYPE_WEIGHT when a sentence of it holds the kind of thing the question
    asks for. On a tie (within TIE) the shorter window wins, then the earlier.

    The answers' sentences lie one after another in the other arguments (all answers are scored in
    one pass): `vectors` one vector per sentence, `toward` each one's dot product with the question,
    `held` which of the question's terms (weighted by `weights`) each holds, `typed` whether each
    holds the asked-for kind (qa/answer/question_types.py)."""
    sizes = [max((b for _, b in own), default=-1) + 1 for own in runs]
    starts = np.cumsum([0, *sizes[:-1]])
    first = np.array([start + a for start, own in zip(starts, runs, strict=True) for a, _ in own])
    length = np.array([b - a + 1 for own in runs for a, b in own])
    answer = np.repeat(np.arange(len(runs)), [len(own) for own in runs])
    n = len(vectors)
    # running sums give each window's sum of question dots and, for |sum of its vectors|^2, the sum
    # of its vectors' pairwise dot products (own, neighbours', and for three, the outer pair's)
    closer = _window_sums(toward, first, length)
    own = _window_sums(np.einsum("ij,ij->i", vectors, vectors), first, length)
    beside = _window_sums(np.einsum("ij,ij->i", vectors[:-1], vectors[1:]), first, length - 1)
    apart = np.zeros(len(first))
    if n > 2:
        outer = np.einsum("ij,ij->i", vectors[:-2], vectors[2:])
        apart = np.where(length == 3, outer[np.minimum(first, n - 3)], 0.0)
    closeness = closer / np.maximum(np.sqrt(np.maximum(own + 2 * beside + 2 * apart, 0.0)), 1e-12)
    holds, kind = held[first], typed[first]
    for step in range(1, QUOTE_MAX_SENTENCES):
        reaches = length > step
        later = np.minimum(first + step, n - 1)
        holds = np.where(reaches[:, None], np.maximum(holds, held[later]), holds)
        kind = np.where(reaches, np.maximum(kind, typed[later]), kind)
    score = closeness + LEXICAL_WEIGHT * _lexical(holds, weights) + ANSWER_TYPE_WEIGHT * kind
    best_of = np.maximum.reduceat(score, np.cumsum([0, *[len(own) for own in runs[:-1]]]))
    near = np.flatnonzero(score >= best_of[answer] - TIE)
    ranked = near[np.lexsort((first[near], length[near], answer[near]))]
    chosen = ranked[np.flatnonzero(np.diff(answer[ranked], prepend=-1))]  # the first of each answer
    return [
        (
            int(first[i] - starts[answer[i]]),
            int(first[i] - starts[answer[i]] + length[i] - 1),
            float(score[i]),
        )
        for i in chosen
    ]


def _window_sums(values: np.ndarray, first: np.ndarray, length: np.ndarray) -> np.ndarray:
    """values[first : first + length].sum() for each window (0 where length is 0)."""
    running = np.concatenate(([0.0], np.cumsum(values)))
    return running[np.minimum(first + length, len(values))] - running[np.minimum(first, len(values))]


def _lexical(holds: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each row of `holds` (which question terms a window holds), the idf-weighted share of the
    question's terms held, counted in proportion when fewer than SHARED_TERMS of a question that has
    as many (one shared word is weak evidence, however rare it is)."""
    if not holds.shape[1]:
        return np.zeros(len(holds))
    share = holds @ weights / (float(weights.sum()) or 1.0)
    return share * np.minimum(1.0, holds.sum(axis=1) / min(lexical.SHARED_TERMS, holds.shape[1]))


def grow_excerpt(found: tuple[Sentence, ...], scores: np.ndarray, first: int, last: int) -> tuple[int, int]:
    """[first, last] sentence indexes of the excerpt: the quote, grown by whole neighbouring
    sentences of its stretch (the better-scoring side first) to EXCERPT_MIN_WORDS and CONTEXT_WORDS
    beyond the quote, never past EXCERPT_MAX_WORDS."""
    words = sum(s.words for s in found[first : last + 1])
    wanted = max(EXCERPT_MIN_WORDS, words + CONTEXT_WORDS)
    while words < wanted:
        options = [i for i in (first - 1, last + 1) if 0 <= i < len(found) and _joins(found, first, i)]
        options = [i for i in options if words + found[i].words <= EXCERPT_MAX_WORDS]
        if not options:
            break
        pick = max(options, key=lambda i: (scores[i], -i))
        first, last = min(first, pick), max(last, pick)
        words += found[pick].words
    return first, last


def _joins(found: tuple[Sentence, ...], anchor: int, i: int) -> bool:
    return found[i].stretch == found[anchor].stretch


def span_of(found: tuple[Sentence, ...], stretches: tuple[Span, ...], first: int, last: int) -> Span:
    """The verbatim text from the first sentence's start to the last one's end."""
    stretch = stretches[found[first].stretch]
    start, end = found[first].start, found[last].end
    return Span(start, end, stretch.text[start - stretch.start : end - stretch.start])
