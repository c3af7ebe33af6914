"""What every benchmark here shares: timing, the spread of repeated timings, a free port."""

from __future__ import annotations

import socket
import statistics
import time


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
