"""Quote cards from a question's hits: one per answer turn, its quote and excerpt chosen, ordered."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from qa.answer import quotes
from qa.answer.answers import Card, Source, by_answer_turn, timespan
from qa.answer.kept import Kept
from qa.answer.question_types import NAME, answers_kind, asked_words, capitalised, kinds_held, question_type
from qa.documents import Hit, Passage

ASKED_FIRST = 10.0  # more than any card's order: an answer to the question as asked comes first
# Cards are resolved for the first k + CARD_SPARE answers among those passages, then ordered.
CARD_SPARE = 3
LAYOUTS_KEPT = 4096  # answer turns an engine keeps laid out (a few MB)


class CardMaker:
    """An index's cards: each answer turn laid out once (see Layout) and kept."""

    def __init__(self, index) -> None:
        self.index = index
        self._layouts: Kept = Kept(LAYOUTS_KEPT)

    def __call__(
        self, question: str, hits: list[Hit], k: int, route, answers_asked: tuple[Passage, ...] = ()
    ) -> tuple[Card, ...]:
        """One card per answer turn among the hits (the first k + CARD_SPARE turns): each answer's
        quote and excerpt chosen (see qa/answer/quotes.py), labelled by its best passage's own similarity
        to the question; the cards ordered by the route (qa/answer/routes.py) from their answers'
        retrieval shares (see `shares`), quotes and similarities, the best k kept."""
        index = self.index
        groups = by_answer_turn(hits)[: k + CARD_SPARE]
        layouts = [self._layout(group[0].passage.doc_id, group[0].passage.turn_index) for group in groups]
        held, weights = index.lexical.held(question, [stems for layout in layouts for stems in layout.stems])
        kind = question_type(question) if route.typed else None
        asked = asked_words(question) if kind == NAME else frozenset()
        typed = np.array(
            [
                answers_kind(kind, kinds, names, asked)
                for layout in layouts
                for kinds, names in zip(layout.kinds, layout.names, strict=True)
            ],
            dtype=np.float32,
        )
        best = [group[0].passage for group in groups]
        leading = {p.passage_id for p in answers_asked}
        vectors = np.concatenate([layout.vectors for layout in layouts])
        # the route (qa/answer/routes.py) judges each passage and sentence by its own model
        similarity, toward = route.judge(
            question, best, vectors, [len(layout.sentences) for layout in layouts]
        )
        thresholds = route.thresholds
        chosen = quotes.choose_quotes(
            [layout.windows for layout in layouts], vectors, toward, held, weights, typed
        )
        made, offset = [], 0
        share = shares([group[0].score for group in groups])
        for group, layout, own, (first, last, score), retrieved in zip(
            groups, layouts, similarity, chosen, share, strict=True
        ):
            found = layout.sentences
            each = toward[offset : offset + len(found)]
            offset += len(found)
            quote = quotes.span_of(found, layout.stretches, first, last)
            excerpt = quotes.span_of(found, layout.stretches, *quotes.grow_excerpt(found, each, first, last))
            passage = group[0].passage
            document = index.documents.get(passage.doc_id, {})
            card = Card(
                rank=0,
                speaker=passage.speaker,
                in_answer_to=passage.in_answer_to,
                quote=quote,
                excerpt=excerpt,
                context=layout.stretches,
                source=Source.of(passage.doc_id, document),
                label=thresholds.label(float(own)),
                score=0.0,
                timecode=timespan(document, quote.start, quote.end),
                hits=_came_from(group, quote, excerpt),
            )
            order = route.order(retrieved, score, float(own))
            order += ASKED_FIRST * (passage.passage_id in leading)
            made.append((order, card))
        made.sort(key=lambda pair: -pair[0])
        return tuple(
            replace(card, rank=rank, score=round(score, 6))
            for rank, (score, card) in enumerate(made[:k], start=1)
        )

    def _layout(self, doc_id: str, turn_index: int) -> Layout:
        """An answer turn as the quote chooser reads it, worked out once per engine (see Layout)."""
        key = (doc_id, turn_index)
        layout = self._layouts.get(key)
        if layout is None:
            index = self.index
            turn = index.turn(doc_id, turn_index)  # (passage, its sentence vectors), in order
            starts = np.cumsum([0] + [len(vectors) for _, vectors in turn])
            stretches, found = quotes.answer_sentences([(i, p) for i, (p, _) in enumerate(turn)], starts)
            # one vector per sentence: the mean of its rows (a sentence two chunks share has two)
            counts = np.array([len(s.vector_rows) for s in found])
            owned = np.concatenate([vectors for _, vectors in turn])
            flat = owned[np.concatenate([s.vector_rows for s in found])]
            vectors = np.add.reduceat(flat, np.cumsum(counts) - counts) / counts[:, None]
            stems = index.lexical.content_stems([s.text for s in found])
            layout = Layout(
                stretches,
                found,
                quotes.windows(found),
                vectors,
                stems,
                [kinds_held(s.text) for s in found],
                [capitalised(s.text) for s in found],
            )
            self._layouts.keep(key, layout)
        return layout


@dataclass(frozen=True)
class Layout:
    """One answer turn for choosing quotes: its stretches of text, its sentences, the quote windows
    over them, one vector per sentence, and each sentence's content-word stems, the kinds of thing
    it holds and its capitalised words (see qa/answer/question_types.py). It depends on the index alone, so
    an engine keeps the ones it has used (a new index gets a new engine)."""

    stretches: tuple
    sentences: tuple
    windows: list
    vectors: np.ndarray
    stems: list
    kinds: list
    names: list


def shares(scores: list[float]) -> list[float]:
    """Each answer's best retrieval score as a share of the best one's: 1 for the best, 0.8 for one
    scored a fifth lower. Measured from the best score's size, so that it holds for any retriever's
    scale (a cosine, BM25, a fused score, a reranker's logit below zero)."""
    top = max(scores, default=0.0)
    return [1.0 - (top - value) / max(abs(top), 1e-9) for value in scores]


def _came_from(group: list[Hit], quote, excerpt) -> tuple[Hit, ...]:
    """The hits a card shows and votes on: those holding its quote, else those its excerpt overlaps,
    else the answer's best hit (a quote can lie in a passage of the answer that was not retrieved)."""
    for span in (quote, excerpt):
        found = [h for h in group if h.passage.start < span.end and span.start < h.passage.end]
        if found:
            return tuple(found)
    return (group[0],)
