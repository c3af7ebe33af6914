"""Writing an index folder (the format is in qa/store/folder.py): a corpus read into interviews and
passages, embedded (qa/store/embedding.py), written to a staging folder and swapped into place, so
that the last good index stands until the new one is whole."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from qa import __version__
from qa.answer.lexical import BM25_DIR, Lexical, LexicalSettings
from qa.documents import Document, Passage, QAError
from qa.embed.cache import CACHE_DIR, read_cache, write_cache
from qa.embed.embedders import Embedder
from qa.embed.vectors import Scoring
from qa.ingest import recordings
from qa.ingest.chunking import MAX_WORDS, passages_for
from qa.ingest.corpus import corpus_hash, load_corpus
from qa.ingest.parsing import parse_turns
from qa.locks import swapping
from qa.store.embedding import embed
from qa.store.folder import (
    FEEDBACK_FILE,
    FORMAT,
    MANIFEST,
    MULTILINGUAL_FILE,
    Index,
    corpus_label,
    file_record,
    fsync,
    load,
    model_record,
    previous_dir,
    vector_index,
    verified,
)
from qa.store.settings import DEFAULT_LEXICAL, DEFAULT_SCORING, Settings


def corpus_passages(documents: list[Document], max_words: int = MAX_WORDS) -> list[Passage]:
    return [p for doc in documents for p in passages_for(doc, parse_turns(doc), max_words)]


def _document_record(document: Document) -> dict:
    return {f.name: getattr(document, f.name) for f in fields(document) if f.name != "text"}


def corpus_record(corpus_dir: Path, documents: list[Document]) -> dict:
    return {"path": corpus_label(corpus_dir), "hash": corpus_hash(corpus_dir), "documents": len(documents)}


def with_recordings(documents: list[Document]) -> tuple[list[Document], dict[str, Path]]:
    """A corpus's interviews, each naming the recording beside its transcript if there is one,
    and those recordings by doc id (QAError for one that is not a recording)."""
    named, media = [], {}
    for document in documents:
        source = recordings.beside(Path(document.path))
        if source is not None:
            recordings.check(source)
            media[document.doc_id] = source
            document = replace(document, recording=recordings.name_for(document.doc_id, source))
        named.append(document)
    return named, media


def _build(corpus_dir, index_dir, embedder, scoring, multilingual, progress) -> Index:
    documents, media = with_recordings(load_corpus(corpus_dir))
    passages = corpus_passages(documents)
    if not passages:
        raise QAError(f"{corpus_dir}: no answer passages found in the transcripts")
    corpus = corpus_record(corpus_dir, documents)
    return build_from(
        documents,
        passages,
        index_dir,
        embedder,
        corpus=corpus,
        scoring=scoring,
        multilingual=multilingual,
        progress=progress,
        media=media,
    )


def build_from(
    documents: list[Document],
    passages: list[Passage],
    index_dir: Path,
    embedder: Embedder,
    *,
    corpus: dict,
    scoring: Scoring = DEFAULT_SCORING,
    lexical: LexicalSettings = DEFAULT_LEXICAL,
    multilingual: bool = False,
    progress: bool = False,
    media: dict[str, Path] | None = None,
    ahead: dict[str, dict[str, np.ndarray]] | None = None,
) -> Index:
    """Embed and write an index of these passages; `corpus` says where they came from. Texts the
    index already at index_dir embedded (checked against its manifest) are not embedded again, nor
    those in `ahead` (vectors made for this build before it, by qa.embed.cache.cache_name of their model).
    A document naming a recording brings it in `media` (by doc id), or the index at index_dir
    has it already."""
    import faiss

    sources = _recording_sources(documents, index_dir, media or {})
    reusable = verified(index_dir)
    embedded = embed(
        passages,
        Settings(embedder, scoring, multilingual, lexical),
        known=lambda model: read_cache(index_dir, model) if reusable else {},
        ahead=ahead,
        progress=progress,
    )
    vectors = embedded.vectors
    bm25 = Lexical.build([p.text for p in passages], lexical)
    e5_index = None if embedded.e5 is None else vector_index(embedded.e5)
    faiss_index = vector_index(vectors.passages)
    manifest = {
        "format": FORMAT,
        "qa_version": __version__,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embedder": model_record(embedder),
        "scoring": scoring.to_json(),
        "lexical": lexical.to_json(),
        "multilingual": model_record(embedded.encoders[1]) if multilingual else None,
        "max_words": MAX_WORDS,
        "passage_count": len(passages),
        "corpus": corpus,
        "embedded": {  # texts (passages, sentences, questions) the models encoded, and reused
            "encoded": embedded.encoded,
            "reused": embedded.reused,
        },
    }
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(index_dir)
    staging = index_dir.parent / f".{index_dir.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        faiss.write_index(faiss_index, str(staging / "index.faiss"))
        if e5_index is not None:
            faiss.write_index(e5_index, str(staging / MULTILINGUAL_FILE))
        _write_lines(staging / "passages.jsonl", [p.to_json() for p in passages])
        _write_lines(staging / "documents.jsonl", [_document_record(d) for d in documents])
        _write_lines(staging / "sources.jsonl", [{"doc_id": d.doc_id, "text": d.text} for d in documents])
        for encoder in embedded.encoders:
            write_cache(staging / CACHE_DIR, encoder)
        np.save(staging / "sentences.npy", vectors.sentences)
        np.save(staging / "sentence_starts.npy", vectors.sentence_starts)
        bm25.save(staging / BM25_DIR)
        files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        manifest["files"] = {name: file_record(staging / name) for name in files}
        for name, (source, own) in sources.items():
            recordings.place(source, staging / recordings.FOLDER, name, own)
            fsync(staging / recordings.FOLDER / name)
        kept = {name: {"bytes": (staging / recordings.FOLDER / name).stat().st_size} for name in sources}
        manifest["recordings"] = kept
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for name in (*files, MANIFEST):
            fsync(staging / name)
        fsync(staging / BM25_DIR)
        fsync(staging / CACHE_DIR)
        if sources:
            fsync(staging / recordings.FOLDER)
        fsync(staging)
        _swap_into_place(staging, index_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return load(index_dir)


def _recording_sources(documents: list[Document], index_dir: Path, media: dict[str, Path]) -> dict:
    """Each recording the new index keeps, by its name there: (the one that came in, False), else
    (the current index's own copy, True); QAError, before anything is embedded, when that is gone."""
    sources = {}
    for document in documents:
        if document.recording:
            own = document.doc_id not in media
            folder = index_dir / recordings.FOLDER
            source = recordings.stored(folder, document.recording) if own else media[document.doc_id]
            if source is None:
                raise QAError(
                    f"{index_dir}: the recording {document.recording} of {document.doc_id} is missing;"
                    " add the interview again with its recording (--replace)"
                )
            sources[document.recording] = (source, own)
    return sources


def _remove_abandoned_builds(index_dir: Path) -> None:
    """Staging folders left by builds that were killed (their process is gone)."""
    for staging in index_dir.parent.glob(f".{index_dir.name}.building-*"):
        try:
            os.kill(int(staging.name.rsplit("-", 1)[1]), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(staging, ignore_errors=True)
        except PermissionError:
            pass  # another user's live process


def _write_lines(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _swap_into_place(staging: Path, index_dir: Path) -> None:
    """Make staging the index: the old index stays whole until the new one is in place, and no
    reader loads or vote lands meanwhile (qa/locks.py).

    A crash between the two renames leaves the old index under `.NAME.previous`, which `recover`
    (run before anything opens the index) puts back.
    """
    previous = previous_dir(index_dir)
    with swapping(index_dir):
        shutil.rmtree(previous, ignore_errors=True)
        if (index_dir / FEEDBACK_FILE).exists():  # people's votes outlive the index they were cast on
            shutil.copy2(index_dir / FEEDBACK_FILE, staging / FEEDBACK_FILE)
            fsync(staging / FEEDBACK_FILE)
        if index_dir.exists():
            os.rename(index_dir, previous)
        os.rename(staging, index_dir)
        fsync(index_dir.parent)
    shutil.rmtree(previous, ignore_errors=True)
