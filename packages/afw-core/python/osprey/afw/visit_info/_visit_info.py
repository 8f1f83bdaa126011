"""`VisitInfo`: when, where and how an exposure was taken."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from osprey.geom import Angle, SpherePoint, degrees, radians

from ..errors import AfwValueError
from ..metadata import PropertyList
from ._components import Observatory, RotType, Weather

__all__ = ["VisitInfo"]

_STR_FIELDS = ("instrument_label", "observation_type", "science_program", "observation_reason", "object")
# FITS keywords written by to_property_list (after LSST afw's VisitInfo keywords).
_STR_KEYS = {
    "instrument_label": "INSTRUMENT",
    "observation_type": "OBSTYPE",
    "science_program": "PROGRAM",
    "observation_reason": "REASON",
    "object": "OBJECT",
}


def _as_tai(date: Any) -> Any:
    from astropy.time import Time

    if date is None:
        return None
    if not isinstance(date, Time):
        raise AfwValueError(f"VisitInfo.date must be an astropy Time (mid-exposure), got {date!r}")
    if not date.isscalar:
        raise AfwValueError("VisitInfo.date must be a single time, not an array")
    return date.tai


def _sphere_to_list(p: SpherePoint | None) -> list[float] | None:
    return None if p is None else [p.longitude.as_degrees(), p.latitude.as_degrees()]


def _sphere_from_list(v: Any) -> SpherePoint | None:
    return None if v is None else SpherePoint(float(v[0]), float(v[1]), degrees)


@dataclasses.dataclass(frozen=True, eq=False)
class VisitInfo:
    """Everything about how an exposure was taken that is not pixels.

    Unknown values are None. Angles are `osprey.geom.Angle` / `SpherePoint`; times are an
    astropy `~astropy.time.Time` converted to the TAI scale, at the middle of the exposure.

    Attributes
    ----------
    id : `int` or None
        Exposure/visit identifier.
    exposure_time, dark_time : `float` or None
        Shutter-open time and dark-current integration time, seconds.
    date : `astropy.time.Time` or None
        Middle of the exposure (TAI scale).
    boresight_ra_dec, boresight_az_alt : `SpherePoint` or None
        Pointing (ICRS) and (azimuth east of north, altitude).
    boresight_airmass : `float` or None
        Airmass at the boresight as recorded.
    boresight_rotation_angle : `Angle` or None
        Rotator angle, interpreted according to ``rotation_type``.
    rotation_type : `RotType`
    observatory : `Observatory` or None
    weather : `Weather`
    instrument_label, observation_type, science_program, observation_reason, object : `str` or None
    has_simulated_content : `bool`
    """

    id: int | None = None
    exposure_time: float | None = None
    dark_time: float | None = None
    date: Any = None
    boresight_ra_dec: SpherePoint | None = None
    boresight_az_alt: SpherePoint | None = None
    boresight_airmass: float | None = None
    boresight_rotation_angle: Angle | None = None
    rotation_type: RotType = RotType.UNKNOWN
    observatory: Observatory | None = None
    weather: Weather = dataclasses.field(default_factory=Weather)
    instrument_label: str | None = None
    observation_type: str | None = None
    science_program: str | None = None
    observation_reason: str | None = None
    object: str | None = None
    has_simulated_content: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "date", _as_tai(self.date))
        object.__setattr__(self, "rotation_type", RotType(self.rotation_type))
        for name in ("exposure_time", "dark_time", "boresight_airmass"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise AfwValueError(f"VisitInfo.{name} must be a finite number or None, got {value!r}")
                if value < 0 or (name == "boresight_airmass" and value < 1):
                    raise AfwValueError(f"VisitInfo.{name} is out of range: {value!r}")
                object.__setattr__(self, name, float(value))
        for name in ("boresight_ra_dec", "boresight_az_alt"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, SpherePoint):
                raise AfwValueError(f"VisitInfo.{name} must be an osprey.geom.SpherePoint, got {value!r}")
        if self.boresight_rotation_angle is not None and not isinstance(self.boresight_rotation_angle, Angle):
            raise AfwValueError(f"boresight_rotation_angle must be an Angle, got {self.boresight_rotation_angle!r}")
        if self.observatory is not None and not isinstance(self.observatory, Observatory):
            raise AfwValueError(f"VisitInfo.observatory must be an Observatory, got {self.observatory!r}")
        if not isinstance(self.weather, Weather):
            raise AfwValueError(f"VisitInfo.weather must be a Weather, got {self.weather!r}")
        for name in _STR_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise AfwValueError(f"VisitInfo.{name} must be a string or None, got {value!r}")

    def replace(self, **changes: Any) -> VisitInfo:
        """Copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    # -- derived quantities (astropy) ----------------------------------------------------
    def _require(self, *names: str) -> None:
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise AfwValueError(f"VisitInfo needs {', '.join(missing)} for this computation")

    @property
    def local_era(self) -> Angle:
        """Local Earth rotation angle: ERA at ``date`` (UT1) plus the observatory longitude, in [0, 2 pi)."""
        import astropy.units as u

        self._require("date", "observatory")
        era = self.date.earth_rotation_angle(self.observatory.longitude.as_degrees() * u.deg)
        return Angle(float(era.to_value(u.rad)), radians).wrap()

    @property
    def boresight_hour_angle(self) -> Angle:
        """Hour angle of the boresight: local ERA minus its CIRS right ascension, in [-pi, pi)."""
        import astropy.units as u
        from astropy.coordinates import CIRS, SkyCoord

        self._require("date", "observatory", "boresight_ra_dec")
        ra, dec = self.boresight_ra_dec.longitude.as_degrees(), self.boresight_ra_dec.latitude.as_degrees()
        cirs = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs").transform_to(CIRS(obstime=self.date))
        return (self.local_era - Angle(float(cirs.ra.to_value(u.rad)), radians)).wrap_ctr()

    def compute_boresight_az_alt(self) -> SpherePoint:
        """Topocentric (azimuth, altitude) of ``boresight_ra_dec`` at ``date`` (astropy AltAz, no refraction)."""
        import astropy.units as u
        from astropy.coordinates import AltAz, SkyCoord

        self._require("date", "observatory", "boresight_ra_dec")
        ra, dec = self.boresight_ra_dec.longitude.as_degrees(), self.boresight_ra_dec.latitude.as_degrees()
        frame = AltAz(obstime=self.date, location=self.observatory.to_astropy())
        altaz = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs").transform_to(frame)
        return SpherePoint(float(altaz.az.to_value(u.deg)), float(altaz.alt.to_value(u.deg)), degrees)

    def compute_airmass(self) -> float:
        """Plane-parallel airmass ``sec z`` of the boresight (from `compute_boresight_az_alt`)."""
        alt = self.compute_boresight_az_alt().latitude.as_radians()
        if alt <= 0:
            raise AfwValueError("the boresight is below the horizon at this date; airmass is undefined")
        return 1.0 / math.sin(alt)

    # -- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON/YAML safe): the date as an ISO string in TAI, angles in degrees."""
        return {
            "id": self.id,
            "exposure_time_s": self.exposure_time,
            "dark_time_s": self.dark_time,
            "date_tai": None if self.date is None else self.date.isot,
            "boresight_ra_dec_deg": _sphere_to_list(self.boresight_ra_dec),
            "boresight_az_alt_deg": _sphere_to_list(self.boresight_az_alt),
            "boresight_airmass": self.boresight_airmass,
            "boresight_rotation_angle_deg": (
                None if self.boresight_rotation_angle is None else self.boresight_rotation_angle.as_degrees()
            ),
            "rotation_type": self.rotation_type.value,
            "observatory": None if self.observatory is None else self.observatory.to_dict(),
            "weather": self.weather.to_dict(),
            **{name: getattr(self, name) for name in _STR_FIELDS},
            "has_simulated_content": self.has_simulated_content,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VisitInfo:
        from astropy.time import Time

        known = set(cls().to_dict())
        unknown = set(data) - known
        if unknown:
            raise AfwValueError(f"unknown VisitInfo keys {sorted(unknown)}; expected some of {sorted(known)}")
        rot = data.get("boresight_rotation_angle_deg")
        obs = data.get("observatory")
        return cls(
            id=data.get("id"),
            exposure_time=data.get("exposure_time_s"),
            dark_time=data.get("dark_time_s"),
            date=None if data.get("date_tai") is None else Time(data["date_tai"], scale="tai", format="isot"),
            boresight_ra_dec=_sphere_from_list(data.get("boresight_ra_dec_deg")),
            boresight_az_alt=_sphere_from_list(data.get("boresight_az_alt_deg")),
            boresight_airmass=data.get("boresight_airmass"),
            boresight_rotation_angle=None if rot is None else Angle(rot, degrees),
            rotation_type=RotType(data.get("rotation_type", "UNKNOWN")),
            observatory=None if obs is None else Observatory.from_dict(obs),
            weather=Weather.from_dict(data.get("weather") or {}),
            **{name: data.get(name) for name in _STR_FIELDS},
            has_simulated_content=bool(data.get("has_simulated_content", False)),
        )

    def to_property_list(self) -> PropertyList:
        """FITS-style keywords (LSST afw names); unknown values are left out."""
        d = self.to_dict()
        pl = PropertyList()

        def put(key: str, value: Any, comment: str) -> None:
            if value is not None:
                pl.set(key, value, comment)

        put("EXPID", self.id, "Exposure identifier")
        put("EXPTIME", self.exposure_time, "Exposure time (s)")
        put("DARKTIME", self.dark_time, "Dark time (s)")
        if self.date is not None:
            put("DATE-AVG", d["date_tai"], "Middle of the exposure")
            put("TIMESYS", "TAI", "Time scale of DATE-AVG")
        for key, value, comment in (
            ("BORE-RA", d["boresight_ra_dec_deg"], "Boresight RA, Dec (ICRS, deg)"),
            ("BORE-AZ", d["boresight_az_alt_deg"], "Boresight azimuth, altitude (deg)"),
        ):
            if value is not None:
                put(key, value[0], comment)
                put("BORE-DEC" if key == "BORE-RA" else "BORE-ALT", value[1], comment)
        put("BORE-AIRMASS", self.boresight_airmass, "Boresight airmass")
        put("BORE-ROTANG", d["boresight_rotation_angle_deg"], "Rotation angle (deg)")
        put("ROTTYPE", self.rotation_type.value, "Reference of the rotation angle")
        if self.observatory is not None:
            put("OBS-LONG", d["observatory"]["longitude_deg"], "Observatory longitude (deg, east positive)")
            put("OBS-LAT", d["observatory"]["latitude_deg"], "Observatory latitude (deg)")
            put("OBS-ELEV", self.observatory.elevation, "Observatory elevation (m)")
        put("AIRTEMP", self.weather.air_temperature, "Air temperature (C)")
        put("AIRPRESS", self.weather.air_pressure, "Air pressure (Pa)")
        put("HUMIDITY", self.weather.humidity, "Relative humidity (%)")
        for name, key in _STR_KEYS.items():
            put(key, getattr(self, name), name.replace("_", " ").capitalize())
        put("HAS-SIMULATED-CONTENT", self.has_simulated_content, "Data contain simulated content")
        return pl

    @classmethod
    def from_property_list(cls, metadata: PropertyList) -> VisitInfo:
        """Read the keywords written by `to_property_list` (missing ones become None)."""
        from astropy.time import Time

        def get(key: str) -> Any:
            return metadata.get(key, None)

        def pair(k1: str, k2: str) -> SpherePoint | None:
            a, b = get(k1), get(k2)
            return None if a is None or b is None else SpherePoint(float(a), float(b), degrees)

        date = get("DATE-AVG")
        if date is not None:
            scale = str(get("TIMESYS") or "TAI").lower()
            date = Time(date, scale=scale, format="isot")
        obs = None
        if all(get(k) is not None for k in ("OBS-LONG", "OBS-LAT", "OBS-ELEV")):
            obs = Observatory(Angle(get("OBS-LONG"), degrees), Angle(get("OBS-LAT"), degrees), get("OBS-ELEV"))
        rot = get("BORE-ROTANG")
        return cls(
            id=get("EXPID"),
            exposure_time=get("EXPTIME"),
            dark_time=get("DARKTIME"),
            date=date,
            boresight_ra_dec=pair("BORE-RA", "BORE-DEC"),
            boresight_az_alt=pair("BORE-AZ", "BORE-ALT"),
            boresight_airmass=get("BORE-AIRMASS"),
            boresight_rotation_angle=None if rot is None else Angle(rot, degrees),
            rotation_type=RotType(get("ROTTYPE") or "UNKNOWN"),
            observatory=obs,
            weather=Weather(get("AIRTEMP"), get("AIRPRESS"), get("HUMIDITY")),
            **{name: get(key) for name, key in _STR_KEYS.items()},
            has_simulated_content=bool(get("HAS-SIMULATED-CONTENT") or False),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VisitInfo):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]
