"""Reader for the LSST obs_lsst camera description (``cameraHeader.yaml`` + per-raft files).

obs_lsst describes LSSTCam in three parts:

* ``cameraHeader.yaml``: amplifier and CCD templates per sensor family (``AMP_ITL``,
  ``CCD_E2V``...; raw geometry, reference pixel, pixel size) and raft layouts
  (``RAFT_ITL.ccds.S00.offset`` in mm, CCD id within the raft).
* ``cameraTransforms.yaml``: the plate scale (arcsec/mm) and the focal plane to field
  angle radial polynomial (coefficients in mm, ``c1 = 1``).
* ``R<row><col>.yaml`` per raft: sensor family, serial numbers, small per-CCD offsets (mm)
  and yaws (degrees) within the raft, and per-amplifier gain (e-/ADU), read noise (e-)
  and saturation (ADU).

Raft centres are not in those files; by default the science rafts sit on the nominal
127 mm grid, ``R<r><c>`` at ``x = (c - 2) * 127 mm, y = (r - 2) * 127 mm``, and detector ids
are ``9 * (index of the raft among the 21 science rafts) + CCD id`` (R01_S00 = 0,
R22_S11 = 94, R43_S22 = 188), as in LSSTCam. Other rafts (the corner guider/wavefront
rafts) are read only when their centre, yaw and first id are given in ``raft_layout``.
The ``z`` component of a 3-element offset (piston) is ignored: focal-plane coordinates are 2-D.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from osprey.geom import Angle, Box2I, Extent2D, Extent2I, Point2D, Point2I, radians

from ._amplifier import Amplifier
from ._camera import Camera, _load_yaml
from ._detector import Detector, DetectorType, Orientation
from ._distortion import RadialDistortion
from ._errors import CameraGeomError
from ._spec import SpecReader, make_box

__all__ = ["LSST_RAFT_PITCH_MM", "LSST_SCIENCE_RAFTS", "read_lsst_policy"]

LSST_RAFT_PITCH_MM = 127.0
"""Nominal centre-to-centre spacing of LSSTCam rafts, mm."""

LSST_SCIENCE_RAFTS: tuple[str, ...] = tuple(
    f"R{r}{c}" for r in range(5) for c in range(5) if (r, c) not in {(0, 0), (0, 4), (4, 0), (4, 4)}
)
"""The 21 science rafts in detector-id order (R01, R02, R03, R10, ..., R43)."""

_RAFT_FILE = re.compile(r"R\d\dW?\.yaml")


def _find(directory: Path, filename: str, given: str | Path | None) -> Path:
    if given is not None:
        return Path(given)
    for candidate in (directory / filename, directory.parent / filename):
        if candidate.is_file():
            return candidate
    raise CameraGeomError(
        f"no {filename} in {str(directory)!r} or its parent; pass its path explicitly "
        f"(Camera.from_lsst_policy(..., {'header' if 'Header' in filename else 'transforms'}=path))"
    )


def _nominal_layout(raft: str) -> dict[str, Any]:
    r, c = int(raft[1]), int(raft[2])
    return {
        "offset_mm": ((c - 2) * LSST_RAFT_PITCH_MM, (r - 2) * LSST_RAFT_PITCH_MM),
        "yaw_deg": 0.0,
        "id0": 9 * LSST_SCIENCE_RAFTS.index(raft),
    }


def _box_xy_size(spec: SpecReader, key: str) -> Box2I:
    """An obs_lsst ``[[x0, y0], [xsize, ysize]]`` box (zero size -> empty)."""
    return spec.box(key)


def _read_field_angle(path: Path) -> tuple[RadialDistortion, float]:
    data = _load_yaml(path)
    spec = SpecReader(data, str(path))
    plate_scale = spec.number("plateScale", minimum=0.0, strict=True)
    transforms = spec.child("transforms")
    native = transforms.text("nativeSys", "FocalPlane")
    if native != "FocalPlane":
        raise transforms.error("nativeSys", f"only FocalPlane is supported, got {native!r}")
    fa = transforms.child("FieldAngle")
    kind = fa.text("transformType")
    if kind != "radial":
        raise fa.error("transformType", f"only 'radial' is supported, got {kind!r}")
    coeffs = fa.numbers("coeffs")
    try:
        return RadialDistortion.from_plate_scale(coeffs, plate_scale), plate_scale
    except CameraGeomError as exc:
        raise CameraGeomError(f"{fa.where}.coeffs: {exc}") from None


def _amplifier(template: SpecReader, values: SpecReader, name: str) -> Amplifier:
    """One amplifier from its header template and the raft file's measured values."""
    raw_bbox = _box_xy_size(template, "rawBBox")
    data_bbox = _box_xy_size(template, "rawDataBBox")
    ix, iy = (int(v) for v in template.numbers("ixy", 2))
    flip_x, flip_y = (bool(v) for v in template.raw("flipXY"))
    w, h = data_bbox.width, data_bbox.height
    saturation = values.number("saturation", None, minimum=0.0, strict=True)
    if saturation is None:
        saturation = template.number("saturation", math.inf, minimum=0.0, strict=True)
    return Amplifier(
        name=name,
        bbox=make_box(ix * w, iy * h, w, h),
        gain=values.number("gain", minimum=0.0, strict=True),
        read_noise=values.number("readNoise", minimum=0.0),
        saturation=saturation,
        linearity_type=template.text("linearityType", "NONE"),
        linearity_coeffs=template.numbers("linearityCoeffs", default=()),
        linearity_threshold=template.number("linearityThreshold", None),
        linearity_maximum=template.number("linearityMax", None),
        raw_bbox=raw_bbox,
        raw_data_bbox=data_bbox,
        raw_serial_overscan_bbox=_box_xy_size(template, "rawSerialOverscanBBox"),
        raw_parallel_overscan_bbox=_box_xy_size(template, "rawParallelOverscanBBox"),
        raw_serial_prescan_bbox=_box_xy_size(template, "rawSerialPrescanBBox"),
        raw_parallel_prescan_bbox=_box_xy_size(template, "rawParallelPrescanBBox"),
        raw_flip_x=flip_x,
        raw_flip_y=flip_y,
        raw_xy_offset=Extent2I(ix * raw_bbox.width, iy * raw_bbox.height),
        raw_hdu=template.integer("hdu", None),
    )


def _read_raft(
    path: Path, header: Mapping[str, Any], layout: Mapping[str, Any], field_angle: RadialDistortion
) -> list[Detector]:
    data = _load_yaml(path)
    if not isinstance(data, dict) or len(data) != 1:
        raise CameraGeomError(f"{path}: expected one top-level key naming the raft (e.g. 'R22:')")
    raft_name = next(iter(data))
    raft = SpecReader(data[raft_name], f"{path}: {raft_name}")
    family = raft.text("detectorType")
    raft_template = header.get(f"RAFT_{family}")
    if not isinstance(raft_template, dict) or "ccds" not in raft_template:
        raise raft.error(
            "detectorType",
            f"cameraHeader.yaml has no RAFT_{family} with ccds; families there: "
            f"{sorted(k[5:] for k in header if k.startswith('RAFT_'))}",
        )
    serials = raft.child("ccdSerials")
    geometry = raft.child("geometryWithinRaft", {})
    sensor_types = raft.child("sensorTypes", {})
    amp_values = raft.child("amplifiers")
    raft.raw("raftSerial", "")
    raft.finish()

    raft_offset = layout["offset_mm"]
    raft_yaw = math.radians(float(layout.get("yaw_deg", 0.0)))
    cos_r, sin_r = math.cos(raft_yaw), math.sin(raft_yaw)
    detectors = []
    for slot, ccd_node in raft_template["ccds"].items():
        ccd = SpecReader(ccd_node, f"cameraHeader.yaml: RAFT_{family}.ccds.{slot}")
        ccd_offset = ccd.numbers("offset", 2)
        geom = geometry.child(slot, {}) if geometry.has(slot) else SpecReader({}, f"{geometry.where}.{slot}")
        g_offset = geom.numbers("offset", None, (0.0, 0.0))
        if len(g_offset) not in (2, 3):
            raise geom.error("offset", f"expected [x, y] or [x, y, z] in mm, got {list(g_offset)}")
        g_yaw = geom.number("yaw", 0.0)
        geom.finish()
        dx, dy = ccd_offset[0] + g_offset[0], ccd_offset[1] + g_offset[1]
        fp = Point2D(raft_offset[0] + cos_r * dx - sin_r * dy, raft_offset[1] + sin_r * dx + cos_r * dy)
        yaw = raft_yaw + math.radians(ccd.number("yaw", 0.0) + g_yaw)
        (x0, y0), (x1, y1) = ccd.raw("bbox")
        bbox = Box2I.from_min_max(Point2I(int(x0), int(y0)), Point2I(int(x1), int(y1)))
        pixel_size = ccd.numbers("pixelSize", 2)
        ref = ccd.numbers("refpos", 2)
        det_type = sensor_types.integer(slot, None) if sensor_types.has(slot) else None
        if det_type is None:
            det_type = ccd.integer("detectorType", 0)
        amp_templates = ccd.raw("amplifiers")
        if not amp_values.has(slot):
            raise CameraGeomError(f"{amp_values.where}: no measured amplifier values for CCD {slot}")
        measured = amp_values.child(slot)
        amps = []
        for amp_name, amp_node in sorted(amp_templates.items(), key=lambda kv: kv[1].get("hdu", 0)):
            template = SpecReader(amp_node, f"{ccd.where}.amplifiers.{amp_name}")
            if not measured.has(amp_name):
                raise CameraGeomError(
                    f"{measured.where}: amplifier {amp_name} is missing (gain, readNoise, saturation)"
                )
            values = measured.child(amp_name)
            amps.append(_amplifier(template, values, amp_name))
            values.finish()
        measured.finish()
        try:
            detectors.append(
                Detector(
                    id=int(layout["id0"]) + ccd.integer("id"),
                    name=f"{raft_name.removesuffix('W')}_{slot}",  # R00W holds R00's wavefront CCDs
                    serial=str(serials.raw(slot)),
                    type=DetectorType(det_type),
                    physical_type=family.split("_")[0],
                    bbox=bbox,
                    pixel_size=Extent2D(*pixel_size),
                    orientation=Orientation(
                        fp,
                        Point2D(*ref),
                        Angle(yaw, radians),
                        Angle(math.radians(ccd.number("pitch", 0.0)), radians),
                        Angle(math.radians(ccd.number("roll", 0.0)), radians),
                    ),
                    amplifiers=tuple(amps),
                    field_angle=field_angle,
                )
            )
        except CameraGeomError as exc:
            raise CameraGeomError(f"{path}: {exc}") from None
    amp_values.finish()
    serials.finish()
    return detectors


def read_lsst_policy(
    directory: str | Path,
    *,
    rafts: Iterable[str] | None = None,
    raft_layout: Mapping[str, Mapping[str, Any]] | None = None,
    header: str | Path | None = None,
    transforms: str | Path | None = None,
) -> Camera:
    """Build a `Camera` from an obs_lsst ``policy/<camera>`` directory (see the module docstring).

    Parameters
    ----------
    directory : path
        Folder with the ``R??.yaml`` raft files. ``cameraHeader.yaml`` and
        ``cameraTransforms.yaml`` are looked for there and then in its parent.
    rafts : iterable of `str`, optional
        Raft files to read by stem (``"R22"``, ``"R00W"``); default: every science raft
        present (R01..R43 without the corners).
    raft_layout : mapping, optional
        Per raft: ``{"offset_mm": [x, y], "yaw_deg": yaw, "id0": first_id}``. Overrides the
        nominal layout, and is required for any non-science raft.
    header, transforms : path, optional
        Explicit paths of ``cameraHeader.yaml`` and ``cameraTransforms.yaml``.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise CameraGeomError(f"obs_lsst policy directory {str(folder)!r} does not exist")
    header_path = _find(folder, "cameraHeader.yaml", header)
    transforms_path = _find(folder, "cameraTransforms.yaml", transforms)
    header_data = _load_yaml(header_path)
    if not isinstance(header_data, dict) or "name" not in header_data:
        raise CameraGeomError(f"{header_path}: expected a mapping with the camera 'name' and AMP_/CCD_/RAFT_ templates")
    field_angle, plate_scale = _read_field_angle(transforms_path)
    present = sorted(p.stem for p in folder.iterdir() if _RAFT_FILE.fullmatch(p.name))
    wanted = [r for r in present if r in LSST_SCIENCE_RAFTS] if rafts is None else list(rafts)
    if not wanted:
        raise CameraGeomError(f"{folder}: no science raft files (R01.yaml ... R43.yaml) found; present: {present}")
    layouts = dict(raft_layout or {})
    detectors: list[Detector] = []
    for stem in wanted:
        path = folder / f"{stem}.yaml"
        if not path.is_file():
            raise CameraGeomError(f"raft file {str(path)!r} does not exist; rafts present: {present}")
        if stem in layouts:
            layout = dict(layouts[stem])
            for key in ("offset_mm", "id0"):
                if key not in layout:
                    raise CameraGeomError(f"raft_layout[{stem!r}] needs {key!r} (and optionally 'yaw_deg')")
        elif stem in LSST_SCIENCE_RAFTS:
            layout = _nominal_layout(stem)
        else:
            raise CameraGeomError(
                f"raft {stem} is not a science raft, so its position is not known; pass "
                f"raft_layout={{{stem!r}: {{'offset_mm': [x, y], 'yaw_deg': yaw, 'id0': first_id}}}}"
            )
        detectors.extend(_read_raft(path, header_data, layout, field_angle))
    return Camera(str(header_data["name"]), detectors, field_angle, plate_scale)
