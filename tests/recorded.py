"""A timed interview with a recording, made here: subtitles whose cues say when each turn was
said, and a WAV of that length written with the standard library (a tone: what is heard does not
matter, only when). Shared by the recording tests, the page's tests and the browser's."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

CUES = (  # (start, end, text): who says what, when
    (0.0, 3.0, "Reporter: What will the new bridge cost the city?"),
    (3.0, 8.0, "Mayor Jane Holt: The bridge will cost forty million euros, paid over ten years."),
    (8.0, 11.0, "Reporter: When does construction of the bridge begin?"),
    (11.0, 17.0, "Mayor Jane Holt: Construction begins in March, and the first cars cross in the autumn."),
)
SECONDS = 20
QUESTION = "When does construction begin?"  # answered by the last cue: 11 to 17 seconds


def _clock(seconds: float) -> str:
    return f"00:00:{int(seconds):02d},{int(seconds % 1 * 1000):03d}"


def write_interview(folder: Path, name: str = "bridge", seconds: int = SECONDS) -> tuple[Path, Path]:
    """(NAME.srt, NAME.wav) in folder: the cues above, and `seconds` of a 440 Hz tone."""
    folder.mkdir(parents=True, exist_ok=True)
    srt = folder / f"{name}.srt"
    srt.write_text(
        "\n".join(
            f"{n}\n{_clock(start)} --> {_clock(end)}\n{text}\n"
            for n, (start, end, text) in enumerate(CUES, start=1)
        ),
        encoding="utf-8",
    )
    return srt, write_tone(folder / f"{name}.wav", seconds)


def write_tone(wav: Path, seconds: int) -> Path:
    """A WAV of `seconds` of a 440 Hz tone, mono, 8 kHz."""
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        tone = (int(6000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(8000 * seconds))
        out.writeframes(b"".join(struct.pack("<h", sample) for sample in tone))
    return wav
