"""The plain data types that flow through parse -> index -> retrieve -> present."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

INTERVIEWER = "interviewer"
INTERVIEWEE = "interviewee"
# Who speaks in a transcript with no speaker labels (and no interviewee named): nobody is given a
# name the document lacks, and a card says the transcript has no labels.
UNKNOWN_SPEAKER = "Unknown speaker"


class QAError(Exception):
    """A user-facing problem: printed as one line, never as a traceback."""


@dataclass(frozen=True)
class Document:
    """One interview: its source text and what is known about it."""

    doc_id: str
    path: str
    text: str
    title: str = ""
    outlet: str = ""
    url: str = ""
    published: str = ""
    interviewee: str = ""
    interviewer: str = ""
    format: str = "text"  # text, subtitles, docx, pdf or html: how `text` was read from the file
    # subtitles only: (start offset, end offset, start seconds, end seconds) of each cue in `text`
    cues: tuple[tuple[int, int, float, float], ...] = ()
    # the archive's copy of its recording, a file name in its recordings folder (qa/ingest/recordings.py)
    recording: str = ""


@dataclass(frozen=True)
class Turn:
    """One speaker's turn; `spans` are the (start, end) offsets of its paragraphs in the source.

    A turn's paragraphs need not be contiguous: pull quotes between them are left out.
    """

    doc_id: str
    index: int
    speaker: str
    role: str
    spans: tuple[tuple[int, int], ...]
    asked_by: int | None = None  # index of the interviewer turn an answer responds to

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


@dataclass(frozen=True)
class Passage:
    """A chunk of one answer turn; `text` is exactly `source[start:end]`."""

    passage_id: str
    doc_id: str
    turn_index: int
    chunk: int
    speaker: str
    in_answer_to: str
    text: str
    start: int
    end: int

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Passage:
        return cls(**data)


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    rank: int


@dataclass(frozen=True)
class Filter:
    """Which passages a search may return: those of these interviews said by these speakers (None:
    any). A filter naming nothing that exists matches no passage, never every passage. Each store
    translates it (the folder into rows, Milvus into an expression)."""

    doc_ids: frozenset[str] | None = None
    speakers: frozenset[str] | None = None

    @classmethod
    def of(cls, doc_ids=None, speakers=None) -> Filter | None:
        """The filter for these interviews and speakers; None when it lets every passage through."""
        if doc_ids is None and speakers is None:
            return None
        return cls(
            None if doc_ids is None else frozenset(doc_ids), None if speakers is None else frozenset(speakers)
        )

    def admits(self, passage: Passage) -> bool:
        return (self.doc_ids is None or passage.doc_id in self.doc_ids) and (
            self.speakers is None or passage.speaker in self.speakers
        )


@dataclass(frozen=True)
class Source:
    """A transcript as read: the text to index, metadata it carried, subtitle cue times
    (start offset, end offset, start seconds, end seconds) and notes for the person adding it."""

    text: str
    metadata: dict = field(default_factory=dict)
    cues: tuple[tuple[int, int, float, float], ...] = ()
    kind: str = "text"


def text_hash(text: str) -> str:
    """An interview's text as an archive recognises it: the same words, however spaced."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "surrogatepass")).hexdigest()
