"""Transcripts exported by transcription and meeting tools: turns headed by a speaker and a time.

Otter (`Emma  0:03` on its own line, or `**Emma**  0:03`), Rev (`Speaker 1 (00:00):`), Whisper with
pyannote (`[Speaker 1 00:00] words`), Teams and many others put a header line with a label and a time
over each turn; timestamped captions (`00:02:11 Hey, Al.`) put a time before every line; a JSON export
lists segments with a speaker, a time and the text. None of this is a list of tools: a header is any
short label beside a time, and a file is read this way only when such lines recur, their times run
forward, and they head a good share of its lines. Anything else is left to qa.ingest.parsing as written.

The text becomes `Label: words` paragraphs (the header's label, the turn's words as written) and
each turn keeps its time: each sentence is given a time within its turn in proportion to where it
lies, the turn running until the next one starts, so a card of a recording plays near its quote.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from qa.documents import QAError, Source

_T = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_LABEL = r"[^\s\d*_()\[\]:#][^*_()\[\]\n]{0,40}?"
_HEADERS = (
    # [Speaker 1 00:00] words
    re.compile(rf"\[(?P<label>{_LABEL})[ \t]+(?P<time>{_T})\][ \t]*(?P<rest>.*)"),
    # Emma  0:00 / **Emma**  0:00 / Speaker 1 (00:00): / Chris Wallace: (01:09:00) / Jo [00:00:05]
    re.compile(
        rf"(?:\*\*|__)?(?P<label>{_LABEL})(?:\*\*|__)?[ \t]*:?[ \t]+"
        rf"[(\[]?(?P<time>{_T})[)\]]?[ \t]*:?(?P<rest>)"
    ),
    # 00:01:02 Name: words / [00:01:02] Name: words
    re.compile(rf"\[?(?P<time>{_T})\]?[ \t]+(?P<label>[A-ZА-ЯЁ][\w.'’\- ]{{0,40}}?):[ \t]+(?P<rest>\S.*)"),
)
_LINE = re.compile(rf"\[?(?P<time>{_T})\]?[ \t]+(?P<rest>\S.*)")
MIN_HEADERS = 3
HEADER_SHARE = 0.2  # of the non-blank lines, for turn headers (each heads a paragraph or more)
LINE_SHARE = 0.5  # of the non-blank lines, for timestamped lines
FORWARD = 0.9  # share of consecutive times that do not run backwards
WORDS_PER_SECOND = 2.5  # speech, for the last turn's end and pauses between timestamped lines
PAUSE = 2.0  # seconds of silence beyond the words' own time that end a paragraph


def seconds(clock: str) -> float:
    parts = clock.replace(",", ".").split(":")
    return sum(float(part) * 60**i for i, part in enumerate(reversed(parts)))


def _forward(times: list[float]) -> bool:
    steps = list(zip(times, times[1:], strict=False))
    return not steps or sum(b >= a for a, b in steps) >= FORWARD * len(steps)


def read(text: str):
    """A Source for text in a timed export's shape, or None when the text is not one."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if not nonblank:
        return None
    headers = []
    for i in nonblank:
        match = next((m for p in _HEADERS if (m := p.fullmatch(lines[i].strip()))), None)
        if match:
            headers.append(
                (i, " ".join(match["label"].split()), seconds(match["time"]), match["rest"].strip())
            )
    labels = [label for _, label, _, _ in headers]
    if (
        len(headers) >= MIN_HEADERS
        and len(headers) >= HEADER_SHARE * len(nonblank)
        and len(set(labels)) < len(labels)
        and _forward([t for _, _, t, _ in headers])
    ):
        return _turns(lines, headers)
    timed = [(i, m) for i in nonblank if (m := _LINE.fullmatch(lines[i].strip()))]
    if len(timed) >= MIN_HEADERS and len(timed) >= LINE_SHARE * len(nonblank):
        times = [seconds(m["time"]) for _, m in timed]
        if _forward(times):
            return _lines(lines, timed, times)
    return None


def _turns(lines: list[str], headers) -> object:
    """Each header's label, time and words (its own line's rest and the lines up to the next)."""
    head = [line.strip() for line in lines[: headers[0][0]] if line.strip()]
    turns = []
    for n, (i, label, at, rest) in enumerate(headers):
        until = headers[n + 1][0] if n + 1 < len(headers) else len(lines)
        said = [line for line in [rest] + [line.strip() for line in lines[i + 1 : until]] if line]
        if said:
            turns.append((label, [(at, "\n\n".join(said))]))
    return render(head, turns)


def _lines(lines: list[str], timed, times: list[float]) -> object:
    """Timestamped lines with no speaker: one running text, a new paragraph after a line that ends a
    sentence when the next starts a pause later than its words take to say; each line keeps its time."""
    head = [line.strip() for line in lines[: timed[0][0]] if line.strip()]
    paragraphs: list[list[tuple[float, str]]] = []
    for n, ((_, match), at) in enumerate(zip(timed, times, strict=True)):
        said = match["rest"].strip()
        if paragraphs:
            before = timed[n - 1][1]["rest"].strip()
            spoken = len(before.split()) / WORDS_PER_SECOND
            ends = before.endswith((".", "?", "!", "…", '"', "”"))
            if not (ends and (at - times[n - 1] > spoken + PAUSE or before.endswith("?"))):
                paragraphs[-1].append((at, said))
                continue
        paragraphs.append([(at, said)])
    return render(head, [(None, paragraph) for paragraph in paragraphs], _whole)


def _sentences_of(said: str) -> list[tuple[int, int]]:
    """The sentences of each paragraph of a segment, in its own offsets."""
    from qa.ingest.chunking import sentences

    spans, cursor = [], 0
    for paragraph in said.split("\n\n"):
        spans += sentences(said, cursor, cursor + len(paragraph))
        cursor += len(paragraph) + 2
    return spans


def _whole(said: str) -> list[tuple[int, int]]:
    return [(0, len(said))]


def render(head: list[str], turns: list[tuple[str | None, list[tuple[float, str]]]], spans_of=_sentences_of):
    """Source text `Label: words` per turn (no label: the words alone), with times. A turn is its
    segments, each with the time it starts (a tool's turn is one segment, perhaps of several
    paragraphs; a JSON export's consecutive segments of one speaker are one turn; a timestamped
    line is one), joined by spaces. Each span of a segment that `spans_of` gives (its sentences, or
    the whole line) is timed within the segment, which runs until the next one starts."""

    parts = ["\n\n".join(head) + ("\n\n" if head else "")]
    offset = len(parts[0])
    starts = [at for _, segments in turns for at, _ in segments]
    cues, k = [], 0
    for label, segments in turns:
        head_of_turn = f"{label}: " if label else ""
        parts.append(head_of_turn)
        offset += len(head_of_turn)
        for n, (at, said) in enumerate(segments):
            if n:
                parts.append(" ")
                offset += 1
            following = starts[k + 1] if k + 1 < len(starts) else -1.0
            until = following if following >= at else at + len(said.split()) / WORDS_PER_SECOND
            for s, e in spans_of(said):
                t0 = at + (until - at) * s / max(len(said), 1)
                t1 = at + (until - at) * e / max(len(said), 1)
                cues.append((offset + s, offset + e, round(t0, 3), round(t1, 3)))
            parts.append(said)
            offset += len(said)
            k += 1
        parts.append("\n\n")
        offset += 2
    return Source("".join(parts), cues=tuple(cues), kind="timed")


def read_json(path: Path, text: str):
    """A JSON transcript: segments with a speaker, a time and the text, as a list, under
    "segments", or as numbered keys ("0", "1", ...) beside a "title"."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise QAError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    title = ""
    if isinstance(data, dict):
        title = str(data.get("title") or "")
        numbered = sorted((int(k), v) for k, v in data.items() if k.isdigit())
        data = data.get("segments") if "segments" in data else [v for _, v in numbered]
    expected = 'segments with "text" and a time ("start" or "timestamp"), and a "speaker" where known'
    if not isinstance(data, list) or not data or not all(isinstance(s, dict) and "text" in s for s in data):
        raise QAError(f"{path}: not a JSON transcript: expected {expected}")
    turns: list[tuple[str | None, list[tuple[float, str]]]] = []
    for segment in data:
        said = " ".join(str(segment.get("text") or "").split())
        at = segment.get("start", segment.get("timestamp", 0))
        try:
            at = seconds(at) if isinstance(at, str) else float(at or 0)
        except ValueError:
            raise QAError(f"{path}: a segment's time {at!r} is not a time") from None
        speaker = " ".join(str(segment.get("speaker") or "").split()) or None
        if not said:
            continue
        if turns and turns[-1][0] == speaker:
            turns[-1][1].append((at, said))
        else:
            turns.append((speaker, [(at, said)]))
    if not turns:
        raise QAError(f"{path}: the JSON transcript's segments hold no words")
    return replace(render([], turns), metadata={"title": title} if title else {})
