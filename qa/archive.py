"""An index as an archive of interviews: add files or folders, list, remove.

What a change does is the same in every store (qa/store/): each file is read and checked on its
own (a bad one is reported and skipped, and the interviews already in the archive are never touched
by it), embedded ahead, then written under the archive's write lock. How it is written is the
store's: a folder writes a whole new index and swaps it in (its embedding cache makes that cost only
the new text), Milvus writes only the changed interviews' rows.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.documents import INTERVIEWER, Document, Passage, QAError, text_hash
from qa.embed.embedders import Embedder, get_embedder
from qa.embed.vectors import Scoring
from qa.ingest import recordings
from qa.ingest.chunking import passages_for
from qa.ingest.corpus import read_document, read_metadata
from qa.ingest.formats import is_transcript
from qa.ingest.parsing import is_unlabelled, parse_turns, roles_uncertain
from qa.locks import check_writable
from qa.store import DEFAULT_SCORING, Settings, Snapshot, Written, at
from qa.store.embedding import embed
from qa.store.snapshot import Interview

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


@dataclass(frozen=True)
class Listening:
    """How a recording given without a transcript is transcribed (qa/ingest/transcribe.py): how many
    speakers it has (None: estimated), the names of its speakers ("Speaker 1" -> "Jane Doe"), and
    who is told how far it has got: (recording, seconds done, seconds in all)."""

    speakers: int | None = None
    names: dict[str, str] = field(default_factory=dict)
    progress: Callable[[Path, float, float], None] | None = None


def _transcribed(path: Path, interviewer: str, listening: Listening) -> _Read:
    """A recording without a transcript, transcribed offline and read as the WebVTT transcript that
    comes of it (its speakers' voice tags its turns), with the recording beside it. A sidecar
    NAME.json beside the recording gives its metadata, and may name its speakers ("speakers":
    {"Speaker 1": "Jane Doe"}); names given to `qa add` win."""
    from qa.ingest.transcribe import transcript

    sidecar = path.with_suffix(".json")
    named = read_metadata(sidecar).get("speakers")  # unreadable: one line, before any transcribing
    named = {str(k): str(v) for k, v in named.items()} if isinstance(named, dict) else {}
    progress = listening.progress
    text = transcript(
        path,
        speakers=listening.speakers,
        names={**named, **listening.names},
        progress=(lambda done, total: progress(path, done, total)) if progress else None,
    )
    with tempfile.TemporaryDirectory(prefix="qa-heard-") as scratch:
        heard = Path(scratch) / f"{path.stem}.vtt"
        heard.write_text(text, encoding="utf-8")
        if sidecar.is_file():
            shutil.copyfile(sidecar, heard.with_suffix(".json"))
        read = _read(heard, interviewer, path)
    return replace(read, path=path, document=replace(read.document, path=str(path)))


def speaker_names(pairs) -> dict[str, str]:
    """Speakers' names as written "Speaker 1=Jane Doe": each label a transcription gave, with the
    name for it (spaces folded); ValueError naming the first pair that is not LABEL=NAME."""
    names = {}
    for pair in pairs:
        label, _, name = pair.partition("=")
        if not label.strip() or not name.strip():
            raise ValueError(pair)
        names[" ".join(label.split())] = " ".join(name.split())
    return names


def _read_all(
    files: list[Path], interviewer: str, tell: Callable[[Outcome], None], listening: Listening = Listening()
) -> list[_Read]:
    """Every transcript among files read and parsed, each with its recording
    (qa/ingest/recordings.py), and every recording given without a transcript of its name
    transcribed; a file that cannot be read or transcribed is told as failed."""
    transcripts, found, alone = recordings.pair(files)
    read = []
    for path in alone:
        try:
            read.append(_transcribed(path, interviewer, listening))
        except QAError as error:
            tell(Outcome(path, status="failed", note=str(error)))
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
    listening: Listening = Listening(),
) -> tuple[Written | None, list[Outcome]]:
    """Add transcript files (or folders of them) to the archive at index_dir (a folder, or a
    Milvus archive's qa.store.milvus.Location), creating it if need be. A file whose name (doc id)
    is already in the archive replaces that interview; one whose text is already there is skipped.
    Returns what was written (None when nothing changed) and one outcome per file (in the order of
    the files), each also passed to `report` as soon as it is known. An existing archive keeps its
    own embedder, multilingual and scoring settings; the arguments apply to a new one.
    `interviewer` names who asks in every file added (a label with that name or surname is
    theirs). A file whose doc id is an interview already there is refused unless
    `replace_existing`. A recording given without a transcript of its name is transcribed first, as
    `listening` says (qa/ingest/transcribe.py).

    The files are read, parsed and embedded first; the archive's write lock (qa/locks.py) is held
    only to check them against what it holds, merge and write, so a slow file keeps no other
    writer waiting. Texts are embedded ahead with the settings the archive has when they are read;
    vectors are kept by model and text, so whatever another writer changed meanwhile, a text is at
    worst embedded again under the lock, never given a wrong vector."""
    store = at(index_dir)
    check_writable(store.lock_dir)
    outcomes: list[Outcome] = []

    def tell(outcome: Outcome) -> None:
        outcomes.append(outcome)
        report(outcome)

    files = files_under(paths)
    read = _read_all(files, interviewer, tell, listening)
    asked = Settings(embedder or get_embedder(None), scoring, multilingual)
    ahead = _embedded_ahead(store, read, store.settings_now() or asked, progress)
    with store.changing() as archive:
        changed, media, passages = _admit(
            read, tell, replace_existing, set(archive.hashes.values()), archive.hashes
        )
        written = None
        if changed:
            changed = recordings.carried(changed, store.recordings)
            settings = archive.settings or asked
            written = archive.put(list(changed.values()), passages, media, settings, ahead, progress)
    order = {path: number for number, path in enumerate(files)}
    return written, sorted(outcomes, key=lambda outcome: order.get(outcome.path, len(order)))


def _embedded_ahead(store, read: list[_Read], settings: Settings, progress) -> dict:
    """The vectors of the files' texts (by qa.embed.cache.cache_name of their model) that the archive
    does not hold yet, embedded with these settings (the store's writes take them)."""
    if not read:
        return {}
    passages = [p for one in read for p in one.passages]
    return embed(passages, settings, known=store.cached, progress=progress).fresh()


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


def transcript_of(index: Snapshot, doc_id: str) -> tuple[str, str]:
    """(the interview's transcript as the archive keeps it, its file suffix): a timed one (a
    transcribed recording, subtitles) as WebVTT with voice tags, to correct and add again with
    --replace; any other as its text."""
    from qa.ingest.captions import webvtt

    record = index.documents.get(doc_id)
    if record is None:
        there = ", ".join(sorted(index.documents)) or "none"
        raise QAError(f"no interview {doc_id!r} in the index; there are: {there}")
    text = index.sources()[doc_id]
    cues = record.get("cues") or ()
    return (webvtt(text, cues), ".vtt") if cues else (text, ".txt")


def rename_speakers(index_dir, doc_id: str, names: dict[str, str], *, progress=False):
    """The archive with one timed interview's speakers named ("Speaker 1" -> "Jane Doe"): its
    transcript with the voices renamed, added again in its place (its recording and metadata
    kept; passages whose text is unchanged are not embedded again). Returns what `add` does."""
    from qa.ingest.corpus import METADATA_FIELDS
    from qa.store import load

    index = load(index_dir)
    try:
        text, suffix = transcript_of(index, doc_id)
        record = index.documents[doc_id]
    finally:
        index.close()
    if suffix != ".vtt":
        raise QAError(f"{doc_id} is not a timed transcript: rename its speakers in the file and add it again")
    unknown = [label for label in names if f"<v {label}>" not in text]
    if unknown:
        raise QAError(f"{doc_id} has no speaker {unknown[0]!r}")
    for label, name in names.items():
        text = text.replace(f"<v {label}>", f"<v {name}>")
    with tempfile.TemporaryDirectory(prefix="qa-renamed-") as scratch:
        renamed = Path(scratch) / f"{doc_id}{suffix}"
        renamed.write_text(text, encoding="utf-8")
        metadata = {k: record[k] for k in METADATA_FIELDS if record.get(k)}
        renamed.with_suffix(".json").write_text(json.dumps(metadata, ensure_ascii=False), encoding="utf-8")
        return add(index_dir, [renamed], replace_existing=True, progress=progress)


def remove(index_dir, doc_ids: list[str], *, progress: bool = False) -> Written:
    """The archive without these interviews; QAError naming an id it does not hold."""
    store = at(index_dir)
    with store.changing() as archive:
        if archive.settings is None:
            raise QAError(archive.absent)
        present = set(archive.hashes.values())
        missing = [d for d in doc_ids if d not in present]
        if missing:
            raise QAError(f"no interview {missing[0]!r} in the index at {index_dir}; `qa list` shows them")
        if present <= set(doc_ids):
            raise QAError(f"removing {', '.join(doc_ids)} would leave the index at {index_dir} empty")
        return archive.delete(doc_ids, progress)


def refresh(
    index_dir,
    *,
    embedder: Embedder | None = None,
    multilingual: bool | None = None,
    scoring: Scoring | None = None,
    progress: bool = False,
) -> Written:
    """Rebuild an archive from its own sources (after a model or qa upgrade), with this embedder,
    multilingual and scoring settings, or those it was built with."""
    with at(index_dir).changing() as archive:
        if archive.settings is None:
            raise QAError(archive.absent)
        own = archive.settings
        settings = Settings(
            embedder or own.embedder,
            scoring or own.scoring,
            own.multilingual if multilingual is None else multilingual,
        )
        return archive.rewrite(settings, progress)


CITED = ("outlet", "published", "interviewer")


def listing(index: Snapshot) -> list[dict]:
    """One row per interview: id, title, format, passages, speakers (interviewees quoted)."""
    rows = []
    for doc_id, record in sorted(index.documents.items()):
        own = index.interviews.get(doc_id, Interview(0, ()))
        rows.append(
            {
                "doc_id": doc_id,
                "title": record.get("title", ""),
                "format": record.get("format", "text"),
                "passages": own.passages,
                "speakers": sorted(own.speakers),
                "published": record.get("published", ""),
                "path": record.get("path", ""),
                "recording": record.get("recording", ""),  # its file in the archive, if it has one
                # what a citation cannot say (a sidecar NAME.json, front matter or a byline gives it)
                "missing": [f for f in CITED if not record.get(f)],
            }
        )
    return rows
