"""A question that repeats one an interviewer asked: its answer comes first."""

from __future__ import annotations

import re

import numpy as np

from qa.documents import Filter

# A question that repeats one an interviewer asked ("Asked about X, you said..."): at least this share
# of its content words are in that question, and the two share at least ASKED_JACCARD of their
# words together. Its answer is then the first card. Questions of fewer than ASKED_MIN_TERMS content
# words ("Why?") match only when they are the same words as a question asked, or its last
# sentence's, and at least ASKED_SAME_WORDS of them ("Where did you go to school?").
ASKED_CONTAINED, ASKED_JACCARD, ASKED_MIN_TERMS, ASKED_SAME_WORDS = 0.8, 0.5, 4, 4


def _words_of(text: str) -> str:
    return " ".join(re.findall(r"[\w'’]+", text.lower()))


def _asked_words(question: str) -> frozenset[str]:
    """An interviewer's question as words, whole and its last sentence alone."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", question.strip()) if s]
    return frozenset(_words_of(s) for s in (question, *sentences[-1:]))


class AskedBefore:
    """The interviewers' questions of one index, laid out once (on first use) for look-ups."""

    def __init__(self, index) -> None:
        self.index = index
        self._questions: list[tuple[frozenset[str], frozenset[str], np.ndarray]] | None = None

    def rows(self, question: str, allowed: Filter | None = None) -> tuple[int, ...]:
        """The rows (of passages `allowed` admits) answering an interviewer's question this one repeats
        nearly word for word (see ASKED_CONTAINED); () for any other question."""
        terms = self.index.lexical.content_stems([question])[0]
        words = _words_of(question)
        if len(terms) < ASKED_MIN_TERMS and len(words.split()) < ASKED_SAME_WORDS:
            return ()
        if self._questions is None:
            by_text: dict[str, list[int]] = {}
            for row, passage in enumerate(self.index.passages):
                if passage.in_answer_to:
                    by_text.setdefault(passage.in_answer_to, []).append(row)
            stems = self.index.lexical.content_stems(list(by_text))
            self._questions = [
                (own, _asked_words(text), np.array(rows))
                for own, text, rows in zip(stems, by_text, by_text.values(), strict=True)
            ]
        if len(terms) < ASKED_MIN_TERMS:  # a short question matches only as the same words
            matched = [rows for _, same, rows in self._questions if words in same]
        else:
            matched = [
                rows
                for own, _, rows in self._questions
                if len(terms & own) >= ASKED_CONTAINED * len(terms)
                and len(terms & own) >= ASKED_JACCARD * len(terms | own)
            ]
        rows = np.concatenate(matched) if matched else np.zeros(0, np.int64)
        passages = self.index.passages
        return tuple(int(r) for r in rows if allowed is None or allowed.admits(passages[r]))
