"""Ingest figures: adding 100 interviews of ~5,000 words to an archive, and adding them again.

Run with `make bench-ingest` (or `python bench/ingest.py [--interviews N]`). The interviews are
generated here, from a seeded shuffle of the bundled interview's own sentences with a few words
swapped in each (real English, so tokenising and encoding cost what real text costs, and no two
texts alike, so nothing is served from the embedding cache), and never committed. Writes
bench/results/ingest.json and prints a summary.

Compared, in the same run and on the same machine:
- `qa add` of the folder into a new archive (MiniLM only, `--no-multilingual`), wall time;
- the model's raw `encode` of exactly the passages that add produced (the floor the issue names),
  and of every text the index embeds (passages, their sentences, the interviewers' questions); and,
  for reference, sentence-transformers' own `encode` of the same passages;
- `qa add` of the same folder again (every file a duplicate: nothing is embedded);
- `qa add --sentences in-context` of the folder into another new archive (each passage read once,
  its sentence vectors pooled from that reading).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "ingest.json"
sys.path.insert(0, str(REPO))

from sentence_transformers import SentenceTransformer  # noqa: E402

from qa.archive import add  # noqa: E402
from qa.embed.embedders import MiniLM  # noqa: E402
from qa.embed.vectors import Scoring, passage_sentences  # noqa: E402
from qa.ingest.chunking import sentences  # noqa: E402
from qa.ingest.corpus import BUNDLED_CORPUS, load_corpus  # noqa: E402
from qa.ingest.parsing import parse_turns, turn_text  # noqa: E402
from qa.store import load  # noqa: E402

IN_CONTEXT = Scoring(sentences="in-context")

WORDS_PER_INTERVIEW = 5000


def write_interviews(folder: Path, count: int, seed: int = 7) -> int:
    """`count` Q/A interviews of about WORDS_PER_INTERVIEW words; returns the total word count."""
    (document,) = load_corpus(BUNDLED_CORPUS)
    turns = parse_turns(document)
    pool = [
        document.text[s:e]
        for turn in turns
        if turn.role == "interviewee"
        for span in turn.spans
        for s, e in sentences(document.text, *span)
    ]
    questions = [turn_text(document, t) for t in turns if t.role == "interviewer"]
    vocabulary = sorted({w for sentence in pool for w in sentence.split() if w.isalpha()})
    rng = random.Random(seed)

    def fresh(sentence: str) -> str:
        """The sentence with three words swapped for others: new text, so nothing is cached."""
        words = sentence.split()
        for i in rng.sample(range(len(words)), min(3, len(words))):
            words[i] = rng.choice(vocabulary)
        return " ".join(words)

    total = 0
    for number in range(count):
        parts, words = [f"Synthetic interview {number}\n"], 0
        while words < WORDS_PER_INTERVIEW:
            question = fresh(rng.choice(questions))
            answer = " ".join(fresh(sentence) for sentence in rng.sample(pool, rng.randint(6, 12)))
            parts.append(f"Question: {question}\n\nGuest Speaker: {answer}\n")
            words += len(question.split()) + len(answer.split())
        (folder / f"interview-{number:03d}.txt").write_text("\n".join(parts), encoding="utf-8")
        total += words
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interviews", type=int, default=100)
    args = parser.parse_args()
    model = MiniLM()
    model.encode(["warm up the model"])
    with tempfile.TemporaryDirectory() as tmp:
        folder, index_dir = Path(tmp) / "interviews", Path(tmp) / "index"
        folder.mkdir()
        words = write_interviews(folder, args.interviews)

        started = time.perf_counter()
        index, outcomes = add(index_dir, [folder], embedder=model, multilingual=False)
        add_seconds = time.perf_counter() - started
        assert index is not None and all(o.status == "added" for o in outcomes)
        passages = [p.text for p in index.passages]
        questions = sorted({p.in_answer_to for p in index.passages if p.in_answer_to})
        all_sentences = [s for p in index.passages for s in passage_sentences(p)]

        started = time.perf_counter()
        model.encode(passages)
        raw_passages = time.perf_counter() - started
        reference = SentenceTransformer(str(model.model_folder()), device="cpu")
        reference.encode(["warm up the model"])
        started = time.perf_counter()
        reference.encode(passages, batch_size=model.batch_size, normalize_embeddings=True)
        raw_st_passages = time.perf_counter() - started
        started = time.perf_counter()
        model.encode(questions)
        raw_questions = time.perf_counter() - started
        started = time.perf_counter()
        model.encode(passages)
        model.encode(questions)
        model.encode(all_sentences)
        raw_all = time.perf_counter() - started

        started = time.perf_counter()
        again, outcomes_again = add(index_dir, [folder])
        readd_seconds = time.perf_counter() - started
        assert again is None and all(o.status == "skipped" for o in outcomes_again)
        final = load(index_dir)
        assert len(final.passages) == len(passages)

        started = time.perf_counter()
        in_context, _ = add(
            Path(tmp) / "in-context", [folder], embedder=model, multilingual=False, scoring=IN_CONTEXT
        )
        in_context_seconds = time.perf_counter() - started
        assert len(in_context.passages) == len(passages)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results = {
        "machine": f"{platform.machine()}, python {platform.python_version()}",
        "interviews": args.interviews,
        "words": words,
        "passages": len(passages),
        "texts_embedded": index.manifest["embedded"]["encoded"],
        "add_seconds": round(add_seconds, 2),
        "add_passages_per_second": round(len(passages) / add_seconds, 1),
        "raw_encode_passages_seconds": round(raw_passages, 2),
        "raw_encode_passages_per_second": round(len(passages) / raw_passages, 1),
        "ratio_add_to_raw_passages": round(raw_passages / add_seconds, 3),
        "raw_sentence_transformers_encode_passages_per_second": round(len(passages) / raw_st_passages, 1),
        "raw_encode_questions_seconds": round(raw_questions, 2),
        "raw_encode_all_texts_seconds": round(raw_all, 2),
        "ratio_add_to_raw_all_texts": round(raw_all / add_seconds, 3),
        "in_context_add_seconds": round(in_context_seconds, 2),
        "in_context_add_passages_per_second": round(len(passages) / in_context_seconds, 1),
        "in_context_ratio_add_to_raw_passages": round(raw_passages / in_context_seconds, 3),
        # what it embeds: the passages (their sentences pooled from the same reading) and the questions
        "in_context_ratio_add_to_raw_same_texts": round(
            (raw_passages + raw_questions) / in_context_seconds, 3
        ),
        "in_context_texts_embedded": in_context.manifest["embedded"]["encoded"],
        "readd_seconds": round(readd_seconds, 2),
        "readd_share_of_add": round(readd_seconds / add_seconds, 4),
        "peak_memory_mb": round(peak_mb),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
