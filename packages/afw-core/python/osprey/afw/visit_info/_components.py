"""`FilterLabel`, `Observatory`, `Weather` and `RotType`: the small value types of a visit."""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

from osprey.geom import Angle, degrees

from ..errors import AfwValueError

__all__ = ["FilterLabel", "Observatory", "RotType", "Weather"]


class RotType(enum.Enum):
    """What the boresight rotation angle is measured against (as in LSST afw)."""

    UNKNOWN = "UNKNOWN"
    SKY = "SKY"  # position angle of the focal-plane +y axis, east of north
    HORIZON = "HORIZON"  # position angle relative to the local vertical
    MOUNT = "MOUNT"  # rotator angle as commanded to the mount


@dataclasses.dataclass(frozen=True)
class FilterLabel:
    """The filter an exposure was taken through: abstract ``band`` and/or the ``physical_filter``.

    Either may be None (e.g. a coadd has a band but no single physical filter), but not
    both. Hashable, so it can key dictionaries.
    """

    band: str | None = None
    physical_filter: str | None = None

    def __post_init__(self) -> None:
        if self.band is None and self.physical_filter is None:
            raise AfwValueError("a FilterLabel needs a band, a physical_filter, or both")
        for name in ("band", "physical_filter"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise AfwValueError(f"FilterLabel.{name} must be a non-empty string or None, got {value!r}")

    @property
    def has_band(self) -> bool:
        return self.band is not None

    @property
    def has_physical_filter(self) -> bool:
        return self.physical_filter is not None

    def to_dict(self) -> dict[str, Any]:
        return {"band": self.band, "physical_filter": self.physical_filter}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FilterLabel:
        return cls(data.get("band"), data.get("physical_filter"))


@dataclasses.dataclass(frozen=True)
class Observatory:
    """Geodetic position of a telescope: longitude (east positive), latitude (`Angle`) and elevation in metres."""

    longitude: Angle
    latitude: Angle
    elevation: float

    def __post_init__(self) -> None:
        for name in ("longitude", "latitude"):
            if not isinstance(getattr(self, name), Angle):
                raise AfwValueError(f"Observatory.{name} must be an osprey.geom.Angle, got {getattr(self, name)!r}")
        if abs(self.latitude.as_degrees()) > 90:
            raise AfwValueError(f"Observatory latitude must be within +/-90 deg, got {self.latitude}")
        if not math.isfinite(self.elevation):
            raise AfwValueError(f"Observatory elevation must be a finite number of metres, got {self.elevation!r}")
        object.__setattr__(self, "elevation", float(self.elevation))

    def to_astropy(self) -> Any:
        """`astropy.coordinates.EarthLocation` (WGS84)."""
        import astropy.units as u
        from astropy.coordinates import EarthLocation

        return EarthLocation.from_geodetic(
            self.longitude.as_degrees() * u.deg, self.latitude.as_degrees() * u.deg, self.elevation * u.m
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "longitude_deg": self.longitude.as_degrees(),
            "latitude_deg": self.latitude.as_degrees(),
            "elevation_m": self.elevation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Observatory:
        return cls(
            Angle(data["longitude_deg"], degrees), Angle(data["latitude_deg"], degrees), float(data["elevation_m"])
        )


def _optional_float(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AfwValueError(f"Weather.{name} must be a finite number or None (unknown), got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class Weather:
    """Conditions at the telescope; None means not measured.

    Attributes
    ----------
    air_temperature : `float` or None
        Degrees Celsius.
    air_pressure : `float` or None
        Pascals.
    humidity : `float` or None
        Relative humidity, percent.
    """

    air_temperature: float | None = None
    air_pressure: float | None = None
    humidity: float | None = None

    def __post_init__(self) -> None:
        for name in ("air_temperature", "air_pressure", "humidity"):
            object.__setattr__(self, name, _optional_float(getattr(self, name), name))

    def to_dict(self) -> dict[str, Any]:
        return {
            "air_temperature_c": self.air_temperature,
            "air_pressure_pa": self.air_pressure,
            "humidity_percent": self.humidity,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Weather:
        return cls(data.get("air_temperature_c"), data.get("air_pressure_pa"), data.get("humidity_percent"))
