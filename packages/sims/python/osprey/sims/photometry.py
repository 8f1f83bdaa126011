"""Photometric model: AB magnitudes, nJy, and expected electrons for a band and telescope.

Every flux in the truth tables is in nJy (AB: ``m = 31.4 - 2.5 log10(f / nJy)``). The
instrumental signal of a source is ``exptime * 10**(-0.4 * (m - zp1 + k * (X - 1)))``
electrons, where ``zp1`` is the magnitude giving one electron per second at airmass 1 and
``k`` the extinction coefficient (mag per airmass). The zero points of the built-in bands
are those of the Rubin system (SMTN-002, 8.36 m, 61% obscuration), scaled by collecting
area for other telescopes.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import SimsConfigError

__all__ = [
    "AB_NJY_ZERO_POINT",
    "Band",
    "Telescope",
    "default_band",
    "mag_to_njy",
    "njy_to_mag",
    "telescope_for",
]

AB_NJY_ZERO_POINT = 31.4
"""AB magnitude of a 1 nJy source."""


def mag_to_njy(mag: ArrayLike) -> NDArray[np.float64]:
    """AB magnitude to flux density in nJy."""
    return np.power(10.0, -0.4 * (np.asarray(mag, dtype=np.float64) - AB_NJY_ZERO_POINT))


def njy_to_mag(flux: ArrayLike) -> NDArray[np.float64]:
    """Flux density in nJy (> 0) to AB magnitude."""
    return AB_NJY_ZERO_POINT - 2.5 * np.log10(np.asarray(flux, dtype=np.float64))


@dataclasses.dataclass(frozen=True)
class Telescope:
    """Aperture of the telescope feeding a camera.

    Attributes
    ----------
    name : `str`
    diameter : `float`
        Primary mirror diameter, metres.
    obscuration : `float`
        Linear central obscuration (fraction of the diameter).
    site : `tuple` of `float`
        (longitude east in degrees, latitude in degrees, height in metres).
    """

    name: str
    diameter: float
    obscuration: float
    site: tuple[float, float, float]

    def __post_init__(self) -> None:
        if not self.diameter > 0:
            raise SimsConfigError(f"telescope {self.name!r}: diameter must be > 0 m, got {self.diameter!r}")
        if not 0 <= self.obscuration < 1:
            raise SimsConfigError(f"telescope {self.name!r}: obscuration must be in [0, 1), got {self.obscuration!r}")

    @property
    def area(self) -> float:
        """Unobscured collecting area, m²."""
        return math.pi / 4 * self.diameter**2 * (1.0 - self.obscuration**2)


_RUBIN_SITE = (-70.749417, -30.244639, 2663.0)
_TELESCOPES = {
    "LSSTCam": Telescope("Simonyi Survey Telescope", 8.36, 0.61, _RUBIN_SITE),
    "LSSTComCam": Telescope("Simonyi Survey Telescope", 8.36, 0.61, _RUBIN_SITE),
    "LATISS": Telescope("Rubin Auxiliary Telescope", 1.2, 0.35, (-70.7476862, -30.2447889, 2663.0)),
    "DECam": Telescope("CTIO 4.0-m telescope", 4.0, 0.39, (-70.81489, -30.16606, 2215.0)),
    "HSC": Telescope("Subaru", 8.2, 0.28, (-155.4764, 19.8256, 4139.0)),
}
_REFERENCE = _TELESCOPES["LSSTCam"]


def telescope_for(instrument: str) -> Telescope:
    """The telescope of a known instrument; any other name gets a generic 4 m telescope."""
    return _TELESCOPES.get(instrument, Telescope(f"{instrument} telescope", 4.0, 0.35, _RUBIN_SITE))


@dataclasses.dataclass(frozen=True)
class Band:
    """Photometric properties of one band.

    Attributes
    ----------
    name : `str`
        Band name (``u g r i z y``).
    wavelength : `float`
        Effective wavelength, nm (sets the PSF's chromatic scaling).
    zero_point : `float`
        AB magnitude giving 1 electron per second at airmass 1 on this telescope.
    sky : `float`
        Dark-sky brightness at zenith, AB mag per arcsec².
    extinction : `float`
        Atmospheric extinction, mag per airmass.
    """

    name: str
    wavelength: float
    zero_point: float
    sky: float
    extinction: float

    def electrons(self, mag: ArrayLike, exptime: float, airmass: float = 1.0) -> NDArray[np.float64]:
        """Expected electrons from sources of AB magnitude ``mag`` in ``exptime`` seconds."""
        m = np.asarray(mag, dtype=np.float64)
        return exptime * np.power(10.0, -0.4 * (m - self.zero_point + self.extinction * (airmass - 1.0)))

    def njy_to_electrons(self, flux: ArrayLike, exptime: float, airmass: float = 1.0) -> NDArray[np.float64]:
        """Expected electrons from sources of flux density ``flux`` (nJy)."""
        f = np.asarray(flux, dtype=np.float64)
        scale = exptime * 10.0 ** (-0.4 * (AB_NJY_ZERO_POINT - self.zero_point + self.extinction * (airmass - 1.0)))
        return f * scale

    def sky_electrons(self, exptime: float, pixel_area: ArrayLike, airmass: float = 1.0) -> NDArray[np.float64]:
        """Sky electrons per pixel of ``pixel_area`` arcsec² (brighter by the airmass, 10% per unit)."""
        brightening = 1.0 + 0.1 * (airmass - 1.0)
        per_arcsec2 = exptime * 10.0 ** (-0.4 * (self.sky - self.zero_point)) * brightening
        return per_arcsec2 * np.asarray(pixel_area, dtype=np.float64)


# Rubin system (SMTN-002): effective wavelength (nm), zero point for 1 e-/s, dark sky, extinction.
_RUBIN_BANDS = {
    "u": (367.0, 26.52, 22.96, 0.47),
    "g": (482.0, 28.51, 22.26, 0.21),
    "r": (622.0, 28.36, 21.20, 0.13),
    "i": (754.0, 28.17, 20.48, 0.10),
    "z": (869.0, 27.78, 19.60, 0.08),
    "y": (971.0, 26.82, 18.61, 0.17),
    "N921": (921.0, 25.50, 19.20, 0.08),
    "VR": (620.0, 29.00, 21.00, 0.13),
}


def default_band(name: str, telescope: Telescope) -> Band:
    """The built-in model of band ``name`` on ``telescope`` (zero point scaled by area).

    Raises
    ------
    SimsConfigError
        If the band has no built-in model; pass a `Band` explicitly for it.
    """
    if name not in _RUBIN_BANDS:
        raise SimsConfigError(
            f"no built-in photometric model for band {name!r} (known: {sorted(_RUBIN_BANDS)}); "
            "give one with SimConfig(bands={name: Band(...)})"
        )
    wavelength, zp, sky, k = _RUBIN_BANDS[name]
    zp += 2.5 * math.log10(telescope.area / _REFERENCE.area)
    return Band(name, wavelength, zp, sky, k)
