"""Speaker labels read from the document's own shape, not from a list of house styles.

Transcripts keep inventing label styles: "FT reporter:", "MR. SMITH.", "INTERVIEWER" on a line of its
own, "[SPEAKER_00]", "Speaker 1:", "**Emma**". A loose label is any of these shapes at the start of a
paragraph: one to five words before a colon, the first capitalised; words in capitals before a full
stop; a line of its own in capitals or in brackets; a bold run. qa.ingest.parsing takes a loose label for a
speaker only when the same label opens two or more paragraphs, so a sentence that happens to have the
shape once ("The reason is simple: ...") stays prose.

Who a label is comes from its words too: one naming the role ("FT reporter", "Interviewer 2",
"Host") asks; a diarisation id ("Speaker 1", "SPEAKER_00", "Unknown Speaker") names nobody, so the
document's own interviewee or interviewer stands in for it when the evidence says which one it is.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_NAME = r"[A-ZА-ЯЁ][\w.'’\-]*(?: [A-ZА-ЯЁ][\w.'’\-]*){0,3}"  # Latin or Cyrillic capitals
SPEAKER_LABEL = re.compile(rf"(?P<label>{_NAME}):[ \t]+(?=\S)")
_BOLD_LABEL = re.compile(rf"(?P<mark>\*\*|__)(?P<label>{_NAME})(?::(?P=mark)|(?P=mark):)[ \t]*")
_HEADING_LABEL = re.compile(rf"#{{1,6}}[ \t]+(?P<label>{_NAME})[ \t]*:?[ \t]*$")
_ALONE_LABEL = re.compile(rf"(?P<label>{_NAME}):[ \t]*$")  # "PUTIN:" over the paragraphs he says
# Press-office style: "Q. Why now?", "THE PRESIDENT. Because..." (a name in capitals, then a stop)
_CAPS = r"[A-ZА-ЯЁ][A-ZА-ЯЁ'’\-]+"
_STOP_LABEL = re.compile(rf"(?P<label>Q|{_CAPS}(?: {_CAPS}){{0,3}})\.[ \t]+(?=\S)")
MAX_WORDS = 5
MAX_CHARS = 40
_WORD = r"[\w.'’\-]+"
_COLON = re.compile(
    rf"\[?(?P<label>[A-ZА-ЯЁ]{_WORD[:-1]}*(?:[ \t]+{_WORD}){{0,{MAX_WORDS - 1}}})\]?"
    r"[ \t]*:(?:[ \t]+(?=\S)|[ \t]*$)"
)
_CAPS_WORD = r"[A-ZА-ЯЁ][A-ZА-ЯЁ'’\-]*\.?"
_STOP = re.compile(rf"(?P<label>{_CAPS_WORD}(?:[ \t]+{_CAPS_WORD}){{0,3}})\.[ \t]+(?=\S)")
# "MR. SMITH. Why..." : a title's abbreviation before a name in capitals, then the label's own stop
_TITLED = re.compile(r"(?P<label>[A-ZА-ЯЁ]{1,4}\.(?:[ \t]+[A-ZА-ЯЁ][A-ZА-ЯЁ'’\-]+){1,3})\.[ \t]+(?=\S)")
_ALONE = re.compile(
    r"(?P<label>[A-ZА-ЯЁ][A-ZА-ЯЁ0-9_.'’\- ]*[A-ZА-ЯЁ0-9_])[ \t]*$|\[(?P<bracketed>[^\]\n]+)\][ \t]*:?[ \t]*$"
)
_BOLD = re.compile(r"(?P<mark>\*\*|__)(?P<label>[^*_\n]{1,40}?)[ \t]*:?(?P=mark)[ \t]*:?[ \t]*")
# Words that make a label the interviewer's ("FT reporter", "Interviewer 2", "Host")
ASKING_WORDS = {"question", "interviewer", "reporter", "journalist", "host", "moderator", "presenter"}
ASKING_WORDS |= {"anchor", "correspondent", "вопрос", "корреспондент", "журналист", "ведущий"}
_GENERIC = re.compile(
    r"(?:speaker|spk|voice|person|participant|unknown speaker|unknown|guest|interviewee)[ _-]*\d*|"
    r"speaker[ _-]*[a-z]|[a-z]|\d{1,3}",
    re.IGNORECASE,
)


class Label(NamedTuple):
    """A speaker label found at the start of a paragraph: who, where their words begin, and whether
    only its shape says so (a loose label is a speaker only when it recurs)."""

    label: str
    end: int
    loose: bool = False


def titled_label(text: str, start: int, end: int) -> Label | None:
    """A name in capitals after a title ("MR. SMITH.") at text[start:end]'s start, which the
    press-office style would otherwise read as the label "MR"."""
    match = _TITLED.match(text, start, end)
    return Label(" ".join(match["label"].split()), match.end(), loose=True) if match else None


def loose_label(text: str, start: int, end: int) -> Label | None:
    """A label of any of the loose shapes at text[start:end]'s start; None when there is none."""
    for pattern in (_BOLD, _COLON, _STOP, _ALONE):
        match = pattern.match(text, start, end)
        if not match:
            continue
        label = " ".join((match["label"] or match.groupdict().get("bracketed") or "").split())
        if _plausible(label):
            return Label(label, match.end(), loose=True)
    return None


def _plausible(label: str) -> bool:
    words = label.split()
    return (
        0 < len(words) <= MAX_WORDS
        and len(label) <= MAX_CHARS
        and sum(c.isalnum() for c in label) >= 1
        and not label.endswith(("'", "’", "-"))
    )


def asks_by_title(label: str) -> bool:
    """Whether a label's own words say its speaker asks: "FT reporter", "Interviewer 2"."""
    words = re.findall(r"\w+", label.lower())
    return len(words) > 1 and any(word in ASKING_WORDS for word in words)


def is_generic(label: str) -> bool:
    """A label that names nobody: a diarisation id or a letter ("Speaker 1", "SPEAKER_00", "A")."""
    return bool(_GENERIC.fullmatch(label.strip("[] ")))


def split_inline(text: str, spans: list[tuple[int, int]], speakers: set[str]) -> list[tuple[int, int]]:
    """Paragraphs cut where a known speaker's label follows the end of a sentence inside them
    ("...short commute. Barack Obama: [laughs] I am"): the label starts a paragraph of its own."""
    names = sorted((s for s in speakers if len(s) > 2 and not is_generic(s)), key=len, reverse=True)
    if not names:
        return spans
    inline = re.compile(rf"(?<=[.!?…\"”)\]])[ \t]+(?:{'|'.join(map(re.escape, names))}):[ \t]+(?=\S)")
    out = []
    for start, end in spans:
        cut = start
        for match in inline.finditer(text, start, end):
            out.append((cut, match.start()))
            cut = match.start() + len(match.group()) - len(match.group().lstrip())
        out.append((cut, end))
    return out


def label_at(text: str, start: int, end: int) -> Label | None:
    """The label opening text[start:end]: a strict shape (a capitalised name and a colon, in bold,
    as a heading, alone on its line, or in capitals before a stop), else a loose one; None."""
    if titled := titled_label(text, start, end):
        return titled
    for pattern in (SPEAKER_LABEL, _BOLD_LABEL, _HEADING_LABEL, _ALONE_LABEL, _STOP_LABEL):
        match = pattern.match(text, start, end)
        if match:
            return Label(match["label"], match.end())
    return loose_label(text, start, end)
