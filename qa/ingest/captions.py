"""Subtitle files, SRT and WebVTT as its specification has them -> speaker paragraphs with times.

WebVTT: a header (`WEBVTT`, then lines such as `Kind:` and `Language:`), NOTE, STYLE and REGION
blocks, cue identifiers, cue settings after the timing (`align:start position:0%`), and inside a cue
voice tags (`<v Ann Lee>`, `<v 0>`), class, italic, bold, ruby and language tags, inline word times
(`word<00:00:01.500><c> next</c>`) and character references. A cue's text runs to the first empty
line, so a line holding a single space (YouTube puts one in nearly every cue) stays inside it.

Rolling captions (YouTube's auto-captions, and live captions generally) show each line two or three
times: as it is said, in a 10 ms cue of its own, and again at the top of the next cue. They are
recognised by how often a cue opens with the line the cue before it ended on, and every line is kept
once. A line with word times gives each word its own time, so a quote's time is the quote's.

Cues become paragraphs `Name: words` per run of one speaker (a numeric voice, `<v 0>`, is
`Speaker 0`); with no speaker named anywhere, a pause of PARAGRAPH_PAUSE starts a new paragraph.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from qa.documents import QAError, Source

_TIME = r"(?:(\d{1,2}):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:[ \t].*)?$")
_INLINE_TIME = re.compile(r"<((?:\d{1,2}:)?\d{1,2}:\d{2}\.\d{1,3})>")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)*[ \t]+(?P<name>[^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|\{\\[^}]*\}")
# A cue line that is only a sound, not speech: "[Music]", "(applause)", "♪ ♪"
_SOUND = re.compile(r"^\s*(?:\[[^\]]*\]|\([^)]*\)|[♪♫ ]+)[\s.]*$")
# "Name: words" inside a cue (Zoom, many SRT exports), "[SPEAKER_00]: words", "Speaker 1: words"
_CUE_LABEL = re.compile(
    r"^\[?(?P<label>[A-ZА-ЯЁ][\w.'’\-]*(?: (?:[A-ZА-ЯЁ][\w.'’\-]*|\d{1,3})){0,3})\]?:[ \t]+(?=\S)"
)
PARAGRAPH_PAUSE = 2.0  # seconds
ROLLING = 0.3  # share of cues opening with the line the cue before ended on, for rolling captions


@dataclass(frozen=True)
class Cue:
    """One cue's words: (seconds, text) pieces in order, the cue's end, and who says them."""

    pieces: tuple[tuple[float, str], ...]
    end: float
    speaker: str | None


def _seconds(groups) -> float:
    hours, minutes, seconds, millis = groups
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis.ljust(3, "0")) / 1000


def _clock(value: str) -> float:
    """An inline word time ("00:00:02.180") in seconds, computed as the timing lines' are (so a
    word at its cue's start time compares equal to it)."""
    parts = re.split(r"[:.]", value)
    return _seconds(((parts[0] if len(parts) == 4 else None), *parts[-3:]))


# what a refused caption file's owner can do, after what is wrong with it
MEND = "correct that line (or export the captions anew) and add the file again"


def _example(path: Path) -> str:
    """A time line as the file's own format writes it: SRT's comma before the milliseconds, else
    WebVTT's point."""
    mark = "," if path.suffix.lower() == ".srt" else "."
    return f"00:00:01{mark}000 --> 00:00:04{mark}000"


def _time_said(seconds: float) -> str:
    """Seconds as a caption writes them, for a message: "00:01:05.250"."""
    millis = round(seconds * 1000)
    whole, part = divmod(millis, 1000)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{part:03d}"


def _blocks(path: Path, text: str) -> list[tuple[int, float, float, list[str]]]:
    """(cue number, start, end, payload lines) of every cue; blocks without a timing line (the
    header, NOTE, STYLE, REGION) are not cues. A payload ends at an empty line or, in a file with no
    blank line between cues, at the next cue's identifier."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    found = []
    i = 0
    while i < len(lines):
        if "-->" not in lines[i]:
            i += 1
            continue
        number = len(found) + 1
        match = _TIMING.match(lines[i])
        line = lines[i].strip()
        if not match:
            raise QAError(
                f"{path}: caption {number}'s time line {line!r} is not two times like "
                f"{_example(path)!r}; {MEND}"
            )
        groups = match.groups()
        if any(int(part) >= 60 for part in groups[1:3] + groups[5:7] if part):
            raise QAError(
                f"{path}: caption {number}'s time line {line!r} has minutes or seconds past 59; {MEND}"
            )
        start, end = _seconds(groups[:4]), _seconds(groups[4:])
        if end < start:
            ends, starts = _time_said(end), _time_said(start)
            raise QAError(f"{path}: caption {number} ends ({ends}) before it starts ({starts}); {MEND}")
        j = i + 1
        while j < len(lines) and lines[j] != "" and "-->" not in lines[j]:
            j += 1
        payload = lines[i + 1 : j]
        if j < len(lines) and "-->" in lines[j] and payload:
            payload = payload[:-1]  # the next cue's identifier
        found.append((number, start, end, payload))
        i = j
    return found


def _plain(line: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", line)).split())


def _said(payload: list[str]) -> list[tuple[str, str]]:
    """(line, its words without tags and word times) for each line of a cue that holds words."""
    pairs = [(line, _plain(_INLINE_TIME.sub("", line))) for line in payload]
    return [(line, plain) for line, plain in pairs if plain]


def _is_rolling(said: list[list[tuple[str, str]]]) -> bool:
    """Whether cues open with the line the cue before ended on, as rolling captions do."""
    texts = [lines for lines in said if lines]
    repeats = sum(1 for before, now in zip(texts, texts[1:], strict=False) if now[0][1] == before[-1][1])
    return len(texts) > 2 and repeats >= ROLLING * (len(texts) - 1)


def cues_of(path: Path, text: str) -> list[Cue]:
    """The cues' words in order, each line of rolling captions once."""
    blocks = _blocks(path, text)
    if not blocks:
        raise QAError(
            f"{path}: no captions in it: each caption starts with a time line like {_example(path)!r}; "
            "export the captions again, or save the words as a .txt transcript"
        )
    said = [_said(payload) for *_, payload in blocks]
    rolling = _is_rolling(said)
    cues: list[Cue] = []
    last_line = ""
    for (_, start, end, payload), lines in zip(blocks, said, strict=True):
        raw = " ".join(payload)
        voice = _VOICE.search(raw)
        speaker = voice["name"].strip() if voice else None
        if speaker and speaker.isdigit():
            speaker = f"Speaker {speaker}"
        pieces: list[tuple[float, str]] = []
        for n, (line, plain) in enumerate(lines):
            if rolling and n == 0 and plain == last_line:
                continue  # said in the cue before
            if _SOUND.match(plain):
                continue
            parts = _INLINE_TIME.split(line)
            times = [start] + [_clock(t) for t in parts[1::2]]
            for at, piece in zip(times, parts[0::2], strict=True):
                if not (words := _plain(piece)):
                    continue
                if pieces and pieces[-1][0] >= at:  # lines without word times: one piece per cue
                    pieces[-1] = (pieces[-1][0], f"{pieces[-1][1]} {words}")
                else:
                    pieces.append((max(at, start), words))
        if lines:
            last_line = lines[-1][1]
        if pieces and speaker is None and (label := _CUE_LABEL.match(pieces[0][1])):
            speaker = label["label"]
            rest = pieces[0][1][label.end() :]
            pieces = ([(pieces[0][0], rest)] if rest else []) + pieces[1:]
        if pieces:
            cues.append(Cue(tuple(pieces), end, speaker))
    if not cues:
        raise QAError(f"{path}: the subtitle cues hold no words")
    return cues


def read(path: Path, text: str):
    """SRT or WebVTT text -> a Source: speaker paragraphs, and the time of each cue (or, with word
    times, of each word) as (start offset, end offset, start seconds, end seconds)."""

    cues = cues_of(path, text)
    out: list[str] = []
    times: list[tuple[int, int, float, float]] = []
    offset, current, last_end = 0, None, 0.0
    unnamed = all(cue.speaker is None for cue in cues)
    for cue in cues:
        first = cue.pieces[0][0]
        pause = unnamed and first - last_end >= PARAGRAPH_PAUSE
        new_turn = (cue.speaker is not None and cue.speaker != current) or not out or pause
        for n, (at, words) in enumerate(cue.pieces):
            if n == 0 and new_turn:
                current = cue.speaker if cue.speaker is not None else current
                head = ("\n\n" if out else "") + (f"{current}: " if current else "")
            else:
                head = " "
            out.append(head)
            offset += len(head)
            until = cue.pieces[n + 1][0] if n + 1 < len(cue.pieces) else cue.end
            times.append((offset, offset + len(words), at, max(until, at)))
            out.append(words)
            offset += len(words)
        last_end = cue.end
    return Source("".join(out) + "\n", cues=tuple(times), kind="subtitles")


_LABEL_AT = re.compile(r"(?m)^([^:\n]{1,80}):[ \t]")


def webvtt(text: str, cues) -> str:
    """A timed transcript as WebVTT: a cue per timed stretch of its text (start offset, end offset,
    start seconds, end seconds), voice-tagged with the label of the paragraph it is in ("Speaker 1",
    "Jane Doe"); what `qa add` reads back as the same turns (a corrected copy, say)."""
    labels = [(m.start(), m.group(1)) for m in _LABEL_AT.finditer(text)]
    said = []
    for start, end, begins, ends in cues:
        words = " ".join(text[start:end].split())
        if words:
            voice = next((label for at, label in reversed(labels) if at <= start), None)
            said.append((begins, ends, voice, words))
    return as_webvtt(said)


def as_webvtt(said) -> str:
    """WebVTT of (start seconds, end seconds, voice or None, words) cues, the words escaped."""
    lines = ["WEBVTT", ""]
    for begins, ends, voice, words in said:
        escaped = html.escape(words, quote=False)
        lines += [
            f"{_vtt_clock(begins)} --> {_vtt_clock(ends)}",
            f"<v {voice}>{escaped}" if voice else escaped,
            "",
        ]
    return "\n".join(lines)


def _vtt_clock(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"
