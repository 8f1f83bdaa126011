"""Small calibration products used by ISR: crosstalk, linearizer, defects, brighter-fatter kernel.

Image-like calibrations (bias, dark, flat) are plain `osprey.afw.image.Exposure` objects in the
assembled detector frame, in electrons; `IsrCalibs` gathers everything one detector needs.
Every class here round-trips through ``to_dict``/``from_dict`` (JSON-compatible values).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.afw.image import Exposure
from osprey.geom import Box2I

from .errors import CalibFormatError, IsrValueError

__all__ = [
    "BrighterFatterKernel",
    "CrosstalkCalib",
    "Defects",
    "IsrCalibs",
    "Linearizer",
    "bf_kernel_from_a_matrix",
    "read_ecsv_table",
]


def read_ecsv_table(path: str | os.PathLike[str]) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
    """Read an ECSV file (the format of LSST's curated calibrations) into columns and metadata.

    Returns ``(columns, meta)``: a dict of numpy arrays (multidimensional cells keep their
    shape, e.g. ``(n_rows, 256)``) and the header ``meta`` mapping. astropy (a dependency of
    osprey-afw-core) does the parsing.
    """
    from astropy.table import Table

    try:
        table = Table.read(os.fspath(path), format="ascii.ecsv")
    except Exception as exc:  # astropy raises several types for malformed files
        raise CalibFormatError(f"{os.fspath(path)}: not a readable ECSV table ({exc})") from exc
    columns = {name: np.asarray(table[name]) for name in table.colnames}
    return columns, dict(table.meta)


# -- crosstalk -------------------------------------------------------------------------------


@dataclasses.dataclass
class CrosstalkCalib:
    """Intra-detector crosstalk coefficients.

    ``coeffs[v, s]`` is the fraction of source amplifier ``s``'s signal that appears in victim
    amplifier ``v`` (rows: victims, columns: sources; LSST's ``CT_COEFFS`` layout), with the
    source read in the victim's readout order. ``coeffs_sqr[v, s]`` is the optional quadratic
    term: ``victim += coeffs * src + coeffs_sqr * src**2``. ``units`` is the unit the
    coefficients act on (``"electron"`` for the LSSTCam files: apply after the gain).

    Attributes
    ----------
    coeffs : `numpy.ndarray`, shape (n_amp, n_amp)
    coeffs_sqr : `numpy.ndarray` or `None`
    amp_names : `tuple` of `str`
        Amplifier names in matrix order (empty: the detector's amplifier order).
    units : `str`
    metadata : `dict`
    """

    coeffs: NDArray[np.float64]
    coeffs_sqr: NDArray[np.float64] | None = None
    amp_names: tuple[str, ...] = ()
    units: str = "electron"
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.coeffs = np.array(self.coeffs, dtype=np.float64)
        if self.coeffs.ndim != 2 or self.coeffs.shape[0] != self.coeffs.shape[1]:
            raise CalibFormatError(f"crosstalk coeffs must be a square matrix, got shape {self.coeffs.shape}")
        if self.coeffs_sqr is not None:
            self.coeffs_sqr = np.array(self.coeffs_sqr, dtype=np.float64)
            if self.coeffs_sqr.shape != self.coeffs.shape:
                raise CalibFormatError(
                    f"crosstalk coeffs_sqr shape {self.coeffs_sqr.shape} differs from coeffs {self.coeffs.shape}"
                )
        self.amp_names = tuple(self.amp_names)
        if self.amp_names and len(self.amp_names) != self.n_amp:
            raise CalibFormatError(f"{len(self.amp_names)} amp_names for a {self.n_amp}x{self.n_amp} crosstalk matrix")

    @property
    def n_amp(self) -> int:
        """Number of amplifiers (matrix size)."""
        return int(self.coeffs.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible description; `from_dict` restores it exactly."""
        return {
            "coeffs": self.coeffs.tolist(),
            "coeffs_sqr": None if self.coeffs_sqr is None else self.coeffs_sqr.tolist(),
            "amp_names": list(self.amp_names),
            "units": self.units,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CrosstalkCalib:
        """Inverse of `to_dict`."""
        if "coeffs" not in data:
            raise CalibFormatError("crosstalk dict has no 'coeffs' entry")
        return cls(
            coeffs=data["coeffs"],
            coeffs_sqr=data.get("coeffs_sqr"),
            amp_names=tuple(data.get("amp_names", ())),
            units=data.get("units", "electron"),
            metadata=dict(data.get("metadata", {})),
        )

    @classmethod
    def from_ecsv(cls, path: str | os.PathLike[str]) -> CrosstalkCalib:
        """Read an LSST ``CrosstalkCalib`` ECSV file (``CT_COEFFS``, optional ``CT_COEFFS_SQR``).

        Invalid entries (``CT_VALID`` false) are kept as stored: the LSSTCam files already
        replaced outliers by the detector-type median and zero the diagonal.
        """
        columns, meta = read_ecsv_table(path)
        if "CT_COEFFS" not in columns:
            raise CalibFormatError(f"{os.fspath(path)}: no CT_COEFFS column; is this a crosstalk file?")
        flat = np.asarray(columns["CT_COEFFS"], dtype=np.float64).reshape(-1)
        shape = meta.get("CROSSTALK_SHAPE")
        if shape is None:
            n = int(round(np.sqrt(flat.size)))
            shape = [n, n]
        shape = tuple(int(s) for s in shape)
        if int(np.prod(shape)) != flat.size:
            raise CalibFormatError(
                f"{os.fspath(path)}: CROSSTALK_SHAPE {shape} does not match {flat.size} coefficients"
            )
        sqr = None
        if "CT_COEFFS_SQR" in columns:
            sqr = np.asarray(columns["CT_COEFFS_SQR"], dtype=np.float64).reshape(shape)
        units = str(meta.get("CROSSTALK_RATIOS_UNITS", "adu"))
        clean_meta = {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))}
        return cls(coeffs=flat.reshape(shape), coeffs_sqr=sqr, units=units, metadata=clean_meta)


# -- linearity -------------------------------------------------------------------------------


@dataclasses.dataclass
class Linearizer:
    """Per-amplifier non-linearity model and its inverse.

    ``models[amp_name] = (type, params)`` with

    * ``"POLYNOMIAL"``: ``params = (c2, c3, ...)``; the detector measures
      ``m = x + c2 x^2 + c3 x^3 + ...`` for a linear signal ``x``. Correction inverts this by
      vectorised Newton iteration.
    * ``"SPLINE"``: ``params = (m_0..m_{k-1}, d_0..d_{k-1})`` — node levels ``m_i`` (measured
      signal) and corrections ``d_i`` with ``x = m - d(m)``, ``d`` a cubic spline through the
      nodes (constant beyond the ends).
    * ``"NONE"``: identity.

    ``units`` is the unit of ``x`` and ``m`` (electrons when applied after the gain).
    """

    models: dict[str, tuple[str, tuple[float, ...]]]
    units: str = "electron"

    def __post_init__(self) -> None:
        clean: dict[str, tuple[str, tuple[float, ...]]] = {}
        for name, (kind, params) in self.models.items():
            kind = str(kind).upper()
            if kind not in ("POLYNOMIAL", "SPLINE", "NONE"):
                raise CalibFormatError(f"linearizer amp {name!r}: unknown type {kind!r} (POLYNOMIAL, SPLINE, NONE)")
            values = tuple(float(p) for p in params)
            if kind == "SPLINE" and (len(values) % 2 or len(values) < 4):
                raise CalibFormatError(f"linearizer amp {name!r}: SPLINE needs 2k >= 4 params (nodes then values)")
            clean[str(name)] = (kind, values)
        self.models = clean

    def distort(self, name: str, x: ArrayLike) -> NDArray[np.float64]:
        """Forward model: the measured signal for a linear signal ``x`` on amplifier ``name``."""
        kind, params = self._model(name)
        x = np.asarray(x, dtype=np.float64)
        if kind == "POLYNOMIAL":
            return x + _poly_tail(params, x)
        if kind == "SPLINE":
            # x = m - d(m): solve for m given x by Newton on g(m) = m - d(m) - x.
            spline = self._spline(params)
            m = x.copy()
            for _ in range(20):
                step = (m - spline(m) - x) / (1.0 - spline.derivative()(m))
                m -= step
                if np.all(np.abs(step) < 1e-9 * np.maximum(1.0, np.abs(m))):
                    break
            return m
        return x.copy()

    def correct(self, name: str, m: ArrayLike) -> NDArray[np.float64]:
        """Inverse model: the linear signal for measured values ``m`` on amplifier ``name``."""
        kind, params = self._model(name)
        m = np.asarray(m, dtype=np.float64)
        if kind == "POLYNOMIAL":
            x = m.copy()
            deriv = tuple((k + 2) * c for k, c in enumerate(params))
            for _ in range(30):
                f = x + _poly_tail(params, x) - m
                fp = 1.0 + _poly_deriv(deriv, x)
                step = f / fp
                x -= step
                if np.all(np.abs(step) < 1e-10 * np.maximum(1.0, np.abs(x))):
                    break
            return x
        if kind == "SPLINE":
            return m - self._spline(params)(m)
        return m.copy()

    def _model(self, name: str) -> tuple[str, tuple[float, ...]]:
        try:
            return self.models[name]
        except KeyError:
            raise IsrValueError(
                f"linearizer has no model for amplifier {name!r}; it has {sorted(self.models)}"
            ) from None

    @staticmethod
    def _spline(params: tuple[float, ...]) -> Any:
        from scipy.interpolate import CubicSpline

        k = len(params) // 2
        nodes = np.asarray(params[:k])
        values = np.asarray(params[k:])
        spline = CubicSpline(nodes, values, extrapolate=True)
        lo, hi = nodes[0], nodes[-1]

        class _Clamped:
            def __call__(self, m: NDArray[np.float64]) -> NDArray[np.float64]:
                return spline(np.clip(m, lo, hi))

            def derivative(self) -> Any:
                d = spline.derivative()
                return lambda m: np.where((m < lo) | (m > hi), 0.0, d(np.clip(m, lo, hi)))

        return _Clamped()

    @classmethod
    def spline_from_polynomial(
        cls, polynomial: Linearizer, maximum: float, n_nodes: int = 40, units: str | None = None
    ) -> Linearizer:
        """Tabulate a POLYNOMIAL linearizer as SPLINE models (the lookup-table form) up to ``maximum``."""
        models = {}
        for name in polynomial.models:
            x = np.linspace(0.0, maximum, n_nodes)
            m = polynomial.distort(name, x)
            models[name] = ("SPLINE", (*m.tolist(), *(m - x).tolist()))
        return cls(models, units or polynomial.units)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible description."""
        return {"units": self.units, "models": {k: [t, list(p)] for k, (t, p) in self.models.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Linearizer:
        """Inverse of `to_dict`."""
        if "models" not in data:
            raise CalibFormatError("linearizer dict has no 'models' entry")
        return cls({k: (v[0], tuple(v[1])) for k, v in data["models"].items()}, data.get("units", "electron"))


def _poly_tail(params: Sequence[float], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Σ_k params[k] x^(k+2), by Horner's rule."""
    acc = np.zeros_like(x)
    for c in reversed(params):
        acc = (acc + c) * x
    return acc * x


def _poly_deriv(deriv: Sequence[float], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Σ_k deriv[k] x^(k+1)."""
    acc = np.zeros_like(x)
    for c in reversed(deriv):
        acc = (acc + c) * x
    return acc


# -- defects ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Defects:
    """Bad-pixel regions as boxes in assembled detector pixels (begin inclusive, end exclusive).

    ``boxes`` rows are ``(x0, y0, width, height)`` — the columns of LSST's defect ECSV files.
    """

    boxes: NDArray[np.int64] = dataclasses.field(default_factory=lambda: np.zeros((0, 4), np.int64))
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        arr = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        if np.any(arr[:, 2:] <= 0):
            raise CalibFormatError(
                f"defect boxes need positive width and height, got {arr[np.any(arr[:, 2:] <= 0, 1)]}"
            )
        self.boxes = np.rint(arr).astype(np.int64)

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def to_bboxes(self) -> list[Box2I]:
        """The defects as `Box2I` objects."""
        return [Box2I.from_begin_end(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h in self.boxes]

    def to_mask_array(self, bbox: Box2I) -> NDArray[np.bool_]:
        """Boolean array over ``bbox`` (``[y, x]``), true inside any defect (clipped to ``bbox``)."""
        out = np.zeros((bbox.height, bbox.width), dtype=bool)
        for x, y, w, h in self.boxes:
            xa, xb = max(x - bbox.x0, 0), min(x + w - bbox.x0, bbox.width)
            ya, yb = max(y - bbox.y0, 0), min(y + h - bbox.y0, bbox.height)
            if xa < xb and ya < yb:
                out[ya:yb, xa:xb] = True
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible description."""
        return {"boxes": self.boxes.tolist(), "metadata": dict(self.metadata)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Defects:
        """Inverse of `to_dict`."""
        if "boxes" not in data:
            raise CalibFormatError("defects dict has no 'boxes' entry")
        return cls(np.asarray(data["boxes"], dtype=np.int64).reshape(-1, 4), dict(data.get("metadata", {})))

    @classmethod
    def from_ecsv(cls, path: str | os.PathLike[str]) -> Defects:
        """Read an LSST defects ECSV file (columns ``x0 y0 width height``; may have no rows)."""
        columns, meta = read_ecsv_table(path)
        missing = [c for c in ("x0", "y0", "width", "height") if c not in columns]
        if missing:
            raise CalibFormatError(f"{os.fspath(path)}: defect table lacks columns {missing}")
        boxes = np.stack([columns[c] for c in ("x0", "y0", "width", "height")], axis=-1)
        clean_meta = {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))}
        return cls(boxes, clean_meta)


# -- brighter-fatter -------------------------------------------------------------------------


def bf_kernel_from_a_matrix(a: ArrayLike, size: int = 17, pad: int = 64) -> NDArray[np.float64]:
    """Brighter-fatter kernel ``K`` solving ``∇²K = a`` (Coulton et al. 2018), by FFT.

    ``a`` is the quadrant of pixel-area coefficients ``a[i, j]`` (1/electron; Astier et al.
    2019, ``a[0, 0] < 0``) for lags ``(i, j) >= 0``; it is mirrored to all four quadrants.
    The Poisson equation is solved on a periodic ``pad x pad`` grid using the eigenvalues of
    the 5-point Laplacian, ``2 cos kx + 2 cos ky - 4``; the k = 0 mode (the sum of ``a``,
    which the area sum rule makes ~0) is dropped. The central ``size x size`` cut is returned
    with lag (0, 0) at its centre.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or size % 2 == 0 or pad < 2 * max(a.shape) + 1 or pad < size:
        raise IsrValueError(
            f"bf kernel: need a 2-D a-matrix quadrant, odd size and pad >= 2*len(a)+1 (got {a.shape}, {size}, {pad})"
        )
    grid = np.zeros((pad, pad))
    ny, nx = a.shape
    for sy in (1, -1):
        for sx in (1, -1):
            iy = (sy * np.arange(ny)) % pad
            ix = (sx * np.arange(nx)) % pad
            grid[np.ix_(iy, ix)] = a
    ky = 2 * np.pi * np.fft.fftfreq(pad)
    lap = 2 * np.cos(ky)[:, None] + 2 * np.cos(ky)[None, :] - 4.0
    lap[0, 0] = 1.0
    k_hat = np.fft.fft2(grid) / lap
    k_hat[0, 0] = 0.0
    kernel = np.real(np.fft.ifft2(k_hat))
    kernel = np.fft.fftshift(kernel)
    c = pad // 2
    h = size // 2
    return kernel[c - h : c + h + 1, c - h : c + h + 1].copy()


@dataclasses.dataclass
class BrighterFatterKernel:
    """Brighter-fatter kernel (1/electron units folded in), lag (0, 0) at the array centre."""

    kernel: NDArray[np.float64]

    def __post_init__(self) -> None:
        self.kernel = np.array(self.kernel, dtype=np.float64)
        if self.kernel.ndim != 2 or self.kernel.shape[0] % 2 == 0 or self.kernel.shape[1] % 2 == 0:
            raise CalibFormatError(f"BF kernel must be a 2-D array with odd sides, got shape {self.kernel.shape}")

    @classmethod
    def from_a_matrix(cls, a: ArrayLike, size: int = 17) -> BrighterFatterKernel:
        """Kernel from PTC a-coefficients via `bf_kernel_from_a_matrix`."""
        return cls(bf_kernel_from_a_matrix(a, size=size))

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible description."""
        return {"kernel": self.kernel.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BrighterFatterKernel:
        """Inverse of `to_dict`."""
        if "kernel" not in data:
            raise CalibFormatError("BF kernel dict has no 'kernel' entry")
        return cls(np.asarray(data["kernel"]))


# -- container -------------------------------------------------------------------------------


@dataclasses.dataclass
class IsrCalibs:
    """Calibration products for one detector; any may be `None` when its step is off.

    ``bias`` (electrons), ``dark`` (electrons per second of dark time) and ``flat``
    (any normalisation; divided by its median) are Exposures in the assembled detector frame.
    """

    bias: Exposure | None = None
    dark: Exposure | None = None
    flat: Exposure | None = None
    crosstalk: CrosstalkCalib | None = None
    linearizer: Linearizer | None = None
    defects: Defects | None = None
    bf_kernel: BrighterFatterKernel | None = None
