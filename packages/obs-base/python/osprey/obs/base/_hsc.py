"""Translator for Hyper Suprime-Cam (HSC) on the Subaru telescope."""

from __future__ import annotations

import re
from typing import Any

from osprey.geom import Angle, SpherePoint, degrees

from ._errors import TranslationError
from ._translator import MetadataTranslator

__all__ = ["HscTranslator"]

_EXP_ID = re.compile(r"^HSC[A-Z](?P<num>\d{6})(?P<sub>\d{2})$")
_TYPES = {"object": "science", "bias": "bias", "dark": "dark", "domeflat": "flat", "skyflat": "flat"}
# Subaru (Hawaii, UTC-10) nights fall within one UTC date, so HSC's day_obs has no rollover offset.
DAY_OBS_OFFSET_HOURS = 0.0
# Subaru telescope, Maunakea: geodetic longitude, latitude (degrees) and height (metres).
SUBARU_LOCATION = (-155.476667, 19.825556, 4139.0)


class HscTranslator(MetadataTranslator):
    """HSC raw primary headers (EXP-ID, DET-ID, FILTER01, MJD-STR/MJD-END, ...)."""

    name = "HSC"
    telescope_name = "Subaru"

    @classmethod
    def can_translate(cls, header: Any) -> bool:
        if str(header.get("INSTRUME", "")).strip() == "Hyper Suprime-Cam":
            return True
        return str(header.get("TELESCOP", "")).strip() == "Subaru" and str(header.get("EXP-ID", "")).startswith("HSC")

    def _exp_id(self) -> re.Match[str]:
        value = str(self.required("EXP-ID")).strip()
        match = _EXP_ID.match(value)
        if match is None:
            raise TranslationError(f"{self._where('EXP-ID')} is not of the form HSCAnnnnnnnn: {value!r}")
        return match

    def to_instrument(self) -> str:
        return "HSC"

    def to_observation_id(self) -> str:
        return self._exp_id().group(0)

    def to_exposure_id(self) -> int:
        """The frame number of EXP-ID without its two-digit detector field (HSCA90402400 -> 904024)."""
        return int(self._exp_id().group("num"))

    def to_seq_num(self) -> int:
        return self.to_exposure_id()

    def to_detector_num(self) -> int:
        return self.required_int("DET-ID")

    def to_detector_name(self) -> str | None:
        return None

    def to_detector_group(self) -> str | None:
        return None

    def to_detector_exposure_id(self) -> int:
        return self.to_exposure_id() * 200 + self.to_detector_num()

    def to_physical_filter(self) -> str:
        value = self.optional("FILTER01")
        return "unknown" if value is None else str(value).strip().upper()

    def to_datetime_begin(self) -> Any:
        return self.time_from_mjd_card("MJD-STR", self.timesys())

    def to_datetime_end(self) -> Any:
        return self.time_from_mjd_card("MJD-END", self.timesys())

    def to_exposure_time(self) -> float:
        return self.required_float("EXPTIME")

    def to_dark_time(self) -> float:
        return self.to_exposure_time()

    def to_day_obs(self) -> int:
        return self.day_obs_from_time(self.to_datetime_begin(), DAY_OBS_OFFSET_HOURS)

    def to_observation_type(self) -> str:
        kind = str(self.required("DATA-TYP")).strip().lower()
        return _TYPES.get(kind, kind)

    def to_science_program(self) -> str | None:
        value = self.optional("PROP-ID")
        return None if value is None else str(value)

    def to_object(self) -> str | None:
        value = self.optional("OBJECT")
        return None if value is None else str(value)

    def to_tracking_radec(self) -> SpherePoint | None:
        if self.to_observation_type() != "science" or not self.is_defined("RA2000"):
            return None
        import astropy.units as u
        from astropy.coordinates import SkyCoord

        try:
            coord = SkyCoord(str(self.required("RA2000")), str(self.required("DEC2000")), unit=(u.hourangle, u.deg))
        except ValueError as exc:
            raise TranslationError(f"{self._where('RA2000')}/DEC2000 cannot be read as a position: {exc}") from None
        return SpherePoint(float(coord.ra.deg), float(coord.dec.deg), degrees)

    def to_altaz_begin(self) -> SpherePoint | None:
        return self.sphere_point("AZIMUTH", "ALTITUDE")

    def to_boresight_airmass(self) -> float | None:
        airmass = self.optional_float("AIRMASS")
        return airmass if airmass is not None and airmass >= 1.0 else super().to_boresight_airmass()

    def to_boresight_rotation_angle(self) -> Angle | None:
        """Sky position angle of the focal plane: 270 deg minus the instrument PA (INST-PA)."""
        pa = self.optional_float("INST-PA")
        return None if pa is None else Angle((270.0 - pa) % 360.0, degrees)

    def to_boresight_rotation_coord(self) -> str:
        return "sky" if self.is_defined("INST-PA") else "unknown"

    def to_location(self) -> Any:
        import astropy.units as u
        from astropy.coordinates import EarthLocation

        lon, lat, height = SUBARU_LOCATION
        return EarthLocation.from_geodetic(lon * u.deg, lat * u.deg, height * u.m)

    def to_temperature(self) -> float | None:
        kelvin = self.optional_float("OUT-TMP")
        return None if kelvin is None else kelvin - 273.15

    def to_pressure(self) -> float | None:
        hpa = self.optional_float("OUT-PRS")
        return None if hpa is None else hpa * 100.0

    def to_relative_humidity(self) -> float | None:
        return self.optional_float("OUT-HUM")
