import json
import re
from pathlib import Path

import pytest

from qa.ingest.chunking import MAX_WORDS, pack, sentences
from qa.ingest.corpus import BUNDLED_CORPUS, load_corpus
from qa.store import corpus_passages


def spans_text(text, spans):
    return [text[s:e] for s, e in spans]


def test_sentences_split_on_ends_but_not_on_abbreviations_or_initials():
    text = 'Mr. Li met J. Smith. He said "yes." Then? Prices rose 2.5 percent in the U.S. Economy grew.'
    assert spans_text(text, sentences(text, 0, len(text))) == [
        "Mr. Li met J. Smith.",
        'He said "yes."',
        "Then?",
        "Prices rose 2.5 percent in the U.S. Economy grew.",
    ]


def test_short_text_is_one_chunk():
    text = "One two three. Four five."
    spans = sentences(text, 0, len(text))
    assert pack(text, spans, max_words=10) == [spans]


def test_long_text_splits_into_even_chunks_that_overlap_by_one_sentence():
    text = " ".join(f"Word{i} alpha beta gamma." for i in range(10))  # ten sentences of four words
    spans = sentences(text, 0, len(text))
    chunks = pack(text, spans, max_words=16)
    # 40 words need 3 chunks of at most 16: the target is 40/3 = 13.3 words, so four sentences
    # each, the last sentence of each chunk repeated as the first of the next.
    assert [[spans.index(s) for s in chunk] for chunk in chunks] == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]


def test_a_scrap_left_at_the_end_joins_the_chunk_before_it():
    text = (
        "One two three four five six. Seven eight nine ten eleven twelve. "
        "Red orange yellow green blue violet. End."
    )
    spans = sentences(text, 0, len(text))
    # 6+6+6+1 = 19 words over max 13: target 9.5, so [0,1] (12), then [1,2] (12) with overlap,
    # leaving [2,3]; its new part is one word, which fits beside [1,2] (12 + 1 <= 13).
    assert [[spans.index(s) for s in chunk] for chunk in pack(text, spans, max_words=13)] == [
        [0, 1],
        [1, 2, 3],
    ]


def test_bundled_passages_are_verbatim_bounded_and_uniquely_named():
    (document,) = load_corpus(BUNDLED_CORPUS)
    passages = corpus_passages([document])
    assert len(passages) == 38
    assert all(document.text[p.start : p.end] == p.text for p in passages)
    assert max(len(p.text.split()) for p in passages) <= MAX_WORDS
    assert len({p.passage_id for p in passages}) == len(passages)
    assert passages[0].passage_id == "sco-alimov-tass-2017:1:0"
    assert passages[0].in_answer_to.startswith("The SCO, which many initially viewed")
    assert {p.speaker for p in passages} == {"Rashid Alimov"}
    # no passage spans a pull quote or the intro
    assert not any('\n"' in p.text for p in passages)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No. If you ask me, no.", ["No.", "If you ask me, no."]),
        ("See No. 5 on the list. Then go.", ["See No. 5 on the list.", "Then go."]),
        (
            "The U.N. Security Council met. Cuba-U.S. Relations came up.",
            ["The U.N. Security Council met.", "Cuba-U.S. Relations came up."],
        ),
        ("Was it? No? Yes. Dr. Smith came.", ["Was it?", "No?", "Yes.", "Dr. Smith came."]),
        ("我们同意。他们不同意！为什么？好。", ["我们同意。", "他们不同意！", "为什么？", "好。"]),
    ],
)
def test_sentences_end_at_no_and_at_chinese_stops_but_not_inside_initials(text, expected):
    assert [text[s:e] for s, e in sentences(text, 0, len(text))] == expected


PRESS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "press_conferences_qevasion"


@pytest.mark.skipif(not PRESS.is_dir(), reason="../shared/benchmarks is not here")
def test_press_conference_answers_split_at_no_and_never_inside_initials():
    texts = [json.loads(line)["text"] for line in (PRESS / "corpus.jsonl").open()]
    said_no = inside = 0
    for text in texts:
        spans = sentences(text, 0, len(text))
        assert all(text[s:e] == text[s:e].strip() and s < e for s, e in spans)  # offsets into the text
        ends = {e for _, e in spans}
        said_no += sum(m.end() in ends for m in re.finditer(r"\bNo\.(?=\s+[A-Z])", text))
        inside += sum(m.end() in ends for m in re.finditer(r"(?:[A-Z]\.){2,}(?=\s+[A-Z][a-z])", text))
    # "No. If you..." 8 times in these answers, every one a sentence of its own; "U.N. Security
    # Council" and its like never cut
    assert (said_no, inside) == (8, 0)
