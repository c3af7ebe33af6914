"""bench/results/SUMMARY.md from the JSON every benchmark here writes (those that have run).

Run by `make bench` after its parts; run it alone to refresh the summary after `make bench-scale`
or `make bench-speed`.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _read(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _ms(figures: dict) -> str:
    low, high = figures["min_ms"], figures["max_ms"]
    return f"{figures['median_ms']:.2f} ms (p95 {figures['p95_ms']:.2f}, min {low:.2f}, max {high:.2f})"


def lines() -> list[str]:
    out = ["# Benchmark summary", "", "2-core CPU, no GPU; medians with p95, min and max over repeats.", ""]
    if latency := _read("latency"):
        floor = latency["encode_one_question_floor"]
        out += [
            "## Query latency, bundled interview, warm",
            "",
            "| measure | median (p95, min, max) | ratio to floor |",
            "|---|---|---|",
        ]
        out.append(f"| encode one question (floor) | {_ms(floor)} | 1.00 |")
        for mode, figures in latency["query"].items():
            out.append(f"| {mode} | {_ms(figures)} | {latency['ratio_to_floor'][mode]:.2f} |")
        app = latency["app"]
        users = next(k for k in app if k.endswith("_users_search"))
        out += [
            "",
            "## The app on loopback (`/search` through gradio_client, TLS verification off: plain HTTP)",
            "",
            f"- one user: {_ms(app['one_user_search'])}",
            f"- {users.split('_')[0]} users at once: {_ms(app[users])}, {app[users]['errors']} errors in "
            f"{app[users]['requests']} requests",
            *_default_client_line(app, users),
            f"- over plain HTTP, one user: {_ms(app['one_user_search_plain_http'])}; "
            f"{users.split('_')[0]} users: {_ms(app[users + '_plain_http'])}",
            f"- start to first answer: {_ms(app['start_to_first_answer'])}",
            "- floor (import sentence-transformers, load the model, encode once, in a fresh process): "
            f"{_ms(app['start_floor_import_and_load_model'])}; ratio {app['start_ratio_to_floor']}",
            *(
                [
                    f"- qa's own MiniLM (no sentence-transformers), loaded and encoding once: "
                    f"{_ms(app['start_own_model_load'])}"
                ]
                if "start_own_model_load" in app
                else []
            ),
            "",
        ]
    if i := _read("ingest"):
        out += [
            "## Adding interviews",
            "",
            f"- {i['interviews']} generated interviews, {i['words']:,} words, {i['passages']} passages: "
            f"`qa add` in {i['add_seconds']} s, {i['add_passages_per_second']} passages/s",
            f"- raw `encode` of the same passages: {i['raw_encode_passages_per_second']} passages/s "
            f"(sentence-transformers' own: {i.get(ST_RAW, '-')}); "
            f"ratio {i['ratio_add_to_raw_passages']} (the index also embeds every sentence and question: "
            f"against encoding all of those, {i['ratio_add_to_raw_all_texts']})",
            *(
                [
                    f"- `qa add --sentences in-context` (each passage read once, its sentences pooled from "
                    f"that reading): {i['in_context_add_seconds']} s, "
                    f"{i['in_context_add_passages_per_second']} passages/s; ratio to raw "
                    f"{i['in_context_ratio_add_to_raw_passages']} (against encoding what it embeds, the "
                    f"passages and the questions: {i.get('in_context_ratio_add_to_raw_same_texts', '-')})"
                ]
                if "in_context_add_seconds" in i
                else []
            ),
            f"- adding the same {i['interviews']} again: {i['readd_seconds']} s, "
            f"{100 * i['readd_share_of_add']:.2f}% of the first add",
            f"- peak memory: {i['peak_memory_mb']} MB",
            "",
        ]
    if speed := _read("speed_options"):
        out += [
            "## Faster encoding options",
            "",
            "| option | passages/s | vs float32 | cosine with float32 | interview MRR@10 "
            "| SciFact subset nDCG@10 |",
            "|---|---|---|---|---|---|",
        ]
        for label in ("float32", "bf16", "int8-onnx", "int8-torch-dynamic"):
            if label in speed:
                f = speed[label]
                sci = f.get("scifact_subset_hybrid_ndcg@10", "-")
                mrr = f["interview_hybrid"]["mrr@10"] if "interview_hybrid" in f else f.get("note", "-")
                out.append(
                    f"| {label} | {f['passages_per_second']} | {f['speed_vs_float32']} "
                    f"| {f['mean_cosine_with_float32']} | {mrr} | {sci} |"
                )
        out.append("")
    if scale := _read("scale"):
        out += [
            "## Scale (synthetic passages)",
            "",
            "| passages | index | build | memory / passage | query, top 100 | recall@10 vs exact "
            "| BM25 build | BM25 query |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for size, figures in scale["sizes"].items():
            dense, bm25 = figures["dense"], figures.get("bm25", {})
            lexical = f"{bm25['build_seconds']} s | {_ms(bm25['query_top100'])}" if bm25 else "- | -"
            out.append(
                f"| {int(size):,} | {dense['index']} | {dense['build_seconds']} s "
                f"| {dense['bytes_per_passage']} B | {_ms(dense['query_top100'])} "
                f"| {dense['recall_at_10_vs_exact']} | {lexical} |"
            )
        out.append("")
    if stress := _read("stress"):
        out += [
            "## Many hands on one archive (`bench/stress.py`)",
            "",
            f"{stress['writers']} writers, {stress['readers']} readers and {stress['voters']} voters, "
            f"{stress['seconds']} s: interviews {stress['interviews_present']} present of "
            f"{stress['interviews_acknowledged']} acknowledged; votes {stress['votes_present']} of "
            f"{stress['votes_acknowledged']}; {stress['failed_loads']} failed loads in {stress['loads']}.",
            "",
        ]
    if archives := _read("archives"):
        from archives import table  # noqa: PLC0415 (bench/ is the working folder's sibling)

        out += [
            "## Archives of real press conferences in house styles (`bench/archives.py`)",
            "",
            table(archives),
            "",
        ]
    return out


def main() -> None:
    (RESULTS / "SUMMARY.md").write_text("\n".join(lines()) + "\n")
    print("\n".join(lines()))


ST_RAW = "raw_sentence_transformers_encode_passages_per_second"


def _default_client_line(app: dict, users: str) -> list[str]:
    default = app.get(users + "_default_client")
    if not default:
        return []
    own_cpu = app[users.replace("search", "client_cpu_ms_per_request")]
    return [
        f"- the same with gradio_client's defaults (TLS certificates loaded on every call, "
        f"{default['client_cpu_ms_per_request']} ms of the caller's CPU each, against {own_cpu} ms): "
        f"{_ms(default)}, {default['errors']} errors"
    ]


if __name__ == "__main__":
    main()
