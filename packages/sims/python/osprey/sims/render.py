"""Batch rendering of point sources, bulge+disk galaxies and trailed objects onto a detector image.

Every object is drawn in Fourier space, all objects of one stamp size at once:

``stamp = irfft2(flux * P(k) * O(k) * T(k) * exp(-i k·d))``

where ``P`` is the pixel-integrated PSF at the object (bilinear mix of the `DetectorPsf` node
transforms), ``O`` the object's transform (1 for a point source; for a galaxy the sum of its
Sérsic components ``f_n(|B k|)`` with ``B`` folding in the shape, size and the local WCS
Jacobian), ``T`` a trail (the transform of a line segment, ``sinc``) and ``d`` the sub-pixel
offset. The radial transforms of the Sérsic profiles come from GalSim (exact Hankel
transforms, tabulated once); the exponential disk's is analytic. Stamp sizes grow with flux
and size so faint objects cost a 16x16 FFT. No per-object Python work: a loop runs over the
handful of stamp sizes and memory-bounded chunks only.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import SimsConfigError
from .psf import DetectorPsf

__all__ = [
    "BULGE_TRUNCATION",
    "STAMP_SIZES",
    "Component",
    "choose_stamp_sizes",
    "disk_transform",
    "render_objects",
    "sersic_transform",
    "shape_matrices",
]

STAMP_SIZES: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
"""Stamp sizes (pixels) objects are drawn at."""

BULGE_TRUNCATION = 5.0
"""de Vaucouleurs bulges are truncated at this many half-light radii (flux normalised inside)."""

_EXP_HLR_OVER_R0 = 1.6783469900166608
_TABLE_STEP = 0.05
_TABLE_MAX = 400.0


@functools.lru_cache(maxsize=8)
def _sersic_table(n: float, trunc: float) -> NDArray[np.float64]:
    """GalSim's Fourier transform of a unit-flux, unit-half-light-radius Sérsic at |k| = 0, step, ..."""
    import galsim

    profile = galsim.Sersic(n=n, half_light_radius=1.0, trunc=trunc, flux_untruncated=False)
    ks = np.arange(0.0, _TABLE_MAX + _TABLE_STEP, _TABLE_STEP)
    return np.array([profile.kValue(galsim.PositionD(float(k), 0.0)).real for k in ks])


def sersic_transform(k: ArrayLike, n: float = 4.0, trunc: float = BULGE_TRUNCATION) -> NDArray[np.float64]:
    """Radial Fourier transform of a unit-flux Sérsic of unit half-light radius at |k| (rad per unit length)."""
    table = _sersic_table(float(n), float(trunc))
    k = np.asarray(k, dtype=np.float64)
    return np.interp(k, np.arange(table.size) * _TABLE_STEP, table, right=0.0)


def disk_transform(k: ArrayLike) -> NDArray[np.float64]:
    """Fourier transform of a unit-flux exponential disk of unit half-light radius."""
    k = np.asarray(k, dtype=np.float64)
    return (1.0 + (k / _EXP_HLR_OVER_R0) ** 2) ** -1.5


def shape_matrices(
    hlr: ArrayLike, q: ArrayLike, pa: ArrayLike, sky_jacobian: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per-object ``B = Mᵀ J⁻ᵀ`` so that a profile's pixel-frame transform is ``f(|B k|)``.

    Parameters
    ----------
    hlr : array_like
        Half-light radius, arcsec (area-preserving: ``sqrt(a b)``).
    q : array_like
        Axis ratio b/a in (0, 1].
    pa : array_like
        Position angle of the major axis, degrees North through East.
    sky_jacobian : `numpy.ndarray`, shape (n, 2, 2)
        d(east, north)/d(x, y) in arcsec per pixel at each object.
    """
    hlr, q, beta = np.asarray(hlr, float), np.asarray(q, float), np.radians(pa)
    a, b = hlr / np.sqrt(q), hlr * np.sqrt(q)
    m = np.empty((hlr.size, 2, 2))
    m[:, 0, 0], m[:, 1, 0] = a * np.sin(beta), a * np.cos(beta)  # major axis: (east, north)
    m[:, 0, 1], m[:, 1, 1] = b * np.cos(beta), -b * np.sin(beta)
    jinv_t = np.linalg.inv(sky_jacobian).transpose(0, 2, 1)
    return np.matmul(m.transpose(0, 2, 1), jinv_t)


@dataclasses.dataclass
class Component:
    """One Sérsic component of a set of galaxies: its flux fraction, ``B`` matrices and profile."""

    fraction: NDArray[np.float64]
    matrices: NDArray[np.float64]
    kind: str  # "disk" (exponential) or "bulge" (de Vaucouleurs, truncated)

    def transform(self, kx: NDArray[np.float64], ky: NDArray[np.float64], sel: slice | NDArray) -> NDArray:
        b = self.matrices[sel]
        u = b[:, 0, 0, None, None] * kx + b[:, 0, 1, None, None] * ky
        v = b[:, 1, 0, None, None] * kx + b[:, 1, 1, None, None] * ky
        k = np.sqrt(u * u + v * v)
        f = disk_transform(k) if self.kind == "disk" else sersic_transform(k, 4.0, BULGE_TRUNCATION)
        return self.fraction[sel, None, None] * f


def choose_stamp_sizes(
    psf: DetectorPsf, flux: ArrayLike, tolerance: float, radius: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Smallest stamp size per object whose PSF border pixel holds < ``tolerance`` electrons.

    ``radius`` (pixels, optional) is the object's own extent: the stamp is then also at
    least ``2 * (radius + 2 FWHM)`` wide.
    """
    flux = np.atleast_1d(np.asarray(flux, dtype=np.float64))
    sizes = np.full(flux.size, STAMP_SIZES[-1], dtype=np.int64)
    need = np.zeros(flux.size) if radius is None else 2.0 * (np.asarray(radius, float) + 2.0 * psf.fwhm())
    for s in reversed(STAMP_SIZES):
        edge = psf.edge_level(min(s, psf.size)) if s <= psf.size else 0.0
        ok = (flux * edge <= tolerance) & (need <= s)
        sizes[ok] = s
    return sizes


def render_objects(
    image: NDArray[np.float64],
    psf: DetectorPsf,
    x: ArrayLike,
    y: ArrayLike,
    flux: ArrayLike,
    sizes: ArrayLike,
    *,
    components: list[Component] | None = None,
    trail: NDArray[np.float64] | None = None,
    chunk_pixels: int = 2_000_000,
) -> None:
    """Add objects to ``image`` (``[y, x]``, pixel (0, 0) at index (0, 0)), in place.

    Parameters
    ----------
    image : `numpy.ndarray` of float64
        Electrons; objects partly off the image are clipped.
    psf : `DetectorPsf`
    x, y : array_like
        Object centres, pixels.
    flux : array_like
        Total electrons of each object (before stamp truncation).
    sizes : array_like of int
        Stamp size per object, from `STAMP_SIZES`.
    components : list of `Component`, optional
        Galaxy profiles (fractions summing to 1 per object); point sources when omitted.
    trail : `numpy.ndarray`, shape (n, 2), optional
        Displacement (pixels) during the exposure, centred on (x, y).
    """
    if image.dtype != np.float64 or image.ndim != 2:
        raise SimsConfigError(f"render_objects draws into a 2-d float64 array, got {image.dtype} {image.shape}")
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    flux = np.atleast_1d(np.asarray(flux, dtype=np.float64))
    sizes = np.atleast_1d(np.asarray(sizes, dtype=np.int64))
    if not (x.shape == y.shape == flux.shape == sizes.shape):
        raise SimsConfigError("render_objects: x, y, flux and sizes must have the same length")
    ny, nx = image.shape
    flat_image = image.reshape(-1)
    for size in np.unique(sizes):
        size = int(size)
        if size not in STAMP_SIZES:
            raise SimsConfigError(f"stamp size {size} is not one of {STAMP_SIZES}")
        members = np.flatnonzero(sizes == size)
        kernels = _padded_kernels(psf, size)
        kx = 2 * np.pi * np.fft.rfftfreq(size)[None, :]
        ky = 2 * np.pi * np.fft.fftfreq(size)[:, None]
        per_chunk = max(1, chunk_pixels // (size * size))
        offsets = np.arange(size) - size // 2
        for start in range(0, members.size, per_chunk):
            sel = members[start : start + per_chunk]
            ix, iy = np.rint(x[sel]).astype(np.int64), np.rint(y[sel]).astype(np.int64)
            dx, dy = x[sel] - ix + size // 2, y[sel] - iy + size // 2
            idx, w = psf.weights(x[sel], y[sel])
            ft = w[:, 0, None, None] * kernels[idx[:, 0]]
            for j in range(1, 4):
                ft += w[:, j, None, None] * kernels[idx[:, j]]
            # Sub-pixel shift, separable: exp(-i kx dx) exp(-i ky dy), with the flux folded in.
            ft *= (flux[sel, None, None] * np.exp(-1j * kx * dx[:, None, None])) * np.exp(-1j * ky * dy[:, None, None])
            if components:
                obj = components[0].transform(kx, ky, sel)
                for comp in components[1:]:
                    obj = obj + comp.transform(kx, ky, sel)
                ft *= obj
            if trail is not None:
                t = trail[sel]
                phase = 0.5 * (kx * t[:, 0, None, None] + ky * t[:, 1, None, None])
                ft *= np.sinc(phase / np.pi)
            stamps = np.fft.irfft2(ft, s=(size, size), axes=(-2, -1))
            rows = iy[:, None] + offsets[None, :]
            cols = ix[:, None] + offsets[None, :]
            inside = ((rows >= 0) & (rows < ny))[:, :, None] & ((cols >= 0) & (cols < nx))[:, None, :]
            flat = rows[:, :, None] * nx + cols[:, None, :]
            np.add.at(flat_image, flat[inside], stamps[inside])


def _padded_kernels(psf: DetectorPsf, size: int) -> NDArray[np.complex128]:
    """Node PSF transforms at ``size``: cropped when smaller than the node stamps, zero-padded when larger."""
    if size <= psf.size:
        return psf.kernel_ft(size)
    pad = (size - psf.size) // 2
    big = np.pad(psf.images, ((0, 0), (pad, pad), (pad, pad)))
    return np.fft.rfft2(np.fft.ifftshift(big, axes=(-2, -1)), axes=(-2, -1))


def trail_extent(trail: NDArray[np.float64]) -> NDArray[np.float64]:
    """Half length (pixels) of each trail."""
    return 0.5 * np.hypot(trail[:, 0], trail[:, 1])


def galaxy_radius(hlr: ArrayLike, q: ArrayLike, pixel_scale: float, n_hlr: float = BULGE_TRUNCATION) -> NDArray:
    """Semi-major extent (pixels) holding nearly all the light: ``n_hlr`` half-light radii along the major axis."""
    return n_hlr * np.asarray(hlr, float) / np.sqrt(np.asarray(q, float)) / pixel_scale
