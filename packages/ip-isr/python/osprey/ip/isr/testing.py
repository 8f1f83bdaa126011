"""Test kit: a Butler repository of IsrMockLSST raws and certified calibrations.

``make_mock_repo(root)`` creates a repository (with the ISR storage classes) holding the
``MockCam`` instrument, one detector, a physical filter and the raw dataset type;
``add_mock_exposures`` simulates exposures of one mock instrument (same ``seed``, one
``exposure_seed`` each) and ingests them with exposure records (timespans one minute
apart); ``certify_mock_calibs`` puts an `IsrCalibs` and certifies each product into a
CALIBRATION collection with a validity range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from osprey.daf.butler import Butler, Timespan

from .calibs import IsrCalibs
from .mock import IsrMockConfig, IsrMockLSST, MockResult

__all__ = [
    "DETECTOR",
    "FILTER",
    "INSTRUMENT",
    "RAW_RUN",
    "T0",
    "add_mock_exposures",
    "certify_mock_calibs",
    "make_mock_repo",
    "pipeline_path",
]

INSTRUMENT = "MockCam"
FILTER = "MockCam-r"
DETECTOR = 0
RAW_RUN = "MockCam/raw/all"
T0 = 1_750_000_000 * 10**9
"""Start of the first exposure (TAI ns)."""
MINUTE = 60 * 10**9

_CALIB_TYPES = {
    "bias": ("Exposure", ("instrument", "detector")),
    "dark": ("Exposure", ("instrument", "detector")),
    "flat": ("Exposure", ("instrument", "physical_filter", "detector")),
    "defects": ("Defects", ("instrument", "detector")),
    "crosstalk": ("CrosstalkCalib", ("instrument", "detector")),
    "linearizer": ("Linearizer", ("instrument", "detector")),
    "bfk": ("BrighterFatterKernel", ("instrument", "detector")),
}
_CALIB_ATTRS = {
    "bias": "bias",
    "dark": "dark",
    "flat": "flat",
    "defects": "defects",
    "crosstalk": "crosstalk",
    "linearizer": "linearizer",
    "bfk": "bf_kernel",
}


def pipeline_path(name: str) -> Path:
    """Path of a shipped pipeline YAML (``"cpBias"`` → ``.../pipelines/cpBias.yaml``)."""
    here = Path(__file__).resolve()
    for candidate in (here.with_name("pipelines"), here.parents[4] / "pipelines"):
        path = candidate / f"{name}.yaml"
        if path.exists():
            return path
    raise FileNotFoundError(f"pipeline {name}.yaml is neither in {here.with_name('pipelines')} nor the source tree")


def make_mock_repo(root: str | Path) -> Butler:
    """A new repository with MockCam, detector 0, filter MockCam-r and the ``raw`` dataset type."""
    Butler.make_repo(root)
    butler = Butler.from_config(root)
    reg = butler.registry
    reg.insert_dimension_data("instrument", {"name": INSTRUMENT, "detector_max": 1, "exposure_max": 100000})
    reg.insert_dimension_data("band", {"name": "r"}, skip_existing=True)
    reg.insert_dimension_data("physical_filter", {"instrument": INSTRUMENT, "name": FILTER, "band": "r"})
    reg.insert_dimension_data("day_obs", {"instrument": INSTRUMENT, "id": 20250615})
    reg.insert_dimension_data("detector", {"instrument": INSTRUMENT, "id": DETECTOR, "full_name": "MOCK_S00"})
    butler.register_dataset_type("raw", ["instrument", "exposure", "detector"], "Exposure")
    return butler


def add_mock_exposures(
    butler: Butler,
    first_id: int,
    configs: Sequence[Mapping[str, Any]],
    *,
    base: IsrMockConfig | None = None,
    run: str = RAW_RUN,
) -> dict[int, MockResult]:
    """Simulate and ingest one raw per config (overrides of ``base``); exposure IDs from ``first_id``.

    Exposure ``i`` starts at ``T0 + (id - 1) minutes`` and lasts its exposure time.
    Returns the mock results by exposure ID (truth included).
    """
    base = base or IsrMockConfig()
    out: dict[int, MockResult] = {}
    for offset, overrides in enumerate(configs):
        exposure_id = first_id + offset
        mock = IsrMockLSST(base, **{"exposure_seed": exposure_id, **overrides}).run()
        cfg = IsrMockLSST(base, **{"exposure_seed": exposure_id, **overrides}).config
        begin = T0 + (exposure_id - 1) * MINUTE
        span = Timespan(begin, begin + max(int(cfg.exposure_time * 1e9), 1))
        butler.registry.insert_dimension_data(
            "exposure",
            {
                "instrument": INSTRUMENT,
                "id": exposure_id,
                "physical_filter": FILTER,
                "day_obs": 20250615,
                "timespan": span,
                "exposure_time": cfg.exposure_time,
                "dark_time": cfg.dark_time,
                "observation_type": cfg.observation_type,
            },
        )
        mock.raw.visit_info = _with_id(mock.raw.visit_info, exposure_id)
        butler.put(mock.raw, "raw", instrument=INSTRUMENT, exposure=exposure_id, detector=DETECTOR, run=run)
        out[exposure_id] = mock
    return out


def _with_id(visit_info: Any, exposure_id: int) -> Any:
    import dataclasses

    return dataclasses.replace(visit_info, id=exposure_id)


def certify_mock_calibs(
    butler: Butler,
    calibs: IsrCalibs,
    *,
    run: str = "MockCam/calib/truth",
    collection: str = "MockCam/calib",
    timespan: Timespan | None = None,
    which: Sequence[str] = tuple(_CALIB_TYPES),
) -> None:
    """Put the given calibrations (those not None among ``which``) and certify them over ``timespan``."""
    span = timespan or Timespan(None, None)
    for name in which:
        obj = getattr(calibs, _CALIB_ATTRS[name])
        if obj is None:
            continue
        storage_class, dims = _CALIB_TYPES[name]
        butler.register_dataset_type(name, dims, storage_class, is_calibration=True)
        data_id = {"instrument": INSTRUMENT, "detector": DETECTOR}
        if "physical_filter" in dims:
            data_id["physical_filter"] = FILTER
        ref = butler.put(obj, name, data_id, run=run)
        butler.certify(collection, [ref], span)
