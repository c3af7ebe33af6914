"""Several runs on one eval set: a metrics table with a paired significance test against the first."""

from __future__ import annotations

from pathlib import Path

from qa.evaluate.evaluation import METRICS, Qrels, Run, ranx_pair, score, trec_order

MAX_P = 0.05


def compare_runs(qrels: Qrels, runs: dict[str, Run], metrics: tuple[str, ...] = METRICS) -> dict:
    """{"n", "baseline", "metrics": {name: {metric: mean}}, "p_values": {name: {metric: p}}}.

    p is a two-sided paired Student's t-test (ranx `compare`) of each run against the first, over
    the queries in qrels.
    """
    from ranx import compare

    names = list(runs)
    pairs = [ranx_pair(qrels, runs[name], name) for name in names]
    report = compare(
        pairs[0][0], [run for _, run in pairs], list(metrics), stat_test="student", max_p=MAX_P, threads=1
    )
    means = {name: score(qrels, runs[name], metrics)[0] for name in names}
    p_values = {name: {m: _p(report, names[0], name, m) for m in metrics} for name in names[1:]}
    return {"n": len(pairs[0][0].qrels), "baseline": names[0], "metrics": means, "p_values": p_values}


def _p(report, baseline: str, name: str, metric: str) -> float:
    p = float(report.comparisons[baseline, name][metric]["p_value"])
    return 1.0 if p != p else p  # identical scores on every query give NaN: no difference at all


def comparison_table(comparison: dict) -> str:
    """Plain-text table; `*` marks a difference from the baseline with p < MAX_P."""
    metrics = list(next(iter(comparison["metrics"].values())))
    lines = [f"{'mode':<12}" + "".join(f"{m:>12}" for m in metrics)]
    for name, means in comparison["metrics"].items():
        p_values = comparison["p_values"].get(name, {})
        cells = "".join(f"{means[m]:>11.4f}{'*' if p_values.get(m, 1.0) < MAX_P else ' '}" for m in metrics)
        lines.append(f"{name:<12}{cells}")
    lines.append(
        f"* differs from {comparison['baseline']} (paired t-test, p < {MAX_P}); n = {comparison['n']}"
    )
    return "\n".join(lines)


def write_trec_run(run: Run, path: Path, tag: str) -> None:
    """A TREC run file (`qid Q0 doc rank score tag`), ranked as trec_eval will read it."""
    ranks = trec_order(run)
    with path.open("w", encoding="utf-8") as out:
        for qid in run:
            for rank, doc in enumerate(sorted(ranks[qid], key=ranks[qid].get, reverse=True), start=1):
                out.write(f"{qid} Q0 {doc} {rank} {run[qid][doc]:.6f} {tag}\n")


def warm_up() -> None:
    """Compile ranx's metrics and its paired test once, into numba's cache beside ranx in the venv
    (`make` runs this after installing): otherwise the first `qa eval` spends about half a minute
    compiling them."""
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    runs = {"one": {"q1": {"a": 2.0, "b": 1.0}, "q2": {"a": 2.0, "b": 1.0}}}
    runs["two"] = {"q1": {"b": 2.0, "a": 1.0}, "q2": {"b": 2.0, "a": 1.0}}
    score(qrels, runs["one"])
    compare_runs(qrels, runs)
