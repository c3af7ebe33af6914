"""Writing the archive in Milvus (qa/store/milvus.py): a whole new generation (`qa build`), or one
interview's rows (`qa add`, `qa remove`), never the others'. The caller of `write_generation`,
`put` and `delete` holds the archive's write lock (`lock_dir`, qa/locks.py)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, fields

import numpy as np

from qa import __version__
from qa.answer.asked import asked_forms
from qa.answer.lexical import Lexical
from qa.documents import Document, Passage, QAError, text_hash
from qa.embed.multilingual import E5
from qa.ingest import recordings
from qa.store.embedding import embed
from qa.store.folder import FORMAT, model_record
from qa.store.milvus import (
    BATCH,
    IDS_AT_ONCE,
    KINDS,
    LAYOUT,
    SOURCE_PART,
    TEXT_LIMIT,
    Location,
    _all,
    _create,
    _manifest,
    _meta,
    _names,
    _put_meta,
    _written,
    connected,
    got,
    lock_dir,
    one_of,
    quoted,
)
from qa.store.milvus_index import MilvusIndex
from qa.store.milvus_index import load as load_index
from qa.store.settings import Settings
from qa.store.snapshot import Interview, interviews_of


def _rows(
    documents: list[Document], settings: Settings, written: str, progress: bool, passages=None, ahead=None
):
    """The passages', sentences' and documents' rows for these interviews (and their passages, when
    not the answer turns the parser finds, as a BEIR collection's), embedded, and how many of the
    passages hold each BM25 term; texts in `ahead` (vectors by qa.embed.cache.cache_name of their
    model, made before the write lock) are not embedded again."""
    from qa.store.folder_write import corpus_passages

    passages = corpus_passages(documents) if passages is None else passages
    embedded = embed(passages, settings, ahead=ahead, progress=progress)
    vectors, e5 = embedded.vectors, embedded.e5
    terms = Lexical.tokens([p.text for p in passages], settings.lexical)
    asked = _asked_fields(passages, settings)
    passage_rows, sentence_rows = [], []
    for row, passage in enumerate(passages):
        first, last = int(vectors.sentence_starts[row]), int(vectors.sentence_starts[row + 1])
        record = {
            **passage.to_json(),
            "sentences": last - first,
            "written": written,
            "terms": " ".join(terms[row]),
            **asked[passage.in_answer_to],
        }
        record["vector"] = vectors.passages[row].tolist()
        if e5 is not None:
            record["e5"] = np.asarray(e5[row], dtype=np.float32).tolist()
        passage_rows.append(record)
        sentence_rows += [
            {
                "sentence_id": f"{passage.passage_id}#{n}",
                "passage_id": passage.passage_id,
                "doc_id": passage.doc_id,
                "written": written,
                "vector": vectors.sentences[first + n].tolist(),
            }
            for n in range(last - first)
        ]
    summaries = interviews_of(passages)
    document_rows = []
    for document in documents:
        text = document.text
        parts = [text[i : i + SOURCE_PART] for i in range(0, len(text), SOURCE_PART)] or [""]
        record = json.dumps(_record(document), ensure_ascii=False)
        if len(record.encode()) > TEXT_LIMIT:
            raise QAError(f"{document.path}: its metadata is too long for Milvus ({len(record)} characters)")
        for n, part in enumerate(parts):
            document_rows.append(
                {
                    "part_id": f"{document.doc_id}#{n}",
                    "doc_id": document.doc_id,
                    "part": n,
                    "record": record if n == 0 else "",
                    "interview": _interview_json(summaries.get(document.doc_id)) if n == 0 else "",
                    "text": part,
                    "text_hash": text_hash(text),
                    "written": written,
                    "unused": [0.0, 0.0],
                }
            )
    encoded = embedded.encoders[0].encoded + (len(passages) if e5 is not None else 0)
    return (passage_rows, sentence_rows, document_rows), _counted(terms), encoded


def _asked_fields(passages: list[Passage], settings: Settings) -> dict[str, dict]:
    """Each interviewer's question's asked_* fields (qa/store/milvus.py), by its text."""
    texts = sorted({p.in_answer_to for p in passages if p.in_answer_to})
    stems = Lexical(None, settings.lexical).content_stems(texts)
    fields = {"": {"asked_stems": "", "asked_whole": "", "asked_last": ""}}
    for text, own in zip(texts, stems, strict=True):
        whole, last = asked_forms(text)
        fields[text] = {"asked_stems": f" {' '.join(sorted(own))} ", "asked_whole": whole, "asked_last": last}
    return fields


def _interview_json(interview: Interview | None) -> str:
    interview = interview or Interview(0, ())
    return json.dumps({"passages": interview.passages, "speakers": interview.speakers}, ensure_ascii=False)


def _counted(terms: list[list[str]]) -> Counter:
    """How many of the passages (their terms given) hold each term."""
    return Counter(term for own in terms for term in set(own))


def _update_terms(client, names: dict[str, str], added: Counter, removed: Counter) -> None:
    """The terms collection after passages holding `added` are written and those holding `removed`
    are gone: each changed term's count read, moved, and written back (a term no passage holds
    any more is deleted). The caller holds the write lock."""
    change = Counter(added)
    change.subtract(removed)
    changed = sorted(term for term, delta in change.items() if delta)
    if not changed:
        return
    now = {row["term"]: row["passages"] for row in got(client, names["terms"], changed, ["passages"])}
    counts = {term: now.get(term, 0) + change[term] for term in changed}
    _insert(client, names["terms"], _term_rows({t: c for t, c in counts.items() if c > 0}), upsert=True)
    gone = [term for term, count in counts.items() if count <= 0]
    for start in range(0, len(gone), IDS_AT_ONCE):
        client.delete(names["terms"], ids=gone[start : start + IDS_AT_ONCE])
    client.flush(names["terms"])


def _term_rows(counts) -> list[dict]:
    return [
        {"term": term, "passages": int(count), "unused": [0.0, 0.0]} for term, count in sorted(counts.items())
    ]


def _held_terms(client, names: dict[str, str], doc_ids: list[str]) -> Counter:
    """How many of these interviews' passages now in the archive hold each term."""
    rows = _all(client, names["passages"], ["terms"], one_of("doc_id", doc_ids))
    return _counted([row["terms"].split() for row in rows])


def _record(document: Document) -> dict:
    return {f.name: getattr(document, f.name) for f in fields(document) if f.name != "text"}


def _insert(client, collection: str, rows: list[dict], upsert: bool = False) -> None:
    for start in range(0, len(rows), BATCH):
        (client.upsert if upsert else client.insert)(collection, rows[start : start + BATCH])


def _new_manifest(settings: Settings, generation: str, corpus: dict) -> dict:
    return {
        "format": FORMAT,
        "store": "milvus",
        "layout": LAYOUT,
        "generation": generation,
        "qa_version": __version__,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embedder": model_record(settings.embedder),
        "scoring": settings.scoring.to_json(),
        "lexical": settings.lexical.to_json(),
        "multilingual": model_record(E5()) if settings.multilingual else None,
        "corpus": corpus,
    }


def build(
    where: Location,
    documents: list[Document],
    settings: Settings,
    corpus: dict,
    progress: bool = False,
    passages: list[Passage] | None = None,
    media: dict | None = None,
) -> MilvusIndex:
    """A new generation of the archive from these interviews (and these passages of them, when
    given); the last one stays whole, and is what readers see, until the new one is complete.
    `media`: the recordings that come with them, by doc id (qa/ingest/recordings.py)."""
    from qa.locks import writing

    with writing(lock_dir(where)):
        recordings.keep(where.state_dir / recordings.FOLDER, media or {})
        write_generation(where, documents, settings, corpus, progress, passages)
    return load_index(where)


def write_generation(
    where: Location,
    documents: list[Document],
    settings: Settings,
    corpus: dict,
    progress: bool = False,
    passages: list[Passage] | None = None,
    ahead: dict | None = None,
) -> None:
    """`build` for a caller that holds the archive's write lock (`ahead`: as `_rows` takes it)."""
    if not documents:
        raise QAError("no interviews to build the archive from")
    with connected(where) as client:
        (passage_rows, sentence_rows, document_rows), terms, encoded = _rows(
            documents, settings, uuid.uuid4().hex, progress, passages, ahead
        )
        if not passage_rows:
            raise QAError("no answer passages found in the transcripts")
        generation = uuid.uuid4().hex[:12]
        names = _names(where, generation)
        for kind, name in names.items():
            _create(
                client, where, name, kind, settings.embedder.dims, settings.multilingual, settings.lexical
            )
        written = (passage_rows, sentence_rows, document_rows, _term_rows(terms))
        for kind, rows in zip(names, written, strict=True):
            _insert(client, names[kind], rows)
            client.flush(names[kind])
        if not client.has_collection(_meta(where)):
            _create(client, where, _meta(where), "meta", 2, False, settings.lexical)
        _put_meta(client, where, _new_manifest(settings, generation, corpus), encoded)  # the switch
        _drop_other_generations(client, where, generation)


def _drop_other_generations(client, where: Location, current: str) -> None:
    """Collections of generations that are not the current one (the one replaced, a failed build's)."""
    keep = set(_names(where, current).values()) | {_meta(where)}
    pattern = re.compile(rf"{re.escape(where.name)}_[0-9a-f]{{12}}_({'|'.join(KINDS)})")
    for name in client.list_collections():
        if pattern.fullmatch(name) and name not in keep:
            client.drop_collection(name)


def current(where: Location) -> tuple[dict, dict[str, str], dict[str, str]] | None:
    """(manifest, collection names, text hash -> doc id) of the archive; None when there is none."""
    if where.missing:
        return None
    with connected(where) as client:
        manifest = _manifest(client, where)
        if manifest is None:
            return None
        names = _names(where, manifest["generation"])
        client.load_collection(names["documents"])
        rows = _all(client, names["documents"], ["doc_id", "text_hash"], "part == 0")
    return manifest, names, {r["text_hash"]: r["doc_id"] for r in rows}


@dataclass(frozen=True)
class Summary:
    """What a write to a Milvus archive reports back (its interviews, its manifest with the passage
    count), read without the passage catalogue that `load` reads: a write stays the size of the
    interview written, however large the archive."""

    target: Location
    manifest: dict
    documents: dict[str, dict]

    def close(self) -> None:
        """Holds no connection."""


def summary(where: Location) -> Summary:
    with connected(where) as client:
        manifest = _manifest(client, where)
        names = _names(where, manifest["generation"])
        count = client.query(names["passages"], filter="", output_fields=["count(*)"])[0]["count(*)"]
        documents = {r["doc_id"]: {} for r in _all(client, names["documents"], ["doc_id"], "part == 0")}
        written = _written(client, where)
    embedded = {"encoded": written["encoded"], "reused": 0}
    return Summary(
        where, {**manifest, "passage_count": count, "embedded": embedded}, dict(sorted(documents.items()))
    )


def put(
    where: Location,
    manifest: dict,
    names: dict,
    documents: list[Document],
    progress: bool = False,
    ahead: dict | None = None,
    passages: list[Passage] | None = None,
) -> None:
    """Write these interviews into the archive (its `current` manifest and collection names), each
    replacing its rows from before (if any): theirs are upserted, then their older rows deleted; no
    other interview's row is touched. The caller holds the write lock (`ahead`, `passages`: as
    `_rows` takes them)."""
    written = uuid.uuid4().hex
    rows, terms, encoded = _rows(documents, Settings.of(manifest), written, progress, passages, ahead)
    doc_ids = [d.doc_id for d in documents]
    with connected(where) as client:
        for name in names.values():
            client.load_collection(name)
        before = _held_terms(client, names, doc_ids)
        for kind, batch in zip(("passages", "sentences", "documents"), rows, strict=True):
            _insert(client, names[kind], batch, upsert=True)
        _delete(client, names, doc_ids, f" and written != {quoted(written)}")
        _update_terms(client, names, terms, before)
        _put_meta(client, where, None, encoded)


def delete(where: Location, names: dict, doc_ids: list[str]) -> None:
    """Delete these interviews' rows from the archive's `current` collections (the caller holds the
    write lock)."""
    with connected(where) as client:
        for name in names.values():
            client.load_collection(name)
        before = _held_terms(client, names, doc_ids)
        _delete(client, names, doc_ids)
        _update_terms(client, names, Counter(), before)
        _put_meta(client, where, None)


def _delete(client, names: dict[str, str], doc_ids: list[str], also: str = "") -> None:
    for name in (names["passages"], names["sentences"], names["documents"]):
        client.delete(name, filter=f"{one_of('doc_id', doc_ids)}{also}")
        client.flush(name)
