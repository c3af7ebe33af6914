"""Scale figures: the vector index and BM25 at 100k and 1M synthetic passages.

Run with `make bench-scale` (or `python bench/scale.py [--sizes 100000 1000000]`). Embedding a
million real passages here would take hours, so the passages are random unit vectors (384 numbers,
MiniLM's size) and generated text for BM25. Pure noise has no neighbourhoods (every vector is about
as far from a question as every other, which no index, and no real corpus, is like), so the vectors
are drawn around 2,000 random topic centres, as embeddings of real text cluster by topic; a question
is a stored vector plus noise. For each size: which index `qa.store.vector_index` picks, its build
time and memory, query latency at the dense retriever's depth (100 candidates) and at 10, and
recall@10 against exact search, at the default HNSW search width and wider and narrower ones.
Writes bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "scale.json"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import spread  # noqa: E402

from qa.answer.lexical import Lexical, LexicalSettings  # noqa: E402
from qa.store import faiss_search, vector_index  # noqa: E402

DIMS = 384
QUESTIONS = 200


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


TOPICS = 2000
SPREAD = 0.05  # per dimension: a vector lies at cosine ~0.45 from its topic's centre
QUESTION_NOISE = 0.02  # per dimension: a question at cosine ~0.8 from the passage it was made from


def vectors_at(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centres = unit(rng.standard_normal((TOPICS, DIMS), dtype=np.float32))
    stored = np.empty((size, DIMS), dtype=np.float32)
    for start in range(0, size, 100_000):  # in blocks: a million rows at once doubles peak memory
        rows = min(100_000, size - start)
        noise = SPREAD * rng.standard_normal((rows, DIMS), dtype=np.float32)
        stored[start : start + rows] = unit(centres[rng.integers(0, TOPICS, rows)] + noise)
    picked = rng.choice(size, QUESTIONS, replace=False)
    noise = QUESTION_NOISE * rng.standard_normal((QUESTIONS, DIMS), dtype=np.float32)
    return stored, unit(stored[picked] + noise)


def dense_figures(size: int, rng: np.random.Generator) -> dict:
    import faiss

    faiss.omp_set_num_threads(2)
    stored, questions = vectors_at(size, rng)
    before = rss_mb()
    started = time.perf_counter()
    index = vector_index(stored)
    build_seconds = time.perf_counter() - started
    index_mb = rss_mb() - before
    exact = faiss.IndexFlatIP(DIMS)
    exact.add(stored)
    _, truth = exact.search(questions, 10)
    del exact
    faiss.omp_set_num_threads(1)  # as the app runs it: one thread per query
    found, latency_100, latency_10 = [], [], []
    for question in questions:
        q = question[None, :]
        started = time.perf_counter()
        faiss_search(index, q, 100, None)
        latency_100.append(time.perf_counter() - started)
        started = time.perf_counter()
        _, rows = faiss_search(index, q, 10, None)
        latency_10.append(time.perf_counter() - started)
        found.append(rows)
    widths = {}
    if isinstance(index, faiss.IndexHNSW):  # the trade-off behind retrievers.HNSW_EF_SEARCH
        for width in (32, 64, 256):
            params = faiss.SearchParametersHNSW(efSearch=width)
            times, hits = [], []
            for question in questions:
                started = time.perf_counter()
                _, rows = index.search(question[None, :], 10, params=params)
                times.append(time.perf_counter() - started)
                hits.append(rows[0])
            widths[width] = {"recall_at_10_vs_exact": recall_of(hits, truth), "query_top10": spread(times)}
    return {
        "index": type(index).__name__,
        "build_seconds": round(build_seconds, 1),
        "index_memory_mb": round(index_mb),
        "bytes_per_passage": round(index_mb * 2**20 / size),
        "query_top100": spread(latency_100),
        "query_top10": spread(latency_10),
        "recall_at_10_vs_exact": recall_of(found, truth),
        "other_hnsw_search_widths": widths,
    }


def recall_of(found, truth) -> float:
    return round(
        statistics.mean(
            len(set(r.tolist()) & set(t.tolist())) / 10 for r, t in zip(found, truth, strict=True)
        ),
        4,
    )


def lexical_figures(size: int, rng: np.random.Generator) -> dict:
    """Passages of 40 words and questions of 6, drawn from 50,000 terms with Zipf-like frequencies."""
    vocabulary = np.array([f"w{n}" for n in range(50_000)])
    weights = 1 / np.arange(1, len(vocabulary) + 1)
    weights /= weights.sum()
    texts = [" ".join(row) for row in vocabulary[rng.choice(len(vocabulary), (size, 40), p=weights)]]
    questions = [" ".join(row) for row in vocabulary[rng.choice(len(vocabulary), (QUESTIONS, 6), p=weights)]]
    before = rss_mb()
    started = time.perf_counter()
    lexical = Lexical.build(texts, LexicalSettings())
    build_seconds = time.perf_counter() - started
    memory = rss_mb() - before
    del texts
    latency = []
    for question in questions:
        started = time.perf_counter()
        scores = lexical.scores(question)
        np.argpartition(-scores, 100)[:100]
        latency.append(time.perf_counter() - started)
    return {
        "build_seconds": round(build_seconds, 1),
        "memory_mb": round(memory),
        "query_top100": spread(latency),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--no-bm25", action="store_true")
    args = parser.parse_args()
    results = {"dims": DIMS, "questions": QUESTIONS, "sizes": {}}
    for size in args.sizes:
        figures = {"dense": dense_figures(size, np.random.default_rng(size))}
        gc.collect()
        if not args.no_bm25:
            figures["bm25"] = lexical_figures(size, np.random.default_rng(size))
            gc.collect()
        results["sizes"][str(size)] = figures
        print(size, json.dumps(figures), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
