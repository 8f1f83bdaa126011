"""The astropy shared WCS interface (APE 14) for `SkyWcs`: low-level values and high-level objects.

`SkyWcs` derives from `Ape14Mixin`, so it *is* an `astropy.wcs.wcsapi.BaseLowLevelWCS`
and also offers the high-level API (``pixel_to_world`` returning a `SkyCoord`). Pixel
coordinates are 0-based with pixel centres at integers in both APE 14 and Osprey, so no
offset is applied.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from astropy.wcs.wcsapi import BaseLowLevelWCS, HighLevelWCSMixin
from numpy.typing import NDArray

__all__ = ["Ape14Mixin"]


class Ape14Mixin(BaseLowLevelWCS, HighLevelWCSMixin):
    """APE 14 low- and high-level API on top of ``pixel_to_sky_array``/``sky_to_pixel_array``.

    Subclasses provide those two methods (radians) and the ``radesys``/``equinox``
    properties that select the astropy frame.
    """

    # Provided by the subclass: pixel_to_sky_array, sky_to_pixel_array (radians), and:
    radesys: str
    equinox: float | None

    # -- low-level API -----------------------------------------------------------------------
    @property
    def pixel_n_dim(self) -> int:
        return 2

    @property
    def world_n_dim(self) -> int:
        return 2

    @property
    def world_axis_physical_types(self) -> list[str]:
        return ["pos.eq.ra", "pos.eq.dec"]

    @property
    def world_axis_units(self) -> list[str]:
        return ["deg", "deg"]

    @property
    def world_axis_names(self) -> list[str]:
        return ["Right Ascension", "Declination"]

    @property
    def pixel_axis_names(self) -> list[str]:
        return ["x", "y"]

    @property
    def axis_correlation_matrix(self) -> NDArray[np.bool_]:
        return np.ones((2, 2), dtype=bool)

    @property
    def pixel_shape(self) -> None:
        """Not known: a SkyWcs is not tied to an image size (the same WCS serves every cut-out)."""
        return None

    @property
    def pixel_bounds(self) -> None:
        return None

    @property
    def serialized_classes(self) -> bool:
        return False

    def pixel_to_world_values(self, *pixel_arrays: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(x, y)`` pixels (0-based, any broadcastable shapes) -> ``(ra, dec)`` in degrees."""
        x, y = pixel_arrays
        ra, dec = self.pixel_to_sky_array(x, y)
        return np.degrees(ra), np.degrees(dec)

    def world_to_pixel_values(self, *world_arrays: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(ra, dec)`` in degrees -> ``(x, y)`` pixels (0-based); NaN where not representable."""
        ra, dec = world_arrays
        return self.sky_to_pixel_array(np.radians(ra), np.radians(dec))

    @property
    def world_axis_object_components(self) -> list[tuple[str, int, str]]:
        return [("celestial", 0, "spherical.lon.degree"), ("celestial", 1, "spherical.lat.degree")]

    @property
    def world_axis_object_classes(self) -> dict[str, tuple[Any, tuple, dict[str, Any]]]:
        from astropy import units as u
        from astropy.coordinates import FK4, FK5, ICRS, FK4NoETerms, SkyCoord
        from astropy.time import Time

        if self.radesys == "ICRS":
            frame: Any = ICRS()
        elif self.radesys == "FK5":
            frame = FK5(equinox=Time(self.equinox, format="jyear"))
        elif self.radesys == "FK4":
            frame = FK4(equinox=Time(self.equinox, format="byear"))
        else:
            frame = FK4NoETerms(equinox=Time(self.equinox, format="byear"))
        return {"celestial": (SkyCoord, (), {"frame": frame, "unit": u.deg})}

    # -- high-level API (from HighLevelWCSMixin): pixel_to_world, world_to_pixel, ... -------
    @property
    def low_level_wcs(self) -> Ape14Mixin:
        return self
