"""`Camera`: the detectors of an instrument and its focal plane to field angle mapping."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.geom import Point2D

from ._detector import Detector, _merge
from ._distortion import RadialDistortion
from ._errors import CameraGeomError
from ._spec import SpecReader
from ._systems import FIELD_ANGLE, FOCAL_PLANE, CameraSys

__all__ = ["FORMAT_VERSION", "Camera"]

FORMAT_VERSION = 1
"""Version of the declarative camera description written by `Camera.to_dict`."""


def _load_yaml(path: Path) -> Any:
    import yaml  # imported here: only camera descriptions need it

    try:
        with open(path, encoding="utf-8") as stream:
            # The libyaml loader is ~10x faster on the 200-detector LSSTCam description.
            return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as exc:
        raise CameraGeomError(f"cannot read camera description {str(path)!r}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CameraGeomError(f"{path}: not valid YAML: {exc}") from exc


class Camera:
    """An instrument's detectors plus the focal plane (mm) to field angle (radians) mapping.

    Detectors are looked up by id (`int`) or name (`str`) with ``camera[key]`` and iterate
    in id order. Each detector held by the camera carries the camera's `RadialDistortion`,
    so ``camera["R22_S11"].transform(p, PIXELS, FIELD_ANGLE)`` works.

    Parameters
    ----------
    name : `str`
        Instrument name.
    detectors : iterable of `Detector`
        Ids and names must be unique.
    field_angle : `RadialDistortion`, optional
        Focal plane to field angle mapping; without it only ``PIXELS`` and ``FOCAL_PLANE``
        transforms are possible.
    plate_scale : `float`, optional
        Nominal plate scale in arcsec/mm, for information (the mapping is ``field_angle``).
    """

    __slots__ = ("_by_id", "_by_name", "_field_angle", "_name", "_plate_scale")

    def __init__(
        self,
        name: str,
        detectors: Iterable[Detector],
        field_angle: RadialDistortion | None = None,
        plate_scale: float | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise CameraGeomError(f"camera name must be a non-empty string, got {name!r}")
        if field_angle is not None and not isinstance(field_angle, RadialDistortion):
            raise CameraGeomError(f"field_angle must be a RadialDistortion, got {field_angle!r}")
        self._name = name
        self._field_angle = field_angle
        self._plate_scale = None if plate_scale is None else float(plate_scale)
        by_id: dict[int, Detector] = {}
        by_name: dict[str, Detector] = {}
        for det in detectors:
            if not isinstance(det, Detector):
                raise CameraGeomError(f"camera {name!r}: expected Detector objects, got {det!r}")
            if det.id in by_id:
                raise CameraGeomError(
                    f"camera {name!r}: detector id {det.id} is used by {by_id[det.id].name!r} and {det.name!r}"
                )
            if det.name in by_name:
                raise CameraGeomError(f"camera {name!r}: detector name {det.name!r} is used twice")
            if det.field_angle != field_angle:
                det = det.replace(field_angle=field_angle)
            by_id[det.id] = det
            by_name[det.name] = det
        if not by_id:
            raise CameraGeomError(f"camera {name!r} has no detectors")
        self._by_id = dict(sorted(by_id.items()))
        self._by_name = by_name

    # -- lookup ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """Instrument name."""
        return self._name

    @property
    def field_angle(self) -> RadialDistortion | None:
        """Focal plane (mm) to field angle (radians) mapping, if known."""
        return self._field_angle

    @property
    def plate_scale(self) -> float | None:
        """Nominal plate scale in arcsec/mm, if given."""
        return self._plate_scale

    @property
    def ids(self) -> list[int]:
        """Detector ids, ascending."""
        return list(self._by_id)

    @property
    def names(self) -> list[str]:
        """Detector names, in id order."""
        return [d.name for d in self._by_id.values()]

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Detector]:
        return iter(self._by_id.values())

    def __contains__(self, key: object) -> bool:
        return key in self._by_name if isinstance(key, str) else key in self._by_id

    def __getitem__(self, key: int | str) -> Detector:
        table: Mapping[Any, Detector] = self._by_name if isinstance(key, str) else self._by_id
        try:
            return table[key if isinstance(key, str) else int(key)]
        except (KeyError, TypeError, ValueError):
            kind = "name" if isinstance(key, str) else "id"
            raise CameraGeomError(
                f"camera {self._name!r} has no detector with {kind} {key!r}; "
                f"ids run {self.ids[0]}..{self.ids[-1]}, names look like {self.names[0]!r}"
            ) from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Camera):
            return NotImplemented
        return (
            self._name == other._name
            and self._field_angle == other._field_angle
            and self._plate_scale == other._plate_scale
            and list(self._by_id.values()) == list(other._by_id.values())
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Camera({self._name!r}, {len(self)} detectors)"

    # -- geometry --------------------------------------------------------------------------
    def transform(self, points: Any, from_sys: CameraSys | str, to_sys: CameraSys | str) -> Any:
        """Transform between the camera-wide systems ``FOCAL_PLANE`` (mm) and ``FIELD_ANGLE`` (rad).

        For ``PIXELS`` use a detector's `Detector.transform`. ``points`` is a `Point2D` or
        an array of shape (..., 2); the result has the same form.
        """
        src, dst = CameraSys(from_sys), CameraSys(to_sys)
        for system in (src, dst):
            if system not in (FOCAL_PLANE, FIELD_ANGLE):
                raise CameraGeomError(
                    f"Camera.transform works between FOCAL_PLANE and FIELD_ANGLE; for {system.name} "
                    "use camera[detector].transform"
                )
        if src is dst:
            return points
        if self._field_angle is None:
            raise CameraGeomError(
                f"camera {self._name!r} has no focal plane -> field angle mapping; give field_angle "
                "(or plate_scale_arcsec_per_mm in its description)"
            )
        if isinstance(points, Point2D):
            xy = np.array([[points.x, points.y]])
        else:
            xy = np.asarray(points, dtype=np.float64)
        out = self._field_angle.forward(xy) if src is FOCAL_PLANE else self._field_angle.inverse(xy)
        return Point2D(float(out[0, 0]), float(out[0, 1])) if isinstance(points, Point2D) else out

    def find_detector_ids(self, points: ArrayLike, system: CameraSys | str = FOCAL_PLANE) -> NDArray[np.int64]:
        """Id of the detector under each position (-1 where none), vectorised over points.

        Parameters
        ----------
        points : array_like, shape (..., 2)
            Positions in ``system`` (``FOCAL_PLANE`` mm by default, or ``FIELD_ANGLE``).

        Returns
        -------
        `numpy.ndarray` of int64, shape (...)
            Where detectors overlap (they do not in a real camera) the lowest id wins.
        """
        system = CameraSys(system)
        xy = np.asarray(points, dtype=np.float64)
        if xy.shape[-1:] != (2,):
            raise CameraGeomError(f"points must have shape (..., 2), got {xy.shape}")
        if system is FIELD_ANGLE:
            xy = self.transform(xy, FIELD_ANGLE, FOCAL_PLANE)
        elif system is not FOCAL_PLANE:
            raise CameraGeomError("find_detector_ids takes FOCAL_PLANE or FIELD_ANGLE positions")
        out = np.full(xy.shape[:-1], -1, dtype=np.int64)
        for det in reversed(list(self)):  # loop over detectors, vectorised over points
            out[det.contains(xy, FOCAL_PLANE)] = det.id
        return out

    def find_detectors(self, point: Point2D | ArrayLike, system: CameraSys | str = FOCAL_PLANE) -> list[Detector]:
        """Detectors whose pixels contain one position (``FOCAL_PLANE`` mm or ``FIELD_ANGLE`` rad)."""
        system = CameraSys(system)
        xy = np.array([[point.x, point.y]]) if isinstance(point, Point2D) else np.asarray(point, float).reshape(1, 2)
        if system is FIELD_ANGLE:
            xy = self.transform(xy, FIELD_ANGLE, FOCAL_PLANE)
        return [det for det in self if bool(det.contains(xy, FOCAL_PLANE)[0])]

    # -- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The declarative description (see `from_dict`), exact for every stored value."""
        out: dict[str, Any] = {"format_version": FORMAT_VERSION, "name": self._name}
        if self._plate_scale is not None:
            out["plate_scale_arcsec_per_mm"] = self._plate_scale
        if self._field_angle is not None:
            out["field_angle"] = self._field_angle.to_dict()
        out["detectors"] = [d.to_dict() for d in self]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "camera description") -> Camera:
        """Build from the declarative description (the format of `from_yaml`)."""
        spec = SpecReader(data, source)
        version = spec.integer("format_version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise spec.error("format_version", f"this Osprey reads version {FORMAT_VERSION}, got {version}")
        name = spec.text("name")
        plate_scale = spec.number("plate_scale_arcsec_per_mm", None, minimum=0.0, strict=True)
        field_angle = None
        fa = spec.child("field_angle", None)
        if fa is not None:
            if fa.has("radial_coeffs_rad") == fa.has("radial_coeffs_mm"):
                raise CameraGeomError(f"{fa.where}: give exactly one of radial_coeffs_rad or radial_coeffs_mm")
            try:
                if fa.has("radial_coeffs_rad"):
                    field_angle = RadialDistortion(fa.numbers("radial_coeffs_rad"))
                else:
                    coeffs = fa.numbers("radial_coeffs_mm")
                    if plate_scale is None:
                        raise fa.error("radial_coeffs_mm", "needs plate_scale_arcsec_per_mm at the top level")
                    field_angle = RadialDistortion.from_plate_scale(coeffs, plate_scale)
            except CameraGeomError as exc:
                raise CameraGeomError(f"{fa.where}: {exc}") from None
            fa.finish()
        elif plate_scale is not None:
            field_angle = RadialDistortion.from_plate_scale([0.0, 1.0], plate_scale)
        templates = spec.raw("detector_templates", {})
        if not isinstance(templates, dict):
            raise spec.error("detector_templates", "expected a mapping of template name -> partial detector")
        det_list = spec.raw("detectors")
        if not isinstance(det_list, list) or not det_list:
            raise spec.error("detectors", "expected a non-empty list of detector mappings")
        detectors = []
        for i, det in enumerate(det_list):
            where = f"{source}: detectors[{i}]"
            if not isinstance(det, dict):
                raise CameraGeomError(f"{where}: expected a mapping, got {det!r}")
            if "template" in det:
                tname = det["template"]
                if tname not in templates:
                    raise CameraGeomError(f"{where}.template: unknown template {tname!r}; defined: {sorted(templates)}")
                det = _merge(templates[tname], {k: v for k, v in det.items() if k != "template"})
            detectors.append(Detector.from_dict(det, where, field_angle))
        spec.finish()
        return cls(name, detectors, field_angle, plate_scale)

    @classmethod
    def from_yaml(cls, source: str | os.PathLike[str] | Mapping[str, Any]) -> Camera:
        """Read a declarative camera description from a YAML file (or an already-parsed mapping).

        See the package documentation for the format; every value carries its unit in
        its key name (``gain_e_per_adu``, ``read_noise_e``, ``pixel_size_um``...), and
        unknown keys are errors so typos cannot pass silently.
        """
        if isinstance(source, Mapping):
            return cls.from_dict(source)
        path = Path(source)
        return cls.from_dict(_load_yaml(path), str(path))

    def to_yaml(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as YAML; `from_yaml` reads it back to an equal camera."""
        import yaml

        with open(path, "w", encoding="utf-8") as stream:
            # libyaml's emitter when present: the pure-Python one takes tens of seconds for LSSTCam
            yaml.dump(self.to_dict(), stream, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)

    @classmethod
    def from_lsst_policy(cls, directory: str | os.PathLike[str], **kwargs: Any) -> Camera:
        """Read an obs_lsst-style description (``cameraHeader.yaml`` + ``R??.yaml`` raft files).

        See `read_lsst_policy` for the keyword arguments (``rafts``, ``raft_layout``,
        ``header``, ``transforms``) and for the assumptions made about raft positions.
        """
        from ._lsst_policy import read_lsst_policy

        return read_lsst_policy(directory, **kwargs)

    @classmethod
    def single_detector(
        cls,
        name: str,
        width: int,
        height: int,
        *,
        gain: float = 1.0,
        read_noise: float = 0.0,
        saturation: float = math.inf,
        pixel_size_um: float = 10.0,
        plate_scale: float | None = None,
    ) -> Camera:
        """A generic one-CCD, one-amplifier camera: a working default for a new instrument.

        ``gain`` in e-/ADU, ``read_noise`` in e-, ``saturation`` in ADU, ``pixel_size_um`` in
        micrometres and ``plate_scale`` in arcsec/mm. The detector centre sits on the axis.
        """
        w, h = int(width), int(height)
        amp: dict[str, Any] = {
            "name": "A00",
            "bbox_px": [[0, 0], [w, h]],
            "gain_e_per_adu": gain,
            "read_noise_e": read_noise,
        }
        if math.isfinite(saturation):
            amp["saturation_adu"] = saturation
        desc: dict[str, Any] = {
            "name": name,
            "detectors": [
                {
                    "id": 0,
                    "name": "0",
                    "bbox_px": [[0, 0], [w, h]],
                    "pixel_size_um": pixel_size_um,
                    "orientation": {
                        "focal_plane_position_mm": [0.0, 0.0],
                        "reference_point_px": [(w - 1) / 2.0, (h - 1) / 2.0],
                    },
                    "amplifiers": [amp],
                }
            ],
        }
        if plate_scale is not None:
            desc["plate_scale_arcsec_per_mm"] = plate_scale
        return cls.from_dict(desc, f"Camera.single_detector({name!r})")
