"""An interview's recording: the audio or video file beside its transcript, kept with the archive.

A recording goes in with its transcript: `talk.mp3` beside `talk.srt` (or named with it to `qa add`,
or uploaded with it in the Archive tab); one without a transcript is transcribed first
(qa/ingest/transcribe.py) and goes in with what was heard. The archive keeps its own copy,
`recordings/DOC_ID.SUFFIX` (inside the index folder, or in a Milvus archive's state folder), named in
the interview's record (`Document.recording`). What the page plays is looked up by doc id in the
archive's records, never taken from a request's path: `stored` is the one way from a name to a file.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

from qa.documents import Document, QAError

FOLDER = "recordings"
# what each kind of file starts with (the ISO media files: a `ftyp` box at byte 4)
_SIGNATURES = {
    ".mp3": lambda head: head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] >= 0xE0),
    ".wav": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WAVE",
    ".ogg": lambda head: head.startswith(b"OggS"),
    ".webm": lambda head: head.startswith(b"\x1a\x45\xdf\xa3"),
    ".m4a": lambda head: head[4:8] == b"ftyp",
    ".mp4": lambda head: head[4:8] == b"ftyp",
}
SUFFIXES = tuple(_SIGNATURES)
VIDEO = (".mp4", ".webm")  # played in a video element; the rest in an audio one
MAX_BYTES = 4 * 2**30  # the largest recording the page takes as an upload


def is_recording(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def beside(transcript: Path) -> Path | None:
    """The recording with the transcript's name in its folder (talk.srt: talk.mp3, talk.wav, ...)."""
    for suffix in SUFFIXES:
        for candidate in (transcript.with_suffix(suffix), transcript.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None


def pair(files: list[Path]) -> tuple[list[Path], dict[Path, Path], list[Path]]:
    """(transcripts, each transcript's recording, recordings without a transcript) of the files
    given: a recording named among them goes with the transcript of its name, else a transcript
    takes the recording beside it."""
    named: dict[str, Path] = {}
    transcripts = []
    for path in files:
        if is_recording(path):
            named.setdefault(path.stem, path)
        else:
            transcripts.append(path)
    media = {}
    for transcript in transcripts:
        recording = named.pop(transcript.stem, None) or beside(transcript)
        if recording is not None:
            media[transcript] = recording
    return transcripts, media, [p for p in files if is_recording(p) and p not in media.values()]


def check(path: Path) -> None:
    """QAError unless path is a readable recording of the kind its suffix says."""
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as data:
            head = data.read(16)
    except OSError as error:
        raise QAError(f"{path}: cannot read the recording ({error.strerror})") from None
    if not head:
        raise QAError(f"{path}: the recording is empty")
    if not _SIGNATURES[suffix](head):
        raise QAError(f"{path}: not {suffix} audio or video (its first bytes say otherwise)")


def name_for(doc_id: str, recording: Path) -> str:
    """The archive's name for an interview's recording."""
    return doc_id + recording.suffix.lower()


def place(source: Path, folder: Path, name: str, own: bool = False) -> None:
    """Put a recording into folder under name, whole or not at all: a copy (the archive's own,
    which an edit of the original never touches), or a hard link when the source is the archive's
    own copy already (`own`: a rebuild carries a large video at no cost); then renamed into place."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.{os.getpid()}.partial"
    partial.unlink(missing_ok=True)
    try:
        if not (own and _linked(source, partial)):
            shutil.copyfile(source, partial)
        os.replace(partial, folder / name)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise QAError(f"{source}: cannot keep the recording ({error.strerror})") from None


def _linked(source: Path, link: Path) -> bool:
    """Whether a hard link to source could be made at link (not across disks, say)."""
    try:
        os.link(source, link)
    except OSError:
        return False
    return True


def keep(folder: Path, media: dict[str, Path]) -> None:
    """Copy these recordings (by doc id) into folder, each replacing the one its interview had in
    another format: how a Milvus archive's state folder takes them, before the rows that name them."""
    for doc_id, source in media.items():
        name = name_for(doc_id, source)
        place(source, folder, name)
        drop(folder, [doc_id], keep=name)


def carried(documents: dict[str, Document], folder: Path) -> dict[str, Document]:
    """These interviews by doc id, each that brings no recording of its own naming the one the
    archive already keeps for its doc id in folder (a transcript replaced keeps its recording)."""
    kept = {}
    for doc_id, document in documents.items():
        if not document.recording:
            had = next((doc_id + s for s in SUFFIXES if stored(folder, doc_id + s)), "")
            document = replace(document, recording=had)
        kept[doc_id] = document
    return kept


def drop(folder: Path, doc_ids, keep: str = "") -> None:
    """Delete these interviews' recordings from folder (a Milvus archive's, after `qa remove`),
    but the one called `keep`."""
    for doc_id in doc_ids:
        for suffix in SUFFIXES:
            if doc_id + suffix != keep:
                (folder / (doc_id + suffix)).unlink(missing_ok=True)


def stored(folder: Path, name: str) -> Path | None:
    """The recording called name in the archive's recordings folder, or None: a name is a bare file
    name with a recording's suffix, and the file is a regular file in that folder itself (neither
    it nor the folder a link to elsewhere)."""
    if not name or name != Path(name).name or name.startswith(".") or not is_recording(Path(name)):
        return None
    path = folder / name
    try:
        if folder.is_symlink() or path.is_symlink() or not path.is_file():
            return None
        if path.resolve().parent != folder.resolve():
            return None
    except OSError:
        return None
    return path


def media_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    kind = "video" if suffix in VIDEO else "audio"
    return {".mp3": "audio/mpeg", ".m4a": "audio/mp4"}.get(suffix, f"{kind}/{suffix[1:]}")
