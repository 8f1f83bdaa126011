"""`Simulator`: raw exposures of any instrument, with their truth.

``Simulator(instrument).simulate(spec, detector)`` renders one detector of one exposure
(`ExposureSpec`): for science exposures the sky background, stars (proper motions and
variability applied at mid-exposure), bulge+disk galaxies, transients and trailed moving
objects through the spatially varying PSF and the true WCS; for calibration exposures the
lamp (flats) or nothing (biases, darks); then the detector's instrument signature
(`DetectorSignature`) in forward order, giving the raw frame in ADU and the instrument's
header. `Simulator.write` writes it through ``instrument.write_raw`` in the instrument's own
raw format.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from .cadence import ExposureSpec
from .errors import SimsConfigError
from .headers import DEFAULT_PHYSICAL_FILTERS, INSTRUMENT_WRITTEN_CARDS, header_builder
from .photometry import Band, Telescope, default_band, mag_to_njy, telescope_for
from .psf import DetectorPsf, FieldPsf, PsfConfig
from .render import Component, choose_stamp_sizes, galaxy_radius, render_objects, shape_matrices
from .scene import Catalog, Scene, SceneConfig
from .signature import DetectorSignature, ExposureResult, SignatureConfig
from .wcs import detector_wcs, sky_jacobians

__all__ = ["SimConfig", "SimInstrument", "SimulatedExposure", "Simulator"]

_log = logging.getLogger(__name__)


class SimConfig(BaseModel):
    """Everything the simulation can be told; `model_validate` it from YAML/JSON."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 1
    scene: SceneConfig = Field(default_factory=SceneConfig)
    psf: PsfConfig = Field(default_factory=PsfConfig)
    signature: SignatureConfig = Field(default_factory=SignatureConfig)
    bands: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="per band: overrides of wavelength (nm), zero_point, sky (mag/arcsec²), extinction",
    )
    sky_gradient: float = Field(0.01, ge=0, description="rms fractional sky gradient per degree of field angle")
    margin: int = Field(48, ge=0, description="pixels beyond the detector edge objects are still drawn from")
    stamp_tolerance: float = Field(
        0.1, gt=0, description="flux a stamp may cut at its border, in units of the sky noise per pixel"
    )
    controller: str = Field("S", description="LSST image controller code written into OBSIDs (S: simulation)")
    add_noise: bool = True
    add_cosmic_rays: bool = True


@dataclasses.dataclass
class SimInstrument:
    """What the simulator needs from an instrument; build it with `from_instrument`.

    Attributes
    ----------
    name : `str`
    camera : `osprey.afw.camera_geom.Camera`
    filters : `dict` [`str`, `str`]
        Band -> the FILTER value the raw header carries.
    telescope : `Telescope`
    flip_x : `bool`
        Whether the sky is mirrored on the focal plane (``Instrument.wcs_flip_x``).
    instrument : `osprey.obs.base.Instrument` or `None`
        The obs-package instrument, which writes raws in its format.
    """

    name: str
    camera: Any
    filters: dict[str, str]
    telescope: Telescope
    flip_x: bool = True
    instrument: Any = None

    @classmethod
    def from_instrument(cls, instrument: Any) -> SimInstrument:
        """From an `osprey.obs.base.Instrument` (or its registered name)."""
        if isinstance(instrument, str):
            from osprey.obs.base import Instrument

            instrument = Instrument.from_name(instrument)
        filters: dict[str, str] = dict(DEFAULT_PHYSICAL_FILTERS.get(instrument.name, {}))
        for fd in getattr(instrument, "filter_definitions", ()):
            if fd.band is not None and fd.band != fd.physical_filter:
                # The header spelling: a long alias where the instrument has one (DECam), else the name.
                spelled = [a for a in fd.aliases if len(a) > len(fd.physical_filter)]
                filters[fd.band] = spelled[0] if spelled else fd.physical_filter
        return cls(
            name=instrument.name,
            camera=instrument.get_camera(),
            filters=filters,
            telescope=telescope_for(instrument.name),
            flip_x=bool(getattr(instrument, "wcs_flip_x", True)),
            instrument=instrument,
        )


@dataclasses.dataclass
class SimulatedExposure:
    """One detector of one simulated exposure.

    Attributes
    ----------
    spec : `ExposureSpec`
    detector : `Detector`
    raw : `numpy.ndarray` of int32
        The raw frame (ADU): every amplifier at its ``raw_xy_offset``, as ``write_raw`` takes it.
    header : `dict`
        Primary header cards in the instrument's conventions.
    sources : `Catalog`
        Truth for every object drawn: ``id, kind, ra, dec, x, y, mag, flux_njy, electrons`` (+ shapes,
        trails); ``x, y`` are assembled-frame pixels, ``electrons`` the expected total signal
        before the flat field.
    cosmic_rays : `Catalog`
    wcs : `SkyWcs` or `None`
        True WCS (science exposures).
    psf : `DetectorPsf` or `None`
        True PSF (science exposures).
    sky : `float`
        Mean sky background, electrons per pixel before the flat field.
    result : `ExposureResult`
        Intermediate products of the signature (expected electrons, saturation mask, overscan levels).
    signature : `DetectorSignature`
    """

    spec: ExposureSpec
    detector: Any
    raw: NDArray[np.int32]
    header: dict[str, Any]
    sources: Catalog
    cosmic_rays: Catalog
    wcs: Any
    psf: DetectorPsf | None
    sky: float
    result: ExposureResult
    signature: DetectorSignature


class Simulator:
    """Simulate raw exposures of one instrument over one `Scene`.

    Parameters
    ----------
    instrument : `osprey.obs.base.Instrument`, `str` or `SimInstrument`
        The instrument (or its registered name, e.g. ``"LSSTCam"``).
    config : `SimConfig`, optional
    scene : `Scene`, optional
        The sky; required for science exposures (see `Scene.generate`).
    """

    def __init__(self, instrument: Any, config: SimConfig | None = None, scene: Scene | None = None) -> None:
        self.instrument = (
            instrument if isinstance(instrument, SimInstrument) else SimInstrument.from_instrument(instrument)
        )
        self.config = config or SimConfig()
        self.scene = scene
        self.camera = self.instrument.camera
        self._header = header_builder(self.instrument.name)
        corners = np.concatenate([d.get_corners("FOCAL_PLANE") for d in self.camera])
        self.field_radius_mm = float(np.hypot(corners[:, 0], corners[:, 1]).max())
        fa = self.camera.transform(np.array([[self.field_radius_mm, 0.0]]), "FOCAL_PLANE", "FIELD_ANGLE")
        self.field_radius_deg = float(np.degrees(fa[0, 0]))

    # -- fixed per detector ---------------------------------------------------------------
    @functools.lru_cache(maxsize=4)  # noqa: B019 - signatures are large; keep a few
    def signature(self, detector: int) -> DetectorSignature:
        """The instrument signature of detector ``detector`` (id), the same in every exposure."""
        det = self.camera[detector]
        return DetectorSignature(self.config.signature, det, self.config.seed, self.field_radius_mm)

    def band(self, name: str) -> Band:
        """Photometric model of band ``name`` on this telescope (config overrides applied)."""
        base = default_band(name, self.instrument.telescope) if name in _known_bands() else None
        over = self.config.bands.get(name, {})
        if base is None:
            missing = {"wavelength", "zero_point", "sky", "extinction"} - set(over)
            if missing:
                raise SimsConfigError(f"band {name!r} has no built-in model; SimConfig.bands[{name!r}] needs {missing}")
            return Band(name, **over)
        return dataclasses.replace(base, **over)

    def physical_filter(self, band: str | None) -> str | None:
        if band is None:
            return None
        try:
            return self.instrument.filters[band]
        except KeyError:
            raise SimsConfigError(
                f"instrument {self.instrument.name} has no filter for band {band!r}; "
                f"it has {sorted(self.instrument.filters)}"
            ) from None

    # -- one exposure ----------------------------------------------------------------------
    def simulate(self, spec: ExposureSpec, detector: int | str) -> SimulatedExposure:
        """Render detector ``detector`` (id or name) of exposure ``spec``."""
        det = self.camera[detector]
        rng = np.random.default_rng(np.random.SeedSequence([self.config.seed, 31337, spec.counter, det.id]))
        sig = self.signature(det.id)
        shape = (det.bbox.height, det.bbox.width)
        band = self.band(spec.band) if spec.band is not None else None
        wavelength = band.wavelength if band else 620.0
        sources: Catalog = {}
        wcs = psf = None
        sky = 0.0
        if spec.observation_type == "science":
            if self.scene is None:
                raise SimsConfigError(
                    "science exposures need a Scene: Simulator(instrument, scene=Scene.generate(...))"
                )
            if band is None:
                raise SimsConfigError(f"science exposure {spec.counter} has no band")
            image, sources, wcs, psf, sky = self._science(spec, det, band, rng, shape)
        elif spec.observation_type == "flat":
            image = np.full(shape, float(spec.flat_level))
        elif spec.observation_type in ("bias", "dark"):
            image = np.zeros(shape)
        else:
            raise SimsConfigError(f"unknown observation type {spec.observation_type!r}")
        result = sig.expose(
            image,
            spec.dark_time,
            rng,
            wavelength=wavelength,
            add_noise=self.config.add_noise,
            add_cosmic_rays=self.config.add_cosmic_rays,
        )
        header = self._header(
            self.instrument.name,
            spec,
            det,
            self.instrument.telescope,
            self.physical_filter(spec.band),
            **(
                {"controller": self.config.controller}
                if "LSST" in self.instrument.name or self.instrument.name == "LATISS"
                else {}
            ),
        )
        header["SIMSEED"] = self.config.seed
        return SimulatedExposure(spec, det, result.raw, header, sources, result.cosmic_rays, wcs, psf, sky, result, sig)

    def write(self, exposure: SimulatedExposure, path: str | os.PathLike[str]) -> Path:
        """Write ``exposure`` in the instrument's raw format (``Instrument.write_raw``)."""
        inst = self.instrument.instrument
        if inst is None:
            raise SimsConfigError(
                f"{self.instrument.name}: writing raws needs the obs-package Instrument (it owns the raw "
                "format); build the Simulator from Instrument.from_name(...)"
            )
        own = INSTRUMENT_WRITTEN_CARDS.get(self.instrument.name, frozenset())
        primary = {k: v for k, v in exposure.header.items() if k not in own}
        return inst.write_raw(path, exposure.detector.id, exposure.raw, primary)

    # -- science scene -----------------------------------------------------------------------
    def _science(
        self, spec: ExposureSpec, det, band: Band, rng: np.random.Generator, shape: tuple[int, int]
    ) -> tuple[NDArray[np.float64], Catalog, Any, DetectorPsf, float]:
        cfg = self.config
        wcs = detector_wcs(det, spec.ra, spec.dec, spec.rotation, self.instrument.flip_x)
        tel = self.instrument.telescope
        field_psf = FieldPsf(
            cfg.psf,
            spec.seeing,
            spec.airmass,
            band.wavelength,
            tel.diameter,
            tel.obscuration,
            self.field_radius_deg,
            rng,
        )
        psf = DetectorPsf(field_psf, det)
        # Sky: surface brightness times each pixel's area on the sky (distortion), plus a gentle gradient.
        image, sky_mean = self._sky(spec, det, wcs, band, rng, shape)
        noise = math.sqrt(max(sky_mean, 1.0) + det.amplifiers[0].read_noise ** 2)
        tolerance = cfg.stamp_tolerance * noise
        scene = self.scene
        mjd = spec.mjd_mid
        t = spec.exposure_time
        x_lo, y_lo = det.bbox.x0 - cfg.margin, det.bbox.y0 - cfg.margin
        x_hi, y_hi = det.bbox.x_end + cfg.margin, det.bbox.y_end + cfg.margin
        center = wcs.pixel_to_sky(det.center)
        ra_c, dec_c = center.longitude.as_degrees(), center.latitude.as_degrees()
        half_diag = 0.5 * math.hypot(det.bbox.width, det.bbox.height) + cfg.margin
        cut_deg = 1.2 * half_diag * psf.pixel_scale / 3600.0

        def locate(cat: Catalog) -> tuple[Catalog, NDArray, NDArray]:
            near = _angular_distance(cat["ra"], cat["dec"], ra_c, dec_c) < cut_deg
            sub = {k: v[near] for k, v in cat.items()}
            x, y = wcs.sky_to_pixel_array(np.radians(sub["ra"]), np.radians(sub["dec"]))
            ok = np.isfinite(x) & (x >= x_lo) & (x < x_hi) & (y >= y_lo) & (y < y_hi)
            return {k: v[ok] for k, v in sub.items()}, x[ok], y[ok]

        truth: list[Catalog] = []
        # Stars (proper motion and variability at mid-exposure) and transients: point sources.
        for kind, cat in (("star", scene.stars_at(mjd, band.name)), ("transient", scene.transients_at(mjd, band.name))):
            sub, x, y = locate(cat)
            e = band.electrons(sub["mag"], t, spec.airmass)
            sizes = choose_stamp_sizes(psf, e, tolerance)
            render_objects(image, psf, x, y, e, sizes)
            truth.append(_truth(kind, sub, x, y, e, sizes))
        # Galaxies: bulge + disk, each through the local WCS Jacobian.
        sub, x, y = locate(scene.galaxies_at(band.name))
        if x.size:
            e = band.electrons(sub["mag"], t, spec.airmass)
            jac = sky_jacobians(wcs, x, y)
            bulge_frac = 10 ** (-0.4 * (sub["bulge_mag"] - sub["mag"]))
            comps = [
                Component(bulge_frac, shape_matrices(sub["bulge_hlr"], sub["bulge_q"], sub["pa"], jac), "bulge"),
                Component(1.0 - bulge_frac, shape_matrices(sub["disk_hlr"], sub["disk_q"], sub["pa"], jac), "disk"),
            ]
            radius = np.maximum(
                galaxy_radius(sub["bulge_hlr"], sub["bulge_q"], psf.pixel_scale),
                galaxy_radius(sub["disk_hlr"], sub["disk_q"], psf.pixel_scale),
            )
            sizes = choose_stamp_sizes(psf, e, tolerance, radius)
            render_objects(image, psf, x, y, e, sizes, components=comps)
            g = _truth("galaxy", sub, x, y, e, sizes)
            for key in ("bulge_hlr", "bulge_q", "disk_hlr", "disk_q", "pa"):
                g[key] = sub[key]
            g["bulge_fraction"] = bulge_frac
            truth.append(g)
        # Moving objects: trailed between their start and end positions.
        cat = scene.movers_at(mjd, band.name)
        sub, x, y = locate(cat)
        if x.size:
            dt = 0.5 * t / 86400.0
            cosd = np.cos(np.radians(sub["dec"]))
            ra0, dec0 = sub["ra"] - sub["rate_ra"] * dt / cosd, sub["dec"] - sub["rate_dec"] * dt
            ra1, dec1 = sub["ra"] + sub["rate_ra"] * dt / cosd, sub["dec"] + sub["rate_dec"] * dt
            x0, y0 = wcs.sky_to_pixel_array(np.radians(ra0), np.radians(dec0))
            x1, y1 = wcs.sky_to_pixel_array(np.radians(ra1), np.radians(dec1))
            trail = np.stack([x1 - x0, y1 - y0], -1)
            e = band.electrons(sub["mag"], t, spec.airmass)
            sizes = choose_stamp_sizes(psf, e, tolerance, 0.5 * np.hypot(trail[:, 0], trail[:, 1]))
            render_objects(image, psf, x, y, e, sizes, trail=trail)
            m = _truth("mover", sub, x, y, e, sizes)
            m.update(
                {
                    "x_start": x0,
                    "y_start": y0,
                    "x_end": x1,
                    "y_end": y1,
                    "rate_ra": sub["rate_ra"],
                    "rate_dec": sub["rate_dec"],
                }
            )
            truth.append(m)
        return image, _concat(truth), wcs, psf, sky_mean

    def _sky(
        self, spec: ExposureSpec, det, wcs, band: Band, rng: np.random.Generator, shape: tuple[int, int]
    ) -> tuple[NDArray[np.float64], float]:
        h, w = shape
        gx, gy = np.meshgrid(np.linspace(0, w - 1, 9), np.linspace(0, h - 1, 9))
        jac = sky_jacobians(wcs, gx.ravel(), gy.ravel())
        area = np.abs(np.linalg.det(jac))
        # Quadratic surface through the pixel areas (distortion changes them smoothly).
        u, v = gx.ravel() / w - 0.5, gy.ravel() / h - 0.5
        design = np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], -1)
        coef = np.linalg.lstsq(design, area, rcond=None)[0]
        fa = np.degrees(det.transform(np.stack([gx.ravel(), gy.ravel()], -1), "PIXELS", "FIELD_ANGLE"))
        grad = rng.normal(0.0, self.config.sky_gradient, 2)
        level = 1.0 + fa @ grad  # fractional sky change across this detector
        lcoef = np.linalg.lstsq(design[:, :3], level, rcond=None)[0]
        uu = (np.arange(w) / w - 0.5)[None, :]
        vv = (np.arange(h) / h - 0.5)[:, None]
        area_img = coef[0] + coef[1] * uu + coef[2] * vv + coef[3] * uu * uu + coef[4] * uu * vv + coef[5] * vv * vv
        level_img = lcoef[0] + lcoef[1] * uu + lcoef[2] * vv
        sky = band.sky_electrons(spec.exposure_time, 1.0, spec.airmass) * area_img * level_img
        return np.ascontiguousarray(sky, dtype=np.float64), float(sky.mean())


@functools.lru_cache(maxsize=1)
def _known_bands() -> frozenset[str]:
    from .photometry import _RUBIN_BANDS

    return frozenset(_RUBIN_BANDS)


def _angular_distance(ra: NDArray, dec: NDArray, ra0: float, dec0: float) -> NDArray[np.float64]:
    """Great-circle distance in degrees (haversine)."""
    r1, d1, r0, d0 = np.radians(ra), np.radians(dec), math.radians(ra0), math.radians(dec0)
    a = np.sin((d1 - d0) / 2) ** 2 + np.cos(d1) * math.cos(d0) * np.sin((r1 - r0) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def _truth(kind: str, sub: Catalog, x: NDArray, y: NDArray, electrons: NDArray, sizes: NDArray) -> Catalog:
    n = x.size
    return {
        "id": sub["id"].astype(np.int64),
        "kind": np.full(n, kind),
        "ra": sub["ra"].astype(np.float64),
        "dec": sub["dec"].astype(np.float64),
        "x": x,
        "y": y,
        "mag": sub["mag"].astype(np.float64),
        "flux_njy": mag_to_njy(sub["mag"]),
        "electrons": electrons,
        "stamp_size": sizes.astype(np.int32),
    }


def _concat(tables: list[Catalog]) -> Catalog:
    """Concatenate column dicts; columns missing from a table are filled with NaN (or -1 / "")."""
    keys: list[str] = []
    for t in tables:
        keys += [k for k in t if k not in keys]
    out: Catalog = {}
    for k in keys:
        parts = []
        for t in tables:
            n = len(next(iter(t.values()))) if t else 0
            if k in t:
                parts.append(np.asarray(t[k]))
            else:
                parts.append(np.full(n, np.nan))
        out[k] = np.concatenate(parts) if parts else np.zeros(0)
    return out
