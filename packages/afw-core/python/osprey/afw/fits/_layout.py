"""The header keywords of Osprey's multi-extension exposure layout, and the helpers that write and strip them.

Layout (format version `FORMAT_VERSION`)::

    HDU 0      primary, no data: the metadata cards, OSPREY_FORMAT_VERSION, OSPREY_CONTENT,
               OSPREY_EXPOSURE_ID (exposures with an id)
    IMAGE      image extension (or tile-compressed binary table), EXTNAME = EXTTYPE = 'IMAGE'
    MASK       idem, int32 bits, with one MP_<NAME> = bit card per mask plane
    VARIANCE   idem, float32
    <FIELD>    one binary table per attached object: EXTNAME = the ExposureInfo field in
               upper case (WCS, PSF, PHOTO_CALIB ...), EXTTYPE = 'OSPREY_COMPONENT',
               OSPREY_TYPE = dotted class path, one row with one JSON text column PAYLOAD

Every pixel HDU carries LTV1/LTV2 = -xy0, the afw "A" WCS (CTYPE1A = 'LINEAR',
CRVAL1A/2A = xy0 at CRPIX1A/2A = 1) and, for exposures with a `SkyWcs`, that WCS as
FITS-WCS cards for the HDU's own pixel grid (so ds9 and astropy see it).
"""

from __future__ import annotations

import re

from astropy.io import fits

from osprey.geom import Point2I

from ..metadata import PropertyList

__all__ = [
    "COMPONENT_EXTTYPE",
    "FORMAT_VERSION",
    "KEY_CONTENT",
    "KEY_EXPOSURE_ID",
    "KEY_FORMAT",
    "KEY_TYPE",
    "PAYLOAD_COLUMN",
    "PLANES",
    "afw_pointer_keys",
    "card_key",
    "format_card",
    "header_block",
    "is_reserved_key",
    "metadata_from_header",
    "plane_header",
    "primary_header",
]

FORMAT_VERSION = 1
"""Version of the layout written by this module; files of a higher version are refused."""

KEY_FORMAT = "OSPREY_FORMAT_VERSION"
KEY_CONTENT = "OSPREY_CONTENT"
KEY_EXPOSURE_ID = "OSPREY_EXPOSURE_ID"
KEY_TYPE = "OSPREY_TYPE"
COMPONENT_EXTTYPE = "OSPREY_COMPONENT"
PAYLOAD_COLUMN = "PAYLOAD"
PLANES = ("IMAGE", "MASK", "VARIANCE")

# Cards that describe the file, not the exposure: never part of the metadata.
_STRUCTURAL = re.compile(
    r"(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT|BSCALE|BZERO|BLANK|CHECKSUM|DATASUM|INHERIT|END)"
)
# afw archive pointers: meaningful only next to the archive tables of the file they came from.
_AFW_POINTERS = frozenset(
    {
        "AR_HDU",
        "AP_CORR_MAP_ID",
        "CALIB_ID",
        "COADD_INPUTS_ID",
        "DETECTOR_ID",
        "FILTER_ID",
        "PHOTOCALIB_ID",
        "PSF_ID",
        "SKYWCS_ID",
        "SUMMARYSTATS_ID",
        "TRANSMISSION_CURVE_ID",
        "VALID_POLYGON_ID",
        "VISIT_INFO_ID",
        "WCS_ID",
    }
)
# The two COMMENT cards cfitsio puts in every primary header it creates.
_CFITSIO_BOILERPLATE = frozenset(
    {
        "FITS (Flexible Image Transport System) format is defined in 'Astronomy",
        "and Astrophysics', volume 376, page 359; bibcode: 2001A&A...376..359H",
    }
)


def is_reserved_key(key: str) -> bool:
    """True for cards the layout owns (structure, OSPREY_*, afw archive pointers)."""
    return bool(_STRUCTURAL.fullmatch(key)) or key.startswith("OSPREY_") or key in _AFW_POINTERS


def afw_pointer_keys() -> frozenset[str]:
    """Primary-header keys through which afw files point into their archive tables."""
    return _AFW_POINTERS


def card_key(key: str) -> str:
    """The keyword astropy needs for ``key``: itself, or ``HIERARCH key`` when longer than 8."""
    return key if len(key) <= 8 else f"HIERARCH {key}"


def metadata_from_header(header: fits.Header) -> PropertyList:
    """The primary header's cards as a `PropertyList`, without the cards the layout owns."""
    pl = PropertyList.from_fits_header(header)
    keep = [
        (card.key, card.value, card.comment)
        for card in pl.cards()
        if not is_reserved_key(card.key)
        and not (card.key == "COMMENT" and str(card.value).strip() in _CFITSIO_BOILERPLATE)
    ]
    return PropertyList(keep)


def primary_header(metadata: PropertyList | None, content: str, exposure_id: int | None = None) -> list[str]:
    """Card images of the (data-less) primary HDU: SIMPLE..EXTEND, the metadata cards, then
    the layout's keywords.

    Cards of ``metadata`` that the layout owns (SIMPLE, NAXIS, OSPREY_*, afw archive
    pointers...) are left out, so metadata read from any file can be written back.
    """
    if metadata is None:
        metadata = PropertyList()
    kept = PropertyList((c.key, c.value, c.comment) for c in metadata.cards() if not is_reserved_key(c.key))
    images = [
        format_card("SIMPLE", True, "conforms to FITS standard"),
        format_card("BITPIX", 8, "array data type"),
        format_card("NAXIS", 0, "no data in the primary HDU"),
        format_card("EXTEND", True, "extensions follow"),
    ]
    images.extend(str(card.image) for card in kept.to_fits_header().cards)
    images.append(format_card(KEY_FORMAT, FORMAT_VERSION, "Osprey FITS layout version"))
    images.append(format_card(KEY_CONTENT, content, "Osprey type stored in this file"))
    if exposure_id is not None:
        images.append(format_card(KEY_EXPOSURE_ID, int(exposure_id), "ExposureInfo.id"))
    return images


def format_card(key: str, value: bool | int | str, comment: str = "") -> str:
    """One 80-character FITS card image for an int, bool or short string value.

    Fixed format of the FITS standard (4.2): an 8-character keyword (or ``HIERARCH key``
    for longer ones), ``= ``, a logical or integer right-justified to column 30 or a
    quoted string (quotes doubled, at least 8 characters inside), then `` / comment``,
    cut at column 80. astropy's `~astropy.io.fits.Card` builds the same image, ~50x slower.
    """
    width = 20 if len(key) <= 8 else 0  # HIERARCH cards are written compactly
    if isinstance(value, bool):
        text = f"{'T' if value else 'F':>{width}}"
    elif isinstance(value, int):
        text = f"{value:>{width}}"
    else:
        text = f"{chr(39) + f'{value.replace(chr(39), chr(39) * 2):<8}' + chr(39):<{width}}"
    head = f"{key:<8}= " if len(key) <= 8 else f"HIERARCH {key} = "
    image = head + text
    if len(image) > 80:
        return str(fits.Card(card_key(key), value, comment).image)  # needs CONTINUE or fails loudly
    if comment:
        image = f"{image} / {comment}"
    return f"{image[:80]:<80}"


def header_block(images: list[str]) -> bytes:
    """Card images plus the END card, blank-padded to a multiple of 2880 bytes."""
    text = "".join(images) + f"{'END':<80}"
    return (text + " " * (-len(text) % 2880)).encode("ascii")


def plane_header(role: str, xy0: Point2I, *extras: fits.Header) -> list[str]:
    """Card images of one pixel HDU after its structural cards: names, xy0 as LTV and the
    afw "A" WCS, then ``extras`` (astropy headers holding FITS-WCS, MP_* or BUNIT cards)."""
    images = [
        format_card("EXTNAME", role, "plane of the stored image"),
        format_card("EXTTYPE", role, "plane of the stored image (afw convention)"),
        format_card("INHERIT", True, "primary header cards apply to this HDU"),
        format_card("LTV1", -xy0.x, "-x0: array column 0 is parent x = -LTV1"),
        format_card("LTV2", -xy0.y, "-y0: array row 0 is parent y = -LTV2"),
        format_card("CRVAL1A", xy0.x, "parent x of array column 0"),
        format_card("CRVAL2A", xy0.y, "parent y of array row 0"),
        format_card("CRPIX1A", 1, "FITS pixel of CRVAL1A"),
        format_card("CRPIX2A", 1, "FITS pixel of CRVAL2A"),
        format_card("CTYPE1A", "LINEAR", "parent-frame pixel coordinate"),
        format_card("CTYPE2A", "LINEAR", "parent-frame pixel coordinate"),
        format_card("CUNIT1A", "pixel"),
        format_card("CUNIT2A", "pixel"),
    ]
    for extra in extras:
        images.extend(str(card.image) for card in extra.cards)
    return images
