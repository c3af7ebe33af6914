"""Thumbs up and down from the page, kept beside the index, and turned into an eval set.

Each vote is one JSON line in `INDEX/feedback.jsonl`: the time (UTC), the question as searched, the
passage id of the card's best excerpt, and "up" or "down". The file is not part of the index's
manifest, and a rebuild carries it over. `export` makes an eval set `qa eval --eval-set` reads: per
question, the passages voted up (a later vote on the same passage replaces an earlier one).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from qa.answer.answers import clean_question
from qa.documents import QAError
from qa.locks import reading
from qa.store import FEEDBACK_FILE

VOTES = ("up", "down")
_lock = threading.Lock()


def record(index_dir: Path, question: str, passage_id: str, vote: str, known_ids) -> dict:
    """Append one vote; QAError for a vote, passage or question that cannot be recorded."""
    if vote not in VOTES:
        raise QAError(f"a vote is 'up' or 'down', not {vote!r}")
    if passage_id not in known_ids:
        raise QAError(f"no passage {passage_id!r} in the index at {index_dir}")
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "question": clean_question(question),
        "passage_id": passage_id,
        "vote": vote,
    }
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    # under the swap lock (qa/locks.py): a vote never lands in a folder a writer is replacing
    with _lock, reading(index_dir), (index_dir / FEEDBACK_FILE).open("a", encoding="utf-8") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())
    return entry


def read(index_dir: Path) -> list[dict]:
    """Every vote recorded under this index, oldest first (none yet: an empty list)."""
    path = index_dir / FEEDBACK_FILE
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if entry["vote"] not in VOTES or not entry["question"] or not entry["passage_id"]:
                raise ValueError("missing or invalid field")
        except (ValueError, KeyError, TypeError) as error:
            raise QAError(f"{path}:{number}: not a feedback line ({error})") from None
        entries.append(entry)
    return entries


def export(entries: list[dict]) -> tuple[list[dict], int]:
    """(eval set records, questions left out because nothing was voted up for them)."""
    latest: dict[str, dict[str, str]] = {}
    for entry in entries:
        latest.setdefault(entry["question"], {})[entry["passage_id"]] = entry["vote"]
    records, left_out = [], 0
    for question, votes in latest.items():
        relevant = [pid for pid, vote in votes.items() if vote == "up"]
        if not relevant:
            left_out += 1
            continue
        records.append({"id": f"fb{len(records) + 1}", "question": question, "relevant": relevant})
    return records, left_out
