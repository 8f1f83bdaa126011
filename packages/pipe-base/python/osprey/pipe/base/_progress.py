"""A one-line progress bar with an ETA for graph execution (stderr, no dependencies)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any, TextIO

__all__ = ["ProgressBar"]


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ProgressBar:
    """Counts finished quanta and redraws ``[####....] 12/40 30% ok=11 failed=1 ETA 0:00:42``.

    Call it with each `QuantumReport`. On a terminal the line is redrawn in place; on
    anything else (a log file) a line is written at every tenth of the work, so logs stay
    short. The ETA extrapolates the mean time per finished quantum.
    """

    def __init__(self, total: int, stream: TextIO | None = None, *, width: int = 30, label: str = "quanta"):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.label = label
        self.counts: Counter[str] = Counter()
        self.start = time.monotonic()
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_tenth = -1

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def __call__(self, report: Any) -> None:
        self.counts[report.status] += 1
        tenth = self.done * 10 // max(self.total, 1)
        if self.interactive:
            self.stream.write("\r" + self.line())
            if self.done >= self.total:
                self.stream.write("\n")
        elif tenth != self._last_tenth or self.done >= self.total:
            self.stream.write(self.line() + "\n")
        self._last_tenth = tenth
        self.stream.flush()

    def line(self) -> str:
        done, total = self.done, max(self.total, 1)
        filled = self.width * done // total
        elapsed = time.monotonic() - self.start
        eta = elapsed / done * (self.total - done) if done else 0.0
        states = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        tail = f"ETA {_clock(eta)}" if done < self.total else f"done in {_clock(elapsed)}"
        bar = "#" * filled + "." * (self.width - filled)
        return f"[{bar}] {done}/{self.total} {self.label} {100 * done // total}% {states} {tail}"
