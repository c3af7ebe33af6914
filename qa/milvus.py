"""The archive in Milvus: the index folder's rows in collections of a Milvus Lite file or a server.

`qa ... --store milvus --milvus-uri URI` (or $QA_MILVUS_URI, $QA_MILVUS_TOKEN): a path ending in
`.db` is an embedded Milvus Lite file, `http://host:19530` a Milvus server or cluster. Collections:

  NAME_meta                 the manifest (what built the archive, as the folder's manifest.json)
                            and a stamp every write changes (how a server sees another's change)
  NAME_G_passages           one row per passage: its metadata and text (BM25 runs in Milvus on it,
                            through a BM25 function into a sparse field), its vector, its e5 vector
  NAME_G_sentences          one vector per sentence of a passage (the dense score's sentence term)
  NAME_G_documents          each interview's metadata and source text (in parts under Milvus's
                            VARCHAR limit): what citations, context and `qa build` read back

G is the generation `qa build` wrote: a full build writes a new one and then points the manifest
at it, so a failed build leaves the last good archive whole. `qa add` and `qa remove` write or
delete one interview's rows in the current generation, never the others: new rows are upserted
first, then the interview's rows from before are deleted by a write id, so a reader sees the old
interview or the new one, never neither.

Dense, BM25 and both halves of hybrid search run in Milvus, with the interview and speaker filters
as Milvus filter expressions; the hybrid fusion is the client's (qa/retrievers.py), so that both
stores rank alike: Milvus's own WeightedRanker normalises each list by arctan rather than min-max,
and cannot add the best sentence's cosine. The client keeps the passage catalogue (metadata and
text, not vectors) and its term counts in memory, as the folder does, for the quote cards.

Milvus Lite serves one process at a time (a second one is refused), so processes take turns on a
lock beside the file; a server is shared, and writers on one machine queue on a lock in the state
folder (qa/locks.py). The state folder also keeps the page's votes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import threading
import time
import uuid
import warnings
import weakref
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from qa import __version__
from qa.documents import Document, Passage, QAError
from qa.lexical import Lexical, LexicalSettings
from qa.store import DEFAULT_LEXICAL, DEFAULT_SCORING, FORMAT, Index, _rows_by
from qa.vectors import Scoring

DEFAULT_NAME = "qa"
SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")
LITE_WAIT_S = 60.0  # how long a process waits for another to let go of a Milvus Lite file
TEXT_LIMIT = 65_535  # Milvus's VARCHAR limit, in bytes
SOURCE_PART = 16_000  # characters of a source text per documents row (at most 4 bytes each)
# The layout of the collections (their fields, what a row holds): an archive of another layout is
# refused, with the command that rebuilds it, rather than read wrong.
LAYOUT = 1
BATCH = 500  # rows per insert: well under gRPC's message limit with 768-dimension vectors
FETCH_SENTENCES_UP_TO = 150  # passages whose sentences are fetched and scored here (sentence_scores)
E5_DIMS = 384
_FIELDS = ("passage_id", "doc_id", "turn_index", "chunk", "speaker", "in_answer_to", "text", "start", "end")


@dataclass(frozen=True)
class Location:
    """Where an archive lives in Milvus; `name` prefixes its collections."""

    uri: str
    token: str = ""
    name: str = DEFAULT_NAME

    @property
    def lite(self) -> bool:
        return not self.uri.startswith(SERVER_SCHEMES)

    @property
    def partitioned(self) -> bool:
        """Whether the doc id is the collections' partition key: on a server or cluster, where a
        filter on one interview then reads its partition alone. Not in Milvus Lite's engine (a file,
        or a unix socket), whose query iterator fails on a partitioned collection."""
        return self.uri.startswith(SERVER_SCHEMES[:4])

    @property
    def state_dir(self) -> Path:
        """A local folder for the page's votes and the writers' locks."""
        if self.lite:
            db = Path(self.uri)
            return db.parent / f"{db.stem}.{self.name}.state"
        host = re.sub(r"[^\w.-]+", "_", self.uri.split(":", 1)[1]).strip("_")
        return (
            Path(os.environ.get("QA_MILVUS_STATE", Path.home() / ".cache" / "qa-milvus")) / host / self.name
        )

    def __str__(self) -> str:
        return f"{self.uri} ({self.name})" if self.name != DEFAULT_NAME else self.uri


def location(uri: str | None = None, token: str | None = None, name: str | None = None) -> Location:
    """The Milvus archive at uri (or $QA_MILVUS_URI), its collections named NAME_... (or
    $QA_MILVUS_NAME, default qa: several archives can share a server); QAError for one that
    cannot be."""
    uri = (uri or os.environ.get("QA_MILVUS_URI", "")).strip()
    name = name or os.environ.get("QA_MILVUS_NAME") or DEFAULT_NAME
    token = token if token is not None else os.environ.get("QA_MILVUS_TOKEN", "")
    if not uri:
        raise QAError(
            "--store milvus needs --milvus-uri (or QA_MILVUS_URI): a .db file path or http://HOST:19530"
        )
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,100}", name):
        raise QAError(f"{name!r} cannot name Milvus collections: letters, digits and _ only")
    if not uri.startswith(SERVER_SCHEMES):
        path = Path(uri).expanduser()
        if path.suffix != ".db":
            raise QAError(f"{uri}: a Milvus Lite file ends in .db (or give a server as http://HOST:19530)")
        if not path.parent.is_dir():
            raise QAError(f"{uri}: no folder {path.parent} to keep the Milvus Lite file in")
        uri = str(path.resolve())
    return Location(uri, token, name)


def _imported():
    """pymilvus, once (Milvus Lite's own import wants setuptools<81's pkg_resources, and warns)."""
    # gRPC's own logging: a server's "too many pings" notice while an add embeds for minutes, and
    # the like; a call that fails reaches the user as one line of ours
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import pymilvus

            # it logs every failed call with a traceback (and its iterator warns on every read
            # that Milvus Lite keeps no server-side timestamps); a failure reaches the user as ours
            logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
        except ImportError as error:
            raise QAError(f"the Milvus store needs pymilvus and milvus-lite ({error})") from None
    return pymilvus


class _Connection:
    """One client per location per process, shared by every index and writer of the process."""

    _open: dict[str, _Connection] = {}
    _guard = threading.Lock()

    def __init__(self, where: Location) -> None:
        self.where = where
        self.users = 0
        self._lock_fd: int | None = None
        if where.lite:
            self._lock_fd = _lite_turn(Path(where.uri))
        try:
            pymilvus = _imported()
            with warnings.catch_warnings():  # Milvus Lite imports setuptools' pkg_resources, and warns
                warnings.simplefilter("ignore")
                self.client = pymilvus.MilvusClient(uri=where.uri, token=where.token or "", timeout=30)
        except Exception as error:  # a server that is not there, a file Milvus Lite cannot open
            self._unlock()
            raise QAError(f"cannot reach Milvus at {where.uri} ({_reason(error)})") from None

    @classmethod
    def get(cls, where: Location) -> _Connection:
        with cls._guard:
            connection = cls._open.get(where.uri)
            if connection is None:
                connection = cls._open[where.uri] = _Connection(where)
            connection.users += 1
            return connection

    def release(self) -> None:
        with self._guard:
            self.users -= 1
            if self.users > 0:
                return
            del self._open[self.where.uri]
        with contextlib.suppress(Exception):
            self.client.close()
        if self.where.lite:
            from milvus_lite.server_manager import server_manager_instance

            with contextlib.suppress(Exception):
                server_manager_instance.release_server(self.where.uri)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _lite_turn(db: Path) -> int:
    """This process's turn at a Milvus Lite file (which serves one process at a time): an exclusive
    flock beside it, waited for up to $QA_MILVUS_WAIT seconds."""
    fd = os.open(db.parent / f".{db.name}.qa.lock", os.O_RDWR | os.O_CREAT, 0o666)
    deadline = time.monotonic() + float(os.environ.get("QA_MILVUS_WAIT", LITE_WAIT_S))
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise QAError(
                    f"{db}: another process has this Milvus Lite file open (Milvus Lite serves one process"
                    " at a time); stop it (the app? add from its page instead), or use a Milvus server"
                ) from None
            time.sleep(0.05)


def _reason(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    return " ".join(str(message).split())[:300]


@contextlib.contextmanager
def connected(where: Location):
    connection = _Connection.get(where)
    try:
        yield connection.client
    finally:
        connection.release()


def quoted(value: str) -> str:
    """A Milvus expression's string literal (its templates are not in Milvus Lite 2.5)."""
    return json.dumps(str(value), ensure_ascii=False)


def one_of(field: str, values) -> str:
    return f"{field} in [{', '.join(quoted(v) for v in values)}]"


# --- collections ---------------------------------------------------------------------------------


def _names(where: Location, generation: str) -> dict[str, str]:
    prefix = f"{where.name}_{generation}"
    return {kind: f"{prefix}_{kind}" for kind in ("passages", "sentences", "documents")}


def _meta(where: Location) -> str:
    return f"{where.name}_meta"


# Milvus's BM25 reads a passage's `terms`: its words as the folder's BM25 reads them (lower case,
# two letters or more, bm25s's stopwords dropped, Snowball-stemmed; qa/lexical.py), made here and
# split again by Milvus on the spaces between them. Both stores then score the same words; with
# Milvus's own English analyzer over the text (its tokenizer keeps one-letter words and splits
# others its own way) the top BM25 hit was the same for 74% of 300 press-conference questions.
TERMS_ANALYZER = {"tokenizer": "standard"}


def _create(client, where: Location, name: str, kind: str, dims: int, multilingual: bool, lexical) -> None:
    pymilvus = _imported()
    DataType, Function, FunctionType = pymilvus.DataType, pymilvus.Function, pymilvus.FunctionType
    schema = client.create_schema(auto_id=False)
    index = client.prepare_index_params()
    vector_index = "FLAT" if where.lite else "AUTOINDEX"  # Lite: exact search; a server picks its own
    if kind == "meta":
        schema.add_field("key", DataType.VARCHAR, max_length=64, is_primary=True)
        schema.add_field("value", DataType.VARCHAR, max_length=TEXT_LIMIT)
        schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector in each
        index.add_index("unused", index_type="FLAT", metric_type="IP")
    elif kind == "passages":
        schema.add_field("passage_id", DataType.VARCHAR, max_length=2048, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024, is_partition_key=where.partitioned)
        schema.add_field("speaker", DataType.VARCHAR, max_length=1024)
        schema.add_field("in_answer_to", DataType.VARCHAR, max_length=TEXT_LIMIT)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_LIMIT)
        schema.add_field(
            "terms",
            DataType.VARCHAR,
            max_length=TEXT_LIMIT,
            enable_analyzer=True,
            analyzer_params=TERMS_ANALYZER,
        )
        for number in ("turn_index", "chunk", "start", "end", "sentences"):
            schema.add_field(number, DataType.INT64)
        schema.add_field("written", DataType.VARCHAR, max_length=64)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dims)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["terms"],
                output_field_names=["sparse"],
            )
        )
        index.add_index("vector", index_type=vector_index, metric_type="IP")
        index.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": lexical.k1, "bm25_b": lexical.b},
        )
        if multilingual:
            schema.add_field("e5", DataType.FLOAT_VECTOR, dim=E5_DIMS)
            index.add_index("e5", index_type=vector_index, metric_type="IP")
    elif kind == "sentences":
        schema.add_field("sentence_id", DataType.VARCHAR, max_length=2100, is_primary=True)
        schema.add_field("passage_id", DataType.VARCHAR, max_length=2048)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("written", DataType.VARCHAR, max_length=64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dims)
        index.add_index("vector", index_type=vector_index, metric_type="IP")
    else:  # documents
        schema.add_field("part_id", DataType.VARCHAR, max_length=1100, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("part", DataType.INT64)
        schema.add_field("record", DataType.VARCHAR, max_length=TEXT_LIMIT)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_LIMIT)
        schema.add_field("text_hash", DataType.VARCHAR, max_length=64)
        schema.add_field("written", DataType.VARCHAR, max_length=64)
        schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
        index.add_index("unused", index_type="FLAT", metric_type="IP")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")


def _manifest(client, where: Location) -> dict | None:
    if not client.has_collection(_meta(where)):
        return None
    found = client.get(_meta(where), ids=["manifest"], output_fields=["value"])
    return json.loads(found[0]["value"]) if found else None


def _put_meta(client, where: Location, manifest: dict | None, encoded: int = 0) -> None:
    """A new stamp (with how many texts this write encoded), and the manifest when given."""
    stamp = json.dumps({"write": uuid.uuid4().hex, "encoded": encoded})
    rows = [{"key": "written", "value": stamp, "unused": [0.0, 0.0]}]
    if manifest is not None:
        rows.append(
            {"key": "manifest", "value": json.dumps(manifest, ensure_ascii=False), "unused": [0.0, 0.0]}
        )
    client.upsert(_meta(where), rows)
    client.flush(_meta(where))


# --- writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What an archive is built with: the folder's manifest records the same."""

    embedder: object
    scoring: Scoring = DEFAULT_SCORING
    multilingual: bool = False
    lexical: LexicalSettings = DEFAULT_LEXICAL


def _rows(documents: list[Document], settings: Settings, written: str, progress: bool, passages=None):
    """The three collections' rows for these interviews (and their passages, when not the answer
    turns the parser finds, as a BEIR collection's), embedded."""
    from qa.cache import CachedEncoder
    from qa.multilingual import E5
    from qa.store import corpus_passages
    from qa.vectors import embed_passages

    passages = corpus_passages(documents) if passages is None else passages
    encoder = CachedEncoder(settings.embedder, {})
    vectors = embed_passages(encoder, passages, settings.scoring, progress=progress)
    e5 = (
        E5().encode([p.text for p in passages], progress=progress)
        if settings.multilingual and passages
        else None
    )
    terms = Lexical.tokens([p.text for p in passages], settings.lexical)
    passage_rows, sentence_rows = [], []
    for row, passage in enumerate(passages):
        first, last = int(vectors.sentence_starts[row]), int(vectors.sentence_starts[row + 1])
        record = {
            **passage.to_json(),
            "sentences": last - first,
            "written": written,
            "terms": " ".join(terms[row]),
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
    document_rows = []
    for document in documents:
        from qa.archive import text_hash

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
                    "text": part,
                    "text_hash": text_hash(text),
                    "written": written,
                    "unused": [0.0, 0.0],
                }
            )
    encoded = encoder.encoded + (len(passages) if e5 is not None else 0)
    return (passage_rows, sentence_rows, document_rows), encoded


def _record(document: Document) -> dict:
    return {f.name: getattr(document, f.name) for f in fields(document) if f.name != "text"}


def _insert(client, collection: str, rows: list[dict], upsert: bool = False) -> None:
    for start in range(0, len(rows), BATCH):
        (client.upsert if upsert else client.insert)(collection, rows[start : start + BATCH])


def _new_manifest(settings: Settings, generation: str, corpus: dict) -> dict:
    embedder = settings.embedder
    return {
        "format": FORMAT,
        "store": "milvus",
        "layout": LAYOUT,
        "generation": generation,
        "qa_version": __version__,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embedder": {
            "name": embedder.name,
            "version": embedder.version,
            "dims": embedder.dims,
            "precision": getattr(embedder, "precision", "float32"),
        },
        "scoring": settings.scoring.to_json(),
        "lexical": settings.lexical.to_json(),
        "multilingual": _e5_record() if settings.multilingual else None,
        "corpus": corpus,
    }


def _e5_record() -> dict:
    from qa.multilingual import E5

    e5 = E5()
    return {"name": e5.name, "version": e5.version, "dims": e5.dims, "precision": e5.precision}


def build(
    where: Location,
    documents: list[Document],
    settings: Settings,
    corpus: dict,
    progress: bool = False,
    passages: list[Passage] | None = None,
) -> MilvusIndex:
    """A new generation of the archive from these interviews (and these passages of them, when
    given); the last one stays whole, and is what readers see, until the new one is complete."""
    from qa.locks import writing

    with writing(lock_dir(where)):
        write_generation(where, documents, settings, corpus, progress, passages)
    return load(where)


def write_generation(
    where: Location,
    documents: list[Document],
    settings: Settings,
    corpus: dict,
    progress: bool = False,
    passages: list[Passage] | None = None,
) -> None:
    """`build` for a caller that holds the archive's write lock."""
    if not documents:
        raise QAError("no interviews to build the archive from")
    with connected(where) as client:
        (passage_rows, sentence_rows, document_rows), encoded = _rows(
            documents, settings, uuid.uuid4().hex, progress, passages
        )
        if not passage_rows:
            raise QAError("no answer passages found in the transcripts")
        generation = uuid.uuid4().hex[:12]
        names = _names(where, generation)
        for kind, name in names.items():
            _create(
                client, where, name, kind, settings.embedder.dims, settings.multilingual, settings.lexical
            )
        for kind, rows in zip(names, (passage_rows, sentence_rows, document_rows), strict=True):
            _insert(client, names[kind], rows)
            client.flush(names[kind])
        if not client.has_collection(_meta(where)):
            _create(client, where, _meta(where), "meta", 2, False, settings.lexical)
        _put_meta(client, where, _new_manifest(settings, generation, corpus), encoded)  # the switch
        _drop_other_generations(client, where, generation)


def _drop_other_generations(client, where: Location, current: str) -> None:
    """Collections of generations that are not the current one (the one replaced, a failed build's)."""
    keep = set(_names(where, current).values()) | {_meta(where)}
    pattern = re.compile(rf"{re.escape(where.name)}_[0-9a-f]{{12}}_(passages|sentences|documents)")
    for name in client.list_collections():
        if pattern.fullmatch(name) and name not in keep:
            client.drop_collection(name)


def lock_dir(where: Location) -> Path:
    """The local folder whose locks (qa/locks.py) queue this machine's writers to the archive."""
    where.state_dir.mkdir(parents=True, exist_ok=True)
    return where.state_dir


def current(where: Location) -> tuple[dict, dict[str, str], dict[str, str]] | None:
    """(manifest, collection names, text hash -> doc id) of the archive; None when there is none."""
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
        written = json.loads(client.get(_meta(where), ids=["written"], output_fields=["value"])[0]["value"])
    embedded = {"encoded": written["encoded"], "reused": 0}
    return Summary(
        where, {**manifest, "passage_count": count, "embedded": embedded}, dict(sorted(documents.items()))
    )


def put(where: Location, documents: list[Document], progress: bool = False) -> None:
    """Write these interviews into the archive, each replacing its rows from before (if any):
    theirs are upserted, then their older rows deleted; no other interview's row is touched.
    The caller holds the write lock."""
    manifest, names, _ = current(where)
    written = uuid.uuid4().hex
    rows, encoded = _rows(documents, settings_of(manifest), written, progress)
    with connected(where) as client:
        for kind, batch in zip(("passages", "sentences", "documents"), rows, strict=True):
            client.load_collection(names[kind])
            _insert(client, names[kind], batch, upsert=True)
        _delete(client, names, [d.doc_id for d in documents], f" and written != {quoted(written)}")
        _put_meta(client, where, None, encoded)


def delete(where: Location, doc_ids: list[str]) -> None:
    """Delete these interviews' rows (the caller holds the write lock)."""
    manifest, names, _ = current(where)
    with connected(where) as client:
        _delete(client, names, doc_ids)
        _put_meta(client, where, None)


def _delete(client, names: dict[str, str], doc_ids: list[str], also: str = "") -> None:
    for name in names.values():
        client.delete(name, filter=f"{one_of('doc_id', doc_ids)}{also}")
        client.flush(name)


def settings_of(manifest: dict) -> Settings:
    from qa.embedders import get_embedder

    return Settings(
        get_embedder(manifest["embedder"]["name"]),
        Scoring(**manifest["scoring"]),
        bool(manifest.get("multilingual")),
        LexicalSettings(**manifest["lexical"]),
    )


# --- reading -------------------------------------------------------------------------------------


class Selection(np.ndarray):
    """Passage rows that also say, as a Milvus filter expression, which rows they are."""

    expression: str | None = None

    def __array_finalize__(self, obj) -> None:
        self.expression = None  # a slice or a copy is plain rows again


def _selection(rows: np.ndarray, expression: str) -> Selection:
    selected = np.asarray(rows, dtype=np.int64).view(Selection)
    selected.expression = expression
    return selected


@dataclass(frozen=True)
class MilvusIndex(Index):
    """An Index whose searches and vectors are in Milvus (see the module's docstring)."""

    where: Location | None = None
    client: object = None
    collections: dict | None = None
    _release: object = None

    @property
    def target(self) -> Location:
        return self.where

    def close(self) -> None:
        self._release()

    def stamp(self) -> str | None:
        try:
            found = self.client.get(_meta(self.where), ids=["written"], output_fields=["value"])
        except Exception:  # noqa: BLE001 (a server away: keep serving what is loaded)
            return None
        return found[0]["value"] if found else None

    def reopen(self) -> MilvusIndex:
        return load(self.where)

    def sources(self) -> dict[str, str]:
        parts: dict[str, list[tuple[int, str]]] = {}
        for row in _all(self.client, self.collections["documents"], ["doc_id", "part", "text"]):
            parts.setdefault(row["doc_id"], []).append((row["part"], row["text"]))
        return {doc_id: "".join(text for _, text in sorted(own)) for doc_id, own in parts.items()}

    def rows_where(self, doc_ids=None, speakers=None):
        rows = super().rows_where(doc_ids, speakers)
        if rows is None:
            return None
        clauses = [one_of("doc_id", sorted(doc_ids))] if doc_ids is not None else []
        clauses += [one_of("speaker", sorted(speakers))] if speakers is not None else []
        return _selection(rows, " and ".join(clauses))

    def _filter(self, allowed) -> str | None:
        if allowed is None:
            return ""
        if len(allowed) == 0:
            return None
        expression = getattr(allowed, "expression", None)
        return expression or one_of("passage_id", [self.passages[r].passage_id for r in allowed])

    def _search(self, field: str, data, k: int, allowed, params: dict):
        expression = self._filter(allowed)
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

    def dense_top(self, vector, k, allowed):
        return self._search("vector", [vector[0].tolist()], k, allowed, {"metric_type": "IP"})

    def multilingual_top(self, vector, k, allowed):
        return self._search("e5", [vector[0].tolist()], k, allowed, {"metric_type": "IP"})

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
            return super().sentence_scores(vector, rows)
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

    def bm25_top(self, question, k, allowed):
        terms = self.lexical.terms(question)  # each once, as the folder's BM25 counts them
        if not terms:  # only stopwords: nothing to match
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        return self._search("sparse", [" ".join(terms)], k, allowed, {"metric_type": "BM25"})


class _Vectors:
    """One vector field of the passages collection, read by row (FAISS's reconstruct_batch)."""

    def __init__(self, index_ref, field: str, dims: int) -> None:
        self._index, self.field, self.d = index_ref, field, dims
        self.ntotal = 0

    def reconstruct_batch(self, rows) -> np.ndarray:
        index = self._index()
        ids = [index.passages[int(r)].passage_id for r in rows]
        return index._call(_fetched, index.client, index.collections["passages"], ids, self.field, self.d)


class _Sentences:
    """The sentence vectors, read by global sentence row as the folder's memory-mapped array is."""

    def __init__(self, index_ref, dims: int, starts: np.ndarray) -> None:
        self._index, self._starts = index_ref, starts
        self.shape = (int(starts[-1]), dims)

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        index = self._index()
        owners = np.searchsorted(self._starts, rows, side="right") - 1
        ids = [
            f"{index.passages[owner].passage_id}#{row - self._starts[owner]}"
            for owner, row in zip(owners.tolist(), rows.tolist(), strict=True)
        ]
        return index._call(
            _fetched, index.client, index.collections["sentences"], ids, "vector", self.shape[1]
        )


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
    written = json.loads(client.get(_meta(where), ids=["written"], output_fields=["value"])[0]["value"])
    # as the folder's manifest says: this write's encoded texts (a Milvus write reuses none)
    manifest = {
        **manifest,
        "passage_count": len(passages),
        "embedded": {"encoded": written["encoded"], "reused": 0},
    }
    holder: dict = {}
    ref = lambda: holder["index"]  # noqa: E731 (the vector readers reach their index without a cycle)
    vectors = _Vectors(ref, "vector", dims)
    vectors.ntotal = len(passages)
    multilingual = None
    if manifest.get("multilingual"):
        multilingual = _Vectors(ref, "e5", E5_DIMS)
        multilingual.ntotal = len(passages)
    lock_dir(where)
    index = MilvusIndex(
        where.state_dir,
        manifest,
        passages,
        documents,
        vectors,
        Scoring(**manifest["scoring"]),
        _Sentences(ref, dims, starts),
        starts,
        Lexical.build([p.text for p in passages] or [""], lexical_settings),
        multilingual,
        _rows_by(passages, "doc_id"),
        _rows_by(passages, "speaker"),
        {p.passage_id: row for row, p in enumerate(passages)},
        where,
        client,
        names,
        _Releaser(connection),
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


def _catalogue(client, collection: str) -> tuple[tuple[Passage, ...], list[int]]:
    rows = _all(client, collection, [*_FIELDS, "sentences"])
    rows.sort(key=lambda r: (r["doc_id"], r["turn_index"], r["chunk"]))
    passages = tuple(Passage(**{f: r[f] for f in _FIELDS}) for r in rows)
    return passages, [int(r["sentences"]) for r in rows]


def _records(client, collection: str) -> dict[str, dict]:
    rows = _all(client, collection, ["doc_id", "record"], "part == 0")
    return {r["doc_id"]: json.loads(r["record"]) for r in sorted(rows, key=lambda r: r["doc_id"])}


def _all(client, collection: str, output: list[str], expression: str = "") -> list[dict]:
    iterator = client.query_iterator(collection, batch_size=4096, filter=expression, output_fields=output)
    rows = []
    try:
        while batch := iterator.next():
            rows += batch
    finally:
        iterator.close()
    return rows
