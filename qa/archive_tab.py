"""The page's Archive tab: the interviews in the index, upload more, remove one.

Only qa/ui.py imports this. Adding and removing are the CLI's own (qa.archive); when one finishes,
the page's engine switches to the new index, so the next question already searches it.
"""

from __future__ import annotations

from pathlib import Path

from qa.archive import add, listing, remove
from qa.documents import QAError
from qa.engine import Engine, LiveEngine
from qa.formats import SUFFIXES

COLUMNS = ["doc id", "title", "format", "passages", "speakers", "not known (for citations)"]


def interviews(engine: Engine) -> list[list]:
    return [
        [
            row["doc_id"],
            row["title"],
            row["format"],
            row["passages"],
            ", ".join(row["speakers"]),
            ", ".join(row["missing"]),
        ]
        for row in listing(engine.index)
    ]


def add_files(live: LiveEngine, paths: list[str], progress=None, interviewer: str = "") -> str:
    """Add uploaded files to the served index (the next question searches the result); the report,
    one line per file."""
    if not paths:
        return "Choose one or more transcript files first."
    lines: list[str] = []

    def report(outcome) -> None:
        if outcome.went_in:
            lines.append(f"{Path(outcome.path).name}: {outcome.status} {outcome.detail}")
        else:  # the note names the file by its upload path: the name alone reads better here
            lines.append(f"{Path(outcome.path).name}: {outcome.note.split(': ', 1)[-1]}")
        if progress is not None:
            progress(len(lines) / (len(paths) + 1), desc=f"read {len(lines)} of {len(paths)} files")

    folder = live.get().index.folder
    index, _ = add(
        folder,
        [Path(p) for p in paths],
        progress=progress is not None,
        report=report,
        interviewer=" ".join((interviewer or "").split()),
    )
    if index is not None:
        lines.append(f"Searchable now: {len(index.documents)} interviews, {len(index.passages)} passages.")
    return "\n".join(lines)


def remove_interview(live: LiveEngine, doc_id: str) -> str:
    if not doc_id:
        return "Choose an interview to remove."
    index = remove(live.get().index.folder, [doc_id])
    return f"Removed {doc_id}: {len(index.documents)} interviews, {len(index.passages)} passages left."


def build_tab(gr, live: LiveEngine, filters: tuple) -> None:
    """The Archive tab; `filters` are the chat's interview and speaker dropdowns, refreshed after a change."""
    from qa.ui import interview_choices

    engine = live.get()
    table = gr.Dataframe(
        interviews(engine), headers=COLUMNS, label="Interviews in the index", wrap=True, interactive=False
    )
    upload = gr.File(
        file_count="multiple", file_types=list(SUFFIXES), label=f"Add transcripts ({', '.join(SUFFIXES)})"
    )
    interviewer = gr.Textbox(
        label="Interviewer (who asks, as labelled in the files; only when a file does not say)",
        max_lines=1,
    )
    add_button = gr.Button("Add to the archive", variant="primary")
    with gr.Row():
        chosen = gr.Dropdown([d for d in sorted(engine.index.documents)], label="Interview to remove")
        remove_button = gr.Button("Remove", variant="stop")
    log = gr.Textbox(label="Report", lines=4, interactive=False)

    def refreshed(message: str):
        engine = live.get()
        ids = sorted(engine.index.documents)
        return (
            message,
            interviews(engine),
            gr.Dropdown(choices=ids, value=None),
            gr.Dropdown(choices=interview_choices(engine)),
            gr.Dropdown(choices=sorted(engine.index.speaker_rows)),
        )

    def on_add(paths, asker, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (gradio's idiom)
        try:
            return refreshed(add_files(live, paths or [], progress, asker or ""))
        except QAError as error:
            return refreshed(str(error))

    def on_remove(doc_id):
        try:
            return refreshed(remove_interview(live, doc_id))
        except QAError as error:
            return refreshed(str(error))

    outputs = [log, table, chosen, *filters]
    add_button.click(on_add, [upload, interviewer], outputs, api_visibility="private")
    remove_button.click(on_remove, [chosen], outputs, api_visibility="private")
