"""Translator for the Dark Energy Camera (DECam) on the CTIO Blanco 4 m telescope."""

from __future__ import annotations

from typing import Any, ClassVar

from osprey.geom import SpherePoint, degrees

from ._errors import TranslationError
from ._translator import MetadataTranslator

__all__ = ["SOLID_PLATE", "DecamTranslator"]

_TYPES = {"object": "science", "zero": "bias", "dome flat": "flat", "domeflat": "flat", "dark": "dark"}
# DECam day_obs: the TAI date 12 h earlier, so a whole Chilean night shares one day_obs.
DAY_OBS_OFFSET_HOURS = 12.0
SOLID_PLATE = "solid plate 0.0 0.0"
"""Physical filter of every DECam bias, whatever its ``FILTER`` card says (astro_metadata_translator's fix)."""


class DecamTranslator(MetadataTranslator):
    """DECam raw, InstCal and calexp primary headers (EXPNUM, CCDNUM, DETPOS, ...)."""

    name = "DECam"
    telescope_name = "CTIO 4.0-m telescope"
    solid_plate_filter: ClassVar[str] = SOLID_PLATE
    """``physical_filter`` of every bias (see `to_physical_filter`)."""

    @classmethod
    def can_translate(cls, header: Any) -> bool:
        return str(header.get("INSTRUME", "")).strip() == "DECam"

    def to_observation_id(self) -> str:
        return str(self.required("OBSID")).strip()

    def to_exposure_id(self) -> int:
        return self.required_int("EXPNUM")

    def to_seq_num(self) -> int:
        return self.to_exposure_id()

    def to_detector_num(self) -> int:
        return self.required_int("CCDNUM")

    def to_detector_name(self) -> str | None:
        value = self.optional("DETPOS")
        return None if value is None else str(value).strip()

    def to_detector_group(self) -> str | None:
        name = self.to_detector_name()
        return None if name is None else name[0]

    def to_detector_exposure_id(self) -> int:
        return self.to_exposure_id() * 100 + self.to_detector_num()

    def to_physical_filter(self) -> str:
        """The ``FILTER`` card; ``"solid plate 0.0 0.0"`` for every bias.

        A bias sees no light, so the filter wheel position its header records is
        meaningless; astro_metadata_translator's DECam header fix sets it to the solid
        plate, and so do we, so one bias serves exposures in every filter.
        """
        if self.to_observation_type() == "bias":
            return self.solid_plate_filter
        value = self.optional("FILTER")
        return "unknown" if value is None else str(value).strip()

    def to_datetime_begin(self) -> Any:
        return self.time_from_card("DATE-OBS", self.timesys())

    def to_datetime_end(self) -> Any:
        if self.is_defined("MJD-END"):
            return self.time_from_mjd_card("MJD-END", self.timesys())
        from astropy.time import TimeDelta

        return self.to_datetime_begin() + TimeDelta(self.to_exposure_time(), format="sec")

    def to_exposure_time(self) -> float:
        return self.required_float("EXPTIME")

    def to_dark_time(self) -> float:
        dark = self.optional_float("DARKTIME")
        return self.to_exposure_time() if dark is None else dark

    def to_day_obs(self) -> int:
        return self.day_obs_from_time(self.to_datetime_begin(), DAY_OBS_OFFSET_HOURS)

    def to_observation_type(self) -> str:
        kind = str(self.required("OBSTYPE")).strip().lower()
        return _TYPES.get(kind, kind)

    def to_science_program(self) -> str | None:
        value = self.optional("PROPID")
        return None if value is None else str(value)

    def to_object(self) -> str | None:
        value = self.optional("OBJECT")
        return None if value is None else str(value)

    def to_tracking_radec(self) -> SpherePoint | None:
        """TELRA/TELDEC (sexagesimal hours/degrees in RADESYS, FK5 at EQUINOX) converted to ICRS."""
        if self.to_observation_type() != "science" or not (self.is_defined("TELRA") and self.is_defined("TELDEC")):
            return None
        import astropy.units as u
        from astropy.coordinates import SkyCoord

        frame = str(self.optional("RADESYS", "ICRS")).strip().lower()
        kwargs = {"equinox": f"J{self.optional_float('EQUINOX') or 2000.0}"} if frame == "fk5" else {}
        try:
            coord = SkyCoord(
                str(self.required("TELRA")),
                str(self.required("TELDEC")),
                unit=(u.hourangle, u.deg),
                frame=frame,
                **kwargs,
            ).icrs
        except ValueError as exc:
            raise TranslationError(f"{self._where('TELRA')}/TELDEC cannot be read as a position: {exc}") from None
        return SpherePoint(float(coord.ra.deg), float(coord.dec.deg), degrees)

    def to_altaz_begin(self) -> SpherePoint | None:
        """Boresight (az, alt) from the ICRS pointing at the start time (astropy AltAz)."""
        radec = self.to_tracking_radec()
        if radec is None:
            return None
        import astropy.units as u
        from astropy.coordinates import AltAz, SkyCoord

        coord = SkyCoord(radec.longitude.as_degrees() * u.deg, radec.latitude.as_degrees() * u.deg, frame="icrs")
        altaz = coord.transform_to(AltAz(obstime=self.to_datetime_begin(), location=self.to_location()))
        return SpherePoint(float(altaz.az.deg), float(altaz.alt.deg), degrees)

    def to_boresight_airmass(self) -> float | None:
        airmass = self.optional_float("AIRMASS")
        if airmass is not None and airmass >= 1.0:
            return airmass
        return super().to_boresight_airmass()

    def to_location(self) -> Any:
        """CTIO from OBS-LONG (degrees *west*, as DECam writes it), OBS-LAT and OBS-ELEV."""
        import astropy.units as u
        from astropy.coordinates import EarthLocation

        west = self.optional_float("OBS-LONG")
        lat = self.optional_float("OBS-LAT")
        height = self.optional_float("OBS-ELEV")
        if west is None or lat is None or height is None:
            west, lat, height = 70.81489, -30.16606, 2215.0
        return EarthLocation.from_geodetic(-west * u.deg, lat * u.deg, height * u.m)

    def to_temperature(self) -> float | None:
        return self.optional_float("OUTTEMP")

    def to_pressure(self) -> float | None:
        hpa = self.optional_float("PRESSURE")
        return None if hpa is None else hpa * 100.0

    def to_relative_humidity(self) -> float | None:
        return self.optional_float("HUMIDITY")
