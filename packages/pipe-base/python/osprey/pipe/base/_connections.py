"""`PipelineTaskConnections`: the declared inputs and outputs of a `PipelineTask`.

No metaclass: ``__init_subclass__`` collects the connection attributes, the
``dimensions=`` and ``templates=`` class keywords, and checks that every ``{template}`` in
a name has a default. An instance is bound to a config: names are renamed and templated
from ``config.connections``, and the instance attributes are the resolved connections.
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ._connection_types import (
    BaseConnection,
    DimensionedConnection,
    InitInput,
    InitOutput,
    Input,
    Output,
    PrerequisiteInput,
)
from .config import PipelineTaskConfig
from .errors import ConfigError, ConnectionsDefinitionError, NoWorkFound, PrerequisiteMissingError

__all__ = ["PipelineTaskConnections"]

_DATASET_TYPE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = frozenset(
    {
        "dimensions",
        "templates",
        "config",
        "connections",
        "inputs",
        "outputs",
        "prerequisite_inputs",
        "init_inputs",
        "init_outputs",
        "remove",
        "adjust_quantum",
        "complete_config",
        "connection_defaults",
        "declared",
    }
)


def _template_fields(text: str) -> list[str]:
    try:
        return [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError as err:
        raise ConnectionsDefinitionError(f"dataset type name template {text!r} is malformed: {err}") from None


class PipelineTaskConnections:
    """Base class of a task's connections; subclass with ``dimensions=`` (and ``templates=``)::

        class CoaddConnections(PipelineTaskConnections,
                               dimensions=("tract", "patch", "band", "skymap"),
                               templates={"coadd_name": "deep"}):
            warps = Input("{coadd_name}_warp", "ExposureF", "Warped visits.",
                          dimensions=("tract", "patch", "skymap", "visit", "instrument"),
                          multiple=True, deferred_load=True)
            coadd = Output("{coadd_name}_coadd", "ExposureF", "The coadd.")

    ``CoaddConnections.warps`` is the declared connection; on an instance bound to a config
    (``CoaddConnections(config=cfg)``) it is the resolved one (renamed, templated, with the
    task's dimensions where the connection gave none). Subclasses may override ``__init__``
    to `remove` connections the config switches off.
    """

    dimensions: ClassVar[tuple[str, ...]] = ()
    templates: ClassVar[Mapping[str, str]] = {}
    declared: ClassVar[Mapping[str, BaseConnection]] = {}

    def __init_subclass__(
        cls,
        *,
        dimensions: Iterable[str] | None = None,
        templates: Mapping[str, str] | None = None,
        **kwargs: Any,
    ):
        super().__init_subclass__(**kwargs)
        declared = dict(cls.declared)
        for attr, value in vars(cls).items():
            if isinstance(value, BaseConnection):
                if attr in _RESERVED or attr.startswith("_"):
                    raise ConnectionsDefinitionError(f"{cls.__name__}: connection attribute name {attr!r} is reserved")
                declared[attr] = value
        cls.declared = declared
        if dimensions is not None:
            if isinstance(dimensions, str) or not all(isinstance(d, str) for d in dimensions):
                raise ConnectionsDefinitionError(
                    f"{cls.__name__}: dimensions= must be a sequence of dimension names, got {dimensions!r}"
                )
            cls.dimensions = tuple(dimensions)
        merged = dict(cls.templates)
        for key, value in (templates or {}).items():
            if not isinstance(value, str) or not key.isidentifier():
                raise ConnectionsDefinitionError(f"{cls.__name__}: template {key!r} needs a string default")
            merged[key] = value
        cls.templates = merged
        clash = set(merged) & set(declared)
        if clash:
            raise ConnectionsDefinitionError(f"{cls.__name__}: template names {sorted(clash)} clash with connections")
        for attr, conn in declared.items():
            missing = [f for f in _template_fields(conn.name) if f not in merged]
            if missing:
                raise ConnectionsDefinitionError(
                    f"{cls.__name__}.{attr}: name {conn.name!r} uses template field(s) {missing} with no default; "
                    f"add templates={{{', '.join(repr(m) + ': ...' for m in missing)}}} to the class keywords"
                )

    # ------------------------------------------------------------------ class-level
    @classmethod
    def connection_defaults(cls) -> dict[str, str]:
        """Default ``config.connections`` values: each connection's name and each template."""
        return {**{attr: conn.name for attr, conn in cls.declared.items()}, **dict(cls.templates)}

    @classmethod
    def complete_config(cls, config: PipelineTaskConfig) -> None:
        """Check ``config.connections`` keys against this class and fill in the defaults."""
        config.connections._complete(cls.connection_defaults())

    @classmethod
    def declared_input_names(cls) -> tuple[str, ...]:
        """Attribute names of the declared `Input` and `PrerequisiteInput` connections."""
        return tuple(a for a, c in cls.declared.items() if isinstance(c, Input | PrerequisiteInput))

    @classmethod
    def declared_output_names(cls) -> tuple[str, ...]:
        """Attribute names of the declared `Output` connections."""
        return tuple(a for a, c in cls.declared.items() if isinstance(c, Output))

    # -------------------------------------------------------------------- instance
    def __init__(self, *, config: PipelineTaskConfig | None = None):
        if config is None:
            config = PipelineTaskConfig()
        if not isinstance(config, PipelineTaskConfig):
            raise ConfigError(f"{type(self).__name__} needs a PipelineTaskConfig, got {type(config).__name__}")
        self.complete_config(config)
        self.config = config
        self.dimensions = tuple(type(self).dimensions)
        values = config.connections.to_dict()
        template_values = {key: values[key] for key in self.templates}
        self._resolved: dict[str, BaseConnection] = {}
        for attr, conn in self.declared.items():
            raw = values[attr]
            missing = [f for f in _template_fields(raw) if f not in template_values]
            if missing:
                raise ConfigError(
                    f"{raw!r} uses template field(s) {missing}; known templates: {sorted(template_values) or '(none)'}",
                    key=f"connections.{attr}",
                )
            name = raw.format_map(template_values)
            if not _DATASET_TYPE_NAME.match(name):
                raise ConfigError(
                    f"dataset type name {name!r} must start with a letter or '_' and contain only letters, digits "
                    "and '_'",
                    key=f"connections.{attr}",
                )
            changes: dict[str, Any] = {"name": name}
            if isinstance(conn, DimensionedConnection) and conn.dimensions is None:
                changes["dimensions"] = self.dimensions
            resolved = dataclasses.replace(conn, **changes)
            self._resolved[attr] = resolved
            setattr(self, attr, resolved)

    def remove(self, attr: str) -> None:
        """Drop connection ``attr`` for this configuration (its attribute becomes None)."""
        if attr not in self._resolved:
            raise ConnectionsDefinitionError(f"{type(self).__name__} has no connection {attr!r} to remove")
        del self._resolved[attr]
        setattr(self, attr, None)

    @property
    def connections(self) -> dict[str, BaseConnection]:
        """All resolved connections by attribute name."""
        return dict(self._resolved)

    def _of(self, kind: type) -> dict[str, Any]:
        return {a: c for a, c in self._resolved.items() if type(c) is kind}

    @property
    def inputs(self) -> dict[str, Input]:
        """Resolved regular inputs."""
        return self._of(Input)

    @property
    def prerequisite_inputs(self) -> dict[str, PrerequisiteInput]:
        """Resolved prerequisite inputs."""
        return self._of(PrerequisiteInput)

    @property
    def outputs(self) -> dict[str, Output]:
        """Resolved outputs."""
        return self._of(Output)

    @property
    def init_inputs(self) -> dict[str, InitInput]:
        """Resolved init-inputs."""
        return self._of(InitInput)

    @property
    def init_outputs(self) -> dict[str, InitOutput]:
        """Resolved init-outputs."""
        return self._of(InitOutput)

    def adjust_quantum(
        self,
        inputs: dict[str, list[Any]],
        outputs: dict[str, list[Any]],
        label: str,
        data_id: Any,
    ) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
        """Check (and optionally change) the datasets of one quantum before it is kept.

        Called by graph building with the refs found for each connection (keyed by
        attribute name). The default checks each input's ``minimum``: too few regular
        inputs raise `NoWorkFound` (the quantum is dropped); too few prerequisites raise
        `PrerequisiteMissingError`. Overrides may drop refs or raise `NoWorkFound`
        themselves; they must call ``super().adjust_quantum`` and return its result.
        """
        for attr, refs in inputs.items():
            conn = self._resolved.get(attr)
            count = len(refs)
            if isinstance(conn, PrerequisiteInput) and count < conn.minimum:
                raise PrerequisiteMissingError(
                    f"task {label!r}, data ID {data_id}: prerequisite {attr!r} ({conn.name}) has {count} "
                    f"dataset(s); at least {conn.minimum} needed. Is it in the input collections?"
                )
            if isinstance(conn, Input) and count < conn.minimum:
                raise NoWorkFound(
                    f"task {label!r}, data ID {data_id}: input {attr!r} ({conn.name}) has {count} dataset(s); "
                    f"at least {conn.minimum} needed"
                )
        return inputs, outputs

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{a}={c.name!r}' for a, c in self._resolved.items())})"
