"""The archive in Milvus: where it is, the connection to it, its collections and manifest.

Its writes are qa/store/milvus_write.py; reading it as a Snapshot is qa/store/milvus_index.py;
both behind the store seam in qa/store/milvus_store.py.

`qa ... --store milvus --milvus-uri URI` (or $QA_MILVUS_URI, $QA_MILVUS_TOKEN): a path ending in
`.db` is an embedded Milvus Lite file, `http://host:19530` a Milvus server or cluster. Collections:

  NAME_meta                 the manifest (what built the archive, as the folder's manifest.json)
                            and a stamp every write changes (how a server sees another's change)
  NAME_G_passages           one row per passage: its metadata, text and BM25 terms (which a BM25
                            function makes a sparse field of), its vector, its e5 vector, and its
                            interviewer's question as stems and words (a question asked again)
  NAME_G_sentences          one vector per sentence of a passage (the dense score's sentence term)
  NAME_G_documents          each interview's metadata, its passages' count and speakers, and its
                            source text (in parts under Milvus's VARCHAR limit): what citations,
                            context, the filters and `qa build` read back
  NAME_G_terms              each BM25 term with how many passages hold it (a quote's idf weights)

G is the generation `qa build` wrote: a full build writes a new one and then points the manifest
at it, so a failed build leaves the last good archive whole. `qa add` and `qa remove` write or
delete one interview's rows in the current generation, never the others: new rows are upserted
first, then the interview's rows from before are deleted by a write id: a reader never finds a
replaced interview missing (while it is written, its old rows can show beside the new ones).

Dense, BM25 and both halves of hybrid search run in Milvus, with the interview and speaker filters
as Milvus filter expressions; the hybrid fusion is the client's (qa/answer/retrievers.py), so that both
stores rank alike: Milvus's own WeightedRanker normalises each list by arctan rather than min-max,
and cannot add the best sentence's cosine. The client keeps no passage catalogue: it holds the
interviews' records and fetches the passages and vectors it shows, so that its memory does not grow
with the archive (bench/milvus.py measures it).

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
from dataclasses import dataclass
from pathlib import Path

from qa.documents import QAError

DEFAULT_NAME = "qa"
SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")
LITE_WAIT_S = 60.0  # how long a process waits for another to let go of a Milvus Lite file
TEXT_LIMIT = 65_535  # Milvus's VARCHAR limit, in bytes
SOURCE_PART = 16_000  # characters of a source text per documents row (at most 4 bytes each)
# The layout of the collections (their fields, what a row holds): an archive of another layout is
# refused, with the command that rebuilds it, rather than read wrong.
LAYOUT = 2  # 2: the reader holds no passage catalogue (asked_*, interview, the terms collection)
BATCH = 500  # rows per insert: well under gRPC's message limit with 768-dimension vectors
FETCH_SENTENCES_UP_TO = 150  # passages whose sentences are fetched and scored here (sentence_scores)
E5_DIMS = 384


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
        """A local folder for the page's votes, the writers' locks and the interviews' recordings
        (a server's archive keeps them on the machine that adds them, beside QA_MILVUS_STATE)."""
        if self.lite:
            db = Path(self.uri)
            return db.parent / f"{db.stem}.{self.name}.state"
        host = re.sub(r"[^\w.-]+", "_", self.uri.split(":", 1)[1]).strip("_")
        return (
            Path(os.environ.get("QA_MILVUS_STATE", Path.home() / ".cache" / "qa-milvus")) / host / self.name
        )

    @property
    def missing(self) -> bool:
        """A Milvus Lite file that is not there (opening it would create an empty one)."""
        return self.lite and not Path(self.uri).exists()

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


# How long a client waits for Milvus to answer its first call: a server that is not there fails in
# CONNECT_SECONDS; Milvus Lite starts a server process of its own, which on a busy machine took over
# 30 s (a full test run with both cores busy), and a file it cannot open fails at once, not on this.
CONNECT_SECONDS, LITE_START_SECONDS, LITE_STARTS = 30, 120, 2


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
            # Milvus Lite imports setuptools' pkg_resources, and warns; it logs a failed start on the
            # root logger, where ours says it in one line
            with warnings.catch_warnings(), _quiet_root_logger():
                warnings.simplefilter("ignore")
                self.client = self._client(pymilvus, where)
        except Exception as error:  # a server that is not there, a file Milvus Lite cannot open
            self._unlock()
            if where.lite:
                raise QAError(
                    f"{where.uri}: Milvus Lite cannot open it ({_reason(error)}): damaged, or not a Milvus "
                    "Lite file? Move it aside and `qa build --store milvus` anew"
                ) from None
            raise QAError(f"cannot reach Milvus at {where.uri} ({_reason(error)})") from None

    @staticmethod
    def _client(pymilvus, where: Location):
        """A client of `where`. Milvus Lite's server process has, on a machine with every core busy,
        started and then not answered (once in some dozens of full test runs): it is stopped and
        started once more before the file is called unreadable; a damaged file fails both at once."""
        if not where.lite:
            return pymilvus.MilvusClient(uri=where.uri, token=where.token or "", timeout=CONNECT_SECONDS)
        from milvus_lite.server_manager import server_manager_instance

        for _ in range(LITE_STARTS - 1):
            try:
                return pymilvus.MilvusClient(uri=where.uri, timeout=LITE_START_SECONDS)
            except Exception:
                server_manager_instance.release_server(where.uri)
        return pymilvus.MilvusClient(uri=where.uri, timeout=LITE_START_SECONDS)

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


@contextlib.contextmanager
def _quiet_root_logger():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        root.setLevel(level)


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


KINDS = ("passages", "sentences", "documents", "terms")


def _names(where: Location, generation: str) -> dict[str, str]:
    prefix = f"{where.name}_{generation}"
    return {kind: f"{prefix}_{kind}" for kind in KINDS}


def _meta(where: Location) -> str:
    return f"{where.name}_meta"


# Milvus's BM25 reads a passage's `terms`: its words as the folder's BM25 reads them (lower case,
# two letters or more, bm25s's stopwords dropped, Snowball-stemmed; qa/answer/lexical.py), made here and
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
        # the interviewer's question as its content stems (" a b c ") and its words, whole and its
        # last sentence's, for finding a question asked again (qa/answer/asked.py) in Milvus
        for asked in ("asked_stems", "asked_whole", "asked_last"):
            schema.add_field(asked, DataType.VARCHAR, max_length=TEXT_LIMIT)
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
    elif kind == "terms":  # each BM25 term with the number of passages holding it (its idf's)
        schema.add_field("term", DataType.VARCHAR, max_length=1024, is_primary=True)
        schema.add_field("passages", DataType.INT64)
        schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
        index.add_index("unused", index_type="FLAT", metric_type="IP")
    else:  # documents
        schema.add_field("part_id", DataType.VARCHAR, max_length=1100, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("part", DataType.INT64)
        schema.add_field("record", DataType.VARCHAR, max_length=TEXT_LIMIT)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_LIMIT)
        schema.add_field("text_hash", DataType.VARCHAR, max_length=64)
        schema.add_field("interview", DataType.VARCHAR, max_length=TEXT_LIMIT)  # passages, speakers
        schema.add_field("written", DataType.VARCHAR, max_length=64)
        schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
        index.add_index("unused", index_type="FLAT", metric_type="IP")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")


def _manifest(client, where: Location) -> dict | None:
    if not client.has_collection(_meta(where)):
        return None
    return _meta_value(client, where, "manifest")


def _written(client, where: Location) -> dict | None:
    """The last write's stamp: its id (what a reader compares to see a change) and how many texts
    it encoded."""
    return _meta_value(client, where, "written")


META_RETRY_S = 2.0


def _meta_value(client, where: Location, key: str) -> dict | None:
    """A row of the archive's meta collection. Milvus upserts a row by deleting the old one and
    inserting the new, so a read between the two finds neither (seen with two writers and a reader
    on a busy machine): a missing row is read again for up to META_RETRY_S before it counts as
    absent."""
    deadline = time.monotonic() + META_RETRY_S
    while True:
        found = client.get(_meta(where), ids=[key], output_fields=["value"])
        if found or time.monotonic() > deadline:
            return json.loads(found[0]["value"]) if found else None
        time.sleep(0.05)


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


def _all(client, collection: str, output: list[str], expression: str = "") -> list[dict]:
    iterator = client.query_iterator(collection, batch_size=4096, filter=expression, output_fields=output)
    rows = []
    try:
        while batch := iterator.next():
            rows += batch
    finally:
        iterator.close()
    return rows


IDS_AT_ONCE = 1000  # primary keys asked for (or deleted) in one call


def got(client, collection: str, ids: list[str], output: list[str]) -> list[dict]:
    """The rows with these primary keys (those that are there), asked for IDS_AT_ONCE at a time."""
    rows = []
    for start in range(0, len(ids), IDS_AT_ONCE):
        rows += client.get(collection, ids=ids[start : start + IDS_AT_ONCE], output_fields=output)
    return rows


def lock_dir(where: Location) -> Path:
    """The local folder whose locks (qa/locks.py) queue this machine's writers to the archive."""
    where.state_dir.mkdir(parents=True, exist_ok=True)
    return where.state_dir
