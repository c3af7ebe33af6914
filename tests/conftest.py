"""Shared fixtures: a fake keyword embedder and tiny corpora for fast exact tests, and the real
MiniLM model and bundled-interview index, loaded once per session, for the tests marked `model`."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import numpy as np
import pytest

from qa.embed import embedders
from qa.ingest.corpus import BUNDLED_CORPUS
from qa.store.milvus import Location, connected, location

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


class KeywordEmbedder:
    """One dimension per keyword; a text's vector counts its keywords, then is L2-normalised.

    Scores are therefore plain arithmetic over word counts, so tests can state exact values.
    A text with no keyword gets the last ("other") dimension.
    """

    name = "test-keywords"
    version = "1"
    keywords = ("bread", "border", "india", "pakistan", "summit", "music", "treaty")
    dims = len(keywords) + 1
    abstain_below = 0.2

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts, *, progress=False):
        self.calls += 1
        if callable(progress):  # as the real models tell a watcher, once a batch is done
            progress(len(texts), len(texts))
        vectors = np.zeros((len(texts), self.dims), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower())
            for i, keyword in enumerate(self.keywords):
                vectors[row, i] = words.count(keyword)
            if not vectors[row].any():
                vectors[row, -1] = 1.0
        return embedders.normalise(vectors)


class InContext(KeywordEmbedder):
    """A model that reads sentences within their passage, as MiniLM's encode_spans does: here a
    sentence's vector is its own keywords plus its passage's, so context visibly counts."""

    name = "test-in-context"

    def __init__(self) -> None:
        super().__init__()
        self.read: list[str] = []

    def encode_spans(self, texts, spans, *, progress=False):
        self.read += texts
        vectors = self.encode(texts)
        pooled = [
            embedders.normalise(self.encode([text[s:e] for s, e in own]) + vector)
            for text, own, vector in zip(texts, spans, vectors, strict=True)
        ]
        return vectors, pooled


@pytest.fixture
def keyword_embedder(monkeypatch) -> KeywordEmbedder:
    """The fake embedder, also registered by name so indexes built with it load through the CLI."""
    monkeypatch.setitem(embedders.EMBEDDERS, KeywordEmbedder.name, KeywordEmbedder)
    monkeypatch.setattr(embedders, "DEFAULT_EMBEDDER", KeywordEmbedder.name)
    return KeywordEmbedder()


TINY_TRANSCRIPT = """\
A headline: border talks

Question: What about the border?

Guest Speaker: The border treaty was signed. India and Pakistan were not part of it.

Question: Tell me about the summit.

Guest Speaker: The summit had music. The summit ended late.

"The summit had music."

Interviewed by Test Reporter
"""


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A two-answer transcript: each answer is one passage, so ranks are easy to reason about."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "tiny.txt").write_text(TINY_TRANSCRIPT, encoding="utf-8")
    (folder / "tiny.json").write_text(
        '{"title": "Tiny <b>talk</b>", "outlet": "Test Post", "url": "https://example.org/tiny",'
        ' "published": "2020-01", "interviewee": "Guest Speaker", "interviewer": "Test Reporter"}',
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="session")
def minilm():
    return embedders.MiniLM()


@pytest.fixture(scope="session")
def bundled_index_dir(tmp_path_factory, minilm) -> Path:
    """The bundled interview indexed with the real model, once for the whole session."""
    from qa.store import build

    folder = tmp_path_factory.mktemp("bundled") / "index"
    build(BUNDLED_CORPUS, folder, minilm, multilingual=True)
    return folder


@pytest.fixture(scope="session")
def engine(bundled_index_dir, minilm):
    from qa.answer.engine import Engine
    from qa.store import load

    return Engine(load(bundled_index_dir), minilm)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder, by relative path, with its bytes: to prove nothing changed."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# Milvus (qa/store/milvus.py): each test that takes `where` runs against a fresh Milvus Lite file, and
# against a Milvus server too when QA_TEST_MILVUS_URI names one (QA_TEST_MILVUS_TOKEN: its token).
MILVUS_SERVER = os.environ.get("QA_TEST_MILVUS_URI", "")
STORES = [
    "lite",
    pytest.param("server", marks=pytest.mark.skipif(not MILVUS_SERVER, reason="no QA_TEST_MILVUS_URI")),
]


@pytest.fixture(params=STORES)
def where(request, tmp_path):
    """A fresh archive's location: a Milvus Lite file, or uniquely named collections on the server."""
    if request.param == "lite":
        yield location(str(tmp_path / "archive.db"))
        return
    found = Location(MILVUS_SERVER, os.environ.get("QA_TEST_MILVUS_TOKEN", ""), f"t{uuid.uuid4().hex[:10]}")
    yield found
    with connected(found) as client:
        for name in client.list_collections():
            if name.startswith(f"{found.name}_"):
                client.drop_collection(name)
