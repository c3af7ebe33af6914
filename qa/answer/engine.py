"""One loaded index with its embedder and retrievers: what the CLI and the app both answer from.

The engine sends a question down its route (qa/answer/routes.py: English, or e5 for another script),
looks for an interviewer's question it repeats (asked.py) and the interviewees it names (named.py),
searches once, judges from that search whether the archive covers the question (coverage.py) and
makes the cards (cards.py)."""

from __future__ import annotations

import threading
from pathlib import Path

from qa.answer.answers import Answer, clean_question, contextual_question
from qa.answer.asked import AskedBefore
from qa.answer.cards import CardMaker
from qa.answer.coverage import english_thresholds
from qa.answer.named import SpeakerNames
from qa.answer.rerank import CrossEncoderReranker
from qa.answer.retrievers import (
    DEFAULT_MODE,
    MODES,
    DenseRetriever,
    LanguageRouter,
    MultilingualRetriever,
    Retriever,
)
from qa.answer.routes import EnglishRoute, MultilingualRoute, Route
from qa.documents import Filter, Hit, QAError
from qa.embed.embedders import Embedder, get_embedder
from qa.embed.multilingual import E5, is_foreign
from qa.store import Snapshot, load, staleness

DEFAULT_K = 5
# Cards are made from this many of the best passages (or 3k), so that k cards can be filled from
# distinct answers and ordered by their quotes (qa/answer/cards.py).
CANDIDATES = 20


class Engine:
    def __init__(
        self, index: Snapshot, embedder: Embedder, reranker: CrossEncoderReranker | None = None
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.reranker = reranker
        self.dense = DenseRetriever(index, embedder)
        self.english = EnglishRoute(index, self.dense, english_thresholds(embedder), reranker)
        self.foreign = (
            MultilingualRoute(index, MultilingualRetriever(index, E5()), reranker)
            if index.multilingual
            else None
        )
        self._routers: dict[str, Retriever] = {}
        self.cards = CardMaker(index)
        self.asked_before = AskedBefore(index)  # the passages answering a question asked again
        self.named_speakers = SpeakerNames(index)  # the interviewees a question names
        self.passage_ids = PassageIds(index)

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
        english = self.english.retriever(mode)
        if self.foreign is None or mode == "bm25":  # bm25 is asked for words, not meaning
            return english
        if mode not in self._routers:
            self._routers[mode] = LanguageRouter(english, self.foreign.retriever(mode))
        return self._routers[mode]

    def _check(self, mode: str) -> None:
        if mode not in MODES:
            raise QAError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")

    def route(self, question: str, mode: str = DEFAULT_MODE) -> Route:
        """The multilingual route for a question in another script when the index has e5 vectors
        (bm25 mode excepted: it is asked for words, not meaning), else the English one."""
        foreign = self.foreign is not None and mode != "bm25" and is_foreign(question)
        return self.foreign if foreign else self.english

    def covers(self, question: str, allowed: Filter | None = None, route: Route | None = None) -> bool:
        """Whether anything in the index (or what `allowed` admits) is about the question; else the
        answer abstains. Each route judges by its own model's threshold (qa/answer/coverage.py)."""
        return (route or self.route(question)).covers(question, allowed)

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
        allowed = Filter.of(doc_ids, speakers)
        # a question an interviewer asked, asked again: its answer, whoever the question names
        asked = self.asked_before(question, allowed) if route is self.english else ()
        named = self.named_speakers(question) if speakers is None and not asked else ()
        theirs = Filter.of(doc_ids, named) if named else None
        # "What did Obama say about Congress?": that person's words first, if they cover it
        if theirs is not None and self.index.matches(theirs) and self.covers(question, theirs, route):
            allowed = theirs
        else:
            named = ()
        hits = route.retriever(mode).search(question, max(CANDIDATES, 3 * k), allowed)
        # judged after the search, from the lists it ranked (the retrievers keep them)
        if not asked and not named and not self.covers(question, allowed, route):
            return Answer(question, True, (), (), route.name)
        if asked:  # the answers to the question as it was asked lead, whatever else scored
            found = {hit.passage.passage_id: hit for hit in hits}
            first = [found.get(p.passage_id) or Hit(p, 0.0, 0) for p in asked]
            ids = {p.passage_id for p in asked}
            hits = sorted(first, key=lambda hit: -hit.score) + [
                h for h in hits if h.passage.passage_id not in ids
            ]
        if not hits:
            return Answer(question, True, (), (), route.name)
        cards = self.cards(question, hits, k, route, asked)
        return Answer(question, False, tuple(hits[:k]), cards, route.name, named)

    def ask_after(
        self,
        message: str,
        previous: str | None,
        k: int = DEFAULT_K,
        mode: str = DEFAULT_MODE,
        doc_ids: set[str] | None = None,
        speakers: set[str] | None = None,
    ) -> Answer:
        """A chat message answered after the question before it. A follow-up ("And what about
        Stanley?", see contextual_question) is asked both with its predecessor and alone, and the
        answer whose first card is closer to the follow-up's own words is kept: a new topic leads,
        while a fragment that says too little alone ("And how long did it take?" abstains) is
        carried by the question before it. Its `question` says which was searched."""
        together = self.ask(contextual_question(message, previous), k, mode, doc_ids, speakers)
        alone_text = clean_question(message)
        if together.question == alone_text or is_foreign(alone_text):
            return together  # not a follow-up; or one the English model cannot judge
        alone = self.ask(alone_text, k, mode, doc_ids, speakers)
        if not alone.cards:
            return together
        if not together.cards:
            return alone
        firsts = [alone.cards[0].hits[0].passage, together.cards[0].hits[0].passage]
        fit = self.dense.scores_of(alone_text, firsts)
        return alone if fit[0] > fit[1] else together


class PassageIds:
    """`passage_id in engine.passage_ids`: whether the archive holds that passage (the store is
    asked; a Milvus archive's reader keeps no list of them)."""

    def __init__(self, index: Snapshot) -> None:
        self._index = index

    def __contains__(self, passage_id) -> bool:
        return isinstance(passage_id, str) and self._index.has_passage(passage_id)


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
