"""Builds killed with SIGKILL at random moments: the index at the folder always loads, and is
always one whole index, the old one or the new one, never a mix."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.answer.engine import Engine
from qa.store import build, load

TESTS = Path(__file__).resolve().parent
CHILD = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(TESTS)!r})
from conftest import KeywordEmbedder
from qa.embed import embedders
embedders.EMBEDDERS[KeywordEmbedder.name] = KeywordEmbedder
from qa.store import build
print("building", flush=True)
build(Path(sys.argv[1]), Path(sys.argv[2]), KeywordEmbedder())
"""


def corpus(folder: Path, words: tuple[str, ...], count: int) -> Path:
    """`count` interviews whose answers use these keywords, so each corpus answers differently."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        answers = "\n\n".join(
            f"Question: Number {n}.{i}?\n\nGuest Speaker: The {words[i % len(words)]} came up, {n} {i}."
            for i in range(12)
        )
        (folder / f"talk{n:03d}.txt").write_text(answers, encoding="utf-8")
    return folder


def fingerprint(index_dir: Path, embedder) -> tuple:
    engine = Engine(load(index_dir), embedder)
    hits = engine.ask("border summit music", 5, "hybrid").hits
    return (
        len(engine.index.passages),
        tuple(h.passage.passage_id for h in hits),
        tuple(h.passage.text for h in hits),
    )


@pytest.mark.slow
def test_a_build_killed_at_any_moment_leaves_a_whole_index_that_loads(tmp_path, keyword_embedder):
    a = corpus(tmp_path / "a", ("border", "treaty"), 40)
    b = corpus(tmp_path / "b", ("summit", "music", "bread"), 60)
    index_dir = tmp_path / "index"
    expected = {}
    for name, folder in (("b", b), ("a", a)):  # a is the one in place when the kills begin
        build(folder, index_dir, keyword_embedder)
        expected[fingerprint(index_dir, keyword_embedder)] = name
    timing = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(b), str(tmp_path / "timing")], stdout=subprocess.PIPE
    )
    timing.stdout.readline()
    started = time.perf_counter()
    assert timing.wait() == 0
    whole = time.perf_counter() - started  # the build alone, imports done
    rng = random.Random(5)
    seen, before = [], "a"
    for attempt in range(24):
        source, name = ((a, "a"), (b, "b"))[attempt % 2]
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(source), str(index_dir)], stdout=subprocess.PIPE
        )
        child.stdout.readline()  # imports done: the build itself starts now
        time.sleep(rng.uniform(0, whole))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        now = expected[fingerprint(index_dir, keyword_embedder)]  # KeyError: a mixed index
        # the index the killed build found, or the whole one it was writing: never an older one
        assert now in {before, name}, (attempt, before, now)
        seen.append(now)
        before = now
    assert len(seen) == 24
    build(a, index_dir, keyword_embedder)  # the next build clears what the killed ones left
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock"))  # locks stay
    assert left == ["a", "b", "index", "timing"]
