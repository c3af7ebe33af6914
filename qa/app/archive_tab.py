"""The page's Archive tab: the interviews in the index, upload more, remove one.

Only qa/app/ui.py imports this. Adding and removing are the CLI's own (qa.archive); when one finishes,
the page's engine switches to the new index, so the next question already searches it.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
import time
from pathlib import Path

from qa.answer.engine import Engine, LiveEngine
from qa.archive import Listening, add, listing, remove, rename_speakers, speaker_names, transcript_of
from qa.documents import QAError
from qa.ingest import formats, recordings
from qa.ingest.formats import SUFFIXES
from qa.ingest.transcribe import paced

READ_ONLY = (
    "This page is read-only: it is served beyond this machine without a login. To add or remove "
    "interviews here, start it with `--auth USER:PASSWORD` or `--allow-uploads`; or use `qa add`."
)
PROGRESS_EVERY = 0.25  # seconds between updates of the upload's report
COLUMNS = ["doc id", "title", "format", "passages", "speakers", "not known (for citations)"]
# shares of the table's width: a long title wraps inside its column instead of pushing the others
# off the page
WIDTHS = ["14%", "34%", "8%", "9%", "17%", "18%"]


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


def shown(said: queue.Queue, every: float):
    """The states a report passes through, as the page is to show them, until None: the first at
    once ("reading 3 files"), then at most one each `every` seconds, the latest of each burst."""
    text = said.get()
    while text is not None:
        yield text
        time.sleep(every)
        text = said.get()
        while text is not None and not said.empty():  # of a burst, only the latest is worth showing
            latest = said.get()
            if latest is None:
                said.put(None)
                break
            text = latest


def add_files(
    live: LiveEngine, paths: list[str], interviewer: str = "", say=lambda text: None, replacing: bool = False
) -> str:
    """Add uploaded files to the served index (the next question searches the result); the report,
    one line per file. A `NAME.json` among them is the metadata of the transcript `NAME.*` beside
    it. `say` is told the report so far at each step: each file read, each batch of texts embedded.
    An interview of the same name is replaced only when `replacing`. The uploads are deleted once
    read: the archive keeps its own copy of each transcript's text."""
    if not paths:
        return "Choose one or more transcript files first."
    lines: list[str] = []
    read: list = []

    def report(outcome) -> None:
        read.append(outcome)
        say("\n".join([*lines, *map(_line, read), f"read {len(read)} of {len(texts)} files"]))

    def embedding(done: int, total: int) -> None:
        say("\n".join([*lines, *map(_line, read), f"embedding: {done} of {total} new texts"]))

    hearing = paced(lambda line: say("\n".join([*lines, *map(_line, read), line])))

    # a file added (or refused) before is deleted once read: still listed in the page's upload box,
    # it is named and left out rather than failing the whole upload
    gone = [Path(p).name for p in paths if not Path(p).is_file()]
    lines += [
        f"{name}: read already (added or refused above); choose the file again to add it" for name in gone
    ]
    paths = [p for p in paths if Path(p).is_file()]
    with tempfile.TemporaryDirectory(prefix="qa-upload-") as folder:
        transcripts, unpaired = _with_sidecars([Path(p) for p in paths], Path(folder))
        texts = [p for p in transcripts if not recordings.is_recording(p)]
        lines += [f"{name}: no transcript named {Path(name).stem} was uploaded with it" for name in unpaired]
        if not transcripts:
            return "\n".join(lines) or "Choose one or more transcript files first."
        say("\n".join([*lines, f"reading {len(texts)} file{'s' if len(texts) != 1 else ''}"]))
        index, outcomes = add(
            live.get().index.target,
            transcripts,
            progress=embedding,
            report=report,
            interviewer=" ".join((interviewer or "").split()),
            replace_existing=replacing,
            listening=Listening(progress=hearing),
        )
    lines += map(_line, outcomes)  # in the order of the files (as they became known, above)
    for path in paths:  # Gradio's temporary copies: nothing of the upload is left there
        Path(path).unlink(missing_ok=True)
    if index is not None:
        lines.append(
            f"Searchable now: {len(index.documents)} interviews, {index.manifest['passage_count']} passages."
        )
    return "\n".join(lines)


def _line(outcome) -> str:
    """One file's line in the report."""
    if outcome.went_in:
        return f"{Path(outcome.path).name}: {outcome.status} {outcome.detail}"
    # the note names the file by its upload path: the name alone reads better here
    return f"{Path(outcome.path).name}: {outcome.note.split(': ', 1)[-1]}"


def _with_sidecars(paths: list[Path], folder: Path) -> tuple[list[Path], list[str]]:
    """(transcripts, sidecars with no transcript): uploads arrive each in a folder of its own, so
    each transcript is copied into `folder` with the `NAME.json` uploaded beside it, where
    read_document looks for it."""
    named = {p.stem for p in paths if p.suffix.lower() != ".json" and not recordings.is_recording(p)}
    # a .json with no transcript of its name is a transcript itself (segments), else its metadata
    sidecars = {
        p.stem: p
        for p in paths
        if p.suffix.lower() == ".json" and (p.stem in named or not formats.holds_segments(p))
    }
    transcripts = []
    texts = [p for p in paths if p not in sidecars.values() and not recordings.is_recording(p)]
    for number, path in enumerate(texts):
        own = folder / str(number)  # two uploads of one name stay two files
        own.mkdir()
        transcripts.append(own / path.name)
        shutil.copyfile(path, transcripts[-1])
        sidecar = sidecars.pop(path.stem, None)
        if sidecar is not None:
            shutil.copyfile(sidecar, transcripts[-1].with_suffix(".json"))
    # a recording stays where it was uploaded (it may be large): `add` pairs it with its
    # transcript by name (qa/ingest/recordings.py)
    transcripts += [p for p in paths if recordings.is_recording(p)]
    return transcripts, sorted(p.name for p in sidecars.values())


def rename(live: LiveEngine, doc_id: str, written: str) -> str:
    """Name a timed interview's speakers ("Speaker 1=Jane Doe, Speaker 2=John Roe"); the report."""
    if not doc_id:
        return "Choose an interview whose speakers to name."
    try:
        names = speaker_names(filter(None, (p.strip() for p in written.split(","))))
    except ValueError as bad:
        return f'Write each name as LABEL=NAME, e.g. "Speaker 1=Jane Doe", not {bad.args[0]!r}.'
    if not names:
        return 'Write the names as "Speaker 1=Jane Doe, Speaker 2=John Roe".'
    index, outcomes = rename_speakers(live.get().index.target, doc_id, names)
    if index is None:
        return "\n".join(_line(o) for o in outcomes) or f"{doc_id} unchanged."
    named = ", ".join(f"{label} is {name}" for label, name in names.items())
    return f"Named the speakers of {doc_id}: {named}."


def remove_interview(live: LiveEngine, doc_id: str) -> str:
    if not doc_id:  # none chosen, or the confirmation answered No
        return "Nothing removed: choose an interview to remove, then confirm."
    title = live.get().index.documents.get(doc_id, {}).get("title") or doc_id
    named = doc_id if title == doc_id else f"{doc_id} ({title})"
    index = remove(live.get().index.target, [doc_id])
    left = f"{len(index.documents)} interviews, {index.manifest['passage_count']} passages left"
    return f"Removed {named}: {left}."


# The browser asks before Remove does anything, naming the interview as its list shows it; No sends
# no interview (a value outside the list would be refused by the dropdown).
CONFIRM_REMOVE_JS = """(doc) => {
  if (!doc) return null;
  const shown = document.querySelector('#qa-remove input')?.value || doc;
  return confirm(`Remove "${shown}" from the archive? Its passages and recording are deleted.`)
    ? doc : null;
}"""


def build_tab(gr, live: LiveEngine, follows: tuple, following, choices, writable: bool = True) -> tuple:
    """The Archive tab; `follows` is what the chat shows of the archive (header, question box,
    filters), refreshed after a change with the values `following(gr, engine)` gives (the page's
    qa.app.ui.following). Returns the tab's own lists (interviews table, remove choices), which a page
    load refreshes with `lists`. Not `writable`: the list alone, and a line saying how to allow
    changes. `choices(engine)` names the interviews in its lists ((label, doc id) pairs, the chat's
    own: qa.app.ui.interview_choices)."""
    engine = live.get()
    table = gr.Dataframe(
        interviews(engine),
        headers=COLUMNS,
        label="Interviews in the index",
        wrap=True,
        column_widths=WIDTHS,
        interactive=False,
    )
    if not writable:
        gr.Markdown(READ_ONLY, elem_id="qa-read-only")
        return table, gr.Dropdown(visible=False), gr.Dropdown(visible=False)
    upload = gr.File(
        file_count="multiple",
        file_types=[*SUFFIXES, ".json", *recordings.SUFFIXES],
        label=(
            f"Add transcripts ({', '.join(SUFFIXES)}), each with its NAME.json metadata if you have one"
            f" and its recording ({', '.join(recordings.SUFFIXES)}) of the same name"
        ),
    )
    interviewer = gr.Textbox(
        label="Interviewer (who asks, as labelled in the files; only when a file does not say)",
        max_lines=1,
    )
    replacing = gr.Checkbox(label="Replace an interview of the same name (else such a file is refused)")
    add_button = gr.Button("Add to the archive", variant="primary")
    with gr.Row():
        chosen = gr.Dropdown(choices(engine), label="Interview to remove", elem_id="qa-remove")
        remove_button = gr.Button("Remove", variant="stop")
    with gr.Row():
        picked = gr.Dropdown(
            choices(engine),
            label="Interview whose speakers to name, or whose transcript to download",
        )
        naming = gr.Textbox(
            label='Its speakers\' names: "Speaker 1=Jane Doe, Speaker 2=John Roe"', max_lines=1
        )
    with gr.Row():
        rename_button = gr.Button("Name the speakers")
        # usable once the chosen interview's transcript is ready (on_pick): clicked before, it gave
        # nothing, or the interview chosen before
        download = gr.DownloadButton("Download its transcript", value=None, interactive=False)
    log = gr.Textbox(label="Report", lines=4, interactive=False, elem_id="qa-archive-report")

    def refreshed(message: str):
        engine = live.get()
        return (message, *lists(gr, engine, choices), *following(gr, engine))

    def on_add(paths, asker, replace_existing):
        """The report as it grows (each file read, the embedding's progress), then the new archive
        and an empty upload box (its files are read: added or refused)."""
        said: queue.Queue = queue.Queue()
        finished: dict[str, str] = {}

        def work() -> None:
            try:
                finished["report"] = add_files(
                    live, paths or [], asker or "", said.put, bool(replace_existing)
                )
            except QAError as error:
                finished["report"] = str(error)
            except Exception as error:  # a bug: the page says so rather than spin for ever
                finished["report"] = f"Adding failed: {type(error).__name__}: {error}"
                raise
            finally:
                said.put(None)

        threading.Thread(target=work, daemon=True).start()
        unchanged = [gr.skip()] * len(outputs)  # all but the report, and the upload box
        for text in shown(said, PROGRESS_EVERY):
            yield (text, *unchanged)
        yield (*refreshed(finished.get("report", "")), None)

    def on_remove(doc_id):
        if not doc_id:  # nothing chosen, or No to the confirmation: the choice stays as it was
            return (remove_interview(live, doc_id), *[gr.skip()] * (len(outputs) - 1))
        try:
            return refreshed(remove_interview(live, doc_id))
        except QAError as error:
            return refreshed(str(error))

    def on_rename(doc_id, written):
        try:
            return refreshed(rename(live, doc_id, written or ""))
        except QAError as error:
            return refreshed(str(error))

    def on_pick(doc_id):
        """The chosen interview's transcript, ready to download (qa.archive.transcript_of)."""
        if not doc_id:
            return gr.DownloadButton(value=None, interactive=False)
        try:
            text, suffix = transcript_of(live.get().index, doc_id)
        except QAError:
            return gr.DownloadButton(value=None, interactive=False)
        folder = Path(tempfile.mkdtemp(prefix="qa-transcript-"))
        (folder / f"{doc_id}{suffix}").write_text(text, encoding="utf-8")
        return gr.DownloadButton(value=str(folder / f"{doc_id}{suffix}"), interactive=True)

    outputs = [log, table, chosen, picked, *follows]
    add_button.click(on_add, [upload, interviewer, replacing], [*outputs, upload], api_visibility="private")
    remove_button.click(on_remove, [chosen], outputs, js=CONFIRM_REMOVE_JS, api_visibility="private")
    rename_button.click(on_rename, [picked, naming], outputs, api_visibility="private")
    picked.change(on_pick, [picked], [download], api_visibility="private")
    # the last report goes as soon as other files are chosen: it spoke of the files before them
    upload.upload(None, None, [log], js="() => ''", api_visibility="private")
    return table, chosen, picked


def lists(gr, engine: Engine, choices) -> tuple:
    """New values for the tab's lists (see build_tab's return): the interviews table and the choices
    to remove, as the archive is now (named by `choices`, see build_tab)."""
    named = choices(engine)
    return (
        interviews(engine),
        gr.Dropdown(choices=named, value=None),
        gr.Dropdown(choices=named, value=None),
    )
