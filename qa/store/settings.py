"""What an archive is built with, and what a write to it reports back: shared by both stores."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from qa.answer.lexical import LexicalSettings
from qa.documents import Document, QAError, text_hash
from qa.embed.vectors import Scoring

ARCHIVE = "archive"  # the corpus label of an index that qa add / qa remove have changed
DEFAULT_SCORING = Scoring()
DEFAULT_LEXICAL = LexicalSettings()


@dataclass(frozen=True)
class Settings:
    """What an archive is built with: its embedder, scoring, multilingual vectors and BM25 settings
    (each store's manifest records them)."""

    embedder: object
    scoring: Scoring = DEFAULT_SCORING
    multilingual: bool = False
    lexical: LexicalSettings = DEFAULT_LEXICAL

    @classmethod
    def of(cls, manifest: dict) -> Settings:
        """The settings a manifest records."""
        from qa.embed.embedders import get_embedder

        return cls(
            get_embedder(manifest["embedder"]["name"]),
            Scoring(**manifest["scoring"]),
            bool(manifest.get("multilingual")),
            LexicalSettings(**manifest.get("lexical", {})),
        )

    @classmethod
    def read(cls, path: Path) -> Settings | None:
        """The settings the manifest (or a note of one) at path records; None when there is none or
        it cannot say. What a writer embeds its new texts with before it takes the write lock."""
        try:
            return cls.of(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, QAError):
            return None


class Written(Protocol):
    """What a write reports back: the archive's interviews and manifest (a folder's new Index, or a
    Milvus archive's summary, read without its passage catalogue)."""

    manifest: dict
    documents: dict[str, dict]

    def close(self) -> None: ...


def in_order(documents) -> list[Document]:
    """Interviews in the order an archive writes them: by doc id."""
    return sorted(documents, key=lambda d: d.doc_id)


def archive_corpus(documents) -> dict:
    """The manifest's corpus record of an archive: its interviews' texts are its corpus."""
    documents = in_order(documents)
    digest = hashlib.sha256("".join(text_hash(d.text) for d in documents).encode()).hexdigest()
    return {"path": ARCHIVE, "hash": digest, "documents": len(documents)}
