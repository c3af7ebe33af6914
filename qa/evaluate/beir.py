"""Any BEIR-layout collection (corpus.jsonl, queries.jsonl, qrels.tsv) as a throwaway index and a run.

Each corpus record is one document, chunked like an answer; a document's score for a query is its
best passage's, so runs and qrels are both at document level, as BEIR scores them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qa.documents import INTERVIEWEE, Document, Filter, Passage, QAError, Turn
from qa.embed.embedders import Embedder
from qa.evaluate.evaluation import Qrels, Run
from qa.ingest.chunking import passages_for
from qa.ingest.parsing import paragraphs
from qa.store import Settings, Snapshot, at, staleness

if TYPE_CHECKING:
    from qa.answer.engine import Engine


@dataclass(frozen=True)
class Collection:
    folder: Path
    documents: list[Document]
    fields: dict[str, dict]  # doc id -> the record's other fields (speaker, meeting_id, ...)
    queries: dict[str, dict]  # query id -> record
    qrels: Qrels


def _records(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as error:
        raise QAError(f"{path}: cannot read BEIR records ({error})") from None


def load_collection(folder: Path) -> Collection:
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (folder / name).is_file():
            raise QAError(f"{folder}: not a BEIR folder (missing {name})")
    documents, fields = [], {}
    for record in _records(folder / "corpus.jsonl"):
        doc_id, title, text = str(record["id"]), record.get("title") or "", record.get("text") or ""
        body = f"{title}\n\n{text}" if title and text else title or text
        if body.strip():
            documents.append(Document(doc_id=doc_id, path=str(folder), text=body, title=title))
            fields[doc_id] = {k: v for k, v in record.items() if k not in ("id", "title", "text")}
    queries = {str(r["id"]): r for r in _records(folder / "queries.jsonl")}
    qrels: Qrels = {}
    for line in (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            qid, doc_id, relevance = line.split("\t")
            if int(relevance) > 0:
                qrels.setdefault(qid, {})[doc_id] = int(relevance)
    return Collection(folder, documents, fields, queries, qrels)


def select_queries(collection: Collection, where: str | None) -> Collection:
    """Only the queries whose record has FIELD=VALUE (e.g. kind=journalist_question)."""
    if not where:
        return collection
    field, _, value = where.partition("=")
    if not value:
        raise QAError(f"--where needs FIELD=VALUE, not {where!r}")
    qrels = {
        q: r for q, r in collection.qrels.items() if str(collection.queries.get(q, {}).get(field)) == value
    }
    if not qrels:
        raise QAError(f"no query of {collection.folder} has {field}={value}")
    return replace(collection, qrels=qrels)


def collection_index(
    collection: Collection, index_dir: Path, embedder: Embedder, progress: bool = False
) -> Snapshot:
    """The collection's index at index_dir, built unless a current one is already there."""
    corpus_file = collection.folder / "corpus.jsonl"
    corpus = {
        "path": f"beir:{collection.folder.resolve()}",
        "hash": hashlib.sha256(corpus_file.read_bytes()).hexdigest(),
        "documents": len(collection.documents),
    }
    store = at(index_dir)
    with contextlib.suppress(QAError):  # none there, or damaged: build it
        index = store.open()
        if index.manifest["corpus"] == corpus and staleness(index, embedder) is None:
            return index
        index.close()
    passages = [p for document in collection.documents for p in document_passages(document)]
    return store.write(collection.documents, passages, Settings(embedder), corpus, progress)


def document_passages(document: Document) -> list[Passage]:
    """The whole document as one answer turn, chunked on sentences."""
    turn = Turn(document.doc_id, 0, "", INTERVIEWEE, tuple(paragraphs(document.text)))
    return passages_for(document, [turn])


def collection_answers(collection: Collection) -> dict[str, set[tuple[str, int]]]:
    """The answers each query asks for: each relevant document is one answer turn (turn 0)."""
    return {qid: {(doc_id, 0) for doc_id in relevant} for qid, relevant in collection.qrels.items()}


def collection_scope(collection: Collection, scope: str | None):
    """A function of a query id giving the documents it may see (those sharing its `scope` field),
    or None when every query sees the whole collection."""
    if not scope:
        return None
    sharing: dict = {}  # each value of the field -> the documents that have it, found once
    for doc_id, fields in collection.fields.items():
        sharing.setdefault(fields.get(scope), set()).add(doc_id)
    return lambda qid: frozenset(sharing.get(collection.queries[qid].get(scope), ()))


def collection_run(
    engine: Engine,
    mode: str,
    collection: Collection,
    depth: int = 100,
    k: int = 10,
    scope: str | None = None,
) -> Run:
    """Document-level run: each query's top k documents by their best passage among `depth` hits.

    With `scope` (a field such as qmsum's meeting_id), a query only sees documents sharing its value.
    """
    retriever = engine.retriever(mode)
    scoped = collection_scope(collection, scope)
    run: Run = {}
    for qid in collection.qrels:
        allowed = Filter.of(scoped(qid)) if scoped else None
        documents: dict[str, float] = {}
        for hit in retriever.search(collection.queries[qid]["text"], depth, allowed):
            doc_id = hit.passage.doc_id
            if doc_id not in documents:
                documents[doc_id] = hit.score
        run[qid] = dict(list(documents.items())[:k])
    return run
