"""Writing `Exposure`, `MaskedImage`, `Image` and `Mask` objects as multi-extension FITS files.

Uncompressed files are streamed by this module: astropy builds and verifies every
header, and the pixels go to disk through a small reusable big-endian buffer, so the
caller's arrays are neither copied whole nor modified (astropy's own writer byteswaps
native arrays in place while writing them, which a concurrent reader would see).
Tile-compressed files are written by astropy's `~astropy.io.fits.CompImageHDU`.
Either way the bytes go to a temporary file in the destination directory that is
renamed over the target with `os.replace` only once complete: a failed write leaves
the target as it was and no partial file behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import uuid
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
from astropy.io import fits
from numpy.typing import NDArray

from osprey.geom import Point2I

from ..errors import AfwValueError
from ..image import Exposure, Image, Mask, MaskedImage
from ..metadata import PropertyList
from ..wcs import SkyWcs
from ._components import COMPONENT_FIELDS, encode_component
from ._errors import FitsError
from ._layout import (
    COMPONENT_EXTTYPE,
    KEY_TYPE,
    PAYLOAD_COLUMN,
    format_card,
    header_block,
    plane_header,
    primary_header,
)

__all__ = ["COMPRESSION_CHOICES", "write_exposure", "write_image", "write_mask", "write_masked_image"]

COMPRESSION_CHOICES = (None, "rice", "gzip")
"""Accepted ``compression`` values; all of them are lossless (see `write_exposure`)."""

_BLOCK = 2880
_CHUNK_BYTES = 1 << 22  # 4 MiB conversion buffer: stays in cache, no large allocation


@dataclasses.dataclass
class _Plane:
    role: str
    array: NDArray[Any]
    cards: list[str]  # card images after the structural ones (see plane_header)


@dataclasses.dataclass
class _Table:
    extname: str
    type_name: str
    payload: bytes


def _check_compression(compression: str | None) -> None:
    if compression not in COMPRESSION_CHOICES:
        raise AfwValueError(f"compression must be one of {COMPRESSION_CHOICES}, got {compression!r}")


def _algorithm(compression: str, dtype: np.dtype[Any]) -> str:
    """Tile-compression algorithm for a plane: always lossless.

    Floats use GZIP_2 (byte-shuffled gzip of the IEEE bits, no quantization); integers
    use RICE_1 for ``"rice"`` (GZIP_2 for 64-bit integers, which Rice cannot hold) and
    GZIP_2 for ``"gzip"``.
    """
    if dtype.kind == "f" or compression == "gzip" or dtype.itemsize > 4:
        return "GZIP_2"
    return "RICE_1"


def _check_plane(role: str, array: NDArray[Any]) -> None:
    if array.ndim != 2 or array.size == 0:
        raise AfwValueError(f"cannot write an empty {role} plane of shape {array.shape}")


def _wcs_cards(wcs: Any, xy0: Point2I, path: str) -> fits.Header:
    """FITS-WCS cards of a parent-frame `SkyWcs` for a pixel grid starting at ``xy0``
    (none for other WCS types, which are only stored as a component table)."""
    if not isinstance(wcs, SkyWcs):
        return fits.Header()
    local = wcs.copy_at_shifted_pixel_origin((-xy0.x, -xy0.y)) if (xy0.x or xy0.y) else wcs
    try:
        return local.to_fits_header().to_fits_header()
    except AfwValueError as err:
        raise FitsError(f"{path}: the WCS cannot be written as FITS-WCS cards: {err}") from err


def _units_cards(units: str | None) -> fits.Header:
    header = fits.Header()
    if units:
        header["BUNIT"] = (units, "unit of the pixel values")
    return header


def _plane_parts(masked_image: MaskedImage, wcs_cards: fits.Header) -> list[_Plane]:
    xy0 = masked_image.xy0
    mp_cards = masked_image.mask.to_fits_keywords().to_fits_header()
    planes = [
        _Plane(
            "IMAGE", masked_image.image.array, plane_header("IMAGE", xy0, wcs_cards, _units_cards(masked_image.units))
        ),
        _Plane("MASK", masked_image.mask.array, plane_header("MASK", xy0, wcs_cards, mp_cards)),
        _Plane("VARIANCE", masked_image.variance.array, plane_header("VARIANCE", xy0, wcs_cards)),
    ]
    for plane in planes:
        _check_plane(plane.role, plane.array)
    return planes


# -- byte streaming ------------------------------------------------------------------------
def _pad(f: IO[bytes], nbytes: int) -> None:
    rest = -nbytes % _BLOCK
    if rest:
        f.write(b"\0" * rest)


_BITPIX = {"f4": -32, "f8": -64, "i2": 16, "u2": 16, "i4": 32, "i8": 64, "u1": 8}


def _image_header(plane: _Plane) -> bytes:
    """Header block of an uncompressed image extension holding ``plane.array``."""
    dtype = plane.array.dtype
    code = f"{dtype.kind}{dtype.itemsize}"
    if code not in _BITPIX:
        raise AfwValueError(f"{plane.role} pixels of type {dtype} cannot be written to FITS")
    ny, nx = plane.array.shape
    images = [
        format_card("XTENSION", "IMAGE", "image extension"),
        format_card("BITPIX", _BITPIX[code], "array data type"),
        format_card("NAXIS", 2, "number of array dimensions"),
        format_card("NAXIS1", nx, "columns"),
        format_card("NAXIS2", ny, "rows"),
        format_card("PCOUNT", 0),
        format_card("GCOUNT", 1),
    ]
    if code == "u2":
        images.append(format_card("BSCALE", 1))
        images.append(format_card("BZERO", 32768, "unsigned 16-bit pixels stored as signed"))
    return header_block(images + plane.cards)


def _table_cards(table: _Table) -> list[str]:
    """Card images of a component table after its structural cards."""
    return [
        format_card("TTYPE1", PAYLOAD_COLUMN, "JSON text of the stored object"),
        format_card("TFORM1", f"{len(table.payload)}A"),
        format_card("EXTNAME", table.extname, "ExposureInfo field"),
        format_card("EXTTYPE", COMPONENT_EXTTYPE, "attached object, JSON in column PAYLOAD"),
        format_card(KEY_TYPE, table.type_name, "class of the stored object"),
    ]


def _table_header(table: _Table) -> bytes:
    structural = [
        format_card("XTENSION", "BINTABLE", "binary table extension"),
        format_card("BITPIX", 8, "array data type"),
        format_card("NAXIS", 2, "number of array dimensions"),
        format_card("NAXIS1", len(table.payload), "bytes per row"),
        format_card("NAXIS2", 1, "rows"),
        format_card("PCOUNT", 0),
        format_card("GCOUNT", 1),
        format_card("TFIELDS", 1, "columns"),
    ]
    return header_block(structural + _table_cards(table))


def _write_pixels(f: IO[bytes], array: NDArray[Any]) -> None:
    """Write ``array`` as FITS big-endian data through a reusable chunk buffer, then pad."""
    unsigned16 = array.dtype == np.uint16  # stored as int16 with BZERO = 32768: flip bit 15
    big = np.dtype(np.int16 if unsigned16 else array.dtype).newbyteorder(">")
    ny, nx = array.shape
    rows = max(1, _CHUNK_BYTES // max(1, nx * big.itemsize))
    buf = np.empty((min(rows, ny), nx), dtype=big)
    for y in range(0, ny, rows):
        part = array[y : y + rows]
        out = buf[: part.shape[0]]
        if unsigned16:
            np.copyto(out, (part ^ np.uint16(0x8000)).view(np.int16))
        else:
            np.copyto(out, part)
        f.write(memoryview(out).cast("B"))
    _pad(f, array.size * big.itemsize)


def _stream(f: IO[bytes], primary: list[str], planes: list[_Plane], tables: list[_Table]) -> None:
    f.write(header_block(primary))
    for plane in planes:
        f.write(_image_header(plane))
        _write_pixels(f, plane.array)
    for table in tables:
        f.write(_table_header(table))
        f.write(table.payload)
        _pad(f, len(table.payload))


def _compressed(compression: str, primary: list[str], planes: list[_Plane], tables: list[_Table]) -> fits.HDUList:
    hdus: list[Any] = [fits.PrimaryHDU(header=fits.Header.fromstring("".join(primary)))]
    for plane in planes:
        hdus.append(
            fits.CompImageHDU(
                data=np.ascontiguousarray(plane.array),
                header=fits.Header.fromstring("".join(plane.cards)),
                name=plane.role,
                compression_type=_algorithm(compression, plane.array.dtype),
                quantize_level=0.0,  # no quantization: float pixels are stored bit for bit
            )
        )
    for table in tables:
        column = fits.Column(name=PAYLOAD_COLUMN, format=f"{len(table.payload)}A", array=np.array([table.payload]))
        hdu = fits.BinTableHDU.from_columns([column], name=table.extname)
        hdu.header.extend(fits.Header.fromstring("".join(_table_cards(table)[3:])).cards, end=True)
        hdus.append(hdu)
    return fits.HDUList(hdus)


# -- atomic file creation ------------------------------------------------------------------
@contextlib.contextmanager
def _atomic_file(path: str) -> Iterator[IO[bytes]]:
    """Yield a new temporary file beside ``path``; rename it over ``path`` if the body succeeds.

    The temporary file is created with mode 0o666 minus the umask, like any new file,
    and is removed on any failure (including KeyboardInterrupt).
    """
    directory, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{base}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write(
    path: str | os.PathLike[str],
    primary: list[str],
    planes: list[_Plane],
    tables: list[_Table],
    compression: str | None,
) -> None:
    target = os.fspath(path)
    hdul = None if compression is None else _compressed(compression, primary, planes, tables)
    try:
        with _atomic_file(target) as f:
            if hdul is None:
                _stream(f, primary, planes, tables)
            else:
                hdul.writeto(f, output_verify="exception")
    except AfwValueError:
        raise
    except (fits.VerifyError, ValueError) as err:
        raise FitsError(f"{target}: cannot be written: {err}") from err


# -- public API ----------------------------------------------------------------------------
def write_exposure(path: str | os.PathLike[str], exposure: Exposure, *, compression: str | None = None) -> None:
    """Write an `Exposure`: pixels, metadata and every attached object, atomically.

    Layout: a data-less primary HDU with the metadata cards and ``OSPREY_FORMAT_VERSION``;
    IMAGE, MASK and VARIANCE image HDUs (``EXTNAME``/``EXTTYPE``, ``LTV1/2 = -xy0``, afw's
    "A" pixel WCS, ``MP_<NAME>`` cards on MASK, ``BUNIT`` on IMAGE, and the `SkyWcs` as
    FITS-WCS cards of each HDU's own pixel grid); then one JSON binary table per
    non-``None`` component (WCS, PSF, PHOTO_CALIB, VISIT_INFO, FILTER_LABEL, DETECTOR,
    AP_CORR_MAP, VALID_POLYGON, SUMMARY_STATS), see `osprey.afw.fits`.

    Parameters
    ----------
    path : str or path-like
        Destination; replaced atomically (a failure leaves it untouched).
    exposure : `Exposure`
        What to write; its arrays are not modified or copied whole.
    compression : {None, "rice", "gzip"}
        Lossless tile compression (one tile per image row): float planes always use
        GZIP_2 without quantization (bit-exact, NaN and -0.0 included); integer planes
        use RICE_1 (``"rice"``) or GZIP_2 (``"gzip"``). ``None`` writes plain image HDUs.

    Raises
    ------
    AfwValueError
        For a bad ``compression``, an empty plane, or an attached object that cannot be
        persisted (the message names the field); nothing is written then.
    FitsError
        If astropy refuses a header card (e.g. a metadata value FITS cannot hold).
    OSError
        From the file system (missing directory, permissions, full disk).
    """
    _check_compression(compression)
    target = os.fspath(path)
    info = exposure.info
    wcs_cards = _wcs_cards(info.wcs, exposure.xy0, target)
    planes = _plane_parts(exposure.masked_image, wcs_cards)
    tables = []
    for field in COMPONENT_FIELDS:
        obj = getattr(info, field)
        if obj is not None:
            name, payload = encode_component(field, obj)
            tables.append(_Table(field.upper(), name, payload))
    primary = primary_header(info.metadata, "Exposure", info.id)
    _write(target, primary, planes, tables, compression)


def write_masked_image(
    path: str | os.PathLike[str],
    masked_image: MaskedImage,
    *,
    metadata: PropertyList | None = None,
    compression: str | None = None,
) -> None:
    """Write a `MaskedImage` (IMAGE, MASK, VARIANCE HDUs) with optional primary ``metadata``;
    the layout and ``compression`` are those of `write_exposure`."""
    _check_compression(compression)
    planes = _plane_parts(masked_image, fits.Header())
    _write(path, primary_header(metadata, "MaskedImage"), planes, [], compression)


def write_image(
    path: str | os.PathLike[str],
    image: Image,
    *,
    metadata: PropertyList | None = None,
    compression: str | None = None,
) -> None:
    """Write an `Image` of any `IMAGE_DTYPES` pixel type as one IMAGE HDU (uint16 uses the
    FITS ``BZERO = 32768`` convention); see `write_exposure` for the rest."""
    _check_compression(compression)
    _check_plane("IMAGE", image.array)
    plane = _Plane("IMAGE", image.array, plane_header("IMAGE", image.xy0, _units_cards(image.units)))
    _write(path, primary_header(metadata, "Image"), [plane], [], compression)


def write_mask(
    path: str | os.PathLike[str],
    mask: Mask,
    *,
    metadata: PropertyList | None = None,
    compression: str | None = None,
) -> None:
    """Write a `Mask` as one int32 MASK HDU with its ``MP_<NAME> = bit`` cards; see `write_exposure`."""
    _check_compression(compression)
    _check_plane("MASK", mask.array)
    plane = _Plane("MASK", mask.array, plane_header("MASK", mask.xy0, mask.to_fits_keywords().to_fits_header()))
    _write(path, primary_header(metadata, "Mask"), [plane], [], compression)
