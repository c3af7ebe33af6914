"""The archive in Milvus (qa/store/milvus.py), against embedded Milvus Lite, and against a Milvus server
too when QA_TEST_MILVUS_URI names one: the same answers as the index folder, incremental writes,
refusals that say how to fix them, and concurrent writers that lose nothing."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.answer.engine import Engine
from qa.archive import add, listing, remove
from qa.cli import main
from qa.documents import QAError
from qa.store.milvus import Location, connected, location

pytest.importorskip("pymilvus")
from qa.store import build, load


@pytest.fixture
def held(where):
    """`where`, its connection held for the whole test: each step reuses it rather than starting
    Milvus Lite again (about 0.6 s a time). Tests that start other processes do without."""
    with connected(where):
        yield where


def store_args(target) -> list[str]:
    if isinstance(target, Location):
        return ["--store", "milvus", "--milvus-uri", target.uri]
    return ["--index", str(target)]


def store_env(target) -> dict:
    env = dict(os.environ)
    if isinstance(target, Location):
        env["QA_MILVUS_NAME"] = target.name
        env["QA_MILVUS_TOKEN"] = target.token
    return env


def interview(folder, name: str, word: str, answers: int = 1):
    path = folder / f"{name}.txt"
    # each answer its own mix of keywords, so that no two score alike
    turns = "".join(
        f"Question: And the {word}, {n}?\n\n"
        f"Anna Berg: The {word} was discussed{' at the summit' * n}, {n}.\n\n"
        for n in range(answers)
    )
    path.write_text(turns)
    return path


def ranked(hits) -> list[tuple[float, str]]:
    """Hits by score, relative to the best (Milvus's BM25 has its own scale, (k1 + 1) times
    Lucene's, which min-max fusion takes away); passages of equal score by id, as their order
    among themselves is either store's own, and which of several scoring 0 make the top k too."""
    top = hits[0].score if hits else 1.0
    found = [(-round(hit.score / top, 4), hit.passage.passage_id) for hit in hits]
    return [(score, pid) for score, pid in found if score < 0]  # which of those scoring 0 is a tie


def answers_of(engine: Engine, question: str, **filters):
    """What a reader sees of an answer: whether it abstained, the hits (see `ranked`) and the
    first card, whole (the next cards come from hits of equal score, whose order is the store's)."""
    answer = engine.ask(question, 3, **filters)
    first = [
        (c.quote.text, c.excerpt.text, c.label, c.speaker, c.in_answer_to, c.source) for c in answer.cards[:1]
    ]
    return answer.abstained, ranked(answer.hits), first


def assert_alike(mine, theirs) -> None:
    """Two answers' hits in the same order with the same scores (relative to the best: Milvus's
    BM25 is k1 + 1 times Lucene's), the rest equal."""
    (abstained, hits, rest), (abstained_too, hits_too, rest_too) = mine, theirs
    assert (abstained, [pid for _, pid in hits], rest) == (
        abstained_too,
        [pid for _, pid in hits_too],
        rest_too,
    )
    assert np.allclose([s for s, _ in hits], [s for s, _ in hits_too], atol=1e-4)


@pytest.mark.parametrize("sentences", ["fetched", "grouped in Milvus"])
def test_an_archive_in_milvus_answers_as_the_folder_does(
    tiny_corpus, tmp_path, held, keyword_embedder, sentences, monkeypatch
):
    """Both ways a passage's best sentence is found (qa/store/milvus_index.py, sentence_scores)."""
    where = held
    if sentences != "fetched":
        monkeypatch.setattr("qa.store.milvus_index.FETCH_SENTENCES_UP_TO", 0)
    folder = build(tiny_corpus, tmp_path / "index", keyword_embedder)
    add(folder.folder, [interview(tmp_path, "bread", "bread", 3)])
    milvus = build(tiny_corpus, where, keyword_embedder)
    add(where, [interview(tmp_path, "bread", "bread", 3)])[0].close()
    milvus.close()
    milvus = load(where)
    try:
        assert milvus.manifest["embedder"]["name"] == "test-keywords" and milvus.manifest["store"] == "milvus"
        assert milvus.passages == load(folder.folder).passages
        assert listing(milvus) == listing(load(folder.folder))
        on_folder, on_milvus = Engine(load(folder.folder), keyword_embedder), Engine(milvus, keyword_embedder)
        for question in ("What about the border treaty?", "Was there music at the summit?", "bread"):
            for mode in ("dense", "bm25", "hybrid"):
                folder_hits = on_folder.retriever(mode).search(question, 5)
                milvus_hits = on_milvus.retriever(mode).search(question, 5)
                assert_alike((0, ranked(milvus_hits), 0), (0, ranked(folder_hits), 0))
            assert_alike(answers_of(on_milvus, question), answers_of(on_folder, question))
        # the filters, as Milvus expressions
        for filters in (
            {"doc_ids": {"bread"}},
            {"speakers": {"Guest Speaker"}},
            {"doc_ids": {"tiny"}, "speakers": {"Anna Berg"}},
        ):
            question = "the summit or the bread"
            assert_alike(
                answers_of(on_milvus, question, **filters), answers_of(on_folder, question, **filters)
            )
        assert on_milvus.ask("the bread", 3, doc_ids={"tiny"}).hits == ()  # no bread in tiny
    finally:
        milvus.close()


def load_closed(where):
    """The archive as it is now, its connection let go (a Milvus Lite file serves one process)."""
    index = load(where)
    index.close()
    return index


def written_by_doc(where) -> dict[str, set[str]]:
    index = load(where)
    try:
        rows = index.client.query(
            index.collections["passages"], filter="", output_fields=["doc_id", "written"], limit=1000
        )
    finally:
        index.close()
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["doc_id"], set()).add(row["written"])
    return found


def test_add_and_remove_write_only_that_interviews_rows(tiny_corpus, tmp_path, held, keyword_embedder):
    where = held
    build(tiny_corpus, where, keyword_embedder).close()
    before = written_by_doc(where)
    index, outcomes = add(where, [interview(tmp_path, "bread", "bread", 4)])
    assert [o.status for o in outcomes] == ["added"] and sorted(index.documents) == ["bread", "tiny"]
    assert index.manifest["passage_count"] == 6
    assert load_closed(where).interviews["bread"].passages == 4
    after = written_by_doc(where)
    assert after["tiny"] == before["tiny"]  # untouched: the same write's rows
    # replaced by a shorter version: none of the four old rows is left behind
    index, outcomes = add(where, [interview(tmp_path, "bread", "bread", 2)], replace_existing=True)
    assert [o.status for o in outcomes] == ["updated"] and index.manifest["passage_count"] == 4
    assert load_closed(where).interviews["bread"].passages == 2
    assert written_by_doc(where)["tiny"] == before["tiny"] and len(written_by_doc(where)["bread"]) == 1
    # the same text again is a duplicate, and a name already there needs --replace
    assert add(where, [interview(tmp_path, "bread", "bread", 2)])[1][0].status == "skipped"
    index = remove(where, ["bread"])
    assert sorted(index.documents) == ["tiny"] and index.manifest["passage_count"] == 2
    assert all(p.doc_id == "tiny" for p in load_closed(where).passages)
    assert set(written_by_doc(where)) == {"tiny"}
    with pytest.raises(QAError, match="would leave the index at .* empty"):
        remove(where, ["tiny"])
    with pytest.raises(QAError, match="no interview 'nope'"):
        remove(where, ["nope"])


def test_a_failed_build_leaves_the_last_archive_whole(
    tiny_corpus, tmp_path, held, keyword_embedder, monkeypatch
):
    where = held
    build(tiny_corpus, where, keyword_embedder).close()
    (tiny_corpus / "second.txt").write_text("Question: And the bread?\n\nAnna Berg: The bread was fresh.\n")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("qa.store.milvus_write._insert", broken)
    with pytest.raises(OSError):
        build(tiny_corpus, where, keyword_embedder)
    monkeypatch.undo()
    index = load(where)
    assert sorted(index.documents) == ["tiny"]  # the last good archive answers
    index.close()
    with connected(where) as client:  # the failed build's collections are there until the next build
        # two generations of passages, sentences, documents and terms, and the meta collection
        assert len([n for n in client.list_collections() if n.startswith(where.name + "_")]) == 9
    from conftest import KeywordEmbedder

    build(tiny_corpus, where, KeywordEmbedder()).close()
    with connected(where) as client:
        assert len([n for n in client.list_collections() if n.startswith(where.name + "_")]) == 5


def test_a_mismatched_collection_is_refused_with_the_fix(tiny_corpus, where, keyword_embedder, capsys):
    build(tiny_corpus, where, keyword_embedder).close()
    with connected(where) as client:
        manifest = json.loads(client.get(f"{where.name}_meta", ids=["manifest"])[0]["value"])
        manifest["embedder"]["dims"] = 384
        client.upsert(
            f"{where.name}_meta", [{"key": "manifest", "value": json.dumps(manifest), "unused": [0.0, 0.0]}]
        )
    env = {"QA_MILVUS_NAME": where.name, "QA_MILVUS_TOKEN": where.token}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert main(["ask", "the border", *store_args(where)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "holds 8-dimension vectors, the manifest says 384" in error
    assert f"run `qa build --store milvus --milvus-uri {where.uri}` to rebuild it" in error


def test_an_archive_built_with_another_embedder_is_stale(tiny_corpus, held, keyword_embedder, capsys):
    where = held
    build(tiny_corpus, where, keyword_embedder).close()
    with connected(where) as client:
        manifest = json.loads(client.get(f"{where.name}_meta", ids=["manifest"])[0]["value"])
        manifest["embedder"]["version"] = "0"
        client.upsert(
            f"{where.name}_meta", [{"key": "manifest", "value": json.dumps(manifest), "unused": [0.0, 0.0]}]
        )
    with pytest.raises(QAError, match="stale .built with embedder test-keywords 0, not test-keywords 1"):
        Engine.open(where)


def test_the_store_options_are_checked_before_anything_runs(tmp_path, capsys):
    cases = [
        (
            ["list", "--store", "milvus", "--milvus-uri", str(tmp_path / "x.txt")],
            "a Milvus Lite file ends in .db",
        ),
        (["list", "--store", "milvus", "--milvus-uri", str(tmp_path / "no" / "x.db")], "no folder"),
        (["list", "--milvus-uri", str(tmp_path / "x.db")], "--milvus-uri needs --store milvus"),
        (["list", "--store", "milvus", "--milvus-uri", str(tmp_path / "x.db")], "no archive in Milvus at"),
        (
            ["list", "--store", "milvus", "--milvus-uri", str(tmp_path / "damaged.db")],
            "Milvus Lite cannot open it",
        ),
    ]
    (tmp_path / "damaged.db").write_bytes(b"not Milvus Lite" * 100)
    for argv, message in cases:
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("QA_MILVUS_URI", raising=False)
            assert main(argv) == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1
    assert not (tmp_path / "x.db").exists()  # asking of a file that is not there does not make one


TESTS = os.path.dirname(os.path.abspath(__file__))
QA = f"""
import sys
sys.path.insert(0, {TESTS!r})
from conftest import KeywordEmbedder
from qa.embed import embedders
embedders.EMBEDDERS[KeywordEmbedder.name] = KeywordEmbedder
embedders.DEFAULT_EMBEDDER = KeywordEmbedder.name
from qa.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_milvus_lite_serves_one_process_at_a_time_and_says_so(tiny_corpus, tmp_path, keyword_embedder):
    where = location(str(tmp_path / "archive.db"))
    index = build(tiny_corpus, where, keyword_embedder)  # held open, as the app holds it
    env = {**os.environ, "QA_MILVUS_WAIT": "1"}
    waited = subprocess.run(
        [sys.executable, "-c", QA, "list", *store_args(where)], capture_output=True, text=True, env=env
    )
    assert waited.returncode == 2
    assert (
        "another process has this Milvus Lite file open" in waited.stderr and waited.stderr.count("\n") == 1
    )
    index.close()  # let go: the next process gets its turn
    listed = subprocess.run(
        [sys.executable, "-c", QA, "list", *store_args(where)], capture_output=True, text=True, env=env
    )
    assert listed.returncode == 0 and "tiny" in listed.stdout


@pytest.mark.model
def test_the_bundled_interview_on_milvus_answers_as_the_folder_with_the_real_models(engine, minilm, tmp_path):
    """MiniLM and e5 for real: every eval question, in English, Russian and Chinese, gets the same
    hits, scores and cards from Milvus Lite as from the session's index folder."""
    from qa.evaluate.evaluation import load_eval_set
    from qa.ingest.corpus import BUNDLED_CORPUS

    eval_dir = Path(__file__).resolve().parent.parent / "eval"
    with connected(location(str(tmp_path / "bundled.db"))) as _:
        where = location(str(tmp_path / "bundled.db"))
        on_milvus = Engine(build(BUNDLED_CORPUS, where, minilm, multilingual=True), minilm)
        differ = []
        for name in (
            "interview_questions.jsonl",
            "interview_questions_ru.jsonl",
            "interview_questions_zh.jsonl",
        ):
            for question in load_eval_set(eval_dir / name):
                mine, theirs = on_milvus.ask(question.question), engine.ask(question.question)
                scores = [[h.score for h in answer.hits] for answer in (mine, theirs)]
                if (
                    mine.route != theirs.route
                    or [c.quote for c in mine.cards] != [c.quote for c in theirs.cards]
                    or [h.passage.passage_id for h in mine.hits]
                    != [h.passage.passage_id for h in theirs.hits]
                    or not np.allclose(*scores, atol=1e-4)
                ):
                    differ.append(question.question)
        on_milvus.index.close()
    assert differ == []


HARBOUR = """\
Question: What happened to the ferries during the winter storms this year?

Lena Holm: We closed the harbour for six weeks.

Question: Where did you go to school?

Lena Holm: The ferries stopped in the winter storms this year, so the buses ran instead.
"""


def test_a_question_asked_again_and_each_word_s_weight_are_the_folder_s_after_adds_and_removes(
    tiny_corpus, tmp_path, held, keyword_embedder
):
    """The reader keeps no catalogue: the passages answering an interviewer's question asked again
    are found in Milvus by the question's rarest stems (or its very words, for a short one), and a
    word's idf comes from the terms collection that each write keeps counted."""
    (tiny_corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    folder, where = tmp_path / "index", held
    build(tiny_corpus, folder, keyword_embedder)
    build(tiny_corpus, where, keyword_embedder).close()
    for target in (folder, where):
        written, _ = add(target, [interview(tmp_path, "bread", "bread", 3)])
        written.close()
        remove(target, ["tiny"]).close()
        written, _ = add(target, [interview(tmp_path, "bread", "harbour", 2)], replace_existing=True)
        written.close()
    on_folder, on_milvus = Engine(load(folder), keyword_embedder), Engine(load(where), keyword_embedder)
    try:
        for question in (
            "What happened to the ferries during the winter storms this year?",  # asked, word for word
            "what happened to ferries in the winter storms",  # most of its content words
            "Where did you go to school?",  # a short one: its very words
            "Where did you go?",  # too short to match
            "And the harbour, 1?",
        ):
            found = [p.passage_id for p in on_folder.asked_before(question)]
            assert [p.passage_id for p in on_milvus.asked_before(question)] == found
            stems = on_folder.index.lexical.content_stems([question, "The harbour was closed in storms."])
            weights = on_folder.index.lexical.held(question, stems)[1]
            assert np.allclose(on_milvus.index.lexical.held(question, stems)[1], weights, atol=1e-5)
            if found:  # its answer is the first card (the rest tie here, in each store's order)
                first = on_folder.ask(question, 2).cards[0]
                theirs = on_milvus.ask(question, 2).cards[0]
                assert (
                    replace(theirs, hits=()) == replace(first, hits=()) and first.passage_ids[0] == found[0]
                )
        assert [p.passage_id for p in on_milvus.asked_before(HARBOUR.splitlines()[0][10:])] == ["harbour:1:0"]
        assert on_milvus.index.interviews == on_folder.index.interviews
        assert on_milvus.index.speakers == on_folder.index.speakers == ("Anna Berg", "Lena Holm")
    finally:
        on_milvus.index.close()


def test_opening_a_milvus_archive_reads_its_interviews_records_not_its_passages(
    tiny_corpus, held, keyword_embedder, monkeypatch
):
    import qa.store.milvus_index as reader

    build(tiny_corpus, held, keyword_embedder).close()
    read = []
    real = reader._all
    monkeypatch.setattr(
        reader, "_all", lambda client, name, *rest: read.append(name) or real(client, name, *rest)
    )
    index = load(held)
    try:
        assert [name.rsplit("_", 1)[1] for name in read] == ["documents"]
        assert index.interviews["tiny"].passages == 2 and index.manifest["passage_count"] == 2
        assert not hasattr(index, "rows") and "passages" not in vars(index)
    finally:
        index.close()
