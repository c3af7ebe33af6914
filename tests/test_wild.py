"""Transcripts as people really have them (../shared/wild: third-party exports of transcription and
meeting tools, YouTube's captions, an oral history), read from there and never copied here. Each test
states what the file itself shows: its labels and how often they speak, its own record of itself,
its times. Skips where the folder is absent."""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest

from qa.documents import INTERVIEWEE, INTERVIEWER
from qa.ingest.chunking import passages_for
from qa.ingest.corpus import read_document
from qa.ingest.parsing import parse_turns, turn_text

WILD = Path(__file__).resolve().parents[2] / "shared" / "wild"
pytestmark = pytest.mark.skipif(not WILD.is_dir(), reason="../shared/wild is not here")
# What no quote may hold: a tool's markup, a header's time, a voice tag, a page's footer
LEFTOVERS = re.compile(r"\*\*|<v[ .]|</?c>|\b\d{1,2}:\d\d\b|Retrieved from|Transcribed by|^#", re.M)


def read(name: str):
    document = read_document(WILD / name)
    turns = parse_turns(document)
    return document, turns, passages_for(document, turns)


def speakers(turns) -> dict[tuple[str, str], int]:
    return dict(collections.Counter((t.speaker, t.role) for t in turns))


def test_every_wild_file_is_read_and_no_quote_holds_markup_times_or_footers():
    names = sorted(p.name for p in WILD.iterdir() if p.name != "README.md")
    assert len(names) == 11
    for name in names:
        document, turns, passages = read(name)
        assert passages, name
        assert not [p.passage_id for p in passages if LEFTOVERS.search(p.text)], name
        assert all(p.text == document.text[p.start : p.end] for p in passages)


def test_whisper_pyannote_headers_give_the_host_s_questions_and_the_guest_s_answers():
    document, turns, _ = read("whisper-pyannote-txt-hamilton-morris-nadelmann.txt")
    # the README's count: 45 turns each; Speaker 1, the host, asks
    assert speakers(turns) == {("Speaker 1", INTERVIEWER): 45, ("Speaker 2", INTERVIEWEE): 45}
    first = next(t for t in turns if t.role == INTERVIEWEE)
    assert turn_text(document, first).startswith("I crossed paths with Leonard really in the mid-90s")
    # times run with the text: hh:mm:ss after the first hour, and every sentence has one
    assert document.format == "timed" and len(document.cues) == 1001
    assert all(a[2] <= b[2] for a, b in zip(document.cues, document.cues[1:], strict=False))
    assert document.cues[-1][2] > 3600


def test_json_segments_name_both_people_and_agree_with_the_same_interview_as_text():
    document, turns, _ = read("json-segments-hamilton-morris-nadelmann.json")
    assert (document.title, document.interviewer, document.interviewee) == (
        "Hamilton Morris interviews Ethan Nadelmann",
        "Hamilton Morris",
        "Ethan Nadelmann",
    )
    assert speakers(turns) == {("Hamilton Morris", INTERVIEWER): 45, ("Ethan Nadelmann", INTERVIEWEE): 45}
    text_document, text_turns, _ = read("whisper-pyannote-txt-hamilton-morris-nadelmann.txt")
    assert [t.role for t in turns] == [t.role for t in text_turns]
    for ours, theirs in zip(turns[1:4], text_turns[1:4], strict=True):
        assert turn_text(document, ours).split()[:6] == turn_text(text_document, theirs).split()[:6]


def test_the_oral_history_s_record_names_everyone_and_its_headline_not_its_contents_is_the_title():
    document, turns, passages = read("oral-history-md-ethw-bradski.md")
    assert (document.title, document.interviewee, document.interviewer, document.published) == (
        "Gary Bradski: An Interview Conducted by Peter Asaro with Selma Šabanović",
        "Gary Bradski",
        "Peter Asaro and Selma Šabanović",
        "2011-06-09",
    )
    # 29 "Q:" turns; 28 "Bradski:" turns, of which "Yeah, thank you." and one more only acknowledge
    assert speakers(turns) == {
        ("Peter Asaro and Selma Šabanović", INTERVIEWER): 29,
        ("Gary Bradski", INTERVIEWEE): 26,
    }
    first = next(t for t in turns if t.role == INTERVIEWEE)
    assert turn_text(document, first).startswith("I am Gary Bradski. I was born in Arizona")
    # a section heading is structure: no passage runs across one
    headings = [m.start() for m in re.finditer(r"^###", document.text, re.M)]
    assert len(headings) == 5
    assert not [p.passage_id for p in passages if any(p.start < h < p.end for h in headings)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "otter-txt-ladybug-security.md",
            # the README's counts, "Tailor" being Taylor's one turn, dropped as "Thank you" only
            {"Emma": 58, "Kelly": 3, "Sidney": 19, "Unknown Speaker": 79},
        ),
        (
            "otter-md-bold-ladybug-systems-design.md",
            {"Ali": 46, "Emma": 46, "Kelly": 38, "Unknown Speaker": 15},
        ),
        ("rev-txt-peplink-incontrol2.md", {"Speaker 1": 9, "New Speaker": 21}),
        (
            "zoom-vtt-student-engagement-GMT20240124.vtt",
            {"Conor Healy": 12, "Srijani Ghosh": 7, "Shreeharsh Kelkar": 3, "Dr. Melissa Ko": 2},
        ),
    ],
)
def test_tool_exports_keep_every_speaker_and_their_times(name, expected):
    document, turns, _ = read(name)
    assert dict(collections.Counter(t.speaker for t in turns)) == expected
    assert document.cues and not document.title.endswith(("0:00", ":"))


def test_otter_headers_are_not_the_title_and_its_footer_is_not_speech():
    document, turns, _ = read("otter-txt-ladybug-security.md")
    assert document.title == "otter-txt-ladybug-security"  # the file's name: it has no headline
    said = " ".join(turn_text(document, t) for t in turns)
    assert "otter.ai" not in said
    assert turn_text(document, turns[0]).startswith("It's more important than ever to build secure")
    start, end, t0, t1 = next(c for c in document.cues if document.text[c[0] : c[1]].startswith("Welcome to"))
    assert (t0, t1) == (34.0, 35.0)  # "Kelly  0:34", the next turn at 0:35


def test_numeric_voice_tags_are_speakers_not_words():
    document, turns, passages = read("vtt-voicetags-rubin-report-1Ezg_DqUSQs.vtt")
    # the clip opens with a teaser, before any question: speech all the same
    assert speakers(turns) == {("Speaker 0", INTERVIEWEE): 8, ("Speaker 1", INTERVIEWER): 8}
    assert not any(p.text.startswith(("0:", "1:")) for p in passages)
    assert document.text.startswith("Speaker 0: One, they fund 12 times as much")


def test_youtube_rolling_captions_keep_each_word_once_with_its_own_time():
    document, turns, passages = read("youtube-autogen-vtt-iqsquared-16HOImXIQYk.vtt")
    assert document.text.startswith(
        "my point of view where it's worth is that I don't think terrorism is very important and I think"
    )
    assert document.text.count("my point of view") == 1
    assert len(document.text.split()) == len(document.cues) == 218  # a time for every word
    word = next(c for c in document.cues if document.text[c[0] : c[1]] == "terrorism")
    assert word[2:] == (4.19, 4.609)  # "<00:00:04.190><c> terrorism</c><00:00:04.609>"
    # no sentences: passages of at most 100 words cut in windows of 20
    assert [len(p.text.split()) for p in passages] == [80, 80, 98]  # 11 windows, one shared by neighbours


def test_long_auto_captions_become_short_passages():
    document, _, passages = read("youtube-autogen-vtt-jubilee-ask-me-anything-0Th2KYpGs1M.vtt")
    assert document.text.count("a big thank you to house party") == 1
    assert "[Music]" not in document.text
    assert max(len(p.text.split()) for p in passages) <= 100
    assert len(passages) == 18


def test_timestamped_lines_without_speakers_keep_each_line_s_time():
    document, turns, _ = read("timestamped-nospeaker-txt-talkpython-019.txt")
    assert "00:00:0" not in document.text
    assert document.text.startswith("You know, some of the things we do in life are tedious and boring.")
    start, end, t0, t1 = document.cues[3]
    assert (document.text[start:end], t0, t1) == (
        "This is Talk Python, and we'll be automating the boring stuff with Al Swigert.",
        9.0,
        13.0,
    )
