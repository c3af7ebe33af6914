import json
import math
import shutil

import numpy as np
import pytest
from conftest import InContext, snapshot

from qa.answer.retrievers import DenseRetriever
from qa.documents import Filter, QAError
from qa.embed import embedders
from qa.embed.vectors import Scoring
from qa.store import CORE_FILES, MANIFEST, build, load, staleness

BM25_FILES = [
    f"bm25/{name}" for name in ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")
]
BM25_FILES += ["bm25/params.index.json", "bm25/vocab.index.json"]
CACHE_FILES = ["cache/test-keywords-1-v2.keys", "cache/test-keywords-1-v2.npy"]
DATA_FILES = sorted([*CORE_FILES, *BM25_FILES, *CACHE_FILES])


def test_round_trip_writes_exactly_the_index_files_and_loads_identical_hits(
    tiny_corpus, tmp_path, keyword_embedder
):
    index_dir = tmp_path / "index"
    built = build(tiny_corpus, index_dir, keyword_embedder)
    assert sorted(snapshot(index_dir)) == sorted([*DATA_FILES, MANIFEST])
    # no staging left behind; beside the index only its lock files (qa/locks.py)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".index.gate.lock",
        ".index.swap.lock",
        ".index.write.lock",
        "corpus",
        "index",
    ]
    loaded = load(index_dir)
    assert loaded.passages == built.passages
    manifest = loaded.manifest
    assert manifest["passage_count"] == 2
    assert manifest["embedder"] == {
        "name": "test-keywords",
        "version": "1",
        "dims": 8,
        "precision": "float32",
    }
    assert manifest["corpus"]["documents"] == 1
    assert loaded.documents["tiny"]["title"] == "Tiny <b>talk</b>"
    before = DenseRetriever(built, keyword_embedder).search("border treaty", 2)
    after = DenseRetriever(loaded, keyword_embedder).search("border treaty", 2)
    assert before == after


@pytest.mark.parametrize("name", [*DATA_FILES, MANIFEST])
def test_a_damaged_file_is_named_with_the_fix(tiny_corpus, tmp_path, keyword_embedder, name):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    path = index_dir / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(QAError, match="qa build") as error:
        load(index_dir)
    message = str(error.value)  # the damaged file itself is named, and the fix
    assert message.startswith(f"{index_dir / name}: ") and message.endswith("run `qa build` to rebuild it")


def test_a_missing_index_says_how_to_create_one(tmp_path):
    with pytest.raises(QAError, match=r"no index at .*run `qa build`"):
        load(tmp_path / "nowhere")


def test_a_failed_build_leaves_the_last_good_index_untouched(tiny_corpus, tmp_path, keyword_embedder):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    before = snapshot(index_dir)

    class Broken(type(keyword_embedder)):
        def encode(self, texts, *, progress=False):
            raise RuntimeError("out of memory halfway")

    (tiny_corpus / "more.txt").write_text("Question: New?\n\nJo: Words never embedded before.\n")
    with pytest.raises(RuntimeError):
        build(tiny_corpus, index_dir, Broken())
    assert snapshot(index_dir) == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["corpus", "index"]


def test_an_interrupted_swap_is_repaired_on_load(tiny_corpus, tmp_path, keyword_embedder):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    index_dir.rename(tmp_path / ".index.previous")  # as if killed between the two renames
    assert load(index_dir).manifest["passage_count"] == 2


def test_staleness_notices_a_changed_corpus_and_a_changed_embedder(tiny_corpus, tmp_path, keyword_embedder):
    index = build(tiny_corpus, tmp_path / "index", keyword_embedder)
    assert staleness(index, keyword_embedder) is None
    assert (
        staleness(index, keyword_embedder, tmp_path)
        == f"built from the corpus {tiny_corpus.resolve()}, not {tmp_path}"
    )

    class Newer(type(keyword_embedder)):
        version = "2"

    assert staleness(index, Newer()) == "built with embedder test-keywords 1, not test-keywords 2"
    (tiny_corpus / "tiny.txt").write_text("Question: New?\n\nGuest Speaker: Yes.", encoding="utf-8")
    assert (
        staleness(index, keyword_embedder)
        == f"the corpus at {tiny_corpus.resolve()} changed since the index was built"
    )


def test_manifest_records_checksums_that_match_the_files(tiny_corpus, tmp_path, keyword_embedder):
    index_dir = tmp_path / "index"
    build(tiny_corpus, index_dir, keyword_embedder)
    manifest = json.loads((index_dir / MANIFEST).read_text())
    assert sorted(manifest["files"]) == DATA_FILES
    assert manifest["files"]["passages.jsonl"]["bytes"] == (index_dir / "passages.jsonl").stat().st_size
    shutil.copy(index_dir / "passages.jsonl", tmp_path / "copy")
    assert math.isclose(manifest["scoring"]["question_weight"], 0.25)


def test_a_rebuild_embeds_only_text_it_has_not_embedded_before(tiny_corpus, tmp_path, keyword_embedder):
    index_dir = tmp_path / "index"
    first = build(tiny_corpus, index_dir, keyword_embedder)
    # 2 passages, their 4 sentences and 2 interviewer questions
    assert first.manifest["embedded"] == {"encoded": 8, "reused": 0}
    (tiny_corpus / "more.txt").write_text("Question: Bread?\n\nJo: Bread and music.\n")
    calls = keyword_embedder.calls
    second = build(tiny_corpus, index_dir, keyword_embedder)
    # new: the passage "Bread and music." and the question "Bread?"; reused: the 8 old texts and the
    # new passage again as its own only sentence
    assert second.manifest["embedded"] == {"encoded": 2, "reused": 9}
    assert keyword_embedder.calls - calls == 2  # passages and questions in one call each (sentences cached)
    fresh = build(tiny_corpus, tmp_path / "fresh", keyword_embedder)
    assert np.array_equal(second.sentence_vectors, fresh.sentence_vectors)
    # the same passage vectors too: the cache keeps each passage's own vector, never the one with
    # its interviewer's question added (which a rebuild would then add again)
    rows = np.arange(len(fresh.passages))
    assert np.array_equal(
        second.faiss_index.reconstruct_batch(rows), fresh.faiss_index.reconstruct_batch(rows)
    )
    assert DenseRetriever(second, keyword_embedder).search("bread music", 3) == DenseRetriever(
        fresh, keyword_embedder
    ).search("bread music", 3)


IN_CONTEXT = Scoring(sentences="in-context")


def test_sentences_read_in_context_embed_each_passage_once(tiny_corpus, tmp_path):
    model = InContext()
    index_dir = tmp_path / "index"
    first = build(tiny_corpus, index_dir, model, scoring=IN_CONTEXT)
    assert first.scoring == load(index_dir).scoring == IN_CONTEXT
    # 2 passages (their sentences pooled from the same reading) and 2 interviewer questions
    assert first.manifest["embedded"] == {"encoded": 4, "reused": 0}
    assert model.read == [p.text for p in first.passages]
    alone, passage = model.encode(["The border treaty was signed.", first.passages[0].text])
    assert np.allclose(first.sentence_vectors[0], embedders.normalise([alone + passage])[0])
    (tiny_corpus / "more.txt").write_text("Question: Bread?\n\nJo: Bread and music.\n")
    model.read = []
    second = build(tiny_corpus, index_dir, model, scoring=IN_CONTEXT)
    assert model.read == ["Bread and music."]  # the old passages and their sentences come from the cache
    # new: that passage and the question "Bread?"; reused: the 2 old passages and 2 old questions
    assert second.manifest["embedded"] == {"encoded": 2, "reused": 4}
    fresh = build(tiny_corpus, tmp_path / "fresh", InContext(), scoring=IN_CONTEXT)
    assert np.array_equal(second.sentence_vectors, fresh.sentence_vectors)
    assert np.array_equal(second.sentence_starts, fresh.sentence_starts)


def test_by_default_each_sentence_is_encoded_alone_even_by_a_model_that_could_pool_it(tiny_corpus, tmp_path):
    model = InContext()
    index = build(tiny_corpus, tmp_path / "index", model)
    assert model.read == [] and index.scoring.sentences == "alone"
    assert np.allclose(index.sentence_vectors[0], model.encode(["The border treaty was signed."])[0])


def test_past_the_flat_limit_the_index_is_an_hnsw_graph_that_finds_the_same_passages(
    tiny_corpus, tmp_path, keyword_embedder, monkeypatch
):
    import faiss

    from qa.store import folder

    (tiny_corpus / "more.txt").write_text("Question: Bread?\n\nJo: Bread and music.\n")
    flat = build(tiny_corpus, tmp_path / "flat", keyword_embedder)
    monkeypatch.setattr(folder, "FLAT_UP_TO", 1)
    graph = build(tiny_corpus, tmp_path / "graph", keyword_embedder)
    assert isinstance(flat.faiss_index, faiss.IndexFlatIP) and isinstance(
        graph.faiss_index, faiss.IndexHNSWFlat
    )
    for question in ("border treaty", "bread music", "summit"):
        expected = DenseRetriever(flat, keyword_embedder).search(question, 3)
        assert DenseRetriever(graph, keyword_embedder).search(question, 3) == expected
    allowed = Filter.of({"more"})
    assert [
        h.passage.doc_id for h in DenseRetriever(graph, keyword_embedder).search("music", 3, allowed)
    ] == ["more"]
