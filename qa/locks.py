"""Who may touch an index folder when: one writer at a time, and no reader in the middle of a swap.

An archive is written by several hands at once (the page's uploads, `qa add` from a script, a
colleague's `qa remove`) and read by many. Three advisory locks (`flock`) beside the folder say who
goes when:

- `.NAME.write.lock`, exclusive, for a whole load-change-write (build, add, remove, refresh): writers
  queue, and each starts from what the one before it left, so no change is lost. (`qa add` reads,
  parses and embeds its files before it takes the lock: qa/archive.py.)
- `.NAME.swap.lock`, shared while a reader loads the folder or a vote is appended to it, exclusive
  while a writer swaps its new folder in (copying the votes, two renames). A reader sees the old
  folder or the new one, whole, never a mix or neither; a vote lands in the folder that stays.
- `.NAME.gate.lock`, passed through by each reader on its way in and held by a writer for its swap:
  a waiting writer is not starved by readers that keep overlapping.

Writers build the new folder (the slow part) holding only the write lock, so readers and votes wait
only for the swap itself. The kernel drops a lock when its process dies: a killed writer never
blocks the next one. Why not generations (each version in its own folder and a pointer file, as
Lucene's commit points): the index stays one plain folder that people read and copy, and the swap
lock gives readers the same guarantee at the cost of a short wait during a rename.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from qa.documents import QAError


def _lock_path(index_dir: Path, kind: str) -> Path:
    return index_dir.parent / f".{index_dir.name}.{kind}.lock"


def _opened(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        raise QAError(
            f"{path.parent}: the archive cannot be written here ({error.strerror or error})"
        ) from None


@contextlib.contextmanager
def _held(
    path: Path, mode: int, waiting: Callable[[], None] | None = None, reader: bool = False
) -> Iterator[None]:
    try:
        fd = _opened(path)
    except QAError:
        if reader:  # a read-only folder: nobody can write there, so reading is safe
            yield
            return
        raise
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting:
                waiting()
            fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # and with it the lock


def _say_waiting() -> None:
    print("qa: waiting for another change to this archive to finish", file=sys.stderr)


def writing(index_dir: Path, waiting: Callable[[], None] | None = _say_waiting):
    """Held for a whole load-change-write of the index at index_dir; one writer at a time."""
    return _held(_lock_path(index_dir, "write"), fcntl.LOCK_EX, waiting)


def check_writable(index_dir: Path) -> None:
    """QAError, at once, when no writer could take the lock of the index at index_dir (say, its
    folder's place is a file): a writer that works before it takes the lock fails before the work."""
    os.close(_opened(_lock_path(index_dir, "write")))


@contextlib.contextmanager
def reading(index_dir: Path) -> Iterator[None]:
    """Held while a reader loads the folder or a vote is appended: no swap happens meanwhile. A
    reader passes the gate on its way in, so one waiting writer holds new readers back."""
    with contextlib.ExitStack() as held:
        with _held(_lock_path(index_dir, "gate"), fcntl.LOCK_EX, reader=True):
            held.enter_context(_held(_lock_path(index_dir, "swap"), fcntl.LOCK_SH, reader=True))
        yield


@contextlib.contextmanager
def swapping(index_dir: Path) -> Iterator[None]:
    """Held while a new folder replaces the old one: no reader is loading it meanwhile. The writer
    shuts the gate first and waits for the readers inside to leave: flock keeps no queue, and
    readers that keep overlapping could otherwise hold a shared lock for as long as they run."""
    gate, swap = _lock_path(index_dir, "gate"), _lock_path(index_dir, "swap")
    with _held(gate, fcntl.LOCK_EX), _held(swap, fcntl.LOCK_EX):
        yield
