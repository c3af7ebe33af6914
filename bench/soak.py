"""Soak: 50 clients asking the app's /search endpoint at once for 60 s, on loopback.

Run with `make bench-soak` (or `python bench/soak.py [--clients N] [--seconds S]`). Counts errors,
reports latency, and the server's memory (RSS) before, after and at its peak; the load is bounded in
clients and time and stops by itself. Writes bench/results/soak.json.

Bound stated here: the server's RSS may grow by at most MEMORY_BOUND_MB over the run (caches warming);
more would be a leak.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "soak.json"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import spread, start_app, stop  # noqa: E402
from latency import questions  # noqa: E402

from qa.embed.embedders import MiniLM  # noqa: E402
from qa.ingest.corpus import BUNDLED_CORPUS  # noqa: E402
from qa.store import build  # noqa: E402

MEMORY_BOUND_MB = 100


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def soak(url: str, pid: int | None, clients: int, seconds: float) -> dict:
    """`clients` threads asking for `seconds`; the server's memory is read when its pid is given."""
    from gradio_client import Client

    asked = questions()
    times: list[float] = []
    errors: list[str] = []
    peak = [rss_mb(pid)]
    stop = time.monotonic() + seconds

    answered = [0] * clients

    def client(number: int) -> None:
        own = Client(url, verbose=False)
        n = number
        while True:  # every client asks at least once, however long it took to connect
            question = asked[n % len(asked)]
            n += clients
            started = time.perf_counter()
            try:
                reply = own.predict(question, 5, "hybrid", api_name="/search")
                if "hits" not in reply:
                    raise ValueError(f"odd reply {reply!r:.80}")
                times.append(time.perf_counter() - started)
                answered[number] += 1
            except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                errors.append(repr(error)[:200])
            if time.monotonic() >= stop:
                break

    def watch() -> None:
        while time.monotonic() < stop:
            peak.append(rss_mb(pid))
            time.sleep(1)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    threads.append(threading.Thread(target=watch))
    before = rss_mb(pid)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = rss_mb(pid)
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(times) + len(errors),
        "clients_answered": sum(1 for count in answered if count),
        "errors": len(errors),
        "first_errors": errors[:5],
        "latency": spread(times) if times else None,
        "requests_per_second": round(len(times) / seconds, 1),
        "server_rss_mb": {"before": round(before), "after": round(after), "peak": round(max(peak))},
        "memory_bound_mb": MEMORY_BOUND_MB,
        "within_bound": after - before <= MEMORY_BOUND_MB,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        build(BUNDLED_CORPUS, index_dir, MiniLM(), multilingual=True)
        app, url, _ = start_app(index_dir)
        try:
            report = soak(url, app.pid, args.clients, args.seconds)
        finally:
            stop(app)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
