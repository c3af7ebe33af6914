"""The index folder: build, save atomically, load with every manifest check.

index/
  manifest.json     what built it (embedder, corpus hash, versions) and each file's size and sha256
  index.faiss       inner-product FAISS index over normalised passage vectors
  passages.jsonl    one Passage per line, in FAISS row order
  documents.jsonl   one interview's metadata per line (title, outlet, url, ...)
  sentences.npy     one vector per sentence of every passage (see qa/embed/vectors.py)
  sentence_starts.npy  where each passage's sentences begin in sentences.npy
  multilingual.faiss   e5 passage vectors for questions in other languages (optional)
  bm25/             the BM25 model's arrays and vocabulary (see qa/answer/lexical.py)
  recordings/       the interviews' audio or video, DOC_ID.SUFFIX (see qa/ingest/recordings.py); the manifest
                    records each one's size, checked on load (a checksum would read every video)
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from qa import __version__
from qa.answer.lexical import BM25_DIR, Lexical, LexicalSettings
from qa.documents import Document, Filter, Passage, QAError
from qa.embed.embedders import Embedder
from qa.embed.multilingual import E5
from qa.embed.vectors import Scoring, best_sentence_scores
from qa.ingest import recordings
from qa.ingest.corpus import BUNDLED_CORPUS, corpus_hash
from qa.locks import reading, swapping
from qa.store.settings import ARCHIVE
from qa.store.snapshot import Snapshot, interviews_of

FORMAT = 2  # 2: sources.jsonl and the embedding cache
MANIFEST = "manifest.json"
MULTILINGUAL_FILE = "multilingual.faiss"
CORE_FILES = (
    "index.faiss",
    "passages.jsonl",
    "documents.jsonl",
    "sources.jsonl",
    "sentences.npy",
    "sentence_starts.npy",
)
_BUNDLED = "bundled"
FEEDBACK_FILE = "feedback.jsonl"  # votes from the page (qa/app/feedback.py): kept across rebuilds, not hashed


@dataclass(frozen=True)
class Index(Snapshot):
    """An index folder as loaded: every passage in memory, FAISS indexes, BM25 arrays, sentence
    vectors memory-mapped. A row is a passage's place in `passages`, FAISS's and BM25's alike."""

    folder: Path
    passages: tuple[Passage, ...]
    lexical: Lexical
    faiss_index: object
    sentence_vectors: np.ndarray
    sentence_starts: np.ndarray
    multilingual_index: object | None  # FAISS index of e5 passage vectors, when built with them
    doc_rows: dict[str, np.ndarray]  # each interview's passage rows, for searches scoped to some
    speaker_rows: dict[str, np.ndarray]  # each speaker's passage rows, for the speaker filter
    rows: dict[str, int]  # each passage id's row

    def rows_for(self, where: Filter | None) -> np.ndarray | None:
        """The passage rows a filter admits, ascending (None: every row)."""
        if where is None:
            return None
        rows = [_union(self.doc_rows, where.doc_ids)] if where.doc_ids is not None else []
        rows += [_union(self.speaker_rows, where.speakers)] if where.speakers is not None else []
        if not rows:
            return None
        return rows[0] if len(rows) == 1 else np.intersect1d(*rows, assume_unique=True)

    def _rows_of(self, passages: list[Passage]) -> np.ndarray:
        return np.array([self.rows[p.passage_id] for p in passages], dtype=np.int64)

    def _found(self, scores: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, list[Passage]]:
        return scores, [self.passages[r] for r in rows.tolist()]

    def dense_top(self, vector: np.ndarray, k: int, where: Filter | None):
        return self._found(*faiss_search(self.faiss_index, vector, k, self.rows_for(where)))

    def multilingual_top(self, vector: np.ndarray, k: int, where: Filter | None):
        return self._found(*faiss_search(self.multilingual_index, vector, k, self.rows_for(where)))

    def bm25_top(self, question: str, k: int, where: Filter | None):
        """Every passage sharing a term with the question (k: a store that ranks may stop there)."""
        scores = self.lexical.scores(question)
        rows = np.flatnonzero(scores > 0)
        allowed = self.rows_for(where)
        if allowed is not None:
            rows = np.intersect1d(rows, allowed, assume_unique=True)
        return self._found(scores[rows], rows)

    def sentence_scores(self, vector: np.ndarray, passages: list[Passage]) -> np.ndarray:
        rows = self._rows_of(passages)
        return best_sentence_scores(vector, rows, self.sentence_vectors, self.sentence_starts)

    def passage_vectors(self, passages: list[Passage]) -> np.ndarray:
        return self.faiss_index.reconstruct_batch(self._rows_of(passages))

    def multilingual_vectors(self, passages: list[Passage]) -> np.ndarray:
        return self.multilingual_index.reconstruct_batch(self._rows_of(passages))

    def matched_terms(self, question: str, passages: list[Passage]) -> tuple[np.ndarray, int]:
        return self.lexical.matched_terms(question, self._rows_of(passages))

    def turn(self, doc_id: str, turn_index: int) -> list[tuple[Passage, np.ndarray]]:
        starts = self.sentence_starts
        return [
            (self.passages[r], np.asarray(self.sentence_vectors[starts[r] : starts[r + 1]], dtype=np.float32))
            for r in self.doc_rows[doc_id].tolist()
            if self.passages[r].turn_index == turn_index
        ]

    def asked_candidates(self, stems: frozenset[str], needed: int, words: str):
        return (p for p in self.passages if p.in_answer_to)  # all of them: they are in memory

    def passages_of(self, doc_id: str) -> list[Passage]:
        return [self.passages[r] for r in self.doc_rows.get(doc_id, np.zeros(0, np.int64)).tolist()]

    def has_passage(self, passage_id: str) -> bool:
        return passage_id in self.rows

    def recording(self, doc_id: str) -> Path | None:
        """The file of this interview's recording, when it has one: looked up by doc id in the
        archive's own records, never a path from elsewhere (qa/ingest/recordings.py)."""
        name = self.documents.get(doc_id, {}).get("recording", "")
        return recordings.stored(self.folder / recordings.FOLDER, str(name))

    @property
    def target(self) -> Path:
        """What `load`, `qa add` and `qa remove` are given to reach this index again."""
        return self.folder

    def stamp(self) -> tuple[int, int] | None:
        """Changes whenever a writer replaces the index (None: nothing there now)."""
        try:
            found = (self.folder / MANIFEST).stat()
        except OSError:
            return None
        return found.st_ino, found.st_mtime_ns

    def reopen(self) -> Index:
        """The index as it is now (after another writer's change)."""
        return load(self.folder)

    def close(self) -> None:
        """Nothing to let go: a folder's index is all in memory (or memory-mapped)."""

    def sources(self) -> dict[str, str]:
        """Each interview's source text by doc id."""
        return {r["doc_id"]: r["text"] for r in map(json.loads, _lines(self.folder / "sources.jsonl"))}


EXACT_UP_TO = 50_000  # a filtered search over at most this many rows scores them all directly
HNSW_EF_SEARCH = 128  # how widely an HNSW index looks: recall against exact search rises with it


def faiss_search(vectors, question: np.ndarray, k: int, allowed: np.ndarray | None):
    """(scores, rows): the top k rows of a FAISS index for one question vector, over every row
    or only the `allowed` ones (few allowed rows are scored exactly, whatever the index)."""
    import faiss

    k = min(k, vectors.ntotal if allowed is None else len(allowed))
    if k <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    if allowed is not None and len(allowed) <= EXACT_UP_TO:
        scores = vectors.reconstruct_batch(allowed) @ question[0]
        top = np.argsort(-scores, kind="stable")[:k]
        return scores[top], allowed[top]
    selector = None if allowed is None else faiss.IDSelectorBatch(allowed)
    if isinstance(vectors, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, k), sel=selector)
    else:
        params = None if selector is None else faiss.SearchParameters(sel=selector)
    scores, rows = vectors.search(question, k, params=params)
    keep = rows[0] >= 0
    return scores[0][keep], rows[0][keep]


def default_index_dir() -> Path:
    return Path(os.environ.get("QA_INDEX_DIR", "index"))


def corpus_label(corpus_dir: Path) -> str:
    return _BUNDLED if corpus_dir.resolve() == BUNDLED_CORPUS.resolve() else str(corpus_dir.resolve())


def _corpus_path(label: str) -> Path:
    return BUNDLED_CORPUS if label == _BUNDLED else Path(label)


# Up to this many passages, exact search (a flat index) answers within ~5 ms on one core here (11 ms
# at 100k); past it, an HNSW graph keeps a query in milliseconds at the cost of more memory per
# passage and a slower build (bench/scale.py measures both).
FLAT_UP_TO = 50_000
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 80


def model_record(model) -> dict:
    """What the manifest says of a model that embedded the index: name, version, dimensions, and
    the precision it encoded in (qa/embed/hardware.py; either precision searches the index)."""
    return {
        "name": model.name,
        "version": model.version,
        "dims": model.dims,
        "precision": getattr(model, "precision", "float32"),
    }


def vector_index(vectors: np.ndarray):
    """A FAISS inner-product index of these vectors, chosen by how many there are."""
    import faiss

    dims = vectors.shape[1]
    if len(vectors) <= FLAT_UP_TO:
        index = faiss.IndexFlatIP(dims)
    else:
        index = faiss.IndexHNSWFlat(dims, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def previous_dir(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.previous"


def recover(index_dir: Path) -> None:
    """Finish what a writer killed in a swap left: the old index back in place if the new one never
    got there, never an "empty" archive mistaken for a new one. Safe to call any time."""
    previous = previous_dir(index_dir)
    if index_dir.exists() or not previous.is_dir():
        return
    with swapping(index_dir):  # a live writer's swap finishes first; then look again
        if not index_dir.exists() and previous.is_dir():
            os.rename(previous, index_dir)
            fsync(index_dir.parent)


def load(index_dir: Path) -> Index:
    """Load an index folder, checking every file against the manifest; QAError says what to do."""
    recover(index_dir)
    with reading(index_dir):  # no swap while the files are read: all of one version
        return _load(index_dir)


def _load(index_dir: Path) -> Index:
    import faiss

    fix = "run `qa build` to rebuild it"
    manifest = _checked_manifest(index_dir, fix)
    count = int(manifest["passage_count"])
    dims = int(manifest["embedder"]["dims"])
    try:
        faiss_index = faiss.read_index(str(index_dir / "index.faiss"))
        multilingual = None
        if manifest.get("multilingual"):
            multilingual = faiss.read_index(str(index_dir / MULTILINGUAL_FILE))
        passages = tuple(Passage.from_json(json.loads(line)) for line in _lines(index_dir / "passages.jsonl"))
        documents = {d["doc_id"]: d for d in map(json.loads, _lines(index_dir / "documents.jsonl"))}
        # memory-mapped: a large archive reads only the rows its searches touch
        sentence_vectors = np.load(index_dir / "sentences.npy", allow_pickle=False, mmap_mode="r")
        sentence_starts = np.load(index_dir / "sentence_starts.npy", allow_pickle=False)
        scoring = Scoring(**manifest["scoring"])
        lexical = Lexical.load(index_dir / BM25_DIR, LexicalSettings(**manifest["lexical"]))
    except (RuntimeError, ValueError, TypeError, KeyError, OSError) as error:
        raise QAError(f"{index_dir}: unreadable index ({error}); {fix}") from None
    if (
        faiss_index.ntotal != count
        or len(passages) != count
        or faiss_index.d != dims
        or sentence_starts.shape != (count + 1,)
        or sentence_vectors.shape != (int(sentence_starts[-1]), dims)
        or lexical.model.scores["num_docs"] != count
        or (multilingual is not None and multilingual.ntotal != count)
    ):
        raise QAError(f"{index_dir}: passage count or dimensions disagree with the manifest; {fix}")
    return Index(
        manifest=manifest,
        documents=documents,
        interviews=interviews_of(passages),
        scoring=scoring,
        folder=index_dir,
        passages=passages,
        lexical=lexical,
        faiss_index=faiss_index,
        sentence_vectors=sentence_vectors,
        sentence_starts=sentence_starts,
        multilingual_index=multilingual,
        doc_rows=_rows_by(passages, "doc_id"),
        speaker_rows=_rows_by(passages, "speaker"),
        rows={p.passage_id: row for row, p in enumerate(passages)},
    )


def _rows_by(passages: tuple[Passage, ...], field: str) -> dict[str, np.ndarray]:
    rows: dict[str, list[int]] = {}
    for row, passage in enumerate(passages):
        rows.setdefault(getattr(passage, field), []).append(row)
    return {key: np.array(r, dtype=np.int64) for key, r in rows.items()}


def _union(rows_by_key: dict[str, np.ndarray], keys) -> np.ndarray:
    parts = [rows_by_key[key] for key in keys if key in rows_by_key]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def _checked_manifest(index_dir: Path, fix: str) -> dict:
    """The manifest, once every file it lists is present with its recorded size and checksum."""
    manifest_path = index_dir / MANIFEST
    if not manifest_path.exists():
        raise QAError(f"no index at {index_dir} (missing {MANIFEST}); run `qa build` to create it")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"]
        int(manifest["passage_count"])
        int(manifest["embedder"]["dims"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise QAError(f"{manifest_path}: unreadable manifest ({error}); {fix}") from None
    if manifest.get("format") != FORMAT:
        raise QAError(f"{manifest_path}: index format {manifest.get('format')} is not {FORMAT}; {fix}")
    for name in sorted({*CORE_FILES, *files}):
        path = index_dir / name
        if not path.exists():
            raise QAError(f"{path}: missing; {fix}")
        if files.get(name) != file_record(path):
            raise QAError(f"{path}: size or checksum differs from the manifest (damaged?); {fix}")
    folder = index_dir / recordings.FOLDER
    for name, record in manifest.get("recordings", {}).items():
        path = recordings.stored(folder, name)
        if path is None or path.stat().st_size != record.get("bytes"):
            where = folder / name
            raise QAError(f"{where}: recording missing or not the size the manifest says (damaged?); {fix}")
    return manifest


def verified(index_dir: Path) -> bool:
    """Whether index_dir holds an index whose files all match its manifest."""
    try:
        _checked_manifest(index_dir, "")
    except QAError:
        return False
    return True


def documents_of(index: Index) -> list[Document]:
    """The index's interviews as Documents again, text and all (for adding to or removing from it)."""
    texts = index.sources()
    names = {f.name for f in fields(Document)}
    documents = []
    for doc_id, record in index.documents.items():
        known = {k: v for k, v in record.items() if k in names}
        known["cues"] = tuple(tuple(cue) for cue in known.get("cues", ()))
        documents.append(Document(**{**known, "text": texts[doc_id]}))
    return documents


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def staleness(index: Index, embedder: Embedder, corpus_dir: Path | None = None) -> str | None:
    """Why the index no longer matches its corpus (or corpus_dir) or the embedder; None when current."""
    manifest = index.manifest
    if corpus_dir is not None and manifest["corpus"]["path"] != corpus_label(corpus_dir):
        return f"built from the corpus {manifest['corpus']['path']}, not {corpus_dir}"
    built_with = manifest["embedder"]
    if (built_with["name"], built_with["version"]) != (embedder.name, embedder.version):
        built = f"{built_with['name']} {built_with['version']}"
        return f"built with embedder {built}, not {embedder.name} {embedder.version}"
    built_e5 = manifest.get("multilingual")
    if built_e5 and built_e5["version"] != (installed := E5().version):
        return f"built with {built_e5['name']} {built_e5['version']}, not {installed}"
    if manifest.get("qa_version") != __version__:
        return f"built by qa {manifest.get('qa_version')}, this is qa {__version__}"
    corpus = _corpus_path(manifest["corpus"]["path"])
    if manifest["corpus"]["path"] == ARCHIVE:
        return None  # its own sources are its corpus
    if corpus.is_dir() and corpus_hash(corpus) != manifest["corpus"]["hash"]:
        return f"the corpus at {corpus} changed since the index was built"
    return None
