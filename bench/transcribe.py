"""Transcribing a recording without a transcript (qa/ingest/transcribe.py): the real-time factor of
transcription and speakers together, the share of words given to the right speaker, and the word
error rate, on an interview spoken by espeak-ng in two voices (tests/spoken.py: the script three
times over, about 2.3 minutes).

Run with `make bench` (needs the transcribe extra and espeak-ng). Writes bench/results/transcribe.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "transcribe.json"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

from spoken import SCRIPT, attributed, cues, speak, word_error_rate  # noqa: E402
from wild import cpu_name  # noqa: E402

from qa.ingest import transcribe  # noqa: E402


def long_recording(wav: Path, minutes: float) -> Path:
    """`minutes` of the spoken interview over and over, as one WAV."""
    import wave

    spoken = wav.with_name("once.wav")
    speak(spoken)
    with wave.open(str(spoken), "rb") as once:
        rate, frames = once.getframerate(), once.readframes(once.getnframes())
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        for _ in range(int(minutes * 60 * rate * 2 / len(frames)) + 1):
            out.writeframes(frames)
    return wav


def peak_memory(wav: Path) -> dict:
    """In a process of its own: the recording transcribed, and the process's peak memory."""
    import subprocess

    code = (
        "import resource, sys, time; from pathlib import Path; from qa.ingest import transcribe;"
        " t = time.perf_counter(); transcribe.transcript(Path(sys.argv[1]));"
        " print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(wav)], capture_output=True, text=True, check=True)
    took, peak_kb = done.stdout.split()[-2:]
    return {"took_s": round(float(took), 1), "peak_mb": round(int(peak_kb) / 1024, 1)}


def memory(minutes: list[float]) -> dict:
    """Peak memory transcribing recordings of these lengths: windows keep it from growing with them."""
    figures = {}
    with tempfile.TemporaryDirectory(prefix="qa-bench-long-") as scratch:
        for length in minutes:
            wav = long_recording(Path(scratch) / f"long-{length}.wav", length)
            figures[f"{length:g} min"] = peak_memory(wav)
            print(length, figures[f"{length:g} min"], flush=True)
            wav.unlink()
    return figures


def main() -> None:
    if not transcribe.available():
        sys.exit("the transcribe extra is not installed: make transcribe")
    results = {"cpu": cpu_name()}
    if "--memory" in sys.argv:  # longer: recordings of 10 and 30 minutes
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else results
        results["peak_memory"] = memory([10, 30])
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {RESULTS}")
        return
    with tempfile.TemporaryDirectory(prefix="qa-bench-speech-") as scratch:
        wav = Path(scratch) / "interview.wav"
        said = speak(wav, SCRIPT * 3)
        seconds = said[-1].end
        transcribe.whisper_folder()  # the model's halves joined once, not timed
        for run in ("first", "again"):  # the first pays for loading the models
            started = time.perf_counter()
            vtt = transcribe.transcript(wav)
            took = time.perf_counter() - started
            heard = cues(vtt)
            results[run] = {
                "audio_s": round(seconds, 1),
                "took_s": round(took, 1),
                "real_time_factor": round(took / seconds, 3),
                "speakers": len({voice for _, _, voice, _ in heard}),
                "words_to_the_right_speaker": round(attributed(heard, said), 4),
                "word_error_rate": round(word_error_rate(said, heard), 4),
            }
            print(run, json.dumps(results[run]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
