"""Multi-interview archives of real speech, in the house styles transcripts really come in.

Run with `make bench-archives` (about two minutes). Three archives, each of four press conferences
(Trump, Obama, Bush, Biden), are assembled from ../shared/benchmarks/press_conferences_qevasion: real
journalists' questions and the president's real answers. Each interview is written in one house
style: a newspaper page (outlet name as the interviewer's label, byline, dateline, captions, rights
footer), a surname-in-capitals transcript whose interviewer asks in statements (no "?") and gets
"Uh-huh." back, the press office's "Q." / "THE PRESIDENT.", and a broadcaster's Word file (heading,
byline, names alone in bold, player text), and the "<OUTLET> reporter:" label under a "Name: the
WNN interview" headline, byline and date, which no list of label styles names. The archives are
added with `qa add`'s own code and asked through the engine, MiniLM hybrid, the product's defaults:

- roles: share of indexed passages that are the president's words (interviewers' words must be none);
- the journalist's question verbatim, a sub-question of it, and the sub-question naming the president
  ("What does Obama say on this: ..."): card@1 (the first card quotes the answer given to it), the
  share of first cards from the named person, and the share of all cards that are an interviewer's;
- near-topic questions the archives do not cover: the share that abstains.

Writes bench/results/archives.json. Skips, saying so, when the benchmark folder is absent. The data
is read from ../shared at run time and written only to a temporary folder.
"""

from __future__ import annotations

import collections
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SOURCE = REPO.parent / "shared" / "benchmarks" / "press_conferences_qevasion"
RESULTS = REPO / "bench" / "results" / "archives.json"
PRESIDENTS = ("Donald J. Trump", "Barack Obama", "George W. Bush", "Joseph R. Biden")
STYLES = ("newspaper", "statements", "press office", "word", "reporter")
ARCHIVES = 3
# Near the archives' topics (US politics, trade, wars, the economy) but asked of none of them.
NEAR_TOPIC = (
    "What did the President say about doping in American college sports?",
    "How does Obama describe his favourite basketball team's season?",
    "What did Trump say about the price of eggs in Iowa supermarkets?",
    "What did Bush say about the design of the new twenty dollar bill?",
    "How does Biden feel about daylight saving time?",
    "What did the President say about the Super Bowl halftime show?",
    "What is the President's view on school lunch menus in Ohio?",
    "What did the President say about the Mars rover landing?",
    "Did the President comment on the Olympic figure skating judging scandal?",
    "What did the President say about the Kentucky Derby winner?",
    "What does Obama say about his daughters' homework?",
    "What did Trump say about the rules of professional golf?",
)


def load_pairs() -> dict[str, list[dict]]:
    """url -> the interview's answers in order, each with its journalist question and sub-questions."""
    corpus = [json.loads(line) for line in (SOURCE / "corpus.jsonl").open()]
    queries = [json.loads(line) for line in (SOURCE / "queries.jsonl").open()]
    asked = {
        q["doc"]: q["text"].removeprefix("Q. ").strip() for q in queries if q["kind"] == "journalist_question"
    }
    subs = collections.defaultdict(list)
    for q in queries:
        if q["kind"] == "sub_question" and q.get("clarity_label") != "Clear Non-Reply":
            subs[q["doc"]].append(q["text"].strip(" ."))
    by_url = collections.defaultdict(list)
    for record in corpus:
        if record["id"] in asked:
            by_url[record["url"]].append(
                {**record, "question": asked[record["id"]], "subs": subs[record["id"]]}
            )
    return {url: sorted(rows, key=lambda r: r["question_order"]) for url, rows in by_url.items()}


def chosen(pairs: dict[str, list[dict]]) -> list[list[list[dict]]]:
    """ARCHIVES archives, each one interview per president: the longest interviews, in turn."""
    ranked = {
        p: sorted((u for u in pairs if pairs[u][0]["president"] == p), key=lambda u: (-len(pairs[u]), u))
        for p in PRESIDENTS
    }
    return [[pairs[ranked[p][a]] for p in PRESIDENTS] for a in range(ARCHIVES)]


def surname(president: str) -> str:
    return president.split()[-1]


def write(folder: Path, name: str, rows: list[dict], style: str) -> Path:
    """One interview as a file in a house style; the answers' words are the president's, verbatim."""
    president, title, date = rows[0]["president"], rows[0]["title"], rows[0]["date"]
    label = surname(president).upper()
    if style == "word":
        import docx

        word = docx.Document()
        word.core_properties.title = "Transcript template"
        word.add_heading(f"{title}: the interview", level=1)
        for line in ("By Dana Whitfield", "Watch: the full interview", "Subtitles unavailable"):
            word.add_paragraph(line)
        for row in rows:
            for who, said in (("Dana Whitfield", row["question"]), (president, row["text"])):
                word.add_paragraph().add_run(who).bold = True
                word.add_paragraph(said)
        word.add_paragraph("© Example Broadcasting. All rights reserved.")
        path = folder / f"{name}.docx"
        word.save(path)
        return path
    lines = [f"{title}: the transcript", ""]
    if style == "reporter":  # "<OUTLET> reporter:", a "Name: the X interview" headline, byline, date
        lines = [f"{president}: the WNN interview", "", "By Sam Okafor", "", date, ""]
        for row in rows:
            lines += [f"WNN reporter: {row['question']}", "", f"{president}: {row['text']}", ""]
    elif style == "newspaper":
        lines += ["By Sam Okafor", date, "", "Photo: the president at the podium", ""]
        for row in rows:
            lines += [f"WNN: {row['question']}", "", f"{label}: {row['text']}", ""]
        lines += ["Read more", "", "© 2020 WNN. All rights reserved."]
    elif style == "statements":  # the interviewer asks in statements, and hears "Uh-huh."
        lines += [date, ""]
        for n, row in enumerate(rows):
            lines += [f"HOLLIS: {row['question'].replace('?', '.')}", ""]
            if n % 2:
                lines += [f"{label}: Uh-huh.", "", "HOLLIS: And--", ""]
            lines += [f"{label}: {row['text']}", ""]
    else:  # press office
        lines += [date, ""]
        for row in rows:
            lines += [f"Q. {row['question']}", "", f"THE PRESIDENT. {row['text']}", ""]
    path = folder / f"{name}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> int:
    if not SOURCE.is_dir():
        print(f"skipped: {SOURCE} not found")
        return 0
    from qa.answer.engine import Engine
    from qa.archive import add
    from qa.embed.embedders import MiniLM
    from qa.evaluate.evaluation import EVAL_DIR, EvalTarget, load_eval_set, qrels_for
    from qa.ingest.corpus import BUNDLED_CORPUS
    from qa.store import load

    embedder = MiniLM()
    own = [*load_eval_set(EVAL_DIR / "interview_questions.jsonl")]
    own += load_eval_set(EVAL_DIR / "interview_questions_heldout.jsonl")
    results: dict = {"archives": []}
    near_topic = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, interviews in enumerate(chosen(load_pairs()), start=1):
            folder, index_dir = Path(tmp) / f"in{number}", Path(tmp) / f"archive{number}"
            folder.mkdir()
            written = []
            for position, rows in enumerate(interviews):
                style = STYLES[(position + number) % len(STYLES)]
                name = f"{surname(rows[0]['president']).lower()}-{number}"
                written.append((write(folder, name, rows, style), style, rows))
            # the bundled interview too: its eval sets have gold quotes, so quote@1 is known there
            bundled = sorted(BUNDLED_CORPUS.glob("*.txt"))
            add(index_dir, [p for p, _, _ in written] + bundled, embedder=embedder, multilingual=False)
            engine = Engine(load(index_dir), embedder)
            scored = [score_interview(engine, path.stem, style, rows) for path, style, rows in written]
            qrels = qrels_for(own, engine.index.passages)
            found = EvalTarget.of_index("own eval sets", engine, own, qrels).judge("hybrid")
            shares = {**found["cards"]["metrics"], **found["quotes"]["metrics"]}
            scored.append({"interview": bundled[0].stem, "style": "bundled", "own eval sets": shares})
            results["archives"].append({"archive": number, "interviews": scored})
            near_topic += [engine.ask(question).abstained for question in NEAR_TOPIC]
    results["near_topic"] = {"questions": len(near_topic), "abstained": sum(near_topic)}
    results["overall"] = overall(results["archives"])
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return 0


def score_interview(engine, doc_id: str, style: str, rows: list[dict]) -> dict:
    """One interview's figures: passages that are the president's words, and per kind of question
    how often the first card quotes the answer given to it (card@1), comes from this interview at
    all, or abstains; and how many of the interview's cards are not the president's words."""
    president = surname(rows[0]["president"])
    passages = [p for p in engine.index.passages if p.doc_id == doc_id]
    asked = {
        "verbatim": [(row["question"], row) for row in rows],
        "sub-question": [(row["subs"][0], row) for row in rows if row["subs"]],
        "naming": [
            (f"What does {president} say on this: {row['subs'][0]}?", row) for row in rows if row["subs"]
        ],
    }
    scored = {}
    for kind, questions in asked.items():
        counts = collections.Counter(questions=len(questions))
        for question, row in questions:
            answer = engine.ask(question)
            counts["abstained"] += answer.abstained
            if answer.cards:
                top = answer.cards[0]
                counts["card@1"] += top.source.doc_id == doc_id and top.quote.text in row["text"]
                counts["own interview first"] += top.source.doc_id == doc_id
            theirs = [card for card in answer.cards if card.source.doc_id == doc_id]
            counts["cards"] += len(theirs)
            counts["not the president's"] += sum(
                not any(c.excerpt.text in r["text"] for r in rows) for c in theirs
            )
        scored[kind] = dict(counts)
    return {
        "interview": doc_id,
        "style": style,
        "answers": len(rows),
        "passages": len(passages),
        THEIRS: sum(any(p.text in row["text"] for row in rows) for p in passages),
        **scored,
    }


KINDS = ("verbatim", "sub-question", "naming")
THEIRS = "president's passages"


def overall(archives: list[dict]) -> dict:
    totals: collections.Counter = collections.Counter()
    for archive in archives:
        for interview in archive["interviews"]:
            if "passages" not in interview:
                continue
            totals["passages"] += interview["passages"]
            totals[THEIRS] += interview[THEIRS]
            for kind in KINDS:
                for key, value in interview[kind].items():
                    totals[f"{kind} {key}"] += value
    return dict(totals)


def table(results: dict) -> str:
    """The figures as eval/README.md shows them."""
    head = ["archive", "interview", "style", "passages (president's)"]
    head += [f"{kind} card@1" for kind in KINDS]
    head += ["naming: own interview first", "quote@1 / card@1 / hit@1"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for archive in results["archives"]:
        for one in archive["interviews"]:
            if "own eval sets" in one:
                metrics = one["own eval sets"]
                shares = f"{metrics['quote@1']:.2f} / {metrics['card@1']:.2f} / {metrics['hit@1']:.2f}"
                cells = ["", "", "", "", "", "", shares]
            else:
                cells = [f"{one['passages']} ({one[THEIRS]})"]
                cells += [f"{one[kind]['card@1']}/{one[kind]['questions']}" for kind in KINDS]
                cells += [f"{one['naming']['own interview first']}/{one['naming']['questions']}", ""]
            rows.append(
                "| " + " | ".join([str(archive["archive"]), one["interview"], one["style"], *cells]) + " |"
            )
    near = results["near_topic"]
    rows.append(f"\nnear-topic questions not covered: {near['abstained']} of {near['questions']} abstained")
    rows.append(json.dumps(results["overall"]))
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
