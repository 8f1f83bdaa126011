"""Shared pieces of every package's ``bench/`` scripts (CONVENTIONS.md "Benchmarks").

A benchmark times our code and a peer's in the same run, prints a table for people and
ends with one JSON line for machines: ``{"workload": {"ours_s", "peer", "peer_s", "ratio"}}``
with ``ratio = peer_s / ours_s`` (> 1: we are faster).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Comparison", "report", "time_best", "time_import"]


def time_best(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls, in seconds: the least noisy estimate."""
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def time_import(module: str, repeats: int) -> float:
    """Best wall time of ``python -c "import module"`` in a fresh interpreter, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        best = min(best, time.perf_counter() - start)
    return best


@dataclass(frozen=True)
class Comparison:
    """One workload timed for us and for a peer in the same run."""

    workload: str
    ours_s: float
    peer: str
    peer_s: float

    @property
    def ratio(self) -> float:
        return self.peer_s / self.ours_s


def report(rows: Sequence[Comparison]) -> None:
    """Print the comparison table, then the JSON summary as the last line."""
    width = max(len(r.workload) for r in rows) + 2
    print(f"{'workload':<{width}}{'ours_s':>10}{'peer_s':>10}{'ratio':>8}  peer")
    for r in rows:
        print(f"{r.workload:<{width}}{r.ours_s:>10.4f}{r.peer_s:>10.4f}{r.ratio:>8.2f}  {r.peer}")
    summary = {r.workload: {"ours_s": r.ours_s, "peer": r.peer, "peer_s": r.peer_s, "ratio": r.ratio} for r in rows}
    print(json.dumps(summary))
