"""`ObservationInfo`: the standard, instrument-independent description of one raw observation."""

from __future__ import annotations

import dataclasses
from typing import Any

from osprey.geom import Angle, SpherePoint

__all__ = ["ObservationInfo"]

_ROTATION_COORDS = ("sky", "horizon", "mount", "unknown")


@dataclasses.dataclass(frozen=True, eq=False)
class ObservationInfo:
    """Translated metadata of one detector of one raw exposure.

    Every value comes from a `MetadataTranslator`; unknown optional values are None.
    Times are astropy `~astropy.time.Time` in the TAI scale.

    Attributes
    ----------
    instrument, telescope : `str`
        Instrument name as registered (``"LSSTCam"``, ``"DECam"``, ``"HSC"``) and telescope name.
    observation_id : `str`
        The observatory's name for the exposure (e.g. ``"MC_O_20250609_000578"``).
    exposure_id : `int`
        Integer exposure identifier, unique per instrument.
    visit_id : `int` or None
        Default one-exposure visit identifier.
    exposure_group : `str` or None
        Label shared by exposures taken as one group (snaps, sequences).
    detector_num : `int`
        Integer detector identifier within the instrument.
    detector_name, detector_group : `str` or None
        Detector name within its group and the group (raft) name, e.g. ``"S00"``, ``"R22"``.
    detector_exposure_id : `int`
        Integer unique to this exposure and detector.
    physical_filter : `str`
        Filter name as the instrument knows it (``"unknown"`` when the header has none).
    datetime_begin, datetime_end : `astropy.time.Time`
        Start and end of the exposure (TAI).
    exposure_time, dark_time : `float`
        Shutter-open time and dark-current integration time, seconds.
    observation_type : `str`
        Lower-case type: ``science``, ``bias``, ``dark``, ``flat``, ``acq``, ``cwfs``, ... .
    observation_reason, science_program, object : `str` or None
    day_obs : `int`
        Observing day ``YYYYMMDD`` under the instrument's day-rollover convention.
    seq_num : `int`
        Counter of the exposure within ``day_obs`` (or the instrument's running counter).
    group_counter_start, group_counter_end : `int`
        ``seq_num`` of the first and last exposure of the group.
    tracking_radec : `SpherePoint` or None
        ICRS boresight at the start of the exposure for sidereally tracked observations.
    altaz_begin : `SpherePoint` or None
        (azimuth east of north, altitude) of the boresight at the start.
    boresight_airmass : `float` or None
    boresight_rotation_angle : `Angle` or None
    boresight_rotation_coord : `str`
        What the rotation angle is measured against: ``sky``, ``horizon``, ``mount`` or ``unknown``.
    has_simulated_content : `bool`
    location : `astropy.coordinates.EarthLocation` or None
    temperature : `float` or None
        Outside air temperature, degrees Celsius.
    pressure : `float` or None
        Outside air pressure, pascals.
    relative_humidity : `float` or None
        Percent.
    filename : `str` or None
        Where the header came from, for messages.
    """

    instrument: str
    telescope: str | None
    observation_id: str
    exposure_id: int
    visit_id: int | None
    exposure_group: str | None
    detector_num: int
    detector_name: str | None
    detector_group: str | None
    detector_exposure_id: int
    physical_filter: str
    datetime_begin: Any
    datetime_end: Any
    exposure_time: float
    dark_time: float
    observation_type: str
    observation_reason: str | None
    science_program: str | None
    object: str | None
    day_obs: int
    seq_num: int
    group_counter_start: int
    group_counter_end: int
    tracking_radec: SpherePoint | None
    altaz_begin: SpherePoint | None
    boresight_airmass: float | None
    boresight_rotation_angle: Angle | None
    boresight_rotation_coord: str
    has_simulated_content: bool
    location: Any
    temperature: float | None
    pressure: float | None
    relative_humidity: float | None
    filename: str | None = None

    def __post_init__(self) -> None:
        if self.boresight_rotation_coord not in _ROTATION_COORDS:
            raise ValueError(
                f"boresight_rotation_coord must be one of {_ROTATION_COORDS}, got {self.boresight_rotation_coord!r}"
            )
        for name in ("datetime_begin", "datetime_end"):
            value = getattr(self, name)
            if value.scale != "tai":
                object.__setattr__(self, name, value.tai)

    @property
    def datetime_middle(self) -> Any:
        """Middle of the exposure (TAI)."""
        return self.datetime_begin + (self.datetime_end - self.datetime_begin) / 2

    @property
    def detector_unique_name(self) -> str | None:
        """``<group>_<name>`` (e.g. ``R22_S11``), the name alone without a group, None without a name."""
        if self.detector_name is None:
            return None
        return self.detector_name if self.detector_group is None else f"{self.detector_group}_{self.detector_name}"

    def to_visit_info(self) -> Any:
        """This observation as an `osprey.afw.visit_info.VisitInfo` (date at mid-exposure)."""
        from osprey.afw.visit_info import Observatory, RotType, VisitInfo, Weather
        from osprey.geom import degrees

        observatory = None
        if self.location is not None:
            geodetic = self.location.to_geodetic()
            observatory = Observatory(
                Angle(float(geodetic.lon.deg), degrees),
                Angle(float(geodetic.lat.deg), degrees),
                float(geodetic.height.to_value("m")),
            )
        rotation = {"sky": RotType.SKY, "horizon": RotType.HORIZON, "mount": RotType.MOUNT}
        return VisitInfo(
            id=self.visit_id if self.visit_id is not None else self.exposure_id,
            exposure_time=self.exposure_time,
            dark_time=self.dark_time,
            date=self.datetime_middle,
            boresight_ra_dec=self.tracking_radec,
            boresight_az_alt=self.altaz_begin,
            boresight_airmass=self.boresight_airmass,
            boresight_rotation_angle=self.boresight_rotation_angle,
            rotation_type=rotation.get(self.boresight_rotation_coord, RotType.UNKNOWN),
            observatory=observatory,
            weather=Weather(self.temperature, self.pressure, self.relative_humidity),
            instrument_label=self.instrument,
            observation_type=self.observation_type,
            science_program=self.science_program,
            observation_reason=self.observation_reason,
            object=self.object,
            has_simulated_content=self.has_simulated_content,
        )
