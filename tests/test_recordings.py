"""An interview's recording: it goes in with its transcript, is the archive's own copy, is carried
through every later change, and is served only as the archive's own (qa/ingest/recordings.py, the page's
recording route in qa/app/ui.py)."""

import os
import shutil
from dataclasses import replace
from urllib.parse import quote

import pytest
from conftest import snapshot
from recorded import write_interview
from test_cli import run

from qa.answer.engine import Engine
from qa.archive import add, remove
from qa.documents import QAError
from qa.ingest import recordings
from qa.store import load

PANEL = "Question: And the summit?\n\nAnna Berg: The summit was about bread.\n"


@pytest.fixture
def recorded_archive(tmp_path, keyword_embedder, capsys):
    """An archive that took bridge.srt with the bridge.wav beside it (`qa add FOLDER`)."""
    srt, wav = write_interview(tmp_path / "incoming")
    index_dir = tmp_path / "index"
    code, out, _ = run(
        capsys, "add", str(srt.parent), "--index", str(index_dir), "--quiet", "--no-multilingual"
    )
    assert code == 0
    assert out.splitlines()[0] == f"added {srt} as bridge (2 passages; with its recording bridge.wav)"
    return index_dir, wav


def test_a_recording_beside_its_transcript_goes_in_as_the_archive_s_own_copy(recorded_archive, capsys):
    index_dir, wav = recorded_archive
    index = load(index_dir)
    kept = index_dir / "recordings" / "bridge.wav"
    assert index.documents["bridge"]["recording"] == "bridge.wav"
    assert index.recording("bridge") == kept
    assert index.manifest["recordings"] == {"bridge.wav": {"bytes": wav.stat().st_size}}
    assert kept.read_bytes() == wav.read_bytes()
    assert os.stat(kept).st_ino != os.stat(wav).st_ino  # a copy: an edit of the original never reaches it
    original = wav.read_bytes()
    wav.write_bytes(b"RIFF")
    assert kept.read_bytes() == original
    code, out, _ = run(capsys, "list", "--index", str(index_dir))
    assert code == 0
    assert out.splitlines()[1] == (
        "bridge         2  subtitles  bridge  [recording: bridge.wav]  (no outlet, published, interviewer)"
    )


def test_the_recording_is_carried_through_every_later_change_and_goes_with_its_interview(
    recorded_archive, tmp_path, keyword_embedder
):
    index_dir, wav = recorded_archive
    heard = (index_dir / "recordings" / "bridge.wav").read_bytes()
    panel = tmp_path / "later" / "panel.txt"
    panel.parent.mkdir()
    panel.write_text(PANEL, encoding="utf-8")
    add(index_dir, [panel])  # the folder is written anew and swapped in: the recording comes along
    assert load(index_dir).recording("bridge").read_bytes() == heard
    again = tmp_path / "again" / "bridge.srt"  # the transcript again, read with its interviewer's name
    again.parent.mkdir()
    shutil.copy(wav.with_suffix(".srt"), again)
    _, outcomes = add(index_dir, [again], interviewer="Reporter", replace_existing=True)
    assert [(o.status, o.note) for o in outcomes] == [("updated", "")]
    assert load(index_dir).recording("bridge").read_bytes() == heard
    index = remove(index_dir, ["bridge"])
    assert (
        index.recording("bridge") is None
        and "recordings" not in index.manifest
        or not index.manifest["recordings"]
    )
    assert not (index_dir / "recordings").exists()


def test_a_recording_named_with_its_transcript_pairs_by_name_and_one_alone_is_transcribed(
    tmp_path, keyword_embedder, capsys
):
    srt, wav = write_interview(tmp_path / "text")
    elsewhere = tmp_path / "audio" / "bridge.wav"
    elsewhere.parent.mkdir()
    wav.rename(elsewhere)
    lonely = tmp_path / "audio" / "lonely.wav"
    shutil.copy(elsewhere, lonely)
    index_dir = tmp_path / "index"
    code, out, err = run(
        capsys, "add", str(srt), str(elsewhere), str(lonely), "--index", str(index_dir), "--quiet"
    )
    assert code == 1
    assert out.splitlines()[0] == f"added {srt} as bridge (2 passages; with its recording bridge.wav)"
    # a recording alone is transcribed (tests/test_transcribe.py): a tone holds no speech
    assert err.splitlines() == [f"qa: {lonely}: no speech found in the recording"]
    assert load(index_dir).recording("bridge").read_bytes() == elsewhere.read_bytes()


def test_a_file_that_is_not_the_recording_it_claims_is_one_line_and_changes_nothing(
    recorded_archive, tmp_path, capsys
):
    index_dir, _ = recorded_archive
    before = snapshot(index_dir)
    srt, wav = write_interview(tmp_path / "odd", name="budget")
    wav.unlink()
    srt.write_text(srt.read_text(encoding="utf-8").replace("bridge", "tunnel"), encoding="utf-8")
    fake = srt.with_suffix(".mp3")
    fake.write_text("not sound at all", encoding="utf-8")
    code, out, err = run(capsys, "add", str(srt), "--index", str(index_dir), "--quiet")
    assert code == 1 and out == f"index at {index_dir} unchanged\n"
    assert err.splitlines() == [f"qa: {fake}: not .mp3 audio or video (its first bytes say otherwise)"]
    assert snapshot(index_dir) == before
    with pytest.raises(QAError, match=r"^\S+missing\.wav: the recording is empty$"):
        (tmp_path / "missing.wav").write_bytes(b"")
        recordings.check(tmp_path / "missing.wav")


def test_a_damaged_recording_is_one_line_when_the_archive_opens(recorded_archive):
    index_dir, _ = recorded_archive
    kept = index_dir / "recordings" / "bridge.wav"
    kept.write_bytes(kept.read_bytes()[:1000])
    with pytest.raises(QAError, match=r"bridge\.wav: recording missing or not the size the manifest says"):
        load(index_dir)


def test_only_a_bare_name_of_a_file_in_the_archive_s_own_folder_is_a_recording(recorded_archive, tmp_path):
    index_dir, wav = recorded_archive
    index = load(index_dir)
    outside = tmp_path / "outside.wav"
    shutil.copy(index.recording("bridge"), outside)
    (index_dir / "recordings" / "linked.wav").symlink_to(outside)
    for name in (
        "../manifest.json",
        "/etc/passwd",
        str(outside),
        "sub/bridge.wav",
        ".bridge.wav",
        "linked.wav",
        "manifest.json",
        "",
        "bridge.WAV/..",
    ):
        doctored = replace(index, documents={"bridge": {**index.documents["bridge"], "recording": name}})
        assert doctored.recording("bridge") is None, name
    assert index.recording("no-such-interview") is None
    # a recordings folder that is a link elsewhere is not the archive's own either
    other = tmp_path / "elsewhere"
    shutil.move(index_dir / "recordings", other)
    (index_dir / "recordings").symlink_to(other)
    assert index.recording("bridge") is None


def test_an_archive_in_milvus_keeps_its_recordings_in_its_state_folder(where, tmp_path, keyword_embedder):
    srt, wav = write_interview(tmp_path / "incoming")
    panel = tmp_path / "incoming" / "panel.txt"
    panel.write_text(PANEL, encoding="utf-8")
    add(where, [srt, panel], multilingual=False)
    index = load(where)
    try:
        assert index.documents["bridge"]["recording"] == "bridge.wav"
        assert index.recording("bridge") == where.state_dir / "recordings" / "bridge.wav"
        assert index.recording("bridge").read_bytes() == wav.read_bytes()
    finally:
        index.close()
    remove(where, ["bridge"])
    assert not (where.state_dir / "recordings" / "bridge.wav").exists()


def test_a_timed_card_with_a_recording_has_a_play_control_for_its_quote_and_no_other_card_does(
    recorded_archive,
):
    import json
    import re

    from qa.app.render import play_html

    index_dir, _ = recorded_archive
    engine = Engine.open(index_dir)
    card = engine.ask("When does construction begin?", 1, "bm25").cards[0]
    assert (card.timecode, card.source.recording) == ((11.0, 17.0), "bridge.wav")
    kept = engine.index.recording("bridge")

    def control(card, recording=kept) -> dict | None:
        found = re.search(r'<span class="qa-play-at">(.*)</span>', play_html(card, recording))
        return found and json.loads(found.group(1).replace("&quot;", '"'))

    # played through Gradio's file route, from the archive's own file (serve allows only its folder)
    own = quote(str((index_dir / "recordings" / "bridge.wav").resolve()))
    assert control(card) == {"src": f"gradio_api/file={own}", "start": 11.0, "end": 17.0, "video": False}
    assert control(card, kept.with_suffix(".mp4"))["video"] is True  # played in a video element
    assert play_html(replace(card, timecode=None), kept) == ""  # no times: the quote cannot be found in it
    assert play_html(card, None) == ""  # no recording
