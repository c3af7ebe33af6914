"""One loaded index with its embedder and retrievers: what the CLI and the app both answer from."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.answer import quotes
from qa.answer.answers import Answer, Card, Source, by_answer_turn, clean_question, timespan
from qa.answer.question_types import (
    NAME,
    answers_kind,
    asked_words,
    capitalised,
    kinds_held,
    question_type,
    topic,
)
from qa.answer.rerank import CrossEncoderReranker, RerankingRetriever
from qa.answer.retrievers import (
    DEFAULT_MODE,
    MODES,
    BM25Retriever,
    DenseRetriever,
    LanguageRouter,
    MultilingualRetriever,
    Retriever,
    make_retriever,
)
from qa.documents import Hit, QAError
from qa.embed import multilingual
from qa.embed.embedders import Embedder, get_embedder
from qa.embed.multilingual import E5, is_foreign
from qa.store import Index, load, staleness

DEFAULT_K = 5
# A question is "covered" when its best passage's dense score reaches the embedder's abstain_below,
# or when one passage holds at least this share of its terms (a name the model does not know).
# Off-topic questions matched at most 0.40 of their terms; see eval/README.md.
LEXICAL_COVERAGE = 0.6
# Relevance labels: a hit's dense score this far above the embedder's abstention threshold is a
# "strong" or "good" match. For MiniLM (0.50 and 0.38): half of the passages relevant to the 50 own
# eval questions scored 0.52 or more, 95% 0.375 or more; of the irrelevant ones in the same top 10s,
# 25% scored 0.46 or more.
STRONG_ABOVE, GOOD_ABOVE = 0.24, 0.12
# Cards are made from this many of the best passages (or 3k), so that k cards can be filled from
# distinct answers and ordered by their quotes.
CANDIDATES = 20
ASKED_FIRST = 10.0  # more than any card's order: an answer to the question as asked comes first
# Cards are resolved for the first k + CARD_SPARE answers among those passages, then ordered.
CARD_SPARE = 3
LAYOUTS_KEPT = 4096  # answer turns an engine keeps laid out (a few MB)
# A question that repeats one an interviewer asked ("Asked about X, you said..."): at least this share
# of its content words are in that question, and the two share at least ASKED_JACCARD of their
# words together. Its answer is then the first card. Questions of fewer than ASKED_MIN_TERMS content
# words ("Why?") match only when they are the same words as a question asked, or its last
# sentence's, and at least ASKED_SAME_WORDS of them ("Where did you go to school?").
ASKED_CONTAINED, ASKED_JACCARD, ASKED_MIN_TERMS, ASKED_SAME_WORDS = 0.8, 0.5, 4, 4


def _words_of(text: str) -> str:
    return " ".join(re.findall(r"[\w'’]+", text.lower()))


def _asked_words(question: str) -> frozenset[str]:
    """An interviewer's question as words, whole and its last sentence alone."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", question.strip()) if s]
    return frozenset(_words_of(s) for s in (question, *sentences[-1:]))


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


class Engine:
    def __init__(
        self, index: Index, embedder: Embedder, reranker: CrossEncoderReranker | None = None
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.reranker = reranker
        self.dense = DenseRetriever(index, embedder)
        self.bm25 = BM25Retriever(index)
        self._retrievers: dict[str, Retriever] = {}
        self.multilingual = MultilingualRetriever(index, E5()) if index.multilingual is not None else None
        self.thresholds = english_thresholds(embedder)
        self._layouts: dict[tuple[str, int], Layout] = {}
        self._layout_lock = threading.Lock()
        self._names: tuple[dict, dict, int] | None = None
        self._questions: list[tuple[frozenset[str], frozenset[str], np.ndarray]] | None = None
        self.passage_ids = index.rows.keys()

    @classmethod
    def open(cls, index_dir: Path, reranker: Path | None = None) -> Engine:
        """Load a current index; a missing, damaged or stale one raises QAError saying how to fix it."""
        index = load(index_dir)
        embedder = get_embedder(index.manifest["embedder"]["name"])
        reason = staleness(index, embedder)
        if reason:
            raise QAError(f"index at {index_dir} is stale ({reason}); run `qa build` to rebuild it")
        return cls(index, embedder, CrossEncoderReranker(reranker) if reranker else None)

    def retriever(self, mode: str = DEFAULT_MODE) -> Retriever:
        """The retriever for a mode that routes each question by its script (what eval runs use)."""
        self._check(mode)
        if mode not in self._retrievers:
            retriever = self._english(mode)
            if self.multilingual and mode != "bm25":  # bm25 is asked for words, not meaning
                retriever = LanguageRouter(retriever, self._foreign())
            self._retrievers[mode] = retriever
        return self._retrievers[mode]

    def _check(self, mode: str) -> None:
        if mode not in MODES:
            raise QAError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")

    def _english(self, mode: str) -> Retriever:
        key = f"english:{mode}"
        if key not in self._retrievers:
            retriever = make_retriever(mode, self.dense, self.bm25)
            self._retrievers[key] = (
                RerankingRetriever(retriever, self.reranker) if self.reranker else retriever
            )
        return self._retrievers[key]

    def _foreign(self) -> Retriever:
        if "foreign" not in self._retrievers:
            retriever = self.multilingual
            self._retrievers["foreign"] = (
                RerankingRetriever(retriever, self.reranker) if self.reranker else retriever
            )
        return self._retrievers["foreign"]

    def route(self, question: str, mode: str = DEFAULT_MODE) -> str:
        """ "multilingual" for a question in another script when the index has e5 vectors (bm25 mode
        excepted: it is asked for words, not meaning), else "english"."""
        foreign = self.multilingual is not None and mode != "bm25" and is_foreign(question)
        return "multilingual" if foreign else "english"

    def covers(self, question: str, allowed: np.ndarray | None = None, route: str | None = None) -> bool:
        """Whether anything in the index (or its `allowed` rows) is about the question; else the
        answer abstains. Each route judges by its own model's threshold."""
        route = route or self.route(question)
        if route == "multilingual":
            best = self.multilingual.search(question, 1, allowed)
            return bool(best) and best[0].score >= MULTILINGUAL_THRESHOLDS.abstain_below
        # judged by what the question is about: "What did Putin say about ..." is close to anything
        # Putin said, and "What did the President say" to every press conference
        question = topic(question)
        best = self.dense.search(question, 1, allowed)
        if best and best[0].score >= self.thresholds.abstain_below:
            return True
        lexical = self.bm25.search(question, 1, allowed)
        if not lexical:
            return False
        row = self.index.rows[lexical[0].passage.passage_id]
        return self.index.lexical.matched_share(question, row) >= LEXICAL_COVERAGE

    def ask(
        self,
        question: str,
        k: int = DEFAULT_K,
        mode: str = DEFAULT_MODE,
        doc_ids: set[str] | None = None,
        speakers: set[str] | None = None,
    ) -> Answer:
        """The finished answer from the interviews in doc_ids, in the words of these speakers (all
        when None): the top k passages and up to k cards, or an abstention when nothing there is
        about the question. Filters that match no passage give no hits, never every passage."""
        question = clean_question(question)
        if not isinstance(k, int) or isinstance(k, bool):
            raise QAError(f"k must be a whole number, not {k!r}")
        if k < 1:
            raise QAError(f"k must be at least 1, not {k}")
        self._check(mode)
        route = self.route(question, mode)
        allowed = self.index.rows_where(doc_ids, speakers)
        # a question an interviewer asked, asked again: its answer, whoever the question names
        asked = self.asked_before(question, allowed) if route == "english" else ()
        named = self.named_speakers(question) if speakers is None and not asked else ()
        theirs = self.index.rows_where(doc_ids, set(named)) if named else None
        # "What did Obama say about Congress?": that person's words first, if they cover it
        if theirs is not None and len(theirs) and self.covers(question, theirs, route):
            allowed = theirs
        else:
            named = ()
        if not asked and not named and not self.covers(question, allowed, route):
            return Answer(question, True, (), (), route)
        retriever = self._foreign() if route == "multilingual" else self._english(mode)
        hits = retriever.search(question, max(CANDIDATES, 3 * k), allowed)
        if asked:  # the answers to the question as it was asked lead, whatever else scored
            found = {hit.passage.passage_id: hit for hit in hits}
            theirs = [self.index.passages[r] for r in asked]
            first = [found.get(p.passage_id) or Hit(p, 0.0, 0) for p in theirs]
            ids = {p.passage_id for p in theirs}
            hits = sorted(first, key=lambda hit: -hit.score) + [
                h for h in hits if h.passage.passage_id not in ids
            ]
        if not hits:
            return Answer(question, True, (), (), route)
        cards = self._cards(question, hits, k, route, asked)
        return Answer(question, False, tuple(hits[:k]), cards, route, named)

    def asked_before(self, question: str, allowed: np.ndarray | None = None) -> tuple[int, ...]:
        """The rows (among `allowed`) that answer an interviewer's question this one repeats, nearly
        word for word (see ASKED_CONTAINED); () for any other question."""
        terms = self.index.lexical.content_stems([question])[0]
        words = _words_of(question)
        if len(terms) < ASKED_MIN_TERMS and len(words.split()) < ASKED_SAME_WORDS:
            return ()
        if self._questions is None:
            by_text: dict[str, list[int]] = {}
            for row, passage in enumerate(self.index.passages):
                if passage.in_answer_to:
                    by_text.setdefault(passage.in_answer_to, []).append(row)
            stems = self.index.lexical.content_stems(list(by_text))
            self._questions = [
                (own, _asked_words(text), np.array(rows))
                for own, text, rows in zip(stems, by_text, by_text.values(), strict=True)
            ]
        if len(terms) < ASKED_MIN_TERMS:  # a short question matches only as the same words
            matched = [rows for _, same, rows in self._questions if words in same]
        else:
            matched = [
                rows
                for own, _, rows in self._questions
                if len(terms & own) >= ASKED_CONTAINED * len(terms)
                and len(terms & own) >= ASKED_JACCARD * len(terms | own)
            ]
        rows = np.concatenate(matched) if matched else np.zeros(0, np.int64)
        if allowed is not None:
            rows = rows[np.isin(rows, allowed)]
        return tuple(int(r) for r in rows)

    def named_speakers(self, question: str) -> tuple[str, ...]:
        """The interviewees a question names, by full name or by surname (a capitalised word of
        three letters or more), in the index's spelling and order; () when it names none of them."""
        full_names, surnames, longest = self._speaker_names()
        words = re.findall(r"[\w'’-]+", question)
        folded = [word.lower() for word in words]
        found: set[tuple[int, str]] = set()
        for size in range(2, min(longest, len(folded)) + 1):
            for start in range(len(folded) - size + 1):
                found.update(full_names.get(" ".join(folded[start : start + size]), ()))
        for word in words:
            found.update(surnames.get(word, ()))
        named = tuple(speaker for _, speaker in sorted(found))
        return named if len(named) < len(self.index.speaker_rows) else ()

    def _speaker_names(self) -> tuple[dict, dict, int]:
        """(full name in lower case -> speakers, surname as a question may write it -> speakers, the
        most words in a full name), each speaker with its place in the index's order; made once per
        engine, so that a question costs a look-up per word, not a pass over every speaker."""
        if self._names is None:
            full_names: dict[str, list[tuple[int, str]]] = {}
            surnames: dict[str, list[tuple[int, str]]] = {}
            for place, speaker in enumerate(self.index.speaker_rows):
                parts = speaker.split()
                if len(parts) > 1:
                    full_names.setdefault(" ".join(parts).lower(), []).append((place, speaker))
                if parts and len(parts[-1]) >= 3:
                    for written in {parts[-1], parts[-1].capitalize()}:
                        surnames.setdefault(written, []).append((place, speaker))
            longest = max((len(name.split()) for name in full_names), default=0)
            self._names = full_names, surnames, longest
        return self._names

    def _cards(
        self, question: str, hits: list[Hit], k: int, route: str, answers_asked: tuple[int, ...] = ()
    ) -> tuple[Card, ...]:
        """One card per answer turn among the hits (the first k + CARD_SPARE turns): each answer's
        quote and excerpt chosen (see qa/answer/quotes.py), labelled by its best passage's own similarity
        to the question; the cards ordered by their quote's score plus PASSAGE_WEIGHT times that
        similarity (a question in another script: by e5's similarity alone), the best k kept."""
        index = self.index
        groups = by_answer_turn(hits)[: k + CARD_SPARE]
        layouts = [self._layout(group[0].passage.doc_id, group[0].passage.turn_index) for group in groups]
        held, weights = index.lexical.held(question, [stems for layout in layouts for stems in layout.stems])
        kind = question_type(question) if route == "english" else None
        asked = asked_words(question) if kind == NAME else frozenset()
        typed = np.array(
            [
                answers_kind(kind, kinds, names, asked)
                for layout in layouts
                for kinds, names in zip(layout.kinds, layout.names, strict=True)
            ],
            dtype=np.float32,
        )
        rows = np.array([self.index.rows[group[0].passage.passage_id] for group in groups], dtype=np.int64)
        vectors = np.concatenate([layout.vectors for layout in layouts])
        if route == "multilingual":
            similarity, thresholds = self.multilingual.scores_of(question, rows), MULTILINGUAL_THRESHOLDS
            # English sentence vectors cannot judge a question in another script: the sentences
            # closest to what each passage as a whole says (which e5 judged) stand for it
            meanings = index.faiss_index.reconstruct_batch(rows)
            sizes = [len(layout.sentences) for layout in layouts]
            toward = np.einsum("ij,ij->i", vectors, np.repeat(meanings, sizes, axis=0))
        else:
            similarity, thresholds = self.dense.scores_of(question, rows), self.thresholds
            toward = vectors @ self.dense.encode_question(question)[0]
        chosen = quotes.choose_quotes(
            [layout.windows for layout in layouts], vectors, toward, held, weights, typed
        )
        made, offset = [], 0
        for group, layout, own, (first, last, score) in zip(groups, layouts, similarity, chosen, strict=True):
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
            # a question in another script is judged by e5 alone: its passages' order stands
            order = float(own) if route == "multilingual" else score + quotes.PASSAGE_WEIGHT * float(own)
            order += ASKED_FIRST * (int(rows[len(made)]) in answers_asked)
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
            rows = [int(r) for r in index.doc_rows[doc_id] if index.passages[r].turn_index == turn_index]
            stretches, found = quotes.answer_sentences(
                [(r, index.passages[r]) for r in rows], index.sentence_starts
            )
            # one vector per sentence: the mean of its rows (a sentence two chunks share has two)
            counts = np.array([len(s.vector_rows) for s in found])
            flat = np.asarray(
                index.sentence_vectors[np.concatenate([s.vector_rows for s in found])], dtype=np.float32
            )
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
            with self._layout_lock:  # the app answers several people at once, from threads
                if len(self._layouts) >= LAYOUTS_KEPT:
                    self._layouts.pop(next(iter(self._layouts)))  # the oldest first
                self._layouts[key] = layout
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


class LiveEngine:
    """The engine over the index that is complete at a folder now, for a long-running server.

    `qa build`, `qa add` or the page's own uploads replace the index folder in one rename; the next
    `get()` sees the manifest change and loads the new index, while requests already running finish
    on the engine they started with. Until the new index loads cleanly the old one keeps serving.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stamp = engine.index.stamp()
        self._refused = None  # a version that did not load: not retried
        self._lock = threading.Lock()

    def get(self) -> Engine:
        engine = self._engine
        stamp = engine.index.stamp()
        if stamp is None or stamp in (self._stamp, self._refused):
            return engine
        with self._lock:
            if stamp not in (self._stamp, self._refused):
                try:
                    index = engine.index.reopen()
                    name = index.manifest["embedder"]["name"]  # rebuilt with another model?
                    embedder = engine.embedder if name == engine.embedder.name else get_embedder(name)
                    fresh = Engine(index, embedder, engine.reranker)
                except QAError:
                    self._refused = stamp  # damaged: keep answering from the old one
                    return self._engine
                self._engine, self._stamp = fresh, stamp
        return self._engine


def _came_from(group: list[Hit], quote, excerpt) -> tuple[Hit, ...]:
    """The hits a card shows and votes on: those holding its quote, else those its excerpt overlaps,
    else the answer's best hit (a quote can lie in a passage of the answer that was not retrieved)."""
    for span in (quote, excerpt):
        found = [h for h in group if h.passage.start < span.end and span.start < h.passage.end]
        if found:
            return tuple(found)
    return (group[0],)
