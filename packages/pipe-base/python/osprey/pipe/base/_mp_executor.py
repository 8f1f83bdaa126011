"""Running a `QuantumGraph` on several local processes (``pipetask run -j N``).

The parent process writes the run's provenance, then hands quanta (by ID) to N long-lived
worker processes, each with its own Butler connection, as soon as their upstream quanta
have finished. The parent alone decides what runs next, so blocking, fail-fast and the
progress bar behave exactly as in the serial executor. A worker that runs past the
per-quantum timeout or the memory limit (its private resident memory, read from ``/proc``) is killed and
replaced; its quantum fails with the reason and nothing of it is registered except its log.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from multiprocessing.connection import Connection, wait
from typing import Any

from ._executor import (
    FAILED,
    ExecutionReport,
    ProgressCallback,
    QuantumReport,
    SingleQuantumExecutor,
    _blocked,
    _record,
    _Schedule,
    prepare_run,
    write_failure_log,
)
from ._quantum_graph import Quantum, QuantumGraph
from .errors import PipeBaseError

__all__ = ["MultiprocessGraphExecutor", "QuantumKilledError"]

_POLL_S = 0.05


class QuantumKilledError(PipeBaseError):
    """A worker was killed while running a quantum (timeout, memory limit, or it died)."""


def _worker_main(conn: Connection, butler_config: Any, root: Any, graph: QuantumGraph, options: dict) -> None:
    """Worker loop: receive a quantum ID, run it, send back its report; ``None`` ends the loop."""
    from osprey.daf.butler import Butler

    butler = Butler(butler_config, root)
    executor = SingleQuantumExecutor(butler, **options)
    try:
        while (quantum_id := conn.recv()) is not None:
            conn.send(executor.execute(graph, graph.get_quantum(quantum_id)))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        butler.close()
        conn.close()


def _has_in_memory(config: Any) -> bool:
    """Whether a datastore config (or any child of a chained one) keeps datasets in process memory."""
    return config.cls == "inmemory" or any(_has_in_memory(c) for c in getattr(config, "children", None) or ())


def _private_bytes(pid: int) -> int:
    """Memory a worker holds on its own: private resident pages (Linux ``/proc``), so pages
    still shared copy-on-write with the parent it was forked from do not count; 0 when unknown."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("Private_Clean", "Private_Dirty"):
                    total += int(value.split()[0]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        return 0
    return total


class _Worker:
    def __init__(self, context: Any, butler: Any, graph: QuantumGraph, options: dict):
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(child, butler.config, butler.root, graph, options),
            name="osprey-quantum-worker",
            daemon=True,
        )
        self.process.start()
        child.close()
        self.quantum: Quantum | None = None
        self.started = 0.0

    def submit(self, quantum: Quantum) -> None:
        self.quantum, self.started = quantum, time.monotonic()
        self.conn.send(quantum.id)

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.kill()


class MultiprocessGraphExecutor:
    """Run a graph's quanta on ``processes`` local worker processes.

    Parameters
    ----------
    butler : `osprey.daf.butler.Butler`
        The repository; workers open their own connection from its config and root.
    processes : `int`
        Number of worker processes (``pipetask run -j``).
    timeout_s : `float`, optional
        A quantum running longer is killed and reported failed (`QuantumKilledError`).
    memory_limit_bytes : `int`, optional
        A worker whose resident memory exceeds this while running a quantum is killed and
        the quantum reported failed.
    fail_fast, log_level, clobber_outputs, progress
        As for `SerialGraphExecutor`.
    start_method : `str`, optional
        ``multiprocessing`` start method; ``fork`` where available (workers inherit the
        graph without pickling it), else ``spawn``.
    """

    def __init__(
        self,
        butler: Any,
        processes: int,
        *,
        timeout_s: float | None = None,
        memory_limit_bytes: int | None = None,
        fail_fast: bool = False,
        log_level: int = logging.INFO,
        clobber_outputs: bool = False,
        progress: ProgressCallback | None = None,
        start_method: str | None = None,
    ):
        if processes < 1:
            raise PipeBaseError(f"need at least one worker process, got {processes}")
        if _has_in_memory(butler.config.datastore):
            raise PipeBaseError("an in-memory datastore cannot be shared with worker processes; use -j 1")
        self.butler = butler
        self.processes = processes
        self.timeout_s = timeout_s
        self.memory_limit_bytes = memory_limit_bytes
        self.fail_fast = fail_fast
        self.progress = progress
        self.options = {"log_level": log_level, "clobber_outputs": clobber_outputs}
        methods = multiprocessing.get_all_start_methods()
        self.context = multiprocessing.get_context(start_method or ("fork" if "fork" in methods else "spawn"))

    def run(self, graph: QuantumGraph) -> ExecutionReport:
        """Write the run's provenance, then run the quanta on the workers."""
        report = ExecutionReport()
        if not len(graph):
            return report
        prepare_run(self.butler, graph)
        self.butler.close()  # no pooled database connection is carried into forked workers
        schedule = _Schedule(graph)
        queue: list[Quantum] = []
        count = min(self.processes, len(graph))
        workers = [_Worker(self.context, self.butler, graph, self.options) for _ in range(count)]
        stopping = False
        try:
            while not schedule.finished:
                queue.extend(schedule.ready())
                for worker in workers:
                    if worker.quantum is None and queue and not stopping:
                        worker.submit(queue.pop(0))
                busy = {w.conn: w for w in workers if w.quantum is not None}
                if not busy:
                    if not stopping:
                        raise PipeBaseError(f"graph {graph.run!r}: quanta wait on upstream quanta that never run")
                    _record(report, schedule.abandon("stopped after a failure (fail_fast)"), self.progress)
                    continue
                for conn in wait(list(busy), timeout=_POLL_S):
                    worker = busy[conn]
                    try:
                        result = conn.recv()
                    except (EOFError, OSError):
                        result = self._killed(worker, f"worker process died (exit code {worker.process.exitcode})")
                        workers[workers.index(worker)] = self._replace(worker, graph)
                    worker.quantum = None
                    stopping |= self._finish(report, schedule, result)
                for i, worker in enumerate(workers):
                    why = self._overrun(worker)
                    if why is not None:
                        result = self._killed(worker, why)
                        workers[i] = self._replace(worker, graph)
                        stopping |= self._finish(report, schedule, result)
                if stopping:
                    left = [_blocked(q, "stopped after a failure (fail_fast)") for q in queue]
                    schedule.done.update(r.quantum_id for r in left)
                    _record(report, left, self.progress)
                    queue.clear()
        finally:
            for worker in workers:
                if worker.quantum is not None:
                    worker.kill()
                else:
                    worker.stop()
        return report

    def _finish(self, report: ExecutionReport, schedule: _Schedule, result: QuantumReport) -> bool:
        _record(report, [result], self.progress)
        _record(report, schedule.finish(result), self.progress)
        return result.status == FAILED and self.fail_fast

    def _overrun(self, worker: _Worker) -> str | None:
        if worker.quantum is None:
            return None
        if self.timeout_s is not None and time.monotonic() - worker.started > self.timeout_s:
            return f"timed out after {self.timeout_s:g} s; worker killed"
        if self.memory_limit_bytes is not None:
            used = _private_bytes(worker.process.pid)
            if used > self.memory_limit_bytes:
                return (
                    f"used {used / 2**20:.0f} MiB, over the memory limit of "
                    f"{self.memory_limit_bytes / 2**20:.0f} MiB; worker killed"
                )
        return None

    def _killed(self, worker: _Worker, why: str) -> QuantumReport:
        """Kill ``worker`` and report its quantum failed; its log records why."""
        quantum = worker.quantum
        assert quantum is not None
        worker.kill()
        report = QuantumReport(quantum.id, quantum.task_label, dict(quantum.data_id.required), FAILED)
        report.fail(QuantumKilledError(f"{quantum.task_label} {report.data_id}: {why}"), tb="")
        report.wall_s = time.monotonic() - worker.started
        write_failure_log(self.butler, quantum, [], report)
        worker.quantum = None
        return report

    def _replace(self, worker: _Worker, graph: QuantumGraph) -> _Worker:
        self.butler.close()
        return _Worker(self.context, self.butler, graph, self.options)
