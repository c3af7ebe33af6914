"""A scripted interview spoken by espeak-ng in two voices, made here: what was said, by whom and
when is known, so that a transcription of it can be checked word by word. Shared by the
transcription tests and bench/transcribe.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

VOICES = {"Q": "en-us+f3", "A": "en-gb+m3"}  # the interviewer, the interviewee
GAP_S = 0.6  # silence after each turn
SCRIPT = (
    ("Q", "Good morning, and thank you for joining us today. What brought you to the harbour project?"),
    (
        "A",
        "I grew up in a fishing town, and I watched the old harbour close when I was twelve. When the"
        " council asked for an engineer, I wanted to build something that would last a century.",
    ),
    ("Q", "How long will the construction take?"),
    (
        "A",
        "We start digging in March next year. The breakwater takes two summers, and the new quay opens"
        " in the autumn of the third year.",
    ),
    ("Q", "What did the project cost?"),
    (
        "A",
        "The budget is forty million euros. Half comes from the regional fund, and the rest from the port"
        " authority and a bond that the town sold to its own people.",
    ),
    ("Q", "Thank you very much."),
    ("A", "Thank you. It was a pleasure."),
)


@dataclass(frozen=True)
class Said:
    who: str  # "Q" or "A"
    text: str
    start: float
    end: float


def espeak() -> str:
    """The espeak-ng command; the test fails in CI without it, and skips elsewhere."""
    found = shutil.which("espeak-ng")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI must run the transcription tests: espeak-ng is missing (apt-get install espeak-ng)"
            )
        pytest.skip("no espeak-ng here (apt-get install espeak-ng to run this test)")
    return found


def speak(wav: Path, script=SCRIPT) -> list[Said]:
    """The script spoken into one WAV, each turn in its speaker's voice with a pause after it;
    what was said when."""
    command = espeak()
    wav.parent.mkdir(parents=True, exist_ok=True)
    said, frames, rate = [], [], None
    at = 0.0
    for number, (who, text) in enumerate(script):
        part = wav.parent / f".{wav.stem}-{number}.wav"
        subprocess.run([command, "-v", VOICES[who], "-s", "160", "-w", str(part), text], check=True)
        with wave.open(str(part), "rb") as spoken:
            rate = spoken.getframerate()
            data = spoken.readframes(spoken.getnframes())
        part.unlink()
        seconds = len(data) / 2 / rate
        said.append(Said(who, text, at, at + seconds))
        frames += [data, b"\0\0" * int(GAP_S * rate)]
        at += seconds + GAP_S
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(frames))
    return said


CUE = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n<v ([^>]+)>(.*)")


def cues(vtt: str) -> list[tuple[float, float, str, str]]:
    """(start, end, voice, text) of each cue of a WebVTT transcript."""
    found = []
    for match in CUE.finditer(vtt):
        h1, m1, s1, ms1, h2, m2, s2, ms2, voice, text = match.groups()
        start = int(h1) * 3600 + int(m1) * 60 + int(s1) + int(ms1) / 1000
        end = int(h2) * 3600 + int(m2) * 60 + int(s2) + int(ms2) / 1000
        found.append((start, end, voice, text))
    return found


def attributed(heard: list[tuple[float, float, str, str]], said) -> float:
    """The share of the words heard whose voice is the speaker who said them: each cue is the turn
    it overlaps most, each voice label the role most of its words belong to."""
    turn_of = []
    for start, end, voice, text in heard:
        turn = max(said, key=lambda s: min(end, s.end) - max(start, s.start))
        turn_of.append((voice, turn.who, len(text.split())))
    role = {}
    for voice in {v for v, _, _ in turn_of}:
        words = {}
        for v, who, count in turn_of:
            if v == voice:
                words[who] = words.get(who, 0) + count
        role[voice] = max(words, key=words.get)
    right = sum(count for voice, who, count in turn_of if role[voice] == who)
    return right / sum(count for _, _, count in turn_of)


def word_error_rate(said: list[Said], heard: list[tuple[float, float, str, str]]) -> float:
    """Words substituted, left out or added, over the words said (numbers written as digits by
    Whisper count as errors: "forty" against "40")."""
    reference = _words(" ".join(s.text for s in said))
    hypothesis = _words(" ".join(text for _, _, _, text in heard))
    previous = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, start=1):
        current = [i]
        for j, other in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1] / len(reference)


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())
