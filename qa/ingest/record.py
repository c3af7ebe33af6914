"""What a transcript says of itself, as distinct from what is said in it: its headline, byline,
dateline and rights line, the fields of its own record ("Interviewee: ...", "Date: ..."), a table of
contents, section headings, and the people a headline names ("X interviews Y", "Y: the FT interview").
qa.ingest.corpus takes metadata from these; qa.ingest.parsing leaves them out of every turn.
"""

from __future__ import annotations

import re

from qa.ingest.boilerplate import byline_name, is_boilerplate
from qa.ingest.labels import SPEAKER_LABEL

_BYLINE = re.compile(r"^\s*Interview(?:ed)? by (?P<name>[^\n]{1,80})$", re.MULTILINE)
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
TITLE_WORDS = 25  # a longer first line is speech or a standfirst, not a headline
_LOOSE_OPENING = re.compile(r"\[?(?:speaker|spk|speaker_)[ _]?\d+\]?\s*:", re.IGNORECASE)
_HEADING = re.compile(r"#{1,6}[ \t]")
_FIELD = re.compile(
    r"(?:interviewee|interviewees|interviewers|interviewed by|date|dates|location|place|recorded|"
    r"recording date|publisher|published|source|citation|recommended citation|transcribed by|"
    r"transcription|duration|length|language|interview date|interview number)\s*[:#]",
    re.IGNORECASE,
)
_CONTENTS = re.compile(r"(?:^|\s)\d+(?:\.\d+)*\s+[A-Z]")


def is_field(paragraph: str) -> bool:
    """A field of the document's record of itself ("Interviewee: ...", "Date: 9 June 2011")."""
    return len(paragraph.split()) <= 25 and bool(_FIELD.match(paragraph.lstrip("*_ ")))


def is_contents(paragraph: str) -> bool:
    """A table of contents run together on one line ("1 About X 2 About the Interview 3 ...")."""
    return len(_CONTENTS.findall(paragraph)) >= 3 and not paragraph.rstrip().endswith((".", "?", "!"))


def is_headline_label(line: str) -> bool:
    """A headline in a label's shape ("Vladimir Putin: the FT interview"): a name, a colon, a few
    words that end in no stop, and nothing more."""
    match = SPEAKER_LABEL.match(line)
    if not match:
        return False
    rest = line[match.end() :].strip()
    return (
        0 < len(rest.split()) <= 10
        and not rest.endswith((".", "?", "!", "…", '"', "”"))
        and ("interview" in rest.lower() or rest[:1].islower())
    )


def is_heading(text: str, start: int, end: int) -> bool:
    """A Markdown section heading ("### Willow Garage") at text[start:end]: structure, not speech."""
    return bool(_HEADING.match(text, start, end))


def metadata_from_text(text: str) -> dict:
    """What a transcript says of itself when no sidecar does: its headline (a first line that is
    not already someone speaking), byline ("Interviewed by ...", or a news byline "By ...", whose
    writer is taken to be the interviewer), dateline (a date with its year on a short line before
    anyone speaks) and outlet (the holder named in a rights line, "© 2024 Example Herald")."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    metadata = {"title": title} if (title := _title(lines)) else {}
    head = []
    for line in lines[:HEAD_LINES]:
        if _speaks(line):
            break
        head.append(line)
    dated = (date_in(line) for line in head if len(line.split()) <= 12)
    published = next((d for d in dated if d), "")
    if published:
        metadata["published"] = published
    metadata.update(_fields(lines))
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


def _speaks(line: str) -> bool:
    """Whether a line opens with someone's label (and is not a headline of a label's shape)."""
    return bool(SPEAKER_LABEL.match(line) or _LOOSE_OPENING.match(line)) and not is_headline_label(line)


def _title(lines: list[str]) -> str:
    """The document's headline: its first line unless that is someone speaking, a table of
    contents or a field of its record; then, before anyone speaks, a line that names the interview
    ("GARY BRADSKI: An Interview Conducted by Peter Asaro, IEEE History Center, ..." up to its first
    comma), else the first heading."""
    first = lines[0]
    if not (
        _speaks(first)
        or is_contents(first)
        or is_field(first)
        or is_boilerplate(first)
        or len(first.split()) > TITLE_WORDS
    ):
        return _unmarked(first)
    head = []
    for line in lines[1 : HEAD_LINES * 4]:
        if _speaks(line) and not _NAMED_HEADLINE.match(line):
            break
        head.append(line)
    for line in head:
        if _NAMED_HEADLINE.match(line):
            name, rest = _unmarked(line).split(":", 1)
            return f"{name.title() if name.isupper() else name}:{rest.split(',')[0]}".strip()
    for line in head:
        if line.startswith("#") and (heading := _unmarked(line)):
            return heading
    return ""


def _unmarked(line: str) -> str:
    """A line without its Markdown heading marks or emphasis."""
    return " ".join(line.lstrip("#").strip().strip("*_").split())


# "Interviewee: Gary Bradski", "Interviewers: Peter Asaro and Selma Šabanović", "Date: 9 June 2011"
_FIELD_VALUE = re.compile(
    r"^[*_]*(?P<field>interviewee|interviewers?|date|interview date|publisher|source)[*_]*\s*:[*_]*\s*"
    r"(?P<value>[^\n]{1,120})$",
    re.IGNORECASE,
)
_FIELDS = {"interviewee": "interviewee", "interviewer": "interviewer", "interviewers": "interviewer"}
_FIELDS |= {"date": "published", "interview date": "published", "publisher": "outlet", "source": "outlet"}
# "Hamilton Morris interviews Ethan Nadelmann", "An interview with Jane Doe", "GARY BRADSKI: An
# Interview Conducted by Peter Asaro", "Vladimir Putin: the FT interview"
_PERSON = r"[A-ZА-ЯЁ][\w.'’\-]*(?:\s+[A-ZА-ЯЁ][\w.'’\-]*){0,3}"
_INTERVIEWS = re.compile(rf"^(?P<asker>{_PERSON})\s+interviews\s+(?P<answerer>{_PERSON})\b")
_INTERVIEW_WITH = re.compile(rf"\binterview(?:ed)?\s+with\s+(?P<answerer>{_PERSON})\b", re.IGNORECASE)
_NAMED_HEADLINE = re.compile(
    rf"^(?P<answerer>{_PERSON}):\s+(?:an?\s+|the\s+)?(?:[\w'’]+\s+){{0,3}}interview\b"
    rf"(?:\s+conducted\s+by\s+(?P<asker>{_PERSON}))?",
    re.IGNORECASE,
)


def _fields(lines: list[str]) -> dict:
    """The document's record of itself, where it keeps one: fields on lines of their own."""
    found: dict[str, str] = {}
    for line in lines[: HEAD_LINES * 8]:
        match = _FIELD_VALUE.match(line)
        if not match or _FIELDS[match["field"].lower()] in found:
            continue
        key, value = _FIELDS[match["field"].lower()], match["value"].strip().strip("*_ ")
        if key == "published":
            value = date_in(value)
        elif len(value.split()) > 12:
            continue
        if value:
            found[key] = value
    return found


def people_in_title(title: str) -> dict:
    """The interviewee (and interviewer) a headline names, in the case people write names in."""
    for pattern in (_INTERVIEWS, _NAMED_HEADLINE, _INTERVIEW_WITH):
        match = pattern.search(title)
        if match:
            people = {"interviewee": match["answerer"], "interviewer": match.groupdict().get("asker") or ""}
            return {k: v.title() if v.isupper() else v for k, v in people.items() if v}
    return {}


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
