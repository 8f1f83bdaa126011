"""`Amplifier`: one readout segment of a detector, with its electronics and raw layout."""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

from osprey.geom import Box2I, Extent2I, Point2I

from ._errors import CameraGeomError
from ._spec import SpecReader, box_inside, box_to_spec

__all__ = ["Amplifier", "ReadoutCorner"]


class ReadoutCorner(enum.Enum):
    """Corner of the amplifier's region, in assembled detector pixels, that is read out first."""

    LL = "LL"
    LR = "LR"
    UR = "UR"
    UL = "UL"

    @classmethod
    def from_flips(cls, flip_x: bool, flip_y: bool) -> ReadoutCorner:
        """Corner implied by the raw flips (an unflipped amplifier reads from lower left)."""
        return {(False, False): cls.LL, (True, False): cls.LR, (True, True): cls.UR, (False, True): cls.UL}[
            (flip_x, flip_y)
        ]


def _box(value: Any, name: str) -> Box2I:
    if not isinstance(value, Box2I):
        raise CameraGeomError(f"Amplifier.{name} must be a Box2I, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class Amplifier:
    """One amplifier (readout segment) of a detector.

    Boxes are `Box2I` (inclusive begin, exclusive end). ``bbox`` is in assembled, trimmed
    detector pixels; every ``raw_*`` box is in the amplifier's own raw frame (the pixels
    as digitised, with prescan and overscan), whose origin sits at ``raw_xy_offset`` in
    a raw frame holding all amplifiers of the detector side by side.

    Attributes
    ----------
    name : `str`
        Amplifier name, unique within its detector (e.g. ``"C10"``).
    bbox : `Box2I`
        Data region in assembled detector pixels.
    gain : `float`
        Gain in electrons per ADU (> 0).
    read_noise : `float`
        Read noise in electrons (>= 0).
    saturation : `float`
        Saturation level in ADU (``math.inf`` when not saturating).
    suspect_level : `float` or `None`
        Level in ADU above which pixels are suspect (non-linear); `None` if unknown.
    linearity_type : `str`
        Name of the linearity model (``"NONE"``, ``"PROPORTIONAL"``, ``"POLYNOMIAL"``...).
    linearity_coeffs : `tuple` of `float`
        Coefficients of that model, in its own convention.
    linearity_threshold, linearity_maximum : `float` or `None`
        Range in ADU over which the linearity model applies, if stated.
    raw_bbox : `Box2I`
        All raw pixels of this amplifier.
    raw_data_bbox : `Box2I`
        Raw pixels that become ``bbox`` after trimming (same dimensions as ``bbox``).
    raw_serial_overscan_bbox, raw_parallel_overscan_bbox, raw_serial_prescan_bbox, raw_parallel_prescan_bbox : `Box2I`
        Overscan and prescan regions (empty boxes where absent).
    raw_flip_x, raw_flip_y : `bool`
        Whether raw data must be flipped in x / y to match the assembled orientation.
    raw_xy_offset : `Extent2I`
        Position of this amplifier's raw frame in the detector-wide raw frame.
    raw_hdu : `int` or `None`
        FITS HDU holding this amplifier's raw data, where the raw format has one per amplifier.
    """

    name: str
    bbox: Box2I
    gain: float
    read_noise: float
    saturation: float = math.inf
    suspect_level: float | None = None
    linearity_type: str = "NONE"
    linearity_coeffs: tuple[float, ...] = ()
    linearity_threshold: float | None = None
    linearity_maximum: float | None = None
    raw_bbox: Box2I | None = None
    raw_data_bbox: Box2I | None = None
    raw_serial_overscan_bbox: Box2I = dataclasses.field(default_factory=Box2I)
    raw_parallel_overscan_bbox: Box2I = dataclasses.field(default_factory=Box2I)
    raw_serial_prescan_bbox: Box2I = dataclasses.field(default_factory=Box2I)
    raw_parallel_prescan_bbox: Box2I = dataclasses.field(default_factory=Box2I)
    raw_flip_x: bool = False
    raw_flip_y: bool = False
    raw_xy_offset: Extent2I = dataclasses.field(default_factory=Extent2I)
    raw_hdu: int | None = None

    def __post_init__(self) -> None:
        where = f"Amplifier {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise CameraGeomError(f"Amplifier name must be a non-empty string, got {self.name!r}")
        _box(self.bbox, "bbox")
        if self.bbox.is_empty():
            raise CameraGeomError(f"{where}: bbox must not be empty")
        if not (self.gain > 0 and math.isfinite(self.gain)):
            raise CameraGeomError(f"{where}: gain must be a finite number of e-/ADU > 0, got {self.gain!r}")
        if not (self.read_noise >= 0 and math.isfinite(self.read_noise)):
            raise CameraGeomError(f"{where}: read_noise must be a finite number of e- >= 0, got {self.read_noise!r}")
        if not self.saturation > 0:
            raise CameraGeomError(
                f"{where}: saturation must be > 0 ADU (use math.inf for none), got {self.saturation!r}"
            )
        object.__setattr__(self, "gain", float(self.gain))
        object.__setattr__(self, "read_noise", float(self.read_noise))
        object.__setattr__(self, "saturation", float(self.saturation))
        object.__setattr__(self, "linearity_coeffs", tuple(float(c) for c in self.linearity_coeffs))
        object.__setattr__(self, "raw_xy_offset", Extent2I(self.raw_xy_offset))
        # Without raw geometry, the raw frame is the trimmed data itself.
        if self.raw_bbox is None:
            default = (
                self.raw_data_bbox if self.raw_data_bbox is not None else Box2I(Point2I(0, 0), self.bbox.dimensions)
            )
            object.__setattr__(self, "raw_bbox", default)
        if self.raw_data_bbox is None:
            object.__setattr__(self, "raw_data_bbox", self.raw_bbox)
        for name in (
            "raw_bbox",
            "raw_data_bbox",
            "raw_serial_overscan_bbox",
            "raw_parallel_overscan_bbox",
            "raw_serial_prescan_bbox",
            "raw_parallel_prescan_bbox",
        ):
            box = _box(getattr(self, name), name)
            if not box_inside(box, self.raw_bbox):
                raise CameraGeomError(f"{where}: {name} {box!r} reaches outside raw_bbox {self.raw_bbox!r}")
        if self.raw_data_bbox.dimensions != self.bbox.dimensions:
            raise CameraGeomError(
                f"{where}: raw_data_bbox {self.raw_data_bbox!r} and bbox {self.bbox!r} must have the same size"
            )

    @property
    def readout_corner(self) -> ReadoutCorner:
        """Corner of ``bbox`` read out first, implied by the raw flips."""
        return ReadoutCorner.from_flips(self.raw_flip_x, self.raw_flip_y)

    def replace(self, **changes: Any) -> Amplifier:
        """Copy with some attributes changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Declarative description (the ``amplifiers`` entries of the camera format)."""
        out: dict[str, Any] = {
            "name": self.name,
            "bbox_px": box_to_spec(self.bbox),
            "gain_e_per_adu": self.gain,
            "read_noise_e": self.read_noise,
            "saturation_adu": self.saturation if math.isfinite(self.saturation) else None,
        }
        if self.suspect_level is not None:
            out["suspect_level_adu"] = self.suspect_level
        linearity: dict[str, Any] = {"type": self.linearity_type, "coeffs": list(self.linearity_coeffs)}
        if self.linearity_threshold is not None:
            linearity["threshold_adu"] = self.linearity_threshold
        if self.linearity_maximum is not None:
            linearity["maximum_adu"] = self.linearity_maximum
        out["linearity"] = linearity
        out["raw"] = {
            "bbox_px": box_to_spec(self.raw_bbox),
            "data_bbox_px": box_to_spec(self.raw_data_bbox),
            "serial_overscan_bbox_px": box_to_spec(self.raw_serial_overscan_bbox),
            "parallel_overscan_bbox_px": box_to_spec(self.raw_parallel_overscan_bbox),
            "serial_prescan_bbox_px": box_to_spec(self.raw_serial_prescan_bbox),
            "parallel_prescan_bbox_px": box_to_spec(self.raw_parallel_prescan_bbox),
            "flip_x": self.raw_flip_x,
            "flip_y": self.raw_flip_y,
            "xy_offset_px": [self.raw_xy_offset.x, self.raw_xy_offset.y],
            "hdu": self.raw_hdu,
        }
        if out["saturation_adu"] is None:
            del out["saturation_adu"]
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "amplifier") -> Amplifier:
        """Build from the declarative description; errors name ``where`` and the key."""
        spec = data if isinstance(data, SpecReader) else SpecReader(data, where)
        kwargs: dict[str, Any] = {
            "name": spec.text("name"),
            "bbox": spec.box("bbox_px"),
            "gain": spec.number("gain_e_per_adu", minimum=0.0, strict=True),
            "read_noise": spec.number("read_noise_e", minimum=0.0),
            "saturation": spec.number("saturation_adu", math.inf, minimum=0.0, strict=True),
            "suspect_level": spec.number("suspect_level_adu", None),
        }
        if kwargs["bbox"].is_empty():
            raise spec.error("bbox_px", "an amplifier's data region must not be empty")
        lin = spec.child("linearity", None)
        if lin is not None:
            kwargs["linearity_type"] = lin.text("type", "NONE")
            kwargs["linearity_coeffs"] = lin.numbers("coeffs", default=())
            kwargs["linearity_threshold"] = lin.number("threshold_adu", None)
            kwargs["linearity_maximum"] = lin.number("maximum_adu", None)
            lin.finish()
        raw = spec.child("raw", None)
        if raw is not None:
            kwargs["raw_bbox"] = raw.box("bbox_px", None)
            kwargs["raw_data_bbox"] = raw.box("data_bbox_px", None)
            for key in ("serial_overscan", "parallel_overscan", "serial_prescan", "parallel_prescan"):
                kwargs[f"raw_{key}_bbox"] = raw.box(f"{key}_bbox_px", Box2I())
            kwargs["raw_flip_x"] = raw.flag("flip_x", False)
            kwargs["raw_flip_y"] = raw.flag("flip_y", False)
            off = raw.raw("xy_offset_px", [0, 0])
            if not (isinstance(off, (list, tuple)) and len(off) == 2 and all(isinstance(v, int) for v in off)):
                raise raw.error("xy_offset_px", f"expected two integers [x, y], got {off!r}")
            kwargs["raw_xy_offset"] = Extent2I(off[0], off[1])
            kwargs["raw_hdu"] = raw.integer("hdu", None)
            raw.finish()
        spec.finish()
        try:
            return cls(**kwargs)
        except CameraGeomError as exc:
            raise CameraGeomError(f"{spec.where}: {exc}") from None
