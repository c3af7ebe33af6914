"""The Gradio page: a chat whose replies are quote cards. Only app.py (and `qa serve`) import this.

Everything taken from a transcript is HTML-escaped here, so markup in an interview is shown as text.
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from qa.answers import (
    ABSTAIN_MESSAGE,
    Answer,
    Card,
    Excerpt,
    answer_json,
    cards,
    clock,
    contextual_question,
    timespan,
)
from qa.documents import QAError
from qa.engine import DEFAULT_K, Engine, LiveEngine
from qa.feedback import record
from qa.formats import MAX_FILE_BYTES
from qa.retrievers import DEFAULT_MODE, MODES

CONCURRENCY = 8  # requests each endpoint serves at once (bench/latency.py: 20 users)

EXAMPLES = [
    "What does India and Pakistan joining mean for the SCO?",
    "Which countries have applied for membership?",
    "Where will the 2018 summit take place?",
]

CSS = """
.qa-card { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 14px; margin: 0 0 12px 0; }
.qa-quote { margin: 0 0 8px 0; padding-left: 10px; border-left: 3px solid #6e7781; white-space: pre-wrap; }
.qa-meta, .qa-source { font-size: 0.9em; color: #57606a; }
.qa-context summary { cursor: pointer; font-size: 0.9em; margin: 4px 0; }
.qa-excerpt { background: #dbeafe; color: inherit; }
.qa-citation { display: none; }
.qa-copy { font-size: 0.85em; margin-top: 6px; padding: 2px 8px; border: 1px solid #d0d7de; }
.qa-best { background: #fff3b0; color: inherit; padding: 0 1px; }
.qa-id { font-family: ui-monospace, monospace; font-size: 0.85em; }
.qa-relevance { font-weight: 600; }
.qa-vote { font-size: 0.85em; margin: 6px 0 0 6px; padding: 2px 8px; border: 1px solid #d0d7de; }
.qa-vote.qa-voted { background: #dbeafe; border-color: #0969da; }
.qa-vote-question, .qa-vote-id { display: none; }
"""


def _safe_url(url: str) -> str | None:
    return url if url.lower().startswith(("http://", "https://")) else None


def _marked_html(excerpt: Excerpt, ranges: list[tuple[int, int]], css: str) -> str:
    """The excerpt escaped, with the parts inside these source ranges marked."""
    pieces, cursor = [], excerpt.start
    for start, end in sorted(ranges):
        start, end = max(start, cursor), min(end, excerpt.end)
        if start >= end:
            continue
        pieces.append(html.escape(excerpt.text[cursor - excerpt.start : start - excerpt.start]))
        inside = excerpt.text[start - excerpt.start : end - excerpt.start]
        pieces.append(f'<mark class="{css}">{html.escape(inside)}</mark>')
        cursor = end
    pieces.append(html.escape(excerpt.text[cursor - excerpt.start :]))
    return "".join(pieces)


def context_html(card: Card, turn: tuple[Excerpt, ...]) -> str:
    """A closed "Show context" section: the question, then the whole answer with the excerpt marked."""
    question = card.hits[0].passage.in_answer_to
    shown = [(e.start, e.end) for e in card.excerpts]
    answer = "".join(
        f'<blockquote class="qa-quote qa-whole">{_marked_html(e, shown, "qa-excerpt")}</blockquote>'
        for e in turn
    )
    asked = f'<p class="qa-asked"><strong>Question:</strong> {html.escape(question)}</p>' if question else ""
    return f'<details class="qa-context"><summary>Show context</summary>{asked}{answer}</details>'


def citation(quote: str, speaker: str, document: dict) -> str:
    """`"<quote>" - <speaker>, <outlet>, <date>`, whitespace (no-break spaces too) made plain."""
    parts = [speaker] + [document[f] for f in ("outlet", "published") if document.get(f)]
    return f'"{" ".join(quote.split())}" - ' + ", ".join(p for p in parts if p)


# The cards' buttons, delegated because cards arrive later: "Copy citation" copies the citation
# beside it; a thumb sends the card's question, passage id and vote to the page's /feedback endpoint
# (Gradio's HTTP API: a POST queues the call, a GET reads its result).
PAGE_JS = """
() => {
  async function vote(button) {
    const card = button.closest(".qa-card");
    const data = [
      card.querySelector(".qa-vote-question").textContent,
      card.querySelector(".qa-vote-id").textContent,
      button.classList.contains("qa-up") ? "up" : "down",
    ];
    const call = await fetch("gradio_api/call/feedback", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({data}),
    });
    const {event_id} = await call.json();
    const result = await (await fetch(`gradio_api/call/feedback/${event_id}`)).text();
    if (result.includes("event: complete")) {
      card.querySelectorAll(".qa-vote").forEach((b) => b.classList.remove("qa-voted"));
      button.classList.add("qa-voted");
    }
  }
  document.addEventListener("click", (event) => {
    const copy = event.target.closest(".qa-copy");
    if (copy) {
      const text = copy.parentElement.querySelector(".qa-citation").textContent;
      navigator.clipboard.writeText(text).then(() => { copy.textContent = "Copied"; });
    }
    const thumb = event.target.closest(".qa-vote");
    if (thumb) vote(thumb);
  });
}
"""


def card_html(
    card: Card,
    document: dict,
    highlight: tuple[int, int] | None = None,
    turn: tuple[Excerpt, ...] = (),
    label: str = "",
    question: str = "",
) -> str:
    """One quote card: the verbatim excerpts of one answer (the best-matching sentence marked), who
    said it, the question it answered, the source, how well it matches, and buttons to cite it and
    to vote on it (for `question`). `highlight` is in source offsets."""
    best = card.hits[0]
    p = best.passage
    marks = [highlight] if highlight else []
    quotes = "".join(
        f'<blockquote class="qa-quote">{_marked_html(e, marks, "qa-best")}</blockquote>'
        for e in card.excerpts
    )
    meta = f"<strong>{html.escape(p.speaker)}</strong>"
    said = timespan(document, min(e.start for e in card.excerpts), max(e.end for e in card.excerpts))
    if said:
        meta += f' <span class="qa-time">[{clock(said[0])}&ndash;{clock(said[1])}]</span>'
    if p.in_answer_to:
        meta += f" &middot; in answer to: <em>{html.escape(p.in_answer_to)}</em>"
    title = html.escape(document.get("title") or p.doc_id)
    url = _safe_url(document.get("url", ""))
    source = (
        f'<a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        if url
        else title
    )
    details = ", ".join(html.escape(document[f]) for f in ("outlet", "published") if document.get(f))
    if details:
        source += f" ({details})"
    ids = ", ".join(html.escape(h.passage.passage_id) for h in card.hits)
    cited = p.text[highlight[0] - p.start : highlight[1] - p.start] if highlight else card.excerpts[0].text
    buttons = (
        '<div class="qa-cite"><button type="button" class="qa-copy">Copy citation</button>'
        f'<span class="qa-citation">{html.escape(citation(cited, p.speaker, document))}</span>'
        '<button type="button" class="qa-vote qa-up" title="This answers the question">&#128077;</button>'
        '<button type="button" class="qa-vote qa-down" title="This does not answer it">&#128078;</button>'
        f'<span class="qa-vote-question">{html.escape(question)}</span>'
        f'<span class="qa-vote-id">{html.escape(p.passage_id)}</span></div>'
    )
    relevance = (
        f'<span class="qa-relevance" title="score {best.score:.2f}">{html.escape(label)}</span>'
        if label
        else f"score {best.score:.2f}"
    )
    return (
        '<div class="qa-card">'
        f"{quotes}"
        f'<div class="qa-meta">{meta}</div>'
        f"{context_html(card, turn) if turn else ''}"
        f'<div class="qa-source">#{best.rank} &middot; {relevance} &middot; {source}'
        f' &middot; <span class="qa-id">{ids}</span></div>'
        f"{buttons}"
        "</div>"
    )


def cards_html(answer: Answer, engine: Engine) -> Iterator[str]:
    """The reply's cards, one per answer turn, each as soon as it is drawn; its best passage's
    closest sentence marked."""
    if answer.abstained:
        yield f"<p>{html.escape(ABSTAIN_MESSAGE)} Try asking about something the interview covers.</p>"
        return
    grouped = cards(answer.hits)
    labels = engine.relevance(answer.question, [card.hits[0] for card in grouped])
    for card, label in zip(grouped, labels, strict=True):
        best = card.hits[0].passage
        span = engine.best_sentence(answer.question, best)
        highlight = (best.start + span[0], best.start + span[1]) if span else None
        document = engine.index.documents.get(best.doc_id, {})
        turn = engine.answer_turn(best.doc_id, best.turn_index)
        yield card_html(card, document, highlight, turn, label, answer.question)


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
        doc_ids = set(interviews) if interviews else None
        names = set(speakers) if speakers else None
        searched = contextual_question(message, _previous_question(history))
        reply = engine.ask(searched, int(k), mode, doc_ids, names)
    except QAError as error:
        yield f"<p>{html.escape(str(error).capitalize())}.</p>"
        return
    if searched != " ".join(message.split()):
        yield f'<p class="qa-searched">Searched: <em>{html.escape(reply.question)}</em></p>'
    allowed = engine.index.rows_where(doc_ids, names)
    if allowed is not None and not len(allowed):
        yield f"<p>{html.escape(NO_MATCHING_PASSAGE)}</p>"
        return
    yield from cards_html(reply, engine)


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
    """The last question the person asked in this chat (history holds role/content messages)."""
    for message in reversed(history or []):
        if (
            isinstance(message, dict)
            and message.get("role") == "user"
            and isinstance(message.get("content"), str)
        ):
            return message["content"]
    return None


def interview_choices(engine: Engine) -> list[tuple[str, str]]:
    """(label, doc_id) for the interview filter: title, outlet and date, by title."""
    choices = [
        (", ".join(d[f] for f in ("title", "outlet", "published") if d.get(f)) or doc_id, doc_id)
        for doc_id, d in engine.index.documents.items()
    ]
    return sorted(choices, key=lambda choice: choice[0].lower())


def _description(engine: Engine) -> str:
    names = [
        " &middot; ".join(html.escape(d[f]) for f in ("title", "outlet", "published") if d.get(f))
        for d in engine.index.documents.values()
    ]
    return (
        "Ask a question in your own words. Each reply quotes the interviewee verbatim, "
        "with the question they were answering.<br>Interviews: " + "; ".join(names)
    )


def build_app(live: LiveEngine):
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    # System fonts only: the default theme would fetch fonts from Google, and users may be offline.
    theme = gr.themes.Default(
        font=["system-ui", "Segoe UI", "Roboto", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )

    def search(question: str, k: int = DEFAULT_K, mode: str = DEFAULT_MODE) -> dict:
        """The same JSON as `qa ask --json`: question, abstained, and the ranked hits."""
        try:
            return answer_json(live.get().ask(question, int(k), mode))
        except QAError as error:
            raise gr.Error(str(error)) from None

    def feedback(question: str, passage_id: str, vote: str) -> dict:
        """Record a thumbs up or down on a card: the question, the card's passage id and the vote."""
        engine = live.get()
        try:
            return record(engine.index.folder, question, passage_id, vote, engine.passage_ids)
        except (QAError, OSError) as error:
            raise gr.Error(str(error)) from None

    from qa import archive_tab, eval_tab

    with gr.Blocks(title="Interview QA", analytics_enabled=False) as app:
        with gr.Tabs():
            with gr.Tab("Chat"):
                filters = _chat(gr, live)
            with gr.Tab("Evaluate"):
                eval_tab.build_tab(gr, live)
            with gr.Tab("Archive"):
                archive_tab.build_tab(gr, live, filters)
        # Several at once: most of a request is Gradio's own I/O, which overlaps; the search itself
        # holds the GIL for ~10 ms. One at a time (Gradio's default) queued 20 users behind each other.
        gr.api(search, api_name="search", concurrency_limit=CONCURRENCY)
        gr.api(feedback, api_name="feedback", concurrency_limit=CONCURRENCY)
    return app, theme


def _chat(gr, live: LiveEngine) -> tuple:
    """The chat; returns its interview and speaker filters, which the Archive tab refreshes."""
    engine = live.get()

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
        sorted(engine.index.speaker_rows),
        value=[],
        multiselect=True,
        label="Speakers (none chosen: all)",
        render=False,
    )
    gr.ChatInterface(
        fn=chat,
        chatbot=gr.Chatbot(label="Answers", render_markdown=False, sanitize_html=True, height=560),
        textbox=gr.Textbox(placeholder=f"Ask the interview a question, e.g. {EXAMPLES[1]}", submit_btn=True),
        title="Interview QA",
        description=_description(engine),
        additional_inputs=[
            # render=False: inside the page's Blocks they would otherwise appear where they are made
            gr.Dropdown(list(MODES), value=DEFAULT_MODE, label="Retrieval mode", render=False),
            gr.Slider(1, 10, value=DEFAULT_K, step=1, label="Excerpts per answer (k)", render=False),
            interviews,
            speakers,
        ],
        additional_inputs_accordion=gr.Accordion("Settings", open=False, render=False),
        analytics_enabled=False,
        flagging_mode="never",
        api_name="chat",
        concurrency_limit=CONCURRENCY,
    )
    return interviews, speakers


def serve(
    index_dir: Path,
    host: str = "127.0.0.1",
    port: int = 7860,
    reranker: Path | None = None,
    auth: tuple[str, str] | None = None,
) -> None:
    """Load the index, then serve the page on host:port until interrupted; with `auth`, the page and
    its API ask for that user and password."""
    engine = Engine.open(index_dir, reranker)
    engine.ask(EXAMPLES[0])  # warm the model so the first person's question is not the slow one
    if host not in ("127.0.0.1", "localhost", "::1"):
        who = "behind the login" if auth else "to anyone who can reach it (no --auth)"
        print(f"qa: warning: serving on {host} shows the interviews to your network, {who}", file=sys.stderr)
    app, theme = build_app(LiveEngine(engine))
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        theme=theme,
        css=CSS,
        js=PAGE_JS,
        show_error=False,
        quiet=False,
        max_file_size=MAX_FILE_BYTES,
        auth=auth,
    )
