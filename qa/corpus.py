"""A corpus is a folder of transcripts (`NAME.txt`) with optional metadata sidecars (`NAME.json`)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from qa.boilerplate import byline_name
from qa.documents import Document, QAError
from qa.formats import SUFFIXES, read_source
from qa.parsing import SPEAKER_LABEL

BUNDLED_CORPUS = Path(__file__).parent / "bundled"
_BYLINE = re.compile(r"^\s*Interview(?:ed)? by (?P<name>[^\n]{1,80})$", re.MULTILINE)
_METADATA_FIELDS = ("title", "outlet", "url", "published", "interviewee", "interviewer")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october")
_MONTHS += ("november", "december")
_MONTH = r"(?P<month>(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*)\.?"
_DATES = (
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)\b"),
)
_RIGHTS = re.compile(
    r"^\s*(?:©|\(c\)|copyright)\s*(?:©|\(c\))?\s*(?:(?:19|20)\d\d\s*)?(?P<outlet>[^.,|©\n]{2,60}?)"
    r"\s*(?:[.,|]|all rights reserved|$)",
    re.I | re.M,
)
HEAD_LINES = 8  # a dateline is among the lines before the interview starts


def transcript_files(corpus_dir: Path) -> list[Path]:
    if not corpus_dir.is_dir():
        raise QAError(f"{corpus_dir}: corpus folder not found")
    files = sorted(p for p in corpus_dir.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
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
    """Read one transcript (any format in qa.formats) and its metadata: the file's own (YAML front
    matter, document properties, page tags), then its headline and byline, overridden by a sidecar
    `NAME.json`. Unreadable input raises QAError naming the file."""
    source = read_source(path)
    found = {**metadata_from_text(source.text), **source.metadata} if source.kind != "subtitles" else {}
    metadata = {**found, **_read_metadata(path.with_suffix(".json"))}
    fields = {name: str(metadata.get(name, "") or "") for name in _METADATA_FIELDS}
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


def metadata_from_text(text: str) -> dict:
    """What a transcript says of itself when no sidecar does: its headline (a first line that is
    not already someone speaking), byline ("Interviewed by ...", or a news byline "By ...", whose
    writer is taken to be the interviewer), dateline (a date with its year on a short line before
    anyone speaks) and outlet (the holder named in a rights line, "© 2024 Example Herald")."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    first = lines[0]
    metadata = {} if SPEAKER_LABEL.match(first) else {"title": first}
    head = []
    for line in lines[:HEAD_LINES]:
        if SPEAKER_LABEL.match(line):
            break
        head.append(line)
    dated = (date_in(line) for line in head if len(line.split()) <= 12)
    published = next((d for d in dated if d), "")
    if published:
        metadata["published"] = published
    rights = _RIGHTS.search(text)
    if rights and not rights["outlet"].strip().lower().startswith("all rights"):
        metadata["outlet"] = rights["outlet"].strip()
    byline = _BYLINE.search(text)
    if byline:
        metadata["interviewer"] = byline["name"].strip()
    else:  # a news byline, "By Jane Doe", on a line of its own
        named = (byline_name(line) for line in text.splitlines() if line.strip()[:3].lower() == "by ")
        name = next((n for n in named if n), None)
        if name:
            metadata["interviewer"] = name
    return metadata


def date_in(line: str) -> str:
    """The first full date in a line ("June 12, 2018", "12 June 2018", "2018-06-12") as YYYY-MM-DD;
    "" when there is none."""
    for pattern in _DATES:
        for match in pattern.finditer(line):
            month = match["month"].lower()
            number = (
                int(month)
                if month.isdigit()
                else next((i for i, m in enumerate(_MONTHS, 1) if m.startswith(month[:3])), 0)
            )
            if 1 <= number <= 12 and 1 <= int(match["day"]) <= 31:
                return f"{match['year']}-{number:02d}-{int(match['day']):02d}"
    return ""


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
