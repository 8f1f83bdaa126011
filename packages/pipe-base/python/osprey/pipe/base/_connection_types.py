"""Declarative connection types: what a `PipelineTask` reads and writes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from .errors import ConnectionsDefinitionError

__all__ = [
    "BaseConnection",
    "BaseInput",
    "DimensionedConnection",
    "InitInput",
    "InitOutput",
    "Input",
    "Output",
    "PrerequisiteInput",
]


@dataclasses.dataclass(frozen=True)
class BaseConnection:
    """A dataset a task reads or writes.

    Parameters
    ----------
    name : `str`
        Dataset type name; may contain ``{template}`` fields filled from
        ``config.connections.<template>``. ``config.connections.<attribute>`` replaces it.
    storage_class : `str`
        Butler storage class (``"ArrowTable"``, ``"NumpyArray"``, ``"StructuredDataDict"``...).
    doc : `str`
        What the dataset is.
    multiple : `bool`
        Whether the task takes/produces a list of datasets for this connection per quantum.
    """

    name: str
    storage_class: str
    doc: str = ""
    _: dataclasses.KW_ONLY
    multiple: bool = False

    def __post_init__(self) -> None:
        for field in ("name", "storage_class"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value:
                raise ConnectionsDefinitionError(
                    f"{type(self).__name__}: {field} must be a non-empty string, got {value!r}"
                )

    @property
    def is_init(self) -> bool:
        """Whether this is an init-input/output (read/written once per task, not per quantum)."""
        return False


@dataclasses.dataclass(frozen=True, kw_only=True)
class DimensionedConnection(BaseConnection):
    """A per-quantum connection with data-ID dimensions.

    ``dimensions=None`` (the default) means "the task's dimensions"; give ``()`` for a
    dataset with an empty data ID. ``is_calibration`` marks datasets found in CALIBRATION
    collections by validity range.
    """

    dimensions: tuple[str, ...] | None = None
    is_calibration: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dimensions is not None:
            dims = self.dimensions
            if isinstance(dims, str) or not isinstance(dims, Iterable) or not all(isinstance(d, str) for d in dims):
                raise ConnectionsDefinitionError(
                    f"{type(self).__name__} {self.name!r}: dimensions must be a sequence of names, got {dims!r}"
                )
            object.__setattr__(self, "dimensions", tuple(dims))


@dataclasses.dataclass(frozen=True, kw_only=True)
class BaseInput(DimensionedConnection):
    """An input: ``deferred_load`` gives the task a handle to ``.get()`` later; fewer than
    ``minimum`` datasets makes the quantum raise `NoWorkFound` (or a missing-prerequisite
    error for a `PrerequisiteInput`)."""

    deferred_load: bool = False
    minimum: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.minimum, int) or self.minimum < 0:
            raise ConnectionsDefinitionError(f"input {self.name!r}: minimum must be an int >= 0, got {self.minimum!r}")
        if self.minimum > 1 and not self.multiple:
            raise ConnectionsDefinitionError(
                f"input {self.name!r}: minimum={self.minimum} needs multiple=True (a single input has at most one)"
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Input(BaseInput):
    """A regular input, produced by an earlier task or already in the input collections."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class PrerequisiteInput(BaseInput):
    """An input that must already exist before the graph is built (calibrations, reference
    catalogs); never produced by a task of the same pipeline.

    ``lookup_function(dataset_type, butler, data_id, collections) -> iterable of refs``
    replaces the default lookup (find-first by data ID, by validity time for calibrations,
    or by spatial overlap for skypix-indexed datasets) when graph building resolves it.
    """

    lookup_function: Callable[..., Iterable[Any]] | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Output(DimensionedConnection):
    """A dataset written by each quantum."""


@dataclasses.dataclass(frozen=True)
class InitInput(BaseConnection):
    """A dataset read once when the task is constructed (e.g. an upstream schema)."""

    @property
    def is_init(self) -> bool:
        return True


@dataclasses.dataclass(frozen=True)
class InitOutput(BaseConnection):
    """A dataset written once per run from the constructed task (e.g. its output schema);
    the task holds the value as the attribute named like the connection."""

    @property
    def is_init(self) -> bool:
        return True
