"""Retrieval quality across the interview's sets and ../shared/benchmarks, every mode compared.

Run with `make bench-quality`. Writes eval/reports/quality.md, quality.json and quality.png. Indexes
are cached under $QA_CACHE_DIR/bench (default ~/.cache/interview-qa/bench), so a rerun only
re-scores; the first run embeds SciFact and qmsum and takes about half an hour on 2 cores.
A collection missing from ../shared/benchmarks is skipped and says so.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
REPORTS = REPO / "eval" / "reports"
CACHE = Path(os.environ.get("QA_CACHE_DIR", Path.home() / ".cache" / "interview-qa")) / "bench"
MODES = ["dense", "bm25", "hybrid", "hybrid-rrf"]
sys.path.insert(0, str(REPO))

from qa.answer.engine import Engine  # noqa: E402
from qa.embed.embedders import MiniLM  # noqa: E402
from qa.evaluate.beir import collection_index, collection_run, load_collection, select_queries  # noqa: E402
from qa.evaluate.compare import MAX_P, compare_runs  # noqa: E402
from qa.evaluate.evaluation import EVAL_DIR, derived_eval_set, load_eval_set, qrels_for, retrieve  # noqa: E402
from qa.ingest.corpus import BUNDLED_CORPUS  # noqa: E402
from qa.store import build, load, staleness  # noqa: E402

# (collection, metric, anchors from the issue, target) for the report's headline table
TARGETS = [
    ("SciFact", "ndcg@10", "BM25 0.665, MiniLM 0.645, MiniLM-class hybrid 0.713", 0.72),
    ("press conferences, journalist questions", "mrr@10", "BM25 0.394, MiniLM 0.515, mpnet 0.536", 0.56),
    ("qmsum, within meeting", "mrr@10", "BM25 0.537", 0.60),
    ("interview, English", "recall@1", "-", 0.85),
    ("interview, English", "mrr@10", "-", 0.90),
    ("interview, Russian", "recall@5", "MiniLM alone ~0.2", 0.85),
    ("interview, Chinese", "recall@5", "MiniLM alone ~0.2", 0.85),
]
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def interview_sets(embedder) -> list[tuple[str, dict, object]]:
    folder = CACHE / "interview"
    try:
        index = load(folder)
        if staleness(index, embedder, BUNDLED_CORPUS) or not index.manifest.get("multilingual"):
            raise ValueError("stale")
    except Exception:
        index = build(BUNDLED_CORPUS, folder, embedder, multilingual=True, progress=True)
    engine = Engine(index, embedder)
    sets = []
    for name, questions in [
        ("interview, English", load_eval_set(EVAL_DIR / "interview_questions.jsonl")),
        ("interview, Russian", load_eval_set(EVAL_DIR / "interview_questions_ru.jsonl")),
        ("interview, Chinese", load_eval_set(EVAL_DIR / "interview_questions_zh.jsonl")),
        ("interview, derived from its questions", derived_eval_set(index.passages)),
    ]:
        qrels = qrels_for(questions, index.passages)
        runs = {mode: retrieve(engine.retriever(mode), questions, 10) for mode in MODES}
        sets.append((name, qrels, runs))
    return sets


def beir_sets(embedder) -> list[tuple[str, dict, object]]:
    plan = [
        ("SciFact", "scifact_beir_test", None, None),
        (
            "press conferences, journalist questions",
            "press_conferences_qevasion",
            "kind=journalist_question",
            None,
        ),
        ("press conferences, all questions", "press_conferences_qevasion", None, None),
        ("qmsum, within meeting", "qmsum", None, "meeting_id"),
        ("qmsum, whole corpus", "qmsum", None, None),
    ]
    sets = []
    for name, folder, where, scope in plan:
        if not (BENCHMARKS / folder).is_dir():
            print(f"skipped {name}: {BENCHMARKS / folder} is not here")
            continue
        started = time.perf_counter()
        collection = select_queries(load_collection(BENCHMARKS / folder), where)
        engine = Engine(collection_index(collection, CACHE / folder, embedder, progress=True), embedder)
        runs = {mode: collection_run(engine, mode, collection, scope=scope) for mode in MODES}
        sets.append((name, collection.qrels, runs))
        print(f"{name}: {len(collection.qrels)} queries in {time.perf_counter() - started:.0f} s")
    return sets


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.2
    for i, mode in enumerate(MODES):
        values = [results[name]["metrics"][mode]["mrr@10"] for name in names]
        ax.bar([x + (i - 1.5) * width for x in range(len(names))], values, width, label=mode)
    ax.set_xticks(range(len(names)), [n.replace(", ", ",\n") for n in names], fontsize=8)
    ax.set_ylabel("MRR@10")
    ax.set_ylim(0, 1)
    ax.set_title("Retrieval quality by mode (all-MiniLM-L6-v2)")
    ax.legend(ncols=4, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def markdown(results: dict) -> str:
    lines = [
        "# Retrieval quality",
        "",
        "Made by `make bench-quality` (bench/quality.py), default embedder all-MiniLM-L6-v2, 2-core CPU.",
        f"`*` marks a difference from `dense` with p < {MAX_P} (paired t-test over queries).",
        "",
        "## Against the targets",
        "",
        "| collection | metric | anchor | target | default (hybrid) | best mode |",
        "|---|---|---|---|---|---|",
    ]
    for name, metric, anchor, target in TARGETS:
        if name not in results:
            lines.append(f"| {name} | {metric} | {anchor} | >= {target} | not run | |")
            continue
        by_mode = results[name]["metrics"]
        best = max(MODES, key=lambda m: by_mode[m][metric])
        value = by_mode["hybrid"][metric]
        verdict = "met" if value >= target else f"missed by {target - value:.3f}"
        best_cell = f"{best} {by_mode[best][metric]:.3f}"
        lines.append(
            f"| {name} | {metric} | {anchor} | >= {target} | {value:.3f} ({verdict}) | {best_cell} |"
        )
    lines += ["", "![MRR@10 by collection and mode](quality.png)", ""]
    for name, result in results.items():
        lines += [f"## {name} (n = {result['n']})", "", "| mode | " + " | ".join(METRICS) + " |"]
        lines.append("|---" * (len(METRICS) + 1) + "|")
        for mode in MODES:
            p = result["p_values"].get(mode, {})
            cells = [f"{result['metrics'][mode][m]:.3f}{'*' if p.get(m, 1) < MAX_P else ''}" for m in METRICS]
            lines.append(f"| {mode} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    embedder = MiniLM()
    REPORTS.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, qrels, runs in interview_sets(embedder) + beir_sets(embedder):
        results[name] = compare_runs(qrels, runs, METRICS)
    (REPORTS / "quality.json").write_text(json.dumps(results, indent=2) + "\n")
    chart(results, REPORTS / "quality.png")
    (REPORTS / "quality.md").write_text(markdown(results))
    print(f"wrote {REPORTS.relative_to(REPO)}/quality.md, quality.json, quality.png")


if __name__ == "__main__":
    main()
