"""What an engine works out once and keeps for the next question: at most a given number of
entries, the oldest let go first, safe to fill from the app's threads."""

from __future__ import annotations

import threading


class Kept(dict):
    """A dict of at most `most` entries: a new one past that lets go of the oldest."""

    def __init__(self, most: int) -> None:
        super().__init__()
        self.most = most
        self._lock = threading.Lock()

    def keep(self, key, value):
        """Keep value under key (the app answers several people at once, from threads); value back."""
        with self._lock:
            if len(self) >= self.most and key not in self:
                self.pop(next(iter(self)))  # the oldest first
            self[key] = value
        return value
