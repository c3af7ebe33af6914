"""Lines of a published transcript that nobody said, and turns too slight to quote.

A page copied from a news site carries rights notices, player and caption text ("Subtitles
unavailable", "Watch: ..."), newsletter prompts ("Read more", "Sign up") and bylines. They stay in
the source text, so every offset is unchanged, but they never join a turn. Back-channel turns
("Uh-huh.", "Yes.") are speech but say nothing to quote, and an interviewer's "Right." is no question
an answer responds to: they are left out of the turns too.
"""

from __future__ import annotations

import re

# Short lines only: a sentence of an answer may well mention copyright or begin with "Watch".
MAX_BOILERPLATE_WORDS = 25
_BOILERPLATE = re.compile(
    r"""^(
        (©|\(c\)|copyright\s*(©|\(c\)|\d{4})).*
      | .*\ball\ rights\ reserved\b.*
      | (subtitles|captions|closed\ captions)\ (are\ )?(unavailable|not\ available|off|on)\b.*
      | (watch|listen|video|audio|photo|image|picture|graphic|caption|credit)\s*:.*
      | (watch|listen\ to)\ (the\ )?(full\ )?(interview|video|clip|episode)\b.*
      | (read\ more|related|more\ on\ this|see\ also)\s*([:›»>].*)?
      | (sign\ up|subscribe)\ (for|to)\ (our|the)\b.*
      | (advertisement|share\ this|click\ here|download\ the\ app)\W*
      | this\ (video|audio)\ is\ (not\ |no\ longer\ )?available\b.*
      | retrieved\ from\ \W*https?://.*
      | [\w.'’\ -]{1,60}\ (started|stopped)\ transcription
      | transcribed\ by\ \W*(https?://|otter|rev|trint|descript|sonix).*
    )$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_BYLINE = re.compile(r"^by\s", re.IGNORECASE)
_NAME_WORD = re.compile(r"^[A-Z][\w.'’-]+$")

# Acknowledgements: never an answer.
_ACKNOWLEDGING = {"uh-huh", "uh", "huh", "mm-hmm", "mhm", "hmm", "mm", "ok", "okay", "i", "see", "go", "on"}
_ACKNOWLEDGING |= {"thank", "you", "thanks", "right", "sure", "yeah", "yep", "well"}
# Assent or denial: an answer to a question ("Will you run again?" "No."), back-channel otherwise.
_ASSENTING = {"yes", "no", "exactly", "absolutely", "correct", "indeed", "of", "course", "true", "not"}


def is_boilerplate(line: str) -> bool:
    """A short line that is page furniture, not speech: rights, player and caption text, prompts to
    read, watch or sign up, and bylines ("By Jane Doe", "By Jane Doe, Moscow")."""
    line = " ".join(line.split())
    if not line or len(line.split()) > MAX_BOILERPLATE_WORDS:
        return False
    if _BYLINE.match(line):
        return byline_name(line) is not None
    return bool(_BOILERPLATE.match(line))


def byline_name(line: str) -> str | None:
    """The name in a byline, "By Jane Doe" or "By Jane Doe, Moscow": one to four capitalised words
    after "By", up to a comma or dash; None for any other line ("By and large, ...")."""
    line = " ".join(line.split())
    if not _BYLINE.match(line) or len(line.split()) > MAX_BOILERPLATE_WORDS:
        return None
    name = re.split(r"\s*[,|–—-]\s*", line[3:], maxsplit=1)[0].split()
    if 1 <= len(name) <= 4 and all(_NAME_WORD.match(word) for word in name):
        return " ".join(name)
    return None


def is_back_channel(text: str, answers_a_question: bool = False) -> bool:
    """A turn that only acknowledges ("Uh-huh.", "Right, right.", "Thank you."), with nothing to
    quote; a bare "Yes." or "No." too, unless it answers a question (a turn ending in "?")."""
    words = re.findall(r"[\w'’]+(?:-[\w'’]+)*", text.lower())
    if not words or len(words) > 4:
        return False
    allowed = _ACKNOWLEDGING if answers_a_question else _ACKNOWLEDGING | _ASSENTING
    return all(word in allowed for word in words)
