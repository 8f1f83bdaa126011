"""Running a `QuantumGraph` in this process, with provenance.

`SingleQuantumExecutor` runs one quantum: reads its inputs through a `ButlerQuantumContext`,
calls ``run_quantum``, and writes the outputs plus ``<label>_metadata`` and ``<label>_log``
in one Butler transaction, so a failing quantum registers nothing. `SerialGraphExecutor`
runs a whole graph in dependency order, marking the descendants of failures as blocked.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Mapping
from typing import Any

from osprey.daf.butler import DataCoordinate, DatasetIdGenEnum, DatasetRef, make_dataset_id

from ._pipeline_task import ButlerQuantumContext
from ._quantum_graph import Quantum, QuantumGraph, config_dataset_type
from .errors import NoWorkFound, PipeBaseError

__all__ = [
    "ExecutionReport",
    "QuantumReport",
    "SerialGraphExecutor",
    "SingleQuantumExecutor",
    "register_graph_dataset_types",
    "write_init_outputs",
]

SUCCEEDED, FAILED, BLOCKED, NO_WORK = "succeeded", "failed", "blocked", "no_work"


@dataclasses.dataclass
class QuantumReport:
    """What happened to one quantum.

    ``status`` is ``succeeded``, ``no_work`` (`NoWorkFound`: metadata and log written, no
    outputs), ``failed`` (nothing registered; ``exception_type``, ``message`` and
    ``traceback`` say why) or ``blocked`` (an upstream quantum failed or was blocked; not run).
    """

    quantum_id: uuid.UUID
    task_label: str
    data_id: dict[str, Any]
    status: str
    exception_type: str | None = None
    message: str | None = None
    traceback: str | None = None
    wall_s: float = 0.0

    @property
    def signature(self) -> str | None:
        """``ExceptionType: message`` for failures."""
        return None if self.exception_type is None else f"{self.exception_type}: {self.message}"


@dataclasses.dataclass
class ExecutionReport:
    """Per-quantum reports of one graph execution, in execution order."""

    quanta: list[QuantumReport] = dataclasses.field(default_factory=list)

    def _with(self, status: str) -> list[QuantumReport]:
        return [r for r in self.quanta if r.status == status]

    @property
    def succeeded(self) -> list[QuantumReport]:
        """Quanta that ran and wrote their outputs."""
        return self._with(SUCCEEDED)

    @property
    def failed(self) -> list[QuantumReport]:
        """Quanta that raised (nothing of theirs is registered)."""
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
    for dataset_type in graph.dataset_types().values():
        butler.register_dataset_type(
            dataset_type.name,
            dataset_type.dimensions.names,
            dataset_type.storage_class,
            is_calibration=dataset_type.is_calibration,
        )


def write_init_outputs(butler: Any, graph: QuantumGraph, label: str, task: Any = None) -> None:
    """Write ``<label>_config`` and the task's init-outputs into the run once.

    If they already exist (a rerun into the same run), the stored config must equal this
    one, otherwise `PipeBaseError`: a run must not mix configurations.
    """
    node = graph.pipeline_graph.tasks[label]
    config_type = config_dataset_type(label, graph.pipeline_graph.universe)
    config = node.config.to_dict()
    empty = DataCoordinate.make_empty(graph.pipeline_graph.universe)
    existing = (
        butler.find_dataset(config_type.name, {}, collections=[graph.run]) if _has_run(butler, graph.run) else None
    )
    if existing is not None:
        stored = butler.get(existing)
        if stored != config:
            raise PipeBaseError(
                f"run {graph.run!r} already holds {config_type.name!r} with a different config; "
                "use a new output run for a changed configuration"
            )
        return
    with butler.transaction():
        butler.put(config, DatasetRef(config_type, empty, graph.run, _config_id(config_type, empty, graph.run)))
        if graph.init_outputs[label]:
            task = task if task is not None else _make_task(butler, graph, label)
            values = task.get_init_output_values()
            for attr, ref in graph.init_outputs[label].items():
                butler.put(values[attr], ref)


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


class SingleQuantumExecutor:
    """Run one quantum against a Butler and record its provenance.

    Parameters
    ----------
    butler : `osprey.daf.butler.Butler`
        Inputs are read and outputs written through it.
    log_level : `int`
        Records at or above this level (of the ``osprey`` logger hierarchy) go into
        ``<label>_log``; the logger's level is lowered to it for the quantum if needed.
    """

    def __init__(self, butler: Any, *, log_level: int = logging.INFO):
        self.butler = butler
        self.log_level = log_level

    def execute(self, graph: QuantumGraph, quantum: Quantum) -> QuantumReport:
        """Run ``quantum``; never raises for a task failure (the report carries it)."""
        start = time.perf_counter()
        report = QuantumReport(quantum.id, quantum.task_label, dict(quantum.data_id.required), SUCCEEDED)
        logger = logging.getLogger("osprey")
        collector = _RecordCollector(self.log_level)
        old_level = logger.level
        if logger.getEffectiveLevel() > self.log_level:
            logger.setLevel(self.log_level)
        logger.addHandler(collector)
        try:
            with self.butler.transaction():
                task = _make_task(self.butler, graph, quantum.task_label)
                inputs = self._present_inputs(quantum.inputs)
                outputs = {attr: list(refs) for attr, refs in quantum.outputs.items()}
                try:
                    inputs, outputs = task.connections.adjust_quantum(
                        inputs, outputs, quantum.task_label, quantum.data_id
                    )
                    context = ButlerQuantumContext(self.butler, inputs, outputs)
                    task.run_quantum(context, self._shape(task, inputs), self._shape(task, outputs))
                except NoWorkFound as err:
                    report.status, report.message = NO_WORK, str(err)
                    task.log.info("no work found: %s", err)
                metadata = task.get_full_metadata()
                metadata["quantum.status"] = report.status
                metadata["quantum.id"] = str(quantum.id)
                self.butler.put(metadata.to_dict(), quantum.metadata_ref)
                logger.removeHandler(collector)
                self.butler.put(list(collector.records), quantum.log_ref)
        except Exception as err:  # noqa: BLE001 - any task failure is reported, not raised
            report.status = FAILED
            report.exception_type = f"{type(err).__module__}.{type(err).__qualname__}"
            report.message = str(err)
            report.traceback = traceback.format_exc()
        finally:
            logger.removeHandler(collector)
            logger.setLevel(old_level)
        report.wall_s = time.perf_counter() - start
        return report

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
    """

    def __init__(self, butler: Any, *, fail_fast: bool = False, log_level: int = logging.INFO):
        self.butler = butler
        self.fail_fast = fail_fast
        self.quantum_executor = SingleQuantumExecutor(butler, log_level=log_level)

    def run(self, graph: QuantumGraph) -> ExecutionReport:
        """Register dataset types, write configs and init-outputs, then run the quanta."""
        report = ExecutionReport()
        if not len(graph):
            return report
        register_graph_dataset_types(self.butler, graph)
        for label, quanta in graph.quanta.items():
            if quanta:
                write_init_outputs(self.butler, graph, label)
        bad: set[uuid.UUID] = set()
        stop = False
        for quantum in graph:
            if stop or any(up.id in bad for up in graph.upstream(quantum)):
                bad.add(quantum.id)
                why = "stopped after a failure (fail_fast)" if stop else "an upstream quantum failed or was blocked"
                report.quanta.append(
                    QuantumReport(quantum.id, quantum.task_label, dict(quantum.data_id.required), BLOCKED, message=why)
                )
                continue
            result = self.quantum_executor.execute(graph, quantum)
            report.quanta.append(result)
            if result.status == FAILED:
                bad.add(quantum.id)
                stop = self.fail_fast
        return report
