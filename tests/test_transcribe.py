"""A recording without a transcript: transcribed offline (qa/ingest/transcribe.py), its speakers told
apart by their voices, and asked questions. The interviews are scripted and spoken by espeak-ng in
two voices (tests/spoken.py), so what was said, by whom and when is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from recorded import write_tone
from spoken import attributed, cues, speak, word_error_rate

from qa.answer.engine import Engine
from qa.archive import Listening, add
from qa.cli import main
from qa.documents import QAError
from qa.ingest import transcribe
from qa.ingest.transcribe import Pace, Segment
from qa.store import load

# --- without the models ------------------------------------------------------------------------


def test_speakers_are_the_voices_clustered_numbered_as_they_first_speak_and_short_ones_take_the_nearest():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    voice = lambda centre: transcribe._unit(centre + 0.05 * rng.standard_normal(16))  # noqa: E731
    segments = [Segment(float(n), n + 1.5, f"s{n}") for n in range(6)]
    voices = [voice(b), voice(a), None, voice(b), voice(a), voice(a)]  # the third too short to judge
    found = transcribe._with_speakers(segments, voices, None)
    assert [s.speaker for s in found] == [0, 1, 1, 0, 1, 1]  # b spoke first: Speaker 1
    assert [s.speaker for s in transcribe._with_speakers(segments, voices, 1)] == [0] * 6
    # told there are three: one voice is split in two, and no label holds both voices
    three = [s.speaker for s in transcribe._with_speakers(segments, voices, 3)]
    assert len(set(three)) == 3 and {three[0], three[3]}.isdisjoint({three[1], three[4], three[5]})


def test_the_transcript_is_webvtt_with_a_voice_tag_per_cue_and_the_names_given():
    segments = [Segment(0.0, 2.5, "What did it cost?", 0), Segment(3661.25, 3663.0, "Forty million.", 1)]
    text = transcribe.vtt(segments, {"Speaker 2": "Lena Holm"})
    assert text == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\n<v Speaker 1>What did it cost?\n\n"
        "01:01:01.250 --> 01:01:03.000\n<v Lena Holm>Forty million.\n"
    )


def test_progress_says_minutes_done_of_the_total_and_about_how_long_is_left(monkeypatch):
    clock = iter([100.0, 160.0])
    monkeypatch.setattr(transcribe.time, "monotonic", lambda: next(clock))
    pace = Pace()
    assert pace(600, 3600) == "10 of 60 min, about 5 min left"  # 60 s for 10 minutes: 50 s a minute
    monkeypatch.setattr(transcribe.time, "monotonic", lambda: 200.0)
    assert pace(3600, 3600) == "60 of 60 min"


def test_without_the_transcribe_extra_a_recording_alone_is_one_line_saying_how_to_install_it(
    tmp_path, keyword_embedder, monkeypatch, capsys
):
    monkeypatch.setattr(transcribe, "available", lambda: False)
    lonely = write_tone(tmp_path / "lonely.wav", 2)
    code = main(["add", str(lonely), "--index", str(tmp_path / "index"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        f"qa: {lonely}: a recording without a transcript is transcribed offline once installed: "
        "pip install -e '.[transcribe]' (or `make transcribe`)\n"
    )
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize("given", ["Speaker 1", "=Jane", "Speaker 1="])
def test_speaker_names_take_label_equals_name(tmp_path, keyword_embedder, given, capsys):
    code = main(["add", str(tmp_path), "--speaker-names", given, "--index", str(tmp_path / "index")])
    assert code == 2
    assert capsys.readouterr().err == (
        f'qa: --speaker-names takes LABEL=NAME, e.g. "Speaker 1=Jane Doe", not {given!r}\n'
    )


# --- Whisper base and the voice encoder, on spoken interviews --------------------------------------


@pytest.fixture(scope="module")
def spoken_archive(tmp_path_factory, minilm):
    if not transcribe.available():
        pytest.skip("the transcribe extra is not installed (make transcribe)")
    folder = tmp_path_factory.mktemp("spoken")
    said = speak(folder / "talk" / "harbour.wav")
    told, written = [], []
    real = transcribe.transcript

    def kept(*args, **kwargs):  # the real transcription, its WebVTT kept for the tests to read
        written.append(real(*args, **kwargs))
        return written[-1]

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(transcribe, "transcript", kept)
    index, outcomes = add(
        folder / "index",
        [folder / "talk" / "harbour.wav"],
        embedder=minilm,
        listening=Listening(progress=lambda path, done, total: told.append((path.name, done, total))),
    )
    monkeypatch.undo()
    index.close()
    return folder / "index", said, outcomes, told, written[0]


@pytest.mark.speech
@pytest.mark.model
def test_a_recording_alone_becomes_an_interview_of_two_speakers_with_its_questions(spoken_archive):
    index_dir, said, outcomes, told, vtt = spoken_archive
    assert [(o.status, o.doc_id) for o in outcomes] == [("added", "harbour")]
    total = said[-1].end + 0.6
    assert told[-1][0] == "harbour.wav" and told[-1][1] == pytest.approx(total, abs=0.1)
    index = load(index_dir)
    heard = cues(vtt)
    assert {voice for _, _, voice, _ in heard} == {"Speaker 1", "Speaker 2"}
    assert attributed(heard, said) >= 0.95
    # the interviewer's turns are the questions: every passage is the interviewee's answer to one
    interviewer = {text for _, _, voice, text in heard if voice == "Speaker 1"}
    assert {p.speaker for p in index.passages} == {"Speaker 2"}
    assert all(p.in_answer_to and set(p.in_answer_to.split("\n")) <= interviewer for p in index.passages)
    assert index.documents["harbour"]["recording"] == "harbour.wav"


@pytest.mark.speech
@pytest.mark.model
def test_a_paraphrased_question_s_first_card_quotes_the_answer_and_plays_inside_it(spoken_archive, minilm):
    index_dir, said, *_ = spoken_archive
    engine = Engine(load(index_dir), minilm)
    card = engine.ask("When will they begin digging?", 3).cards[0]
    assert "March" in card.quote.text
    answer = next(s for s in said if "March" in s.text)
    start, end = card.timecode
    assert answer.start - 0.5 <= start < end <= answer.end + 0.5
    assert engine.index.recording("harbour").name == "harbour.wav"


@pytest.mark.speech
def test_a_recording_of_no_speech_or_of_nothing_decodable_is_one_line(tmp_path, keyword_embedder, capsys):
    if not transcribe.available():
        pytest.skip("the transcribe extra is not installed (make transcribe)")
    tone = write_tone(tmp_path / "tone.wav", 4)
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3" + bytes(range(256)) * 8)
    code = main(["add", str(tone), str(broken), "--index", str(tmp_path / "index"), "--quiet"])
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    assert err[0] == f"qa: {tone}: no speech found in the recording"
    assert err[1].startswith(f"qa: {broken}: not a recording this can decode (")
    assert len(err) == 2 and not (tmp_path / "index").exists()
    with pytest.raises(QAError, match="--speakers must be at least 1"):
        transcribe.transcript(Path(tone), speakers=0)


@pytest.mark.speech
def test_a_long_recording_is_heard_window_by_window_with_nothing_lost_at_their_edges(
    spoken_archive, monkeypatch
):
    """Windows of 15 s over the 46 s interview (a three-hour recording takes 5-minute ones): a
    segment cut by a window's end is heard again at the next one's start, so the words and their
    times come out as from one pass."""
    _, said, _, _, whole = spoken_archive
    monkeypatch.setattr(transcribe, "WINDOW_S", 15)
    windowed = cues(transcribe.transcript(Path(spoken_archive[0].parent / "talk" / "harbour.wav")))
    starts = [start for start, _, _, _ in windowed]
    assert starts == sorted(starts) and windowed[-1][1] <= said[-1].end + 1.0
    assert word_error_rate(said, windowed) <= word_error_rate(said, cues(whole)) + 0.05
    assert attributed(windowed, said) >= 0.95


@pytest.mark.speech
@pytest.mark.model
def test_the_transcript_is_kept_and_a_corrected_copy_added_again_replaces_it(
    spoken_archive, tmp_path, capsys, monkeypatch
):
    """`qa transcript` gives what was heard as WebVTT with voice tags; the name fixed by hand and
    the copy added again with --replace (beside its recording), the interview has it."""
    index_dir, said, _, _, vtt = spoken_archive
    copy = tmp_path / "index"
    import shutil

    shutil.copytree(index_dir, copy)
    assert main(["transcript", "harbour", "--index", str(copy)]) == 0
    kept = capsys.readouterr().out
    assert [(voice, text) for _, _, voice, text in cues(kept)] == [(v, t) for _, _, v, t in cues(vtt)]
    fixed = tmp_path / "harbour.vtt"
    fixed.write_text(kept.replace("Speaker 2", "Lena Holm"), encoding="utf-8")
    shutil.copy(index_dir.parent / "talk" / "harbour.wav", tmp_path / "harbour.wav")
    monkeypatch.setattr(transcribe, "transcript", lambda *a, **k: pytest.fail("nothing to transcribe"))
    assert main(["add", str(fixed), "--replace", "--index", str(copy), "--quiet"]) == 0
    index = load(copy)
    assert {p.speaker for p in index.passages} == {"Lena Holm"}
    assert index.documents["harbour"]["recording"] == "harbour.wav"
    assert main(["transcript", "nowhere", "--index", str(copy)]) == 2
    assert capsys.readouterr().err.endswith("qa: no interview 'nowhere' in the index; there are: harbour\n")


@pytest.mark.speech
@pytest.mark.model
def test_a_transcribed_interview_s_speakers_are_named_in_place_keeping_its_recording_and_metadata(
    spoken_archive, tmp_path, monkeypatch
):
    import shutil

    from qa.archive import rename_speakers, transcript_of

    index_dir, *_ = spoken_archive
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    monkeypatch.setattr(transcribe, "transcript", lambda *a, **k: pytest.fail("nothing to transcribe"))
    before = load(copy)
    title = before.documents["harbour"]["title"]
    with pytest.raises(QAError, match="harbour has no speaker 'Speaker 3'"):
        rename_speakers(copy, "harbour", {"Speaker 3": "Nobody"})
    written, outcomes = rename_speakers(
        copy, "harbour", {"Speaker 1": "Ann Reporter", "Speaker 2": "Lena Holm"}
    )
    assert [(o.status, o.doc_id) for o in outcomes] == [("updated", "harbour")]
    after = load(copy)
    assert {p.speaker for p in after.passages} == {"Lena Holm"}
    assert [p.text for p in after.passages] == [p.text for p in before.passages]
    assert written.manifest["embedded"]["encoded"] < before.manifest["embedded"]["encoded"]
    assert after.documents["harbour"]["title"] == title
    assert after.recording("harbour").read_bytes() == before.recording("harbour").read_bytes()
    text, suffix = transcript_of(after, "harbour")
    assert suffix == ".vtt" and "<v Ann Reporter>" in text and "Speaker" not in text
    times = [cue[2:] for cue in before.documents["harbour"]["cues"]]
    assert [cue[2:] for cue in after.documents["harbour"]["cues"]] == times  # the same cues, renamed
