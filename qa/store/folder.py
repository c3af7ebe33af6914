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
import shutil
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from qa import __version__
from qa.answer.lexical import BM25_DIR, Lexical, LexicalSettings
from qa.documents import Document, Passage, QAError
from qa.embed.cache import CACHE_DIR, CachedEncoder, cache_name, read_cache, write_cache
from qa.embed.embedders import Embedder
from qa.embed.multilingual import E5
from qa.embed.vectors import Scoring, best_sentence_scores, embed_passages
from qa.ingest import recordings
from qa.ingest.chunking import MAX_WORDS, passages_for
from qa.ingest.corpus import BUNDLED_CORPUS, corpus_hash, load_corpus
from qa.ingest.parsing import parse_turns
from qa.locks import reading, swapping
from qa.store.settings import ARCHIVE, DEFAULT_LEXICAL, DEFAULT_SCORING

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
class Index:
    folder: Path
    manifest: dict
    passages: tuple[Passage, ...]
    documents: dict[str, dict]
    faiss_index: object
    scoring: Scoring
    sentence_vectors: np.ndarray
    sentence_starts: np.ndarray
    lexical: Lexical
    multilingual: object | None  # FAISS index of e5 passage vectors, when built with them
    doc_rows: dict[str, np.ndarray]  # each document's passage rows, for searches scoped to some documents
    speaker_rows: dict[str, np.ndarray]  # each speaker's passage rows, for the speaker filter
    rows: dict[str, int]  # each passage id's row, for the retrievers and the engine alike

    def rows_of(self, doc_ids) -> np.ndarray:
        """The passage rows of these documents, ascending."""
        return _union(self.doc_rows, doc_ids)

    # The index's searches, each (scores, rows) best first, over every row or only `allowed` ones:
    # the seam a store other than this folder (qa/store/milvus_index.py) answers behind.
    def dense_top(self, vector: np.ndarray, k: int, allowed: np.ndarray | None):
        return faiss_search(self.faiss_index, vector, k, allowed)

    def multilingual_top(self, vector: np.ndarray, k: int, allowed: np.ndarray | None):
        return faiss_search(self.multilingual, vector, k, allowed)

    def sentence_scores(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """For each passage row, the cosine of its best sentence with the question vector."""
        return best_sentence_scores(vector, rows, self.sentence_vectors, self.sentence_starts)

    def bm25_top(self, question: str, k: int, allowed: np.ndarray | None):
        """Passages sharing a term with the question, by BM25 score (k: all of them)."""
        scores = self.lexical.scores(question)
        rows = np.flatnonzero(scores > 0)
        if allowed is not None:
            rows = np.intersect1d(rows, allowed, assume_unique=True)
        return scores[rows], rows

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

    def rows_where(self, doc_ids=None, speakers=None) -> np.ndarray | None:
        """The passage rows of these documents said by these speakers (None: no filter at all).
        A filter that matches nothing gives no rows, never every row."""
        if doc_ids is None and speakers is None:
            return None
        rows = [_union(self.doc_rows, doc_ids)] if doc_ids is not None else []
        rows += [_union(self.speaker_rows, speakers)] if speakers is not None else []
        return rows[0] if len(rows) == 1 else np.intersect1d(*rows, assume_unique=True)


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


def _union(rows_by_key: dict[str, np.ndarray], keys) -> np.ndarray:
    parts = [rows_by_key[key] for key in keys if key in rows_by_key]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def default_index_dir() -> Path:
    return Path(os.environ.get("QA_INDEX_DIR", "index"))


def corpus_passages(documents: list[Document], max_words: int = MAX_WORDS) -> list[Passage]:
    return [p for doc in documents for p in passages_for(doc, parse_turns(doc), max_words)]


def _corpus_label(corpus_dir: Path) -> str:
    return _BUNDLED if corpus_dir.resolve() == BUNDLED_CORPUS.resolve() else str(corpus_dir.resolve())


def _corpus_path(label: str) -> Path:
    return BUNDLED_CORPUS if label == _BUNDLED else Path(label)


def _document_record(document: Document) -> dict:
    return {f.name: getattr(document, f.name) for f in fields(document) if f.name != "text"}


def corpus_record(corpus_dir: Path, documents: list[Document]) -> dict:
    return {"path": _corpus_label(corpus_dir), "hash": corpus_hash(corpus_dir), "documents": len(documents)}


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
    reusable = _verified(index_dir)
    ahead = ahead or {}

    def cached(model) -> CachedEncoder:
        known = read_cache(index_dir, model) if reusable else {}
        return CachedEncoder(model, known, ahead.get(cache_name(model)))

    encoder = cached(embedder)
    vectors = embed_passages(encoder, passages, scoring, progress=progress)
    texts = [p.text for p in passages]
    bm25 = Lexical.build(texts, lexical)
    e5 = cached(E5()) if multilingual else None
    e5_index = None
    if e5:
        e5_index = vector_index(e5.encode(texts, progress=progress))
    faiss_index = vector_index(vectors.passages)
    manifest = {
        "format": FORMAT,
        "qa_version": __version__,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embedder": model_record(embedder),
        "scoring": scoring.to_json(),
        "lexical": lexical.to_json(),
        "multilingual": model_record(e5) if e5 else None,
        "max_words": MAX_WORDS,
        "passage_count": len(passages),
        "corpus": corpus,
        "embedded": {  # texts (passages, sentences, questions) the models encoded, and reused
            "encoded": encoder.encoded + (e5.encoded if e5 else 0),
            "reused": encoder.reused + (e5.reused if e5 else 0),
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
        write_cache(staging / CACHE_DIR, encoder)
        if e5:
            write_cache(staging / CACHE_DIR, e5)
        np.save(staging / "sentences.npy", vectors.sentences)
        np.save(staging / "sentence_starts.npy", vectors.sentence_starts)
        bm25.save(staging / BM25_DIR)
        files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        manifest["files"] = {name: _file_record(staging / name) for name in files}
        for name, (source, own) in sources.items():
            recordings.place(source, staging / recordings.FOLDER, name, own)
            _fsync(staging / recordings.FOLDER / name)
        kept = {name: {"bytes": (staging / recordings.FOLDER / name).stat().st_size} for name in sources}
        manifest["recordings"] = kept
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for name in (*files, MANIFEST):
            _fsync(staging / name)
        _fsync(staging / BM25_DIR)
        _fsync(staging / CACHE_DIR)
        if sources:
            _fsync(staging / recordings.FOLDER)
        _fsync(staging)
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_record(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_into_place(staging: Path, index_dir: Path) -> None:
    """Make staging the index: the old index stays whole until the new one is in place, and no
    reader loads or vote lands meanwhile (qa/locks.py).

    A crash between the two renames leaves the old index under `.NAME.previous`, which `recover`
    (run before anything opens the index) puts back.
    """
    previous = _previous(index_dir)
    with swapping(index_dir):
        shutil.rmtree(previous, ignore_errors=True)
        if (index_dir / FEEDBACK_FILE).exists():  # people's votes outlive the index they were cast on
            shutil.copy2(index_dir / FEEDBACK_FILE, staging / FEEDBACK_FILE)
            _fsync(staging / FEEDBACK_FILE)
        if index_dir.exists():
            os.rename(index_dir, previous)
        os.rename(staging, index_dir)
        _fsync(index_dir.parent)
    shutil.rmtree(previous, ignore_errors=True)


def _previous(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.previous"


def recover(index_dir: Path) -> None:
    """Finish what a writer killed in a swap left: the old index back in place if the new one never
    got there, never an "empty" archive mistaken for a new one. Safe to call any time."""
    previous = _previous(index_dir)
    if index_dir.exists() or not previous.is_dir():
        return
    with swapping(index_dir):  # a live writer's swap finishes first; then look again
        if not index_dir.exists() and previous.is_dir():
            os.rename(previous, index_dir)
            _fsync(index_dir.parent)


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
        index_dir,
        manifest,
        passages,
        documents,
        faiss_index,
        scoring,
        sentence_vectors,
        sentence_starts,
        lexical,
        multilingual,
        _rows_by(passages, "doc_id"),
        _rows_by(passages, "speaker"),
        {p.passage_id: row for row, p in enumerate(passages)},
    )


def _rows_by(passages: tuple[Passage, ...], field: str) -> dict[str, np.ndarray]:
    rows: dict[str, list[int]] = {}
    for row, passage in enumerate(passages):
        rows.setdefault(getattr(passage, field), []).append(row)
    return {key: np.array(r, dtype=np.int64) for key, r in rows.items()}


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
        if files.get(name) != _file_record(path):
            raise QAError(f"{path}: size or checksum differs from the manifest (damaged?); {fix}")
    folder = index_dir / recordings.FOLDER
    for name, record in manifest.get("recordings", {}).items():
        path = recordings.stored(folder, name)
        if path is None or path.stat().st_size != record.get("bytes"):
            where = folder / name
            raise QAError(f"{where}: recording missing or not the size the manifest says (damaged?); {fix}")
    return manifest


def _verified(index_dir: Path) -> bool:
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
    if corpus_dir is not None and manifest["corpus"]["path"] != _corpus_label(corpus_dir):
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
