"""The instrument signature of a CCD, applied in forward (physical) order.

`DetectorSignature` holds everything fixed for one detector across exposures (so bias, dark,
flat and science frames agree): the flat-field response (vignetting, gradient, pixel response
non-uniformity), dark current with hot pixels and columns, dead pixels and columns, the 2-D
bias structure, per-amplifier overscan levels, gains and read noise (from camera geometry),
non-linearity, crosstalk and the full well. `expose` turns an image of electrons arriving
at the detector into a raw frame of ADU:

1. × flat response (QE); 2. + dark current × dark time (hot pixels included);
3. Poisson noise; 4. + cosmic rays; 5. charge above full well bleeds along columns;
6. non-linearity per amplifier (electrons); 7. crosstalk between amplifiers (electrons, in
readout order); 8. + bias structure, ÷ gain, into the raw frame (flips applied) with each
amplifier's overscan level drifting along the rows and read noise over every raw pixel;
9. digitisation: rounding and clipping at each amplifier's saturation (ADU).

The raw frame is the one the ISR code reads: every amplifier's raw box side by side at its
``raw_xy_offset`` (``osprey.ip.isr.raw_frame_bbox``). Calibration products describing the
signature (`osprey.ip.isr.CrosstalkCalib`, `Linearizer`, `Defects`) are attributes here, so
truth and ISR share one definition.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from osprey.ip.isr import CrosstalkCalib, Defects, Linearizer, raw_frame_bbox

from .errors import SimsConfigError

__all__ = ["DetectorSignature", "ExposureResult", "SignatureConfig", "bleed_columns", "cosmic_rays"]


class SignatureConfig(BaseModel):
    """Instrument-signature settings (units in the descriptions)."""

    model_config = ConfigDict(extra="forbid")

    vignetting: float = Field(0.06, ge=0, lt=1, description="fractional response loss at the field edge (∝ r²)")
    flat_gradient: float = Field(0.03, ge=0, description="peak-to-peak linear gradient across a detector at 620 nm")
    prnu: float = Field(0.005, ge=0, description="pixel response non-uniformity, rms fraction")
    dark_current: float = Field(0.02, ge=0, description="e-/s/pixel")
    hot_pixel_density: float = Field(20.0, ge=0, description="hot pixels per megapixel")
    hot_pixel_rate: tuple[float, float] = Field((2.0, 200.0), description="e-/s, log-uniform")
    dead_pixel_density: float = Field(10.0, ge=0, description="dead pixels per megapixel")
    dead_columns: int = Field(1, ge=0, description="partly dead column segments per detector")
    hot_columns: int = Field(1, ge=0, description="hot column segments per detector")
    dead_response: float = Field(0.05, ge=0, lt=1, description="residual response of dead pixels")
    bias_level: tuple[float, float] = Field((15000.0, 25000.0), description="overscan level range, ADU")
    bias_drift: float = Field(3.0, ge=0, description="overscan drift along the rows, ADU (per exposure)")
    bias_jitter: float = Field(1.5, ge=0, description="exposure-to-exposure overscan level rms, ADU")
    bias_structure: float = Field(2.0, ge=0, description="2-D bias structure amplitude, electrons")
    nonlinearity: tuple[float, float] = Field(
        (-1.5e-7, -0.5e-7), description="range of the quadratic coefficient c2 (1/electron): m = x + c2 x²"
    )
    crosstalk_neighbour: float = Field(3e-4, ge=0, description="coefficient between neighbouring amps")
    crosstalk_far: float = Field(2e-5, ge=0, description="coefficient between other amps")
    full_well_fraction: float = Field(0.8, gt=0, description="full well as a fraction of min(saturation × gain)")
    full_well: float | None = Field(None, gt=0, description="full well, electrons (overrides the fraction)")
    cosmic_ray_rate: float = Field(1.5, ge=0, description="cosmic rays per cm² per second of dark time")
    sensor_thickness: float = Field(100.0, gt=0, description="µm")
    cosmic_ray_charge: float = Field(80.0, gt=0, description="electrons per µm of path")


def _pixel_area_cm2(detector) -> float:
    return detector.bbox.area * detector.pixel_size.x * detector.pixel_size.y / 100.0


@dataclasses.dataclass
class ExposureResult:
    """The raw frame (ADU, int32) and what went into it."""

    raw: NDArray[np.int32]
    electrons: NDArray[np.float64]  # noiseless expectation after flat and dark (assembled frame)
    cosmic_rays: dict[str, NDArray[Any]]
    saturated: NDArray[np.bool_]  # pixels at full well after bleeding (assembled frame)
    overscan_levels: dict[str, NDArray[np.float64]]  # per amp, per raw row, ADU
    crosstalk_signal: NDArray[np.float64]  # per amp (readout order), electrons added


class DetectorSignature:
    """Everything fixed for one detector (deterministic in ``seed`` and the detector id).

    Parameters
    ----------
    config : `SignatureConfig`
    detector : `osprey.afw.camera_geom.Detector`
    seed : `int`
        Survey seed; the detector's own stream is derived from (seed, detector id).
    field_radius_mm : `float`
        Focal-plane radius where the vignetting reaches ``config.vignetting``.
    crosstalk : `CrosstalkCalib`, optional
        Use this matrix (e.g. a measured one) instead of drawing one.
    """

    def __init__(
        self,
        config: SignatureConfig,
        detector,
        seed: int,
        field_radius_mm: float,
        crosstalk: CrosstalkCalib | None = None,
    ) -> None:
        if not detector.amplifiers:
            raise SimsConfigError(f"detector {detector.name!r} has no amplifiers; the raw format needs them")
        self.config = config
        self.detector = detector
        self.field_radius_mm = float(field_radius_mm)
        self._rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7919, int(detector.id)]))
        rng = self._rng
        self.amp_names = tuple(a.name for a in detector)
        self.shape = (detector.bbox.height, detector.bbox.width)
        n_amp = len(self.amp_names)
        self.gains = {a.name: a.gain for a in detector}
        self.read_noise = {a.name: a.read_noise for a in detector}
        self.saturation = {a.name: a.saturation for a in detector}
        self.bias_levels = dict(zip(self.amp_names, rng.uniform(*config.bias_level, n_amp).tolist(), strict=True))
        self.linearizer = Linearizer(
            {
                name: ("POLYNOMIAL", (float(c),))
                for name, c in zip(self.amp_names, rng.uniform(*sorted(config.nonlinearity), n_amp), strict=True)
            },
            units="electron",
        )
        self.crosstalk = crosstalk if crosstalk is not None else self._draw_crosstalk(rng)
        if self.crosstalk.n_amp != n_amp:
            raise SimsConfigError(
                f"crosstalk matrix is {self.crosstalk.n_amp}x{self.crosstalk.n_amp} but detector "
                f"{detector.name!r} has {n_amp} amplifiers"
            )
        finite = [a.saturation * a.gain for a in detector if math.isfinite(a.saturation)]
        if config.full_well is not None:
            self.full_well = float(config.full_well)
        elif finite:
            self.full_well = config.full_well_fraction * min(finite)
        else:
            self.full_well = math.inf
        self._draw_defects(rng)
        self._prnu_seed = int(rng.integers(2**62))
        self._bias_seed = int(rng.integers(2**62))

    # -- fixed patterns ------------------------------------------------------------------------
    def _draw_crosstalk(self, rng: np.random.Generator) -> CrosstalkCalib:
        """Neighbours (adjacent in the same amp row) couple at ~crosstalk_neighbour, the rest weaker."""
        amps = list(self.detector)
        n = len(amps)
        cy = np.array([a.bbox.y0 for a in amps])
        cx = np.array([a.bbox.x0 for a in amps])
        order = {v: i for i, v in enumerate(sorted(set(cx.tolist())))}
        col = np.array([order[v] for v in cx.tolist()])
        same_row = cy[:, None] == cy[None, :]
        adjacent = same_row & (np.abs(col[:, None] - col[None, :]) == 1)
        c = self.config
        coeffs = np.where(adjacent, c.crosstalk_neighbour, c.crosstalk_far) * rng.uniform(0.7, 1.3, (n, n))
        np.fill_diagonal(coeffs, 0.0)
        return CrosstalkCalib(coeffs, amp_names=self.amp_names, units="electron", metadata={"SIMULATED": True})

    def _draw_defects(self, rng: np.random.Generator) -> None:
        c = self.config
        h, w = self.shape
        mpix = h * w / 1e6
        n_hot = int(rng.poisson(c.hot_pixel_density * mpix))
        n_dead = int(rng.poisson(c.dead_pixel_density * mpix))
        boxes: list[NDArray[np.int64]] = []
        kinds: list[str] = []
        hot = np.stack([rng.integers(0, w, n_hot), rng.integers(0, h, n_hot)], -1)
        dead = np.stack([rng.integers(0, w, n_dead), rng.integers(0, h, n_dead)], -1)
        self.hot_pixels = hot
        self.hot_pixel_rates = np.exp(rng.uniform(*np.log(c.hot_pixel_rate), n_hot))
        self.dead_pixels = dead
        boxes += [np.array([x, y, 1, 1]) for x, y in hot]
        kinds += ["hot_pixel"] * n_hot
        boxes += [np.array([x, y, 1, 1]) for x, y in dead]
        kinds += ["dead_pixel"] * n_dead
        self.column_defects: list[tuple[str, int, int, int]] = []  # (kind, x, y0, y1)
        for kind, count in (("dead_column", c.dead_columns), ("hot_column", c.hot_columns)):
            for _ in range(count):
                x = int(rng.integers(2, w - 2))
                y0 = int(rng.integers(0, h // 2))
                y1 = int(rng.integers(y0 + h // 4, h + 1))
                self.column_defects.append((kind, x, y0, y1))
                boxes.append(np.array([x, y0, 1, y1 - y0]))
                kinds.append(kind)
        self.defects = Defects(np.array(boxes, dtype=np.int64).reshape(-1, 4))
        self.defect_kinds = tuple(kinds)

    @functools.lru_cache(maxsize=2)  # noqa: B019 - one signature per detector, a band or two at a time
    def flat(self, wavelength: float = 620.0) -> NDArray[np.float32]:
        """Response (QE relative to a perfect pixel), assembled frame ``[y, x]``; mild chromatic gradient."""
        det = self.detector
        h, w = self.shape
        c = self.config
        y = np.arange(h, dtype=np.float32)[:, None]
        x = np.arange(w, dtype=np.float32)[None, :]
        a = det._pix_to_fp  # affine pixel -> focal plane (mm)
        fx = a[0, 0] * x + a[0, 1] * y + a[0, 2]
        fy = a[1, 0] * x + a[1, 1] * y + a[1, 2]
        r2 = (fx * fx + fy * fy) / np.float32(self.field_radius_mm**2)
        grad = np.float32(c.flat_gradient * 620.0 / wavelength)
        flat = (1.0 - np.float32(c.vignetting) * r2) * (1.0 + grad * ((x / w - 0.5) + 0.5 * (y / h - 0.5)))
        flat = flat.astype(np.float32) * self._prnu()
        flat.setflags(write=False)
        return flat

    @functools.cached_property
    def _prnu_and_dead(self) -> NDArray[np.float32]:
        rng = np.random.default_rng(self._prnu_seed)
        prnu = (1.0 + self.config.prnu * rng.standard_normal(self.shape, dtype=np.float32)).astype(np.float32)
        d = self.config.dead_response
        prnu[self.dead_pixels[:, 1], self.dead_pixels[:, 0]] = d
        for kind, x, y0, y1 in self.column_defects:
            if kind == "dead_column":
                prnu[y0:y1, x] = d
        return prnu

    def _prnu(self) -> NDArray[np.float32]:
        return self._prnu_and_dead

    @functools.cached_property
    def dark_rate(self) -> NDArray[np.float32]:
        """Dark current, e-/s per pixel, assembled frame (hot pixels and columns included)."""
        rate = np.full(self.shape, self.config.dark_current, dtype=np.float32)
        np.add.at(rate, (self.hot_pixels[:, 1], self.hot_pixels[:, 0]), self.hot_pixel_rates.astype(np.float32))
        for kind, x, y0, y1 in self.column_defects:
            if kind == "hot_column":
                rate[y0:y1, x] += 20.0
        return rate

    @functools.cached_property
    def bias_structure(self) -> NDArray[np.float32]:
        """2-D bias pattern in electrons (column ripple and a row gradient), assembled frame."""
        rng = np.random.default_rng(self._bias_seed)
        h, w = self.shape
        amp = self.config.bias_structure
        cols = amp * 0.5 * rng.standard_normal(w).astype(np.float32)
        rows = amp * np.cos(2 * np.pi * np.arange(h, dtype=np.float32) / 397.0)
        return (cols[None, :] + 0.5 * rows[:, None]).astype(np.float32)

    # -- one exposure --------------------------------------------------------------------------
    def expose(
        self,
        electrons: NDArray[np.float64],
        dark_time: float,
        rng: np.random.Generator,
        *,
        wavelength: float = 620.0,
        add_noise: bool = True,
        add_cosmic_rays: bool = True,
        apply_flat: bool = True,
    ) -> ExposureResult:
        """Apply the signature to ``electrons`` (assembled frame, arriving at the detector), in place.

        Parameters
        ----------
        electrons : `numpy.ndarray` of float64
            Sky + sources (or lamp illumination) per pixel before the detector response; modified.
        dark_time : `float`
            Seconds of dark-current integration.
        rng : `numpy.random.Generator`
            This exposure's random stream (noise, cosmic rays, overscan drift).
        wavelength : `float`
            nm, for the chromatic part of the flat.
        """
        if electrons.shape != self.shape or electrons.dtype != np.float64:
            raise SimsConfigError(
                f"expose needs a float64 array of the detector shape {self.shape}, got {electrons.dtype} "
                f"{electrons.shape}"
            )
        img = electrons
        if apply_flat:
            img *= self.flat(float(wavelength))
        img += self.dark_rate * np.float32(dark_time)
        expected = img.copy()
        if add_noise:
            img[...] = rng.poisson(np.maximum(img, 0.0))
        crs = cosmic_rays(
            rng,
            self.shape,
            self.config,
            _pixel_area_cm2(self.detector),
            dark_time if add_cosmic_rays else 0.0,
            self.detector.pixel_size.x * 1000.0,
        )
        if crs["x0"].size:
            _deposit_cosmic_rays(img, crs)
        saturated = bleed_columns(img, self.full_well)
        # Non-linearity and crosstalk per amplifier, in electrons.
        for amp in self.detector:
            sl = amp.bbox.slices_in(self.detector.bbox)
            img[sl] = self.linearizer.distort(amp.name, img[sl])
        xt = self._apply_crosstalk(img)
        img += self.bias_structure
        raw, levels = self._to_raw(img, rng, add_noise)
        return ExposureResult(raw, expected, crs, saturated, levels, xt)

    def _readout_views(self, img: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        views = []
        for amp in self.detector:
            v = img[amp.bbox.slices_in(self.detector.bbox)]
            if amp.raw_flip_y:
                v = v[::-1, :]
            if amp.raw_flip_x:
                v = v[:, ::-1]
            views.append(v)
        return views

    def _apply_crosstalk(self, img: NDArray[np.float64]) -> NDArray[np.float64]:
        views = self._readout_views(img)
        if len({v.shape for v in views}) != 1:
            raise SimsConfigError(
                f"detector {self.detector.name!r}: crosstalk needs equal-sized amplifiers, got "
                f"{sorted({v.shape for v in views})}"
            )
        names = list(self.crosstalk.amp_names) or list(self.amp_names)
        order = [names.index(n) for n in self.amp_names]
        coeffs = self.crosstalk.coeffs[np.ix_(order, order)]
        stack = np.stack(views)
        signal = np.tensordot(coeffs, stack, axes=(1, 0))
        if self.crosstalk.coeffs_sqr is not None:
            sqr = self.crosstalk.coeffs_sqr[np.ix_(order, order)]
            signal += np.tensordot(sqr, stack * stack, axes=(1, 0))
        for view, sig in zip(views, signal, strict=True):
            view += sig
        return signal

    def _to_raw(
        self, img: NDArray[np.float64], rng: np.random.Generator, add_noise: bool
    ) -> tuple[NDArray[np.int32], dict[str, NDArray[np.float64]]]:
        det = self.detector
        frame = raw_frame_bbox(det)
        raw = np.zeros((frame.height, frame.width), dtype=np.float64)
        levels: dict[str, NDArray[np.float64]] = {}
        c = self.config
        for amp in det:
            data = img[amp.bbox.slices_in(det.bbox)] / amp.gain
            if amp.raw_flip_y:
                data = data[::-1, :]
            if amp.raw_flip_x:
                data = data[:, ::-1]
            ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
            d = amp.raw_data_bbox
            raw[oy + d.y0 : oy + d.y_end, ox + d.x0 : ox + d.x_end] = data
            rb = amp.raw_bbox
            t = np.linspace(0.0, 1.0, rb.height)
            drift = c.bias_drift * rng.uniform(-1.0, 1.0) * (t - 0.5) + 0.5 * c.bias_drift * (t * t - 1.0 / 3.0)
            level = self.bias_levels[amp.name] + rng.normal(0.0, c.bias_jitter) + drift
            levels[amp.name] = level
            region = raw[oy + rb.y0 : oy + rb.y_end, ox + rb.x0 : ox + rb.x_end]
            region += level[:, None]
            if add_noise and amp.read_noise > 0:
                region += rng.normal(0.0, amp.read_noise / amp.gain, size=region.shape)
        out = np.rint(raw)
        for amp in det:
            ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
            rb = amp.raw_bbox
            region = out[oy + rb.y0 : oy + rb.y_end, ox + rb.x0 : ox + rb.x_end]
            np.clip(region, 0.0, amp.saturation if math.isfinite(amp.saturation) else 2.0**31 - 1, out=region)
        return out.astype(np.int32), levels


# -- cosmic rays and bleeding ------------------------------------------------------------------


def cosmic_rays(
    rng: np.random.Generator,
    shape: tuple[int, int],
    config: SignatureConfig,
    area_cm2: float,
    dark_time: float,
    pixel_um: float,
) -> dict[str, NDArray[Any]]:
    """Draw cosmic-ray tracks: start/end (pixels) and deposited electrons (cos² zenith-angle law)."""
    n = int(rng.poisson(config.cosmic_ray_rate * area_cm2 * max(dark_time, 0.0)))
    h, w = shape
    x0, y0 = rng.uniform(0, w, n), rng.uniform(0, h, n)
    # cos²θ angular distribution: cos θ = u^(1/3) for the flux through a horizontal surface.
    cos_t = rng.uniform(0.0, 1.0, n) ** (1.0 / 3.0)
    tan_t = np.sqrt(1.0 - cos_t**2) / np.maximum(cos_t, 1e-3)
    length = np.minimum(config.sensor_thickness / pixel_um * tan_t, 300.0)
    phi = rng.uniform(0.0, 2 * np.pi, n)
    x1, y1 = x0 + length * np.cos(phi), y0 + length * np.sin(phi)
    path_um = np.hypot(length * pixel_um, config.sensor_thickness)
    charge = config.cosmic_ray_charge * path_um * rng.lognormal(0.0, 0.3, n)
    return {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "electrons": charge}


def _deposit_cosmic_rays(img: NDArray[np.float64], crs: dict[str, NDArray[Any]]) -> None:
    """Add each track's charge along its segment (samples every 0.25 px, bilinear)."""
    length = np.hypot(crs["x1"] - crs["x0"], crs["y1"] - crs["y0"])
    n_samp = np.maximum(1, np.ceil(length / 0.25).astype(np.int64))
    track = np.repeat(np.arange(n_samp.size), n_samp)
    start = np.repeat(np.cumsum(n_samp) - n_samp, n_samp)
    t = (np.arange(track.size) - start + 0.5) / n_samp[track]
    x = crs["x0"][track] + t * (crs["x1"] - crs["x0"])[track] - 0.5
    y = crs["y0"][track] + t * (crs["y1"] - crs["y0"])[track] - 0.5
    q = crs["electrons"][track] / n_samp[track]
    h, w = img.shape
    ix, iy = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - ix, y - iy
    flat = img.reshape(-1)
    for dx, dy, wgt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        cx, cy = ix + dx, iy + dy
        ok = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        np.add.at(flat, cy[ok] * w + cx[ok], (q * wgt)[ok])


def bleed_columns(img: NDArray[np.float64], full_well: float) -> NDArray[np.bool_]:
    """Spill charge above ``full_well`` up and down its column (half each way), in place.

    Charge reaching the end of a column is lost (it drains into the serial register). Returns
    the mask of pixels at full well afterwards. Loops run over saturated column runs only.
    """
    if not math.isfinite(full_well):
        return np.zeros(img.shape, bool)
    cols = np.flatnonzero((img > full_well).any(axis=0))
    for c in cols:
        col = img[:, c]  # a view: edits land in img
        over = col > full_well
        edges = np.diff(np.concatenate([[0], over.view(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        for s, e in zip(starts, ends, strict=True):
            excess = float(np.sum(col[s:e] - full_well))
            if excess <= 0:
                continue
            col[s:e] = full_well
            _spill(col[e:], 0.5 * excess, full_well)
            _spill(col[:s][::-1], 0.5 * excess, full_well)
    return img >= full_well


def _spill(segment: NDArray[np.float64], charge: float, full_well: float) -> None:
    """Fill ``segment`` from its start up to ``full_well`` with ``charge`` electrons."""
    if segment.size == 0 or charge <= 0:
        return
    room = np.maximum(full_well - segment, 0.0)
    filled = np.cumsum(room)
    n_full = int(np.searchsorted(filled, charge, side="right"))
    segment[:n_full] = np.maximum(segment[:n_full], full_well)
    if n_full < segment.size:
        left = charge - (filled[n_full - 1] if n_full else 0.0)
        segment[n_full] += left
