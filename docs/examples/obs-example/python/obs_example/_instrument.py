"""`ExampleCam`: the ExampleCam `osprey.obs.base.Instrument`."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import yaml

from osprey.afw.camera_geom import Camera
from osprey.obs.base import CuratedCalibration, FilterDefinition, Instrument

from ._translator import ExampleCamTranslator

__all__ = ["EXAMPLE_FILTERS", "ExampleCam"]

_HERE = Path(__file__).parent

EXAMPLE_FILTERS: tuple[FilterDefinition, ...] = (
    FilterDefinition("g_ex", "g", "ExampleCam g (SDSS-like)", lambda_eff_nm=475.0, aliases=("g",)),
    FilterDefinition("r_ex", "r", "ExampleCam r (SDSS-like)", lambda_eff_nm=625.0, aliases=("r",)),
    FilterDefinition("empty", None, "no filter in the beam (biases, darks)"),
)
"""Every physical filter an ExampleCam header can report, with its band."""


@functools.cache
def _camera() -> Camera:
    return Camera.from_yaml(_HERE / "camera.yaml")


class ExampleCam(Instrument):
    """ExampleCam: two 512 x 512 CCDs (S0, S1) of 15 µm pixels, two amplifiers each, g and r filters.

    Raw files: one FITS file per CCD and exposure, the primary header plus one image HDU per
    amplifier (``EXTNAME`` ``AMP_A``, ``AMP_B``), 16-bit unsigned, as `write_raw` writes them.
    """

    name: ClassVar[str] = "ExampleCam"
    policy_name: ClassVar[str | None] = "examplecam"
    filter_definitions = EXAMPLE_FILTERS
    translator_class = ExampleCamTranslator
    raw_format: ClassVar[str] = "amp_hdus"
    raw_dtype: ClassVar[str] = "uint16"
    wcs_flip_x: ClassVar[bool] = False  # the camera sees the sky unmirrored: east is -x at ROTPA 0

    def get_camera(self) -> Camera:
        return _camera()

    def amp_hdu_name(self, amp_name: str) -> str:
        return f"AMP_{amp_name}"

    def max_exposure_id(self) -> int:
        return 99_991_231 * 100_000 + 99_999 + 1  # YYYYMMDD * 10^5 + SEQNUM (see the translator)

    def curated_calibrations(self) -> Iterator[CuratedCalibration]:
        """The camera, and the defects of each CCD (``defects.yaml``), valid from first light."""
        from astropy.table import Table

        from osprey.daf.butler import Timespan

        yield from super().curated_calibrations()
        shipped = yaml.safe_load((_HERE / "defects.yaml").read_text())
        valid = Timespan.from_iso(shipped["valid_from"], None)
        for name, boxes in shipped["defects"].items():
            det = self.get_detector(name)
            table = Table(
                rows=[tuple(b) for b in boxes] or None,
                names=("x0", "y0", "width", "height"),
                dtype=("i4", "i4", "i4", "i4"),
                meta={"instrument": self.name, "detector": det.id, "units": "pixels (assembled, 0-based)"},
            )
            yield CuratedCalibration("defects", "AstropyTable", table, valid, {"detector": det.id})
