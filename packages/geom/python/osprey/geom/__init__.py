"""Osprey geometry: planar and spherical types, regions, pixelizations and skymaps.

Planar types follow the LSST convention that pixel centres sit at integer coordinates and
integer boxes are inclusive-min, exclusive-max. Spherical code works on unit vectors with
C++ kernels; every vectorised function takes and returns numpy arrays in radians.
"""

from importlib.metadata import version as _version

from osprey.utils.native import include_dir as _include_dir

from .angle import Angle, AngleUnit, arcminutes, arcseconds, degrees, hours, radians
from .cartesian import Box2D, Box2I, Extent2D, Extent2I, Point2D, Point2I
from .errors import GeomError, GeomValueError, RegionDecodeError
from .healpix import HealpixPixelization, healpix_nest_to_ring, healpix_ring_to_nest
from .htm import HtmPixelization
from .pixelization import Pixelization
from .rangeset import RangeSet
from .regions import Box, Circle, ConvexPolygon, Region, Relationship
from .skymap import PatchInfo, RingsSkyMap, RingsSkyMapConfig, TractInfo
from .sphere import (
    SpherePoint,
    UnitVector3d,
    bearing,
    lonlat_to_vector,
    offset,
    rotate,
    separation,
    vector_to_lonlat,
)
from .transforms import AffineTransform, LinearTransform

__version__ = _version("osprey-geom")


def get_include() -> str:
    """Directory of the public C++ headers (``osprey/geom/*.h``), for other packages' meson.build."""
    return _include_dir(__name__)


__all__ = [
    "AffineTransform",
    "Angle",
    "AngleUnit",
    "Box",
    "Box2D",
    "Box2I",
    "Circle",
    "ConvexPolygon",
    "Extent2D",
    "Extent2I",
    "GeomError",
    "GeomValueError",
    "HealpixPixelization",
    "HtmPixelization",
    "LinearTransform",
    "PatchInfo",
    "Pixelization",
    "Point2D",
    "Point2I",
    "RangeSet",
    "Region",
    "RegionDecodeError",
    "Relationship",
    "RingsSkyMap",
    "RingsSkyMapConfig",
    "SpherePoint",
    "TractInfo",
    "UnitVector3d",
    "__version__",
    "arcminutes",
    "arcseconds",
    "bearing",
    "degrees",
    "get_include",
    "healpix_nest_to_ring",
    "healpix_ring_to_nest",
    "hours",
    "lonlat_to_vector",
    "offset",
    "radians",
    "rotate",
    "separation",
    "vector_to_lonlat",
]
