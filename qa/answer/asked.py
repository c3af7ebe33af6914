"""A question that repeats one an interviewer asked: its answer comes first."""

from __future__ import annotations

import math
import re

from qa.answer.kept import Kept
from qa.documents import Filter, Passage

# A question that repeats one an interviewer asked ("Asked about X, you said..."): at least this share
# of its content words are in that question, and the two share at least ASKED_JACCARD of their
# words together. Its answer is then the first card. Questions of fewer than ASKED_MIN_TERMS content
# words ("Why?") match only when they are the same words as a question asked, or its last
# sentence's, and at least ASKED_SAME_WORDS of them ("Where did you go to school?").
ASKED_CONTAINED, ASKED_JACCARD, ASKED_MIN_TERMS, ASKED_SAME_WORDS = 0.8, 0.5, 4, 4
QUESTIONS_KEPT = 100_000  # interviewers' questions an engine keeps laid out


def _words_of(text: str) -> str:
    return " ".join(re.findall(r"[\w'’]+", text.lower()))


def asked_forms(question: str) -> tuple[str, str]:
    """An interviewer's question as words: whole, and its last sentence alone."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", question.strip()) if s]
    return _words_of(question), _words_of(sentences[-1] if sentences else question)


def _asked_words(question: str) -> frozenset[str]:
    return frozenset(asked_forms(question))


class AskedBefore:
    """The interviewers' questions of one index, each laid out once (as it is first met) for look-ups."""

    def __init__(self, index) -> None:
        self.index = index
        self._laid_out = Kept(QUESTIONS_KEPT)  # question text -> its stems and words

    def __call__(self, question: str, allowed: Filter | None = None) -> tuple[Passage, ...]:
        """The passages (of those `allowed` admits) answering an interviewer's question this one
        repeats nearly word for word (see ASKED_CONTAINED); () for any other question."""
        terms = self.index.lexical.content_stems([question])[0]
        words = _words_of(question)
        if len(terms) < ASKED_MIN_TERMS and len(words.split()) < ASKED_SAME_WORDS:
            return ()
        short = len(terms) < ASKED_MIN_TERMS  # a short question matches only as the same words
        needed = 0 if short else math.ceil(ASKED_CONTAINED * len(terms))
        by_text: dict[str, list[Passage]] = {}
        for passage in self.index.asked_candidates(terms, needed, words):
            by_text.setdefault(passage.in_answer_to, []).append(passage)
        laid_out = self._layouts(list(by_text))
        matched = []
        for (own, same), passages in zip(laid_out, by_text.values(), strict=True):
            if short:
                found = words in same
            else:
                found = len(terms & own) >= ASKED_CONTAINED * len(terms)
                found = found and len(terms & own) >= ASKED_JACCARD * len(terms | own)
            if found:
                matched += passages
        return tuple(p for p in matched if allowed is None or allowed.admits(p))

    def _layouts(self, texts: list[str]) -> list[tuple[frozenset[str], frozenset[str]]]:
        """Interviewers' questions as their content stems and their words (whole and the last
        sentence's), each worked out once (the new ones stemmed together)."""
        known = self._laid_out
        found = {text: laid_out for text in texts if (laid_out := known.get(text)) is not None}
        new = [text for text in texts if text not in found]
        if new:
            fresh = zip(self.index.lexical.content_stems(new), map(_asked_words, new), strict=True)
            found.update(zip(new, fresh, strict=True))
            for text in new:
                known.keep(text, found[text])
        return [found[text] for text in texts]
