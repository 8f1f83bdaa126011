"""Running a `QuantumGraph` in this process, with provenance.

`SingleQuantumExecutor` runs one quantum: reads its inputs through a `ButlerQuantumContext`,
calls ``run_quantum`` with the outputs held in memory, and then writes them plus
``<label>_metadata`` (with resource usage) and ``<label>_log`` in one short Butler
transaction (no database lock is held while the task computes). A failing quantum registers only its log (so
``pipetask report`` can tell failed from never run), or, for an `AlgorithmError` carrying
partial outputs, those outputs annotated with the failure. `SerialGraphExecutor` runs a
whole graph in dependency order, marking the descendants of failures as blocked; the
multi-process executor (`MultiprocessGraphExecutor`) shares its bookkeeping.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import resource
import socket
import sys
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata as importlib_metadata
from typing import Any

from osprey.daf.butler import DataCoordinate, DatasetIdGenEnum, DatasetRef, DatasetType, make_dataset_id

from ._pipeline_task import ButlerQuantumContext
from ._quantum_graph import OutputExistsError, Quantum, QuantumGraph, config_dataset_type
from .errors import AnnotatedPartialOutputsError, NoWorkFound, PipeBaseError

__all__ = [
    "ExecutionReport",
    "QuantumReport",
    "SerialGraphExecutor",
    "SingleQuantumExecutor",
    "package_versions",
    "prepare_run",
    "register_graph_dataset_types",
    "write_failure_log",
    "write_init_outputs",
]

SUCCEEDED, FAILED, BLOCKED, NO_WORK = "succeeded", "failed", "blocked", "no_work"
PACKAGES_DATASET = "packages"
"""Dataset type (no dimensions) of the package versions a run was made with."""


@dataclasses.dataclass
class QuantumReport:
    """What happened to one quantum.

    ``status`` is ``succeeded``, ``no_work`` (`NoWorkFound`: metadata and log written, no
    outputs), ``failed`` (only ``<label>_log`` and any annotated partial outputs are
    registered; ``exception_type``, ``message`` and ``traceback`` say why) or ``blocked``
    (an upstream quantum failed or was blocked; not run).
    """

    quantum_id: uuid.UUID
    task_label: str
    data_id: dict[str, Any]
    status: str
    exception_type: str | None = None
    message: str | None = None
    traceback: str | None = None
    wall_s: float = 0.0
    partial_outputs: list[str] = dataclasses.field(default_factory=list)

    @property
    def signature(self) -> str | None:
        """``ExceptionType: message`` for failures."""
        return None if self.exception_type is None else f"{self.exception_type}: {self.message}"

    def fail(self, err: BaseException, tb: str | None = None) -> None:
        """Record ``err`` as the reason this quantum failed."""
        self.status = FAILED
        self.exception_type = f"{type(err).__module__}.{type(err).__qualname__}"
        self.message = str(err)
        self.traceback = tb if tb is not None else "".join(traceback.format_exception(err))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``pipetask run --summary``)."""
        out = dataclasses.asdict(self)
        out["quantum_id"] = str(self.quantum_id)
        return out


@dataclasses.dataclass
class ExecutionReport:
    """Per-quantum reports of one graph execution, in completion order."""

    quanta: list[QuantumReport] = dataclasses.field(default_factory=list)

    def _with(self, status: str) -> list[QuantumReport]:
        return [r for r in self.quanta if r.status == status]

    @property
    def succeeded(self) -> list[QuantumReport]:
        """Quanta that ran and wrote their outputs."""
        return self._with(SUCCEEDED)

    @property
    def failed(self) -> list[QuantumReport]:
        """Quanta that raised (only their log and annotated partial outputs are registered)."""
        return self._with(FAILED)

    @property
    def blocked(self) -> list[QuantumReport]:
        """Quanta not run because an upstream quantum failed or was blocked."""
        return self._with(BLOCKED)

    @property
    def no_work(self) -> list[QuantumReport]:
        """Quanta that found nothing to do (`NoWorkFound`)."""
        return self._with(NO_WORK)

    @property
    def ok(self) -> bool:
        """No quantum failed or was blocked."""
        return not (self.failed or self.blocked)

    def counts(self) -> dict[str, dict[str, int]]:
        """``{label: {status: count}}``."""
        out: dict[str, Counter] = {}
        for report in self.quanta:
            out.setdefault(report.task_label, Counter())[report.status] += 1
        return {label: dict(counter) for label, counter in out.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: counts per task and every quantum."""
        return {"counts": self.counts(), "quanta": [r.to_dict() for r in self.quanta]}

    def __str__(self) -> str:
        lines = []
        for label, counts in self.counts().items():
            lines.append(f"{label}: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
        for report in self.failed:
            lines.append(f"FAILED {report.task_label} {report.data_id}: {report.signature}")
        return "\n".join(lines)


class _RecordCollector(logging.Handler):
    """Keeps the records of one quantum as plain dicts (the ``<label>_log`` dataset)."""

    def __init__(self, level: int):
        super().__init__(level)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        entry = {
            "name": record.name,
            "level": record.levelname,
            "levelno": record.levelno,
            "message": record.getMessage(),
            "created": record.created,
            "filename": record.filename,
            "lineno": record.lineno,
            "funcName": record.funcName,
        }
        if record.exc_info:
            entry["exc_text"] = "".join(traceback.format_exception(*record.exc_info))
        self.records.append(entry)


def register_graph_dataset_types(butler: Any, graph: QuantumGraph) -> None:
    """Register every dataset type the graph writes (a no-op for ones already registered identically)."""
    for dataset_type in [*graph.dataset_types().values(), _packages_type(graph)]:
        butler.register_dataset_type(
            dataset_type.name,
            dataset_type.dimensions.names,
            dataset_type.storage_class,
            is_calibration=dataset_type.is_calibration,
        )


def package_versions() -> dict[str, str]:
    """Versions of Python and of every installed ``osprey-*`` distribution and main scientific dependency."""
    wanted = {"numpy", "scipy", "astropy", "pydantic", "sqlalchemy", "galsim", "pyarrow"}
    versions = {"python": sys.version.split()[0]}
    for dist in importlib_metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name.startswith("osprey-") or name in wanted:
            versions[name] = dist.version
    return dict(sorted(versions.items()))


def _packages_type(graph: QuantumGraph) -> DatasetType:
    return DatasetType(PACKAGES_DATASET, (), "StructuredDataDict", graph.pipeline_graph.universe)


def _put_once(butler: Any, graph: QuantumGraph, dataset_type: DatasetType, value: Any, what: str) -> None:
    """Write a run-level provenance dataset, or check the one already in the run equals ``value``."""
    empty = DataCoordinate.make_empty(graph.pipeline_graph.universe)
    ref = DatasetRef(dataset_type, empty, graph.run, _config_id(dataset_type, empty, graph.run))
    existing = butler.registry.existing_dataset_ids([ref.id]) if _has_run(butler, graph.run) else set()
    if existing:
        stored = butler.get(ref)
        if stored != value:
            changed = sorted(k for k in set(stored) | set(value) if stored.get(k) != value.get(k))
            raise PipeBaseError(
                f"run {graph.run!r} already holds {dataset_type.name!r} with a different {what} "
                f"(differs in {changed[:5]}); use a new output run"
            )
        return
    butler.put(value, ref)


def write_init_outputs(butler: Any, graph: QuantumGraph, label: str, task: Any = None) -> None:
    """Write ``<label>_config`` and the task's init-outputs into the run once.

    If they already exist (a rerun into the same run), the stored config must equal this
    one, otherwise `PipeBaseError`: a run must not mix configurations.
    """
    node = graph.pipeline_graph.tasks[label]
    config_type = config_dataset_type(label, graph.pipeline_graph.universe)
    with butler.transaction():
        _put_once(butler, graph, config_type, node.config.to_dict(), "config")
        outputs = graph.init_outputs[label]
        missing = {attr: ref for attr, ref in outputs.items() if not butler.registry.existing_dataset_ids([ref.id])}
        if missing:
            task = task if task is not None else _make_task(butler, graph, label)
            values = task.get_init_output_values()
            for attr, ref in missing.items():
                butler.put(values[attr], ref)


def prepare_run(butler: Any, graph: QuantumGraph) -> None:
    """Before any quantum runs: dataset types, package versions and each task's config and init-outputs."""
    register_graph_dataset_types(butler, graph)
    _put_once(butler, graph, _packages_type(graph), package_versions(), "set of package versions")
    for label, quanta in graph.quanta.items():
        if quanta:
            write_init_outputs(butler, graph, label)


def _config_id(dataset_type: Any, data_id: DataCoordinate, run: str) -> uuid.UUID:
    return make_dataset_id(dataset_type, data_id, run, DatasetIdGenEnum.DATAID_TYPE_RUN)


def _has_run(butler: Any, run: str) -> bool:
    try:
        butler.registry.get_collection_type(run)
    except LookupError:
        return False
    return True


def _make_task(butler: Any, graph: QuantumGraph, label: str) -> Any:
    node = graph.pipeline_graph.tasks[label]
    init_inputs = {attr: butler.get(ref) for attr, ref in graph.init_inputs[label].items()}
    return node.task_class(config=node.config, init_inputs=init_inputs, name=label)


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def write_failure_log(butler: Any, quantum: Quantum, records: list[dict[str, Any]], report: QuantumReport) -> None:
    """Register the log of a failed quantum on its own (its other writes were rolled back or
    never made): ``records`` plus a final ERROR record with the failure; replaces an earlier one."""
    final = {
        "name": "osprey.pipe.base.executor",
        "level": "ERROR",
        "levelno": logging.ERROR,
        "message": f"quantum failed: {report.signature}",
        "created": time.time(),
        "exc_text": report.traceback,
    }
    try:
        with butler.transaction():
            if butler.registry.existing_dataset_ids([quantum.log_ref.id]):
                butler.prune_datasets([quantum.log_ref], disassociate=True, unstore=True, purge=True)
            butler.put([*records, final], quantum.log_ref)
    except Exception as err:  # noqa: BLE001 - the report still carries the failure
        logging.getLogger(__name__).warning("could not write the log of failed quantum %s: %s", quantum, err)


class SingleQuantumExecutor:
    """Run one quantum against a Butler and record its provenance.

    Parameters
    ----------
    butler : `osprey.daf.butler.Butler`
        Inputs are read and outputs written through it.
    log_level : `int`
        Records at or above this level (of the ``osprey`` logger hierarchy) go into
        ``<label>_log``; the logger's level is lowered to it for the quantum if needed.
    clobber_outputs : `bool`
        Outputs of this quantum already in the run (an earlier failed attempt's annotated
        partial outputs, or a forced re-run) are removed first; otherwise they are an
        `OutputExistsError` failure. The log of an earlier failed attempt is always replaced.
    """

    def __init__(self, butler: Any, *, log_level: int = logging.INFO, clobber_outputs: bool = False):
        self.butler = butler
        self.log_level = log_level
        self.clobber_outputs = clobber_outputs

    def execute(self, graph: QuantumGraph, quantum: Quantum) -> QuantumReport:
        """Run ``quantum``; never raises for a task failure (the report carries it)."""
        start = time.perf_counter()
        started_utc = _utc_now()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        report = QuantumReport(quantum.id, quantum.task_label, dict(quantum.data_id.required), SUCCEEDED)
        logger = logging.getLogger("osprey")
        collector = _RecordCollector(self.log_level)
        old_level = logger.level
        if logger.getEffectiveLevel() > self.log_level:
            logger.setLevel(self.log_level)
        logger.addHandler(collector)
        try:
            task = _make_task(self.butler, graph, quantum.task_label)
            inputs = self._present_inputs(quantum.inputs)
            outputs = {attr: list(refs) for attr, refs in quantum.outputs.items()}
            context = None
            try:
                inputs, outputs = task.connections.adjust_quantum(inputs, outputs, quantum.task_label, quantum.data_id)
                context = ButlerQuantumContext(self.butler, inputs, outputs, defer_writes=True)
                task.run_quantum(context, self._shape(task, inputs), self._shape(task, outputs))
            except NoWorkFound as err:
                report.status, report.message = NO_WORK, str(err)
                task.log.info("no work found: %s", err)
            except AnnotatedPartialOutputsError as err:
                # Kept on purpose: the annotated partial outputs and the log, no metadata.
                report.fail(err.__cause__ or err)
                report.partial_outputs = list(err.written)
                task.log.error("failed with partial outputs %s: %s", err.written, report.signature)
            metadata = None
            if report.status != FAILED:
                metadata = task.get_full_metadata()
                metadata["quantum"] = self._provenance(quantum, report, started_utc, start, usage)
            logger.removeHandler(collector)
            with self.butler.transaction():
                self._clear_previous_attempt(quantum)
                if context is not None:
                    context.flush()
                if metadata is not None:
                    self.butler.put(metadata.to_dict(), quantum.metadata_ref)
                self.butler.put(list(collector.records), quantum.log_ref)
        except Exception as err:  # noqa: BLE001 - any task failure is reported, not raised
            report.fail(err, traceback.format_exc())
            logger.removeHandler(collector)
            write_failure_log(self.butler, quantum, list(collector.records), report)
        finally:
            logger.removeHandler(collector)
            logger.setLevel(old_level)
        report.wall_s = time.perf_counter() - start
        return report

    @staticmethod
    def _provenance(
        quantum: Quantum, report: QuantumReport, started_utc: str, start: float, usage: Any
    ) -> dict[str, Any]:
        """Resource usage and where/when the quantum ran (``<label>_metadata["quantum"]``)."""
        now = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "id": str(quantum.id),
            "status": report.status,
            "start_utc": started_utc,
            "end_utc": _utc_now(),
            "wall_s": time.perf_counter() - start,
            "cpu_s": (now.ru_utime - usage.ru_utime) + (now.ru_stime - usage.ru_stime),
            # ru_maxrss is the process's peak so far, in KiB on Linux and bytes on macOS.
            "max_rss_mib": now.ru_maxrss / (1024.0**2 if sys.platform == "darwin" else 1024.0),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }

    def _clear_previous_attempt(self, quantum: Quantum) -> None:
        """Remove what an earlier attempt of this quantum left in the run (see ``clobber_outputs``)."""
        planned = quantum.all_outputs()
        present = self.butler.registry.existing_dataset_ids([r.id for r in planned])
        if not present:
            return
        stale = [r for r in planned if r.id in present]
        blocking = [r for r in stale if r.id != quantum.log_ref.id]
        if blocking and not self.clobber_outputs:
            names = ", ".join(r.dataset_type.name for r in blocking)
            raise OutputExistsError(
                f"{quantum.task_label} {dict(quantum.data_id.required)}: outputs already in run "
                f"{quantum.log_ref.run!r}: {names}; rerun with clobber_outputs (--clobber-outputs)"
            )
        self.butler.prune_datasets(stale, disassociate=True, unstore=True, purge=True)

    def _present_inputs(self, inputs: Mapping[str, list[DatasetRef]]) -> dict[str, list[DatasetRef]]:
        """Inputs that exist now (an upstream quantum that found no work wrote nothing)."""
        ids = {r.id for refs in inputs.values() for r in refs}
        present = self.butler.registry.existing_dataset_ids(ids) if ids else set()
        return {attr: [r for r in refs if r.id in present] for attr, refs in inputs.items()}

    @staticmethod
    def _shape(task: Any, refs: Mapping[str, list[DatasetRef]]) -> dict[str, Any]:
        """Lists for ``multiple`` connections, single refs otherwise (absent when none)."""
        connections = task.connections.connections
        shaped: dict[str, Any] = {}
        for attr, ref_list in refs.items():
            if connections[attr].multiple:
                shaped[attr] = list(ref_list)
            elif ref_list:
                shaped[attr] = ref_list[0]
        return shaped


ProgressCallback = Callable[[QuantumReport], None]


class _Schedule:
    """Which quanta may run next: upstream-first order, descendants of failures blocked.

    Both graph executors drive one of these: ``ready()`` hands out runnable quanta,
    ``finish(report)`` records a result and returns the reports of quanta it blocks.
    """

    def __init__(self, graph: QuantumGraph):
        self.graph = graph
        self.order = list(graph)
        self.position = {q.id: i for i, q in enumerate(self.order)}
        self.waiting: dict[uuid.UUID, int] = {}
        self.downstream: dict[uuid.UUID, list[Quantum]] = {}
        for quantum in self.order:
            upstream = graph.upstream(quantum)
            self.waiting[quantum.id] = len(upstream)
            for up in upstream:
                self.downstream.setdefault(up.id, []).append(quantum)
        self._ready = [q for q in self.order if self.waiting[q.id] == 0]
        self.done: set[uuid.UUID] = set()

    def ready(self) -> list[Quantum]:
        """Quanta whose upstream all finished without failure, in graph order; removed from the pool."""
        out, self._ready = sorted(self._ready, key=lambda q: self.position[q.id]), []
        return out

    def finish(self, report: QuantumReport) -> list[QuantumReport]:
        self.done.add(report.quantum_id)
        if report.status in (SUCCEEDED, NO_WORK):
            for child in self.downstream.get(report.quantum_id, []):
                self.waiting[child.id] -= 1
                if self.waiting[child.id] == 0:
                    self._ready.append(child)
            return []
        blocked = []
        stack = list(self.downstream.get(report.quantum_id, []))
        while stack:
            child = stack.pop()
            if child.id in self.done:
                continue
            self.done.add(child.id)
            blocked.append(_blocked(child, "an upstream quantum failed or was blocked"))
            stack.extend(self.downstream.get(child.id, []))
        return sorted(blocked, key=lambda r: self.position[r.quantum_id])

    def skip(self, quantum: Quantum) -> None:
        """Count ``quantum`` as done elsewhere: its downstream quanta may run."""
        self.finish(QuantumReport(quantum.id, quantum.task_label, {}, SUCCEEDED))

    def abandon(self, why: str) -> list[QuantumReport]:
        """Every quantum not yet finished or handed out, as blocked (fail-fast)."""
        self._ready = []
        left = [q for q in self.order if q.id not in self.done]
        self.done.update(q.id for q in left)
        return [_blocked(q, why) for q in left]

    @property
    def finished(self) -> bool:
        return len(self.done) == len(self.order)


def _blocked(quantum: Quantum, why: str) -> QuantumReport:
    return QuantumReport(quantum.id, quantum.task_label, dict(quantum.data_id.required), BLOCKED, message=why)


def _record(report: ExecutionReport, items: Iterable[QuantumReport], progress: ProgressCallback | None) -> None:
    for item in items:
        report.quanta.append(item)
        if progress is not None:
            progress(item)


class SerialGraphExecutor:
    """Run every quantum of a graph in this process, upstream first.

    Parameters
    ----------
    butler : `osprey.daf.butler.Butler`
        The repository the graph was built against.
    fail_fast : `bool`
        Stop at the first failure (the remaining quanta are reported blocked); by default
        execution keeps going with every quantum that does not depend on a failure.
    log_level : `int`
        Passed to `SingleQuantumExecutor`.
    clobber_outputs : `bool`
        Passed to `SingleQuantumExecutor`.
    progress : callable, optional
        Called with each `QuantumReport` as it is made (the ``pipetask`` progress bar).
    """

    def __init__(
        self,
        butler: Any,
        *,
        fail_fast: bool = False,
        log_level: int = logging.INFO,
        clobber_outputs: bool = False,
        progress: ProgressCallback | None = None,
    ):
        self.butler = butler
        self.fail_fast = fail_fast
        self.progress = progress
        self.quantum_executor = SingleQuantumExecutor(butler, log_level=log_level, clobber_outputs=clobber_outputs)

    def run(self, graph: QuantumGraph) -> ExecutionReport:
        """Write the run's provenance (`prepare_run`), then run the quanta."""
        report = ExecutionReport()
        if not len(graph):
            return report
        prepare_run(self.butler, graph)
        schedule = _Schedule(graph)
        while not schedule.finished:
            batch = schedule.ready()
            if not batch:
                raise PipeBaseError(f"graph {graph.run!r}: quanta wait on upstream quanta that never run")
            for i, quantum in enumerate(batch):
                result = self.quantum_executor.execute(graph, quantum)
                _record(report, [result], self.progress)
                _record(report, schedule.finish(result), self.progress)
                if result.status == FAILED and self.fail_fast:
                    rest = [_blocked(q, "stopped after a failure (fail_fast)") for q in batch[i + 1 :]]
                    schedule.done.update(r.quantum_id for r in rest)
                    _record(report, rest, self.progress)
                    _record(report, schedule.abandon("stopped after a failure (fail_fast)"), self.progress)
                    break
        return report
