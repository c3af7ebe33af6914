"""The interviewees a question names: "What did Obama say about Congress?"."""

from __future__ import annotations

import re


class SpeakerNames:
    """One index's speakers' names, indexed once (on first use) for look-ups per word."""

    def __init__(self, index) -> None:
        self.index = index
        self._names: tuple[dict, dict, int] | None = None

    def __call__(self, question: str) -> tuple[str, ...]:
        """The interviewees a question names, by full name or by surname (a capitalised word of
        three letters or more), in the index's spelling and order; () when it names none of them."""
        full_names, surnames, longest = self._speaker_names()
        words = re.findall(r"[\w'’-]+", question)
        folded = [word.lower() for word in words]
        found: set[tuple[int, str]] = set()
        for size in range(2, min(longest, len(folded)) + 1):
            for start in range(len(folded) - size + 1):
                found.update(full_names.get(" ".join(folded[start : start + size]), ()))
        for word in words:
            found.update(surnames.get(word, ()))
        named = tuple(speaker for _, speaker in sorted(found))
        return named if len(named) < len(self.index.speakers) else ()

    def _speaker_names(self) -> tuple[dict, dict, int]:
        """(full name in lower case -> speakers, surname as a question may write it -> speakers, the
        most words in a full name), each speaker with its place in the index's order; made once per
        engine, so that a question costs a look-up per word, not a pass over every speaker."""
        if self._names is None:
            full_names: dict[str, list[tuple[int, str]]] = {}
            surnames: dict[str, list[tuple[int, str]]] = {}
            for place, speaker in enumerate(self.index.speakers):
                parts = speaker.split()
                if len(parts) > 1:
                    full_names.setdefault(" ".join(parts).lower(), []).append((place, speaker))
                if parts and len(parts[-1]) >= 3:
                    for written in {parts[-1], parts[-1].capitalize()}:
                        surnames.setdefault(written, []).append((place, speaker))
            longest = max((len(name.split()) for name in full_names), default=0)
            self._names = full_names, surnames, longest
        return self._names
