"""Test kit: an in-memory `QuantumContext`, a ref factory and small toy tasks.

The toy tasks (``AddTask`` -> ``ScaleTask`` -> ``GatherTask``) pass ``{"value": x}`` dicts
(``StructuredDataDict``) along ``instrument, visit, detector`` (``GatherTask`` sums a visit); they are what the tests,
the docs and ``bench/`` build pipelines from. ``ScaleTask`` has a retargetable ``clip``
subtask (`ClipTask` or `AbsClipTask`). ``FlakyAddTask`` is an ``AddTask`` that raises, sleeps or
holds memory for chosen input values (to test failure handling in executors).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from osprey.daf.butler import DataCoordinate, DatasetNotFoundError, DatasetRef, DatasetType

from ._connection_types import Input, Output
from ._connections import PipelineTaskConnections
from ._pipeline_task import PipelineTask
from ._struct import Struct
from ._task import Task, timed
from .config import Config, ConfigurableField, PipelineTaskConfig
from .errors import AlgorithmError, PipeBaseError

__all__ = [
    "AbsClipConfig",
    "AbsClipTask",
    "AddConfig",
    "AddConnections",
    "AddTask",
    "ClipConfig",
    "ClipTask",
    "FlakyAddConfig",
    "FlakyAddTask",
    "GatherConfig",
    "GatherConnections",
    "GatherTask",
    "InMemoryQuantumContext",
    "ScaleConfig",
    "ScaleConnections",
    "ScaleTask",
    "ToyInstrument",
    "make_ref",
    "make_toy_repo",
    "toy_value",
]

TOY_DIMENSIONS = ("instrument", "visit", "detector")


def make_ref(
    name: str, storage_class: str, data_id: Mapping[str, Any], run: str = "test/run", dimensions: Any = None
) -> DatasetRef:
    """A resolved `DatasetRef` (random UUID) without a butler; dimensions default to the data ID keys."""
    dataset_type = DatasetType(name, dimensions if dimensions is not None else list(data_id), storage_class)
    coordinate = DataCoordinate.standardize(data_id, dimensions=dataset_type.dimensions)
    return DatasetRef(dataset_type, coordinate, run, uuid.uuid4())


class InMemoryQuantumContext:
    """A `QuantumContext` over a dict ``{ref: object}``; records what was put, in order."""

    def __init__(self, datasets: Mapping[Any, Any] | None = None):
        self.datasets: dict[Any, Any] = dict(datasets or {})
        self.put_refs: list[Any] = []

    def get(self, ref: Any) -> Any:
        try:
            return self.datasets[ref]
        except KeyError:
            raise DatasetNotFoundError(f"{ref} is not in this in-memory context") from None

    def put(self, obj: Any, ref: Any) -> None:
        if ref in self.datasets:
            raise PipeBaseError(f"{ref} was already written")
        self.datasets[ref] = obj
        self.put_refs.append(ref)


class ClipConfig(Config):
    """Config of `ClipTask`."""

    max_value: float = Field(1.0e30, description="Values above this are clipped to it.")


class ClipTask(Task):
    """Clip a value to ``max_value``."""

    ConfigClass = ClipConfig
    default_name = "clip"

    def run(self, value: float) -> float:
        return min(value, self.config.max_value)


class AbsClipConfig(ClipConfig):
    """Config of `AbsClipTask`."""

    min_value: float = Field(0.0, ge=0, description="Absolute values below this become 0.")


class AbsClipTask(ClipTask):
    """Clip ``|value|`` to ``[min_value, max_value]`` (zero below ``min_value``)."""

    ConfigClass = AbsClipConfig

    def run(self, value: float) -> float:
        magnitude = abs(value)
        return 0.0 if magnitude < self.config.min_value else min(magnitude, self.config.max_value)


class AddConnections(PipelineTaskConnections, dimensions=TOY_DIMENSIONS, templates={"prefix": "toy"}):
    input_value = Input("{prefix}_input", "StructuredDataDict", "A dict with a 'value'.")
    output_value = Output("{prefix}_sum", "StructuredDataDict", "The value plus addend.")


class AddConfig(PipelineTaskConfig):
    """Config of `AddTask`."""

    addend: float = Field(1.0, description="Added to the input value.")


class AddTask(PipelineTask[AddConfig, AddConnections]):
    """Add ``config.addend`` to ``input_value["value"]``."""

    default_name = "add"

    @timed
    def run(self, *, input_value: dict) -> Struct:
        return Struct(output_value={"value": input_value["value"] + self.config.addend})


class FlakyAddConfig(AddConfig):
    """Config of `FlakyAddTask`: ways to fail on purpose."""

    fail_on: list[float] = Field(default_factory=list, description="Input values that make run() raise.")
    fail_while_exists: str | None = Field(
        None, description="If set, fail_on values raise only while a file exists here (a transient outage)."
    )
    slow_on: list[float] = Field(default_factory=list, description="Input values for which run() sleeps.")
    sleep_s: float = Field(0.0, ge=0, description="How long run() sleeps for the values in slow_on.")
    hog_on: list[float] = Field(default_factory=list, description="Input values for which run() holds memory.")
    hog_mib: int = Field(0, ge=0, description="MiB that run() fills and holds for the values in hog_on.")


class FlakyAddTask(PipelineTask[FlakyAddConfig, AddConnections]):
    """`AddTask` that raises, sleeps or hogs memory on demand (to test executors)."""

    default_name = "flaky_add"

    def run(self, *, input_value: dict) -> Struct:
        value = input_value["value"]
        self.log.info("adding %s to %s", self.config.addend, value)
        if value in self.config.fail_on:
            outage = self.config.fail_while_exists
            if outage is None:
                raise RuntimeError(f"injected failure for value {value}")
            if os.path.exists(outage):
                raise RuntimeError(f"injected outage for value {value}: {outage} exists")
        if value in self.config.hog_on:
            hog = b"x" * (self.config.hog_mib * 2**20)  # written, so resident
            time.sleep(max(self.config.sleep_s, 5.0))
            del hog
        if value in self.config.slow_on:
            time.sleep(self.config.sleep_s)
        return Struct(output_value={"value": value + self.config.addend})


class ScaleConnections(PipelineTaskConnections, dimensions=TOY_DIMENSIONS, templates={"prefix": "toy"}):
    input_value = Input("{prefix}_sum", "StructuredDataDict", "A dict with a 'value'.")
    output_value = Output("{prefix}_scaled", "StructuredDataDict", "The value times factor, clipped.")


class ScaleConfig(PipelineTaskConfig):
    """Config of `ScaleTask`."""

    factor: float = Field(2.0, description="Multiplies the input value.")
    clip: ConfigurableField = Field(ConfigurableField(ClipTask), description="Clips the scaled value.")


class ScaleTask(PipelineTask[ScaleConfig, ScaleConnections]):
    """Multiply by ``config.factor`` and clip; a zero factor fails with partial output."""

    default_name = "scale"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.make_subtask("clip")

    @timed
    def run(self, *, input_value: dict) -> Struct:
        if self.config.factor == 0:
            raise AlgorithmError(
                "factor is zero: the scaled value carries no information",
                metadata={"factor": 0.0},
                partial_outputs=Struct(output_value={"value": 0.0}),
            )
        return Struct(output_value={"value": self.clip.run(input_value["value"] * self.config.factor)})


class GatherConnections(PipelineTaskConnections, dimensions=("instrument", "visit"), templates={"prefix": "toy"}):
    values = Input(
        "{prefix}_scaled", "StructuredDataDict", "Per-detector values.", dimensions=TOY_DIMENSIONS, multiple=True
    )
    total = Output("{prefix}_visit_total", "StructuredDataDict", "Sum and count over the visit's detectors.")


class GatherConfig(PipelineTaskConfig):
    """Config of `GatherTask` (nothing to configure)."""


class GatherTask(PipelineTask[GatherConfig, GatherConnections]):
    """Sum the per-detector values of one visit (a gather step: many quanta feed one)."""

    default_name = "gather"

    def run(self, *, values: list[dict]) -> Struct:
        return Struct(total={"value": sum(v["value"] for v in values), "count": len(values)})


TOY_INPUTS = "inputs/run"


def toy_value(visit: int, detector: int) -> float:
    """The ``toy_input`` value stored for one data ID by `make_toy_repo`."""
    return float(visit * 10 + detector)


def make_toy_repo(root: Any, visits: Sequence[int] = (100, 101, 102), detectors: Sequence[int] = (0, 1, 2, 3)) -> Any:
    """Create a repository at ``root`` with instrument ``Cam``, visits and detectors, and one
    ``toy_input`` (``{"value": toy_value(visit, detector)}``) per data ID in run `TOY_INPUTS`.

    Returns the open `osprey.daf.butler.Butler` (the caller closes it).
    """
    from osprey.daf.butler import Butler

    Butler.make_repo(root)
    butler = Butler.from_config(root)
    reg = butler.registry
    reg.insert_dimension_data("instrument", {"name": "Cam", "detector_max": max(detectors) + 1, "visit_max": 10**6})
    reg.insert_dimension_data("band", {"name": "r"})
    reg.insert_dimension_data("physical_filter", {"instrument": "Cam", "name": "Cam-R", "band": "r"})
    reg.insert_dimension_data("day_obs", {"instrument": "Cam", "id": 20250601})
    reg.insert_dimension_data("detector", *[{"instrument": "Cam", "id": d} for d in detectors])
    reg.insert_dimension_data(
        "visit",
        *[{"instrument": "Cam", "id": v, "physical_filter": "Cam-R", "day_obs": 20250601} for v in visits],
    )
    butler.register_dataset_type("toy_input", list(TOY_DIMENSIONS), "StructuredDataDict")
    with butler.transaction():
        for visit in visits:
            for detector in detectors:
                data_id = {"instrument": "Cam", "visit": visit, "detector": detector}
                butler.put({"value": toy_value(visit, detector)}, "toy_input", data_id, run=TOY_INPUTS)
    return butler


class ToyInstrument:
    """Stands in for an obs package's instrument in pipelines (``instrument:`` key): its
    per-task config overrides set ``add``'s addend to 10."""

    name = "ToyCam"

    def apply_config_overrides(self, task_label: str, config: Any) -> bool:
        if task_label != "add":
            return False
        config.apply_override("addend", 10.0)
        return True
