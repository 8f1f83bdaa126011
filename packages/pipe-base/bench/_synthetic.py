"""The synthetic pipeline and repositories shared by ``bench_qgraph.py`` and ``bench_executor.py``.

Both sides run the same 2-task chain over ``instrument, visit, detector``::

    toy_input --add--> toy_sum --scale--> toy_scaled

with one ``toy_input`` (StructuredDataDict) per (visit, detector) in the RUN collection
``inputs/run``; a graph over V visits x D detectors has ``2 * V * D`` quanta. Osprey uses
`osprey.pipe.base.testing.AddTask` / ``ScaleTask``; the lsst-pipe-base tasks below are
their equivalents (same connections, dataset types, storage class and arithmetic).

Dimension records are the same on both sides (instrument ``Cam``, band ``r``, physical
filter ``Cam-R``, one day_obs, D detectors, V visits). Inputs are registered without files
(``insert_datasets`` / ``insertDatasets``) when only a graph is built, or written with
``put`` when the graph is to be executed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

INSTRUMENT = "Cam"
INPUTS = "inputs/run"
DAY_OBS = 20250601
DIMS = ("instrument", "visit", "detector")
WARM_UP_WHERE = "visit = 0 AND detector = 0"


def shape(n_quanta: int, max_detectors: int = 100) -> tuple[int, int]:
    """(visits, detectors) for a 2-task graph of ``n_quanta`` quanta (rounded down to even).

    Detectors: the largest divisor of ``n_quanta // 2`` up to ``max_detectors``.
    """
    per_task = max(1, n_quanta // 2)
    detectors = next(d for d in range(min(max_detectors, per_task), 0, -1) if per_task % d == 0)
    return per_task // detectors, detectors


# ---------------------------------------------------------------------------- osprey
def osprey_make_repo(root: Path, visits: int, detectors: int, *, with_files: bool) -> None:
    """Create an osprey repository holding the dimension records and ``toy_input``."""
    from osprey.daf.butler import Butler

    Butler.make_repo(root)
    butler = Butler.from_config(root)
    try:
        reg = butler.registry
        reg.insert_dimension_data(
            "instrument", {"name": INSTRUMENT, "detector_max": detectors, "visit_max": visits + 1}
        )
        reg.insert_dimension_data("band", {"name": "r"})
        reg.insert_dimension_data("physical_filter", {"instrument": INSTRUMENT, "name": "Cam-R", "band": "r"})
        reg.insert_dimension_data("day_obs", {"instrument": INSTRUMENT, "id": DAY_OBS})
        reg.insert_dimension_data("detector", *[{"instrument": INSTRUMENT, "id": d} for d in range(detectors)])
        reg.insert_dimension_data(
            "visit",
            *[
                {"instrument": INSTRUMENT, "id": v, "physical_filter": "Cam-R", "day_obs": DAY_OBS}
                for v in range(visits)
            ],
        )
        reg.insert_dimension_data(
            "visit_detector_region",
            *[{"instrument": INSTRUMENT, "visit": v, "detector": d} for v in range(visits) for d in range(detectors)],
        )
        butler.register_dataset_type("toy_input", list(DIMS), "StructuredDataDict")
        ids = [{"instrument": INSTRUMENT, "visit": v, "detector": d} for v in range(visits) for d in range(detectors)]
        if with_files:
            for data_id in ids:
                butler.put({"value": float(data_id["visit"] * 1000 + data_id["detector"])}, "toy_input", data_id,
                           run=INPUTS)  # fmt: skip
        else:
            reg.register_run(INPUTS)
            reg.insert_datasets("toy_input", ids, INPUTS)
    finally:
        butler.close()


def osprey_pipeline() -> Any:
    from osprey.pipe.base import Pipeline

    pipeline = Pipeline("bench")
    pipeline.add_task("osprey.pipe.base.testing.AddTask", "add", {"addend": 1.0})
    pipeline.add_task("osprey.pipe.base.testing.ScaleTask", "scale", {"factor": 3.0})
    return pipeline


# ---------------------------------------------------------------------------- lsst
def lsst_tasks() -> tuple[type, type]:
    """lsst-pipe-base equivalents of AddTask and ScaleTask (built on first use)."""
    global _LSST_TASKS
    if _LSST_TASKS is None:
        _LSST_TASKS = _define_lsst_tasks()
    return _LSST_TASKS


_LSST_TASKS: tuple[type, type] | None = None


def _define_lsst_tasks() -> tuple[type, type]:
    import lsst.pex.config as pexConfig
    from lsst.pipe.base import PipelineTask, PipelineTaskConfig, PipelineTaskConnections, Struct
    from lsst.pipe.base import connectionTypes as cT

    class LsstAddConnections(PipelineTaskConnections, dimensions=DIMS):
        input_value = cT.Input("toy_input", storageClass="StructuredDataDict", dimensions=DIMS, doc="in")
        output_value = cT.Output("toy_sum", storageClass="StructuredDataDict", dimensions=DIMS, doc="out")

    class LsstAddConfig(PipelineTaskConfig, pipelineConnections=LsstAddConnections):
        addend = pexConfig.Field(dtype=float, default=1.0, doc="Added to the input value.")

    class LsstAddTask(PipelineTask):
        ConfigClass = LsstAddConfig
        _DefaultName = "add"

        def run(self, input_value: dict) -> Struct:
            return Struct(output_value={"value": input_value["value"] + self.config.addend})

    class LsstScaleConnections(PipelineTaskConnections, dimensions=DIMS):
        input_value = cT.Input("toy_sum", storageClass="StructuredDataDict", dimensions=DIMS, doc="in")
        output_value = cT.Output("toy_scaled", storageClass="StructuredDataDict", dimensions=DIMS, doc="out")

    class LsstScaleConfig(PipelineTaskConfig, pipelineConnections=LsstScaleConnections):
        factor = pexConfig.Field(dtype=float, default=2.0, doc="Multiplies the input value.")

    class LsstScaleTask(PipelineTask):
        ConfigClass = LsstScaleConfig
        _DefaultName = "scale"

        def run(self, input_value: dict) -> Struct:
            return Struct(output_value={"value": input_value["value"] * self.config.factor})

    for cls in (LsstAddConnections, LsstAddConfig, LsstAddTask, LsstScaleConnections, LsstScaleConfig,
                LsstScaleTask):  # fmt: skip
        cls.__module__ = __name__  # importable by name ("_synthetic.LsstAddTask")
        cls.__qualname__ = cls.__name__
        globals()[cls.__name__] = cls
    return LsstAddTask, LsstScaleTask


def lsst_make_repo(root: Path, visits: int, detectors: int, *, with_files: bool) -> None:
    """Create an lsst-daf-butler repository with the same records and ``toy_input``."""
    from lsst.daf.butler import Butler, CollectionType, DatasetType

    Butler.makeRepo(str(root))
    butler = Butler.from_config(str(root), writeable=True)
    try:
        reg = butler.registry
        reg.insertDimensionData(
            "instrument",
            {"name": INSTRUMENT, "class_name": "bench.Cam", "detector_max": detectors, "visit_max": visits + 1,
             "exposure_max": visits + 1},
        )  # fmt: skip
        reg.insertDimensionData("physical_filter", {"instrument": INSTRUMENT, "name": "Cam-R", "band": "r"})
        reg.insertDimensionData("day_obs", {"instrument": INSTRUMENT, "id": DAY_OBS})
        reg.insertDimensionData(
            "detector", *[{"instrument": INSTRUMENT, "id": d, "full_name": f"D{d}"} for d in range(detectors)]
        )
        reg.insertDimensionData(
            "visit",
            *[
                {"instrument": INSTRUMENT, "id": v, "name": f"v{v}", "physical_filter": "Cam-R", "day_obs": DAY_OBS}
                for v in range(visits)
            ],
        )
        reg.insertDimensionData(
            "visit_detector_region",
            *[{"instrument": INSTRUMENT, "visit": v, "detector": d} for v in range(visits) for d in range(detectors)],
        )
        dataset_type = DatasetType("toy_input", DIMS, "StructuredDataDict", universe=butler.dimensions)
        reg.registerDatasetType(dataset_type)
        reg.registerCollection(INPUTS, CollectionType.RUN)
        ids = [{"instrument": INSTRUMENT, "visit": v, "detector": d} for v in range(visits) for d in range(detectors)]
        if with_files:
            for data_id in ids:
                butler.put({"value": float(data_id["visit"] * 1000 + data_id["detector"])}, "toy_input", data_id,
                           run=INPUTS)  # fmt: skip
        else:
            reg.insertDatasets("toy_input", ids, INPUTS)
    finally:
        butler.close()


def lsst_pipeline_graph() -> Any:
    from lsst.pipe.base.pipeline_graph import PipelineGraph

    add, scale = lsst_tasks()
    graph = PipelineGraph()
    add_config = add.ConfigClass()
    add_config.addend = 1.0
    scale_config = scale.ConfigClass()
    scale_config.factor = 3.0
    graph.add_task("add", add, add_config)
    graph.add_task("scale", scale, scale_config)
    return graph
