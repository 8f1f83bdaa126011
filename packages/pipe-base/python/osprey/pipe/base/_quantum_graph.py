"""`QuantumGraph`: every quantum (one task on one data ID) of a pipeline, with resolved refs.

Built by `build_quantum_graph` from a `PipelineGraph`, a Butler, input collections, an
output run and a ``where`` clause (LSST pipelines paper §11.1): one joint data-ID query over
the dimensions of all tasks and their datasets, constrained by the existence of the
pipeline's overall inputs; the rows are then grouped per task into quanta.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from osprey.daf.butler import (
    DataCoordinate,
    DatasetIdGenEnum,
    DatasetRef,
    DatasetType,
    DimensionGroup,
    MissingCollectionError,
    make_dataset_id,
)

from ._connection_types import PrerequisiteInput
from ._pipeline_graph import PipelineGraph
from ._utils import full_name_of, import_by_name
from .errors import NoWorkFound, PipeBaseError

__all__ = [
    "OutputExistsError",
    "Quantum",
    "QuantumGraph",
    "build_quantum_graph",
    "config_dataset_type",
    "log_dataset_type",
    "metadata_dataset_type",
]

FORMAT_VERSION = 1
# Fixed namespace of quantum IDs (UUID5 of label + data ID + run); never change it.
_QUANTUM_NAMESPACE = uuid.UUID("5d6b0c52-8f39-4c1e-a6c2-0e41f1a7d2b3")


class OutputExistsError(PipeBaseError):
    """Outputs of quanta to be run already exist in the output run."""


def config_dataset_type(label: str, universe: Any) -> DatasetType:
    """``<label>_config``: the task's frozen config, once per run (empty data ID)."""
    return DatasetType(f"{label}_config", (), "StructuredDataDict", universe)


def metadata_dataset_type(label: str, dimensions: DimensionGroup) -> DatasetType:
    """``<label>_metadata``: the task's `TaskMetadata` of one quantum; its existence marks the quantum done."""
    return DatasetType(f"{label}_metadata", dimensions.names, "StructuredDataDict", dimensions.universe)


def log_dataset_type(label: str, dimensions: DimensionGroup) -> DatasetType:
    """``<label>_log``: the log records of one quantum as a list of dicts."""
    return DatasetType(f"{label}_log", dimensions.names, "StructuredDataList", dimensions.universe)


# Made once per task rather than once per quantum (graph building makes millions of refs).
_cached_metadata_type = functools.lru_cache(maxsize=1024)(metadata_dataset_type)
_cached_log_type = functools.lru_cache(maxsize=1024)(log_dataset_type)


def _output_ref(dataset_type: DatasetType, data_id: DataCoordinate, run: str) -> DatasetRef:
    """The ref `Butler.put` makes with ``DATAID_TYPE_RUN``: the same UUID on every build."""
    coordinate = DataCoordinate.standardize(data_id.required, dimensions=dataset_type.dimensions)
    return DatasetRef(
        dataset_type, coordinate, run, make_dataset_id(dataset_type, coordinate, run, DatasetIdGenEnum.DATAID_TYPE_RUN)
    )


@dataclasses.dataclass(eq=False)
class Quantum:
    """One task run on one data ID.

    ``inputs`` (regular and prerequisite) and ``outputs`` map connection attribute names to
    lists of resolved refs; ``metadata_ref`` and ``log_ref`` are the provenance outputs.
    """

    id: uuid.UUID
    task_label: str
    data_id: DataCoordinate
    inputs: dict[str, list[DatasetRef]]
    outputs: dict[str, list[DatasetRef]]
    metadata_ref: DatasetRef
    log_ref: DatasetRef

    def all_outputs(self) -> list[DatasetRef]:
        """Connection outputs, then metadata and log."""
        return [r for refs in self.outputs.values() for r in refs] + [self.metadata_ref, self.log_ref]

    def __repr__(self) -> str:
        return f"Quantum({self.task_label!r}, {self.data_id})"


class QuantumGraph:
    """Quanta per task label (in pipeline order) plus what produced them.

    Attributes
    ----------
    pipeline_graph : `PipelineGraph`
        Tasks, configs and dataset types.
    run : `str`
        The output RUN collection.
    input_collections : `list` [`str`]
        Where inputs were found.
    quanta : `dict` [`str`, `list` [`Quantum`]]
        Per task label, sorted by data ID.
    init_inputs, init_outputs : `dict` [`str`, `dict` [`str`, `DatasetRef`]]
        Per task label, by connection attribute.
    empty_reasons : `list` [`str`]
        Why the graph has no quanta (empty when it has some).
    skipped : `dict` [`str`, `int`]
        Quanta dropped per task because they are done in ``skip_existing_in``.
    no_work : `dict` [`str`, `int`]
        Quanta dropped per task by ``adjust_quantum`` (`NoWorkFound`), e.g. missing inputs.
    """

    def __init__(
        self,
        pipeline_graph: PipelineGraph,
        run: str,
        input_collections: Sequence[str],
        quanta: Mapping[str, list[Quantum]],
        *,
        init_inputs: Mapping[str, dict[str, DatasetRef]] | None = None,
        init_outputs: Mapping[str, dict[str, DatasetRef]] | None = None,
        where: str = "",
        empty_reasons: Sequence[str] = (),
        skipped: Mapping[str, int] | None = None,
        no_work: Mapping[str, int] | None = None,
        input_records: Mapping[uuid.UUID, Mapping[str, Any]] | None = None,
    ):
        self.pipeline_graph = pipeline_graph
        self.run = run
        self.input_collections = list(input_collections)
        self.quanta = {label: list(quanta.get(label, [])) for label in pipeline_graph.tasks}
        self.init_inputs = {label: dict((init_inputs or {}).get(label, {})) for label in pipeline_graph.tasks}
        self.init_outputs = {label: dict((init_outputs or {}).get(label, {})) for label in pipeline_graph.tasks}
        self.where = where
        self.empty_reasons = list(empty_reasons)
        self.skipped = dict(skipped or {})
        self.no_work = dict(no_work or {})
        self.input_records = {k: dict(v) for k, v in (input_records or {}).items()}
        self._by_id = {q.id: q for qs in self.quanta.values() for q in qs}
        self._producer = {ref.id: q for q in self._by_id.values() for refs in q.outputs.values() for ref in refs}

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Quantum]:
        """Quanta in an order where every quantum follows its upstream quanta."""
        for quanta in self.quanta.values():
            yield from quanta

    def get_quantum(self, quantum_id: uuid.UUID) -> Quantum:
        """The quantum with this ID."""
        return self._by_id[quantum_id]

    def upstream(self, quantum: Quantum) -> list[Quantum]:
        """Quanta of this graph that produce an input of ``quantum``."""
        found: dict[uuid.UUID, Quantum] = {}
        for refs in quantum.inputs.values():
            for ref in refs:
                producer = self._producer.get(ref.id)
                if producer is not None:
                    found[producer.id] = producer
        return list(found.values())

    def dataset_types(self) -> dict[str, DatasetType]:
        """Every dataset type the graph writes (connection outputs, init-outputs, provenance)."""
        universe = self.pipeline_graph.universe
        out: dict[str, DatasetType] = {}
        for label, task in self.pipeline_graph.tasks.items():
            for refs in self.init_outputs[label].values():
                out[refs.dataset_type.name] = refs.dataset_type
            for dt in (
                config_dataset_type(label, universe),
                metadata_dataset_type(label, task.dimensions),
                log_dataset_type(label, task.dimensions),
            ):
                out[dt.name] = dt
        for name, node in self.pipeline_graph.outputs.items():
            if not node.is_init:
                out[name] = _dataset_type_of(name, node)
        return out

    def summary(self) -> dict[str, int]:
        """Number of quanta per task label."""
        return {label: len(quanta) for label, quanta in self.quanta.items()}

    def __repr__(self) -> str:
        return f"QuantumGraph(run={self.run!r}, quanta={self.summary()})"

    # ------------------------------------------------------------------ drawing
    def to_dot(self) -> str:
        """Graphviz text: one box per quantum, one ellipse per dataset, edges in data order."""

        def q(text: str) -> str:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

        def ids(data_id: DataCoordinate) -> str:
            return ", ".join(f"{k}={v}" for k, v in data_id.required.items())

        lines = ["digraph quantum_graph {", '  node [fontname="Helvetica", fontsize=10];']
        seen: set[uuid.UUID] = set()

        def dataset(ref: DatasetRef) -> str:
            name = q(f"ds:{ref.id}")
            if ref.id not in seen:
                seen.add(ref.id)
                lines.append(
                    f"  {name} [shape=ellipse, label={q(ref.dataset_type.name + chr(10) + ids(ref.data_id))}];"
                )
            return name

        for quantum in self:
            node = q(f"q:{quantum.id}")
            text = f"{quantum.task_label}\n{ids(quantum.data_id)}"
            lines.append(f'  {node} [shape=box, style="rounded,filled", fillcolor="#dbe8f5", label={q(text)}];')
            for refs in quantum.inputs.values():
                for ref in refs:
                    lines.append(f"  {dataset(ref)} -> {node};")
            for refs in quantum.outputs.values():
                for ref in refs:
                    lines.append(f"  {node} -> {dataset(ref)};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------ serialization
    def to_dict(self) -> dict[str, Any]:
        """Compact JSON-ready form: runs and dataset types are listed once and referred to by
        index; a ref is ``[uuid hex, run index, data ID values...]`` in the order of its
        dataset type's required dimensions."""
        runs: dict[str, int] = {}

        def ref_row(ref: DatasetRef) -> list[Any]:
            run = runs.setdefault(ref.run, len(runs))
            return [ref.id.hex, run, *ref.data_id.required.values()]

        def refs_of(mapping: Mapping[str, Any]) -> dict[str, Any]:
            return {
                attr: ([ref_row(r) for r in refs] if isinstance(refs, list) else ref_row(refs))
                for attr, refs in mapping.items()
            }

        tasks = [
            {
                "label": label,
                "class": full_name_of(task.task_class),
                "config": task.config.to_dict(),
                "init_inputs": refs_of(self.init_inputs[label]),
                "init_outputs": refs_of(self.init_outputs[label]),
                "quanta": [
                    [list(qu.data_id.required.values()), refs_of(qu.inputs), refs_of(qu.outputs)]
                    for qu in self.quanta[label]
                ],
            }
            for label, task in self.pipeline_graph.tasks.items()
        ]
        return {
            "version": FORMAT_VERSION,
            "run": self.run,
            "input_collections": self.input_collections,
            "where": self.where,
            "description": self.pipeline_graph.description,
            "empty_reasons": self.empty_reasons,
            "skipped": self.skipped,
            "no_work": self.no_work,
            "tasks": tasks,
            "runs": list(runs),
            "input_records": {
                k.hex: [r["path"], r["formatter"], r["storage_class"]] for k, r in self.input_records.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], universe: Any = None) -> QuantumGraph:
        """Inverse of `to_dict` (task classes are imported by their dotted paths)."""
        if data.get("version") != FORMAT_VERSION:
            raise PipeBaseError(f"quantum graph format version {data.get('version')!r} is not {FORMAT_VERSION}")
        task_specs = []
        for spec in data["tasks"]:
            task_class = import_by_name(spec["class"])
            config = task_class.ConfigClass.from_dict(spec["config"])
            task_specs.append((spec["label"], task_class, config))
        pipeline_graph = PipelineGraph(task_specs, universe=universe, description=data.get("description", ""))
        runs = data["runs"]
        run = data["run"]

        def resolve(dataset_type: DatasetType, row: list[Any]) -> DatasetRef:
            values = dict(zip(dataset_type.dimensions.required, row[2:], strict=True))
            coordinate = DataCoordinate.standardize(values, dimensions=dataset_type.dimensions)
            return DatasetRef(dataset_type, coordinate, runs[row[1]], uuid.UUID(hex=row[0]))

        quanta: dict[str, list[Quantum]] = {}
        init_in: dict[str, dict[str, DatasetRef]] = {}
        init_out: dict[str, dict[str, DatasetRef]] = {}
        for spec in data["tasks"]:
            label = spec["label"]
            task = pipeline_graph.tasks[label]
            types = {
                attr: _dataset_type_of(conn.name, pipeline_graph.dataset_types[conn.name])
                for attr, conn in task.connections.connections.items()
            }
            init_in[label] = {a: resolve(types[a], row) for a, row in spec["init_inputs"].items()}
            init_out[label] = {a: resolve(types[a], row) for a, row in spec["init_outputs"].items()}
            built = []
            for values, inputs, outputs in spec["quanta"]:
                data_id = DataCoordinate.standardize(
                    dict(zip(task.dimensions.required, values, strict=True)), dimensions=task.dimensions
                )
                built.append(
                    _make_quantum(
                        label,
                        task.dimensions,
                        data_id,
                        run,
                        {a: [resolve(types[a], r) for r in rows] for a, rows in inputs.items()},
                        {a: [resolve(types[a], r) for r in rows] for a, rows in outputs.items()},
                    )
                )
            quanta[label] = built
        return cls(
            pipeline_graph,
            run,
            data["input_collections"],
            quanta,
            init_inputs=init_in,
            init_outputs=init_out,
            where=data.get("where", ""),
            empty_reasons=data.get("empty_reasons", ()),
            skipped=data.get("skipped"),
            no_work=data.get("no_work"),
            input_records={
                uuid.UUID(hex=k): dict(zip(("path", "formatter", "storage_class"), v, strict=True))
                for k, v in data.get("input_records", {}).items()
            },
        )

    def save(self, path: str | Path) -> Path:
        """Write compact JSON, gzip-compressed when ``path`` ends in ``.gz`` (e.g. ``.qgraph.json.gz``)."""
        path = Path(path)
        text = json.dumps(self.to_dict(), separators=(",", ":"))
        if path.suffix == ".gz":
            with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as stream:
                stream.write(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path, universe: Any = None) -> QuantumGraph:
        """Read a graph written by `save` (gzip detected from the file's magic bytes)."""
        path = Path(path)
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return cls.from_dict(json.loads(raw.decode("utf-8")), universe=universe)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantumGraph):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _dataset_type_of(name: str, node: Any) -> DatasetType:
    return DatasetType(
        name, node.dimensions.names, node.storage_class, node.dimensions.universe, is_calibration=node.is_calibration
    )


def _make_quantum(
    label: str,
    task_dimensions: DimensionGroup,
    data_id: DataCoordinate,
    run: str,
    inputs: dict[str, list[DatasetRef]],
    outputs: dict[str, list[DatasetRef]],
) -> Quantum:
    key = ",".join(f"{k}={v!r}" for k, v in data_id.required.items())
    return Quantum(
        id=uuid.uuid5(_QUANTUM_NAMESPACE, f"{label}|{key}|{run}"),
        task_label=label,
        data_id=data_id,
        inputs=inputs,
        outputs=outputs,
        metadata_ref=_output_ref(_cached_metadata_type(label, task_dimensions), data_id, run),
        log_ref=_output_ref(_cached_log_type(label, task_dimensions), data_id, run),
    )


def _existing(butler: Any, dataset_type: str, collections: Sequence[str]) -> dict[DataCoordinate, DatasetRef]:
    """Find-first refs of one dataset type, by data ID; nothing when the type or a collection is unknown."""
    if not collections:
        return {}
    try:
        butler.registry.get_dataset_type(dataset_type)
        refs = butler.query_datasets(dataset_type, collections=list(collections), find_first=True)
    except (LookupError, MissingCollectionError):
        return {}
    return {ref.data_id: ref for ref in refs}


def _explain_empty(
    butler: Any,
    graph: PipelineGraph,
    dimensions: DimensionGroup,
    collections: list[str],
    where: str,
    bind: Mapping[str, Any] | None,
    data_id: Mapping[str, Any] | None,
    inputs: list[str],
) -> list[str]:
    reasons = []
    for name in inputs:
        try:
            butler.registry.get_dataset_type(name)
        except LookupError:
            consumers = graph.consumers_of(name)
            reasons.append(f"overall input {name!r} (read by {consumers}) is not a registered dataset type")
            continue
        refs = butler.query_datasets(name, collections=collections)
        if not refs:
            why = "; ".join(refs.explain_no_results()) or "no datasets"
            reasons.append(f"no {name!r} datasets in input collections {collections}: {why}")
    if reasons:
        return reasons
    rows = butler.query_data_ids(dimensions.names, data_id, where=where, bind=bind)
    if not rows:
        why = "; ".join(rows.explain_no_results()) or "no data IDs"
        return [f"no data IDs over {list(dimensions.required)} match where {where!r}: {why}"]
    return [
        f"the overall inputs {inputs} exist in {collections} and data IDs match where {where!r}, but no data ID "
        "has all of the inputs together"
    ]


def build_quantum_graph(
    pipeline_graph: PipelineGraph | Any,
    butler: Any,
    input_collections: str | Iterable[str],
    output_run: str,
    where: str = "",
    *,
    bind: Mapping[str, Any] | None = None,
    data_id: Mapping[str, Any] | None = None,
    skip_existing_in: str | Iterable[str] | None = None,
    clobber_outputs: bool = False,
    datastore_records: bool = False,
) -> QuantumGraph:
    """Plan every quantum of a pipeline.

    Parameters
    ----------
    pipeline_graph : `PipelineGraph` or `Pipeline`
        What to run (a `Pipeline` is turned into its graph).
    butler : `osprey.daf.butler.Butler`
        The repository; only read here.
    input_collections : `str` or iterable of `str`
        Search path for overall inputs, prerequisites and init-inputs.
    output_run : `str`
        The RUN collection the outputs will go to (it is searched first for init-inputs).
    where : `str`
        A query expression restricting the data IDs (``"visit IN (100..102) AND detector != 3"``).
    bind, data_id : mapping, optional
        Bind values of ``where`` and equality constraints, as in `Butler.query_data_ids`.
    skip_existing_in : `str` or iterable of `str`, optional
        Quanta whose ``<label>_metadata`` exists (find-first) in these collections are done:
        they are left out and their existing outputs feed downstream quanta.
    clobber_outputs : `bool`
        Outputs already in ``output_run`` for quanta that will run (annotated partial outputs
        of failed attempts, or everything when not skipping) are allowed; the executor removes
        them just before the quantum runs. Without it they are an `OutputExistsError`, except
        the ``<label>_log`` of a failed attempt (a log without metadata), always replaced.
    datastore_records : `bool`
        Store the file records (path, formatter) of every input that comes from outside
        the graph, so `QuantumBackedButler` can run the quanta without the registry.

    Returns
    -------
    graph : `QuantumGraph`
        Possibly empty; then ``graph.empty_reasons`` says which dataset type, collection or
        where term removed everything.

    Raises
    ------
    OutputExistsError
        An output (or ``<label>_metadata``) of a quantum to be run already exists in
        ``output_run``; name a new run or pass ``skip_existing_in=[output_run]``.
    PrerequisiteMissingError
        A prerequisite is missing for a quantum (from ``adjust_quantum``).
    """
    if not isinstance(pipeline_graph, PipelineGraph):
        pipeline_graph = pipeline_graph.to_graph(universe=butler.universe)
    collections = [input_collections] if isinstance(input_collections, str) else list(input_collections)
    skip_in = [skip_existing_in] if isinstance(skip_existing_in, str) else list(skip_existing_in or [])
    universe = pipeline_graph.universe
    types = {name: _dataset_type_of(name, node) for name, node in pipeline_graph.dataset_types.items()}

    overall = [n for n, node in pipeline_graph.overall_inputs.items() if not node.is_init]
    names: set[str] = set()
    for task in pipeline_graph.tasks.values():
        names.update(task.dimensions.names)
        for conn in (*task.connections.inputs.values(), *task.connections.outputs.values()):
            names.update(types[conn.name].dimensions.names)
    dimensions = universe.group(names)

    registered = []
    for name in overall:
        try:
            butler.registry.get_dataset_type(name)
            registered.append(name)
        except LookupError:
            pass
    rows = []
    if len(registered) == len(overall):
        rows = butler.query_data_ids(
            dimensions.names,
            data_id,
            where=where,
            bind=bind,
            datasets=overall or None,
            collections=collections if overall else None,
        )
    if not rows and pipeline_graph.tasks:
        reasons = _explain_empty(butler, pipeline_graph, dimensions, collections, where, bind, data_id, overall)
        return QuantumGraph(pipeline_graph, output_run, collections, {}, where=where, empty_reasons=reasons)

    available: dict[str, dict[DataCoordinate, DatasetRef]] = {
        name: _existing(butler, name, collections) for name in overall
    }
    in_run_search = [output_run] if _run_exists(butler, output_run) else []
    conflicts: list[DatasetRef] = []
    quanta: dict[str, list[Quantum]] = {}
    init_inputs: dict[str, dict[str, DatasetRef]] = {}
    init_outputs: dict[str, dict[str, DatasetRef]] = {}
    skipped: dict[str, int] = {}
    no_work: dict[str, int] = {}
    empty_id = DataCoordinate.make_empty(universe)
    for label, task in pipeline_graph.tasks.items():
        conns = task.connections
        init_outputs[label] = {
            a: _output_ref(types[c.name], empty_id, output_run) for a, c in conns.init_outputs.items()
        }
        init_inputs[label] = {}
        for attr, conn in conns.init_inputs.items():
            producer = pipeline_graph.producer_of(conn.name)
            if producer is not None:
                init_inputs[label][attr] = init_outputs[producer][_attr_of(pipeline_graph, producer, conn.name)]
            else:
                ref = butler.find_dataset(conn.name, {}, collections=in_run_search + collections)
                if ref is None:
                    raise PipeBaseError(
                        f"task {label!r}: init-input {attr!r} ({conn.name}) is not in {in_run_search + collections}"
                    )
                init_inputs[label][attr] = ref
        done = _existing(butler, metadata_dataset_type(label, task.dimensions).name, skip_in)
        in_run = {
            name: _existing(butler, name, in_run_search)
            for name in [*(c.name for c in conns.outputs.values()), f"{label}_metadata", f"{label}_log"]
        }
        groups: dict[DataCoordinate, dict[str, dict[DataCoordinate, None]]] = {}
        for row in rows:
            key = row.subset(task.dimensions)
            per = groups.setdefault(key, {})
            for attr, conn in (*conns.inputs.items(), *conns.outputs.items()):
                per.setdefault(attr, {})[row.subset(types[conn.name].dimensions)] = None
        built: list[Quantum] = []
        for key in sorted(groups, key=lambda c: tuple(c.required.values())):
            per = groups[key]
            inputs: dict[str, list[DatasetRef]] = {}
            for attr, conn in conns.inputs.items():
                source = available.get(conn.name, {})
                inputs[attr] = [source[d] for d in per.get(attr, {}) if d in source]
            for attr, conn in conns.prerequisite_inputs.items():
                inputs[attr] = _find_prerequisite(butler, conn, types[conn.name], key, collections)
            if key in done:
                skipped[label] = skipped.get(label, 0) + 1
                for attr, conn in conns.outputs.items():
                    existing = _existing_outputs(butler, conn.name, per.get(attr, {}), skip_in)
                    available.setdefault(conn.name, {}).update(existing)
                continue
            outputs = {
                attr: [_output_ref(types[conn.name], d, output_run) for d in per.get(attr, {})]
                for attr, conn in conns.outputs.items()
            }
            try:
                inputs, outputs = conns.adjust_quantum(inputs, outputs, label, key)
            except NoWorkFound:
                no_work[label] = no_work.get(label, 0) + 1
                continue
            quantum = _make_quantum(label, task.dimensions, key, output_run, inputs, outputs)
            if not clobber_outputs:
                for ref in quantum.all_outputs():
                    existing_ref = in_run.get(ref.dataset_type.name, {}).get(ref.data_id)
                    if existing_ref is not None and ref.id != quantum.log_ref.id:
                        conflicts.append(existing_ref)
            for attr, conn in conns.outputs.items():
                available.setdefault(conn.name, {}).update((r.data_id, r) for r in outputs.get(attr, []))
            built.append(quantum)
        quanta[label] = built
    if conflicts:
        shown = ", ".join(f"{r.dataset_type.name}@{dict(r.data_id.required)}" for r in conflicts[:5])
        more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
        raise OutputExistsError(
            f"{len(conflicts)} output(s) of quanta to run already exist in run {output_run!r}: {shown}{more}. "
            f"Pass skip_existing_in=[{output_run!r}] to skip finished quanta, clobber_outputs=True to replace "
            "them, or write to a new run"
        )
    graph = QuantumGraph(
        pipeline_graph,
        output_run,
        collections,
        quanta,
        init_inputs=init_inputs,
        init_outputs=init_outputs,
        where=where,
        skipped=skipped,
        no_work=no_work,
    )
    if datastore_records:
        graph.input_records = _external_records(butler, graph)
    if not len(graph):
        parts = [f"{n} quanta of {label!r} are already done in {skip_in}" for label, n in skipped.items()]
        parts += [f"{n} quanta of {label!r} had no work (adjust_quantum)" for label, n in no_work.items()]
        graph.empty_reasons = parts or ["no quanta"]
    return graph


def _external_records(butler: Any, graph: QuantumGraph) -> dict[uuid.UUID, dict[str, Any]]:
    """File records of the inputs and init-inputs the graph does not produce itself."""
    produced = {r.id for q in graph for r in q.all_outputs()}
    produced.update(r.id for refs in graph.init_outputs.values() for r in refs.values())
    wanted = {r.id for q in graph for refs in q.inputs.values() for r in refs}
    wanted.update(r.id for refs in graph.init_inputs.values() for r in refs.values())
    records = getattr(butler.datastore, "records", None)
    if records is None:
        raise PipeBaseError("datastore records for quantum-backed execution need a file datastore")
    return {k: {f: v[f] for f in ("path", "formatter", "storage_class")} for k, v in records(wanted - produced).items()}


def _attr_of(graph: PipelineGraph, label: str, dataset_type: str) -> str:
    for attr, conn in graph.tasks[label].connections.connections.items():
        if conn.name == dataset_type:
            return attr
    raise PipeBaseError(f"task {label!r} has no connection for {dataset_type!r}")


def _run_exists(butler: Any, run: str) -> bool:
    try:
        butler.registry.get_collection_type(run)
    except (LookupError, MissingCollectionError):
        return False
    return True


def _existing_outputs(
    butler: Any, name: str, data_ids: Iterable[DataCoordinate], collections: Sequence[str]
) -> dict[DataCoordinate, DatasetRef]:
    found = {}
    for data_id in data_ids:
        ref = butler.find_dataset(name, data_id.required, collections=list(collections))
        if ref is not None:
            found[data_id] = ref
    return found


def _find_prerequisite(
    butler: Any, conn: PrerequisiteInput, dataset_type: DatasetType, data_id: DataCoordinate, collections: list[str]
) -> list[DatasetRef]:
    if conn.lookup_function is not None:
        return list(conn.lookup_function(dataset_type, butler, data_id, collections))
    values = dict(data_id)
    if not dataset_type.is_calibration:
        values = {k: v for k, v in values.items() if k in dataset_type.dimensions.names}
    try:
        ref = butler.find_dataset(dataset_type.name, values, collections=collections)
    except (LookupError, MissingCollectionError):
        return []
    return [ref] if ref is not None else []
