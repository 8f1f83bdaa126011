"""Osprey geometry: planar and spherical types, regions, pixelizations and skymaps.

Planar types follow the LSST convention that pixel centres sit at integer coordinates and
integer boxes are inclusive-min, exclusive-max. Spherical code works on unit vectors with
C++ kernels; every vectorised function takes and returns numpy arrays in radians.
"""

from importlib.metadata import version as _version

from osprey.utils.native import include_dir as _include_dir

from .cartesian import Box2D, Box2I, Extent2D, Extent2I, Point2D, Point2I
from .errors import GeomError, GeomValueError, RegionDecodeError
from .transforms import AffineTransform, LinearTransform

__version__ = _version("osprey-geom")


def get_include() -> str:
    """Directory of the public C++ headers (``osprey/geom/*.h``), for other packages' meson.build."""
    return _include_dir(__name__)


__all__ = [
    "AffineTransform",
    "Box2D",
    "Box2I",
    "Extent2D",
    "Extent2I",
    "GeomError",
    "GeomValueError",
    "LinearTransform",
    "Point2D",
    "Point2I",
    "RegionDecodeError",
    "__version__",
    "get_include",
]
