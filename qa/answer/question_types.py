"""What kind of answer an English question asks for, and whether a sentence holds one.

A sentence that repeats the question's words often names the topic while the one beside it gives
the answer: "How long did it take?" is answered by "It took almost ten years", which shares none of
its terms. Classic factoid QA types its questions by their opening words; the quote chooser gives a
sentence holding the asked-for kind of thing (a time, a length of time, a number, a place, a name, a
reason, or for a yes-or-no question a verdict: "yes", "not", "incorrect") a small bonus.
"""

from __future__ import annotations

import re

TIME, DURATION, NUMBER, PLACE, NAME = "time", "duration", "number", "place", "name"
REASON, VERDICT = "reason", "verdict"

_OPENINGS = (
    (DURATION, re.compile(r"^(how long|for how long|how many (years|months|weeks|days|decades))\b")),
    (
        TIME,
        re.compile(
            r"^(when|since when|until when|how soon|what year|in what year|"
            r"which year|in which year|what date|how old)\b"
        ),
    ),
    (
        NUMBER,
        re.compile(
            r"^(how many|how much|what share|what percentage|what proportion|"
            r"what part|how large|how big|what number)\b"
        ),
    ),
    (
        PLACE,
        re.compile(
            r"^(where|in which (city|country|place)|which (city|country|place)|"
            r"in what (city|country|place))\b"
        ),
    ),
    (NAME, re.compile(r"^(who|whom|whose|which|name)\b")),
    (REASON, re.compile(r"^(why|what for|for what reason|what is the reason|what are the reasons)\b")),
    # a question opening with its verb asks yes or no ("Are there fewer sceptics?")
    (
        VERDICT,
        re.compile(
            r"^(is|are|was|were|do|does|did|will|would|can|could|should|shall|has|have|had|must|"
            r"isn't|aren't|wasn't|weren't|doesn't|don't|didn't|won't|can't|hasn't|haven't)\b"
        ),
    ),
)

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    "fifty|hundred|thousand|million|billion|dozen|dozens|half|quarter|third|percent|per cent"
)
_COUNT = rf"(\d+|{_NUMBER_WORDS}|a|an|a few|several|many)"
_HAS = {
    DURATION: re.compile(
        rf"\b({_COUNT}\s+(more\s+)?(years?|months?|weeks?|days?|hours?|decades?|centuries)|decades|"
        r"since\s+(1[89]\d\d|20\d\d))\b",
        re.IGNORECASE,
    ),
    TIME: re.compile(
        rf"\b(1[89]\d\d|20\d\d|{_MONTHS}|year|years|month|months|decade|decades|week|weeks|"
        r"yesterday|today|tomorrow|spring|summer|autumn|winter|century)\b",
        re.IGNORECASE,
    ),
    NUMBER: re.compile(rf"(\d|\b({_NUMBER_WORDS})\b)", re.IGNORECASE),
    # a capitalised word after a preposition of place, not opening the sentence
    PLACE: re.compile(r"\b(in|at|to|from|near)\s+(the\s+)?[A-Z][\w-]+"),
    REASON: re.compile(
        r"\b(because|since|as a result|due to|thanks to|the reasons?|that is why|that's why|"
        r"so that|in order to|owing to)\b",
        re.IGNORECASE,
    ),
    VERDICT: re.compile(
        r"\b(yes|no|not|never|certainly|of course|indeed|definitely|absolutely|incorrect|correct|"
        r"wrong|right|true|untrue|false|agree|disagree|mistaken|by no means|on the contrary)\b|n't\b",
        re.IGNORECASE,
    ),
}
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w-]+")


def question_type(question: str) -> str | None:
    """The kind of answer a question's opening words ask for (DURATION, TIME, NUMBER, PLACE, NAME,
    REASON, or VERDICT for a yes-or-no question); None for any other question."""
    opening = " ".join(question.lower().split())
    for kind, pattern in _OPENINGS:
        if pattern.match(opening):
            return kind
    return None


def kinds_held(sentence: str) -> frozenset[str]:
    """The kinds of thing a sentence holds whatever the question (all but NAME, which depends on
    the question's own words)."""
    return frozenset(kind for kind, pattern in _HAS.items() if pattern.search(sentence))


def capitalised(sentence: str) -> frozenset[str]:
    """The sentence's capitalised words (not opening it), lower-cased: the names it may hold."""
    return frozenset(word.lower() for word in _CAPITALISED.findall(sentence))


def asked_words(question: str) -> frozenset[str]:
    return frozenset(word.lower() for word in re.findall(r"[\w-]+", question))


def holds(kind: str | None, sentence: str, question: str) -> bool:
    """Whether the sentence holds the kind of thing asked for; for NAME, a capitalised word (not
    opening the sentence) that the question does not already say."""
    return answers_kind(kind, kinds_held(sentence), capitalised(sentence), asked_words(question))


def answers_kind(
    kind: str | None, kinds: frozenset[str], names: frozenset[str], asked: frozenset[str]
) -> bool:
    """`holds` from what was found of the sentence once (its `kinds_held` and `capitalised`) and the
    question's `asked_words`."""
    if kind is None:
        return False
    return bool(names - asked) if kind == NAME else kind in kinds


# "What did Putin say about ...", "How does the minister describe ...": who and how, not what about;
# "who" is any few words ("the President", "Rashid Alimov", "the SCO Secretary-General").
_FRAME = re.compile(
    r"""^(what|how|why|when|where|did|does|do|has|have|is|was)\s+
    ((did|does|do|has|have|is|was|would|will)\s+)?
    (?P<who>[\w.'’ -]{1,40}?)\s+
    (say|said|says|think|thinks|feel|feels|describe|describes|mean|view|comment|tell|talk|talks|see|sees)
    \s*(about|on|of|regarding|to\s+say\s+about)?\s+""",
    re.IGNORECASE | re.VERBOSE,
)


def topic(question: str) -> str:
    """What a question is about, without who is asked and how: "What did Putin say about doping in
    Russian sport?" -> "doping in Russian sport?". A question with no such frame, or nothing after
    it, is its own topic."""
    about = " ".join(_FRAME.sub("", question.strip(), count=1).split())
    return about if re.search(r"\w", about) else question
