"""The page's Evaluate tab: run `qa eval` on a chosen set and modes, read the table, chart and misses.

Only qa/app/ui.py imports this. The scoring is the CLI's own (qa.evaluate.evaluation, qa.evaluate.compare).
"""

from __future__ import annotations

from pathlib import Path

from qa.answer.engine import Engine, LiveEngine
from qa.answer.retrievers import DEFAULT_MODE, MODES
from qa.evaluate.compare import MAX_P, compare_runs
from qa.evaluate.evaluation import (
    CARD_METRICS,
    EVAL_DIR,
    METRICS,
    QUOTE_METRICS,
    EvalTarget,
    derived_eval_set,
    load_eval_set,
    qrels_for,
    score,
)

DERIVED = "derived from the interviewers' questions"


def eval_sets() -> list[str]:
    """The JSONL sets shipped in eval/ (off-topic ones have no gold answers), and the derived set."""
    names = sorted(p.name for p in EVAL_DIR.glob("*.jsonl") if not p.name.startswith("off_topic"))
    return names + [DERIVED]


def run_eval(engine: Engine, set_name: str, modes: list[str], progress=None) -> tuple:
    """(metrics rows, bar chart figure, misses of the first mode, questions where a mode's card
    order lost the retriever's first answer) for the tab's four outputs. Every question is also
    answered as a person would ask it: hit@1 and card@1 judge which answer comes first, and a set
    with gold quotes has its quotes judged (quote@1, ...)."""
    modes = _chosen(modes)
    if set_name == DERIVED:
        questions = derived_eval_set(engine.index.passages)
    else:
        questions = load_eval_set(EVAL_DIR / Path(set_name).name)
    qrels = qrels_for(questions, engine.index.passages)
    target = EvalTarget.of_index(set_name, engine, questions, qrels)
    runs, found = {}, {}
    for step, mode in enumerate(modes):
        if progress is not None:
            progress(step / len(modes), desc=f"{mode}: {len(questions)} questions")
        runs[mode] = target.run(mode)
        found[mode] = target.judge(mode)
    comparison = compare_runs(qrels, runs) if len(modes) > 1 else None
    rows, lost = [], []
    for mode in modes:
        if comparison:
            means, p_values = comparison["metrics"][mode], comparison["p_values"].get(mode, {})
        else:
            means, p_values = score(qrels, runs[mode])[0], {}
        cards, quotes = found[mode]["cards"], found[mode]["quotes"]
        rows.append(
            [mode]
            + [f"{means[m]:.3f}{'*' if p_values.get(m, 1) < MAX_P else ''}" for m in METRICS]
            + [f"{cards['metrics'][m]:.3f}" for m in CARD_METRICS]
            + [_quote_cell(quotes["metrics"], m) for m in QUOTE_METRICS]
        )
        lost += [
            [mode, item["id"], item["question"], _short(item["first_passage"]), _short(item["first_quote"])]
            for item in cards["per_question"]
            if item["id"] in cards["lost"]
        ]
    return rows, _chart(rows), _misses(engine, questions, qrels, runs[modes[0]]), lost


def _chosen(modes: list[str] | None) -> list[str]:
    """The modes ticked, in the page's order (the first is the baseline); none ticked: the default."""
    return [m for m in MODES if m in (modes or [])] or [DEFAULT_MODE]


def _short(text: str) -> str:
    return " ".join(text.split())[:200]


def _quote_cell(metrics: dict, name: str) -> str:
    if name not in metrics:
        return "-"  # a set without gold quotes (the derived set) has nothing to judge quotes by
    return f"{metrics[name]:.0f}" if name.startswith("excerpt") else f"{metrics[name]:.3f}"


# the shares; excerpt lengths are words, only in the table
CHARTED = METRICS + CARD_METRICS + QUOTE_METRICS[:2]


def _chart(rows: list):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 3.2))
    width = 0.8 / len(rows)
    for i, row in enumerate(rows):
        values = [float(cell.rstrip("*")) if cell != "-" else 0.0 for cell in row[1 : 1 + len(CHARTED)]]
        axes.bar(
            [x + (i - (len(rows) - 1) / 2) * width for x in range(len(CHARTED))], values, width, label=row[0]
        )
    axes.set_xticks(range(len(CHARTED)), CHARTED, fontsize=8)
    axes.set_ylim(0, 1)
    axes.legend(fontsize=8, ncols=len(rows), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    figure.tight_layout()
    plt.close(figure)
    return figure


def _misses(engine: Engine, questions, qrels, run) -> list:
    """Questions whose first passage is not relevant: the question, its gold, what came first."""
    by_id = {p.passage_id: p for p in engine.index.passages}
    misses = []
    for q in questions:
        ranked = sorted(run[q.qid], key=run[q.qid].get, reverse=True)
        if ranked and ranked[0] in qrels[q.qid]:
            continue
        gold = " | ".join(q.gold) if q.gold else ", ".join(sorted(qrels[q.qid]))
        first = _short(by_id[ranked[0]].text) if ranked else "(nothing)"
        misses.append([q.qid, q.question, gold, first])
    return misses


# What each column means, in one line each, under the table
EXPLAINED = f"""\
- **recall@1, recall@5, recall@10**: the share of a question's right passages among the first 1, 5, 10.
- **mrr@10**: 1 for a right passage first, 1/2 for one second, ... (0 past the tenth), averaged.
- **ndcg@10**: how near the top the right passages are, 1 when they all lead the list.
- **hit@1**: the first passage is from the answer the question asks for; **card@1**: the first card is.
- **quote@1, quote@3**: the first card's quote (one of the first three's) holds the set's gold words.
- **excerpt words**: the first card's excerpt length, median and longest.
- **\\***: differs from the first mode by more than chance explains (paired t-test, p < {MAX_P}).
"""


def scope_line(engine: Engine, set_name: str, modes: list[str]) -> str:
    """What a run scored: the set's questions, searched in the whole archive, the misses' mode."""
    interviews = len(engine.index.interviews)
    first = _chosen(modes)[0]
    about = "the interviewers' own questions" if set_name == DERIVED else f"the questions of {set_name}"
    return (
        f"Scored {about}, each searched in the whole archive ({interviews} interview"
        f"{'s' if interviews != 1 else ''}), as the Chat tab searches it; the misses listed are {first}'s."
    )


def build_tab(gr, live: LiveEngine) -> None:
    """The Evaluate tab's controls and outputs, wired to run_eval."""
    with gr.Row():
        chosen = gr.Dropdown(eval_sets(), value="interview_questions.jsonl", label="Eval set")
        modes = gr.CheckboxGroup(list(MODES), value=list(MODES), label="Modes (the first is the baseline)")
    run = gr.Button("Run evaluation", variant="primary", elem_id="qa-eval-run")
    # the outputs appear with a run's results: empty, a table is a scrolling region with nothing to
    # focus (on a phone) and a plot is a box named "Empty value" alone, both flagged by axe-core
    table = gr.Dataframe(
        visible=False,
        headers=["mode", *METRICS, *CARD_METRICS, "quote@1", "quote@3", "excerpt words", "at most"],
        label=f"Metrics (* differs from the first, p < {MAX_P}); hit@1: the first passage is from the "
        "answer asked for, card@1: the first card is; quote@k and the first card's excerpt words "
        "(median, at most) judge the quotes",
    )
    gr.Markdown(EXPLAINED)
    scope = gr.Markdown()
    chart = gr.Plot(label="Comparison", visible=False)
    misses = gr.Dataframe(
        visible=False,
        headers=["id", "question", "gold", "first passage"],
        label="Not first: the first mode's questions whose first passage is not a right one",
        wrap=True,
    )
    lost = gr.Dataframe(
        visible=False,
        headers=["mode", "id", "question", "retriever's first passage", "first card's quote"],
        label="Card order lost the retriever's first answer",
        wrap=True,
    )

    def on_run(set_name: str, picked: list[str], progress=gr.Progress()):  # noqa: B008 (gradio's idiom)
        engine = live.get()
        rows, figure, missed, lost_rows = run_eval(engine, set_name, picked, progress)
        shown = (gr.Dataframe(rows, visible=True), gr.Plot(figure, visible=True))
        listed = (gr.Dataframe(missed, visible=True), gr.Dataframe(lost_rows, visible=True))
        return *shown, *listed, scope_line(engine, set_name, picked)

    run.click(on_run, [chosen, modes], [table, chart, misses, lost, scope], api_visibility="private")
