"""A corpus is a folder of transcripts (`NAME.txt`) with optional metadata sidecars (`NAME.json`)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from qa.documents import Document, QAError
from qa.ingest.formats import SUFFIXES, is_transcript, read_source
from qa.ingest.record import metadata_from_text, people_in_title

BUNDLED_CORPUS = Path(__file__).parent.parent / "bundled"
METADATA_FIELDS = ("title", "outlet", "url", "published", "interviewee", "interviewer")


def transcript_files(corpus_dir: Path) -> list[Path]:
    if not corpus_dir.is_dir():
        raise QAError(f"{corpus_dir}: corpus folder not found")
    files = sorted(p for p in corpus_dir.iterdir() if is_transcript(p) and p.is_file())
    if not files:
        raise QAError(f"{corpus_dir}: no transcripts ({', '.join(SUFFIXES)}) in the corpus folder")
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
    """Read one transcript (any format in qa.ingest.formats) and its metadata: the file's own (YAML front
    matter, document properties, page tags), then its headline and byline, overridden by a sidecar
    `NAME.json`. Unreadable input raises QAError naming the file."""
    source = read_source(path)
    found = {**metadata_from_text(source.text), **source.metadata} if source.kind != "subtitles" else {}
    sidecar = read_metadata(path.with_suffix(".json")) if path.suffix.lower() != ".json" else {}
    metadata = {**found, **sidecar}
    metadata = {**people_in_title(str(metadata.get("title") or "")), **metadata}
    fields = {name: str(metadata.get(name, "") or "") for name in METADATA_FIELDS}
    fields["title"] = fields["title"] or path.stem
    return Document(
        doc_id=doc_id_for(path),
        path=str(path),
        text=source.text,
        format=source.kind,
        cues=source.cues,
        **fields,
    )


def doc_id_for(path: Path) -> str:
    """The file's name without its suffix, made safe for passage ids (`doc:turn:chunk`) and URLs."""
    return re.sub(r"[^\w.-]+", "-", path.stem).strip("-.") or "interview"


def read_metadata(sidecar: Path) -> dict:
    """A sidecar NAME.json's metadata ({} when there is none; QAError when it is unreadable)."""
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
