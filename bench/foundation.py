"""Foundation figures: index build time, warm query latency, app start to first answer.

Run with `make bench`. Writes bench/results/foundation.json and prints a summary. Timings on a
shared 2-core machine are noisy: each figure is a median with its min and max over repeats.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "foundation.json"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import spread, start_app, stop, timed  # noqa: E402

from qa.answer.engine import Engine  # noqa: E402
from qa.embed.embedders import MiniLM  # noqa: E402
from qa.evaluate.evaluation import DEFAULT_EVAL_SET, load_eval_set  # noqa: E402
from qa.ingest.corpus import BUNDLED_CORPUS  # noqa: E402
from qa.store import build, load  # noqa: E402


def app_start_to_first_answer(index_dir: Path, question: str) -> float:
    from gradio_client import Client

    process, url, started = start_app(index_dir)
    try:
        reply = Client(url, verbose=False).predict(question, api_name="/chat")
        assert "qa-card" in reply
        return time.perf_counter() - started
    finally:
        stop(process)


def main() -> None:
    embedder = MiniLM()
    questions = [q.question for q in load_eval_set(DEFAULT_EVAL_SET)]
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        cold = timed(
            lambda: subprocess.run(
                [
                    str(Path(sys.executable).parent / "qa"),
                    "build",
                    "--force",
                    "--quiet",
                    "--index",
                    str(index_dir),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        )
        embedder.encode(["warm up"])
        builds = [timed(lambda: build(BUNDLED_CORPUS, index_dir, embedder)) for _ in range(3)]
        engine = Engine(load(index_dir), embedder)
        for question in questions[:5]:
            engine.ask(question)
        floor = [timed(lambda q=q: embedder.encode([q])) for q in questions]
        latency = [timed(lambda q=q: engine.ask(q)) for q in questions]
        starts = [app_start_to_first_answer(index_dir, questions[0]) for _ in range(3)]
        passages = len(engine.index.passages)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "index_build_cold_cli_s": round(cold, 2),
        "index_build_warm": {**spread(builds), "passages": passages},
        "query_latency_warm": spread(latency),
        "encode_one_question_floor": spread(floor),
        "app_start_to_first_answer": spread(starts),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    q, f = report["query_latency_warm"], report["encode_one_question_floor"]
    b, a = report["index_build_warm"], report["app_start_to_first_answer"]
    print(f"index build, bundled interview ({passages} passages): cold CLI {cold:.1f} s;")
    print(f"  warm median {b['median_ms']} ms (min {b['min_ms']}, max {b['max_ms']})")
    print(f"query latency, {q['n']} warm questions: median {q['median_ms']} ms")
    print(f"  p95 {q['p95_ms']}, min {q['min_ms']}, max {q['max_ms']} ms")
    print(f"  floor, encoding one question: median {f['median_ms']} ms")
    print(f"app start to first answer: median {a['median_ms'] / 1000:.1f} s")
    print(f"  min {a['min_ms'] / 1000:.1f}, max {a['max_ms'] / 1000:.1f} s")
    print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
