"""Votes from the page: recorded beside the index, kept across rebuilds, exported as an eval set."""

import json

import pytest
from test_cli import run

from qa.app.feedback import FEEDBACK_FILE, export, read, record
from qa.documents import QAError
from qa.store import build, load

IDS = {"tiny:1:0", "tiny:3:0"}


def test_a_vote_is_one_json_line_with_time_question_passage_and_vote(tmp_path):
    entry = record(tmp_path, "  What about\n the summit? ", "tiny:3:0", "up", IDS)
    line = (tmp_path / FEEDBACK_FILE).read_text(encoding="utf-8")
    assert json.loads(line) == entry and line.endswith("}\n") and line.count("\n") == 1
    assert (entry["question"], entry["passage_id"], entry["vote"]) == (
        "What about the summit?",
        "tiny:3:0",
        "up",
    )
    assert entry["time"].endswith("Z") and entry["time"][:2] == "20"
    assert read(tmp_path) == [entry]


@pytest.mark.parametrize(
    ("question", "passage_id", "vote", "message"),
    [
        ("Summit?", "tiny:3:0", "maybe", "a vote is 'up' or 'down', not 'maybe'"),
        ("Summit?", "tiny:9:0", "up", "no passage 'tiny:9:0' in the index at "),
        ("   ", "tiny:3:0", "up", "the question is empty"),
    ],
)
def test_a_vote_that_cannot_be_recorded_says_why_and_writes_nothing(
    tmp_path, question, passage_id, vote, message
):
    with pytest.raises(QAError, match=message):
        record(tmp_path, question, passage_id, vote, IDS)
    assert not (tmp_path / FEEDBACK_FILE).exists() and read(tmp_path) == []


def test_a_damaged_feedback_line_is_named(tmp_path):
    (tmp_path / FEEDBACK_FILE).write_text('{"question": "Q", "passage_id": "a", "vote": "up"}\nnot json\n')
    with pytest.raises(QAError, match=rf"{FEEDBACK_FILE}:2: not a feedback line"):
        read(tmp_path)


def test_export_keeps_each_question_s_passages_voted_up_the_latest_vote_winning():
    votes = [
        {"question": "Q1", "passage_id": "a", "vote": "up"},
        {"question": "Q1", "passage_id": "b", "vote": "up"},
        {"question": "Q2", "passage_id": "a", "vote": "down"},
        {"question": "Q1", "passage_id": "b", "vote": "down"},  # changed their mind
        {"question": "Q3", "passage_id": "c", "vote": "down"},
        {"question": "Q3", "passage_id": "c", "vote": "up"},
    ]
    assert export(votes) == (
        [
            {"id": "fb1", "question": "Q1", "relevant": ["a"]},
            {"id": "fb2", "question": "Q3", "relevant": ["c"]},
        ],
        1,  # Q2: nothing voted up
    )


def test_votes_survive_a_rebuild_and_stay_out_of_the_manifest(tiny_corpus, tmp_path, keyword_embedder):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    record(index_dir, "Summit?", "tiny:3:0", "up", IDS)
    before = read(index_dir)
    rebuilt = build(tiny_corpus, index_dir, keyword_embedder)  # loads: the checksums still hold
    assert FEEDBACK_FILE not in rebuilt.manifest["files"]
    assert read(index_dir) == before


def test_feedback_export_is_an_eval_set_that_qa_eval_scores(tiny_corpus, tmp_path, keyword_embedder, capsys):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    record(index_dir, "Tell me about the summit music", "tiny:3:0", "up", IDS)
    record(index_dir, "Tell me about the border", "tiny:1:0", "up", IDS)
    record(index_dir, "Tell me about the border", "tiny:3:0", "down", IDS)
    record(index_dir, "Bread?", "tiny:1:0", "down", IDS)
    (index_dir / FEEDBACK_FILE).open("a").write(
        json.dumps({"question": "Old", "passage_id": "gone:1:0", "vote": "up", "time": "x"}) + "\n"
    )
    out_file = tmp_path / "feedback_set.jsonl"
    code, out, err = run(capsys, "feedback", "export", "--index", str(index_dir), "-o", str(out_file))
    assert (code, out) == (0, "")
    assert err == (
        "exported 2 question(s) from 5 vote(s); 1 question(s) with no vote up left out; "
        "1 vote(s) on passages no longer in the index skipped\n"
    )
    assert [json.loads(line) for line in out_file.read_text().splitlines()] == [
        {"id": "fb1", "question": "Tell me about the summit music", "relevant": ["tiny:3:0"]},
        {"id": "fb2", "question": "Tell me about the border", "relevant": ["tiny:1:0"]},
    ]
    code, out, _ = run(
        capsys, "eval", "--eval-set", str(out_file), "--mode", "dense", "--json", "--index", str(index_dir)
    )
    report = json.loads(out)
    assert code == 0 and report["metrics"]["recall@1"] == 1.0 and report["n"] == 2
    assert load(index_dir).manifest["passage_count"] == 2
