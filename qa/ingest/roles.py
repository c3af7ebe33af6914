"""Who asks, when no label and no metadata says: the evidence a reader of a transcript uses.

An interviewer's turns read as questions, and not only by a trailing "?": "Tell me about the border",
"And the treaty." They are shorter than the answers, they add up to fewer words, and the interviewer
usually speaks first. Each speaker (a label) is weighed against the one who says most: a speaker is
taken to ask when most of their turns ask and more of them than that one's, or when their turns are
brief beside that one's and they either open the interview or ask more often. When the one who says
most is also the one who asks most (short answers to long questions), they are the one who asks.
With no such speaker nobody is taken to ask, and the transcript's roles are uncertain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A turn that opens with one of these asks, "?" or not ("Tell us about...", "And the border.").
_ASKING = re.compile(
    r"""^(and\s+|so\s+|but\s+|now\s+|well\s+|then\s+|ok(ay)?\s+|mr\.?\s+\w+\s+|madam\s+\w+\s+)*
    (what|why|how|when|where|who|whom|whose|which|is|are|was|were|do|does|did|don't|doesn't|didn't|
     can|could|will|would|should|shall|have|has|had|may|might|must|isn't|aren't|wasn't|won't|
     tell\s+(me|us)|talk\s+(to\s+us\s+)?about|let\s+me\s+ask|let's\s+talk|describe|explain|
     what's|how's|who's|where's|why's)\b""",
    re.IGNORECASE | re.VERBOSE,
)
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"[^.!?…]+(?:[.!?…]+|$)")
MOST = 0.5  # share of a speaker's turns that ask, for "most of their turns ask"
BRIEF = 0.5  # an asker's turns and words against the main speaker's, at most


def asks(said: str) -> bool:
    """Whether a turn reads as a question: its last sentence ends in "?", or one of its last two
    sentences opens as a question does ("Thank you. How do you read the results.")."""
    said = " ".join(said.split())
    last = [s.lstrip('—–-.…,"“ ') for s in _SENTENCE.findall(said)][-2:]
    return said.rstrip('"”’) ').endswith("?") or any(_ASKING.match(sentence) for sentence in last)


@dataclass
class _Speaker:
    turns: int = 0
    words: int = 0
    asking: int = 0

    @property
    def share(self) -> float:
        return self.asking / self.turns

    @property
    def mean(self) -> float:
        return self.words / self.turns


def askers(turns: list[tuple[str, str]]) -> set[str]:
    """The labels that ask, from (label, words said) per turn in order; empty when the evidence
    does not single anyone out (one speaker, or speakers alike in length and questions)."""
    speakers: dict[str, _Speaker] = {}
    for label, said in turns:
        speaker = speakers.setdefault(label, _Speaker())
        speaker.turns += 1
        speaker.words += len(_WORD.findall(said))
        speaker.asking += asks(said)
    if len(speakers) < 2:
        return set()
    main = max(speakers, key=lambda label: speakers[label].words)  # who answers, at first sight
    answers, first = speakers[main], turns[0][0]
    if answers.share >= MOST and all(
        s.share < answers.share for label, s in speakers.items() if label != main
    ):
        return {main}  # the one who says most is the one who asks: a short-answer interview
    chosen = set()
    for label, speaker in speakers.items():
        if label == main:
            continue
        asks_more = speaker.share > answers.share
        brief = speaker.words <= BRIEF * answers.words and speaker.mean <= BRIEF * answers.mean
        if (asks_more and speaker.share >= MOST) or (brief and (asks_more or label == first)):
            chosen.add(label)
    return chosen
