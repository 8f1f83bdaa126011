"""What the telescope does: exposures (science visits with dithers, biases, darks, flats) in time order.

`ExposureSpec` describes one exposure independently of any instrument; the header builders
(`osprey.sims.headers`) turn it into the instrument's raw header cards. `simple_cadence`
is the built-in survey strategy: per band, a set of dithered visits around a field centre,
taken back to back through the night; `calibration_sequence` gives the bias, dark and
flat series (flat pairs at several levels, as a photon-transfer curve needs).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from .errors import SimsConfigError
from .scene import offset_positions

__all__ = ["ExposureSpec", "airmass_at", "calibration_sequence", "day_obs_of", "renumber", "simple_cadence"]

ObservationType = Literal["science", "bias", "dark", "flat"]

_SECONDS_PER_DAY = 86400.0


@dataclasses.dataclass(frozen=True)
class ExposureSpec:
    """One exposure, instrument-independent.

    Attributes
    ----------
    counter : `int`
        Running index of the exposure in the simulated run (unique, from 0).
    day_obs : `int`
        Observing day ``YYYYMMDD`` (the TAI date 12 h before the start).
    seq_num : `int`
        Counter within ``day_obs``, from 1.
    observation_type : `str`
        ``science``, ``bias``, ``dark`` or ``flat``.
    band : `str` or `None`
        Band of the filter in the beam (``None``: no filter / dark exposure).
    mjd : `float`
        Start of the exposure, MJD (TAI).
    exposure_time, dark_time : `float`
        Seconds.
    ra, dec : `float`
        Boresight, degrees (ICRS); meaningful for science exposures.
    rotation : `float`
        Sky position angle of the focal plane's +y axis, degrees North through East.
    seeing : `float`
        Atmospheric FWHM at zenith and 500 nm, arcsec.
    airmass : `float`
    flat_level : `float`
        Electrons per pixel the lamp delivers (flats only, before the detector response).
    group : `str`
        Label shared by exposures taken as one group (e.g. both flats of a pair).
    reason, program, target : `str`
    """

    counter: int
    day_obs: int
    seq_num: int
    observation_type: ObservationType
    band: str | None
    mjd: float
    exposure_time: float
    dark_time: float
    ra: float = 0.0
    dec: float = 0.0
    rotation: float = 0.0
    seeing: float = 0.7
    airmass: float = 1.0
    flat_level: float = 0.0
    group: str = ""
    reason: str = ""
    program: str = "osprey-sims"
    target: str = ""

    @property
    def mjd_end(self) -> float:
        """End of the shutter-open interval, MJD (TAI)."""
        return self.mjd + self.exposure_time / _SECONDS_PER_DAY

    @property
    def mjd_mid(self) -> float:
        """Middle of the exposure, MJD (TAI): the epoch of moving and variable sources."""
        return self.mjd + 0.5 * self.exposure_time / _SECONDS_PER_DAY


def day_obs_of(mjd: float) -> int:
    """``YYYYMMDD`` of the TAI date 12 hours before ``mjd`` (Rubin's day_obs rollover)."""
    from astropy.time import Time

    t = Time(mjd - 0.5, format="mjd", scale="tai")
    return int(t.strftime("%Y%m%d"))


def airmass_at(ra: float, dec: float, mjd: float, site: tuple[float, float, float]) -> float:
    """Plane-parallel airmass (sec z) of (ra, dec) degrees at ``mjd`` (TAI) from ``site`` (lon, lat, h).

    Raises
    ------
    SimsConfigError
        If the field is below the horizon then; choose another time or field.
    """
    from astropy.time import Time

    lon, lat, _ = site
    lst = Time(mjd, format="mjd", scale="tai").sidereal_time("mean", longitude=lon).degree
    ha = math.radians(lst - ra)
    d, p = math.radians(dec), math.radians(lat)
    sin_alt = math.sin(d) * math.sin(p) + math.cos(d) * math.cos(p) * math.cos(ha)
    if sin_alt <= 0.05:
        raise SimsConfigError(
            f"field (ra={ra:.3f}, dec={dec:.3f}) is below 3 degrees altitude at MJD {mjd:.5f} from "
            f"longitude {lon}, latitude {lat}; pick a start time when it is up"
        )
    return 1.0 / sin_alt


def simple_cadence(
    center: tuple[float, float],
    bands: Sequence[str],
    visits_per_band: int,
    start_mjd: float,
    site: tuple[float, float, float],
    *,
    exposure_time: float = 30.0,
    dither: float = 0.2,
    rotation_dither: float = 10.0,
    seeing: tuple[float, float] = (0.6, 1.0),
    overhead: float = 10.0,
    nights: int = 1,
    seed: int = 0,
    first_counter: int = 0,
) -> list[ExposureSpec]:
    """Dithered science visits around ``center`` (ra, dec degrees), cycling through ``bands``.

    Each night takes ``visits_per_band`` visits per band, spread over ``nights`` consecutive
    nights starting at ``start_mjd`` (TAI); dithers are random offsets up to ``dither``
    degrees and rotations within ``±rotation_dither`` degrees; ``seeing`` is the range of the
    zenith FWHM at 500 nm (arcsec). Consecutive exposures are ``exposure_time + overhead``
    seconds apart.
    """
    if visits_per_band < 1 or not bands:
        raise SimsConfigError("simple_cadence needs at least one band and one visit per band")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 104729]))
    specs: list[ExposureSpec] = []
    counter = first_counter
    seq_by_day: dict[int, int] = {}
    for night in range(nights):
        mjd = start_mjd + night
        for band in bands:
            for _ in range(visits_per_band):
                r = dither * math.sqrt(rng.uniform())
                ra, dec = offset_positions(center[0], center[1], rng.uniform(0, 360), r)
                day = day_obs_of(mjd)
                seq_by_day[day] = seq_by_day.get(day, 0) + 1
                ra_f, dec_f = float(ra), float(dec)
                specs.append(
                    ExposureSpec(
                        counter=counter,
                        day_obs=day,
                        seq_num=seq_by_day[day],
                        observation_type="science",
                        band=band,
                        mjd=mjd,
                        exposure_time=exposure_time,
                        dark_time=exposure_time + 0.9,
                        ra=ra_f,
                        dec=dec_f,
                        rotation=float(rng.uniform(-rotation_dither, rotation_dither)),
                        seeing=float(rng.uniform(*seeing)),
                        airmass=airmass_at(ra_f, dec_f, mjd, site),
                        reason="survey",
                        target=f"osprey_{center[0]:.1f}_{center[1]:+.1f}",
                    )
                )
                counter += 1
                mjd += (exposure_time + overhead) / _SECONDS_PER_DAY
    return specs


def calibration_sequence(
    start_mjd: float,
    *,
    n_bias: int = 5,
    n_dark: int = 3,
    dark_time: float = 30.0,
    flat_band: str = "r",
    flat_levels: Sequence[float] = (1000.0, 5000.0, 20000.0, 50000.0),
    flat_pairs: int = 1,
    flats_per_level: int = 2,
    lamp_rate: float = 2000.0,
    first_counter: int = 0,
    first_seq: int = 1,
) -> list[ExposureSpec]:
    """Daytime calibrations: biases, darks, then flats at each level of ``flat_levels`` (electrons).

    Each flat level gets ``flat_pairs`` groups of ``flats_per_level`` exposures (2 = a pair);
    exposure times are ``level / lamp_rate`` seconds.
    """
    specs: list[ExposureSpec] = []
    mjd, counter, seq = start_mjd, first_counter, first_seq
    day = day_obs_of(start_mjd)

    def add(kind: ObservationType, band: str | None, exptime: float, darktime: float, **kw) -> None:
        nonlocal mjd, counter, seq
        specs.append(
            ExposureSpec(
                counter=counter,
                day_obs=day,
                seq_num=seq,
                observation_type=kind,
                band=band,
                mjd=mjd,
                exposure_time=exptime,
                dark_time=darktime,
                reason="calibration",
                target=kind,
                **kw,
            )
        )
        counter += 1
        seq += 1
        mjd += (exptime + 5.0) / _SECONDS_PER_DAY

    for _ in range(n_bias):
        add("bias", None, 0.0, 0.0)
    for _ in range(n_dark):
        add("dark", None, dark_time, dark_time)
    for level in flat_levels:
        if not level > 0:
            raise SimsConfigError(f"flat levels must be > 0 electrons, got {level!r}")
        for pair in range(flat_pairs):
            group = f"flat_{int(level)}_{pair}"
            t = float(level) / lamp_rate
            for _ in range(flats_per_level):
                add("flat", flat_band, t, t, flat_level=float(level), group=group)
    return specs


def renumber(specs: Sequence[ExposureSpec]) -> list[ExposureSpec]:
    """Exposures in time order with ``counter`` from 0 and ``seq_num`` from 1 within each ``day_obs``.

    Use it to merge sequences (calibrations, several cadences) so that no two exposures share
    an exposure id.
    """
    out: list[ExposureSpec] = []
    seq: dict[int, int] = {}
    for i, spec in enumerate(sorted(specs, key=lambda s: s.mjd)):
        seq[spec.day_obs] = seq.get(spec.day_obs, 0) + 1
        out.append(dataclasses.replace(spec, counter=i, seq_num=seq[spec.day_obs]))
    return out
