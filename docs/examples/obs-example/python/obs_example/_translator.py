"""`ExampleCamTranslator`: ExampleCam raw headers -> `osprey.obs.base.ObservationInfo`."""

from __future__ import annotations

from typing import Any

from osprey.geom import Angle, SpherePoint, degrees
from osprey.obs.base import MetadataTranslator, TranslationError

__all__ = ["ExampleCamTranslator"]

# IMGTYPE as the camera writes it -> Osprey's observation types (only "science" gets visits).
_TYPES = {"OBJECT": "science", "BIAS": "bias", "DARK": "dark", "FLAT": "flat", "FOCUS": "focus"}
# FILTER card -> physical filter (the names in _instrument.EXAMPLE_FILTERS).
_FILTERS = {"g": "g_ex", "r": "r_ex", "NONE": "empty"}


class ExampleCamTranslator(MetadataTranslator):
    """ExampleCam primary headers: one file per CCD, every card below in the primary HDU.

    Cards read: INSTRUME, TELESCOP, DAYOBS, SEQNUM, CCDID, CCDNAME, DATE-OBS, DATE-END,
    TIMESYS, EXPTIME, DARKTIME, IMGTYPE, FILTER, OBJECT, PROGRAM, RA, DEC, ROTPA, ALT, AZ,
    SITELAT, SITELONG, SITEELEV, TEMPERAT, PRESSURE, HUMIDITY.
    """

    # Setting ``name`` registers the class: `osprey.obs.base.translate` then asks its
    # can_translate() about every header it sees.
    name = "ExampleCam"
    telescope_name = "Example 0.5 m"

    @classmethod
    def can_translate(cls, header: Any) -> bool:
        return str(header.get("INSTRUME", "")).strip() == "ExampleCam"

    # -- identity: which exposure and which detector ---------------------------------------
    def to_day_obs(self) -> int:
        return self.required_int("DAYOBS")

    def to_seq_num(self) -> int:
        return self.required_int("SEQNUM")

    def to_exposure_id(self) -> int:
        # YYYYMMDD * 10^5 + sequence number: unique, sortable, and readable by people.
        return self.to_day_obs() * 100_000 + self.to_seq_num()

    def to_observation_id(self) -> str:
        return f"EX_{self.to_day_obs()}_{self.to_seq_num():06d}"

    def to_detector_num(self) -> int:
        return self.required_int("CCDID")

    def to_detector_name(self) -> str | None:
        return str(self.required("CCDNAME")).strip()

    def to_detector_group(self) -> str | None:
        return None  # no rafts

    def to_detector_exposure_id(self) -> int:
        return self.to_exposure_id() * 10 + self.to_detector_num()

    # -- what and when ------------------------------------------------------------------------
    def to_physical_filter(self) -> str:
        value = str(self.optional("FILTER", "NONE")).strip()
        if value not in _FILTERS:
            where = f"header {self.filename}" if self.filename else "the header"
            raise TranslationError(
                f"card 'FILTER' of {where}: unknown ExampleCam filter {value!r}; known {list(_FILTERS)}"
            )
        return _FILTERS[value]

    def to_datetime_begin(self) -> Any:
        return self.time_from_card("DATE-OBS", self.timesys())

    def to_datetime_end(self) -> Any:
        return self.time_from_card("DATE-END", self.timesys())

    def to_exposure_time(self) -> float:
        return self.required_float("EXPTIME")

    def to_dark_time(self) -> float:
        dark = self.optional_float("DARKTIME")
        return self.to_exposure_time() if dark is None else dark

    def to_observation_type(self) -> str:
        kind = str(self.required("IMGTYPE")).strip().upper()
        return _TYPES.get(kind, kind.lower())

    def to_science_program(self) -> str | None:
        return self.optional("PROGRAM")

    def to_object(self) -> str | None:
        return self.optional("OBJECT")

    # -- where the telescope pointed ------------------------------------------------------------
    def to_tracking_radec(self) -> SpherePoint | None:
        if self.to_observation_type() != "science":
            return None  # calibration frames have no meaningful pointing
        return self.sphere_point("RA", "DEC")  # ICRS degrees

    def to_altaz_begin(self) -> SpherePoint | None:
        return self.sphere_point("AZ", "ALT")

    def to_boresight_rotation_angle(self) -> Angle | None:
        angle = self.optional_float("ROTPA")
        return None if angle is None else Angle(angle, degrees)

    def to_boresight_rotation_coord(self) -> str:
        return "sky" if self.is_defined("ROTPA") else "unknown"

    # -- site and weather -------------------------------------------------------------------------
    def to_location(self) -> Any:
        import astropy.units as u
        from astropy.coordinates import EarthLocation

        return EarthLocation.from_geodetic(
            self.required_float("SITELONG") * u.deg,  # east positive
            self.required_float("SITELAT") * u.deg,
            self.required_float("SITEELEV") * u.m,
        )

    def to_temperature(self) -> float | None:
        return self.optional_float("TEMPERAT")  # Celsius

    def to_pressure(self) -> float | None:
        hpa = self.optional_float("PRESSURE")
        return None if hpa is None else hpa * 100.0  # hPa -> Pa

    def to_relative_humidity(self) -> float | None:
        return self.optional_float("HUMIDITY")  # percent
