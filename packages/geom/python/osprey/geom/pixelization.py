"""The abstract interface shared by every sky pixelization (HTM, HEALPix).

A pixelization divides the unit sphere into pixels, each named by a non-negative
integer index. Sets of pixels are returned as `~osprey.geom.rangeset.RangeSet`
objects (sorted half-open ``[begin, end)`` integer ranges), which keeps large
contiguous areas cheap.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from .rangeset import RangeSet
    from .regions import Region
    from .sphere import SpherePoint

__all__ = ["Pixelization"]


class Pixelization(ABC):
    """A hierarchical division of the sphere into indexed pixels at one ``level``.

    Subclasses implement the vectorised `index`, `envelope`, `interior`,
    `universe` and `pixel`; `index_point` is shared.
    """

    @property
    @abstractmethod
    def level(self) -> int:
        """The subdivision level of this pixelization (an `int`)."""

    @abstractmethod
    def index(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.integer]:
        """Return the index of the pixel containing each position.

        Parameters
        ----------
        lon, lat : array_like
            Longitude and latitude in radians, broadcast against each other;
            must be finite.

        Returns
        -------
        index : `numpy.ndarray`
            Integer pixel indices, with the broadcast shape of the inputs.
        """

    def index_point(self, point: SpherePoint) -> int:
        """Return the index of the pixel containing one `SpherePoint`."""
        lon = point.longitude.as_radians()
        lat = point.latitude.as_radians()
        return int(self.index(np.array([lon]), np.array([lat]))[0])

    @abstractmethod
    def envelope(self, region: Region, max_ranges: int = 0) -> RangeSet:
        """Return pixels that might intersect ``region``.

        Every pixel containing a point of the region is included (the result may
        also hold pixels that only come close). ``max_ranges > 0`` coarsens the
        result to at most that many ranges, growing it; 0 means no limit.
        """

    @abstractmethod
    def interior(self, region: Region, max_ranges: int = 0) -> RangeSet:
        """Return pixels lying entirely inside ``region``.

        ``max_ranges > 0`` limits the number of ranges, shrinking the result
        (it stays a subset of the exact interior); 0 means no limit.
        """

    @abstractmethod
    def universe(self) -> RangeSet:
        """Return the set of all valid pixel indices at this level."""

    @abstractmethod
    def pixel(self, i: int) -> Region:
        """Return the region covered by pixel ``i``."""
