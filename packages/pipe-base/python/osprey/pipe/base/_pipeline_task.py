"""`PipelineTask`: a `Task` whose inputs and outputs are declared by its connections.

``run`` is pure (Python objects in, a `Struct` or dataclass out) and is what tests call;
``run_quantum`` does the I/O through a `QuantumContext` (get, run, put).
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Mapping, MutableMapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from ._connection_types import BaseConnection
from ._connections import PipelineTaskConnections
from ._task import Task
from ._utils import did_you_mean
from .config import PipelineTaskConfig
from .errors import (
    AlgorithmError,
    AnnotatedPartialOutputsError,
    ConfigError,
    ConnectionsDefinitionError,
    PipeBaseError,
)

__all__ = ["ButlerQuantumContext", "DeferredDatasetHandle", "PipelineTask", "QuantumContext"]

ConfigT = TypeVar("ConfigT", bound=PipelineTaskConfig)
ConnectionsT = TypeVar("ConnectionsT", bound=PipelineTaskConnections)


@runtime_checkable
class QuantumContext(Protocol):
    """What `PipelineTask.run_quantum` needs to read and write one quantum's datasets.

    The executor passes a `ButlerQuantumContext`; tests pass any object with these two
    methods (see `osprey.pipe.base.testing.InMemoryQuantumContext`).
    """

    def get(self, ref: Any) -> Any:
        """Read the dataset ``ref``."""
        ...

    def put(self, obj: Any, ref: Any) -> None:
        """Write ``obj`` as the dataset ``ref``."""
        ...


class ButlerQuantumContext:
    """A `QuantumContext` backed by a Butler; only the quantum's declared refs may be used.

    Parameters
    ----------
    butler : `osprey.daf.butler.Butler`
        Reads by resolved ref; writes each output ref into its run with its dataset ID.
    input_refs, output_refs : iterable of `osprey.daf.butler.DatasetRef`, optional
        When given, `get`/`put` of any other ref is refused (a task cannot read or write
        datasets the graph does not know about).
    defer_writes : `bool`
        Hold outputs in memory until `flush`: the executor writes them together with the
        quantum's provenance in one short transaction, so no database lock is held while
        the task computes (SQLite has a single writer) and a failure leaves nothing behind.
    """

    def __init__(self, butler: Any, input_refs: Any = None, output_refs: Any = None, *, defer_writes: bool = False):
        self.butler = butler
        self._allowed_inputs = None if input_refs is None else {r.id for r in _flatten(input_refs)}
        self._allowed_outputs = None if output_refs is None else {r.id for r in _flatten(output_refs)}
        self.defer_writes = defer_writes
        self.pending: dict[Any, tuple[Any, Any]] = {}
        self.written: list[Any] = []

    def get(self, ref: Any) -> Any:
        if self._allowed_inputs is not None and ref.id not in self._allowed_inputs:
            raise PipeBaseError(f"{ref} is not an input of this quantum")
        return self.butler.get(ref)

    def put(self, obj: Any, ref: Any) -> None:
        if self._allowed_outputs is not None and ref.id not in self._allowed_outputs:
            raise PipeBaseError(f"{ref} is not an output of this quantum")
        if not self.defer_writes:
            self.written.append(self.butler.put(obj, ref))
        elif ref.id in self.pending:
            raise PipeBaseError(f"{ref} was already written by this quantum")
        else:
            self.pending[ref.id] = (obj, ref)

    def flush(self) -> None:
        """Write the held outputs (call inside a Butler transaction)."""
        for obj, ref in self.pending.values():
            self.written.append(self.butler.put(obj, ref))
        self.pending.clear()


def _flatten(refs: Any) -> list[Any]:
    if isinstance(refs, Mapping):
        refs = list(refs.values())
    out: list[Any] = []
    for item in refs:
        out.extend(item if isinstance(item, list | tuple) else [item])
    return out


class DeferredDatasetHandle:
    """What a ``deferred_load`` input receives: call `get` when (and if) the data is needed."""

    def __init__(self, context: QuantumContext, ref: Any):
        self.context, self.ref = context, ref

    def get(self) -> Any:
        """Read the dataset now."""
        return self.context.get(self.ref)

    def __repr__(self) -> str:
        return f"DeferredDatasetHandle({self.ref!r})"


def _generic_args(cls: type) -> tuple[Any, ...] | None:
    for base in cls.__dict__.get("__orig_bases__", ()):
        origin = typing.get_origin(base)
        if isinstance(origin, type) and issubclass(origin, PipelineTask):
            return typing.get_args(base)
    return None


def _check_run_signature(cls: type[PipelineTask]) -> None:
    run = getattr(cls, "run", None)
    if not callable(run):
        raise ConnectionsDefinitionError(f"{cls.__name__} must define run(self, *, <one keyword per input>)")
    inputs = set(cls.ConnectionsClass.declared_input_names())
    params = list(inspect.signature(run).parameters.values())[1:]  # drop self
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    keywords = {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    missing = sorted(inputs - set(keywords))
    unmatched = sorted(n for n, p in keywords.items() if n not in inputs and p.default is p.empty)
    positional_only = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL)]
    if not (missing or unmatched or positional_only):
        return
    problems = []
    if missing:
        problems.append(f"inputs with no run() keyword: {missing}")
    if unmatched:
        hints = "".join(did_you_mean(n, inputs) for n in unmatched)
        problems.append(f"required run() parameters that are not inputs: {unmatched}{hints}")
    if positional_only:
        problems.append(f"positional-only/var-positional parameters {positional_only} cannot receive inputs")
    raise ConnectionsDefinitionError(
        f"{cls.__qualname__}.run does not match the inputs of {cls.ConnectionsClass.__qualname__} "
        f"{sorted(inputs)}: "
        + "; ".join(problems)
        + ". run() is called as run(**inputs): rename the parameters or the connection attributes "
        "(optional extra parameters need defaults)."
    )


def _check_return_dataclass(cls: type[PipelineTask]) -> None:
    try:
        hints = typing.get_type_hints(cls.run)
    except Exception:  # noqa: BLE001 - unresolvable annotations (TYPE_CHECKING imports): nothing to check
        return
    returned = hints.get("return")
    if isinstance(returned, type) and dataclasses.is_dataclass(returned):
        fields = {f.name for f in dataclasses.fields(returned)}
        missing = sorted(set(cls.ConnectionsClass.declared_output_names()) - fields)
        if missing:
            raise ConnectionsDefinitionError(
                f"{cls.__qualname__}.run returns {returned.__name__}, which has no field(s) for outputs {missing}"
            )


class PipelineTask(Task, Generic[ConfigT, ConnectionsT]):
    """A task that a pipeline can run: config and connections come from the generic arguments.

    ::

        class MeasureTask(PipelineTask[MeasureConfig, MeasureConnections]):
            default_name = "measure"

            def run(self, *, exposure, detections) -> Struct:   # keywords == input names
                ...
                return Struct(catalog=catalog)                  # fields == output names

    At class creation the config must derive from `PipelineTaskConfig`, the connections
    from `PipelineTaskConnections`, and ``run``'s keywords must equal the input and
    prerequisite names (else `ConnectionsDefinitionError`, a `TypeError`). A dataclass
    return annotation is checked to have a field per output.
    """

    ConfigClass: ClassVar[type[PipelineTaskConfig]] = PipelineTaskConfig
    ConnectionsClass: ClassVar[type[PipelineTaskConnections]] = PipelineTaskConnections
    config: ConfigT
    connections: ConnectionsT

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        args = _generic_args(cls)
        if args is not None:
            if any(isinstance(a, TypeVar) for a in args):
                return  # a still-generic intermediate base
            if len(args) != 2:
                raise ConnectionsDefinitionError(f"{cls.__name__}: use PipelineTask[ConfigClass, ConnectionsClass]")
            config_class, connections_class = args
            if not (isinstance(config_class, type) and issubclass(config_class, PipelineTaskConfig)):
                raise ConnectionsDefinitionError(
                    f"{cls.__name__}: the first generic argument must be a PipelineTaskConfig subclass, got "
                    f"{config_class!r}"
                )
            if not (isinstance(connections_class, type) and issubclass(connections_class, PipelineTaskConnections)):
                raise ConnectionsDefinitionError(
                    f"{cls.__name__}: the second generic argument must be a PipelineTaskConnections subclass, got "
                    f"{connections_class!r}"
                )
            cls.ConfigClass, cls.ConnectionsClass = config_class, connections_class
        elif cls.ConnectionsClass is PipelineTaskConnections:
            return  # not parameterised anywhere in its bases: an abstract helper class
        _check_run_signature(cls)
        _check_return_dataclass(cls)

    def __init__(
        self,
        config: ConfigT | None = None,
        *,
        init_inputs: Mapping[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        if config is None:
            config = self.make_config()  # type: ignore[assignment]
        if not isinstance(config, self.ConfigClass):
            raise ConfigError(f"{type(self).__name__} needs a {self.ConfigClass.__name__}, got {type(config).__name__}")
        super().__init__(config, name=name or self.default_name or type(self).__name__, **kwargs)
        self.connections = self.ConnectionsClass(config=config)  # type: ignore[assignment]
        expected = set(self.connections.init_inputs)
        given = set(init_inputs or {})
        if given != expected:
            raise PipeBaseError(
                f"{type(self).__name__} init_inputs must be exactly {sorted(expected)}, got {sorted(given)}"
            )
        self.init_inputs: dict[str, Any] = dict(init_inputs or {})

    @classmethod
    def make_config(cls) -> PipelineTaskConfig:
        """Default config with ``connections`` filled in (every name and template listed)."""
        config = cls.ConfigClass()
        cls.ConnectionsClass.complete_config(config)
        return config

    def get_init_output_values(self) -> dict[str, Any]:
        """Values of the init-outputs: the task attributes named like the connections."""
        missing = [a for a in self.connections.init_outputs if not hasattr(self, a)]
        if missing:
            raise PipeBaseError(f"{type(self).__name__} declares init-outputs {missing} but has no such attributes")
        return {a: getattr(self, a) for a in self.connections.init_outputs}

    # ---------------------------------------------------------------- execution
    def _load(self, context: QuantumContext, attr: str, conn: BaseConnection, refs: Any) -> Any:
        def load(ref: Any) -> Any:
            return DeferredDatasetHandle(context, ref) if getattr(conn, "deferred_load", False) else context.get(ref)

        ref_list = list(refs) if isinstance(refs, list | tuple) else [refs]
        if conn.multiple:
            return [load(r) for r in ref_list]
        if len(ref_list) != 1:
            raise PipeBaseError(f"{self.full_name}: input {attr!r} takes one dataset, got {len(ref_list)}")
        return load(ref_list[0])

    def run_quantum(self, butler_qc: QuantumContext, input_refs: Mapping[str, Any], output_refs: Mapping[str, Any]):
        """Read the inputs, call ``run(**inputs)``, write the outputs.

        Parameters
        ----------
        butler_qc : `QuantumContext`
            ``get(ref)`` and ``put(obj, ref)``.
        input_refs, output_refs : `dict` [`str`, ref or `list` of refs]
            Refs by connection attribute name; lists for ``multiple`` connections.

        Raises
        ------
        NoWorkFound
            From ``run``: nothing to do; nothing is written.
        AnnotatedPartialOutputsError
            ``run`` raised an `AlgorithmError` carrying ``partial_outputs``: those were
            written with a ``failure`` annotation, and this error chains the original.
        """
        connections = self.connections.connections
        inputs = {}
        for attr, refs in input_refs.items():
            if attr not in connections:
                raise PipeBaseError(
                    f"{self.full_name}: {attr!r} is not an input connection{did_you_mean(attr, connections)}"
                )
            inputs[attr] = self._load(butler_qc, attr, connections[attr], refs)
        try:
            outputs = self.run(**inputs)  # type: ignore[attr-defined]
        except AlgorithmError as err:
            self.metadata["failure"] = {"message": err.message, "type": type(err).__name__, "metadata": err.metadata}
            if err.partial_outputs is None:
                raise
            written = self._put_outputs(butler_qc, err.partial_outputs, output_refs, failure=err)
            raise AnnotatedPartialOutputsError(
                f"{self.full_name}: {err.message}; annotated partial outputs written: {written}", written
            ) from err
        self._put_outputs(butler_qc, outputs, output_refs)

    def _put_outputs(
        self,
        context: QuantumContext,
        outputs: Any,
        output_refs: Mapping[str, Any],
        failure: AlgorithmError | None = None,
    ) -> list[str]:
        connections = self.connections.connections
        written = []
        for attr, refs in output_refs.items():
            conn = connections.get(attr)
            if conn is None:
                raise PipeBaseError(
                    f"{self.full_name}: {attr!r} is not an output connection{did_you_mean(attr, connections)}"
                )
            if not hasattr(outputs, attr):
                if failure is not None:
                    continue
                returned = sorted(vars(outputs)) if hasattr(outputs, "__dict__") else type(outputs).__name__
                raise PipeBaseError(
                    f"{self.full_name}: run() returned no {attr!r} (output {conn.name}); got {returned}"
                )
            value = getattr(outputs, attr)
            if value is None:
                self.log.verbose("output %s (%s) is None; not written", attr, conn.name)
                continue
            ref_list = list(refs) if isinstance(refs, list | tuple) else [refs]
            values = list(value) if conn.multiple else [value]
            if len(values) != len(ref_list):
                raise PipeBaseError(
                    f"{self.full_name}: output {attr!r} has {len(values)} value(s) for {len(ref_list)} ref(s)"
                )
            for obj, ref in zip(values, ref_list, strict=True):
                if failure is not None:
                    _annotate(obj, failure)
                context.put(obj, ref)
            written.append(attr)
        return written


def _annotate(obj: Any, error: AlgorithmError) -> None:
    """Mark a partial output: a ``failure`` entry in ``obj.metadata`` or in a dict output."""
    note = {"message": error.message, "type": type(error).__name__, "metadata": dict(error.metadata)}
    target = getattr(obj, "metadata", None)
    if isinstance(target, MutableMapping):
        target["failure"] = note
    elif isinstance(obj, dict):
        obj["failure"] = note
