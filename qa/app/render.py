"""A reply's HTML: quote cards (excerpt, who said it, context, source, buttons) and their player.

Everything taken from a transcript is HTML-escaped here, so markup in an interview is shown as text.
The page's stylesheet and script are files (qa/app/static/); what the script reads from a card rides
in hidden spans, since the chat's HTML sanitizer drops data-* attributes."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from qa.answer.answers import ABSTAIN_MESSAGE, Answer, Card, citation, clock
from qa.answer.quotes import Span
from qa.app.collection import Kept
from qa.app.collection import record as kept_record
from qa.ingest import recordings


def _safe_url(url: str) -> str | None:
    return url if url.lower().startswith(("http://", "https://")) else None


def _marked_html(span: Span, ranges: list[tuple[int, int]], css: str) -> str:
    """The span's text escaped, with the parts inside these source ranges marked."""
    pieces, cursor = [], span.start
    for start, end in sorted(ranges):
        start, end = max(start, cursor), min(end, span.end)
        if start >= end:
            continue
        pieces.append(html.escape(span.text[cursor - span.start : start - span.start]))
        inside = span.text[start - span.start : end - span.start]
        pieces.append(f'<mark class="{css}">{html.escape(inside)}</mark>')
        cursor = end
    pieces.append(html.escape(span.text[cursor - span.start :]))
    return "".join(pieces)


def context_html(card: Card) -> str:
    """A closed "Show context" section: the question, then the whole answer with the excerpt marked."""
    shown = [(card.excerpt.start, card.excerpt.end)]
    answer = "".join(
        f'<blockquote class="qa-quote qa-whole">{_marked_html(span, shown, "qa-excerpt")}</blockquote>'
        for span in card.context
    )
    asked = (
        f'<p class="qa-asked"><strong>Question:</strong> {html.escape(card.in_answer_to)}</p>'
        if card.in_answer_to
        else ""
    )
    return f'<details class="qa-context"><summary>Show context</summary>{asked}{answer}</details>'


# Thumbs drawn as inline SVG: Debian's chromium has no emoji font, and an emoji thumb shows as a box.
_THUMB = (
    '<svg class="qa-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"{turn}>'
    '<path d="M2 7h3v8H2zM6 7l3-6c1.2 0 2 .9 2 2v3h3.2c.9 0 1.6.8 1.4 1.7l-1.2 6.1c-.1.7-.7 1.2-1.4 1.2H6z"'
    ' fill="currentColor"/></svg>'
)
THUMB_UP, THUMB_DOWN = _THUMB.format(turn=""), _THUMB.format(turn=' style="transform: rotate(180deg)"')
VOTE_UP, VOTE_DOWN = "This answers the question", "This does not answer it"


def _unseen(text: str) -> str:
    """Text for screen readers only: a button's name where its face is an icon (the chat's sanitizer
    drops aria-label, so the name is the button's own text, hidden from sight by the stylesheet)."""
    return f'<span class="qa-unseen">{html.escape(text)}</span>'


def _excerpt_html(card: Card) -> str:
    """The excerpt with its quote marked, and an ellipsis where the answer goes on beyond it."""
    stretch = next(s for s in card.context if s.start <= card.excerpt.start and card.excerpt.end <= s.end)
    before = '<span class="qa-more">&hellip; </span>' if card.excerpt.start > stretch.start else ""
    after = '<span class="qa-more"> &hellip;</span>' if card.excerpt.end < stretch.end else ""
    marked = _marked_html(card.excerpt, [(card.quote.start, card.quote.end)], "qa-best")
    return f'<blockquote class="qa-quote">{before}{marked}{after}</blockquote>'


FILE_ROUTE = "gradio_api/file="  # Gradio's own file route: it checks the login and allowed_paths


def play_html(card: Card, recording: Path | None) -> str:
    """A timed card's Play button, when its interview has a recording (the file the archive's
    records name, qa.store.Snapshot.recording): the page plays it from the quote's start and stops at
    its end (PAGE_JS), fetched through Gradio's file route, which serves only the archive's
    recordings folder (serve's allowed_paths) and, behind --auth, only with the login."""
    if not (card.timecode and recording is not None):
        return ""
    at = {
        "src": FILE_ROUTE + quote(str(recording.resolve())),
        "start": card.timecode[0],
        "end": card.timecode[1],
        "video": recording.suffix.lower() in recordings.VIDEO,
    }
    return (
        ' <button type="button" class="qa-play" title="Play the quote from the recording">Play</button>'
        f'<span class="qa-play-at">{html.escape(json.dumps(at))}</span>'
    )


def card_html(card: Card, question: str = "", recording: Path | None = None) -> str:
    """One quote card: the excerpt with the words to quote marked, who said it (and when, for timed
    transcripts), the question it answered, the whole answer on demand, the source, how well it
    matches, and buttons to copy the citation and to vote on it (for `question`). What the page's
    script reads (the citation, the kept record, the vote's question and passage, where to play)
    rides in hidden spans: the chat's HTML sanitizer drops data-* attributes (tried)."""
    meta = f"<strong>{html.escape(card.speaker)}</strong>"
    if not card.labelled:
        meta += ' <span class="qa-unlabelled">(no speaker labels)</span>'
    if card.timecode:
        meta += f' <span class="qa-time">[{clock(card.timecode[0])}&ndash;{clock(card.timecode[1])}]</span>'
        meta += play_html(card, recording)
    if card.in_answer_to:
        guessed = "" if card.labelled else " (guessed)"
        meta += f" &middot; in answer to{guessed}: <em>{html.escape(card.in_answer_to)}</em>"
    title = html.escape(card.source.title or card.source.doc_id)
    url = _safe_url(card.source.url)
    source = (
        f'<a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        if url
        else title
    )
    details = ", ".join(html.escape(x) for x in (card.source.outlet, card.source.published) if x)
    if details:
        source += f" ({details})"
    ids = ", ".join(html.escape(pid) for pid in card.passage_ids)
    kept = Kept.of(card)
    held = {**kept_record(kept), "credit": kept.credit}  # what Keep puts in the collection
    buttons = (
        f'<div class="qa-cite"><span class="qa-citation">{html.escape(citation(card))}</span>'
        '<button type="button" class="qa-copy">Copy citation</button>'
        '<button type="button" class="qa-keep" title="Keep this quote in the collection">Keep</button>'
        f'<span class="qa-kept-record">{html.escape(json.dumps(held))}</span>'
        f'<button type="button" class="qa-vote qa-up" title="{VOTE_UP}">{THUMB_UP}{_unseen(VOTE_UP)}</button>'
        f'<button type="button" class="qa-vote qa-down" title="{VOTE_DOWN}">{THUMB_DOWN}{_unseen(VOTE_DOWN)}'
        "</button>"
        f'<span class="qa-vote-question">{html.escape(question)}</span>'
        f'<span class="qa-vote-id">{html.escape(card.passage_ids[0])}</span></div>'
    )
    relevance = f'<span class="qa-relevance" title="score {card.score:.2f}">{html.escape(card.label)}</span>'
    return (
        '<div class="qa-card">'
        f"{_excerpt_html(card)}"
        f'<div class="qa-meta">{meta}</div>'
        f"{context_html(card)}"
        f'<div class="qa-source">#{card.rank} &middot; {relevance} &middot; {source}'
        f' &middot; <span class="qa-id">{ids}</span></div>'
        f"{buttons}"
        "</div>"
    )


def cards_html(answer: Answer, recording_of=lambda doc_id: None) -> Iterator[str]:
    """The reply's cards as the engine resolved them, one at a time; `recording_of` gives an
    interview's recording by doc id (qa.store.Snapshot.recording)."""
    if answer.abstained:
        yield f"<p>{html.escape(ABSTAIN_MESSAGE)} Try asking about something the interview covers.</p>"
        return
    for card in answer.cards:
        # only a timed card of an interview that names a recording can play it: no look-up for the rest
        playable = card.timecode and card.source.recording
        yield card_html(card, answer.question, recording_of(card.source.doc_id) if playable else None)
