"""The Gradio page: a chat whose replies are quote cards. Only app.py (and `qa serve`) import this.

Everything taken from a transcript is HTML-escaped here, so markup in an interview is shown as text.
"""

from __future__ import annotations

import base64
import html
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from qa.answer.answers import answer_json, clean_question
from qa.answer.engine import DEFAULT_K, Engine, LiveEngine
from qa.answer.retrievers import DEFAULT_MODE, MODES
from qa.app.collection import export
from qa.app.feedback import record
from qa.app.link import Link, link_html
from qa.app.render import cards_html
from qa.documents import Filter, QAError
from qa.ingest import recordings

CONCURRENCY = 8  # requests each endpoint serves at once (bench/latency.py: 20 users)

EXAMPLES = [
    "What does India and Pakistan joining mean for the SCO?",
    "Which countries have applied for membership?",
    "Where will the 2018 summit take place?",
]

STATIC = Path(__file__).parent / "static"  # the page's stylesheet and script, as files
# the cards' buttons, the kept quotes and the player (Gradio runs it once the page loads)
PAGE_JS = (STATIC / "page.js").read_text(encoding="utf-8")


NO_MATCHING_PASSAGE = "No passage matches the filters: widen the interviews or speakers in Settings."


def reply_parts(
    message: str,
    history: list,
    mode: str = DEFAULT_MODE,
    k: int = DEFAULT_K,
    interviews: list[str] | None = None,
    speakers: list[str] | None = None,
    *,
    engine: Engine,
) -> Iterator[str]:
    """The reply in pieces: what was searched (for a follow-up), then one card at a time. Empty
    filter lists mean every interview and every speaker."""
    try:
        if not isinstance(message, str):
            raise QAError(f"the question must be text, not {type(message).__name__}")
        doc_ids = set(interviews) if interviews else None
        names = set(speakers) if speakers else None
        reply = engine.ask_after(message, _previous_question(history), whole_number(k), mode, doc_ids, names)
    except QAError as error:
        yield f"<p>{html.escape(str(error).capitalize())}.</p>"
        return
    if reply.question != clean_question(message):  # a follow-up searched with its predecessor
        yield f'<p class="qa-searched">Searched: <em>{html.escape(reply.question)}</em></p>'
    if not engine.index.matches(Filter.of(doc_ids, names)):
        yield f"<p>{html.escape(NO_MATCHING_PASSAGE)}</p>"
        return
    if reply.named:
        who = " and ".join(html.escape(name) for name in reply.named)
        yield (
            f'<p class="qa-named">From the words of {who}, whom the question names '
            "(choose speakers in Settings to search others).</p>"
        )
    yield from cards_html(reply, engine.index.recording)
    yield link_html(
        Link(reply.question, mode, whole_number(k), tuple(interviews or ()), tuple(speakers or ()))
    )


def answer(message: str, history: list, *settings, engine: Engine) -> str:
    """The whole reply (HTML quote cards, or a plain message) to one question."""
    return "".join(reply_parts(message, history, *settings, engine=engine))


def stream(message: str, history: list, *settings, engine: Engine) -> Iterator[str]:
    """The chat function: a "Searching" line at once, then the reply growing card by card."""
    asked = html.escape(" ".join(message.split())[:200])
    yield f'<p class="qa-searching">Searching for: <em>{asked}</em></p>'
    shown = ""
    for part in reply_parts(message, history, *settings, engine=engine):
        shown += part
        yield shown


def _previous_question(history: list) -> str | None:
    """The last question the person asked in this chat. History holds role/content messages, whose
    content Gradio gives as a string or as a list of parts ({"type": "text", "text": ...})."""
    for message in reversed(history or []):
        if isinstance(message, dict) and message.get("role") == "user":
            text = _text_of(message.get("content"))
            if text:
                return text
    return None


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content.get("text") if isinstance(content.get("text"), str) else ""
    if isinstance(content, list | tuple):
        return " ".join(part for part in map(_text_of, content) if part)
    return ""


def interview_choices(engine: Engine) -> list[tuple[str, str]]:
    """(label, doc_id) for the interview filter: title, outlet and date, by title."""
    choices = [
        (", ".join(d[f] for f in ("title", "outlet", "published") if d.get(f)) or doc_id, doc_id)
        for doc_id, d in engine.index.documents.items()
    ]
    return sorted(choices, key=lambda choice: choice[0].lower())


def speaker_choices(engine: Engine, interviews: list[str] | None = None) -> list[str]:
    """The speaker filter's choices: the speakers of the chosen interviews (none chosen: of all)."""
    held = engine.index.interviews
    chosen = [doc_id for doc_id in interviews or () if doc_id in held] or list(held)
    return sorted({speaker for doc_id in chosen for speaker in held[doc_id].speakers})


BUNDLED_ID = "sco-alimov-tass-2017"  # EXAMPLES are questions about it
MAX_NAMED = 8  # interviews the header names; more are counted


def description(engine: Engine) -> str:
    """The chat's header: what the page answers from, as the archive is now."""
    documents = sorted(engine.index.documents.values(), key=lambda d: (d.get("title") or "").lower())
    names = [
        " &middot; ".join(html.escape(d[f]) for f in ("title", "outlet", "published") if d.get(f))
        for d in documents[:MAX_NAMED]
    ]
    more = f"; and {len(documents) - MAX_NAMED} more" if len(documents) > MAX_NAMED else ""
    heading = "Interview" if len(documents) == 1 else f"{len(documents)} interviews"
    return (
        '<div id="qa-about"><h1>Interview QA</h1><p>Ask a question in your own words. Each reply quotes '
        f"the interviewee verbatim, with the question they were answering.<br>{heading}: "
        + "; ".join(names)
        + more
        + "</p></div>"
    )


def placeholder(engine: Engine) -> str:
    """The question box's prompt, with an example one of the archive's own interviewers asked."""
    documents = engine.index.documents
    what = "the interview" if len(documents) == 1 else f"the {len(documents)} interviews"
    return f"Ask {what} a question, e.g. {example_question(engine)}"


def example_question(engine: Engine) -> str:
    """A short question an interviewer asked, from the interview with the most passages (the
    bundled interview's own example while it is the only one)."""
    index = engine.index
    if set(index.documents) == {BUNDLED_ID}:
        return EXAMPLES[1]
    largest_first = sorted(index.interviews, key=lambda d: (index.interviews[d].passages, d), reverse=True)
    for doc_id in largest_first:
        for passage in index.passages_of(doc_id):
            question = " ".join(passage.in_answer_to.split())
            if question.endswith("?") and 4 <= len(question.split()) <= 16:
                return question
    return EXAMPLES[1] if BUNDLED_ID in index.documents else "What was said about the main topic?"


def whole_number(k) -> int:
    """k as sent over the API ("5", 5, 5.0); QAError for anything else ("five", 2.5, true)."""
    if isinstance(k, bool) or not isinstance(k, int | float | str):
        raise QAError(f"k must be a whole number, not {k!r}")
    try:
        number = float(k)
    except ValueError:
        raise QAError(f"k must be a whole number, not {k!r}") from None
    if not number.is_integer():
        raise QAError(f"k must be a whole number, not {k!r}")
    return int(number)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_app(live: LiveEngine, writable: bool = True):
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    # System fonts only: the default theme would fetch fonts from Google, and users may be offline.
    # Darker shades than the theme's own where text sits on them (tabs, buttons, hints, the footer):
    # its orange-500 under white and its grey-400 on white fail WCAG AA contrast (2.8:1 and 1.9:1).
    theme = gr.themes.Default(
        font=["system-ui", "Segoe UI", "Roboto", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    ).set(
        color_accent="*primary_700",
        body_text_color_subdued="*neutral_600",
        input_placeholder_color="*neutral_600",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_border_color="*primary_700",
        button_primary_border_color_hover="*primary_800",
        button_cancel_background_fill="#b91c1c",
        button_cancel_background_fill_hover="#991b1b",
        button_cancel_border_color="#b91c1c",
    )

    def search(question: str, k: int = DEFAULT_K, mode: str = DEFAULT_MODE) -> dict:
        """The same JSON as `qa ask --json`: question, abstained, and the ranked hits."""
        try:
            return answer_json(live.get().ask(question, whole_number(k), mode))
        except QAError as error:
            raise gr.Error(str(error)) from None

    def feedback(question: str, passage_id: str, vote: str) -> dict:
        """Record a thumbs up or down on a card: the question, the card's passage id and the vote."""
        engine = live.get()
        try:
            return record(engine.index.folder, question, passage_id, vote, engine.passage_ids)
        except (QAError, OSError) as error:
            raise gr.Error(str(error)) from None

    def export_kept(kept: list, format: str) -> dict:
        """The page's kept quotes as a file (markdown, csv or docx): its name, type and base64 bytes."""
        try:
            name, media, data = export(kept, format)
        except QAError as error:
            raise gr.Error(str(error)) from None
        return {"name": name, "type": media, "base64": base64.b64encode(data).decode("ascii")}

    from qa.app import archive_tab, eval_tab

    with gr.Blocks(title="Interview QA", analytics_enabled=False) as app:
        with gr.Tabs():
            with gr.Tab("Chat"):
                follows, shared = _chat(gr, live)
            with gr.Tab("Evaluate"):
                eval_tab.build_tab(gr, live)
            with gr.Tab("Archive"):
                tab_lists = archive_tab.build_tab(gr, live, follows, following, interview_choices, writable)

        def now(request: gr.Request) -> tuple:
            """Each page load shows the archive as it is, whoever changed it since; opened from a
            shared link (?q=...), the settings it names and the reply it links to."""
            engine = live.get()
            link = Link.read(request.query_params, engine) if request else None
            if link is None:
                listed = archive_tab.lists(gr, engine, interview_choices)
                return (*following(gr, engine), *listed, *[gr.skip()] * 3)
            history = [
                # shown as the text it is: a link's question is anyone's, and the chat renders HTML
                {"role": "user", "content": html.escape(link.question)},
                {"role": "assistant", "content": answer(link.question, [], *link.settings, engine=engine)},
            ]
            listed = archive_tab.lists(gr, engine, interview_choices)
            return (*following(gr, engine, link), *listed, history, link.mode, link.k)

        # Gradio passes the request to a parameter annotated gr.Request; this module's annotations
        # are strings (from __future__), which it does not resolve
        now.__annotations__["request"] = gr.Request
        app.load(now, None, [*follows, *tab_lists, *shared], api_visibility="private")
        # Several at once: most of a request is Gradio's own I/O, which overlaps; the search itself
        # holds the GIL for ~10 ms. One at a time (Gradio's default) queued 20 users behind each other.
        gr.api(search, api_name="search", concurrency_limit=CONCURRENCY)
        gr.api(feedback, api_name="feedback", concurrency_limit=CONCURRENCY)
        gr.api(export_kept, api_name="export", concurrency_limit=CONCURRENCY)
    return app, theme


def following(gr, engine: Engine, link: Link | None = None) -> tuple:
    """New values for what the page shows of the archive (see _chat's return): header, question box
    prompt, interview filter, speaker filter (set as a shared link says, when opened from one)."""
    chosen = {} if link is None else {"value": list(link.interviews)}
    named = {} if link is None else {"value": list(link.speakers)}
    return (
        description(engine),
        gr.Textbox(placeholder=placeholder(engine)),
        gr.Dropdown(choices=interview_choices(engine), **chosen),
        gr.Dropdown(choices=speaker_choices(engine, link.interviews if link else None), **named),
    )


def _chat(gr, live: LiveEngine) -> tuple:
    """The chat; returns what follows the archive (header, question box, interview and speaker
    filters), which a page load and the Archive tab refresh with `following`."""
    engine = live.get()
    about = gr.HTML(description(engine))

    def chat(message: str, history: list, *settings) -> Iterator[str]:
        yield from stream(message, history, *settings, engine=live.get())

    interviews = gr.Dropdown(
        interview_choices(engine),
        value=[],
        multiselect=True,
        label="Interviews (none chosen: all)",
        render=False,
    )
    speakers = gr.Dropdown(
        speaker_choices(engine),
        value=[],
        multiselect=True,
        label="Speakers (none chosen: all)",
        render=False,
    )
    # named for screen readers (the label, hidden; a placeholder is no name) and a send button that
    # says what it does
    question = gr.Textbox(
        placeholder=placeholder(engine),
        label="Your question",
        show_label=False,
        submit_btn="Ask",
        elem_id="qa-question",
        render=False,
    )
    # no "share" button (it posts to Hugging Face; users may be offline); the first question is
    # pushed below the toolbar (CSS #qa-answers), which it otherwise ran under; no autoscroll, which
    # left a reply scrolled to its last, weakest card: the page's script shows the first (PAGE_JS)
    chatbot = gr.Chatbot(
        label="Answers",
        render_markdown=False,
        sanitize_html=True,
        autoscroll=False,
        height=560,
        elem_id="qa-answers",
        buttons=["copy", "copy_all"],
        render=False,
    )
    # render=False: inside the page's Blocks they would otherwise appear where they are made
    mode = gr.Dropdown(list(MODES), value=DEFAULT_MODE, label="Retrieval mode", render=False)
    k = gr.Slider(1, 10, value=DEFAULT_K, step=1, label="Cards per answer (k)", render=False)
    with gr.Row():
        with gr.Column(scale=3):
            _chat_interface(gr, chat, chatbot, question, [mode, k, interviews, speakers])
        with gr.Column(scale=1, min_width=240):
            gr.HTML(COLLECTION_HTML, elem_id="qa-collection")

    def narrowed(chosen: list[str], named: list[str]):
        """The speaker filter after the interviews chosen change: their speakers, the chosen kept."""
        choices = speaker_choices(live.get(), chosen)
        return gr.Dropdown(choices=choices, value=[name for name in named or () if name in choices])

    interviews.change(narrowed, [interviews, speakers], [speakers], api_visibility="private")
    return (about, question, _unlisted(interviews), _unlisted(speakers)), (chatbot, mode, k)


# The kept quotes, drawn by the page's script (PAGE_JS) from the tab's own storage
COLLECTION_HTML = (
    "<h3>Kept quotes</h3><div class='qa-kept-list'></div>"
    "<div>Export: <button type='button' data-format='markdown'>Markdown</button>"
    "<button type='button' data-format='csv'>CSV</button>"
    "<button type='button' data-format='docx'>Word</button></div>"
)


def _chat_interface(gr, chat, chatbot, question, settings: list) -> None:
    gr.ChatInterface(
        fn=chat,
        chatbot=chatbot,
        textbox=question,
        additional_inputs=settings,
        additional_inputs_accordion=gr.Accordion("Settings", open=False, render=False),
        analytics_enabled=False,
        flagging_mode="never",
        api_name="chat",
        concurrency_limit=CONCURRENCY,
    )


def _unlisted(dropdown):
    """A filter whose choices (interview ids, speaker names) stay out of the API description that
    Gradio embeds in every page, the login page included: described as any list of strings."""
    dropdown.api_info = lambda: {"type": "array", "items": {"type": "string"}}
    dropdown.example_payload = dropdown.example_value = list
    return dropdown


def serve(
    index_dir: Path,
    host: str = "127.0.0.1",
    port: int = 7860,
    reranker: Path | None = None,
    auth: tuple[str, str] | None = None,
    allow_uploads: bool = False,
) -> None:
    """Load the index, then serve the page on host:port until interrupted; with `auth`, the page and
    its API ask for that user and password."""
    engine = Engine.open(index_dir, reranker)
    engine.ask(EXAMPLES[0])  # warm the model so the first person's question is not the slow one
    if host not in LOOPBACK:
        who = "behind the login" if auth else "to anyone who can reach it (no --auth)"
        print(f"qa: warning: serving on {host} shows the interviews to your network, {who}", file=sys.stderr)
    # writing to the archive from the page: on loopback (your own machine), behind a login, or
    # when --allow-uploads says anyone who reaches it may
    writable = allow_uploads or auth is not None or host in LOOPBACK
    from qa.store import recordings_folder

    live = LiveEngine(engine)
    app, theme = build_app(live, writable=writable)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        theme=theme,
        css_paths=[STATIC / "page.css"],
        js=PAGE_JS,
        show_error=False,
        quiet=False,
        max_file_size=recordings.MAX_BYTES,  # a transcript's own limit is checked as it is read
        auth=auth,
        # the recordings are served by Gradio's file route, which asks for the login itself
        allowed_paths=[str(recordings_folder(live.get().index.target).resolve())],
    )
