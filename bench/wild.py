"""Transcripts in the wild: the product on exports and captions nobody wrote for it.

Run with `make bench-wild` (about two minutes). The eleven files of ../shared/wild (Otter, Rev, Zoom,
Whisper with pyannote, JSON segments, timestamped lines, voice-tag VTT, YouTube's auto-captions, an
oral history) are added to one archive with `qa add`'s own code, MiniLM hybrid, the defaults; then:

- verbatim: in each labelled file, every interviewer question that ends in "?" and is followed by
  an answer, asked as it stands within its interview (the whisper and JSON files are one interview
  twice): how often the first card is from the answer that followed (card@1);
- interviewer speaking: of all those cards, the share whose speaker is who the file's README says
  asks (the host, "Q:"), a figure that needs no parser to define it;
- captions: our own paraphrased questions about the three caption files (eval/wild/captions.jsonl,
  a short gold quote each), asked within the file: the gold in the first card's excerpt (@1), in any
  of the first three (@3), and the first card's excerpt's words and seconds.

Writes bench/results/wild.json. Skips, saying so, when ../shared/wild is absent; nothing of it is
copied here.
"""

from __future__ import annotations

import collections
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
WILD = REPO.parent / "shared" / "wild"
RESULTS = REPO / "bench" / "results" / "wild.json"
QUESTIONS = REPO / "eval" / "wild" / "captions.jsonl"
# Who asks in each file, as its README says (not as the parser decides)
ASKS = {
    "whisper-pyannote-txt-hamilton-morris-nadelmann": {"Speaker 1"},
    "json-segments-hamilton-morris-nadelmann": {"Hamilton", "Hamilton Morris"},
    "oral-history-md-ethw-bradski": {"Q", "Peter Asaro and Selma Šabanović"},
    "vtt-voicetags-rubin-report-1Ezg_DqUSQs": {"Speaker 1"},
}


def main() -> int:
    if not WILD.is_dir():
        print(f"skipped: {WILD} not found")
        return 0
    from qa.answer.answers import MAX_QUESTION_CHARS
    from qa.answer.engine import Engine
    from qa.archive import add
    from qa.embed.embedders import MiniLM
    from qa.ingest.parsing import is_unlabelled, parse_turns, turn_text
    from qa.store import documents_of, load

    embedder = MiniLM()
    files = sorted(p for p in WILD.iterdir() if p.name != "README.md")
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "wild"
        _, outcomes = add(index_dir, files, embedder=embedder, multilingual=False)
        added = {o.path.name: o.status for o in outcomes}
        engine = Engine(load(index_dir), embedder)
        documents = {d.doc_id: d for d in documents_of(engine.index)}
        verbatim, cards_seen = {}, collections.Counter()
        for doc_id, document in sorted(documents.items()):
            if is_unlabelled(document):
                continue  # its questions are the parser's guesses: no measure of them
            turns = parse_turns(document)
            asked = [
                (turn_text(document, q), a)
                for q, a in zip(turns, turns[1:], strict=False)
                if q.role == "interviewer"
                and a.role == "interviewee"
                and a.asked_by == q.index
                and turn_text(document, q).rstrip().endswith("?")
                and len(turn_text(document, q)) <= MAX_QUESTION_CHARS  # what the page takes
            ]
            if not asked:
                continue
            right = 0
            for question, answer in asked:
                reply = engine.ask(question, doc_ids={doc_id})  # asked of this interview
                top = reply.cards[0] if reply.cards else None
                right += bool(
                    top and top.source.doc_id == doc_id and answer.start <= top.quote.start < answer.end
                )
                for card in reply.cards:
                    if card.source.doc_id in ASKS:
                        cards_seen["cards"] += 1
                        cards_seen["interviewer"] += card.speaker in ASKS[card.source.doc_id]
            verbatim[doc_id] = {
                "questions": len(asked),
                "card@1": right,
                "share": round(right / len(asked), 3),
            }
        captions = _captions(engine, documents)
    results = {
        "cpu": cpu_name(),
        "added": added,
        "verbatim": verbatim,
        "interviewer cards": {
            **cards_seen,
            "share": round(cards_seen["interviewer"] / max(cards_seen["cards"], 1), 4),
        },
        "captions": captions,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


def _captions(engine, documents) -> dict:
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    at1 = at3 = 0
    words, seconds = [], []
    for q in questions:
        doc_id = Path(q["file"]).stem
        reply = engine.ask(q["question"], doc_ids={doc_id})
        found = [any(_norm(g) in _norm(card.excerpt.text) for g in q["gold"]) for card in reply.cards[:3]]
        at1 += bool(found[:1] and found[0])
        at3 += any(found)
        if reply.cards:
            top = reply.cards[0]
            words.append(len(top.excerpt.text.split()))
            cues = [c for c in documents[doc_id].cues if c[0] < top.excerpt.end and c[1] > top.excerpt.start]
            seconds.append(round(max(c[3] for c in cues) - min(c[2] for c in cues), 1) if cues else 0.0)
    n = len(questions)
    return {
        "questions": n,
        "gold@1": round(at1 / n, 3),
        "gold@3": round(at3 / n, 3),
        "first excerpt words: median, max": [statistics.median(words), max(words)],
        "first excerpt seconds: median, max": [statistics.median(seconds), max(seconds)],
    }


def cpu_name() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    return next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), "unknown")


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


if __name__ == "__main__":
    raise SystemExit(main())
