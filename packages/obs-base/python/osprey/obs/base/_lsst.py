"""Translators for the Rubin Observatory cameras: LSSTCam, LSSTComCam and LATISS."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from osprey.geom import Angle, SpherePoint, degrees

from ._errors import TranslationError
from ._translator import MetadataTranslator

__all__ = ["LatissTranslator", "LsstCamTranslator", "LsstComCamTranslator", "lsstcam_detector_num"]

_SENSORS = [f"S{i}{j}" for i in range(3) for j in range(3)]
_SCIENCE_RAFTS = [f"R{i}{j}" for i in range(5) for j in range(5) if (i, j) not in {(0, 0), (0, 4), (4, 0), (4, 4)}]
_CORNER_RAFTS = ["R00", "R04", "R40", "R44"]
_CORNER_SENSORS = ["SG0", "SG1", "SW0", "SW1"]

# Rows of DAYOBS added per image controller so that exposures of different controllers
# never share an id (OCS "O" keeps the plain day_obs * 100000 + seq_num of the LSST paper).
_CONTROLLER_DAY_OFFSET = {"O": 0, "C": 10_000_000, "H": 20_000_000, "P": 30_000_000, "S": 40_000_000}
_SIMULATED_CONTROLLERS = frozenset("HS")
_OBSID = re.compile(r"^(?P<code>[A-Z]{2})_(?P<controller>[A-Z])_(?P<day>\d{8})_(?P<seq>\d{6})$")
_NOT_A_FILTER = {"", "none", "unknown", "empty", "null"}
_ON_SKY_TYPES = {"science", "acq", "cwfs", "focus", "engtest", "stuttered", "spot"}

# Rubin's observing day rolls over at 12:00 TAI: day_obs is the TAI date 12 h earlier.
DAY_OBS_OFFSET_HOURS = 12.0


def lsstcam_detector_num(raft: str, sensor: str) -> int:
    """LSSTCam integer detector id: 0..188 for the 21 science rafts x 9 CCDs (raft-major,
    rafts and slots in row order), 189..204 for the corner rafts' guide and wavefront sensors.
    """
    if raft in _SCIENCE_RAFTS and sensor in _SENSORS:
        return _SCIENCE_RAFTS.index(raft) * 9 + _SENSORS.index(sensor)
    if raft in _CORNER_RAFTS and sensor in _CORNER_SENSORS:
        return 189 + _CORNER_RAFTS.index(raft) * 4 + _CORNER_SENSORS.index(sensor)
    raise KeyError(f"{raft}_{sensor} is not an LSSTCam detector")


class _RubinTranslator(MetadataTranslator):
    """Cards shared by the Rubin camera control system headers (OBSID, DAYOBS, SEQNUM, ...)."""

    instrument_names: ClassVar[frozenset[str]] = frozenset()
    default_location: ClassVar[tuple[float, float, float]] = (-70.749417, -30.244639, 2663.0)

    @classmethod
    def can_translate(cls, header: Any) -> bool:
        return str(header.get("INSTRUME", "")).strip().lower() in cls.instrument_names

    # -- identifiers ---------------------------------------------------------------------------
    def _obsid_parts(self) -> re.Match[str]:
        obsid = str(self.required("OBSID"))
        match = _OBSID.match(obsid)
        if match is None:
            raise TranslationError(f"{self._where('OBSID')} is not of the form XX_C_YYYYMMDD_NNNNNN: {obsid!r}")
        return match

    def to_observation_id(self) -> str:
        return self._obsid_parts().group(0)

    def _controller(self) -> str:
        controller = str(self.optional("CONTRLLR", self._obsid_parts().group("controller")))
        if controller not in _CONTROLLER_DAY_OFFSET:
            raise TranslationError(f"{self._where('CONTRLLR')} is an unknown controller code {controller!r}")
        return controller

    def to_day_obs(self) -> int:
        if self.is_defined("DAYOBS"):
            day = self.required_int("DAYOBS")
        else:
            day = self.day_obs_from_time(self.to_datetime_begin(), DAY_OBS_OFFSET_HOURS)
        if int(self._obsid_parts().group("day")) != day:
            raise TranslationError(f"{self._where('OBSID')} disagrees with day_obs {day}")
        return day

    def to_seq_num(self) -> int:
        seq = self.required_int("SEQNUM")
        if int(self._obsid_parts().group("seq")) != seq:
            raise TranslationError(f"{self._where('OBSID')} disagrees with SEQNUM {seq}")
        return seq

    def to_exposure_id(self) -> int:
        """``(day_obs + controller offset) * 100000 + seq_num``; the offset is 0 for OCS ("O") images."""
        return (self.to_day_obs() + _CONTROLLER_DAY_OFFSET[self._controller()]) * 100_000 + self.to_seq_num()

    def to_exposure_group(self) -> str | None:
        return str(self.optional("GROUPID", self.to_observation_id()))

    def to_detector_name(self) -> str | None:
        return str(self.required("CCDSLOT"))

    def to_detector_group(self) -> str | None:
        return str(self.required("RAFTBAY"))

    def to_detector_exposure_id(self) -> int:
        return self.to_exposure_id() * 1000 + self.to_detector_num()

    def to_has_simulated_content(self) -> bool:
        return self._controller() in _SIMULATED_CONTROLLERS

    # -- times ---------------------------------------------------------------------------------
    def to_datetime_begin(self) -> Any:
        key = "DATE-BEG" if self.is_defined("DATE-BEG") else "DATE-OBS"
        return self.time_from_card(key, self.timesys())

    def to_datetime_end(self) -> Any:
        if self.is_defined("DATE-END"):
            return self.time_from_card("DATE-END", self.timesys())
        from astropy.time import TimeDelta

        return self.to_datetime_begin() + TimeDelta(self.to_exposure_time(), format="sec")

    def to_exposure_time(self) -> float:
        return self.required_float("EXPTIME")

    def to_dark_time(self) -> float:
        dark = self.optional_float("DARKTIME")
        return self.to_exposure_time() if dark is None else dark

    # -- what and why --------------------------------------------------------------------------
    def to_observation_type(self) -> str:
        kind = str(self.required("IMGTYPE")).strip().lower()
        return {"object": "science", "skyexp": "science"}.get(kind, kind)

    def to_observation_reason(self) -> str | None:
        reason = self.optional("REASON")
        return str(reason) if reason is not None else super().to_observation_reason()

    def to_science_program(self) -> str | None:
        value = self.optional("PROGRAM")
        return None if value is None else str(value)

    def to_object(self) -> str | None:
        value = self.optional("OBJECT")
        return None if value is None else str(value)

    def to_physical_filter(self) -> str:
        value = self.optional("FILTER")
        if value is None or str(value).strip().lower() in _NOT_A_FILTER:
            return "unknown"
        name = str(value).strip()
        extra = self.optional("FILTER2")
        if extra is not None and str(extra).strip().lower() not in _NOT_A_FILTER:
            name = f"{name}~{str(extra).strip()}"
        return name

    # -- pointing ------------------------------------------------------------------------------
    def _is_tracking(self) -> bool:
        tracksys = self.header.get("TRACKSYS", None)
        if tracksys is None:
            return "RASTART" in self.header and self.to_observation_type() in _ON_SKY_TYPES
        return str(tracksys).strip().upper() == "RADEC"

    def to_tracking_radec(self) -> SpherePoint | None:
        if not self._is_tracking():
            return None
        point = self.sphere_point("RASTART", "DECSTART")
        return point if point is not None else self.sphere_point("RA", "DEC")

    def to_altaz_begin(self) -> SpherePoint | None:
        return self.sphere_point("AZSTART", "ELSTART")

    def to_boresight_airmass(self) -> float | None:
        airmass = self.optional_float("AMSTART")
        if airmass is not None and airmass >= 1.0:
            return airmass
        return super().to_boresight_airmass()

    def to_boresight_rotation_angle(self) -> Angle | None:
        angle = self.optional_float("ROTPA")
        return None if angle is None or self.to_boresight_rotation_coord() == "unknown" else Angle(angle, degrees)

    def to_boresight_rotation_coord(self) -> str:
        coord = str(self.optional("ROTCOORD", "unknown")).strip().lower()
        if coord not in ("sky", "horizon", "mount"):
            return "unknown"
        return coord if self.is_defined("ROTPA") else "unknown"

    # -- site ----------------------------------------------------------------------------------
    def to_location(self) -> Any:
        import astropy.units as u
        from astropy.coordinates import EarthLocation

        if all(self.is_defined(k) for k in ("OBSGEO-X", "OBSGEO-Y", "OBSGEO-Z")):
            xyz = [self.required_float(k) for k in ("OBSGEO-X", "OBSGEO-Y", "OBSGEO-Z")]
            return EarthLocation.from_geocentric(*xyz, unit=u.m)
        if all(self.is_defined(k) for k in ("OBS-LONG", "OBS-LAT", "OBS-ELEV")):
            lon, lat, height = (self.required_float(k) for k in ("OBS-LONG", "OBS-LAT", "OBS-ELEV"))
        else:
            lon, lat, height = self.default_location
        return EarthLocation.from_geodetic(lon * u.deg, lat * u.deg, height * u.m)

    def to_temperature(self) -> float | None:
        return self.optional_float("AIRTEMP")

    def to_pressure(self) -> float | None:
        return self.optional_float("PRESSURE")

    def to_relative_humidity(self) -> float | None:
        return self.optional_float("HUMIDITY")


class LsstCamTranslator(_RubinTranslator):
    """The LSST Camera on the Simonyi Survey Telescope (and its test-stand and simulated data)."""

    name = "LSSTCam"
    telescope_name = "Simonyi Survey Telescope"
    instrument_names = frozenset({"lsstcam", "lsst_camera"})

    def to_detector_num(self) -> int:
        raft, sensor = self.to_detector_group(), self.to_detector_name()
        try:
            return lsstcam_detector_num(raft, sensor)
        except KeyError:
            raise TranslationError(
                f"{self._where('CCDSLOT')}: {raft}_{sensor} (RAFTBAY/CCDSLOT) is not an LSSTCam detector"
            ) from None


class LsstComCamTranslator(_RubinTranslator):
    """The commissioning camera: one 3x3 raft (R22) on the Simonyi Survey Telescope."""

    name = "LSSTComCam"
    telescope_name = "Simonyi Survey Telescope"
    instrument_names = frozenset({"comcam", "lsstcomcam"})

    def to_detector_num(self) -> int:
        sensor = self.to_detector_name()
        if sensor not in _SENSORS:
            raise TranslationError(f"{self._where('CCDSLOT')}: {sensor!r} is not a ComCam slot S00..S22")
        return _SENSORS.index(sensor)


class LatissTranslator(_RubinTranslator):
    """LATISS, the single-CCD imager and spectrograph on the Rubin Auxiliary Telescope."""

    name = "LATISS"
    telescope_name = "Rubin Auxiliary Telescope"
    instrument_names = frozenset({"latiss"})
    default_location = (-70.7476862, -30.2447889, 2663.0)

    def to_detector_num(self) -> int:
        return 0

    def to_physical_filter(self) -> str:
        """``<filter>~<grating>`` as LATISS names its filter+disperser combinations."""
        filt = self.optional("FILTER")
        grating = self.optional("GRATING")
        filt = "unknown" if filt is None or str(filt).strip().lower() in _NOT_A_FILTER else str(filt).strip()
        grating = "none" if grating is None else str(grating).strip()
        return f"{filt}~{grating}"
