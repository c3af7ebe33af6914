"""Latency figures: per-mode query latency against its floor, the app end to end, and start-up.

Run with `make bench` (this is one of its parts) or `python bench/latency.py`. Writes
bench/results/latency.json. Every ratio compares figures measured in the same run:
- warm query latency over 200 questions, per mode, against the embedder's own time to encode one
  question (the floor), the two measured interleaved, question by question;
- the app's `/search` endpoint through gradio_client on loopback: one user, then 20 at once (with
  TLS verification off, as plain HTTP has no TLS; and again with gradio_client's defaults);
- `python app.py` to the first answered question, against the floor of importing
  sentence-transformers and loading the model in a fresh process (and beside it, what loading qa's
  own MiniLM costs: it runs the same model on transformers without importing sentence-transformers).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "latency.json"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import loopback_client, spread, start_app, stop, timed  # noqa: E402

from qa.answer.engine import Engine  # noqa: E402
from qa.embed.embedders import MiniLM  # noqa: E402
from qa.evaluate.evaluation import EVAL_DIR, load_eval_set  # noqa: E402
from qa.ingest.corpus import BUNDLED_CORPUS  # noqa: E402
from qa.store import build, load  # noqa: E402

QUESTIONS = 200
MODES = ("dense", "bm25", "hybrid")
USERS = 20


def questions() -> list[str]:
    """200 questions: every English one in eval/ (on- and off-topic), then again reworded."""
    off_topic = (EVAL_DIR / "off_topic_questions.jsonl").read_text(encoding="utf-8").splitlines()
    pool = [q.question for q in load_eval_set(EVAL_DIR / "interview_questions.jsonl")]
    pool += [q for q in (json.loads(line)["question"] for line in off_topic if line.strip()) if q.isascii()]
    out = list(pool)
    for prefix in ("Tell me: ", "In short, ", "Briefly, ", "Please say: "):
        out += [prefix + q[0].lower() + q[1:] for q in pool]
    return out[:QUESTIONS]


def http_search(url: str, question: str) -> dict:
    """The /search endpoint over plain HTTP (Gradio's REST form: POST the call, GET its result)."""
    request = urllib.request.Request(
        url + "gradio_api/call/search",
        data=json.dumps({"data": [question, 5, "hybrid"]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        event = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/search/{event}", timeout=60) as response:
        body = response.read().decode()
    if "event: complete" not in body:
        raise RuntimeError(body[:200])
    return json.loads(body.split("data: ", 1)[1].splitlines()[0])[0]


def concurrent(call, asked: list[str]) -> tuple[list[float], list[str], float]:
    """USERS threads, each asking 10 questions through `call(question)`: times, errors, wall."""
    times: list[float] = []
    errors: list[str] = []

    def user(number: int) -> None:
        for q in asked[number::USERS][:10]:
            try:
                times.append(timed(lambda q=q: call(number, q)))
            except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                errors.append(repr(error))

    threads = [threading.Thread(target=user, args=(n,)) for n in range(USERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, errors, time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def model_floor() -> float:
    """The issue's floor: a fresh process importing sentence-transformers, loading MiniLM with it
    and encoding one question."""
    return fresh_process(
        "from sentence_transformers import SentenceTransformer; from qa.embed.embedders import MiniLM; "
        "SentenceTransformer(str(MiniLM().model_folder()), device='cpu').encode(['warm'])"
    )


def own_model_start() -> float:
    """What the app pays for the same: a fresh process loading qa's MiniLM (transformers and
    tokenizers, no sentence-transformers) and encoding one question."""
    return fresh_process("from qa.embed.embedders import MiniLM; MiniLM().encode(['warm'])")


def fresh_process(code: str) -> float:
    return timed(lambda: subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO))


def app_figures(index_dir: Path, asked: list[str]) -> dict:
    from gradio_client import Client

    starts, floors, own = [], [], []
    for _ in range(3):
        floors.append(model_floor())
        own.append(own_model_start())
        process, url, started = start_app(index_dir)
        try:
            loopback_client(url).predict(asked[0], 5, "hybrid", api_name="/search")
            starts.append(time.perf_counter() - started)
        finally:
            stop(process)
    process, url, _ = start_app(index_dir)
    try:
        client = loopback_client(url)
        client.predict(asked[0], 5, "hybrid", api_name="/search")
        one = [timed(lambda q=q: client.predict(q, 5, "hybrid", api_name="/search")) for q in asked[:50]]
        one_http = [timed(lambda q=q: http_search(url, q)) for q in asked[:50]]
        clients = [loopback_client(url) for _ in range(USERS)]
        server_cpu, client_cpu = cpu_seconds(process.pid), cpu_seconds(os.getpid())
        times, errors, wall = concurrent(
            lambda n, q: clients[n].predict(q, 5, "hybrid", api_name="/search"), asked
        )
        server_cpu, client_cpu = cpu_seconds(process.pid) - server_cpu, cpu_seconds(os.getpid()) - client_cpu
        # the same with gradio_client's defaults (it verifies TLS certificates that plain HTTP lacks)
        default_clients = [Client(url, verbose=False) for _ in range(USERS)]
        default_cpu = cpu_seconds(os.getpid())
        default_times, default_errors, default_wall = concurrent(
            lambda n, q: default_clients[n].predict(q, 5, "hybrid", api_name="/search"), asked
        )
        default_cpu = cpu_seconds(os.getpid()) - default_cpu
        http_times, http_errors, http_wall = concurrent(lambda n, q: http_search(url, q), asked)
    finally:
        stop(process)
    return {
        "start_to_first_answer": spread(starts),
        "start_floor_import_and_load_model": spread(floors),
        "start_ratio_to_floor": round(statistics.median(starts) / statistics.median(floors), 2),
        "start_own_model_load": spread(own),
        "one_user_search": spread(one),
        f"{USERS}_users_search": {
            **spread(times),
            "errors": len(errors),
            "requests": len(times) + len(errors),
        },
        f"{USERS}_users_wall_s": round(wall, 2),
        f"{USERS}_users_server_cpu_ms_per_request": round(1000 * server_cpu / max(len(times), 1), 1),
        f"{USERS}_users_client_cpu_ms_per_request": round(1000 * client_cpu / max(len(times), 1), 1),
        f"{USERS}_users_search_default_client": {
            **spread(default_times),
            "errors": len(default_errors),
            "requests": len(default_times) + len(default_errors),
            "wall_s": round(default_wall, 2),
            "client_cpu_ms_per_request": round(1000 * default_cpu / max(len(default_times), 1), 1),
        },
        "one_user_search_plain_http": spread(one_http),
        f"{USERS}_users_search_plain_http": {
            **spread(http_times),
            "errors": len(http_errors),
            "requests": len(http_times) + len(http_errors),
            "wall_s": round(http_wall, 2),
        },
    }


def main() -> None:
    embedder = MiniLM()
    asked = questions()
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        build(BUNDLED_CORPUS, index_dir, embedder, multilingual=True)
        engine = Engine(load(index_dir), embedder)
        for mode in MODES:
            engine.ask(asked[0], 5, mode)
        floor, per_mode = [], {mode: [] for mode in MODES}
        for question in asked:
            floor.append(timed(lambda q=question: embedder.encode([q])))
            for mode in MODES:
                engine.dense.encode_question.forget()  # each mode pays for its own encode
                per_mode[mode].append(timed(lambda q=question, m=mode: engine.ask(q, 5, m)))
        report = {
            "questions": len(asked),
            "encode_one_question_floor": spread(floor),
            "query": {mode: spread(times) for mode, times in per_mode.items()},
            "ratio_to_floor": {
                mode: round(statistics.median(times) / statistics.median(floor), 3)
                for mode, times in per_mode.items()
            },
            "app": app_figures(index_dir, asked),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
