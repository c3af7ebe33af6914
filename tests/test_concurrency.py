"""Many hands on one archive, for real: processes started at the same moment, readers and votes
during writes, a writer killed mid-swap. Every acknowledged interview and vote is there afterwards,
and no reader fails (qa/locks.py)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from qa.app.feedback import read
from qa.archive import add
from qa.store import build, load

TESTS = Path(__file__).resolve().parent
# `qa` with the keyword embedder registered, started at once but held at a gate until told to go
CHILD = f"""
import os, sys, time
sys.path.insert(0, {str(TESTS)!r})
from conftest import KeywordEmbedder
from qa.embed import embedders
embedders.EMBEDDERS[KeywordEmbedder.name] = KeywordEmbedder
embedders.DEFAULT_EMBEDDER = KeywordEmbedder.name
gate = sys.argv[1]
print("ready", flush=True)
while not os.path.exists(gate):
    time.sleep(0.001)
"""
QA = CHILD + "from qa.cli import main\nsys.exit(main(sys.argv[2:]))\n"
# load the index again and again until the stop file appears; print loads and failures
READER = (
    CHILD
    + """
from qa.documents import QAError
from qa.store import load
loads = failures = 0
while not os.path.exists(sys.argv[3]):
    try:
        load(__import__("pathlib").Path(sys.argv[2]))
    except QAError as error:
        failures += 1
        print(error, file=sys.stderr)
    loads += 1
print(loads, failures)
"""
)
# record votes until the stop file appears; print how many were acknowledged
VOTER = (
    CHILD
    + """
from pathlib import Path
from qa.app.feedback import record
index_dir, stop = Path(sys.argv[2]), sys.argv[3]
acknowledged = 0
while not os.path.exists(stop):
    record(index_dir, f"vote {acknowledged}", "tiny:1:0", "up", {"tiny:1:0"})
    acknowledged += 1
print(acknowledged)
"""
)


def interview(folder: Path, name: str, word: str) -> Path:
    path = folder / f"{name}.txt"
    path.write_text(f"Question: And the {word}?\n\nAnna Berg: The {word} was discussed at length.\n")
    return path


def started(script: str, gate: Path, *args) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(gate), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline() == "ready\n"
    return child


def test_writers_started_at_the_same_moment_all_land(tiny_corpus, tmp_path, keyword_embedder):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    add(index_dir, [interview(tmp_path, "doomed", "treaty")])
    gate = tmp_path / "go"
    writers = [
        started(QA, gate, "add", interview(tmp_path, "bread", "bread"), "--index", index_dir, "--quiet"),
        started(QA, gate, "add", interview(tmp_path, "music", "music"), "--index", index_dir, "--quiet"),
        started(QA, gate, "remove", "doomed", "--index", index_dir),
    ]
    gate.touch()
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    # both additions are there, and the removal stayed a removal
    assert sorted(load(index_dir).documents) == ["bread", "music", "tiny"]


def test_readers_and_votes_during_writes_never_fail_and_lose_nothing(tiny_corpus, tmp_path, keyword_embedder):
    from test_crash import corpus

    index_dir = tmp_path / "index"
    corpus(tiny_corpus, ("border", "treaty"), 60)  # 720 passages: a swap and a load take a while
    build(tiny_corpus, index_dir, keyword_embedder)
    gate, stop = tmp_path / "go", tmp_path / "stop"
    reader = started(READER, gate, index_dir, stop)
    voter = started(VOTER, gate, index_dir, stop)
    gate.touch()
    swaps = 0
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:  # swap new versions in as fast as they come
        add(index_dir, [interview(tmp_path, f"talk{swaps}", "summit")])
        swaps += 1
    stop.touch()
    loads, failures = map(int, reader.communicate(timeout=60)[0].split())
    acknowledged = int(voter.communicate(timeout=60)[0])
    assert swaps >= 5 and loads >= 20 and acknowledged >= 20
    assert failures == 0
    votes = read(index_dir)
    assert len(votes) == acknowledged
    assert [v["question"] for v in votes] == [f"vote {n}" for n in range(acknowledged)]


def test_a_writer_killed_between_the_renames_of_a_swap_loses_nothing_to_the_next_command(
    tiny_corpus, tmp_path, keyword_embedder
):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    add(index_dir, [interview(tmp_path, "bread", "bread"), interview(tmp_path, "music", "music")])
    # as a SIGKILL after the first rename leaves it: the old index aside, the new one never in place
    os.rename(index_dir, tmp_path / ".index.previous")
    (tmp_path / f".index.building-{2**22 + 1}").mkdir()  # and a staging folder whose process is gone
    index, _ = add(index_dir, [interview(tmp_path, "treaty", "treaty")])
    # the next `qa add` puts the old index back first: three interviews and the new one, not one
    assert sorted(index.documents) == ["bread", "music", "tiny", "treaty"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".index.")) == [
        ".index.gate.lock",
        ".index.swap.lock",
        ".index.write.lock",
    ]


def test_qa_build_after_an_interrupted_swap_keeps_the_archive(
    tiny_corpus, tmp_path, keyword_embedder, capsys
):
    from test_cli import run

    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    add(index_dir, [interview(tmp_path, "bread", "bread")])
    os.rename(index_dir, tmp_path / ".index.previous")
    code, out, err = run(capsys, "build", "--index", str(index_dir), "--no-multilingual")
    # the archive is back and current: not rebuilt from the bundled interview over it
    assert (code, out) == (0, f"index at {index_dir} is up to date\n")
    assert sorted(load(index_dir).documents) == ["bread", "tiny"]


def test_an_upload_from_the_page_during_a_cli_add_loses_neither(tiny_corpus, tmp_path, keyword_embedder):
    from qa.answer.engine import Engine, LiveEngine
    from qa.app.archive_tab import add_files

    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    live = LiveEngine(Engine(load(index_dir), keyword_embedder))
    (tmp_path / "upload").mkdir()
    uploaded = interview(tmp_path / "upload", "music", "music")
    gate = tmp_path / "go"
    cli = started(QA, gate, "add", interview(tmp_path, "bread", "bread"), "--index", index_dir, "--quiet")
    gate.touch()
    report = add_files(live, [str(uploaded)])  # the page's own path, as its Add button runs it
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err
    assert report.splitlines()[0] == "music.txt: added as music (1 passages)"
    assert sorted(load(index_dir).documents) == ["bread", "music", "tiny"]
    assert sorted(live.get().index.documents) == ["bread", "music", "tiny"]


def test_writers_on_milvus_started_at_the_same_moment_all_land(
    tiny_corpus, tmp_path, keyword_embedder, where, monkeypatch
):
    """As on the folder: on Milvus Lite the processes take turns at the file; on a server, writers
    on one machine queue on the state folder's lock, and each writes only its interview's rows."""
    monkeypatch.setenv("QA_MILVUS_NAME", where.name)  # the children's collections
    monkeypatch.setenv("QA_MILVUS_TOKEN", where.token)
    build(tiny_corpus, where, keyword_embedder).close()
    add(where, [interview(tmp_path, "doomed", "treaty")])[0].close()
    store = ["--store", "milvus", "--milvus-uri", where.uri]
    gate = tmp_path / "go"
    writers = [
        started(QA, gate, "add", interview(tmp_path, "bread", "bread"), *store, "--quiet"),
        started(QA, gate, "add", interview(tmp_path, "music", "music"), *store, "--quiet"),
        started(QA, gate, "remove", "doomed", *store),
    ]
    gate.touch()
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    index = load(where)
    assert sorted(index.documents) == ["bread", "music", "tiny"]
    assert sorted({p.doc_id for p in index.passages}) == ["bread", "music", "tiny"]
    index.close()


def test_an_upload_from_the_page_and_votes_on_milvus_land_with_a_cli_add(
    tiny_corpus, tmp_path, keyword_embedder, where, monkeypatch
):
    """The page (its engine over Milvus, its Add button, its votes) while another writer adds: on a
    server a CLI `qa add` runs at the same time; Milvus Lite serves the page's process alone, so
    there the second writer is a thread of the same process, as a second upload would be."""
    import threading

    from qa.answer.engine import Engine, LiveEngine
    from qa.app.archive_tab import add_files
    from qa.app.feedback import record

    monkeypatch.setenv("QA_MILVUS_NAME", where.name)
    monkeypatch.setenv("QA_MILVUS_TOKEN", where.token)
    live = LiveEngine(Engine(build(tiny_corpus, where, keyword_embedder), keyword_embedder))
    (tmp_path / "upload").mkdir()
    uploaded = interview(tmp_path / "upload", "music", "music")
    other = interview(tmp_path, "bread", "bread")
    if where.lite:
        writer = threading.Thread(target=lambda: add(where, [other])[0].close())
        writer.start()
    else:
        gate = tmp_path / "go"
        writer = started(QA, gate, "add", other, "--store", "milvus", "--milvus-uri", where.uri, "--quiet")
        gate.touch()
    report = add_files(live, [str(uploaded)])  # the page's own path, as its Add button runs it
    engine = live.get()
    for n in range(5):
        record(engine.index.folder, f"vote {n}", "tiny:1:0", "up", engine.passage_ids)
    if where.lite:
        writer.join(120)
    else:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    assert report.splitlines()[0] == "music.txt: added as music (1 passages)"
    assert sorted(live.get().index.documents) == ["bread", "music", "tiny"]
    assert [v["question"] for v in read(live.get().index.folder)] == [f"vote {n}" for n in range(5)]
    live.get().index.close()
