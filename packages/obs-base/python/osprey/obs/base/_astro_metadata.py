"""Bridge between our `ObservationInfo` and astro-metadata-translator's (astropy quantities and frames).

Lets tools written for the Rubin stack's ``astro_metadata_translator.ObservationInfo`` read
what our translators produce, and lets our ingest take theirs (for instruments only they
translate). astro-metadata-translator is imported only when a bridge function is called.
"""

from __future__ import annotations

from typing import Any

from ._errors import TranslationError
from ._observation_info import ObservationInfo

__all__ = ["from_astro_metadata", "to_astro_metadata"]


def to_astro_metadata(info: ObservationInfo) -> Any:
    """This observation as an ``astro_metadata_translator.ObservationInfo`` (units and frames attached)."""
    import astropy.units as u
    from astro_metadata_translator import ObservationInfo as AmtInfo
    from astropy.coordinates import AltAz, SkyCoord

    values: dict[str, Any] = {
        "instrument": info.instrument,
        "telescope": info.telescope,
        "observation_id": info.observation_id,
        "exposure_id": info.exposure_id,
        "visit_id": info.visit_id,
        "exposure_group": info.exposure_group,
        "detector_num": info.detector_num,
        "detector_name": info.detector_name,
        "detector_group": info.detector_group,
        "detector_unique_name": info.detector_unique_name,
        "detector_exposure_id": info.detector_exposure_id,
        "physical_filter": info.physical_filter,
        "datetime_begin": info.datetime_begin,
        "datetime_end": info.datetime_end,
        "exposure_time": info.exposure_time * u.s,
        "dark_time": info.dark_time * u.s,
        "observation_type": info.observation_type,
        "observation_reason": info.observation_reason,
        "science_program": info.science_program,
        "object": info.object,
        "observation_counter": info.seq_num,
        "group_counter_start": info.group_counter_start,
        "group_counter_end": info.group_counter_end,
        "boresight_airmass": info.boresight_airmass,
        "boresight_rotation_coord": info.boresight_rotation_coord,
        "has_simulated_content": info.has_simulated_content,
        "location": info.location,
    }
    if info.boresight_rotation_angle is not None:
        values["boresight_rotation_angle"] = info.boresight_rotation_angle.as_degrees() * u.deg
    if info.tracking_radec is not None:
        values["tracking_radec"] = SkyCoord(
            ra=info.tracking_radec.longitude.as_degrees() * u.deg,
            dec=info.tracking_radec.latitude.as_degrees() * u.deg,
            frame="icrs",
        )
    if info.altaz_begin is not None:
        values["altaz_begin"] = AltAz(
            az=info.altaz_begin.longitude.as_degrees() * u.deg,
            alt=info.altaz_begin.latitude.as_degrees() * u.deg,
            obstime=info.datetime_begin,
            location=info.location,
        )
    for name, unit in (("temperature", u.deg_C), ("pressure", u.Pa), ("relative_humidity", None)):
        value = getattr(info, name)
        if value is not None:
            values[name] = value if unit is None else value * unit
    return AmtInfo.makeObservationInfo(**{k: v for k, v in values.items() if v is not None})


def from_astro_metadata(amt: Any, *, day_obs: int | None = None, filename: str | None = None) -> ObservationInfo:
    """Our `ObservationInfo` from an ``astro_metadata_translator.ObservationInfo``.

    ``day_obs`` overrides the observing day (astro-metadata-translator gives it as a
    date; we keep ``YYYYMMDD``). Missing required properties raise `TranslationError`.
    """
    import astropy.units as u

    from osprey.geom import Angle, SpherePoint, degrees

    def need(name: str) -> Any:
        value = getattr(amt, name, None)
        if value is None:
            raise TranslationError(f"astro-metadata-translator ObservationInfo {filename or ''} has no {name}")
        return value

    def quantity(name: str, unit: str) -> float | None:
        value = getattr(amt, name, None)
        return None if value is None else float(value.to_value(unit))

    radec = amt.tracking_radec
    altaz = amt.altaz_begin
    rotation = amt.boresight_rotation_angle
    if day_obs is None:
        observing_day = getattr(amt, "observing_day", None)
        if observing_day is None:
            raise TranslationError("astro-metadata-translator ObservationInfo has no observing_day; pass day_obs=")
        day_obs = int(observing_day)
    seq = amt.observation_counter if amt.observation_counter is not None else need("exposure_id")
    temperature = getattr(amt, "temperature", None)
    return ObservationInfo(
        instrument=need("instrument"),
        telescope=amt.telescope,
        observation_id=need("observation_id"),
        exposure_id=int(need("exposure_id")),
        visit_id=None if amt.visit_id is None else int(amt.visit_id),
        exposure_group=amt.exposure_group,
        detector_num=int(need("detector_num")),
        detector_name=amt.detector_name,
        detector_group=amt.detector_group,
        detector_exposure_id=int(need("detector_exposure_id")),
        physical_filter=amt.physical_filter or "unknown",
        datetime_begin=need("datetime_begin"),
        datetime_end=need("datetime_end"),
        exposure_time=float(need("exposure_time").to_value("s")),
        dark_time=float(need("dark_time").to_value("s")),
        observation_type=need("observation_type"),
        observation_reason=amt.observation_reason,
        science_program=amt.science_program,
        object=amt.object,
        day_obs=day_obs,
        seq_num=int(seq),
        group_counter_start=int(amt.group_counter_start if amt.group_counter_start is not None else seq),
        group_counter_end=int(amt.group_counter_end if amt.group_counter_end is not None else seq),
        tracking_radec=None
        if radec is None
        else SpherePoint(float(radec.icrs.ra.deg), float(radec.icrs.dec.deg), degrees),
        altaz_begin=None if altaz is None else SpherePoint(float(altaz.az.deg), float(altaz.alt.deg), degrees),
        boresight_airmass=amt.boresight_airmass,
        boresight_rotation_angle=None if rotation is None else Angle(float(rotation.to_value("deg")), degrees),
        boresight_rotation_coord=amt.boresight_rotation_coord or "unknown",
        has_simulated_content=bool(amt.has_simulated_content),
        location=amt.location,
        temperature=None if temperature is None else float(temperature.to_value(u.deg_C, u.temperature())),
        pressure=quantity("pressure", "Pa"),
        relative_humidity=amt.relative_humidity,
        filename=filename,
    )
