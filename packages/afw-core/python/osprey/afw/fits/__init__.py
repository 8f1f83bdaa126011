"""Exposures, masked images, images and masks as multi-extension FITS files.

`write_exposure` stores the pixels as IMAGE, MASK and VARIANCE HDUs and every attached
object (WCS, PSF, photometric calibration, visit info...) as a one-row JSON binary table
named after its `ExposureInfo` field; `read_exposure` reads it back, a sub-region
(``bbox=``) without reading the rest, and also reads LSST afw exposure files.
`read_component` reads one part (a WCS, the metadata, the bbox...) without any pixels.
Writes are atomic, compression is lossless, and problems with a file raise `FitsError`
naming the file and HDU. The layout is documented in ``_layout`` and ``_components``.

Not lifted: ``_layout`` (keyword names and header builders), ``_components`` (the JSON
codec of attached objects), ``_Reader``.
"""

from ._errors import FitsError
from ._layout import FORMAT_VERSION
from ._read import READABLE_COMPONENTS, read_component, read_exposure, read_image, read_mask, read_masked_image
from ._write import COMPRESSION_CHOICES, write_exposure, write_image, write_mask, write_masked_image

__all__ = [
    "COMPRESSION_CHOICES",
    "FORMAT_VERSION",
    "READABLE_COMPONENTS",
    "FitsError",
    "read_component",
    "read_exposure",
    "read_image",
    "read_mask",
    "read_masked_image",
    "write_exposure",
    "write_image",
    "write_mask",
    "write_masked_image",
]
