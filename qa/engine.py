"""One loaded index with its embedder and retriever: what the CLI and the app both answer from."""

from __future__ import annotations

from pathlib import Path

from qa.answers import Answer, ask
from qa.documents import QAError
from qa.embedders import Embedder, get_embedder
from qa.retrievers import DenseRetriever
from qa.store import Index, load, staleness

DEFAULT_K = 5


class Engine:
    def __init__(self, index: Index, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder
        self.retriever = DenseRetriever(index, embedder)

    @classmethod
    def open(cls, index_dir: Path) -> Engine:
        """Load a current index; a missing, damaged or stale one raises QAError saying how to fix it."""
        index = load(index_dir)
        embedder = get_embedder(index.manifest["embedder"]["name"])
        reason = staleness(index, embedder)
        if reason:
            raise QAError(f"index at {index_dir} is stale ({reason}); run `qa build` to rebuild it")
        return cls(index, embedder)

    def ask(self, question: str, k: int = DEFAULT_K) -> Answer:
        return ask(self.retriever, question, k, self.embedder.abstain_below)
