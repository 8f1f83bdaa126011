"""The simulated sky: stars with colours and proper motions, bulge+disk galaxies, variable stars,
transients with light curves and moving (solar-system) objects.

A `Scene` is generated once for a sky region from a seed (`SceneConfig`) and then observed
by any number of exposures: `Scene.stars_at` / `galaxies_at` / `transients_at` /
`movers_at` return the positions (degrees) and AB magnitudes in a band at a given time.
Catalogues are plain dicts of equal-length numpy arrays (columns), so they convert to
Arrow/pandas/astropy tables directly.

Conventions: ``ra``/``dec`` in degrees (ICRS); proper motions in mas/yr with ``pm_ra``
including the ``cos(dec)`` factor; position angles in degrees North through East; half-light
radii in arcsec (the radius of the circular profile before the area-preserving shear, as in
GalSim); magnitudes AB.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from .errors import SimsConfigError
from .photometry import mag_to_njy

__all__ = ["BANDS", "Catalog", "Scene", "SceneConfig", "offset_positions", "sample_in_circle"]

BANDS: tuple[str, ...] = ("u", "g", "r", "i", "z", "y")
"""Bands every scene object has a magnitude in."""

Catalog = dict[str, NDArray[Any]]
"""Columns of a catalogue: name -> 1-d numpy array, all the same length."""

_DAYS_PER_YEAR = 365.25
_MAS_PER_DEG = 3.6e6

# Object id blocks keep ids unique across object kinds (and readable).
ID_OFFSETS = {"star": 1_000_000_000, "galaxy": 2_000_000_000, "transient": 3_000_000_000, "mover": 4_000_000_000}


class SceneConfig(BaseModel):
    """What the sky holds; densities per square degree, magnitudes AB in r."""

    model_config = ConfigDict(extra="forbid")

    star_density: float = Field(2.0e4, ge=0, description="stars per deg²")
    star_mag_range: tuple[float, float] = Field((15.0, 25.0), description="r magnitudes, bright to faint")
    star_mag_slope: float = Field(0.25, description="d log10 N / dm of the star counts")
    star_pm_sigma: float = Field(6.0, ge=0, description="proper-motion dispersion, mas/yr per axis")
    galaxy_density: float = Field(4.0e4, ge=0, description="galaxies per deg²")
    galaxy_mag_range: tuple[float, float] = Field((17.5, 26.0), description="r magnitudes")
    galaxy_mag_slope: float = Field(0.35, description="d log10 N / dm of the galaxy counts")
    variable_fraction: float = Field(0.02, ge=0, le=1, description="fraction of stars that vary periodically")
    transient_density: float = Field(20.0, ge=0, description="transients per deg² over the time span")
    transient_peak_mag_range: tuple[float, float] = (19.0, 23.5)
    mover_density: float = Field(30.0, ge=0, description="moving objects per deg² at the reference epoch")
    mover_mag_range: tuple[float, float] = (17.0, 22.5)
    mover_rate_range: tuple[float, float] = Field((0.1, 1.0), description="deg/day, log-uniform")
    fast_mover_fraction: float = Field(0.1, ge=0, le=1, description="fraction moving at 5-20 deg/day (NEO-like)")
    epoch: float = Field(60676.0, description="reference epoch of positions (MJD TAI)")
    time_span: tuple[float, float] = Field((60676.0, 60706.0), description="MJD range transients peak in")


def sample_in_circle(
    rng: np.random.Generator, ra: float, dec: float, radius: float, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``n`` positions uniform on the sphere within ``radius`` degrees of (ra, dec) degrees."""
    r = math.radians(radius)
    rho = np.arccos(1.0 - rng.uniform(0.0, 1.0, n) * (1.0 - math.cos(r)))
    bearing = rng.uniform(0.0, 2 * np.pi, n)
    return offset_positions(ra, dec, np.degrees(bearing), np.degrees(rho))


def offset_positions(ra: Any, dec: Any, bearing: Any, distance: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Move from (ra, dec) by ``distance`` along ``bearing`` (all degrees; bearing North through East)."""
    a, d = np.radians(ra), np.radians(dec)
    b, s = np.radians(bearing), np.radians(distance)
    sin_d2 = np.sin(d) * np.cos(s) + np.cos(d) * np.sin(s) * np.cos(b)
    d2 = np.arcsin(np.clip(sin_d2, -1.0, 1.0))
    a2 = a + np.arctan2(np.sin(b) * np.sin(s) * np.cos(d), np.cos(s) - np.sin(d) * sin_d2)
    return np.degrees(a2) % 360.0, np.degrees(d2)


def _power_law_mags(rng: np.random.Generator, lo: float, hi: float, slope: float, n: int) -> NDArray[np.float64]:
    """Magnitudes in [lo, hi] with dN/dm ∝ 10**(slope m) (inverse-CDF sampling)."""
    if slope == 0:
        return rng.uniform(lo, hi, n)
    c = slope * math.log(10.0)
    u = rng.uniform(0.0, 1.0, n)
    return np.log(np.exp(c * lo) + u * (np.exp(c * hi) - np.exp(c * lo))) / c


def _stellar_colours(rng: np.random.Generator, n: int) -> dict[str, NDArray[np.float64]]:
    """Offsets mag_b - mag_r along a simple main-sequence locus, with 0.02 mag scatter."""
    gr = rng.uniform(0.15, 1.45, n)
    scatter = 0.02
    ri = np.where(gr < 1.2, 0.38 * gr - 0.05, 0.38 * gr - 0.05 + 1.4 * (gr - 1.2)) + rng.normal(0, scatter, n)
    ug = 0.75 + 1.05 * gr + rng.normal(0, 2 * scatter, n)
    iz = 0.55 * ri + 0.01 + rng.normal(0, scatter, n)
    zy = 0.45 * iz + rng.normal(0, scatter, n)
    g = gr
    return {"u": ug + g, "g": g, "r": np.zeros(n), "i": -ri, "z": -ri - iz, "y": -ri - iz - zy}


def _galaxy_colours(rng: np.random.Generator, n: int, red: NDArray[np.bool_]) -> dict[str, NDArray[np.float64]]:
    """mag_b - mag_r for a red (bulge-like) or blue (disk-like) population."""
    gr = np.where(red, rng.normal(0.85, 0.08, n), rng.normal(0.40, 0.12, n))
    ug = np.where(red, rng.normal(1.8, 0.15, n), rng.normal(1.0, 0.2, n))
    ri = np.where(red, rng.normal(0.40, 0.05, n), rng.normal(0.22, 0.08, n))
    iz = np.where(red, rng.normal(0.25, 0.05, n), rng.normal(0.10, 0.06, n))
    zy = np.where(red, rng.normal(0.12, 0.04, n), rng.normal(0.05, 0.04, n))
    return {"u": ug + gr, "g": gr, "r": np.zeros(n), "i": -ri, "z": -ri - iz, "y": -ri - iz - zy}


def _add_mags(cat: Catalog, prefix: str, r: NDArray[np.float64], colours: dict[str, NDArray[np.float64]]) -> None:
    for band in BANDS:
        cat[f"{prefix}mag_{band}"] = r + colours[band]


def _combine_mags(m1: NDArray[np.float64], m2: NDArray[np.float64]) -> NDArray[np.float64]:
    return -2.5 * np.log10(10 ** (-0.4 * m1) + 10 ** (-0.4 * m2))


@dataclasses.dataclass
class Scene:
    """The catalogues of one simulated sky region (see the module docstring for units).

    Attributes
    ----------
    config : `SceneConfig`
    center : `tuple` of `float`
        (ra, dec) of the region centre, degrees.
    radius : `float`
        Region radius, degrees.
    stars, galaxies, transients, movers : `Catalog`
        Column dicts; every table has a unique int64 ``id``.
    """

    config: SceneConfig
    center: tuple[float, float]
    radius: float
    stars: Catalog
    galaxies: Catalog
    transients: Catalog
    movers: Catalog

    # -- generation ----------------------------------------------------------------------------
    @classmethod
    def generate(
        cls, center: tuple[float, float], radius: float, config: SceneConfig | None = None, seed: int = 0
    ) -> Scene:
        """Draw a scene within ``radius`` degrees of ``center`` (ra, dec degrees); deterministic in ``seed``."""
        cfg = config or SceneConfig()
        if not 0 < radius <= 30:
            raise SimsConfigError(f"scene radius must be in (0, 30] degrees, got {radius!r}")
        ra0, dec0 = float(center[0]), float(center[1])
        if not -90 <= dec0 <= 90:
            raise SimsConfigError(f"scene centre dec must be in [-90, 90] degrees, got {dec0!r}")
        area = 2 * math.pi * (1 - math.cos(math.radians(radius))) * (180 / math.pi) ** 2
        # Independent streams per object kind: adding galaxies does not move the stars.
        streams = np.random.default_rng(seed).spawn(4)
        stars = _make_stars(streams[0], cfg, ra0, dec0, radius, int(streams[0].poisson(cfg.star_density * area)))
        galaxies = _make_galaxies(
            streams[1], cfg, ra0, dec0, radius, int(streams[1].poisson(cfg.galaxy_density * area))
        )
        transients = _make_transients(
            streams[2], cfg, galaxies, ra0, dec0, radius, int(streams[2].poisson(cfg.transient_density * area))
        )
        movers = _make_movers(streams[3], cfg, ra0, dec0, radius, int(streams[3].poisson(cfg.mover_density * area)))
        return cls(cfg, (ra0, dec0), float(radius), stars, galaxies, transients, movers)

    # -- observing -----------------------------------------------------------------------------
    def stars_at(self, mjd: float, band: str) -> Catalog:
        """Stars at time ``mjd``: ``id, ra, dec, mag`` (variables at their phase) plus ``is_variable``."""
        s = self.stars
        dt_yr = (mjd - self.config.epoch) / _DAYS_PER_YEAR
        dec = s["dec"] + s["pm_dec"] * dt_yr / _MAS_PER_DEG
        ra = s["ra"] + s["pm_ra"] * dt_yr / _MAS_PER_DEG / np.cos(np.radians(s["dec"]))
        mag = s[f"mag_{band}"] + variable_offset(s, mjd)
        return {"id": s["id"], "ra": ra % 360.0, "dec": dec, "mag": mag, "is_variable": s["is_variable"]}

    def galaxies_at(self, band: str) -> Catalog:
        """Galaxies in ``band``: position, total, bulge and disk magnitudes and shapes."""
        g = self.galaxies
        out = {k: g[k] for k in ("id", "ra", "dec", "bulge_hlr", "bulge_q", "disk_hlr", "disk_q", "pa")}
        out["bulge_mag"] = g[f"bulge_mag_{band}"]
        out["disk_mag"] = g[f"disk_mag_{band}"]
        out["mag"] = g[f"mag_{band}"]
        return out

    def transients_at(self, mjd: float, band: str) -> Catalog:
        """Transients brighter than 30 mag at ``mjd``: ``id, ra, dec, mag, host_id``."""
        t = self.transients
        mag = transient_mag(t, mjd, band)
        keep = mag < 30.0
        return {
            "id": t["id"][keep],
            "ra": t["ra"][keep],
            "dec": t["dec"][keep],
            "mag": mag[keep],
            "host_id": t["host_id"][keep],
        }

    def movers_at(self, mjd: float, band: str) -> Catalog:
        """Moving objects at ``mjd``: position (degrees), rates (deg/day) and magnitude."""
        m = self.movers
        dt = mjd - self.config.epoch
        dec = m["dec"] + m["rate_dec"] * dt
        ra = m["ra"] + m["rate_ra"] * dt / np.cos(np.radians(m["dec"]))
        keep = np.abs(dec) < 89.0
        out = {
            "id": m["id"],
            "ra": ra % 360.0,
            "dec": dec,
            "rate_ra": m["rate_ra"],
            "rate_dec": m["rate_dec"],
            "mag": m[f"mag_{band}"],
        }
        return {k: v[keep] for k, v in out.items()}

    def reference_catalog(self, bands: tuple[str, ...] = BANDS) -> Catalog:
        """Stars and galaxies at the reference epoch with nJy fluxes (the refcat content)."""
        s, g = self.stars, self.galaxies
        out: Catalog = {
            "id": np.concatenate([s["id"], g["id"]]),
            "ra": np.concatenate([s["ra"], g["ra"]]),
            "dec": np.concatenate([s["dec"], g["dec"]]),
            "pm_ra": np.concatenate([s["pm_ra"], np.zeros(g["id"].size)]),
            "pm_dec": np.concatenate([s["pm_dec"], np.zeros(g["id"].size)]),
            "resolved": np.concatenate([np.zeros(s["id"].size, bool), np.ones(g["id"].size, bool)]),
            "is_variable": np.concatenate([s["is_variable"], np.zeros(g["id"].size, bool)]),
        }
        for band in bands:
            out[f"{band}_flux"] = mag_to_njy(np.concatenate([s[f"mag_{band}"], g[f"mag_{band}"]]))
        return out


# -- light curves ------------------------------------------------------------------------------


def variable_offset(stars: Catalog, mjd: float) -> NDArray[np.float64]:
    """Magnitude offset of each star at ``mjd`` (0 for non-variables): a skewed RR Lyrae-like pulse."""
    phase = ((mjd - stars["var_t0"]) / stars["var_period"]) % 1.0
    # Fast rise (10% of the period), slow decline: mean over the cycle is close to 0.
    shape = np.where(phase < 0.1, phase / 0.1, 1.0 - (phase - 0.1) / 0.9)
    return np.where(stars["is_variable"], stars["var_amplitude"] * (0.5 - shape), 0.0)


def transient_mag(transients: Catalog, mjd: float, band: str) -> NDArray[np.float64]:
    """Bazin light curve ``f ∝ exp(-(t-t0)/τ_fall) / (1 + exp(-(t-t0)/τ_rise))`` as AB magnitudes (99 when off)."""
    dt = mjd - transients["t0"]
    with np.errstate(over="ignore", divide="ignore"):
        shape = np.exp(-dt / transients["tau_fall"]) / (1.0 + np.exp(-dt / transients["tau_rise"]))
        norm = _bazin_peak(transients["tau_rise"], transients["tau_fall"])
        flux = shape / norm
        mag = transients["peak_mag"] + transients[f"colour_{band}"] - 2.5 * np.log10(flux)
    return np.where(np.isfinite(mag) & (flux > 1e-6), mag, 99.0)


def _bazin_peak(tau_rise: NDArray[np.float64], tau_fall: NDArray[np.float64]) -> NDArray[np.float64]:
    t_peak = tau_rise * np.log(tau_fall / tau_rise - 1.0)
    return np.exp(-t_peak / tau_fall) / (1.0 + np.exp(-t_peak / tau_rise))


# -- generators --------------------------------------------------------------------------------


def _make_stars(rng: np.random.Generator, cfg: SceneConfig, ra0: float, dec0: float, radius: float, n: int) -> Catalog:
    ra, dec = sample_in_circle(rng, ra0, dec0, radius, n)
    r = _power_law_mags(rng, *cfg.star_mag_range, cfg.star_mag_slope, n)
    cat: Catalog = {"id": ID_OFFSETS["star"] + np.arange(n, dtype=np.int64), "ra": ra, "dec": dec}
    _add_mags(cat, "", r, _stellar_colours(rng, n))
    # Disc-like kinematics: most stars slow, a 2% tail of nearby fast movers.
    pm = rng.normal(0.0, cfg.star_pm_sigma, (2, n))
    fast = rng.uniform(size=n) < 0.02
    pm[:, fast] *= 15.0
    cat["pm_ra"], cat["pm_dec"] = pm[0], pm[1]
    var = rng.uniform(size=n) < cfg.variable_fraction
    cat["is_variable"] = var
    cat["var_period"] = np.where(var, np.exp(rng.uniform(np.log(0.3), np.log(20.0), n)), 1.0)
    cat["var_amplitude"] = np.where(var, rng.uniform(0.1, 1.0, n), 0.0)
    cat["var_t0"] = cfg.epoch + rng.uniform(0.0, 20.0, n)
    return cat


def _make_galaxies(
    rng: np.random.Generator, cfg: SceneConfig, ra0: float, dec0: float, radius: float, n: int
) -> Catalog:
    ra, dec = sample_in_circle(rng, ra0, dec0, radius, n)
    r = _power_law_mags(rng, *cfg.galaxy_mag_range, cfg.galaxy_mag_slope, n)
    bt = rng.beta(0.8, 2.0, n)  # bulge-to-total in r; most galaxies disk-dominated
    bt = np.clip(bt, 0.01, 0.99)
    # Sizes shrink with magnitude (~0.2 dex per mag) with 0.2 dex scatter.
    disk_hlr = 0.9 * 10 ** (-0.1 * (r - 21.0)) * 10 ** rng.normal(0.0, 0.2, n)
    disk_hlr = np.clip(disk_hlr, 0.15, 8.0)
    bulge_hlr = np.clip(disk_hlr * rng.uniform(0.25, 0.6, n), 0.1, 4.0)
    cat: Catalog = {
        "id": ID_OFFSETS["galaxy"] + np.arange(n, dtype=np.int64),
        "ra": ra,
        "dec": dec,
        "bulge_hlr": bulge_hlr,
        "disk_hlr": disk_hlr,
        "bulge_q": rng.uniform(0.6, 1.0, n),
        "disk_q": rng.uniform(0.2, 1.0, n),
        "pa": rng.uniform(0.0, 180.0, n),
        "bulge_fraction_r": bt,
    }
    bulge_r = r - 2.5 * np.log10(bt)
    disk_r = r - 2.5 * np.log10(1.0 - bt)
    _add_mags(cat, "bulge_", bulge_r, _galaxy_colours(rng, n, np.ones(n, bool)))
    _add_mags(cat, "disk_", disk_r, _galaxy_colours(rng, n, np.zeros(n, bool)))
    for band in BANDS:
        cat[f"mag_{band}"] = _combine_mags(cat[f"bulge_mag_{band}"], cat[f"disk_mag_{band}"])
    return cat


def _make_transients(
    rng: np.random.Generator, cfg: SceneConfig, galaxies: Catalog, ra0: float, dec0: float, radius: float, n: int
) -> Catalog:
    # Most transients sit in a host galaxy, offset by up to one disk half-light radius; 20% are hostless.
    n_gal = galaxies["id"].size
    hosted = (rng.uniform(size=n) < 0.8) & (n_gal > 0)
    host_idx = rng.integers(0, max(n_gal, 1), n)
    ra, dec = sample_in_circle(rng, ra0, dec0, radius, n)
    host_id = np.full(n, -1, dtype=np.int64)
    if n_gal:
        dist = rng.uniform(0.0, 1.0, n) * galaxies["disk_hlr"][host_idx] / 3600.0
        hra, hdec = offset_positions(galaxies["ra"][host_idx], galaxies["dec"][host_idx], rng.uniform(0, 360, n), dist)
        ra, dec = np.where(hosted, hra, ra), np.where(hosted, hdec, dec)
        host_id = np.where(hosted, galaxies["id"][host_idx], -1)
    t_lo, t_hi = cfg.time_span
    cat: Catalog = {
        "id": ID_OFFSETS["transient"] + np.arange(n, dtype=np.int64),
        "ra": ra,
        "dec": dec,
        "host_id": host_id,
        "peak_mag": rng.uniform(*cfg.transient_peak_mag_range, n),
        "t0": rng.uniform(t_lo - 10.0, t_hi, n),
        "tau_rise": rng.uniform(1.5, 5.0, n),
        "tau_fall": rng.uniform(12.0, 40.0, n),
    }
    # Blue at peak (supernova-like SED relative to r).
    for band, c in zip(BANDS, (0.6, 0.0, 0.0, 0.25, 0.45, 0.6), strict=True):
        cat[f"colour_{band}"] = c + rng.normal(0.0, 0.1, n) * (band != "r")
    return cat


def _make_movers(rng: np.random.Generator, cfg: SceneConfig, ra0: float, dec0: float, radius: float, n: int) -> Catalog:
    ra, dec = sample_in_circle(rng, ra0, dec0, radius, n)
    lo, hi = cfg.mover_rate_range
    rate = np.exp(rng.uniform(math.log(lo), math.log(hi), n))
    fast = rng.uniform(size=n) < cfg.fast_mover_fraction
    rate = np.where(fast, rng.uniform(5.0, 20.0, n), rate)
    direction = rng.uniform(0.0, 2 * np.pi, n)  # North through East
    r = rng.uniform(*cfg.mover_mag_range, n)
    cat: Catalog = {
        "id": ID_OFFSETS["mover"] + np.arange(n, dtype=np.int64),
        "ra": ra,
        "dec": dec,
        "rate_ra": rate * np.sin(direction),
        "rate_dec": rate * np.cos(direction),
    }
    solar = {"u": 1.43 + 0.44, "g": 0.44, "r": 0.0, "i": -0.11, "z": -0.14, "y": -0.16}
    for band in BANDS:
        cat[f"mag_{band}"] = r + solar[band] + rng.normal(0.0, 0.05, n) * (band != "r")
    return cat
