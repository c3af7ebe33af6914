"""BEIR collections as throwaway indexes, mode comparisons and TREC run files (keyword embedder)."""

import json

import pytest

from qa.answer.engine import Engine
from qa.cli import main
from qa.documents import QAError
from qa.evaluate.beir import collection_index, collection_run, load_collection, select_queries
from qa.evaluate.evaluation import read_trec_run


@pytest.fixture
def beir(tmp_path):
    folder = tmp_path / "beir"
    folder.mkdir()
    corpus = [
        {"id": "d1", "title": "Border talks", "text": "The border treaty was signed.", "meeting": "m1"},
        {"id": "d2", "text": "The summit had music.", "meeting": "m1"},
        {"id": "d3", "text": "Another summit, in another meeting.", "meeting": "m2"},
        {"id": "d4", "text": "", "meeting": "m2"},
    ]
    queries = [
        {"id": "q1", "text": "border treaty", "meeting": "m1", "kind": "a"},
        {"id": "q2", "text": "summit", "meeting": "m2", "kind": "b"},
        {"id": "q3", "text": "unjudged", "meeting": "m1", "kind": "a"},
    ]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in queries))
    (folder / "qrels.tsv").write_text("query_id\tdoc_id\trelevance\nq1\td1\t1\nq2\td3\t1\nq2\td2\t0\n")
    return folder


def test_a_collection_loads_with_titles_fields_and_only_positive_qrels(beir):
    collection = load_collection(beir)
    assert [d.doc_id for d in collection.documents] == ["d1", "d2", "d3"]  # the empty d4 is skipped
    assert collection.documents[0].text == "Border talks\n\nThe border treaty was signed."
    assert collection.fields["d3"] == {"meeting": "m2"}
    assert collection.qrels == {"q1": {"d1": 1}, "q2": {"d3": 1}}
    assert select_queries(collection, "kind=a").qrels == {"q1": {"d1": 1}}
    with pytest.raises(QAError, match="no query of .* has kind=z"):
        select_queries(collection, "kind=z")


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(QAError, match="not a BEIR folder \\(missing corpus.jsonl\\)"):
        load_collection(tmp_path)


def test_runs_are_per_document_and_a_scope_keeps_queries_in_their_meeting(beir, tmp_path, keyword_embedder):
    collection = load_collection(beir)
    index = collection_index(collection, tmp_path / "index", keyword_embedder)
    assert [p.passage_id for p in index.passages] == ["d1:0:0", "d2:0:0", "d3:0:0"]
    engine = Engine(index, keyword_embedder)
    run = collection_run(engine, "bm25", collection)
    assert list(run["q1"]) == ["d1"] and list(run["q2"]) == ["d2", "d3"]  # one "summit" each; d2 is shorter
    scoped = collection_run(engine, "bm25", collection, scope="meeting")
    assert list(scoped["q2"]) == ["d3"]  # d2 is in meeting m1, the query in m2
    again = collection_index(collection, tmp_path / "index", keyword_embedder)
    assert again.manifest["created_at"] == index.manifest["created_at"]  # current: reused, not rebuilt


def test_eval_compares_modes_on_a_collection_and_writes_trec_runs(beir, tmp_path, keyword_embedder, capsys):
    runs = tmp_path / "runs"
    code = main(["eval", "--beir", str(beir), "--compare", "bm25", "dense", "--run-dir", str(runs), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["baseline"] == "bm25" and result["n"] == 2
    assert set(result["metrics"]) == {"bm25", "dense"} and set(result["p_values"]) == {"dense"}
    assert sorted(p.name for p in runs.iterdir()) == ["bm25.trec", "dense.trec"]
    lines = (runs / "bm25.trec").read_text().splitlines()
    assert [line.split()[:4] + line.split()[5:] for line in lines] == [
        ["q1", "Q0", "d1", "1", "bm25"],
        ["q2", "Q0", "d2", "1", "bm25"],
        ["q2", "Q0", "d3", "2", "bm25"],
    ]
    assert read_trec_run(runs / "bm25.trec").keys() == {"q1", "q2"}


def test_filter_and_where_belong_to_beir(capsys):
    assert main(["eval", "--filter", "meeting"]) == 2
    assert capsys.readouterr().err == "qa: --filter and --where apply to --beir collections\n"
