"""The page's Archive tab: the interviews in the index, upload more, remove one.

Only qa/ui.py imports this. Adding and removing are the CLI's own (qa.archive); when one finishes,
the page's engine switches to the new index, so the next question already searches it.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
import time
from pathlib import Path

from qa.archive import add, listing, remove
from qa.documents import QAError
from qa.engine import Engine, LiveEngine
from qa.formats import SUFFIXES

PROGRESS_EVERY = 0.25  # seconds between updates of the upload's report
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


def add_files(live: LiveEngine, paths: list[str], interviewer: str = "", say=lambda text: None) -> str:
    """Add uploaded files to the served index (the next question searches the result); the report,
    one line per file. A `NAME.json` among them is the metadata of the transcript `NAME.*` beside
    it. `say` is told the report so far at each step: each file read, each batch of texts embedded."""
    if not paths:
        return "Choose one or more transcript files first."
    lines: list[str] = []
    read: list = []

    def report(outcome) -> None:
        read.append(outcome)
        if outcome.went_in:
            lines.append(f"{Path(outcome.path).name}: {outcome.status} {outcome.detail}")
        else:  # the note names the file by its upload path: the name alone reads better here
            lines.append(f"{Path(outcome.path).name}: {outcome.note.split(': ', 1)[-1]}")
        say("\n".join([*lines, f"read {len(read)} of {len(transcripts)} files"]))

    def embedding(done: int, total: int) -> None:
        say("\n".join([*lines, f"embedding: {done} of {total} new texts"]))

    with tempfile.TemporaryDirectory(prefix="qa-upload-") as folder:
        transcripts, unpaired = _with_sidecars([Path(p) for p in paths], Path(folder))
        lines += [f"{name}: no transcript named {Path(name).stem} was uploaded with it" for name in unpaired]
        if not transcripts:
            return "\n".join(lines) or "Choose one or more transcript files first."
        say("\n".join([*lines, f"reading {len(transcripts)} file{'s' if len(transcripts) != 1 else ''}"]))
        index, _ = add(
            live.get().index.folder,
            transcripts,
            progress=embedding,
            report=report,
            interviewer=" ".join((interviewer or "").split()),
        )
    if index is not None:
        lines.append(f"Searchable now: {len(index.documents)} interviews, {len(index.passages)} passages.")
    return "\n".join(lines)


def _with_sidecars(paths: list[Path], folder: Path) -> tuple[list[Path], list[str]]:
    """(transcripts, sidecars with no transcript): uploads arrive each in a folder of its own, so
    each transcript is copied into `folder` with the `NAME.json` uploaded beside it, where
    read_document looks for it."""
    sidecars = {p.stem: p for p in paths if p.suffix.lower() == ".json"}
    transcripts = []
    for number, path in enumerate(p for p in paths if p.suffix.lower() != ".json"):
        own = folder / str(number)  # two uploads of one name stay two files
        own.mkdir()
        transcripts.append(own / path.name)
        shutil.copyfile(path, transcripts[-1])
        sidecar = sidecars.pop(path.stem, None)
        if sidecar is not None:
            shutil.copyfile(sidecar, transcripts[-1].with_suffix(".json"))
    return transcripts, sorted(p.name for p in sidecars.values())


def remove_interview(live: LiveEngine, doc_id: str) -> str:
    if not doc_id:
        return "Choose an interview to remove."
    index = remove(live.get().index.folder, [doc_id])
    return f"Removed {doc_id}: {len(index.documents)} interviews, {len(index.passages)} passages left."


def build_tab(gr, live: LiveEngine, follows: tuple) -> None:
    """The Archive tab; `follows` is what the chat shows of the archive (header, question box,
    filters: see qa.ui.following), refreshed after a change."""
    from qa.ui import following

    engine = live.get()
    table = gr.Dataframe(
        interviews(engine), headers=COLUMNS, label="Interviews in the index", wrap=True, interactive=False
    )
    upload = gr.File(
        file_count="multiple",
        file_types=[*SUFFIXES, ".json"],
        label=f"Add transcripts ({', '.join(SUFFIXES)}), each with its NAME.json metadata if you have one",
    )
    interviewer = gr.Textbox(
        label="Interviewer (who asks, as labelled in the files; only when a file does not say)",
        max_lines=1,
    )
    add_button = gr.Button("Add to the archive", variant="primary")
    with gr.Row():
        chosen = gr.Dropdown([d for d in sorted(engine.index.documents)], label="Interview to remove")
        remove_button = gr.Button("Remove", variant="stop")
    log = gr.Textbox(label="Report", lines=4, interactive=False, elem_id="qa-archive-report")

    def refreshed(message: str):
        engine = live.get()
        ids = sorted(engine.index.documents)
        return (message, interviews(engine), gr.Dropdown(choices=ids, value=None), *following(gr, engine))

    def on_add(paths, asker):
        """The report as it grows (each file read, the embedding's progress), then the new archive."""
        said: queue.Queue = queue.Queue()
        finished: dict[str, str] = {}

        def work() -> None:
            try:
                finished["report"] = add_files(live, paths or [], asker or "", said.put)
            except QAError as error:
                finished["report"] = str(error)
            except Exception as error:  # a bug: the page says so rather than spin for ever
                finished["report"] = f"Adding failed: {type(error).__name__}: {error}"
                raise
            finally:
                said.put(None)

        threading.Thread(target=work, daemon=True).start()
        unchanged = [gr.skip()] * (len(outputs) - 1)
        while (text := said.get()) is not None:
            while not said.empty():  # only the latest of a burst is worth showing
                latest = said.get()
                if latest is None:
                    said.put(None)
                    break
                text = latest
            yield (text, *unchanged)
            time.sleep(PROGRESS_EVERY)
        yield refreshed(finished.get("report", ""))

    def on_remove(doc_id):
        try:
            return refreshed(remove_interview(live, doc_id))
        except QAError as error:
            return refreshed(str(error))

    outputs = [log, table, chosen, *follows]
    add_button.click(on_add, [upload, interviewer], outputs, api_visibility="private")
    remove_button.click(on_remove, [chosen], outputs, api_visibility="private")
