"""Many hands on one archive for a minute: N writers adding interviews, M readers loading the index,
and voters recording votes, all at once, as separate processes (the real model, the real folder).

Run with `make bench-stress` (part of `make bench`; about two minutes). Writes
bench/results/stress.json: interviews and votes acknowledged against those present at the end, and
loads against failed loads. Every acknowledged interview and vote must be there and no load may fail
(qa/locks.py).
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results" / "stress.json"
WRITERS, READERS, VOTERS = 3, 3, 2
SECONDS = 60


def writer(number: int, index_dir: Path, folder: Path, stop: float, out) -> None:
    from qa.archive import add

    acknowledged, n = [], 0
    while time.time() < stop:
        path = folder / f"w{number}-{n}.txt"
        path.write_text(
            f"Question: What did writer {number} hear in round {n}?\n\n"
            f"Guest {'ABCDEFGH'[number]}: In round {n} the harbour talks went on, and the ferries ran late.\n"
        )
        index, outcomes = add(index_dir, [path])
        if index is None or outcomes[0].status != "added":
            raise RuntimeError(f"{path}: {outcomes[0].status} {outcomes[0].note}")  # the bench is wrong
        acknowledged.append(outcomes[0].doc_id)
        n += 1
    out.put(("writer", acknowledged))


def reader(index_dir: Path, stop: float, out) -> None:
    from qa.documents import QAError
    from qa.store import load

    loads = failures = 0
    while time.time() < stop:
        try:
            load(index_dir)
        except QAError:
            failures += 1
        loads += 1
    out.put(("reader", (loads, failures)))


def voter(number: int, index_dir: Path, stop: float, out) -> None:
    from qa.app.feedback import record
    from qa.store import load

    passage = load(index_dir).passages[0].passage_id
    acknowledged = []
    while time.time() < stop:
        question = f"voter {number} vote {len(acknowledged)}"
        record(index_dir, question, passage, "up", {passage})
        acknowledged.append(question)
    out.put(("voter", acknowledged))


def main() -> int:
    from qa.app.feedback import read
    from qa.embed.embedders import MiniLM
    from qa.ingest.corpus import BUNDLED_CORPUS
    from qa.store import build, load

    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        index_dir, folder = Path(tmp) / "index", Path(tmp) / "incoming"
        folder.mkdir()
        build(BUNDLED_CORPUS, index_dir, MiniLM())
        out = context.Queue()
        stop = time.time() + 20 + SECONDS  # the workers' imports and model loads come first
        workers = [
            context.Process(target=writer, args=(n, index_dir, folder, stop, out)) for n in range(WRITERS)
        ]
        workers += [context.Process(target=reader, args=(index_dir, stop, out)) for _ in range(READERS)]
        workers += [context.Process(target=voter, args=(n, index_dir, stop, out)) for n in range(VOTERS)]
        for worker in workers:
            worker.start()
        reports = [out.get(timeout=SECONDS + 600) for _ in workers]
        for worker in workers:
            worker.join()
        added = [doc for kind, docs in reports if kind == "writer" for doc in docs]
        votes = [q for kind, questions in reports if kind == "voter" for q in questions]
        loads = [pair for kind, pair in reports if kind == "reader"]
        present = set(load(index_dir).documents)
        recorded = {entry["question"] for entry in read(index_dir)}
        results = {
            "writers": WRITERS,
            "readers": READERS,
            "voters": VOTERS,
            "seconds": SECONDS,
            "interviews_acknowledged": len(added),
            "interviews_present": len(set(added) & present),
            "votes_acknowledged": len(votes),
            "votes_present": len(set(votes) & recorded),
            "loads": sum(n for n, _ in loads),
            "failed_loads": sum(f for _, f in loads),
        }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    whole = (
        results["interviews_present"] == results["interviews_acknowledged"]
        and results["votes_present"] == results["votes_acknowledged"]
        and not results["failed_loads"]
    )
    return 0 if whole else 1


if __name__ == "__main__":
    raise SystemExit(main())
