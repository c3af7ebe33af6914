"""Whether an archive covers a question (else the answer abstains), and how well a passage
matches: each model's scale (Thresholds)."""

from __future__ import annotations

from dataclasses import dataclass

from qa.answer.question_types import topic
from qa.documents import Filter
from qa.embed import multilingual
from qa.embed.embedders import Embedder

# A question is "covered" when its best passage's dense score reaches the embedder's abstain_below,
# or when one passage holds at least this share of its terms (a name the model does not know).
# Off-topic questions matched at most 0.40 of their terms; see eval/README.md.
LEXICAL_COVERAGE = 0.6
# Relevance labels: a hit's dense score this far above the embedder's abstention threshold is a
# "strong" or "good" match. For MiniLM (0.50 and 0.38): half of the passages relevant to the 50 own
# eval questions scored 0.52 or more, 95% 0.375 or more; of the irrelevant ones in the same top 10s,
# 25% scored 0.46 or more.
STRONG_ABOVE, GOOD_ABOVE = 0.24, 0.12


@dataclass(frozen=True)
class Thresholds:
    """One model's scale: below `abstain_below` its best passage does not cover the question; a
    card's label is "strong match" from `strong_from`, "good match" from `good_from`."""

    abstain_below: float
    good_from: float
    strong_from: float

    def label(self, score: float) -> str:
        return (
            "strong match"
            if score >= self.strong_from
            else "good match"
            if score >= self.good_from
            else "weak match"
        )


def english_thresholds(embedder: Embedder) -> Thresholds:
    return Thresholds(
        embedder.abstain_below, embedder.abstain_below + GOOD_ABOVE, embedder.abstain_below + STRONG_ABOVE
    )


MULTILINGUAL_THRESHOLDS = Thresholds(
    multilingual.ABSTAIN_BELOW, multilingual.GOOD_FROM, multilingual.STRONG_FROM
)


def covers_english(index, dense, bm25, thresholds: Thresholds, question: str, allowed: Filter | None) -> bool:
    """Whether anything in the index (or what `allowed` admits) is about an English question: its best
    passage by the dense model reaches the model's threshold, or one passage holds most of its
    terms. Judged by what the question is about: "What did Putin say about ..." is close to
    anything Putin said, and "What did the President say" to every press conference."""
    question = topic(question)
    best = dense.best(question, allowed)
    if best is not None and best.score >= thresholds.abstain_below:
        return True
    lexical = bm25.best(question, allowed)
    if lexical is None:
        return False
    held, terms = index.matched_terms(question, [lexical.passage])
    return terms > 0 and float(held[0]) / terms >= LEXICAL_COVERAGE


def covers_foreign(retriever, question: str, allowed: Filter | None) -> bool:
    """The same for a question in another script, by e5's own threshold."""
    best = retriever.best(question, allowed)
    return best is not None and best.score >= MULTILINGUAL_THRESHOLDS.abstain_below
