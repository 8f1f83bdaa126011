"""World coordinate systems: `SkyWcs` maps pixels to the sky (TAN, TAN-SIP; TPV read).

Pixel positions are 0-based with pixel centres at integers (a FITS CRPIX is our crpix + 1).
A `SkyWcs` is an astropy APE 14 WCS, so astropy, reproject and photutils accept it as is.

Not lifted: ``_reference`` (the pure-numpy reference of the compiled kernels, for tests and
benchmarks: ``osprey.afw.wcs._reference``), ``_poly`` and ``_fits`` (helpers).
"""

from ._camera import make_camera_wcs
from ._errors import WcsError
from ._skywcs import FunctionPixelTransform, PixelTransform, SkyWcs

__all__ = ["FunctionPixelTransform", "PixelTransform", "SkyWcs", "WcsError", "make_camera_wcs"]
