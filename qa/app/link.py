"""A reply as a link to the page: the question and the settings, nothing else."""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import urlencode

from qa.answer.engine import DEFAULT_K, Engine
from qa.answer.retrievers import DEFAULT_MODE, MODES

MAX_LINK_QUESTION = 1000


@dataclass(frozen=True)
class Link:
    """A reply as a link to this page: the question and the settings, nothing else (no one's
    identity, no server state). Opened, the page shows that reply with those settings."""

    question: str
    mode: str = DEFAULT_MODE
    k: int = DEFAULT_K
    interviews: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()

    @property
    def settings(self) -> tuple:
        return self.mode, self.k, list(self.interviews), list(self.speakers)

    def href(self) -> str:
        """A relative link (`?q=...`): it opens on whatever server the page is on."""
        pairs = [("q", self.question), ("mode", self.mode), ("k", str(self.k))]
        pairs += [("interview", d) for d in self.interviews] + [("speaker", s) for s in self.speakers]
        return "?" + urlencode(pairs)

    @classmethod
    def read(cls, params, engine: Engine) -> Link | None:
        """The link in a page's query string; None without a question. What it cannot mean (an
        unknown mode, a k out of range, an interview or speaker not in the archive) is left out."""
        question = " ".join(str(params.get("q") or "").split())[:MAX_LINK_QUESTION]
        if not question:
            return None
        mode = params.get("mode") if params.get("mode") in MODES else DEFAULT_MODE
        try:
            k = min(max(int(params.get("k") or DEFAULT_K), 1), 10)
        except ValueError:
            k = DEFAULT_K
        interviews = tuple(d for d in params.getlist("interview") if d in engine.index.documents)
        speakers = tuple(s for s in params.getlist("speaker") if s in engine.index.speakers)
        return cls(question, mode, k, interviews, speakers)


def link_html(link: Link) -> str:
    return f'<p class="qa-share"><a href="{html.escape(link.href())}">Link to this answer</a></p>'
