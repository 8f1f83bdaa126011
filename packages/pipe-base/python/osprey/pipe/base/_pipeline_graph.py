"""`PipelineGraph`: tasks and dataset types as nodes, validated, drawable."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from osprey.daf.butler import DataIdError, DimensionGroup, DimensionUniverse

from ._connection_types import (
    BaseConnection,
    DimensionedConnection,
    InitInput,
    InitOutput,
    Input,
    Output,
    PrerequisiteInput,
)
from ._connections import PipelineTaskConnections
from ._utils import full_name_of
from .config import PipelineTaskConfig
from .errors import DatasetTypeConflictError, PipeBaseError, PipelineCycleError, PipelineError

__all__ = ["DatasetTypeNode", "Edge", "PipelineGraph", "StepDefinition", "TaskNode"]

_KINDS = {
    Input: "input",
    PrerequisiteInput: "prerequisite",
    Output: "output",
    InitInput: "init_input",
    InitOutput: "init_output",
}


@dataclasses.dataclass(frozen=True)
class StepDefinition:
    """A step: the subset it runs and the dimensions its quanta are sharded by."""

    label: str
    sharding_dimensions: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, eq=False)
class TaskNode:
    """One task of the graph: label, class, frozen config, bound connections, dimensions."""

    label: str
    task_class: type
    config: PipelineTaskConfig
    connections: PipelineTaskConnections
    dimensions: DimensionGroup

    @property
    def task_class_name(self) -> str:
        """Dotted path of the task class."""
        return full_name_of(self.task_class)


@dataclasses.dataclass(frozen=True)
class Edge:
    """A connection: ``kind`` is input, prerequisite, output, init_input or init_output."""

    dataset_type: str
    task: str
    connection: str
    kind: str

    @property
    def is_output(self) -> bool:
        """Whether the task writes the dataset type."""
        return self.kind in ("output", "init_output")


@dataclasses.dataclass(eq=False)
class DatasetTypeNode:
    """One dataset type: its definition (agreed by producer and consumers) and its users."""

    name: str
    storage_class: str
    dimensions: DimensionGroup
    is_calibration: bool
    is_init: bool
    producer: str | None = None
    consumers: list[str] = dataclasses.field(default_factory=list)
    is_prerequisite: bool = False


def _describe(edge: Edge, *_: object) -> str:
    return f"task {edge.task!r} connection {edge.connection!r} ({edge.kind})"


class PipelineGraph:
    """Tasks and dataset types of a pipeline, checked for consistency.

    Parameters
    ----------
    tasks : sequence of (label, task class, config)
        Configs are completed and frozen here.
    universe : `DimensionUniverse`, optional
        Dimensions are checked against it; the default universe when omitted.
    steps : sequence of `StepDefinition`, optional
        With ``subsets`` (name -> labels): validated so that every task is in exactly one
        step, a step never consumes a later step's outputs, and sharding dimensions are
        dimensions of every task in the step.
    subsets : mapping, optional
        Named label subsets (used by ``steps``).

    Raises
    ------
    DatasetTypeConflictError
        Two tasks write one dataset type, or producer and consumers disagree on storage
        class, dimensions, calibration flag or init-ness, or a prerequisite is produced
        in the pipeline.
    PipelineCycleError
        The tasks depend on each other in a cycle.
    PipelineError
        Unknown dimensions, or invalid steps.
    """

    def __init__(
        self,
        tasks: Sequence[tuple[str, type, PipelineTaskConfig]],
        *,
        universe: DimensionUniverse | None = None,
        steps: Sequence[StepDefinition] = (),
        subsets: Mapping[str, Sequence[str]] | None = None,
        description: str = "",
    ):
        self.universe = universe or DimensionUniverse.default()
        self.description = description
        nodes: dict[str, TaskNode] = {}
        declarations: dict[str, list[tuple[Edge, BaseConnection, DimensionGroup]]] = {}
        self.edges: list[Edge] = []
        for label, task_class, config in tasks:
            connections_class = task_class.ConnectionsClass
            connections_class.complete_config(config)
            config.freeze()
            connections = connections_class(config=config)
            task_dims = self._group(connections.dimensions, f"task {label!r} dimensions")
            nodes[label] = TaskNode(label, task_class, config, connections, task_dims)
            for attr, conn in connections.connections.items():
                edge = Edge(conn.name, label, attr, _KINDS[type(conn)])
                dims = (
                    self._group(conn.dimensions, f"task {label!r} connection {attr!r}")
                    if isinstance(conn, DimensionedConnection)
                    else self.universe.empty
                )
                self.edges.append(edge)
                declarations.setdefault(conn.name, []).append((edge, conn, dims))
        self.dataset_types: dict[str, DatasetTypeNode] = {
            name: self._resolve(name, decls) for name, decls in declarations.items()
        }
        order = self._topological_order(nodes)
        self.tasks: dict[str, TaskNode] = {label: nodes[label] for label in order}
        self.steps = tuple(steps)
        if self.steps:
            self._check_steps(subsets or {})

    def _group(self, names: Iterable[str] | None, what: str) -> DimensionGroup:
        try:
            return self.universe.group(names or ())
        except DataIdError as err:
            raise PipelineError(f"{what}: {err}") from None

    def _resolve(self, name: str, decls: list[tuple[Edge, BaseConnection, DimensionGroup]]) -> DatasetTypeNode:
        producers = [d for d in decls if d[0].is_output]
        if len(producers) > 1:
            who = " and ".join(_describe(*d) for d in producers)
            raise DatasetTypeConflictError(f"dataset type {name!r} is produced by more than one task: {who}")
        reference = producers[0] if producers else decls[0]
        ref_edge, ref_conn, ref_dims = reference
        node = DatasetTypeNode(
            name,
            ref_conn.storage_class,
            ref_dims,
            bool(getattr(ref_conn, "is_calibration", False)),
            ref_conn.is_init,
            producer=ref_edge.task if producers else None,
        )
        ref_role = "writes" if producers else "reads"
        for edge, conn, dims in decls:
            if edge is not ref_edge:
                checks = [
                    ("storage class", conn.storage_class, node.storage_class),
                    ("dimensions", dims, node.dimensions),
                    ("is_calibration", bool(getattr(conn, "is_calibration", False)), node.is_calibration),
                    ("init-ness (init connections vs per-quantum)", conn.is_init, node.is_init),
                ]
                for what, theirs, ours in checks:
                    if theirs != ours:
                        if isinstance(theirs, DimensionGroup):
                            theirs, ours = list(theirs.required), list(ours.required)
                        raise DatasetTypeConflictError(
                            f"dataset type {name!r}: {what} conflict: {_describe(edge, conn, dims)} uses {theirs} but "
                            f"{_describe(*reference)} {ref_role} it with {ours}. Make the connections agree, or "
                            "rename one with config.connections.<name>"
                        )
            if not edge.is_output and edge.task not in node.consumers:
                node.consumers.append(edge.task)
        prereqs = [d[0] for d in decls if d[0].kind == "prerequisite"]
        if prereqs and producers:
            raise DatasetTypeConflictError(
                f"dataset type {name!r} is a prerequisite of task {prereqs[0].task!r} but is produced by task "
                f"{node.producer!r}; prerequisites must exist before the pipeline runs (make it an Input)"
            )
        node.is_prerequisite = bool(prereqs) and len(prereqs) == len([d for d in decls if not d[0].is_output])
        return node

    def _topological_order(self, nodes: Mapping[str, TaskNode]) -> list[str]:
        downstream: dict[str, list[str]] = {label: [] for label in nodes}
        indegree = dict.fromkeys(nodes, 0)
        for node in self.dataset_types.values():
            if node.producer is not None:
                for consumer in node.consumers:
                    downstream[node.producer].append(consumer)
                    indegree[consumer] += 1
        ready = [label for label in nodes if indegree[label] == 0]
        order: list[str] = []
        while ready:
            label = ready.pop(0)
            order.append(label)
            for consumer in downstream[label]:
                indegree[consumer] -= 1
                if indegree[consumer] == 0:
                    ready.append(consumer)
        if len(order) < len(nodes):
            remaining = [label for label in nodes if label not in order]
            raise PipelineCycleError(self._find_cycle(remaining, downstream))
        return order

    @staticmethod
    def _find_cycle(remaining: list[str], downstream: Mapping[str, list[str]]) -> list[str]:
        left = set(remaining)
        path: list[str] = []
        on_path: set[str] = set()
        label = remaining[0]
        while label not in on_path:  # every remaining task has a remaining upstream and downstream
            path.append(label)
            on_path.add(label)
            label = next(c for c in downstream[label] if c in left)
        return path[path.index(label) :] + [label]

    def _check_steps(self, subsets: Mapping[str, Sequence[str]]) -> None:
        step_of: dict[str, int] = {}
        for index, step in enumerate(self.steps):
            if step.label not in subsets:
                raise PipelineError(f"step {step.label!r} is not a subset; define subsets.{step.label}")
            sharding = self._group(step.sharding_dimensions, f"step {step.label!r} sharding dimensions")
            for label in subsets[step.label]:
                if label in step_of:
                    raise PipelineError(
                        f"task {label!r} is in steps {self.steps[step_of[label]].label!r} and {step.label!r}; "
                        "each task must be in exactly one step"
                    )
                step_of[label] = index
                task = self.tasks[label]
                if not sharding.issubset(task.dimensions):
                    extra = sorted(set(sharding.names) - set(task.dimensions.names))
                    raise PipelineError(
                        f"step {step.label!r} shards by {list(step.sharding_dimensions)}, but task {label!r} has no "
                        f"dimension(s) {extra} (its dimensions: {list(task.dimensions.required)})"
                    )
        unassigned = [label for label in self.tasks if label not in step_of]
        if unassigned:
            raise PipelineError(f"tasks {unassigned} are in no step; when steps are defined every task needs one")
        for node in self.dataset_types.values():
            if node.producer is None:
                continue
            for consumer in node.consumers:
                if step_of[consumer] < step_of[node.producer]:
                    raise PipelineError(
                        f"task {consumer!r} (step {self.steps[step_of[consumer]].label!r}) reads {node.name!r} "
                        f"from task {node.producer!r} of the later step {self.steps[step_of[node.producer]].label!r}"
                    )

    # -------------------------------------------------------------------- queries
    @property
    def overall_inputs(self) -> dict[str, DatasetTypeNode]:
        """Regular inputs no task produces (they must be in the input collections)."""
        return {n: d for n, d in self.dataset_types.items() if d.producer is None and not d.is_prerequisite}

    @property
    def prerequisite_inputs(self) -> dict[str, DatasetTypeNode]:
        """Dataset types only ever used as prerequisites."""
        return {n: d for n, d in self.dataset_types.items() if d.is_prerequisite}

    @property
    def outputs(self) -> dict[str, DatasetTypeNode]:
        """Dataset types written by a task of the pipeline."""
        return {n: d for n, d in self.dataset_types.items() if d.producer is not None}

    def producer_of(self, name: str) -> str | None:
        """Label of the task writing ``name`` (None for an overall input)."""
        return self.dataset_types[name].producer

    def consumers_of(self, name: str) -> list[str]:
        """Labels of the tasks reading ``name``."""
        return list(self.dataset_types[name].consumers)

    def task_edges(self) -> set[tuple[str, str]]:
        """(upstream label, downstream label) pairs."""
        return {(d.producer, c) for d in self.dataset_types.values() if d.producer for c in d.consumers}

    # ------------------------------------------------------------------- drawing
    def to_dot(self) -> str:
        """Graphviz ``dot`` text: boxes for tasks, ellipses for dataset types, dashed
        edges for prerequisites, dotted ones for init-inputs/outputs."""

        def q(text: str) -> str:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

        lines = ["digraph pipeline {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
        for label, task in self.tasks.items():
            text = f"{label}\\n{task.task_class.__name__}"
            lines.append(
                f'  {q("task:" + label)} [shape=box, style="rounded,filled", fillcolor="#dbe8f5", label="{text}"];'
            )
        for name, node in self.dataset_types.items():
            dims = ", ".join(node.dimensions.required)
            text = f"{name}\\n{{{dims}}}\\n{node.storage_class}"
            lines.append(f'  {q("dataset:" + name)} [shape=ellipse, label="{text}"];')
        for edge in self.edges:
            style = {
                "prerequisite": " [style=dashed]",
                "init_input": " [style=dotted]",
                "init_output": " [style=dotted]",
            }.get(edge.kind, "")
            task, dataset = q("task:" + edge.task), q("dataset:" + edge.dataset_type)
            lines.append(f"  {task} -> {dataset}{style};" if edge.is_output else f"  {dataset} -> {task}{style};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_mermaid(self) -> str:
        """Mermaid ``flowchart`` text (renders in GitHub/GitLab markdown): rectangles for
        tasks (``task_<label>``), stadiums for dataset types (``ds_<name>``), dotted arrows
        for prerequisites and init connections."""
        lines = ["flowchart TD"]
        for label, task in self.tasks.items():
            lines.append(f'  task_{label}["{label}<br>{task.task_class.__name__}"]')
        for name, node in self.dataset_types.items():
            lines.append(f'  ds_{name}(["{name}<br>{node.storage_class}"])')
        for edge in self.edges:
            arrow = "-->" if edge.kind in ("input", "output") else "-.->"
            task, dataset = f"task_{edge.task}", f"ds_{edge.dataset_type}"
            lines.append(f"  {task} {arrow} {dataset}" if edge.is_output else f"  {dataset} {arrow} {task}")
        return "\n".join(lines) + "\n"

    def render(self, path: str | Path, format: str | None = None) -> Path:
        """Draw the graph with Graphviz ``dot`` into ``path`` (format from the suffix:
        png, svg, pdf...).

        Raises
        ------
        PipeBaseError
            If ``dot`` is not installed (install graphviz, or use `to_dot`), or it fails.
        """
        path = Path(path)
        fmt = format or path.suffix.lstrip(".") or "svg"
        dot = shutil.which("dot")
        if dot is None:
            raise PipeBaseError("the Graphviz 'dot' program is not on PATH; install graphviz or write to_dot() text")
        result = subprocess.run(
            [dot, f"-T{fmt}", "-o", str(path)], input=self.to_dot(), text=True, capture_output=True, check=False
        )
        if result.returncode != 0:
            raise PipeBaseError(f"dot -T{fmt} failed: {result.stderr.strip()}")
        return path

    def __repr__(self) -> str:
        return f"PipelineGraph(tasks={list(self.tasks)}, dataset_types={len(self.dataset_types)})"
