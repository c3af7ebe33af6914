"""The Gradio page: a chat whose replies are quote cards. Only app.py (and `qa serve`) import this.

Everything taken from a transcript is HTML-escaped here, so markup in an interview is shown as text.
"""

from __future__ import annotations

import functools
import html
import os
import sys
from pathlib import Path

from qa.answers import ABSTAIN_MESSAGE, Answer, Card, Excerpt, answer_json, cards, contextual_question
from qa.documents import QAError
from qa.engine import DEFAULT_K, Engine
from qa.retrievers import DEFAULT_MODE, MODES

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


# Copies the citation next to a "Copy citation" button; delegated, because cards arrive later.
COPY_JS = """
() => {
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".qa-copy");
    if (!button) return;
    const text = button.parentElement.querySelector(".qa-citation").textContent;
    navigator.clipboard.writeText(text).then(() => { button.textContent = "Copied"; });
  });
}
"""


def card_html(
    card: Card, document: dict, highlight: tuple[int, int] | None = None, turn: tuple[Excerpt, ...] = ()
) -> str:
    """One quote card: the verbatim excerpts of one answer (the best-matching sentence marked), who
    said it, the question it answered, and the source. `highlight` is in source offsets."""
    best = card.hits[0]
    p = best.passage
    marks = [highlight] if highlight else []
    quotes = "".join(
        f'<blockquote class="qa-quote">{_marked_html(e, marks, "qa-best")}</blockquote>'
        for e in card.excerpts
    )
    meta = f"<strong>{html.escape(p.speaker)}</strong>"
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
    copy = (
        '<div class="qa-cite"><button type="button" class="qa-copy">Copy citation</button>'
        f'<span class="qa-citation">{html.escape(citation(cited, p.speaker, document))}</span></div>'
    )
    return (
        '<div class="qa-card">'
        f"{quotes}"
        f'<div class="qa-meta">{meta}</div>'
        f"{context_html(card, turn) if turn else ''}"
        f'<div class="qa-source">#{best.rank} &middot; score {best.score:.2f} &middot; {source}'
        f' &middot; <span class="qa-id">{ids}</span></div>'
        f"{copy}"
        "</div>"
    )


def answer_html(answer: Answer, engine: Engine) -> str:
    """The reply: one card per answer turn, its best passage's closest sentence marked."""
    if answer.abstained:
        return f"<p>{html.escape(ABSTAIN_MESSAGE)} Try asking about something the interview covers.</p>"
    parts = []
    for card in cards(answer.hits):
        best = card.hits[0].passage
        span = engine.best_sentence(answer.question, best)
        highlight = (best.start + span[0], best.start + span[1]) if span else None
        document = engine.index.documents.get(best.doc_id, {})
        turn = engine.answer_turn(best.doc_id, best.turn_index)
        parts.append(card_html(card, document, highlight, turn))
    return "".join(parts)


def answer(
    message: str, history: list, mode: str = DEFAULT_MODE, k: int = DEFAULT_K, *, engine: Engine
) -> str:
    """The chat function: one reply (HTML quote cards, or a plain message) per question."""
    try:
        searched = contextual_question(message, _previous_question(history))
        reply = engine.ask(searched, int(k), mode)
        shown = answer_html(reply, engine)
        if searched != " ".join(message.split()):
            shown = f'<p class="qa-searched">Searched: <em>{html.escape(reply.question)}</em></p>' + shown
        return shown
    except QAError as error:
        return f"<p>{html.escape(str(error).capitalize())}.</p>"


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


def _description(engine: Engine) -> str:
    names = [
        " &middot; ".join(html.escape(d[f]) for f in ("title", "outlet", "published") if d.get(f))
        for d in engine.index.documents.values()
    ]
    return (
        "Ask a question in your own words. Each reply quotes the interviewee verbatim, "
        "with the question they were answering.<br>Interviews: " + "; ".join(names)
    )


def build_app(engine: Engine):
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    # System fonts only: the default theme would fetch fonts from Google, and users may be offline.
    theme = gr.themes.Default(
        font=["system-ui", "Segoe UI", "Roboto", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )

    def search(question: str, k: int = DEFAULT_K, mode: str = DEFAULT_MODE) -> dict:
        """The same JSON as `qa ask --json`: question, abstained, and the ranked hits."""
        try:
            return answer_json(engine.ask(question, int(k), mode))
        except QAError as error:
            raise gr.Error(str(error)) from None

    from qa.eval_tab import build_tab

    with gr.Blocks(title="Interview QA", analytics_enabled=False) as app:
        with gr.Tabs():
            with gr.Tab("Chat"):
                _chat(gr, engine)
            with gr.Tab("Evaluate"):
                build_tab(gr, engine)
        gr.api(search, api_name="search")
    return app, theme


def _chat(gr, engine: Engine):
    return gr.ChatInterface(
        fn=functools.partial(answer, engine=engine),
        chatbot=gr.Chatbot(label="Answers", render_markdown=False, sanitize_html=True, height=560),
        textbox=gr.Textbox(placeholder=f"Ask the interview a question, e.g. {EXAMPLES[1]}", submit_btn=True),
        title="Interview QA",
        description=_description(engine),
        additional_inputs=[
            # render=False: inside the page's Blocks they would otherwise appear where they are made
            gr.Dropdown(list(MODES), value=DEFAULT_MODE, label="Retrieval mode", render=False),
            gr.Slider(1, 10, value=DEFAULT_K, step=1, label="Excerpts per answer (k)", render=False),
        ],
        additional_inputs_accordion=gr.Accordion("Settings", open=False, render=False),
        analytics_enabled=False,
        flagging_mode="never",
        api_name="chat",
    )


def serve(index_dir: Path, host: str = "127.0.0.1", port: int = 7860, reranker: Path | None = None) -> None:
    """Load the index, then serve the page on host:port until interrupted."""
    engine = Engine.open(index_dir, reranker)
    engine.ask(EXAMPLES[0])  # warm the model so the first person's question is not the slow one
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"qa: warning: serving on {host} exposes the interviews to your network", file=sys.stderr)
    app, theme = build_app(engine)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        theme=theme,
        css=CSS,
        js=COPY_JS,
        show_error=False,
        quiet=False,
    )
