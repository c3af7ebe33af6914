"""An archive in Milvus read as a Snapshot (qa/store/snapshot.py), a peer of the folder's Index: the
passage catalogue and term counts in memory, as the folder's; the vectors, and every search, in Milvus
(qa/store/milvus.py)."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.answer.lexical import Lexical, LexicalSettings
from qa.documents import Filter, Passage, QAError
from qa.embed.vectors import Scoring
from qa.ingest import recordings
from qa.store.folder import FORMAT
from qa.store.milvus import (
    E5_DIMS,
    FETCH_SENTENCES_UP_TO,
    LAYOUT,
    Location,
    _all,
    _Connection,
    _manifest,
    _meta,
    _names,
    _reason,
    _written,
    lock_dir,
    one_of,
)
from qa.store.snapshot import Snapshot, looked_up

_FIELDS = ("passage_id", "doc_id", "turn_index", "chunk", "speaker", "in_answer_to", "text", "start", "end")


@dataclass(frozen=True)
class MilvusIndex(Snapshot):
    """A Snapshot whose searches and vectors are in Milvus (see the module's docstring)."""

    where: Location
    client: object
    collections: dict
    sentence_starts: np.ndarray  # passage i's sentences are its own i#0, i#1, ... (their count here)
    _release: object

    @property
    def folder(self) -> Path:
        """The archive's local folder (votes, locks, recordings), as an index folder is its own."""
        return self.where.state_dir

    @property
    def target(self) -> Location:
        return self.where

    def close(self) -> None:
        self._release()

    def stamp(self) -> str | None:
        try:
            written = _written(self.client, self.where)
        except Exception:  # noqa: BLE001 (a server away: keep serving what is loaded)
            return None
        return written and written["write"]

    def reopen(self) -> MilvusIndex:
        return load(self.where)

    def sources(self) -> dict[str, str]:
        parts: dict[str, list[tuple[int, str]]] = {}
        for row in _all(self.client, self.collections["documents"], ["doc_id", "part", "text"]):
            parts.setdefault(row["doc_id"], []).append((row["part"], row["text"]))
        return {doc_id: "".join(text for _, text in sorted(own)) for doc_id, own in parts.items()}

    def _filter(self, where: Filter | None) -> str | None:
        """The filter as a Milvus expression ("": every passage; None: no passage)."""
        if where is None:
            return ""
        if not self.matches(where):
            return None
        clauses = [one_of("doc_id", sorted(where.doc_ids))] if where.doc_ids is not None else []
        clauses += [one_of("speaker", sorted(where.speakers))] if where.speakers is not None else []
        return " and ".join(clauses)

    def _search(self, field: str, data, k: int, where: Filter | None, params: dict):
        expression = self._filter(where)
        if expression is None or k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        found = self._call(
            self.client.search,
            self.collections["passages"],
            data=data,
            anns_field=field,
            limit=min(int(k), 16_384),  # Milvus's top-k limit
            filter=expression,
            output_fields=[],
            search_params=params,
        )[0]
        # a passage written after this catalogue was read is skipped; equal scores go in row
        # order, as FAISS and the folder's BM25 return them
        ranked = sorted(
            (-hit["distance"], row) for hit in found if (row := self.rows.get(hit["id"])) is not None
        )
        return (
            np.array([-score for score, _ in ranked], dtype=np.float32),
            np.array([row for _, row in ranked], dtype=np.int64),
        )

    def dense_top(self, vector, k, where):
        return self._search("vector", [vector[0].tolist()], k, where, {"metric_type": "IP"})

    def multilingual_top(self, vector, k, where):
        return self._search("e5", [vector[0].tolist()], k, where, {"metric_type": "IP"})

    def passage_vectors(self, rows) -> np.ndarray:
        return self._vectors("vector", int(self.manifest["embedder"]["dims"]), rows)

    def multilingual_vectors(self, rows) -> np.ndarray:
        return self._vectors("e5", E5_DIMS, rows)

    def _vectors(self, field: str, dims: int, rows) -> np.ndarray:
        ids = [self.passages[int(r)].passage_id for r in rows]
        return self._call(_fetched, self.client, self.collections["passages"], ids, field, dims)

    def _sentence_vectors(self, rows) -> list[np.ndarray]:
        """Each of these passages' sentence vectors, in the order of the rows."""
        starts, dims = self.sentence_starts, int(self.manifest["embedder"]["dims"])
        counts = [int(starts[r + 1] - starts[r]) for r in rows]
        ids = [
            f"{self.passages[r].passage_id}#{i}"
            for r, count in zip(rows, counts, strict=True)
            for i in range(count)
        ]
        found = self._call(_fetched, self.client, self.collections["sentences"], ids, "vector", dims)
        ends = np.cumsum(counts, dtype=np.int64)
        return [found[end - count : end] for end, count in zip(ends.tolist(), counts, strict=True)]

    def turn(self, doc_id: str, turn_index: int) -> list[tuple[Passage, np.ndarray]]:
        rows = self.turn_rows(doc_id, turn_index)
        return list(zip([self.passages[r] for r in rows], self._sentence_vectors(rows), strict=True))

    def recording(self, doc_id: str) -> Path | None:
        """As the folder's, from the recordings kept in the archive's local state folder."""
        name = self.documents.get(doc_id, {}).get("recording", "")
        return recordings.stored(self.folder / recordings.FOLDER, str(name))

    def _call(self, method, *args, **kwargs):
        """A call to Milvus; its failure (a server gone, a timeout) as one line for the user."""
        try:
            return method(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 (pymilvus raises several kinds)
            raise QAError(f"Milvus at {self.where}: {method.__name__} failed ({_reason(error)})") from None

    def sentence_scores(self, vector, rows):
        """Each passage's best sentence. For a few passages their sentence vectors are fetched and
        scored here, as the folder scores its sentences.npy; for more, Milvus finds them, by a
        search of the sentences grouped by passage within these passages. At 100k passages (300k
        sentences) on Milvus Lite: 100 passages 35 ms fetched against 67 ms grouped, 1,000
        passages 88 ms grouped against about 900 ms fetched."""
        if len(rows) <= FETCH_SENTENCES_UP_TO:
            own = self._sentence_vectors([int(r) for r in rows])
            return np.array([float(np.max(v @ vector)) if len(v) else 0.0 for v in own], dtype=np.float32)
        ids = [self.passages[int(r)].passage_id for r in rows]
        found = self._call(
            self.client.search,
            self.collections["sentences"],
            data=[np.asarray(vector, dtype=np.float32).tolist()],
            anns_field="vector",
            limit=len(ids),
            filter=one_of("passage_id", ids),
            group_by_field="passage_id",
            output_fields=["passage_id"],
            search_params={"metric_type": "IP"},
        )[0]
        best = {hit["entity"]["passage_id"]: hit["distance"] for hit in found}
        return np.array([best.get(i, 0.0) for i in ids], dtype=np.float32)

    def bm25_top(self, question, k, where):
        terms = self.lexical.terms(question)  # each once, as the folder's BM25 counts them
        if not terms:  # only stopwords: nothing to match
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        return self._search("sparse", [" ".join(terms)], k, where, {"metric_type": "BM25"})


def _fetched(client, collection: str, ids: list[str], field: str, dims: int) -> np.ndarray:
    """These rows' vectors in the order asked (a row missing: written over meanwhile, zeros)."""
    if not ids:
        return np.zeros((0, dims), dtype=np.float32)
    distinct = list(dict.fromkeys(ids))
    found = {}
    for start in range(0, len(distinct), 1000):
        for row in client.get(collection, ids=distinct[start : start + 1000], output_fields=[field]):
            key = row.get("passage_id") or row.get("sentence_id")
            found[key] = row[field]
    empty = np.zeros(dims, dtype=np.float32)
    return np.array([found.get(i, empty) for i in ids], dtype=np.float32).reshape(len(ids), dims)


def load(where: Location) -> MilvusIndex:
    """The archive's current generation, its catalogue read and its manifest checked; QAError says
    what to do for a missing or mismatched one."""
    if where.missing:
        raise QAError(
            f"no archive in Milvus at {where} (no such file); run "
            f"`qa build --store milvus --milvus-uri {where.uri}` (or `qa add`) to create one"
        )
    connection = _Connection.get(where)
    try:
        return _load(where, connection)
    except BaseException:
        connection.release()
        raise


def _load(where: Location, connection: _Connection) -> MilvusIndex:
    client = connection.client
    fix = f"run `qa build --store milvus --milvus-uri {where.uri}` to rebuild it"
    try:
        manifest = _manifest(client, where)
    except Exception as error:  # noqa: BLE001
        raise QAError(f"Milvus at {where}: unreadable archive ({_reason(error)}); {fix}") from None
    if manifest is None:
        raise QAError(
            f"no archive in Milvus at {where} (no collection {_meta(where)}); run "
            f"`qa build --store milvus --milvus-uri {where.uri}` (or `qa add`) to create one"
        )
    if (manifest.get("format"), manifest.get("store"), manifest.get("layout")) != (FORMAT, "milvus", LAYOUT):
        found = f"{manifest.get('format')}/{manifest.get('layout')}"
        raise QAError(f"Milvus at {where}: archive format {found} is not {FORMAT}/{LAYOUT}; {fix}")
    names = _names(where, manifest["generation"])
    dims = int(manifest["embedder"]["dims"])
    try:
        for name in names.values():
            if not client.has_collection(name):
                raise QAError(f"Milvus at {where}: collection {name} is missing; {fix}")
            client.load_collection(name)
        described = client.describe_collection(names["passages"])
        stored = {f["name"]: f.get("params", {}).get("dim") for f in described["fields"]}
        if int(stored.get("vector") or 0) != dims or bool(manifest.get("multilingual")) != ("e5" in stored):
            raise QAError(
                f"Milvus at {where}: collection {names['passages']} holds {stored.get('vector')}-dimension"
                f" vectors, the manifest says {dims}; {fix}"
            )
        passages, counts = _catalogue(client, names["passages"])
        documents = _records(client, names["documents"])
    except QAError:
        raise
    except Exception as error:  # noqa: BLE001
        raise QAError(f"Milvus at {where}: unreadable archive ({_reason(error)}); {fix}") from None
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    lexical_settings = LexicalSettings(**manifest["lexical"])
    written = _written(client, where)
    # as the folder's manifest says: this write's encoded texts (a Milvus write reuses none)
    manifest = {
        **manifest,
        "passage_count": len(passages),
        "embedded": {"encoded": written["encoded"], "reused": 0},
    }
    lock_dir(where)
    index = MilvusIndex(
        manifest=manifest,
        passages=passages,
        documents=documents,
        scoring=Scoring(**manifest["scoring"]),
        lexical=Lexical.build([p.text for p in passages] or [""], lexical_settings),
        **looked_up(passages),
        where=where,
        client=client,
        collections=names,
        sentence_starts=starts,
        _release=_Releaser(connection),
    )
    weakref.finalize(index, index._release)
    return index


class _Releaser:
    """Lets go of an index's connection once, whether closed or collected."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    def __call__(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.release()


def _catalogue(client, collection: str) -> tuple[tuple[Passage, ...], list[int]]:
    rows = _all(client, collection, [*_FIELDS, "sentences"])
    rows.sort(key=lambda r: (r["doc_id"], r["turn_index"], r["chunk"]))
    passages = tuple(Passage(**{f: r[f] for f in _FIELDS}) for r in rows)
    return passages, [int(r["sentences"]) for r in rows]


def _records(client, collection: str) -> dict[str, dict]:
    rows = _all(client, collection, ["doc_id", "record"], "part == 0")
    return {r["doc_id"]: json.loads(r["record"]) for r in sorted(rows, key=lambda r: r["doc_id"])}
