"""Transcript files of every common kind -> plain text, metadata and (for subtitles) cue times.

What a reader returns is the text the index quotes from: offsets and verbatim excerpts refer to it.
Plain text and Markdown are kept as written (after decoding and any YAML front matter); subtitles
become one labelled paragraph per run of cues by the same speaker; Word, PDF and HTML pages become
paragraphs separated by blank lines. Anything unreadable raises QAError naming the file.
"""

from __future__ import annotations

import codecs
import html.parser
import re
from dataclasses import replace
from pathlib import Path

from qa.documents import QAError, Source
from qa.ingest import captions, timed
from qa.ingest.labels import SPEAKER_LABEL

MAX_FILE_BYTES = 20 * 1024 * 1024  # far above any interview (a 5,000-word transcript is ~30 KB)
# What a small file may unpack to: a Word file's XML parts (as its zip declares them), a PDF's text.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_TEXT_CHARS = 5_000_000
# A Word file's XML against its packed size: text and markup pack about 5 to 20 times; far more is
# a file built to unpack (an 88 KB file of 30 MB of empty paragraphs is 340 times).
MAX_DOCX_RATIO = 100
# Paragraphs in a Word file: a long interview has hundreds, a book a few thousand.
MAX_DOCX_PARAGRAPHS = 20_000
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SUBTITLE_SUFFIXES = (".srt", ".vtt")
# A .json is a transcript of segments, unless a transcript of its name sits beside it: then it is
# that transcript's metadata (see is_transcript).
SUFFIXES = (*TEXT_SUFFIXES, *SUBTITLE_SUFFIXES, ".docx", ".pdf", ".html", ".htm", ".json")


def is_transcript(path: Path) -> bool:
    """Whether a file is a transcript to read: one of SUFFIXES, and a .json only when it holds
    segments' "text" and no other transcript of its name is beside it (NAME.json beside NAME.txt is
    NAME.txt's metadata; a stray sidecar is nobody's transcript)."""
    suffix = path.suffix.lower()
    if suffix != ".json":
        return suffix in SUFFIXES
    if any(path.with_suffix(other).exists() for other in SUFFIXES if other != ".json"):
        return False
    return holds_segments(path)


def holds_segments(path: Path) -> bool:
    """Whether a .json holds a transcript's segments (their "text"), not a sidecar's fields."""
    try:
        with path.open("rb") as file:
            return b'"text"' in file.read(MAX_FILE_BYTES)
    except OSError:
        return True  # named, so read_source says what is wrong with it


def read_source(path: Path) -> Source:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise QAError(f"{path}: not a transcript format this reads ({', '.join(SUFFIXES)})")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            limit = MAX_FILE_BYTES // 2**20
            raise QAError(f"{path}: {size / 2**20:.0f} MB is too large for a transcript (limit {limit} MB)")
        data = path.read_bytes()
    except OSError as error:
        raise QAError(f"{path}: cannot read ({error.strerror})") from None
    if not data.strip():
        raise QAError(f"{path}: the file is empty")
    if suffix == ".docx":
        source = _timed(_docx(path, data))  # Teams' Word transcript: "Name   0:03" over each turn
    elif suffix == ".pdf":
        source = _pdf(path, data)
    else:
        text = decode(path, data)
        if suffix in SUBTITLE_SUFFIXES:
            source = captions.read(path, text)
        elif suffix in (".html", ".htm"):
            source = _html(text)
        elif suffix == ".json":
            source = timed.read_json(path, text)
        else:
            source = _timed(front_matter(path, text))
    if not source.text.strip():
        raise QAError(f"{path}: no text found in the file")
    return source


def _timed(source: Source) -> Source:
    """The source as a tool's timed export when its text is one (qa.ingest.timed), its metadata kept."""
    found = timed.read(source.text)
    return replace(source, text=found.text, cues=found.cues, kind=found.kind) if found else source


def decode(path: Path, data: bytes) -> str:
    """Bytes -> text: a BOM first, then UTF-8, then the most plausible legacy encoding (cp1251 for a
    Russian transcript, say). Binary data and text in no recognisable encoding raise QAError."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return _text_only(path, data.decode(encoding))
            except UnicodeDecodeError:
                raise QAError(f"{path}: starts like {encoding} but is not valid {encoding}") from None
    if b"\0" in data:
        return _text_only(path, _utf16_without_bom(path, data))
    try:
        return _text_only(path, data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    # no language recognised in the best decoding: random bytes "decode" as Big5 or GB18030 too
    if not matches or matches[0].chaos > 0.2 or matches[0].coherence == 0:
        raise QAError(f"{path}: text in an unknown encoding; save it as UTF-8")
    # Encodings that decode the bytes equally well are told apart by how common they are.
    best = matches[0]
    tied = [m for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.01]
    chosen = min(tied, key=lambda m: _COMMON.index(m.encoding) if m.encoding in _COMMON else len(_COMMON))
    return _text_only(path, str(chosen))


# Legacy encodings in the order they are met in transcripts: Western and Russian Windows first.
_COMMON = ["cp1252", "cp1251", "latin_1", "koi8_r", "cp1250", "gb18030", "big5", "shift_jis", "euc_kr"]


def _utf16_without_bom(path: Path, data: bytes) -> str:
    """NUL bytes in text mean UTF-16 without a byte-order mark; the byte order that gives more
    characters from the alphabetic scripts (below U+0800) wins. Anything else is binary."""
    decoded = []
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        decoded.append((sum(1 for c in text if c < "\u0800" and (c.isprintable() or c.isspace())), text))
    best = max(decoded, default=(0, ""))
    if best[0] < 0.9 * len(data) / 2:
        raise QAError(f"{path}: looks like a binary file, not a transcript")
    return best[1]


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def _text_only(path: Path, text: str) -> str:
    if len(_CONTROL.findall(text[:100_000])) > 0.01 * min(len(text), 100_000) + 2:
        raise QAError(f"{path}: looks like a binary file, not a transcript")
    return text


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def front_matter(path: Path, text: str) -> Source:
    """YAML front matter (`---` ... `---`) becomes metadata; the rest is the transcript."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return Source(text)
    import yaml

    try:
        metadata = yaml.safe_load(match["yaml"]) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark else ""
        raise QAError(f"{path}: the YAML front matter is not valid YAML{where}") from None
    if not isinstance(metadata, dict):
        raise QAError(f"{path}: the YAML front matter is not a mapping of fields")
    return Source(text[match.end() :], {k: str(v) for k, v in metadata.items() if v is not None})


# --- Word, PDF, HTML ---------------------------------------------------------------------------


def _docx(path: Path, data: bytes) -> Source:
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as packed:  # the sizes it declares bound what it unpacks
            parts = [item for item in packed.infolist() if item.filename.endswith((".xml", ".rels"))]
            unpacked = sum(item.file_size for item in parts)
            if unpacked > MAX_UNPACKED_BYTES:
                raise QAError(
                    f"{path}: unpacks to {unpacked / 2**20:.0f} MB of XML"
                    f" (limit {MAX_UNPACKED_BYTES // 2**20} MB); not read"
                )
            ratio = unpacked / max(sum(item.compress_size for item in parts), 1)
            if ratio > MAX_DOCX_RATIO:
                raise QAError(
                    f"{path}: its XML unpacks to {ratio:.0f} times its packed size"
                    f" (limit {MAX_DOCX_RATIO}); not read"
                )
            if (count := _word_paragraphs(packed)) > MAX_DOCX_PARAGRAPHS:
                raise QAError(
                    f"{path}: {count:,} paragraphs (limit {MAX_DOCX_PARAGRAPHS:,}); not read as a transcript"
                )
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise QAError(f"{path}: not a readable Word document ({error})") from None
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001 (malformed XML, missing parts: one line, whatever the cause)
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise QAError(f"{path}: not a readable Word document ({reason})") from None
    paragraphs = [_docx_paragraph(p) for p in document.paragraphs]
    props = document.core_properties
    # Not the file's created date: the template or program that made the file stamps it, and it is
    # not when the interview was published (a sidecar or front matter gives that).
    # Nor the title property when the document opens with its own heading: templates stamp titles too.
    headed = bool(document.paragraphs) and document.paragraphs[0].style.name.lower().startswith(
        ("heading", "title")
    )
    metadata = {"title": "" if headed else props.title or "", "interviewee": "", "published": ""}
    return Source(
        "\n\n".join(p for p in paragraphs if p) + "\n", {k: v for k, v in metadata.items() if v}, kind="docx"
    )


_NAME_LINE = re.compile(r"[A-ZА-ЯЁ][\w.'’\-]*(?: [A-ZА-ЯЁ][\w.'’\-]*){0,3}:?")


def _word_paragraphs(packed) -> int:
    """How many paragraphs (`<w:p>` elements) the main document part holds, counted as it
    unpacks, before any XML parser builds them (which takes seconds per hundred thousand)."""
    try:
        part = packed.open("word/document.xml")
    except KeyError:
        return 0
    count, tail = 0, b""
    with part:
        while chunk := part.read(1 << 20):
            window = tail + chunk
            count += window.count(b"<w:p>") + window.count(b"<w:p ")
            count -= tail.count(b"<w:p>") + tail.count(b"<w:p ")  # counted with the chunk before
            tail = window[-5:]
    return count


def _docx_paragraph(paragraph) -> str:
    """A paragraph's text; a speaker's name set alone in bold over their words ("Lester Holt")
    becomes a label, "Lester Holt:"."""
    text = " ".join(paragraph.text.split())
    runs = [run for run in paragraph.runs if run.text.strip()]
    if runs and all(run.bold for run in runs) and _NAME_LINE.fullmatch(text):
        return text.rstrip(":") + ":"
    return text


def _pdf(path: Path, data: bytes) -> Source:
    import io

    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        reader = PdfReader(io.BytesIO(data))
        pages, chars = [], 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            chars += len(pages[-1])
            if chars > MAX_TEXT_CHARS:
                raise QAError(f"{path}: over {MAX_TEXT_CHARS:,} characters of text; not read as a transcript")
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError) as error:
        raise QAError(f"{path}: not a readable PDF ({error})") from None
    lines = [line.strip() for page in pages for line in page.splitlines()]
    if not any(lines):
        raise QAError(f"{path}: the PDF has no text layer (a scan?); run OCR on it first")
    # A PDF keeps lines, not paragraphs: a line that starts with a speaker label starts a paragraph.
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if out and not SPEAKER_LABEL.match(line):
            out[-1] += " " + line
        else:
            out.append(line)
    title = (reader.metadata.title if reader.metadata else None) or ""
    return Source("\n\n".join(out) + "\n", {"title": title} if title else {}, kind="pdf")


_SKIP = {
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "noscript",
    "svg",
    "button",
    "template",
}
_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "section",
    "tr",
    "dt",
    "dd",
    "pre",
}


class _ArticleText(html.parser.HTMLParser):
    """Collects the text of <article> (else <main>, else <body>) as paragraphs, and page metadata."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: dict[str, list[str]] = {"article": [], "main": [], "body": []}
        self.open: dict[str, int] = {"article": 0, "main": 0, "body": 0}
        self.skipping = 0
        self.meta: dict[str, str] = {}
        self.in_title = False
        self.title = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.open:
            self.open[tag] += 1
        if tag in _SKIP:
            self.skipping += 1
        if tag in _BLOCK:
            self._add("\n\n")
        if tag == "title":
            self.in_title = True
        if tag == "meta":
            key = (attrs.get("property") or attrs.get("name") or "").lower()
            if key and attrs.get("content"):
                self.meta[key] = attrs["content"]
        if tag == "time" and attrs.get("datetime"):
            self.meta.setdefault("time", attrs["datetime"])

    def handle_endtag(self, tag):
        if tag in _BLOCK:
            self._add("\n\n")
        if tag in _SKIP and self.skipping:
            self.skipping -= 1
        if tag in self.open and self.open[tag]:
            self.open[tag] -= 1
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif not self.skipping:
            self._add(data)

    def _add(self, text: str) -> None:
        for name, depth in self.open.items():
            if depth:
                self.parts[name].append(text)


def _html(text: str) -> Source:
    parser = _ArticleText()
    parser.feed(text)
    parser.close()
    chosen = next(
        (parser.parts[n] for n in ("article", "main", "body") if "".join(parser.parts[n]).strip()), None
    )
    if chosen is None:  # a fragment without <body>
        chosen = [re.sub(r"<[^>]+>", " ", text)]
    paragraphs = [" ".join(p.split()) for p in "".join(chosen).split("\n\n")]
    meta = parser.meta
    metadata = {
        "title": meta.get("og:title") or " ".join(parser.title.split()),
        "url": meta.get("og:url", ""),
        "published": (meta.get("article:published_time") or meta.get("time", ""))[:10],
        "outlet": meta.get("og:site_name", ""),
    }
    return Source(
        "\n\n".join(p for p in paragraphs if p) + "\n", {k: v for k, v in metadata.items() if v}, kind="html"
    )
