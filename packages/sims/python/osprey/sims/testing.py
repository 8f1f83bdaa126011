"""Test kit: a small LSST-like camera and an `Instrument` around it, for fast simulations.

`small_camera` builds detectors named like LSSTCam's (``R22_S11`` = id 94, ``R22_S12`` = id 95)
with LSST-style raw geometry (2 x 4 amplifiers, serial prescan, serial and parallel overscan,
the top row flipped in x and y), a 0.2 arcsec pixel and a mild radial distortion, so a
simulation takes a fraction of a second while exercising the whole raw format. `SmallLsstCam`
is an `osprey.obs.base.Instrument` with ``name = "LSSTCam"`` (so the LSSTCam translator reads
its headers) and the default amp-per-HDU raw format. It is not registered as an entry point.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from osprey.afw.camera_geom import Camera
from osprey.obs.base import FilterDefinition, Instrument

from .headers import DEFAULT_PHYSICAL_FILTERS

__all__ = ["SmallLsstCam", "amp_data", "calibrate_with_truth", "overscan_rows", "small_camera"]


def _detector(det_id: int, name: str, x_mm: float, amp_w: int, amp_h: int, seed: int) -> dict[str, Any]:
    pre, over, pover = 4, 16, 8
    raw_w, raw_h = pre + amp_w + over, amp_h + pover
    amps = []
    for iy in (1, 0):  # HDU order as LSSTCam: the top row first
        for ix in range(4):
            i = len(amps)
            flip = iy == 1
            amps.append(
                {
                    "name": f"C{iy}{ix if iy == 0 else 7 - ix}",
                    "bbox_px": [[ix * amp_w, iy * amp_h], [amp_w, amp_h]],
                    "gain_e_per_adu": 1.2 + 0.07 * ((i * 5 + seed) % 9),
                    "read_noise_e": 5.0 + 0.25 * ((i * 3 + seed) % 8),
                    "saturation_adu": 100000.0,
                    "raw": {
                        "bbox_px": [[0, 0], [raw_w, raw_h]],
                        "data_bbox_px": [[pre, 0], [amp_w, amp_h]],
                        "serial_overscan_bbox_px": [[pre + amp_w, 0], [over, amp_h]],
                        "parallel_overscan_bbox_px": [[pre, amp_h], [amp_w, pover]],
                        "serial_prescan_bbox_px": [[0, 0], [pre, amp_h]],
                        "flip_x": flip,
                        "flip_y": flip,
                        "xy_offset_px": [ix * raw_w, iy * raw_h],
                        "hdu": i + 1,
                    },
                }
            )
    w, h = 4 * amp_w, 2 * amp_h
    return {
        "id": det_id,
        "name": name,
        "serial": f"SIM-{det_id:03d}",
        "physical_type": "E2V",
        "bbox_px": [[0, 0], [w, h]],
        "pixel_size_mm": [0.01, 0.01],
        "orientation": {"focal_plane_position_mm": [x_mm, 0.0], "reference_point_px": [(w - 1) / 2, (h - 1) / 2]},
        "amplifiers": amps,
    }


@functools.lru_cache(maxsize=8)
def small_camera(amp_width: int = 128, amp_height: int = 128) -> Camera:
    """Two LSST-like detectors (R22_S11 id 94 on the axis, R22_S12 id 95 beside it), 0.2"/pixel."""
    pitch = 4 * amp_width * 0.01 + 0.5
    return Camera.from_yaml(
        {
            "format_version": 1,
            "name": "LSSTCam",
            "plate_scale_arcsec_per_mm": 20.0,
            "field_angle": {"radial_coeffs_mm": [0.0, 1.0, 0.0, 2.0e-6]},
            "detectors": [
                _detector(94, "R22_S11", 0.0, amp_width, amp_height, 0),
                _detector(95, "R22_S12", pitch, amp_width, amp_height, 3),
            ],
        }
    )


class SmallLsstCam(Instrument):
    """An LSSTCam stand-in with the two-detector `small_camera` (tests, tutorials)."""

    name = "LSSTCam"
    filter_definitions = tuple(
        FilterDefinition(physical, band) for band, physical in DEFAULT_PHYSICAL_FILTERS["LSSTCam"].items()
    )
    amp_width = 128
    amp_height = 128

    def get_camera(self) -> Camera:
        return small_camera(self.amp_width, self.amp_height)


def overscan_rows(raw: NDArray[Any], amp) -> NDArray[np.float64]:
    """Mean of an amplifier's serial overscan per raw row (ADU), skipping its first 2 columns."""
    ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
    b = amp.raw_serial_overscan_bbox
    return raw[oy + b.y0 : oy + b.y_end, ox + b.x0 + 2 : ox + b.x_end].mean(axis=1)


def amp_data(raw: NDArray[Any], amp) -> NDArray[np.float64]:
    """An amplifier's overscan-subtracted data region (ADU) in readout order (as stored in the raw frame)."""
    ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
    d = amp.raw_data_bbox
    data = raw[oy + d.y0 : oy + d.y_end, ox + d.x0 : ox + d.x_end].astype(np.float64)
    return data - overscan_rows(raw, amp)[d.y0 : d.y_end, None]


def calibrate_with_truth(exposure, wavelength: float) -> NDArray[np.float64]:
    """Undo a `SimulatedExposure`'s signature with the truth: electrons per pixel, assembled frame.

    Per-row overscan subtraction, gain, assembly (flips), bias structure, non-linearity,
    dark current and the flat at ``wavelength`` (nm); crosstalk is left in (it is < 0.1%).
    """
    det, sig = exposure.detector, exposure.signature
    out = np.zeros((det.bbox.height, det.bbox.width))
    for amp in det:
        data = amp_data(exposure.raw, amp)
        if amp.raw_flip_y:
            data = data[::-1, :]
        if amp.raw_flip_x:
            data = data[:, ::-1]
        out[amp.bbox.slices_in(det.bbox)] = data * amp.gain
    out -= sig.bias_structure
    for amp in det:
        sl = amp.bbox.slices_in(det.bbox)
        out[sl] = sig.linearizer.correct(amp.name, out[sl])
    out -= sig.dark_rate * exposure.spec.dark_time
    out /= sig.flat(float(wavelength))
    return out
