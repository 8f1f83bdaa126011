"""`Detector` and `Orientation`: one sensor, where it sits on the focal plane, and its amplifiers."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.geom import Angle, Box2D, Box2I, Extent2D, Point2D, radians

from ._amplifier import Amplifier
from ._distortion import RadialDistortion
from ._errors import CameraGeomError
from ._spec import SpecReader, box_inside, box_to_spec
from ._systems import FOCAL_PLANE, PIXELS, CameraSys

__all__ = ["Detector", "DetectorType", "Orientation"]


class DetectorType(enum.IntEnum):
    """What a detector is for; the values are those of LSST afw (and of obs_lsst ``sensorTypes``)."""

    SCIENCE = 0
    FOCUS = 1
    GUIDER = 2
    WAVEFRONT = 3


@dataclasses.dataclass(frozen=True)
class Orientation:
    """Placement of a detector on the focal plane.

    The pixel ``reference_point`` lands at ``fp_position`` (mm). Around it the detector is
    turned by ``yaw`` (about the focal-plane normal, x towards y), then tilted by ``pitch``
    (about y) and ``roll`` (about x); the focal-plane image is the orthographic projection,
    i.e. the upper-left 2x2 block of ``Rz(yaw) @ Ry(pitch) @ Rx(roll)``.

    Attributes
    ----------
    fp_position : `Point2D`
        Focal-plane position of the reference point, mm.
    reference_point : `Point2D`
        Pixel position (assembled detector pixels) that sits at ``fp_position``.
    yaw, pitch, roll : `Angle`
        Rotations; zero for a detector aligned with the focal plane axes.
    """

    fp_position: Point2D = dataclasses.field(default_factory=lambda: Point2D(0.0, 0.0))
    reference_point: Point2D = dataclasses.field(default_factory=lambda: Point2D(0.0, 0.0))
    yaw: Angle = dataclasses.field(default_factory=lambda: Angle(0.0))
    pitch: Angle = dataclasses.field(default_factory=lambda: Angle(0.0))
    roll: Angle = dataclasses.field(default_factory=lambda: Angle(0.0))

    def __post_init__(self) -> None:
        object.__setattr__(self, "fp_position", Point2D(self.fp_position))
        object.__setattr__(self, "reference_point", Point2D(self.reference_point))
        for name in ("yaw", "pitch", "roll"):
            value = getattr(self, name)
            if not isinstance(value, Angle):
                raise CameraGeomError(f"Orientation.{name} must be an osprey.geom.Angle, got {value!r}")

    def rotation_matrix(self) -> NDArray[np.float64]:
        """2x2 matrix taking a pixel offset (in mm) to a focal-plane offset (mm)."""
        cy, sy = math.cos(self.yaw.as_radians()), math.sin(self.yaw.as_radians())
        cp, sp = math.cos(self.pitch.as_radians()), math.sin(self.pitch.as_radians())
        cr, sr = math.cos(self.roll.as_radians()), math.sin(self.roll.as_radians())
        rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
        ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
        rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
        return (rz @ ry @ rx)[:2, :2]

    def to_dict(self) -> dict[str, Any]:
        return {
            "focal_plane_position_mm": [self.fp_position.x, self.fp_position.y],
            "reference_point_px": [self.reference_point.x, self.reference_point.y],
            "yaw_rad": self.yaw.as_radians(),
            "pitch_rad": self.pitch.as_radians(),
            "roll_rad": self.roll.as_radians(),
        }

    @classmethod
    def from_spec(cls, spec: SpecReader) -> Orientation:
        fp = spec.numbers("focal_plane_position_mm", 2)
        ref = spec.numbers("reference_point_px", 2)
        angles = {}
        for name in ("yaw", "pitch", "roll"):
            rad = spec.one_of_units({f"{name}_rad": 1.0, f"{name}_deg": math.pi / 180.0}, 0.0)
            angles[name] = Angle(rad, radians)
        spec.finish()
        return cls(Point2D(*fp), Point2D(*ref), **angles)


def _as_points(points: Any) -> tuple[NDArray[np.float64], Any]:
    """(n, 2) float64 array and a function restoring the caller's shape/type."""
    if isinstance(points, Point2D):
        arr = np.array([[points.x, points.y]])
        return arr, lambda out: Point2D(float(out[0, 0]), float(out[0, 1]))
    arr = np.asarray(points, dtype=np.float64)
    if arr.shape[-1:] != (2,):
        raise CameraGeomError(f"points must be a Point2D or an array of shape (..., 2) holding (x, y); got {arr.shape}")
    shape = arr.shape
    return arr.reshape(-1, 2), lambda out: out.reshape(shape)


@dataclasses.dataclass(frozen=True)
class Detector:
    """One sensor of a camera: identity, pixel grid, placement on the focal plane and amplifiers.

    Attributes
    ----------
    id : `int`
        Unique integer identifier within the camera.
    name : `str`
        Unique name within the camera (e.g. ``"R22_S11"``).
    serial : `str`
        Manufacturer's serial number.
    type : `DetectorType`
        Science, focus, guider or wavefront sensor.
    physical_type : `str`
        Sensor family (e.g. ``"ITL"``, ``"E2V"``), used to pick calibrations.
    bbox : `Box2I`
        Assembled, trimmed pixels (begin inclusive, end exclusive); the union of the
        amplifiers' ``bbox``.
    pixel_size : `Extent2D`
        Pixel pitch in mm along x and y.
    orientation : `Orientation`
        Placement on the focal plane.
    amplifiers : `tuple` of `Amplifier`
        In readout (HDU) order.
    field_angle : `RadialDistortion` or `None`
        The camera's focal plane to field angle mapping; set by `Camera`, and needed only
        for transforms to or from ``FIELD_ANGLE``.
    """

    id: int
    name: str
    bbox: Box2I
    pixel_size: Extent2D
    orientation: Orientation
    amplifiers: tuple[Amplifier, ...] = ()
    serial: str = ""
    type: DetectorType = DetectorType.SCIENCE
    physical_type: str = ""
    field_angle: RadialDistortion | None = None
    _pix_to_fp: NDArray[np.float64] = dataclasses.field(init=False, repr=False, compare=False, hash=False)
    _fp_to_pix: NDArray[np.float64] = dataclasses.field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        where = f"Detector {self.name!r} (id {self.id})"
        if isinstance(self.id, bool) or not isinstance(self.id, (int, np.integer)):
            raise CameraGeomError(f"{where}: id must be an integer")
        object.__setattr__(self, "id", int(self.id))
        object.__setattr__(self, "type", DetectorType(self.type))
        object.__setattr__(self, "pixel_size", Extent2D(self.pixel_size))
        object.__setattr__(self, "amplifiers", tuple(self.amplifiers))
        if not isinstance(self.bbox, Box2I) or self.bbox.is_empty():
            raise CameraGeomError(f"{where}: bbox must be a non-empty Box2I, got {self.bbox!r}")
        if not (self.pixel_size.x > 0 and self.pixel_size.y > 0):
            raise CameraGeomError(f"{where}: pixel size must be > 0 mm, got {self.pixel_size!r}")
        if not isinstance(self.orientation, Orientation):
            raise CameraGeomError(f"{where}: orientation must be an Orientation, got {self.orientation!r}")
        names = [a.name for a in self.amplifiers]
        if len(set(names)) != len(names):
            raise CameraGeomError(f"{where}: amplifier names must be unique, got {names}")
        for amp in self.amplifiers:
            if not box_inside(amp.bbox, self.bbox):
                raise CameraGeomError(f"{where}: amplifier {amp.name} bbox {amp.bbox!r} is outside {self.bbox!r}")
        if self.amplifiers and not _tiles(self.amplifiers, self.bbox):
            raise CameraGeomError(
                f"{where}: amplifier boxes {[a.bbox for a in self.amplifiers]} must tile the detector "
                f"bbox {self.bbox!r} without overlaps or gaps"
            )
        # pixel -> focal plane: fp = A @ (p - ref) + fp0, as one 3x3 affine matrix and its inverse.
        lin = self.orientation.rotation_matrix() * np.array([self.pixel_size.x, self.pixel_size.y])[None, :]
        ref = np.array([self.orientation.reference_point.x, self.orientation.reference_point.y])
        fp0 = np.array([self.orientation.fp_position.x, self.orientation.fp_position.y])
        forward = np.eye(3)
        forward[:2, :2] = lin
        forward[:2, 2] = fp0 - lin @ ref
        forward.setflags(write=False)
        inverse = np.linalg.inv(forward)
        inverse.setflags(write=False)
        object.__setattr__(self, "_pix_to_fp", forward)
        object.__setattr__(self, "_fp_to_pix", inverse)

    # -- containers ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Amplifier]:
        return iter(self.amplifiers)

    def __len__(self) -> int:
        return len(self.amplifiers)

    def __getitem__(self, name: str) -> Amplifier:
        for amp in self.amplifiers:
            if amp.name == name:
                return amp
        raise CameraGeomError(f"detector {self.name!r} has no amplifier {name!r}; it has {[a.name for a in self]}")

    @property
    def center(self) -> Point2D:
        """Centre of the detector's pixel area (``Box2D(bbox).center``), pixels."""
        return Box2D(self.bbox).center

    def replace(self, **changes: Any) -> Detector:
        """Copy with some attributes changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # -- transforms ------------------------------------------------------------------------
    def _to_focal_plane(self, xy: NDArray[np.float64], system: CameraSys) -> NDArray[np.float64]:
        if system is PIXELS:
            return xy @ self._pix_to_fp[:2, :2].T + self._pix_to_fp[:2, 2]
        if system is FOCAL_PLANE:
            return xy
        return self._require_field_angle().inverse(xy)

    def _from_focal_plane(self, xy: NDArray[np.float64], system: CameraSys) -> NDArray[np.float64]:
        if system is PIXELS:
            return xy @ self._fp_to_pix[:2, :2].T + self._fp_to_pix[:2, 2]
        if system is FOCAL_PLANE:
            return xy
        return self._require_field_angle().forward(xy)

    def _require_field_angle(self) -> RadialDistortion:
        if self.field_angle is None:
            raise CameraGeomError(
                f"detector {self.name!r} has no focal plane -> field angle mapping; take it from a Camera "
                "(camera[name]) or build it with field_angle=RadialDistortion(...)"
            )
        return self.field_angle

    def transform(self, points: Any, from_sys: CameraSys | str, to_sys: CameraSys | str) -> Any:
        """Transform positions between ``PIXELS``, ``FOCAL_PLANE`` (mm) and ``FIELD_ANGLE`` (radians).

        Parameters
        ----------
        points : `Point2D` or array_like, shape (..., 2)
            Positions as ``(x, y)``; an array is transformed in one vectorised step.
        from_sys, to_sys : `CameraSys` or `str`
            Source and target systems (``"PIXELS"``, ``"FOCAL_PLANE"``, ``"FIELD_ANGLE"``).

        Returns
        -------
        `Point2D` or `numpy.ndarray`
            Same shape and type as ``points`` (always float64 for arrays).
        """
        src, dst = CameraSys(from_sys), CameraSys(to_sys)
        xy, restore = _as_points(points)
        return restore(self._from_focal_plane(self._to_focal_plane(xy, src), dst))

    def get_corners(self, system: CameraSys | str = FOCAL_PLANE) -> NDArray[np.float64]:
        """Outer pixel-edge corners of the detector, shape (4, 2), counter-clockwise in pixels."""
        box = Box2D(self.bbox)
        corners = np.array([[p.x, p.y] for p in box.get_corners()])
        return self.transform(corners, PIXELS, system)

    def contains(self, points: ArrayLike, system: CameraSys | str = FOCAL_PLANE) -> NDArray[np.bool_]:
        """Which positions (shape (..., 2), in ``system``) fall on this detector's pixels."""
        pix = np.asarray(self.transform(np.asarray(points, dtype=np.float64), system, PIXELS))
        box = Box2D(self.bbox)
        return (
            (pix[..., 0] >= box.min.x)
            & (pix[..., 0] < box.max.x)
            & (pix[..., 1] >= box.min.y)
            & (pix[..., 1] < box.max.y)
        )

    # -- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Declarative description (one ``detectors`` entry of the camera format)."""
        return {
            "id": self.id,
            "name": self.name,
            "serial": self.serial,
            "type": self.type.name,
            "physical_type": self.physical_type,
            "bbox_px": box_to_spec(self.bbox),
            "pixel_size_mm": [self.pixel_size.x, self.pixel_size.y],
            "orientation": self.orientation.to_dict(),
            "amplifiers": [a.to_dict() for a in self.amplifiers],
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "detector", field_angle: RadialDistortion | None = None) -> Detector:
        """Build from the declarative description; errors name ``where`` and the key."""
        spec = data if isinstance(data, SpecReader) else SpecReader(data, where)
        type_name = spec.text("type", "SCIENCE")
        if type_name.upper() not in DetectorType.__members__:
            raise spec.error("type", f"must be one of {list(DetectorType.__members__)}, got {type_name!r}")
        size = spec.raw("pixel_size_mm", None)
        size_um = spec.raw("pixel_size_um", None)
        if (size is None) == (size_um is None):
            raise CameraGeomError(f"{spec.where}: give exactly one of pixel_size_um or pixel_size_mm")
        key, value, factor = ("pixel_size_mm", size, 1.0) if size is not None else ("pixel_size_um", size_um, 1e-3)
        pair = spec.numbers(key, None)
        if len(pair) == 1:
            pair = (pair[0], pair[0])
        if len(pair) != 2 or min(pair) <= 0:
            raise spec.error(key, f"expected one or two positive numbers (x, y), got {value!r}")
        pixel_size = Extent2D(pair[0] * factor, pair[1] * factor) if factor != 1.0 else Extent2D(*pair)
        orient = spec.child("orientation")
        amp_defaults = spec.raw("amplifier_defaults", {})
        amps_raw = spec.raw("amplifiers", [])
        if not isinstance(amps_raw, list):
            raise spec.error("amplifiers", "expected a list of amplifier mappings")
        amps = []
        for i, amp in enumerate(amps_raw):
            if not isinstance(amp, dict):
                raise spec.error(f"amplifiers[{i}]", f"expected a mapping, got {amp!r}")
            merged = _merge(amp_defaults, amp)
            amps.append(Amplifier.from_dict(merged, f"{spec.where}.amplifiers[{i}]"))
        kwargs = {
            "id": spec.integer("id"),
            "name": spec.text("name"),
            "serial": spec.text("serial", ""),
            "type": DetectorType[type_name.upper()],
            "physical_type": spec.text("physical_type", ""),
            "bbox": spec.box("bbox_px"),
            "pixel_size": pixel_size,
            "orientation": Orientation.from_spec(orient),
            "amplifiers": tuple(amps),
            "field_angle": field_angle,
        }
        spec.finish()
        try:
            return cls(**kwargs)
        except CameraGeomError as exc:
            raise CameraGeomError(f"{spec.where}: {exc}") from None


def _tiles(amplifiers: tuple[Amplifier, ...], bbox: Box2I) -> bool:
    """True if the amplifier boxes (already inside ``bbox``) cover it exactly once."""
    b = np.array([[a.bbox.x0, a.bbox.x_end, a.bbox.y0, a.bbox.y_end] for a in amplifiers])
    overlap = (
        (b[:, None, 0] < b[None, :, 1])
        & (b[None, :, 0] < b[:, None, 1])
        & (b[:, None, 2] < b[None, :, 3])
        & (b[None, :, 2] < b[:, None, 3])
    )
    np.fill_diagonal(overlap, False)
    area = int(np.sum((b[:, 1] - b[:, 0]) * (b[:, 3] - b[:, 2])))
    return not overlap.any() and area == bbox.area


def _merge(base: Any, override: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge: ``override`` wins, nested mappings are merged key by key."""
    if not isinstance(base, dict):
        return dict(override)
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
