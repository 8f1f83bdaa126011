"""The spatially varying PSF: a Kolmogorov (or Moffat) atmosphere convolved with the telescope's
diffraction pattern and field-dependent aberrations, drawn with GalSim.

`FieldPsf` describes one exposure's PSF over the whole field of view (field angles from the
boresight, degrees). `DetectorPsf` samples it on a grid of nodes over one detector, each node
drawn once with GalSim (pixel response included, through the detector's local pixel ->
field-angle Jacobian, so the camera's distortion shapes the PSF too). Anywhere on the detector
the PSF is the bilinear interpolation of the node images, which `DetectorPsf.image_at` returns
and the renderer uses in Fourier space.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field

from .errors import SimsConfigError

__all__ = ["DetectorPsf", "FieldPsf", "PsfConfig", "local_jacobians"]

_ARCSEC_PER_RAD = 180.0 / math.pi * 3600.0
_REFERENCE_WAVELENGTH = 500.0  # nm, where the seeing FWHM is quoted


class PsfConfig(BaseModel):
    """PSF model settings; aberrations in nm of wavefront (GalSim converts to waves at the band)."""

    model_config = ConfigDict(extra="forbid")

    atmosphere: Literal["kolmogorov", "moffat"] = "kolmogorov"
    moffat_beta: float = Field(3.5, gt=1.5)
    shear_rms: float = Field(0.015, ge=0, description="rms atmospheric shear per component at the boresight")
    shear_gradient_rms: float = Field(0.005, ge=0, description="rms change of shear per degree of field angle")
    optics: bool = True
    defocus_center: float = Field(25.0, description="nm, Z4 on axis")
    defocus_edge: float = Field(60.0, description="nm, extra Z4 at the field edge (∝ r²)")
    astigmatism_edge: float = Field(60.0, description="nm, Z5/Z6 at the field edge (∝ r², along 2φ)")
    coma_edge: float = Field(45.0, description="nm, Z7/Z8 at the field edge (∝ r, along φ)")
    spherical: float = Field(15.0, description="nm, Z11 everywhere")
    optics_oversampling: float = Field(
        1.0, gt=0, description="GalSim OpticalPSF pupil oversampling (1 is exact to 1e-5 once convolved with seeing)"
    )
    optics_pad_factor: float = Field(1.0, gt=0, description="GalSim OpticalPSF pupil padding")
    grid: int = Field(3, ge=1, le=9, description="PSF nodes per detector axis")
    stamp_size: int = Field(128, ge=16, description="node image size in pixels (the largest star stamp); even")


class FieldPsf:
    """One exposure's PSF as a function of field angle.

    Parameters
    ----------
    config : `PsfConfig`
    fwhm : `float`
        Atmospheric FWHM at zenith and 500 nm, arcsec (the "seeing").
    airmass : `float`
    wavelength : `float`
        Band's effective wavelength, nm.
    diameter, obscuration : `float`
        Telescope aperture (m) and linear central obscuration.
    field_radius : `float`
        Field-angle radius (degrees) at which the ``*_edge`` aberrations are reached.
    rng : `numpy.random.Generator`
        Draws this exposure's atmospheric shear pattern.
    """

    def __init__(
        self,
        config: PsfConfig,
        fwhm: float,
        airmass: float,
        wavelength: float,
        diameter: float,
        obscuration: float,
        field_radius: float,
        rng: np.random.Generator,
    ) -> None:
        if not fwhm > 0:
            raise SimsConfigError(f"seeing FWHM must be > 0 arcsec, got {fwhm!r}")
        if not airmass >= 1.0:
            raise SimsConfigError(f"airmass must be >= 1, got {airmass!r}")
        self.config = config
        self.airmass = float(airmass)
        self.wavelength = float(wavelength)
        self.diameter = float(diameter)
        self.obscuration = float(obscuration)
        self.field_radius = float(field_radius)
        self.atmospheric_fwhm = float(fwhm) * airmass**0.6 * (wavelength / _REFERENCE_WAVELENGTH) ** -0.2
        self.shear = rng.normal(0.0, config.shear_rms, 2)
        self.shear_gradient = rng.normal(0.0, config.shear_gradient_rms, (2, 2))

    def aberrations(self, fx: float, fy: float) -> list[float]:
        """Noll-indexed Zernike coefficients (waves) at field angle (fx, fy) degrees; index 0 unused."""
        c = self.config
        r = math.hypot(fx, fy) / self.field_radius
        phi = math.atan2(fy, fx)
        nm = [0.0] * 12
        nm[4] = c.defocus_center + c.defocus_edge * r * r
        nm[5] = c.astigmatism_edge * r * r * math.cos(2 * phi)
        nm[6] = c.astigmatism_edge * r * r * math.sin(2 * phi)
        nm[7] = c.coma_edge * r * math.sin(phi)
        nm[8] = c.coma_edge * r * math.cos(phi)
        nm[11] = c.spherical
        return [v / self.wavelength for v in nm]

    def profile(self, fx: float, fy: float):
        """The GalSim profile (arcsec, field-angle axes) at field angle (fx, fy) degrees."""
        import galsim

        c = self.config
        if c.atmosphere == "kolmogorov":
            atm = galsim.Kolmogorov(fwhm=self.atmospheric_fwhm)
        else:
            atm = galsim.Moffat(beta=c.moffat_beta, fwhm=self.atmospheric_fwhm)
        g = self.shear + self.shear_gradient @ np.array([fx, fy])
        g = g * min(1.0, 0.5 / max(float(np.hypot(*g)), 1e-12))  # keep |g| < 0.5 whatever the draw
        atm = atm.shear(g1=float(g[0]), g2=float(g[1]))
        if not c.optics:
            return atm
        optics = galsim.OpticalPSF(
            lam=self.wavelength,
            diam=self.diameter,
            obscuration=self.obscuration,
            aberrations=self.aberrations(fx, fy),
            oversampling=c.optics_oversampling,
            pad_factor=c.optics_pad_factor,
        )
        return galsim.Convolve(atm, optics)


def local_jacobians(transform, x: ArrayLike, y: ArrayLike, step: float = 0.5) -> NDArray[np.float64]:
    """Jacobians ``d(u, v)/d(x, y)`` (shape (n, 2, 2)) of a vectorised map ``(x, y) -> (u, v)``.

    ``transform`` takes an (n, 2) array and returns an (n, 2) array; central differences of
    ``step`` pixels.
    """
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    pts = np.concatenate(
        [
            np.stack([x + step, y], -1),
            np.stack([x - step, y], -1),
            np.stack([x, y + step], -1),
            np.stack([x, y - step], -1),
        ]
    )
    out = np.asarray(transform(pts)).reshape(4, x.size, 2)
    jac = np.empty((x.size, 2, 2))
    jac[:, :, 0] = (out[0] - out[1]) / (2 * step)
    jac[:, :, 1] = (out[2] - out[3]) / (2 * step)
    return jac


class DetectorPsf:
    """A `FieldPsf` sampled on a grid of nodes over one detector (assembled pixels).

    Parameters
    ----------
    field_psf : `FieldPsf`
    detector : `osprey.afw.camera_geom.Detector`
        Must carry its camera's field-angle mapping.
    """

    def __init__(self, field_psf: FieldPsf, detector) -> None:
        import galsim

        cfg = field_psf.config
        size = int(cfg.stamp_size)
        if size % 2:
            raise SimsConfigError(f"PsfConfig.stamp_size must be even, got {size}")
        self.size = size
        self.detector = detector
        box = detector.bbox
        n = cfg.grid
        # Nodes at the centres of an n x n tiling of the detector.
        self.node_x = box.x0 + (np.arange(n) + 0.5) * box.width / n - 0.5
        self.node_y = box.y0 + (np.arange(n) + 0.5) * box.height / n - 0.5
        gx, gy = np.meshgrid(self.node_x, self.node_y)
        pix = np.stack([gx.ravel(), gy.ravel()], -1)
        fa = np.degrees(detector.transform(pix, "PIXELS", "FIELD_ANGLE"))

        def to_arcsec(p: NDArray[np.float64]) -> NDArray[np.float64]:
            return detector.transform(p, "PIXELS", "FIELD_ANGLE") * _ARCSEC_PER_RAD

        jacs = local_jacobians(to_arcsec, pix[:, 0], pix[:, 1])
        images = np.empty((pix.shape[0], size, size))
        centre = galsim.PositionD(size // 2 + 1, size // 2 + 1)  # array index size // 2
        for i in range(pix.shape[0]):  # one GalSim draw per node (a handful per detector)
            j = jacs[i]
            wcs = galsim.JacobianWCS(j[0, 0], j[0, 1], j[1, 0], j[1, 1])
            img = galsim.ImageD(size, size, wcs=wcs)
            field_psf.profile(float(fa[i, 0]), float(fa[i, 1])).drawImage(image=img, center=centre, method="auto")
            images[i] = img.array
        self.images = images
        self.jacobians = jacs
        self.field_angles = fa
        self.pixel_scale = float(np.sqrt(np.abs(np.linalg.det(jacs)).mean()))

    # -- interpolation -------------------------------------------------------------------------
    def weights(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Node indices (n, 4) and bilinear weights (n, 4) for positions (pixels); clamped at the edges."""
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        y = np.atleast_1d(np.asarray(y, dtype=np.float64))
        n = self.node_x.size

        def axis(v: NDArray[np.float64], nodes: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
            if n == 1:
                return np.zeros(v.size, np.intp), np.zeros(v.size)
            t = np.interp(v, nodes, np.arange(n, dtype=np.float64))
            i0 = np.minimum(np.floor(t).astype(np.intp), n - 2)
            return i0, t - i0

        ix, fx = axis(x, self.node_x)
        iy, fy = axis(y, self.node_y)
        ix1 = np.minimum(ix + 1, n - 1)
        iy1 = np.minimum(iy + 1, n - 1)
        idx = np.stack([iy * n + ix, iy * n + ix1, iy1 * n + ix, iy1 * n + ix1], -1)
        w = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], -1)
        return idx, w

    def image_at(self, x: float, y: float, size: int | None = None) -> NDArray[np.float64]:
        """The pixel-integrated PSF centred on array index ``size // 2`` (``[y, x]``), unit total flux
        over the full node stamp (a smaller ``size`` is a crop holding the enclosed fraction).
        """
        idx, w = self.weights([x], [y])
        img = np.tensordot(w[0], self.images[idx[0]], axes=(0, 0))
        return self._crop(img, size or self.size)

    def _crop(self, img: NDArray[np.float64], size: int) -> NDArray[np.float64]:
        if size > self.size or size % 2:
            raise SimsConfigError(f"PSF stamp size must be even and <= {self.size}, got {size}")
        c = self.size // 2
        return img[..., c - size // 2 : c + size // 2, c - size // 2 : c + size // 2]

    @functools.lru_cache(maxsize=16)  # noqa: B019 - one DetectorPsf per exposure and detector
    def kernel_ft(self, size: int) -> NDArray[np.complex128]:
        """``rfft2`` of every node image cropped to ``size``, centred on index (0, 0): (n_nodes, size, size//2+1)."""
        crop = self._crop(self.images, size)
        return np.fft.rfft2(np.fft.ifftshift(crop, axes=(-2, -1)), axes=(-2, -1))

    @functools.lru_cache(maxsize=16)  # noqa: B019
    def edge_level(self, size: int) -> float:
        """Largest fraction of the flux in one pixel on the border of a ``size`` stamp (over all nodes)."""
        crop = self._crop(self.images, size)
        border = np.concatenate([crop[:, 0, :], crop[:, -1, :], crop[:, :, 0], crop[:, :, -1]], axis=1)
        return float(np.abs(border).max())

    def fwhm(self) -> float:
        """FWHM (pixels) of the central node, from the area above half maximum."""
        img = self.images[self.images.shape[0] // 2]
        area = float(np.count_nonzero(img >= 0.5 * img.max()))
        return 2.0 * math.sqrt(area / math.pi)
