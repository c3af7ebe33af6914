"""The `qa` command in-process with the keyword embedder (fast), and once as a real subprocess."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import snapshot

from qa.cli import main


def run(capsys, *args, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_reports_what_it_built_and_skips_an_up_to_date_index(
    tiny_corpus, tmp_path, keyword_embedder, capsys
):
    folder = tmp_path / "index"
    code, out, _ = run(capsys, "build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet")
    assert code == 0 and out.startswith(f"built index at {folder}: 2 passages from 1 interview(s) in ")
    code, out, _ = run(capsys, "build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet")
    assert (code, out) == (0, f"index at {folder} is up to date\n")
    (tiny_corpus / "tiny.txt").write_text("Question: New?\n\nGuest Speaker: Border.", encoding="utf-8")
    code, out, err = run(capsys, "build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet")
    assert code == 0 and "1 passages" in out and "changed since the index was built" in err


def test_build_with_sentences_in_context_rebuilds_and_says_why(
    tiny_corpus, tmp_path, keyword_embedder, capsys
):
    folder = tmp_path / "index"
    build = ("build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet", "--no-multilingual")
    run(capsys, *build)
    code, out, err = run(capsys, *build, "--sentences", "in-context")
    assert code == 0 and err == f"rebuilding index at {folder}: sentences read in-context, not alone\n"
    assert json.loads((folder / "manifest.json").read_text())["scoring"]["sentences"] == "in-context"
    assert run(capsys, *build, "--sentences", "in-context")[1] == f"index at {folder} is up to date\n"


def test_ask_json_prints_the_documented_object(tiny_corpus, tmp_path, keyword_embedder, capsys):
    folder = tmp_path / "index"
    main(["build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet"])
    capsys.readouterr()
    code, out, _ = run(
        capsys, "ask", "What was said about the summit?", "-k", "1", "--json", "--index", str(folder)
    )
    assert code == 0
    reply = json.loads(out)
    assert reply["question"] == "What was said about the summit?" and reply["abstained"] is False
    assert [h["passage_id"] for h in reply["hits"]] == ["tiny:3:0"]
    assert reply["hits"][0]["in_answer_to"] == "Tell me about the summit."


def test_ask_reads_one_question_per_line_from_stdin(
    tiny_corpus, tmp_path, keyword_embedder, capsys, monkeypatch
):
    folder = tmp_path / "index"
    main(["build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet"])
    capsys.readouterr()
    code, out, _ = run(
        capsys,
        "ask",
        "--json",
        "--index",
        str(folder),
        stdin="the border?\n\nbread?\n",
        monkeypatch=monkeypatch,
    )
    replies = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["question"], r["abstained"]) for r in replies] == [("the border?", False), ("bread?", True)]
    assert keyword_embedder.calls == 0  # the CLI made its own embedder once; this fixture's is unused
    # a line that is not UTF-8 (read as Python reads a pipe) gets one line; the rest are answered
    piped = (b"the border?\n\xff\xfe bread\nbread?\n").decode("utf-8", "surrogateescape")
    code, out, err = run(
        capsys, "ask", "--json", "--index", str(folder), stdin=piped, monkeypatch=monkeypatch
    )
    assert [json.loads(line)["question"] for line in out.splitlines()] == ["the border?", "bread?"]
    assert (code, err) == (
        1,
        "qa: the question is not valid text (invalid UTF-8 or an unpaired surrogate); retype it\n",
    )


def test_ask_prints_readable_text(tiny_corpus, tmp_path, keyword_embedder, capsys):
    folder = tmp_path / "index"
    main(["build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet"])
    capsys.readouterr()
    code, out, _ = run(capsys, "ask", "border", "-k", "1", "--mode", "dense", "--index", str(folder))
    assert code == 0
    # dense: passage border 1/2 + question 0.25, best sentence 1/sqrt2 at half weight, over 1.75:
    # 0.63, a strong match (0.2 + 0.24 or more). The quote is the sentence naming the border, between
    # » and «; the rest of the answer is its excerpt.
    assert out.splitlines() == [
        "Q: border",
        "[1] strong match  Guest Speaker  (tiny:1:0)",
        "    in answer to: What about the border?",
        "    »The border treaty was signed.« India and Pakistan were not part of it.",
        "    source: Tiny <b>talk</b>, Test Post, 2020-01",
        "",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "  "], "qa: the question is empty: type a question about the interview\n"),
        (["ask", "border", "-k", "0"], "qa: k must be at least 1, not 0\n"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(
    tiny_corpus, tmp_path, keyword_embedder, capsys, args, message
):
    folder = tmp_path / "index"
    main(["build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet"])
    capsys.readouterr()
    code, out, err = run(capsys, *args, "--index", str(folder))
    assert (code, out, err) == (2, "", message)


def test_a_missing_index_is_one_line_with_the_fix(tmp_path, capsys):
    code, out, err = run(capsys, "ask", "anything", "--index", str(tmp_path / "none"))
    assert (code, out) == (2, "")
    assert (
        err == f"qa: no index at {tmp_path / 'none'} (missing manifest.json); run `qa build` to create it\n"
    )


def test_eval_json_reports_the_documented_metrics(tiny_corpus, tmp_path, keyword_embedder, capsys):
    folder = tmp_path / "index"
    main(["build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet"])
    eval_set = tmp_path / "set.jsonl"
    eval_set.write_text(
        '{"id": "a", "question": "summit", "gold": ["the summit ended late"]}\n'
        '{"id": "b", "question": "pakistan", "relevant": ["tiny:1:0"]}\n'
    )
    capsys.readouterr()
    code, out, _ = run(capsys, "eval", "--eval-set", str(eval_set), "--json", "--index", str(folder))
    report = json.loads(out)
    assert code == 0 and report["n"] == 2
    assert report["metrics"] == {
        "recall@1": 1.0,
        "recall@5": 1.0,
        "recall@10": 1.0,
        "mrr@10": 1.0,
        "ndcg@10": 1.0,
    }
    assert [q["first_relevant_rank"] for q in report["per_question"]] == [1, 1]
    # the one question with a gold quote is also answered as a person asks it: its first card quotes
    # "The summit ended late." (cosine 1 with "summit", against 0.707 for "The summit had music.")
    # and its excerpt is the whole eight-word answer
    assert report["quotes"]["n"] == 1
    assert report["quotes"]["metrics"] == {
        "quote@1": 1.0,
        "quote@3": 1.0,
        "excerpt_words_median": 8.0,
        "excerpt_words_max": 8.0,
    }
    assert report["quotes"]["per_question"][0]["quote"] == "The summit ended late."
    # every question is answered, and its first passage and first card judged by their answers
    assert report["cards"]["n"] == 2 and report["cards"]["metrics"] == {"hit@1": 1.0, "card@1": 1.0}
    assert report["cards"]["lost"] == []
    code, out, _ = run(capsys, "eval", "--eval-set", str(eval_set), "--index", str(folder))
    lines = out.splitlines()
    assert "  quote@1               1.0000" in lines
    assert "  card@1                1.0000  the first card is" in lines


def test_the_installed_command_runs_as_a_subprocess():
    qa = str(Path(sys.executable).parent / "qa")
    done = subprocess.run([qa, "--version"], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "qa 0.3.0\n")
    done = subprocess.run([qa, "ask"], capture_output=True, text=True, input="", check=False)
    assert (done.returncode, done.stderr) == (
        2,
        "qa: no question given: pass one as an argument or one per line on stdin\n",
    )


def test_a_bad_transcript_fails_the_build_in_one_line_and_keeps_the_old_index(
    tiny_corpus, tmp_path, keyword_embedder, capsys
):
    folder = tmp_path / "index"
    main(["build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet"])
    before = snapshot(folder)
    (tiny_corpus / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    capsys.readouterr()
    code, out, err = run(capsys, "build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet")
    assert (code, out) == (2, "")
    assert (
        err.splitlines()[-1]
        == f"qa: {tiny_corpus / 'broken.txt'}: looks like a binary file, not a transcript"
    )
    assert snapshot(folder) == before


def test_ask_filters_by_interview_and_speaker_and_names_an_unknown_one(
    tiny_corpus, tmp_path, keyword_embedder, capsys
):
    folder = tmp_path / "index"
    (tiny_corpus / "panel.txt").write_text("Question: Summit?\n\nAnna Berg: The summit was long.\n")
    main(["build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet"])
    capsys.readouterr()
    code, out, _ = run(capsys, "ask", "summit", "--json", "--speaker", "Anna Berg", "--index", str(folder))
    assert code == 0 and [h["passage_id"] for h in json.loads(out)["hits"]] == ["panel:1:0"]
    code, out, _ = run(capsys, "ask", "summit", "--json", "--interview", "tiny", "--index", str(folder))
    assert code == 0 and {h["doc_id"] for h in json.loads(out)["hits"]} == {"tiny"}
    code, _, err = run(capsys, "ask", "summit", "--speaker", "Anna", "--index", str(folder))
    assert (code, err) == (2, "qa: no speaker 'Anna' in the index; there are: Anna Berg, Guest Speaker\n")


def test_an_archive_where_nothing_can_be_written_gets_one_line_not_a_traceback(tmp_path, capsys):
    # as root no folder is read-only; a "folder" that is a file refuses writes to anyone
    (tmp_path / "panel.txt").write_text("Question: And bread?\n\nAnna Berg: The bread was fresh.\n")
    (tmp_path / "shelf").write_text("not a folder")
    code, out, err = run(
        capsys, "add", str(tmp_path / "panel.txt"), "--index", str(tmp_path / "shelf" / "index")
    )
    assert (code, out) == (2, "")
    assert err == f"qa: {tmp_path / 'shelf'}: the archive cannot be written here (File exists)\n"


def test_a_device_that_is_not_there_is_one_line_before_anything_is_written(
    tiny_corpus, tmp_path, capsys, monkeypatch
):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    folder = tmp_path / "index"
    for device, message in [
        ("tpu", "qa: --device is auto, cpu or cuda, not 'tpu'\n"),
        ("cuda", f"qa: --device cuda: torch sees no CUDA device here (torch {torch.__version__})\n"),
    ]:
        monkeypatch.setenv("QA_DEVICE", "auto")  # recorded, so what main() sets is undone after
        code, out, err = run(
            capsys, "build", "--corpus", str(tiny_corpus), "--index", str(folder), "--device", device
        )
        assert (code, out, err) == (2, "", message)
        assert not folder.exists() and list(tmp_path.iterdir()) == [tiny_corpus]


def test_a_transcript_without_labels_says_so_on_its_cards_and_its_guessed_question(
    tmp_path, keyword_embedder, capsys
):
    talk = tmp_path / "talk.txt"
    talk.write_text(
        "So why did you leave the mine?\n\n"
        "The border treaty was signed and the mine closed, so we left for the coast that spring.\n\n"
        "Right?\n\n"
        "The summit had music.\n",
        encoding="utf-8",
    )
    index = tmp_path / "index"
    code, out, err = run(capsys, "add", str(talk), "--index", str(index), "--quiet")
    assert code == 0
    assert "no speaker labels: one turn per paragraph, 1 question guessed" in out
    code, out, _ = run(capsys, "ask", "border treaty", "--index", str(index), "-k", "1")
    assert code == 0
    lines = out.splitlines()
    # the guessed question is asked by nobody named, and its answer says so; "Right?" is no question
    assert "Unknown speaker (no speaker labels)" in lines[1]
    assert lines[2] == "    in answer to (guessed): So why did you leave the mine?"
