"""An index as an archive of interviews: add files or folders, list, remove.

Every change writes a whole new index (FAISS, BM25, passages, sources) and swaps it in, so a search
never sees a removed interview or misses an added one; the embedding cache (qa/cache.py) makes that
cost only the new text. Each file is read and checked on its own: a bad one is reported and skipped,
and the interviews already in the archive are never touched by it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from qa import __version__, recordings
from qa.cache import CachedEncoder, cache_name, read_cache
from qa.chunking import passages_for
from qa.corpus import read_document
from qa.documents import INTERVIEWER, Document, Passage, QAError
from qa.embedders import Embedder, get_embedder
from qa.formats import is_transcript
from qa.locks import check_writable, writing
from qa.multilingual import E5
from qa.parsing import is_unlabelled, parse_turns, roles_uncertain
from qa.store import (
    ARCHIVE,
    DEFAULT_SCORING,
    MANIFEST,
    Index,
    build_from,
    corpus_passages,
    documents_of,
    in_milvus,
    load,
    recordings_folder,
    recover,
)
from qa.vectors import Scoring, embed_passages

REPLACE_NOTE = (
    "an interview named {doc_id} is already in the archive; to replace it, add the file again with"
    " --replace (the page: tick Replace)"
)


@dataclass(frozen=True)
class Outcome:
    """What became of one file: added, updated (same name, new content), or a problem."""

    path: Path
    doc_id: str = ""
    status: str = "added"  # added | updated | skipped (already there) | failed
    passages: int = 0
    note: str = ""

    @property
    def went_in(self) -> bool:
        return self.status in ("added", "updated")

    @property
    def detail(self) -> str:
        """For a file that went in: `as DOC_ID (N passages[; note])`."""
        return f"as {self.doc_id} ({self.passages} passages{f'; {self.note}' if self.note else ''})"


def files_under(paths: list[Path]) -> list[Path]:
    """The transcript files named, and those inside named folders (recursively, sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in _walk(path) if is_transcript(p) and not p.name.startswith("."))
        elif path.suffix.lower() != ".json" or is_transcript(path):  # not a named transcript's sidecar
            found.append(path)
    return found


def _walk(folder: Path) -> list[Path]:
    """The files in folder and below; a symbolic link is followed only when it points inside the
    folder (a link to /etc/passwd or to a sibling folder is not part of what was added)."""
    root = folder.resolve()
    files = []
    for where, _, names in os.walk(folder):  # links to folders are not descended into
        for name in names:
            path = Path(where) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                continue
            if path.is_file():
                files.append(path)
    return files


def text_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class _Read:
    """One transcript read and parsed (before the archive's write lock), with its recording."""

    path: Path
    document: Document
    passages: tuple[Passage, ...]
    note: str
    recording: Path | None = None


def _read(path: Path, interviewer: str = "", recording: Path | None = None) -> _Read:
    """The transcript at path read (with this interviewer, when given) and parsed; QAError when it
    cannot be added whatever the archive holds."""
    document = read_document(path)
    if interviewer:
        document = replace(document, interviewer=interviewer)
    if recording is not None:
        recordings.check(recording)
    turns = parse_turns(document)
    passages = passages_for(document, turns)
    if not passages:
        raise QAError(f"{path}: no answer passages found (only questions?)")
    note = ""
    if is_unlabelled(document):
        guessed = sum(turn.role == INTERVIEWER for turn in turns)
        note = "no speaker labels: one turn per paragraph"
        note += f", {guessed} question{'s' * (guessed != 1)} guessed" if guessed else ""
    if roles_uncertain(document):
        note = "who asks is unclear, so every turn is indexed as an answer: give the interviewer's name"
    return _Read(path, document, tuple(passages), note, recording)


def _read_all(paths: list[Path], interviewer: str, tell: Callable[[Outcome], None]) -> list[_Read]:
    """Every transcript under paths read and parsed, each with its recording (qa/recordings.py); a
    file that cannot be read, or a recording given without a transcript of its name, is told as
    failed."""
    transcripts, found, alone = recordings.pair(files_under(paths))
    for path in alone:
        note = f"{path}: a recording goes in with its transcript, and none named {path.stem} came with it"
        tell(Outcome(path, status="failed", note=note))
    read = []
    for path in transcripts:
        try:
            read.append(_read(path, interviewer, found.get(path)))
        except QAError as error:
            tell(Outcome(path, status="failed", note=str(error)))
    return read


def _unique_id(doc_id: str, taken: set[str]) -> str:
    if doc_id not in taken:
        return doc_id
    n = 2
    while f"{doc_id}-{n}" in taken:
        n += 1
    return f"{doc_id}-{n}"


def add(
    index_dir,
    paths: list[Path],
    *,
    embedder: Embedder | None = None,
    multilingual: bool = True,
    scoring: Scoring = DEFAULT_SCORING,
    progress: bool = False,
    report: Callable[[Outcome], None] = lambda outcome: None,
    interviewer: str = "",
    replace_existing: bool = False,
) -> tuple[Index | None, list[Outcome]]:
    """Add transcript files (or folders of them) to the archive at index_dir (a folder, or a
    Milvus archive's qa.milvus.Location), creating it if need be. A file whose name (doc id) is
    already in the archive replaces that interview; one whose text is already there is skipped.
    Returns the new index (None when nothing changed) and one outcome per file (in the order of
    the files), each also passed to `report` as soon as it is known. An existing archive keeps its
    own embedder, multilingual and scoring settings; the arguments apply to a new one.
    `interviewer` names who asks in every file added (a label with that name or surname is
    theirs). A file whose doc id is an interview already there is refused unless
    `replace_existing`.

    The files are read, parsed and embedded first; the archive's write lock (qa/locks.py) is held
    only to check them against what it holds, merge and write, so a slow file keeps no other
    writer waiting. Texts are embedded ahead with the settings the archive has when they are read;
    vectors are kept by model and text, so whatever another writer changed meanwhile, a text is at
    worst embedded again under the lock, never given a wrong vector."""
    outcomes: list[Outcome] = []

    def tell(outcome: Outcome) -> None:
        outcomes.append(outcome)
        report(outcome)

    check_writable(_lock_dir(index_dir))
    read = _read_all(paths, interviewer, tell)
    ahead = _embedded_ahead(index_dir, read, embedder, multilingual, scoring, progress)
    admit = functools.partial(_admit, read, tell, replace_existing)
    if in_milvus(index_dir):
        index = _add_to_milvus(index_dir, admit, embedder, multilingual, scoring, progress, ahead)
    else:
        index = _add_to_folder(index_dir, admit, embedder, multilingual, scoring, progress, ahead)
    order = {path: number for number, path in enumerate(files_under(paths))}
    return index, sorted(outcomes, key=lambda outcome: order.get(outcome.path, len(order)))


def _add_to_folder(index_dir: Path, admit, embedder, multilingual, scoring, progress, ahead):
    with writing(index_dir):
        recover(index_dir)  # an interrupted swap is not an empty archive
        existing = load(index_dir) if index_dir.exists() else None
        documents = {d.doc_id: d for d in documents_of(existing)} if existing else {}
        if existing:
            embedder = get_embedder(existing.manifest["embedder"]["name"])
            multilingual = bool(existing.manifest.get("multilingual"))
            scoring = existing.scoring
        embedder = embedder or get_embedder(None)
        hashes = {text_hash(d.text): d.doc_id for d in documents.values()}
        changed, media, passages = admit(set(documents), hashes)
        if not changed:
            return None
        documents.update(recordings.carried(changed, recordings_folder(index_dir)))
        documents = _sorted(documents.values())
        passages = _passages(documents, passages, existing)
        return _write(index_dir, documents, embedder, multilingual, scoring, progress, media, ahead, passages)


def _passages(documents: list[Document], new: dict[str, tuple[Passage, ...]], existing) -> list[Passage]:
    """The passages of these interviews, in their order, parsed as little as can be under the write
    lock: a new one's were made when its file was read, one already in the archive keeps those its
    index holds when the same qa version wrote it (so chunked alike); the rest are parsed again."""
    kept: dict[str, list[Passage]] = {}
    if existing is not None and existing.manifest.get("qa_version") == __version__:
        for passage in existing.passages:
            kept.setdefault(passage.doc_id, []).append(passage)
    passages = []
    for document in documents:
        own = new.get(document.doc_id) or kept.get(document.doc_id)
        passages += own if own is not None else passages_for(document, parse_turns(document))
    return passages


def _add_to_milvus(where, admit, embedder, multilingual, scoring, progress, ahead):
    """`add` for a Milvus archive: only the changed interviews' rows are written
    (qa/milvus_write.py), and what comes back is its summary, not the whole index read again."""
    from qa import milvus, milvus_write

    # one connection for the whole change (on Milvus Lite each new one starts its server again)
    with _writing(where), milvus.connected(where):
        found = milvus_write.current(where)
        if found:
            _leave_settings(where, found[0])
        hashes = found[2] if found else {}
        changed, media, passages = admit(set(hashes.values()), hashes)
        if not changed:
            return None
        changed = recordings.carried(changed, recordings_folder(where))
        recordings.keep(recordings_folder(where), media)
        documents = _sorted(changed.values())
        passages = _passages(documents, passages, None)
        if found:
            milvus_write.put(where, found[0], found[1], documents, progress, ahead, passages)
        else:
            settings = milvus_write.Settings(embedder or get_embedder(None), scoring, multilingual)
            corpus = _archive_corpus(documents)
            milvus_write.write_generation(where, documents, settings, corpus, progress, passages, ahead)
            _leave_settings(where, milvus_write.current(where)[0])
        return milvus_write.summary(where)


SETTINGS_NOTE = "settings.json"  # in a Milvus archive's local state folder


def _leave_settings(where, manifest: dict) -> None:
    """A note, beside the Milvus archive's lock, of the settings its manifest holds: what the next
    writer embeds its new texts with before it takes the lock (Milvus Lite serves one process at a
    time, so it cannot be asked then). Only a guess for that: the manifest read under the lock
    decides."""
    from qa import milvus

    keep = {k: manifest.get(k) for k in ("embedder", "multilingual", "scoring")}
    (milvus.lock_dir(where) / SETTINGS_NOTE).write_text(json.dumps(keep) + "\n", encoding="utf-8")


def _settings_now(target) -> dict | None:
    """The archive's embedding settings as it says now, without its lock (a folder's manifest, a
    Milvus archive's note); None for a new archive or one that cannot say."""
    path = target.state_dir / SETTINGS_NOTE if in_milvus(target) else Path(target) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        return {
            "embedder": get_embedder(manifest["embedder"]["name"]),
            "multilingual": bool(manifest.get("multilingual")),
            "scoring": Scoring(**manifest["scoring"]),
        }
    except (OSError, ValueError, KeyError, TypeError, QAError):
        return None


def _embedded_ahead(target, read: list[_Read], embedder, multilingual, scoring, progress) -> dict:
    """The vectors of the files' texts (by qa.cache.cache_name of their model) that the archive
    does not hold yet, embedded with its settings as it says now (qa.store.build_from and
    qa.milvus_write take them)."""
    if not read:
        return {}
    now = _settings_now(target)
    if now is not None:
        embedder, multilingual, scoring = now["embedder"], now["multilingual"], now["scoring"]
    embedder = embedder or get_embedder(None)
    folder = None if in_milvus(target) else Path(target)

    def cached(model) -> CachedEncoder:  # vectors the archive holds need not be embedded ahead
        return CachedEncoder(model, read_cache(folder, model) if folder and folder.is_dir() else {})

    passages = [p for one in read for p in one.passages]
    encoder = cached(embedder)
    embed_passages(encoder, passages, scoring, progress=progress)
    ahead = {cache_name(embedder): encoder.fresh}
    if multilingual:
        e5 = cached(E5())
        e5.encode([p.text for p in passages], progress=progress)
        ahead[cache_name(e5.model)] = e5.fresh
    return ahead


def _admit(read: list[_Read], tell, replace_existing, known: set[str], hashes: dict[str, str]):
    """(the interviews to write; the recordings that go in with them; their passages; each by doc
    id): the files read, checked against the archive's doc ids (`known`) and text hashes, and
    against the files before them, each one's outcome told. The same text under another name is a
    duplicate; under its own name, when `replace_existing`, it is read again (say, with its
    interviewer)."""
    hashes, changed, media, passages = dict(hashes), {}, {}, {}
    for one in read:
        document, path, note, own = one.document, one.path, one.note, one.passages
        duplicate = hashes.get(text_hash(document.text))
        if duplicate and not (replace_existing and duplicate == document.doc_id):
            note = f"{path}: the same interview is already in the archive as {duplicate!r}; skipped"
            tell(Outcome(path, status="skipped", note=note))
            continue
        doc_id = document.doc_id
        updated = doc_id in known and doc_id not in changed
        if updated and not replace_existing:
            tell(Outcome(path, status="failed", note=f"{path}: {REPLACE_NOTE.format(doc_id=doc_id)}"))
            continue
        if doc_id in changed:  # two files of one name in different folders: both kept
            doc_id = _unique_id(doc_id, known | set(changed))
            document = replace(document, doc_id=doc_id)
            own = tuple(passages_for(document, parse_turns(document)))  # ids name the interview
        if updated:
            hashes = {h: d for h, d in hashes.items() if d != doc_id}
        if one.recording is not None:
            document = replace(document, recording=recordings.name_for(doc_id, one.recording))
            media[doc_id] = one.recording
            note = "; ".join(n for n in (note, f"with its recording {one.recording.name}") if n)
        changed[doc_id], passages[doc_id] = document, own
        hashes[text_hash(document.text)] = doc_id
        tell(Outcome(path, doc_id, "updated" if updated else "added", len(own), note))
    return changed, media, passages


def remove(index_dir, doc_ids: list[str], *, progress: bool = False) -> Index:
    """The archive without these interviews; QAError naming an id it does not hold."""
    if in_milvus(index_dir):
        return _remove_from_milvus(index_dir, doc_ids)
    with writing(index_dir):
        return _remove(index_dir, doc_ids, progress)


def _remove_from_milvus(where, doc_ids: list[str]) -> Index:
    from qa import milvus, milvus_write

    with _writing(where), milvus.connected(where):
        found = milvus_write.current(where)
        if found is None:
            raise QAError(f"no archive in Milvus at {where}; `qa add --store milvus` creates one")
        _check_removal(set(found[2].values()), doc_ids, where)
        milvus_write.delete(where, found[1], doc_ids)
        recordings.drop(recordings_folder(where), doc_ids)
        return milvus_write.summary(where)


def _check_removal(present: set[str], doc_ids: list[str], where) -> None:
    missing = [d for d in doc_ids if d not in present]
    if missing:
        raise QAError(f"no interview {missing[0]!r} in the index at {where}; `qa list` shows them")
    if present <= set(doc_ids):
        raise QAError(f"removing {', '.join(doc_ids)} would leave the index at {where} empty")


def _remove(index_dir: Path, doc_ids: list[str], progress: bool) -> Index:
    index = load(index_dir)
    _check_removal(set(index.documents), doc_ids, index_dir)
    kept = [d for d in documents_of(index) if d.doc_id not in set(doc_ids)]
    embedder = get_embedder(index.manifest["embedder"]["name"])
    multilingual = bool(index.manifest.get("multilingual"))
    return _write(index_dir, kept, embedder, multilingual, index.scoring, progress)


def refresh(
    index_dir: Path,
    *,
    embedder: Embedder | None = None,
    multilingual: bool | None = None,
    scoring: Scoring | None = None,
    progress: bool = False,
) -> Index:
    """Rebuild an archive from its own sources (after a model or qa upgrade), with this embedder,
    multilingual and scoring settings, or those it was built with."""
    with _writing(index_dir):
        index = load(index_dir)
        embedder = embedder or get_embedder(index.manifest["embedder"]["name"])
        if multilingual is None:
            multilingual = bool(index.manifest.get("multilingual"))
        documents, scoring = documents_of(index), scoring or index.scoring
        index.close()
        return _write(index_dir, documents, embedder, multilingual, scoring, progress)


def _writing(target):
    """The archive's write lock (qa/locks.py): beside a folder, or in a Milvus archive's local
    state folder."""
    return writing(_lock_dir(target))


def _lock_dir(target) -> Path:
    if in_milvus(target):
        from qa import milvus

        return milvus.lock_dir(target)
    return target


def _write(
    index_dir,
    documents: list[Document],
    embedder: Embedder,
    multilingual: bool,
    scoring: Scoring,
    progress: bool,
    media: dict[str, Path] | None = None,
    ahead: dict | None = None,
    passages: list[Passage] | None = None,
) -> Index:
    """The archive rewritten with these interviews; `media` holds the recordings that come in with
    them, by doc id (the others keep the archive's own copy); `ahead`, vectors embedded before the
    write lock (qa.store.build_from); `passages`, theirs when known (else they are parsed)."""
    documents = _sorted(documents)
    passages = corpus_passages(documents) if passages is None else passages
    if in_milvus(index_dir):  # a new generation
        from qa import milvus_write

        recordings.keep(recordings_folder(index_dir), media or {})
        settings = milvus_write.Settings(embedder, scoring, multilingual)
        corpus = _archive_corpus(documents)
        milvus_write.write_generation(index_dir, documents, settings, corpus, progress, passages, ahead)
        return load(index_dir)
    return build_from(
        documents,
        passages,
        index_dir,
        embedder,
        corpus=_archive_corpus(documents),
        scoring=scoring,
        multilingual=multilingual,
        progress=progress,
        media=media,
        ahead=ahead,
    )


def _sorted(documents) -> list[Document]:
    return sorted(documents, key=lambda d: d.doc_id)


def _archive_corpus(documents) -> dict:
    """The manifest's corpus record of an archive: its interviews' texts are its corpus."""
    documents = _sorted(documents)
    digest = hashlib.sha256("".join(text_hash(d.text) for d in documents).encode()).hexdigest()
    return {"path": ARCHIVE, "hash": digest, "documents": len(documents)}


CITED = ("outlet", "published", "interviewer")


def listing(index: Index) -> list[dict]:
    """One row per interview: id, title, format, passages, speakers (interviewees quoted)."""
    rows = []
    for doc_id, record in sorted(index.documents.items()):
        rows_of = index.doc_rows.get(doc_id, ())
        speakers = sorted({index.passages[r].speaker for r in rows_of})
        rows.append(
            {
                "doc_id": doc_id,
                "title": record.get("title", ""),
                "format": record.get("format", "text"),
                "passages": len(rows_of),
                "speakers": speakers,
                "published": record.get("published", ""),
                "path": record.get("path", ""),
                "recording": record.get("recording", ""),  # its file in the archive, if it has one
                # what a citation cannot say (a sidecar NAME.json, front matter or a byline gives it)
                "missing": [f for f in CITED if not record.get(f)],
            }
        )
    return rows
