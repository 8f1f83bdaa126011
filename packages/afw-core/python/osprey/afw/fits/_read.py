"""Reading Osprey's exposure layout, and LSST afw files, back into `Exposure` and friends.

Pixel HDUs are found by ``EXTTYPE`` (afw) or ``EXTNAME`` (case-insensitive); a file with a
single image in its primary HDU is accepted by `read_image` and `read_mask`. Data are
memory-mapped and copied once into native-byte-order arrays, and the file is closed when
the call returns. astropy's BZERO scaling is bypassed (it would forbid memory mapping)
and the unsigned-integer convention is applied here instead, e.g. for afw's uint16 masks.

A ``bbox`` read touches only what it needs: from an uncompressed HDU astropy's
``hdu.section`` reads the covered rows in one contiguous block, which is then cropped;
from a tile-compressed HDU ``hdu.section`` decompresses only the tiles (one per image
row, as written here) that overlap the box.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import numpy as np
from astropy.io import fits
from numpy.typing import NDArray

from osprey.geom import Box2I, Extent2I, Point2I

from ..errors import AfwError, BoxOutsideImageError
from ..image import IMAGE_DTYPES, Exposure, ExposureInfo, Image, Mask, MaskedImage, MaskPlaneDict
from ..metadata import PropertyList
from ..wcs import SkyWcs
from ._components import COMPONENT_FIELDS, decode_component
from ._errors import FitsError
from ._layout import (
    COMPONENT_EXTTYPE,
    FORMAT_VERSION,
    KEY_EXPOSURE_ID,
    KEY_FORMAT,
    KEY_TYPE,
    PAYLOAD_COLUMN,
    afw_pointer_keys,
    metadata_from_header,
)

__all__ = [
    "READABLE_COMPONENTS",
    "read_component",
    "read_exposure",
    "read_image",
    "read_mask",
    "read_masked_image",
]

_log = logging.getLogger(__name__)

READABLE_COMPONENTS = (
    "metadata",
    "bbox",
    "mask_planes",
    "id",
    *COMPONENT_FIELDS,
    "afw_archive",
)
"""Names accepted by `read_component`."""

_F32 = np.dtype(np.float32)
_MASK_DTYPES = tuple(np.dtype(t) for t in (np.uint8, np.int16, np.uint16, np.int32, np.uint32))
_BITPIX = {8: "u1", 16: "i2", 32: "i4", 64: "i8", -32: "f4", -64: "f8"}
_HEADER_ERRORS = (OSError, ValueError, KeyError, TypeError, IndexError, fits.VerifyError)


def _native_copy(data: NDArray[Any], dtype: np.dtype[Any]) -> NDArray[Any]:
    """Raw FITS pixels as a new native-order array of the logical ``dtype``.

    One pass copies and byteswaps; unsigned types stored with the ``BZERO = 2**(n-1)``
    convention (raw signed values) then get their top bit flipped in place.
    """
    out = np.array(data, dtype=data.dtype.newbyteorder("="))
    if dtype.kind == "u" and out.dtype.kind == "i":
        out = out.view(dtype)
        out ^= dtype.type(1 << (8 * dtype.itemsize - 1))
    return out


class _Reader:
    """An open FITS file with every header loaded and checked; closes on ``__exit__``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.size = os.stat(self.path).st_size  # FileNotFoundError names the path
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self._hdul = fits.open(
                    self.path, memmap=True, lazy_load_hdus=True, mode="readonly", do_not_scale_image_data=True
                )
            except _HEADER_ERRORS as err:
                raise FitsError(f"{self.path}: not a readable FITS file ({err})") from err
            try:
                self.hdus = self._load_headers(caught)
            except BaseException:
                self._hdul.close()
                raise
        for w in caught:  # e.g. astropy fixing a non-standard card of a foreign file
            _log.debug("%s: astropy: %s", self.path, w.message)

    # -- opening ---------------------------------------------------------------------------
    def _load_headers(self, caught: list[warnings.WarningMessage]) -> list[Any]:
        hdus: list[Any] = []
        while True:
            try:
                hdu = self._hdul[len(hdus)]
            except IndexError:
                break
            except _HEADER_ERRORS as err:
                raise FitsError(f"{self.path}: HDU {len(hdus)}: unreadable header ({err})") from err
            hdus.append(hdu)
        if not hdus:
            raise FitsError(f"{self.path}: no HDU could be read; not a FITS file")
        end = 0
        for i, hdu in enumerate(hdus):
            info = hdu.fileinfo()
            need = info["datLoc"] + info["datSpan"]
            if need > self.size:
                raise FitsError(
                    f"{self.where(i, hdu)}: truncated data (the file has {self.size} bytes, "
                    f"the HDU's data end at byte {need})"
                )
            end = need + (-need % 2880)
        if self.size > end:
            with open(self.path, "rb") as f:
                f.seek(end)
                head = f.read(8)
            if head.startswith(b"XTENSION"):
                detail = "; ".join(str(w.message) for w in caught)[:300]
                raise FitsError(f"{self.path}: HDU {len(hdus)}: truncated or corrupt header ({detail})")
            _log.debug("%s: %d bytes after the last HDU ignored", self.path, self.size - end)
        return hdus

    def close(self) -> None:
        self._hdul.close()

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lookup ----------------------------------------------------------------------------
    @staticmethod
    def _names(hdu: Any) -> list[str]:
        """The HDU's EXTNAME and EXTTYPE (afw names planes by EXTTYPE only), upper case."""
        out = []
        for key in ("EXTNAME", "EXTTYPE"):
            try:
                value = hdu.header.get(key)
            except _HEADER_ERRORS:
                value = None
            if isinstance(value, str) and value.strip():
                out.append(value.strip().upper())
        return out

    def where(self, index: int, hdu: Any = None) -> str:
        """``"<path>: HDU <i> (<NAME>)"`` for messages."""
        names = self._names(hdu if hdu is not None else self.hdus[index])
        return f"{self.path}: HDU {index}" + (f" ({names[0]})" if names else "")

    def find(self, role: str) -> int | None:
        for i, hdu in enumerate(self.hdus):
            if i and role in self._names(hdu):
                return i
        return None

    def find_plane(self, role: str, *, primary_fallback: bool = False) -> int:
        index = self.find(role)
        if index is None and primary_fallback and self.hdus[0].header.get("NAXIS") == 2:
            index = 0
        if index is None:
            raise FitsError(f"{self.path}: no {role} HDU")
        return index

    @property
    def primary(self) -> fits.Header:
        return self.hdus[0].header

    def check_version(self) -> None:
        version = self.primary.get(KEY_FORMAT)
        if version is not None and (not isinstance(version, int) or version > FORMAT_VERSION):
            raise FitsError(
                f"{self.path}: written in Osprey FITS layout version {version!r}; this osprey.afw "
                f"reads versions up to {FORMAT_VERSION} (upgrade osprey-afw-core)"
            )

    # -- pixel HDUs ------------------------------------------------------------------------
    def plane_dtype(self, index: int) -> np.dtype[Any]:
        header = self.hdus[index].header
        bitpix, bzero, bscale = header.get("BITPIX"), header.get("BZERO", 0), header.get("BSCALE", 1)
        if bitpix not in _BITPIX:
            raise FitsError(f"{self.where(index)}: invalid BITPIX {bitpix!r}")
        dtype = np.dtype(_BITPIX[bitpix])
        if bscale != 1:
            raise FitsError(f"{self.where(index)}: scaled pixels (BSCALE = {bscale!r}) are not supported")
        if bzero:
            if dtype.kind == "i" and bzero == 2 ** (8 * dtype.itemsize - 1):
                return np.dtype(f"u{dtype.itemsize}")
            raise FitsError(f"{self.where(index)}: offset pixels (BZERO = {bzero!r}) are not supported")
        return dtype

    def plane_geometry(self, index: int) -> Box2I:
        """Parent-frame box of a pixel HDU, from NAXIS1/2 and LTV1/2 (or afw's "A" WCS)."""
        hdu = self.hdus[index]
        if not isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
            raise FitsError(f"{self.where(index)}: is a {type(hdu).__name__}, expected an image")
        header = hdu.header
        if header.get("NAXIS") != 2:
            raise FitsError(f"{self.where(index)}: expected a 2-d image, got NAXIS = {header.get('NAXIS')!r}")
        width, height = header.get("NAXIS1"), header.get("NAXIS2")
        ltv = header.get("LTV1"), header.get("LTV2")
        if ltv == (None, None) and header.get("CTYPE1A") == "LINEAR":
            origin: tuple[Any, Any] = (header.get("CRVAL1A", 0), header.get("CRVAL2A", 0))
        else:
            origin = tuple(-v if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in ltv)
        xy0 = []
        for key, value in zip(("LTV1", "LTV2"), origin, strict=True):
            if value is None:
                value = 0
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
                raise FitsError(f"{self.where(index)}: {key} = {header.get(key)!r} is not an integer pixel offset")
            xy0.append(int(value))
        return Box2I(Point2I(*xy0), Extent2I(width, height))

    def read_plane(
        self, index: int, bbox: Box2I | None, allowed: tuple[np.dtype[Any], ...]
    ) -> tuple[NDArray[Any], Box2I]:
        """Pixels of HDU ``index`` inside ``bbox`` (parent frame; all when None), as a native array."""
        full = self.plane_geometry(index)
        dtype = self.plane_dtype(index)
        if dtype not in allowed:
            raise FitsError(
                f"{self.where(index)}: pixel type {dtype} is not allowed here (expected "
                f"{', '.join(str(d) for d in allowed)})"
            )
        hdu = self.hdus[index]
        try:
            if bbox is None or bbox == full:
                data, box = hdu.data, full
            else:
                if not isinstance(bbox, Box2I):
                    raise FitsError(f"{self.path}: bbox must be a Box2I, got {bbox!r}")
                if not full.contains(bbox):
                    raise BoxOutsideImageError(f"{self.path}: {bbox!r} is not inside the stored image {full!r}")
                rows, cols = bbox.slices_in(full.begin)
                if isinstance(hdu, fits.CompImageHDU):
                    data = hdu.section[rows, cols]  # decompresses only the overlapping tiles
                else:
                    data = hdu.section[rows][:, cols]  # whole rows: one contiguous read, then crop
                box = bbox
            if data is None or data.shape != (box.height, box.width):
                raise FitsError(f"{self.where(index)}: data shape does not match the header")
            return _native_copy(data, dtype), box
        except AfwError:
            raise
        except Exception as err:  # astropy/zlib/numpy failures on a corrupt HDU: one error type
            raise FitsError(f"{self.where(index)}: cannot read pixels ({type(err).__name__}: {err})") from err

    def mask_planes(self, index: int) -> MaskPlaneDict:
        try:
            return MaskPlaneDict.from_fits_keywords(self.hdus[index].header)
        except AfwError as err:
            raise FitsError(f"{self.where(index)}: bad mask plane keyword: {err}") from err

    def units(self, index: int) -> str | None:
        value = self.hdus[index].header.get("BUNIT")
        return value.strip() or None if isinstance(value, str) else None

    # -- non-pixel content -----------------------------------------------------------------
    def metadata(self) -> PropertyList:
        try:
            return metadata_from_header(self.primary)
        except (AfwError, *_HEADER_ERRORS) as err:
            raise FitsError(f"{self.path}: HDU 0: unreadable metadata ({err})") from err

    def exposure_id(self) -> int | None:
        value = self.primary.get(KEY_EXPOSURE_ID)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise FitsError(f"{self.path}: HDU 0: {KEY_EXPOSURE_ID} = {value!r} is not an integer")
        return value

    def component_tables(self) -> dict[str, int]:
        """``{field: HDU index}`` of the component tables (unknown names are logged and skipped)."""
        out = {}
        for i, hdu in enumerate(self.hdus):
            if hdu.header.get("EXTTYPE") != COMPONENT_EXTTYPE:
                continue
            field = str(hdu.header.get("EXTNAME", "")).strip().lower()
            if field in COMPONENT_FIELDS:
                out[field] = i
            else:
                _log.warning("%s: component table %r is not an ExposureInfo field; ignored", self.where(i), field)
        return out

    def component(self, field: str, tables: dict[str, int]) -> Any:
        index = tables.get(field)
        if index is None:
            return self.header_wcs() if field == "wcs" else None
        hdu = self.hdus[index]
        name = hdu.header.get(KEY_TYPE)
        if not isinstance(hdu, fits.BinTableHDU) or not isinstance(name, str):
            raise FitsError(f"{self.where(index)}: a component table needs a binary table with {KEY_TYPE}")
        header = hdu.header
        width = header.get("NAXIS1")
        if (
            header.get("TFIELDS") != 1
            or str(header.get("TTYPE1", "")).strip() != PAYLOAD_COLUMN
            or str(header.get("TFORM1", "")).strip() != f"{width}A"
            or header.get("NAXIS2") != 1
        ):
            raise FitsError(f"{self.where(index)}: expected one row with one text column {PAYLOAD_COLUMN}")
        # One fixed-width text field: read its bytes directly (astropy's table machinery
        # costs milliseconds per table); trailing NULs/blanks are padding.
        with open(self.path, "rb") as f:
            f.seek(hdu.fileinfo()["datLoc"])
            raw = f.read(width)
        try:
            text = raw.rstrip(b"\0 ").decode("ascii")
        except UnicodeDecodeError as err:
            raise FitsError(f"{self.where(index)}: payload is not ASCII text ({err})") from err
        try:
            return decode_component(name, text)
        except AfwError as err:
            raise FitsError(f"{self.where(index)}: {err}") from err

    def header_wcs(self) -> SkyWcs | None:
        """Parent-frame WCS from the IMAGE HDU's FITS-WCS cards (afw files), or None."""
        index = self.find("IMAGE")
        if index is None:
            return None
        header = self.hdus[index].header
        ctype = header.get("CTYPE1")
        if not isinstance(ctype, str) or not ctype.startswith("RA-"):
            return None
        try:
            wcs = SkyWcs.from_fits_header(header)
        except AfwError as err:
            _log.warning("%s: FITS-WCS cards not understood, no WCS attached: %s", self.where(index), err)
            return None
        xy0 = self.plane_geometry(index).begin
        return wcs.copy_at_shifted_pixel_origin((xy0.x, xy0.y)) if (xy0.x or xy0.y) else wcs

    def afw_archive(self) -> list[dict[str, Any]]:
        """Entries of an afw archive (HDUs with EXTTYPE = ARCHIVE_INDEX), one dict per object id."""
        pointers = {}
        for key in afw_pointer_keys():
            value = self.primary.get(key)
            if key != "AR_HDU" and isinstance(value, int):
                pointers.setdefault(value, []).append(key)
        entries: dict[int, dict[str, Any]] = {}
        for i, hdu in enumerate(self.hdus):
            if hdu.header.get("EXTTYPE") != "ARCHIVE_INDEX":
                continue
            try:
                rows = hdu.data
                for row in rows:
                    object_id = int(row["id"])
                    entry = entries.setdefault(
                        object_id,
                        {
                            "id": object_id,
                            "class": str(row["name"]).strip(),
                            "module": str(row["module"]).strip(),
                            "hdus": [],
                            "referenced_by": sorted(pointers.get(object_id, [])),
                        },
                    )
                    entry["hdus"].append(i + int(row["cat.archive"]))
            except Exception as err:
                raise FitsError(f"{self.where(i)}: unreadable afw archive index ({err})") from err
        return [entries[k] for k in sorted(entries)]

    def exposure_info(self) -> ExposureInfo:
        tables = self.component_tables()
        info = ExposureInfo(id=self.exposure_id(), metadata=self.metadata())
        for field in COMPONENT_FIELDS:
            setattr(info, field, self.component(field, tables))
        if self.find("ARCHIVE_INDEX") is not None:
            _log.debug("%s: afw archive present; only its FITS-WCS equivalent is read", self.path)
        return info

    def masked_image(self, bbox: Box2I | None) -> MaskedImage:
        indices = [self.find_plane(role) for role in ("IMAGE", "MASK", "VARIANCE")]
        boxes = [self.plane_geometry(i) for i in indices]
        for i, box in zip(indices[1:], boxes[1:], strict=True):
            if box != boxes[0]:
                raise FitsError(f"{self.where(i)}: bbox {box!r} differs from the IMAGE bbox {boxes[0]!r}")
        image, box = self.read_plane(indices[0], bbox, (_F32,))
        bits, _ = self.read_plane(indices[1], bbox, _MASK_DTYPES)
        variance, _ = self.read_plane(indices[2], bbox, (_F32,))
        planes = self.mask_planes(indices[1])
        return MaskedImage.from_images(
            Image.from_array(image, xy0=box.begin, units=self.units(indices[0])),
            Mask.from_array(bits, xy0=box.begin, planes=planes),
            Image.from_array(variance, xy0=box.begin),
        )


# -- public API ----------------------------------------------------------------------------
def read_exposure(path: str | os.PathLike[str], *, bbox: Box2I | None = None) -> Exposure:
    """Read an `Exposure` written by `write_exposure`, or by LSST afw.

    Parameters
    ----------
    path : str or path-like
        The file.
    bbox : `Box2I`, optional
        Parent-frame region to read (end exclusive); only the rows it covers are read.
        The result's ``xy0`` is ``bbox.begin`` and its WCS is that of the parent frame.

    Returns
    -------
    exposure : `Exposure`
        Native-order float32 image and variance, int32 mask with the file's plane
        names, the primary header as metadata (minus the cards the layout owns) and every
        component table. For afw files, the WCS comes from the IMAGE HDU's FITS-WCS
        cards shifted to parent pixels; afw's archive tables are not read
        (``read_component(path, "afw_archive")`` lists what they hold).

    Raises
    ------
    FitsError
        For a corrupt, truncated or non-conforming file, naming the file and the HDU.
    BoxOutsideImageError
        If ``bbox`` is not inside the stored image.
    """
    with _Reader(path) as reader:
        reader.check_version()
        masked_image = reader.masked_image(bbox)
        return Exposure(masked_image, reader.exposure_info())


def read_masked_image(path: str | os.PathLike[str], *, bbox: Box2I | None = None) -> MaskedImage:
    """Read the IMAGE, MASK and VARIANCE planes of an exposure or masked-image file."""
    with _Reader(path) as reader:
        reader.check_version()
        return reader.masked_image(bbox)


def read_image(path: str | os.PathLike[str], *, bbox: Box2I | None = None, plane: str = "IMAGE") -> Image:
    """Read one image plane (``"IMAGE"`` or ``"VARIANCE"``) of any of the layouts; a plain FITS
    file with a 2-d primary HDU is read from there. Pixel types: `IMAGE_DTYPES`."""
    role = plane.upper()
    with _Reader(path) as reader:
        reader.check_version()
        index = reader.find_plane(role, primary_fallback=role == "IMAGE")
        array, box = reader.read_plane(index, bbox, IMAGE_DTYPES)
        return Image.from_array(array, xy0=box.begin, units=reader.units(index))


def read_mask(path: str | os.PathLike[str], *, bbox: Box2I | None = None) -> Mask:
    """Read the MASK plane (or a 2-d integer primary HDU) with its ``MP_*`` plane names."""
    with _Reader(path) as reader:
        reader.check_version()
        index = reader.find_plane("MASK", primary_fallback=True)
        array, box = reader.read_plane(index, bbox, _MASK_DTYPES)
        return Mask.from_array(array, xy0=box.begin, planes=reader.mask_planes(index))


def read_component(path: str | os.PathLike[str], component: str) -> Any:
    """Read one part of a file without reading any pixels.

    ``component`` is one of `READABLE_COMPONENTS`:

    * ``"metadata"``: the primary header as a `PropertyList` (layout cards removed);
    * ``"bbox"``: parent-frame `Box2I` of the IMAGE (else MASK, else primary) HDU;
    * ``"mask_planes"``: the MASK HDU's `MaskPlaneDict`;
    * ``"id"``: `ExposureInfo.id` (``None`` when absent);
    * an `ExposureInfo` field (``"wcs"``, ``"psf"``, ``"photo_calib"``, ``"visit_info"``,
      ``"filter_label"``, ``"detector"``, ``"ap_corr_map"``, ``"valid_polygon"``,
      ``"summary_stats"``): the object, or ``None`` when the file has none;
    * ``"afw_archive"``: for afw files, one dict per archived object (``id``, ``class``,
      ``module``, ``hdus``, ``referenced_by`` primary keys); ``[]`` otherwise.
    """
    if component not in READABLE_COMPONENTS:
        raise FitsError(f"{os.fspath(path)}: unknown component {component!r}; choose from {READABLE_COMPONENTS}")
    with _Reader(path) as reader:
        reader.check_version()
        if component == "metadata":
            return reader.metadata()
        if component == "id":
            return reader.exposure_id()
        if component == "bbox":
            for role in ("IMAGE", "MASK"):
                index = reader.find(role)
                if index is not None:
                    return reader.plane_geometry(index)
            return reader.plane_geometry(reader.find_plane("IMAGE", primary_fallback=True))
        if component == "mask_planes":
            return reader.mask_planes(reader.find_plane("MASK"))
        if component == "afw_archive":
            return reader.afw_archive()
        return reader.component(component, reader.component_tables())
