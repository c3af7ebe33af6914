"""The archive on Milvus Lite against the index folder: ranking parity, then 100k passages.

Run with `make bench-milvus` (part of `make bench`; about 15 minutes). Writes bench/results/milvus.json.

Parity: the default mode (hybrid) on both stores, every metric, on the interview's own eval set and
on the press conferences in ../shared/benchmarks (journalists' questions, and all questions), with
the real MiniLM model; the issue's target is every metric within 0.01.

Scale: 2,000 generated interviews of 50 answers (100,000 passages, 300,000 sentences). Embedding
that many real texts here would take hours, so a text's vector is drawn from its hash around one of
2,000 topic centres (as bench/scale.py's are) by a stand-in embedder; the text is generated words
for BM25. Both stores hold the same rows, so what differs is the store: query latency (median, p95)
for dense and hybrid searches, `qa add` of one more interview (the folder rewrites its index, Milvus
writes that interview's rows), and memory (this process, and Milvus Lite's own server process).
"""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "milvus.json"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import spread  # noqa: E402
from wild import cpu_name  # noqa: E402

from qa.documents import Document  # noqa: E402
from qa.embed import embedders  # noqa: E402

BENCHMARKS = REPO.parent / "shared" / "benchmarks"
DIMS, TOPICS, INTERVIEWS, ANSWERS = 384, 2000, 2000, 50
QUESTIONS = 100
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def rss_mb(pid: str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def milvus_server_mb() -> float:
    """Resident memory of Milvus Lite's server processes started by this one."""
    import os

    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == os.getpid() and "milvus" in (entry / "cmdline").read_bytes().decode(
                    errors="ignore"
                ):
                    total += rss_mb(entry.name)
            except (OSError, IndexError, ValueError):
                continue
    return round(total, 1)


# --- parity --------------------------------------------------------------------------------------


def parity(scratch: Path) -> dict:
    from qa.answer.engine import Engine
    from qa.evaluate.beir import collection_index, collection_run, load_collection, select_queries
    from qa.evaluate.evaluation import load_eval_set, qrels_for, retrieve, score
    from qa.ingest.corpus import BUNDLED_CORPUS
    from qa.store import build
    from qa.store.milvus import location

    embedder = embedders.MiniLM()
    results = {}
    folder = build(BUNDLED_CORPUS, scratch / "own", embedder)
    where = location(str(scratch / "own.db"))
    milvus = build(BUNDLED_CORPUS, where, embedder)
    questions = load_eval_set(REPO / "eval" / "interview_questions.jsonl")
    qrels = qrels_for(questions, folder.passages)
    results["own eval set"] = {
        store: score(qrels, retrieve(Engine(index, embedder).retriever("hybrid"), questions, 10), METRICS)[0]
        for store, index in (("folder", folder), ("milvus", milvus))
    }
    milvus.close()
    for name, where_clause in (("press conferences, journalist questions", "kind=journalist_question"),
                               ("press conferences, all questions", None)):  # fmt: skip
        collection = select_queries(load_collection(BENCHMARKS / "press_conferences_qevasion"), where_clause)
        stores = {
            "folder": collection_index(collection, scratch / "press", embedder),
            "milvus": collection_index(collection, location(str(scratch / "press.db")), embedder),
        }
        results[name] = {
            store: score(
                collection.qrels, collection_run(Engine(index, embedder), "hybrid", collection), METRICS
            )[0]
            for store, index in stores.items()
        }
        stores["milvus"].close()
    for figures in results.values():
        figures["largest_difference"] = round(
            max(abs(figures["folder"][m] - figures["milvus"][m]) for m in METRICS), 4
        )
        for store in ("folder", "milvus"):
            figures[store] = {m: round(figures[store][m], 4) for m in METRICS}
    return results


# --- scale ---------------------------------------------------------------------------------------


class Stand_in:  # noqa: N801
    """A text's vector from its hash, around the topic its first word names (`t123 ...`)."""

    name, version, dims, abstain_below = "bench-stand-in", "1", DIMS, 0.3

    def __init__(self) -> None:
        rng = np.random.default_rng(7)
        centres = rng.standard_normal((TOPICS, DIMS)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    def encode(self, texts, *, progress=False):
        vectors = np.empty((len(texts), DIMS), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            words = text.split(None, 1)
            topic = int(words[0][1:]) % TOPICS if words and words[0][1:].isdigit() else seed % TOPICS
            noise = 0.05 * np.random.default_rng(seed).standard_normal(DIMS, dtype=np.float32)
            vectors[row] = self.centres[topic] + noise
        return embedders.normalise(vectors)


def interviews(count: int, rng: np.random.Generator, first: int = 0) -> list[Document]:
    words = [f"w{n}" for n in range(20_000)]
    weights = 1.0 / np.arange(1, len(words) + 1)  # Zipf: a few words common, most rare
    weights /= weights.sum()
    documents = []
    for number in range(first, first + count):
        turns = []
        for answer in range(ANSWERS):
            topic = int(rng.integers(0, TOPICS))
            drawn = rng.choice(len(words), 60, p=weights)
            sentences = [" ".join(words[w] for w in drawn[i : i + 20]) for i in (0, 20, 40)]
            text = f"t{topic} " + ". ".join(s.capitalize() for s in sentences) + "."
            turns.append(f"Question: What about t{topic}, number {answer}?\n\nAnna Berg: {text}\n")
        doc_id = f"talk{number:05d}"
        documents.append(Document(doc_id, f"{doc_id}.txt", "\n".join(turns), title=doc_id))
    return documents


def latencies(index, embedder, questions: list[str]) -> dict:
    from qa.answer.retrievers import BM25Retriever, DenseRetriever, HybridRetriever

    dense = DenseRetriever(index, embedder)
    retrievers = {"dense": dense, "hybrid": HybridRetriever(dense, BM25Retriever(index))}
    figures = {}
    for mode, retriever in retrievers.items():
        for question in questions[:5]:  # warm
            retriever.search(question, 10)
        seconds = []
        for question in questions:
            started = time.perf_counter()
            retriever.search(question, 10)
            seconds.append(time.perf_counter() - started)
        figures[mode] = spread(seconds)
    return figures


def reader(store: str, target: str, questions_file: str) -> dict:
    """In a process of its own (so that its memory is its own): load the archive, then time the
    questions; what the index holds in this process, and in Milvus Lite's server process."""
    from qa.store import load
    from qa.store.milvus import location

    embedders.EMBEDDERS[Stand_in.name] = Stand_in
    embedder = Stand_in()
    questions = json.loads(Path(questions_file).read_text())
    import qa.answer.retrievers  # noqa: F401  (imported before the baseline: not the index's memory)

    if store == "milvus":
        import pymilvus  # noqa: F401
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index = load(location(target) if store == "milvus" else Path(target))
    figures = {"load_s": round(time.perf_counter() - started, 2), "process_mb": round(rss_mb() - before, 1)}
    if store == "milvus":
        figures["server_mb"] = milvus_server_mb()
        # opened again, its collections already loaded in Milvus: what a reader costs where the
        # server keeps them loaded (a Milvus server or cluster; the app reopening after a write).
        # The first open above includes Milvus Lite's engine loading them, as it starts with the process.
        started = time.perf_counter()
        again = index.reopen()
        figures["reopen_loaded_s"] = round(time.perf_counter() - started, 3)
        index.close()
        index = again
    figures["query"] = latencies(index, embedder, questions)
    # whole answers (cards, quotes, a question asked again): what the page does with a question
    from qa.answer.engine import Engine

    engine = Engine(index, embedder)
    seconds = []
    for question in questions[:20]:
        started = time.perf_counter()
        engine.ask(question, 5)
        seconds.append(time.perf_counter() - started)
    figures["answer"] = spread(seconds)
    gc.collect()
    figures["process_mb_after_answers"] = round(rss_mb() - before, 1)
    return figures


def scale(scratch: Path, count: int) -> dict:
    import subprocess

    from qa.archive import add
    from qa.store import build_from, corpus_passages, load
    from qa.store.milvus import connected, location
    from qa.store.milvus_write import build as milvus_build
    from qa.store.settings import Settings

    embedders.EMBEDDERS[Stand_in.name] = Stand_in
    embedder = Stand_in()
    rng = np.random.default_rng(11)
    documents = interviews(count, rng)
    scratch.mkdir(parents=True, exist_ok=True)
    extra = scratch / "talk99999.txt"
    extra.write_text(interviews(1, rng, 99_999)[0].text)
    passages = corpus_passages(documents)
    questions = [
        " ".join(p.text.split()[:8]) for p in rng.choice(np.array(passages, dtype=object), QUESTIONS)
    ]
    (scratch / "questions.json").write_text(json.dumps(questions))
    figures = {"passages": len(passages), "interviews": len(documents)}
    corpus = {"path": "bench", "hash": "bench", "documents": len(documents)}
    where = location(str(scratch / "archive.db"))
    targets = {"folder": str(scratch / "folder"), "milvus": where.uri}

    started = time.perf_counter()
    build_from(documents, passages, scratch / "folder", embedder, corpus=corpus)
    figures["folder_build_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    milvus_build(where, documents, Settings(embedder), corpus).close()
    figures["milvus_build_s"] = round(time.perf_counter() - started, 1)
    for store, target in targets.items():
        child = subprocess.run(
            [sys.executable, __file__, "--reader", store, target, str(scratch / "questions.json")],
            capture_output=True,
            text=True,
            check=True,
        )
        figures[store] = json.loads(child.stdout.strip().splitlines()[-1])
    # one more interview: the folder rewrites its index; Milvus writes that interview's rows, from a
    # process of its own as `qa add` is (Milvus Lite then loads the collections first: it starts
    # with the process), and from one that has them loaded, as the app's upload does
    started = time.perf_counter()
    index, outcomes = add(scratch / "folder", [extra])
    figures["folder"]["add_one_s"] = round(time.perf_counter() - started, 2)
    assert [o.status for o in outcomes] == ["added"] and len(index.documents) == count + 1
    child = subprocess.run(
        [sys.executable, __file__, "--adder", where.uri, str(extra)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures["milvus"]["add_one_new_process_s"] = json.loads(child.stdout.strip().splitlines()[-1])
    with connected(where):
        load(where).close()  # the collections loaded, as in the app
        again = scratch / "talk99998.txt"
        again.write_text(interviews(1, rng, 99_998)[0].text)
        started = time.perf_counter()
        index, outcomes = add(where, [again])
        figures["milvus"]["add_one_loaded_s"] = round(time.perf_counter() - started, 2)
        assert [o.status for o in outcomes] == ["added"] and len(index.documents) == count + 2
    return figures


def main() -> None:
    global INTERVIEWS
    if sys.argv[1:2] == ["--reader"]:
        print(json.dumps(reader(*sys.argv[2:5])))
        return
    if sys.argv[1:2] == ["--adder"]:
        from qa.archive import add
        from qa.store.milvus import location

        embedders.EMBEDDERS[Stand_in.name] = Stand_in
        started = time.perf_counter()
        add(location(sys.argv[2]), [Path(sys.argv[3])])
        print(round(time.perf_counter() - started, 2))
        return
    if "--interviews" in sys.argv:  # a smaller run, to try the script
        INTERVIEWS = int(sys.argv[sys.argv.index("--interviews") + 1])
    results = {}
    if "--no-scale" in sys.argv and RESULTS.exists():  # parity again, the scale figures kept
        results = {k: v for k, v in json.loads(RESULTS.read_text()).items() if k != "parity"}
    with tempfile.TemporaryDirectory(prefix="qa-bench-milvus-") as scratch:
        scratch = Path(scratch)
        started = time.perf_counter()
        results["parity"] = parity(scratch / "parity") if "--no-parity" not in sys.argv else {}
        print(json.dumps(results["parity"], indent=1), f"({time.perf_counter() - started:.0f} s)", flush=True)
        shutil.rmtree(scratch / "parity", ignore_errors=True)
        results["cpu"] = cpu_name()
        # the archive and a tenth of it, in one run: what a reader holds should not grow with it
        sizes = () if "--no-scale" in sys.argv else (("scale_tenth", INTERVIEWS // 10), ("scale", INTERVIEWS))
        for key, count in sizes:
            started = time.perf_counter()
            results[key] = scale(scratch / key, count)
            print(json.dumps(results[key], indent=1), f"({time.perf_counter() - started:.0f} s)", flush=True)
            shutil.rmtree(scratch / key, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
