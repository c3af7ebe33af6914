"""What every benchmark here shares: timing, the spread of repeated timings, a free port."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def spread(seconds: list[float]) -> dict:
    """Median, p95, min and max in milliseconds: these machines are noisy, one figure says little."""
    ms = sorted(s * 1000 for s in seconds)
    return {
        "median_ms": round(statistics.median(ms), 3),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 3),
        "min_ms": round(ms[0], 3),
        "max_ms": round(ms[-1], 3),
        "n": len(ms),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(index_dir: Path) -> tuple[subprocess.Popen, str, float]:
    """`python app.py` on a free loopback port: (process, url, when it was started), once it serves."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "app.py"), "--index", str(index_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return process, url, started
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("app exited before serving") from None
            time.sleep(0.05)


def loopback_client(url: str):
    """A gradio_client for the app on plain-HTTP loopback. ssl_verify=False, since there is no TLS to
    verify: by default gradio_client loads the CA bundle twice per call (a new httpx client for the
    request and one for its event stream), about 85 ms of the caller's CPU, which on 2 cores made
    20 such callers the heaviest load on the machine."""
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=False)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)
