"""An archive in Milvus read as a Snapshot (qa/store/snapshot.py), a peer of the folder's Index.

The reader holds the interviews' records (title, passages' count, speakers) and nothing per passage:
each search returns the passages it found, an answer turn, a passage's vectors and sentences, a
term's idf and the questions an interviewer asked are fetched when a question needs them. Ranking
is the folder's (tests/test_milvus.py compares the two): equal scores in passage order, BM25 on the
same terms, idf from the terms collection."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.answer.kept import Kept
from qa.answer.lexical import Lexical, LexicalSettings, lucene_idf
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
    got,
    lock_dir,
    one_of,
    quoted,
)
from qa.store.snapshot import Interview, Snapshot

_FIELDS = ("passage_id", "doc_id", "turn_index", "chunk", "speaker", "in_answer_to", "text", "start", "end")
SENTENCE_COUNTS_KEPT = 50_000  # passages whose sentence count a reader remembers (from what it fetched)


class MilvusLexical(Lexical):
    """BM25's terms as the folder's (qa/answer/lexical.py), their idf from the archive's terms
    collection: a question looks up its own terms, the reader holds no vocabulary."""

    def __init__(self, settings: LexicalSettings, index_ref) -> None:
        super().__init__(None, settings)
        self._index = index_ref

    def idfs(self, terms: list[str]) -> np.ndarray:
        index = self._index()
        count = index.manifest["passage_count"]
        found = dict.fromkeys(terms, 0)
        if terms:
            rows = index._call(
                index.client.get, index.collections["terms"], ids=terms, output_fields=["passages"]
            )
            found.update({row["term"]: int(row["passages"]) for row in rows})
        return np.asarray(
            lucene_idf(count, np.array([found[t] for t in terms], dtype=np.float64)), np.float32
        )

    def idf(self, term: str) -> float:
        return float(self.idfs([term])[0])


@dataclass(frozen=True)
class MilvusIndex(Snapshot):
    """A Snapshot whose searches, passages and vectors are in Milvus (see the module's docstring)."""

    where: Location
    client: object
    collections: dict
    lexical: MilvusLexical
    _release: object
    # passage id -> its number of sentences, as fetched
    _sentence_counts: Kept = field(default_factory=lambda: Kept(SENTENCE_COUNTS_KEPT))

    @property
    def folder(self) -> Path:
        """The archive's local folder (votes, locks, recordings), as an index folder is its own."""
        return self.where.state_dir

    @property
    def target(self) -> Location:
        return self.where

    @property
    def passages(self) -> tuple[Passage, ...]:
        """Every passage, read from Milvus now, in order: for batch work, never a question's."""
        return tuple(self._passages(""))

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

    def recording(self, doc_id: str) -> Path | None:
        """As the folder's, from the recordings kept in the archive's local state folder."""
        name = self.documents.get(doc_id, {}).get("recording", "")
        return recordings.stored(self.folder / recordings.FOLDER, str(name))

    def _filter(self, where: Filter | None) -> str | None:
        """The filter as a Milvus expression ("": every passage; None: no passage)."""
        if where is None:
            return ""
        if not self.matches(where):
            return None
        clauses = [one_of("doc_id", sorted(where.doc_ids))] if where.doc_ids is not None else []
        clauses += [one_of("speaker", sorted(where.speakers))] if where.speakers is not None else []
        return " and ".join(clauses)

    def _passage(self, row: dict) -> Passage:
        """A passage as a row of the passages collection gives it (its sentence count noted)."""
        if "sentences" in row:
            self._sentence_counts.keep(row["passage_id"], int(row["sentences"]))
        return Passage(**{f: row[f] for f in _FIELDS})

    def _passages(self, expression: str) -> list[Passage]:
        """The passages matching an expression, in order."""
        rows = self._call(
            _all, self.client, self.collections["passages"], [*_FIELDS, "sentences"], expression
        )
        return sorted(map(self._passage, rows), key=_in_order)

    def _search(self, field: str, data, k: int, where: Filter | None, params: dict):
        expression = self._filter(where)
        if expression is None or k <= 0:
            return np.zeros(0, dtype=np.float32), []
        found = self._call(
            self.client.search,
            self.collections["passages"],
            data=data,
            anns_field=field,
            limit=min(int(k), 16_384),  # Milvus's top-k limit
            filter=expression,
            output_fields=[*_FIELDS, "sentences"],
            search_params=params,
        )[0]
        # equal scores in passage order, as FAISS and the folder's BM25 return them
        ranked = sorted(((-hit["distance"], self._passage(hit["entity"])) for hit in found), key=_by_score)
        return np.array([-score for score, _ in ranked], dtype=np.float32), [p for _, p in ranked]

    def dense_top(self, vector, k, where):
        return self._search("vector", [vector[0].tolist()], k, where, {"metric_type": "IP"})

    def multilingual_top(self, vector, k, where):
        return self._search("e5", [vector[0].tolist()], k, where, {"metric_type": "IP"})

    def bm25_top(self, question, k, where):
        terms = self.lexical.terms(question)  # each once, as the folder's BM25 counts them
        if not terms:  # only stopwords: nothing to match
            return np.zeros(0, dtype=np.float32), []
        return self._search("sparse", [" ".join(terms)], k, where, {"metric_type": "BM25"})

    def passage_vectors(self, passages) -> np.ndarray:
        return self._vectors("vector", int(self.manifest["embedder"]["dims"]), passages)

    def multilingual_vectors(self, passages) -> np.ndarray:
        return self._vectors("e5", E5_DIMS, passages)

    def _vectors(self, field: str, dims: int, passages) -> np.ndarray:
        ids = [p.passage_id for p in passages]
        return self._call(_fetched, self.client, self.collections["passages"], ids, field, dims)

    def _sentence_vectors(self, passages: list[Passage]) -> list[np.ndarray]:
        """Each of these passages' sentence vectors, in order."""
        counts = self._sentence_counts
        known = {p.passage_id: counts.get(p.passage_id) for p in passages}
        unknown = [pid for pid, count in known.items() if count is None]
        for row in self._call(got, self.client, self.collections["passages"], unknown, ["sentences"]):
            known[row["passage_id"]] = counts.keep(row["passage_id"], int(row["sentences"]))
        owned = [known[p.passage_id] or 0 for p in passages]
        ids = [f"{p.passage_id}#{i}" for p, count in zip(passages, owned, strict=True) for i in range(count)]
        dims = int(self.manifest["embedder"]["dims"])
        found = self._call(_fetched, self.client, self.collections["sentences"], ids, "vector", dims)
        ends = np.cumsum(owned, dtype=np.int64)
        return [found[end - count : end] for end, count in zip(ends.tolist(), owned, strict=True)]

    def turn(self, doc_id: str, turn_index: int) -> list[tuple[Passage, np.ndarray]]:
        passages = self._passages(f"doc_id == {quoted(doc_id)} and turn_index == {int(turn_index)}")
        return list(zip(passages, self._sentence_vectors(passages), strict=True))

    def passages_of(self, doc_id: str) -> list[Passage]:
        return self._passages(f"doc_id == {quoted(doc_id)}")

    def asked_candidates(self, stems: frozenset[str], needed: int, words: str) -> list[Passage]:
        """A question holding at least `needed` of n stems holds one of any n - needed + 1 of them:
        the passages whose question holds one of the rarest are read; with needed 0, those whose
        question (or its last sentence) is these very words."""
        if needed <= 0:
            expression = f"asked_whole == {quoted(words)} or asked_last == {quoted(words)}"
        else:
            ordered = sorted(stems)
            counts = self.lexical.idfs(ordered)  # the rarest have the highest idf
            rarest = [ordered[i] for i in np.argsort(-counts, kind="stable")[: len(ordered) - needed + 1]]
            expression = " or ".join(f"asked_stems like {quoted(f'% {stem} %')}" for stem in rarest)
        return self._passages(expression)

    def has_passage(self, passage_id: str) -> bool:
        ids = [passage_id]
        return bool(
            self._call(self.client.get, self.collections["passages"], ids=ids, output_fields=["chunk"])
        )

    def _call(self, method, *args, **kwargs):
        """A call to Milvus; its failure (a server gone, a timeout) as one line for the user."""
        try:
            return method(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 (pymilvus raises several kinds)
            raise QAError(f"Milvus at {self.where}: {method.__name__} failed ({_reason(error)})") from None

    def sentence_scores(self, vector, passages):
        """Each passage's best sentence. For a few passages their sentence vectors are fetched and
        scored here, as the folder scores its sentences.npy; for more, Milvus finds them, by a
        search of the sentences grouped by passage within these passages. At 100k passages (300k
        sentences) on Milvus Lite: 100 passages 35 ms fetched against 67 ms grouped, 1,000
        passages 88 ms grouped against about 900 ms fetched."""
        if len(passages) <= FETCH_SENTENCES_UP_TO:
            own = self._sentence_vectors(list(passages))
            return np.array([float(np.max(v @ vector)) if len(v) else 0.0 for v in own], dtype=np.float32)
        ids = [p.passage_id for p in passages]
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


def _in_order(passage: Passage) -> tuple:
    """A passage's place in the archive (by interview, turn and chunk), as the folder's rows go."""
    return passage.doc_id, passage.turn_index, passage.chunk


def _by_score(pair: tuple[float, Passage]) -> tuple:
    return pair[0], _in_order(pair[1])


def _fetched(client, collection: str, ids: list[str], field: str, dims: int) -> np.ndarray:
    """These rows' vectors in the order asked (a row missing: written over meanwhile, zeros)."""
    if not ids:
        return np.zeros((0, dims), dtype=np.float32)
    found = {}
    for row in got(client, collection, list(dict.fromkeys(ids)), [field]):
        found[row.get("passage_id") or row.get("sentence_id")] = row[field]
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
        documents, interviews = _records(client, names["documents"])
    except QAError:
        raise
    except Exception as error:  # noqa: BLE001
        raise QAError(f"Milvus at {where}: unreadable archive ({_reason(error)}); {fix}") from None
    written = _written(client, where)
    # as the folder's manifest says: this write's encoded texts (a Milvus write reuses none)
    manifest = {
        **manifest,
        "passage_count": sum(own.passages for own in interviews.values()),
        "embedded": {"encoded": written["encoded"], "reused": 0},
    }
    lock_dir(where)
    holder: dict = {}
    index = MilvusIndex(
        manifest=manifest,
        documents=documents,
        interviews=interviews,
        scoring=Scoring(**manifest["scoring"]),
        where=where,
        client=client,
        collections=names,
        lexical=MilvusLexical(LexicalSettings(**manifest["lexical"]), lambda: holder["index"]),
        _release=_Releaser(connection),
    )
    holder["index"] = index
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


def _records(client, collection: str) -> tuple[dict[str, dict], dict[str, Interview]]:
    """Each interview's record and its passages' count and speakers, in doc id order."""
    rows = sorted(
        _all(client, collection, ["doc_id", "record", "interview"], "part == 0"), key=lambda r: r["doc_id"]
    )
    documents = {r["doc_id"]: json.loads(r["record"]) for r in rows}
    held = {r["doc_id"]: json.loads(r["interview"]) for r in rows}
    interviews = {
        doc_id: Interview(own["passages"], tuple(own["speakers"]))
        for doc_id, own in held.items()
        if own["passages"]
    }
    return documents, interviews
