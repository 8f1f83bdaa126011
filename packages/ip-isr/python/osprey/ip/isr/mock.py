"""IsrMockLSST: a forward model of an LSST-like CCD readout with known truth.

Effects are applied in the physical order of the LSST paper's Figure 2 instrument model,
so that ISR (which undoes them in reverse) can be tested step by step:

1. sky + stars (Gaussian PSF, pixel-integrated) in electrons — the *truth* image;
2. flat: per-pixel QE (smooth gradient + pixel-to-pixel scatter, median 1);
3. dark current × dark time; Poisson noise on the collected charge;
4. brighter-fatter (optional) on the collected charge: ``I + ½∇·(I∇(K⊛I))`` with ``K``
   from an a-matrix (after the shot noise, so it correlates neighbouring pixels);
5. defects: hot/dead columns and pixels;
6. non-linearity: polynomial per amp (`Linearizer` POLYNOMIAL);
7. crosstalk: ``victim += Σ c_vs src_s`` with sources in the victim's readout order
   (coefficients act on electrons, as the LSSTCam matrices declare, i.e. just before the
   gain conversion);
8. amp pedestals (optional, sum zero) and the 2-D bias structure; gain (e⁻ → ADU);
9. per-amp overscan level with a smooth per-row drift, read noise, over the whole raw amp;
10. saturation clipping at each amp's ``saturation`` (ADU).

The camera is a small two-row detector (default 2 × 4 amps of 64 × 128 pixels with
prescan, serial and parallel overscan and alternating flips), described in the
`Camera.from_yaml` format.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from osprey.afw.camera_geom import Camera, Detector
from osprey.afw.image import Exposure, ExposureInfo, MaskedImage
from osprey.afw.visit_info import VisitInfo

from .brighter_fatter import brighter_fatter_distort
from .calibs import BrighterFatterKernel, CrosstalkCalib, Defects, IsrCalibs, Linearizer, bf_kernel_from_a_matrix
from .steps import crosstalk_distort, raw_frame_bbox

__all__ = ["IsrMockConfig", "IsrMockLSST", "MockResult", "MockTruth", "mock_camera_description"]


class IsrMockConfig(BaseModel):
    """What the mock simulates; every effect has a ``do_*`` switch. Units in the field names' docs."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(
        20250101,
        description="seeds the instrument: gains, flat, dark pattern, defects, non-linearity, crosstalk, bias",
    )
    exposure_seed: int = Field(
        0, description="seeds this exposure's scene and noise; exposures of one instrument differ only in it"
    )
    observation_type: str = Field("science", description="VisitInfo.observation_type (bias, dark, flat, science)")
    n_amp_x: int = Field(4, ge=1, description="amplifiers per row")
    n_amp_y: int = Field(2, ge=1, le=2, description="rows of amplifiers (1 or 2)")
    amp_width: int = Field(64, ge=8, description="data columns per amp (pixels)")
    amp_height: int = Field(128, ge=8, description="data rows per amp (pixels)")
    prescan: int = Field(4, ge=0, description="serial prescan columns")
    serial_overscan: int = Field(16, ge=1, description="serial overscan columns")
    parallel_overscan: int = Field(16, ge=0, description="parallel overscan rows")
    gain_range: tuple[float, float] = (1.2, 1.8)
    read_noise: float = Field(6.0, ge=0, description="electrons")
    saturation: float = Field(60000.0, description="ADU")
    suspect_level: float = Field(50000.0, description="ADU")
    exposure_time: float = 30.0
    dark_time: float = 31.0
    sky: float = Field(1000.0, description="electrons per pixel")
    n_stars: int = 12
    star_flux_range: tuple[float, float] = (2e4, 3e5)
    stars: list[tuple[float, float, float]] = Field(default_factory=list, description="extra (x, y, electrons)")
    psf_sigma: float = 1.5
    add_noise: bool = True
    do_flat: bool = True
    flat_gradient: float = 0.02
    flat_scatter: float = 0.01
    do_brighter_fatter: bool = False
    bf_a00: float = -2.0e-6
    do_dark: bool = True
    dark_rate: float = 0.5
    do_defects: bool = True
    hot_pixel_rate: float = Field(100.0, description="electrons per second of dark time in hot defects")
    do_nonlinearity: bool = True
    nonlinearity_c2: tuple[float, float] = (-1.5e-6, -0.5e-6)
    do_crosstalk: bool = True
    crosstalk_neighbour: float = 1e-3
    crosstalk_other: float = 1e-4
    do_bias: bool = True
    bias_amplitude: float = Field(5.0, description="electrons, 2-D bias structure")
    overscan_level: tuple[float, float] = (900.0, 1100.0)
    overscan_drift: float = Field(4.0, description="ADU, quadratic per-row drift amplitude")
    do_amp_offsets: bool = False
    amp_offset_rms: float = Field(10.0, description="electrons")


@dataclasses.dataclass
class MockTruth:
    """What went in: arrays in the assembled frame (``[y, x]``), per-amp values by amp name."""

    electrons: NDArray[np.float64]
    flat: NDArray[np.float64]
    dark_rate: NDArray[np.float64]
    bias: NDArray[np.float64]
    defect_mask: NDArray[np.bool_]
    gains: dict[str, float]
    read_noise: dict[str, float]
    overscan_rows: dict[str, NDArray[np.float64]]
    amp_pedestals: dict[str, float]
    stars: list[tuple[float, float, float]]
    crosstalk: CrosstalkCalib
    linearizer: Linearizer
    bf_kernel: BrighterFatterKernel | None
    crosstalk_signal: NDArray[np.float64]


@dataclasses.dataclass
class MockResult:
    """A raw exposure (raw frame, ADU), the calibrations that undo it and the truth."""

    raw: Exposure
    calibs: IsrCalibs
    truth: MockTruth
    camera: Camera

    @property
    def detector(self) -> Detector:
        """The mock detector."""
        return self.camera[0]


def mock_camera_description(config: IsrMockConfig, gains: list[float], read_noise: float) -> dict[str, Any]:
    """The mock camera in the `Camera.from_yaml` mapping format."""
    w, h = config.amp_width, config.amp_height
    raw_w = config.prescan + w + config.serial_overscan
    raw_h = h + config.parallel_overscan
    amps = []
    for iy in range(config.n_amp_y):
        for ix in range(config.n_amp_x):
            i = iy * config.n_amp_x + ix
            flip_y = iy == 1
            flip_x = (ix % 2 == 1) if iy == 0 else (ix % 2 == 0)
            amps.append(
                {
                    "name": f"C{iy}{ix}",
                    "bbox_px": [[ix * w, iy * h], [w, h]],
                    "gain_e_per_adu": float(gains[i]),
                    "read_noise_e": float(read_noise),
                    "saturation_adu": float(config.saturation),
                    "suspect_level_adu": float(config.suspect_level),
                    "linearity": {"type": "NONE", "coeffs": []},
                    "raw": {
                        "bbox_px": [[0, 0], [raw_w, raw_h]],
                        "data_bbox_px": [[config.prescan, 0], [w, h]],
                        "serial_overscan_bbox_px": [[config.prescan + w, 0], [config.serial_overscan, raw_h]],
                        "parallel_overscan_bbox_px": (
                            [[config.prescan, h], [w, config.parallel_overscan]]
                            if config.parallel_overscan
                            else [[0, 0], [0, 0]]
                        ),
                        "serial_prescan_bbox_px": [[0, 0], [config.prescan, raw_h]]
                        if config.prescan
                        else [[0, 0], [0, 0]],
                        "parallel_prescan_bbox_px": [[0, 0], [0, 0]],
                        "flip_x": flip_x,
                        "flip_y": flip_y,
                        "xy_offset_px": [ix * raw_w, iy * raw_h],
                        "hdu": i + 1,
                    },
                }
            )
    width, height = config.n_amp_x * w, config.n_amp_y * h
    return {
        "format_version": 1,
        "name": "OspreyMockLSST",
        "plate_scale_arcsec_per_mm": 20.0,
        "detectors": [
            {
                "id": 0,
                "name": "MOCK_S00",
                "bbox_px": [[0, 0], [width, height]],
                "orientation": {
                    "focal_plane_position_mm": [0.0, 0.0],
                    "pitch_rad": 0.0,
                    "reference_point_px": [(width - 1) / 2, (height - 1) / 2],
                    "roll_rad": 0.0,
                    "yaw_rad": 0.0,
                },
                "physical_type": "MOCK",
                "pixel_size_mm": [0.01, 0.01],
                "serial": "MOCK-0001",
                "type": "SCIENCE",
                "amplifiers": amps,
            }
        ],
    }


def _render_stars(shape: tuple[int, int], stars: list[tuple[float, float, float]], sigma: float) -> NDArray[np.float64]:
    """Pixel-integrated circular Gaussians (erf differences), one stamp per star."""
    from scipy.special import erf

    out = np.zeros(shape)
    half = int(np.ceil(6 * sigma)) + 1
    s2 = np.sqrt(2.0) * sigma
    for x, y, flux in stars:
        xc, yc = int(round(x)), int(round(y))
        x0, x1 = max(xc - half, 0), min(xc + half + 1, shape[1])
        y0, y1 = max(yc - half, 0), min(yc + half + 1, shape[0])
        if x0 >= x1 or y0 >= y1:
            continue
        ex = np.arange(x0, x1 + 1) - 0.5 - x
        ey = np.arange(y0, y1 + 1) - 0.5 - y
        px = 0.5 * np.diff(erf(ex / s2))
        py = 0.5 * np.diff(erf(ey / s2))
        out[y0:y1, x0:x1] += flux * np.outer(py, px)
    return out


def _a_matrix(a00: float, n: int = 6) -> NDArray[np.float64]:
    """A toy PTC a-matrix quadrant: a00 < 0 and positive neighbours ∝ 1/r³ with the area sum rule Σa = 0."""
    i, j = np.mgrid[0:n, 0:n]
    r = np.hypot(i, j)
    a = np.where(r > 0, 1.0 / np.maximum(r, 1.0) ** 3, 0.0)
    mult = np.where(i == 0, 1, 2) * np.where(j == 0, 1, 2)  # copies of each lag in the full plane
    a *= -a00 / np.sum(a * mult)
    a[0, 0] = a00
    return a


class IsrMockLSST:
    """Build a raw exposure plus calibrations and truth; ``IsrMockLSST(config).run()``."""

    def __init__(self, config: IsrMockConfig | None = None, **overrides: Any) -> None:
        base = config if config is not None else IsrMockConfig()
        self.config = base.model_copy(update=overrides) if overrides else base
        IsrMockConfig.model_validate(self.config.model_dump())

    def run(self) -> MockResult:
        """Simulate (deterministic for a given ``config.seed``)."""
        cfg = self.config
        # Independent streams: the instrument (same for every exposure of one seed), this
        # exposure's scene and its noise.
        rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0]))
        scene_rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 1, cfg.exposure_seed]))
        noise_rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 2, cfg.exposure_seed]))
        n_amp = cfg.n_amp_x * cfg.n_amp_y
        gains = rng.uniform(*cfg.gain_range, size=n_amp)
        camera = Camera.from_yaml(mock_camera_description(cfg, list(gains), cfg.read_noise))
        det = camera[0]
        names = [a.name for a in det]
        shape = (det.bbox.height, det.bbox.width)
        yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]

        # 1. truth electrons: sky + stars.
        stars = [
            (float(scene_rng.uniform(8, shape[1] - 8)), float(scene_rng.uniform(8, shape[0] - 8)), float(f))
            for f in np.exp(scene_rng.uniform(*np.log(cfg.star_flux_range), size=cfg.n_stars))
        ] + [tuple(float(v) for v in s) for s in cfg.stars]
        truth = cfg.sky + _render_stars(shape, stars, cfg.psf_sigma)
        signal = truth.copy()

        # 2. flat (QE), median 1.
        flat = np.ones(shape)
        if cfg.do_flat:
            flat = 1.0 + cfg.flat_gradient * ((xx / shape[1] - 0.5) + 0.5 * (yy / shape[0] - 0.5))
            flat *= 1.0 + cfg.flat_scatter * rng.standard_normal(shape)
            flat /= np.median(flat)
            signal = signal * flat

        # 4. dark current, then shot noise on all collected charge.
        dark_rate = np.zeros(shape)
        if cfg.do_dark:
            dark_rate = cfg.dark_rate * (1.0 + 0.3 * np.sin(2 * np.pi * xx / shape[1]) * np.cos(np.pi * yy / shape[0]))
            signal = signal + dark_rate * cfg.dark_time
        if cfg.add_noise:
            signal = noise_rng.poisson(np.maximum(signal, 0.0)).astype(np.float64)

        # 3. brighter-fatter: the collected charge (shot noise included) pushes pixel
        # boundaries, which correlates neighbouring pixels' noise (the PTC a-matrix).
        bf_kernel = None
        if cfg.do_brighter_fatter:
            bf_kernel = BrighterFatterKernel(bf_kernel_from_a_matrix(_a_matrix(cfg.bf_a00)))
            signal = brighter_fatter_distort(signal, bf_kernel.kernel)

        # 5. defects.
        defect_boxes: list[tuple[int, int, int, int]] = []
        defect_mask = np.zeros(shape, bool)
        if cfg.do_defects:
            hot_col = int(rng.integers(5, shape[1] - 5))
            dead_col = int((hot_col + shape[1] // 2) % (shape[1] - 10)) + 5
            y_half = shape[0] // 2
            defect_boxes.append((hot_col, y_half, 1, shape[0] - y_half))
            defect_boxes.append((dead_col, 0, 1, shape[0]))
            for _ in range(4):
                defect_boxes.append((int(rng.integers(2, shape[1] - 2)), int(rng.integers(2, shape[0] - 2)), 1, 1))
            for k, (x, y, w, h) in enumerate(defect_boxes):
                region = (slice(y, y + h), slice(x, x + w))
                if k == 1 or k >= 4:
                    signal[region] *= 0.05  # dead
                else:
                    signal[region] += cfg.hot_pixel_rate * cfg.dark_time  # hot
                defect_mask[region] = True
        defects = Defects(np.asarray(defect_boxes, dtype=np.int64).reshape(-1, 4))

        # 6. non-linearity per amp.
        models: dict[str, tuple[str, tuple[float, ...]]] = {}
        for name in names:
            if cfg.do_nonlinearity:
                models[name] = ("POLYNOMIAL", (float(rng.uniform(*cfg.nonlinearity_c2)), 1e-12))
            else:
                models[name] = ("NONE", ())
        linearizer = Linearizer(models, units="electron")
        for amp in det:
            sl = amp.bbox.slices_in(det.bbox)
            signal[sl] = linearizer.distort(amp.name, signal[sl])

        # 7. crosstalk between amps (in readout order; electrons).
        coeffs = np.zeros((n_amp, n_amp))
        if cfg.do_crosstalk:
            coeffs = cfg.crosstalk_other * rng.uniform(0.5, 1.5, size=(n_amp, n_amp))
            for v in range(n_amp):
                for s in range(n_amp):
                    if s // cfg.n_amp_x == v // cfg.n_amp_x and abs(s - v) == 1:
                        coeffs[v, s] = cfg.crosstalk_neighbour * rng.uniform(0.8, 1.2)
            np.fill_diagonal(coeffs, 0.0)
        crosstalk = CrosstalkCalib(coeffs, amp_names=tuple(names), units="electron")
        work = Exposure(MaskedImage.from_arrays(signal.astype(np.float64)), ExposureInfo(detector=det))
        work.image.units = "electron"
        xt_signal = (
            crosstalk_distort(work, crosstalk, det)
            if cfg.do_crosstalk
            else np.zeros((n_amp, *det[names[0]].bbox.dimensions[::-1]))
        )
        signal = work.image.array.astype(np.float64)

        # 8. amp pedestals and bias structure (electrons), then gain.
        pedestals = dict.fromkeys(names, 0.0)
        if cfg.do_amp_offsets:
            p = rng.normal(0.0, cfg.amp_offset_rms, size=n_amp)
            p -= p.mean()
            pedestals = dict(zip(names, p.tolist(), strict=True))
        bias = np.zeros(shape)
        if cfg.do_bias:
            bias = cfg.bias_amplitude * (np.cos(2 * np.pi * yy / 37.0) * 0.5 + (xx % 7 == 0) * 0.8 - 0.3)
        signal = signal + bias
        raw = np.zeros((raw_frame_bbox(det).height, raw_frame_bbox(det).width))
        overscan_rows: dict[str, NDArray[np.float64]] = {}
        for amp in det:
            sl = amp.bbox.slices_in(det.bbox)
            data = (signal[sl] + pedestals[amp.name]) / amp.gain
            if amp.raw_flip_y:
                data = data[::-1, :]
            if amp.raw_flip_x:
                data = data[:, ::-1]
            ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
            d = amp.raw_data_bbox
            raw[oy + d.y0 : oy + d.y_end, ox + d.x0 : ox + d.x_end] = data
            # 9. overscan level with a smooth per-row drift plus read noise over the whole raw amp.
            rb = amp.raw_bbox
            t = np.arange(rb.height) / rb.height
            level = rng.uniform(*cfg.overscan_level) + cfg.overscan_drift * (t - 0.5) + 0.5 * cfg.overscan_drift * t * t
            overscan_rows[amp.name] = level
            region = raw[oy + rb.y0 : oy + rb.y_end, ox + rb.x0 : ox + rb.x_end]
            region += level[:, None]
            if cfg.add_noise:
                region += noise_rng.normal(0.0, amp.read_noise / amp.gain, size=region.shape)
        # 10. saturation.
        for amp in det:
            rb = amp.raw_bbox
            ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
            region = raw[oy + rb.y0 : oy + rb.y_end, ox + rb.x0 : ox + rb.x_end]
            np.minimum(region, amp.saturation, out=region)

        visit = VisitInfo(
            id=1,
            exposure_time=cfg.exposure_time,
            dark_time=cfg.dark_time,
            observation_type=cfg.observation_type,
            has_simulated_content=True,
        )
        raw_exp = Exposure(
            MaskedImage.from_arrays(raw.astype(np.float32), units="adu"), ExposureInfo(detector=det, visit_info=visit)
        )

        def calib(array: NDArray[np.float64], dark_time: float | None = None) -> Exposure:
            exp = Exposure(
                MaskedImage.from_arrays(array.astype(np.float32), units="electron"),
                ExposureInfo(detector=det, visit_info=VisitInfo(dark_time=dark_time) if dark_time else None),
            )
            return exp

        calibs = IsrCalibs(
            bias=calib(bias),
            dark=calib(dark_rate, dark_time=1.0),
            flat=calib(flat),
            crosstalk=crosstalk,
            linearizer=linearizer,
            defects=defects,
            bf_kernel=bf_kernel,
        )
        truth_out = MockTruth(
            electrons=truth,
            flat=flat,
            dark_rate=dark_rate,
            bias=bias,
            defect_mask=defect_mask,
            gains={a.name: a.gain for a in det},
            read_noise={a.name: a.read_noise for a in det},
            overscan_rows=overscan_rows,
            amp_pedestals=pedestals,
            stars=stars,
            crosstalk=crosstalk,
            linearizer=linearizer,
            bf_kernel=bf_kernel,
            crosstalk_signal=np.asarray(xt_signal),
        )
        return MockResult(raw=raw_exp, calibs=calibs, truth=truth_out, camera=camera)
