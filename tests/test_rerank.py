"""The reranking stage with a tiny cross-encoder that this test builds and saves itself."""

import json

import pytest

from qa.answer.engine import Engine
from qa.answer.rerank import CrossEncoderReranker, RerankingRetriever
from qa.cli import main
from qa.documents import QAError
from qa.store import build

WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "border",
    "summit",
    "music",
    "treaty",
    "was",
    "had",
]


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    """A one-layer BERT with a single relevance output and random (seeded) weights, saved to disk."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("cross-encoder")
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(7)
    config = BertConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def test_reranking_orders_the_base_hits_by_the_cross_encoders_scores(
    tiny_corpus, tmp_path, keyword_embedder, tiny_cross_encoder
):
    from sentence_transformers import CrossEncoder

    index = build(tiny_corpus, tmp_path / "index", keyword_embedder)
    base = Engine(index, keyword_embedder).retriever("dense")
    reranked = RerankingRetriever(base, CrossEncoderReranker(tiny_cross_encoder)).search("summit music", 2)
    texts = [h.passage.text for h in base.search("summit music", 2)]
    expected = CrossEncoder(str(tiny_cross_encoder), device="cpu").predict(
        [("summit music", t) for t in texts]
    )
    by_score = sorted(zip(expected, texts, strict=True), key=lambda pair: -pair[0])
    assert [h.passage.text for h in reranked] == [text for _, text in by_score]
    assert [h.score for h in reranked] == pytest.approx([float(score) for score, _ in by_score])
    assert [h.rank for h in reranked] == [1, 2]


def test_the_cli_takes_a_reranker_path(tiny_corpus, tmp_path, keyword_embedder, tiny_cross_encoder, capsys):
    folder = tmp_path / "index"
    main(["build", "--corpus", str(tiny_corpus), "--index", str(folder), "--quiet", "--no-multilingual"])
    capsys.readouterr()
    args = [
        "ask",
        "border",
        "-k",
        "1",
        "--json",
        "--index",
        str(folder),
        "--reranker",
        str(tiny_cross_encoder),
    ]
    assert main(args) == 0
    (hit,) = json.loads(capsys.readouterr().out)["hits"]
    reranker = CrossEncoderReranker(tiny_cross_encoder)
    texts = [p.text for p in Engine.open(folder).index.passages]
    best = max(zip(reranker.scores("border", texts), texts, strict=True))
    assert (hit["score"], hit["text"]) == (pytest.approx(best[0], abs=1e-6), best[1])


def test_a_folder_that_is_no_cross_encoder_is_a_clear_error(tmp_path):
    with pytest.raises(QAError, match="not a cross-encoder folder"):
        CrossEncoderReranker(tmp_path)
