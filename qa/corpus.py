"""A corpus is a folder of transcripts (`NAME.txt`) with optional metadata sidecars (`NAME.json`)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from qa.documents import Document, QAError
from qa.parsing import SPEAKER_LABEL

BUNDLED_CORPUS = Path(__file__).parent / "bundled"
TRANSCRIPT_SUFFIXES = (".txt", ".md")
_BYLINE = re.compile(r"^\s*Interview(?:ed)? by (?P<name>[^\n]{1,80})$", re.MULTILINE)
_METADATA_FIELDS = ("title", "outlet", "url", "published", "interviewee", "interviewer")


def transcript_files(corpus_dir: Path) -> list[Path]:
    if not corpus_dir.is_dir():
        raise QAError(f"{corpus_dir}: corpus folder not found")
    files = sorted(p for p in corpus_dir.iterdir() if p.suffix in TRANSCRIPT_SUFFIXES)
    if not files:
        raise QAError(f"{corpus_dir}: no transcripts (*.txt, *.md) in the corpus folder")
    return files


def corpus_hash(corpus_dir: Path) -> str:
    """Changes whenever a transcript or its metadata changes, is added or is removed."""
    digest = hashlib.sha256()
    for path in transcript_files(corpus_dir):
        for part in (path, path.with_suffix(".json")):
            if part.exists():
                digest.update(part.name.encode() + b"\0" + part.read_bytes() + b"\0")
    return digest.hexdigest()


def read_document(path: Path) -> Document:
    """Read one transcript and its sidecar; unreadable input raises QAError naming the file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise QAError(f"{path}: cannot read transcript ({error.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QAError(f"{path}: not UTF-8 text; save the transcript as UTF-8") from None
    if not text.strip():
        raise QAError(f"{path}: transcript is empty")
    if "\0" in text:
        raise QAError(f"{path}: looks like a binary file, not a transcript")
    metadata = {**metadata_from_text(text), **_read_metadata(path.with_suffix(".json"))}
    fields = {name: str(metadata.get(name, "")) for name in _METADATA_FIELDS}
    return Document(doc_id=path.stem, path=str(path), text=text, **fields)


def metadata_from_text(text: str) -> dict:
    """What a transcript says of itself when no sidecar does: its headline (a first line that is
    not already someone speaking) and byline."""
    first = text.strip().splitlines()[0].strip()
    metadata = {} if SPEAKER_LABEL.match(first) else {"title": first}
    byline = _BYLINE.search(text)
    if byline:
        metadata["interviewer"] = byline["name"].strip()
    return metadata


def _read_metadata(sidecar: Path) -> dict:
    if not sidecar.exists():
        return {}
    try:
        metadata = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise QAError(f"{sidecar}: unreadable metadata ({error})") from None
    if not isinstance(metadata, dict):
        raise QAError(f"{sidecar}: metadata must be a JSON object")
    return metadata


def load_corpus(corpus_dir: Path) -> list[Document]:
    return [read_document(path) for path in transcript_files(corpus_dir)]
