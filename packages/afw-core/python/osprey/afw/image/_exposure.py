"""`ExposureInfo` and `Exposure`: a MaskedImage plus everything known about how it was taken."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from osprey.geom import Box2I, Extent2I, Point2I

from ..errors import AfwValueError
from ..metadata import PropertyList
from ._image import Image
from ._mask import Mask
from ._masked_image import MaskedImage

if TYPE_CHECKING:
    from astropy.nddata import CCDData, NDData

__all__ = ["Exposure", "ExposureInfo"]


@dataclasses.dataclass(eq=False)
class ExposureInfo:
    """Everything attached to an exposure's pixels, one field per component.

    Fields hold objects from other packages (WCS, PSF, calibration, camera geometry),
    so they are typed loosely and default to ``None`` ("not known yet"); the
    exception is `metadata`, which is always a `PropertyList` (empty by default, and
    ``None`` is turned into an empty one) so that code can add header cards without
    checking. Views of an exposure share one ExposureInfo object.
    """

    id: int | None = None
    """Integer identifier of the exposure (e.g. a packed visit + detector)."""
    wcs: Any = None
    """Pixel-to-sky mapping; an astropy APE 14 WCS is passed on by `Exposure.to_nddata`."""
    psf: Any = None
    """Point-spread-function model."""
    photo_calib: Any = None
    """Photometric calibration (instrumental flux to nJy)."""
    visit_info: Any = None
    """Observation conditions: time, pointing, exposure time, airmass..."""
    filter_label: Any = None
    """Band and physical filter."""
    detector: Any = None
    """Camera geometry of the detector."""
    metadata: PropertyList = dataclasses.field(default_factory=PropertyList)
    """FITS-style header cards not described by a more specific field."""
    ap_corr_map: Any = None
    """Aperture-correction fields, by flux algorithm name."""
    valid_polygon: Any = None
    """Region of the pixels that hold valid data."""
    summary_stats: Any = None
    """Per-exposure summary statistics (seeing, background, depth...)."""

    def __post_init__(self) -> None:
        if self.metadata is None:
            self.metadata = PropertyList()
        elif not isinstance(self.metadata, PropertyList):
            raise AfwValueError(f"ExposureInfo.metadata must be a PropertyList, got {type(self.metadata).__name__}")

    def copy(self) -> ExposureInfo:
        """Copy that shares the component objects (treated as immutable) but not the metadata."""
        return dataclasses.replace(self, metadata=self.metadata.copy())


def _info_property(name: str) -> property:
    def fget(self: Exposure) -> Any:
        return getattr(self._info, name)

    def fset(self: Exposure, value: Any) -> None:
        setattr(self._info, name, value)

    doc = f"``info.{name}``: see `ExposureInfo`. Settable; views of this exposure see the change."
    return property(fget, fset, doc=doc)


class Exposure:
    """A `MaskedImage` together with its `ExposureInfo` (WCS, PSF, calibration, metadata...).

    ``exposure[box]`` is a sub-exposure whose pixels are views and whose info is the
    same object, so a WCS attached to the parent is seen by every cut-out (the WCS
    maps parent pixel coordinates, which views keep). `clone` separates both.

    Parameters
    ----------
    masked_image : `MaskedImage` or `Box2I` or `Extent2I`
        Pixels (used without copying), or a box/extent for new zeroed planes.
    info : `ExposureInfo`, optional
        Attached information; a new empty one by default.
    """

    __slots__ = ("_info", "_masked_image")
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self,
        masked_image: MaskedImage | Box2I | Extent2I | tuple[int, int],
        info: ExposureInfo | None = None,
    ) -> None:
        if not isinstance(masked_image, MaskedImage):
            masked_image = MaskedImage(masked_image)
        if info is None:
            info = ExposureInfo()
        if not isinstance(info, ExposureInfo):
            raise AfwValueError(f"Exposure info must be an ExposureInfo, got {type(info).__name__}")
        self._masked_image, self._info = masked_image, info

    # -- components ------------------------------------------------------------------------
    @property
    def masked_image(self) -> MaskedImage:
        """The image, mask and variance planes."""
        return self._masked_image

    @property
    def image(self) -> Image:
        """Science pixels (float32)."""
        return self._masked_image.image

    @property
    def mask(self) -> Mask:
        """Mask bit planes (int32)."""
        return self._masked_image.mask

    @property
    def variance(self) -> Image:
        """Per-pixel variance (float32)."""
        return self._masked_image.variance

    @property
    def info(self) -> ExposureInfo:
        """The attached `ExposureInfo` (shared with views of this exposure)."""
        return self._info

    @property
    def bbox(self) -> Box2I:
        """Box in parent coordinates (end exclusive)."""
        return self._masked_image.bbox

    @property
    def xy0(self) -> Point2I:
        """Parent position of pixel ``[0, 0]``; setting it moves all planes."""
        return self._masked_image.xy0

    @xy0.setter
    def xy0(self, value: Point2I | tuple[int, int]) -> None:
        self._masked_image.xy0 = value

    @property
    def dimensions(self) -> Extent2I:
        """``Extent2I(width, height)`` in pixels."""
        return self._masked_image.dimensions

    @property
    def width(self) -> int:
        """Number of columns."""
        return self._masked_image.width

    @property
    def height(self) -> int:
        """Number of rows."""
        return self._masked_image.height

    id = _info_property("id")
    wcs = _info_property("wcs")
    psf = _info_property("psf")
    photo_calib = _info_property("photo_calib")
    visit_info = _info_property("visit_info")
    filter_label = _info_property("filter_label")
    detector = _info_property("detector")
    ap_corr_map = _info_property("ap_corr_map")
    valid_polygon = _info_property("valid_polygon")
    summary_stats = _info_property("summary_stats")

    @property
    def metadata(self) -> PropertyList:
        """Header cards (`ExposureInfo.metadata`); always a `PropertyList`."""
        return self._info.metadata

    @metadata.setter
    def metadata(self, value: PropertyList) -> None:
        if not isinstance(value, PropertyList):
            raise AfwValueError(f"Exposure.metadata must be a PropertyList, got {type(value).__name__}")
        self._info.metadata = value

    # -- views and copies ------------------------------------------------------------------
    def __getitem__(self, bbox: Box2I) -> Exposure:
        """Sub-exposure: pixel views inside ``bbox`` (parent coordinates), the same info object."""
        return Exposure(self._masked_image[bbox], self._info)

    def __setitem__(self, bbox: Box2I, value: Exposure | MaskedImage) -> None:
        """Copy the pixels of an Exposure or MaskedImage into ``bbox`` (info is untouched)."""
        self._masked_image[bbox] = value.masked_image if isinstance(value, Exposure) else value

    def clone(self) -> Exposure:
        """Deep-copy the pixels and metadata; share the (immutable) WCS, PSF and other components."""
        return Exposure(self._masked_image.clone(), self._info.copy())

    def __copy__(self) -> Exposure:
        return self.clone()

    def __deepcopy__(self, memo: dict[int, Any]) -> Exposure:
        return self.clone()

    def __repr__(self) -> str:
        return f"Exposure(bbox={self.bbox!r}, id={self._info.id!r})"

    # -- astropy ---------------------------------------------------------------------------
    def to_ccddata(self, unit: Any = None, *, bad_planes: Sequence[str] | None = None) -> CCDData:
        """Convert to `astropy.nddata.CCDData` as `MaskedImage.to_ccddata` does, adding the
        metadata cards to ``meta`` and ``wcs`` when it is an `astropy.wcs.WCS`.

        ``MP_*`` and ``LTV1/LTV2`` describe the pixels: they are rewritten from the mask
        and xy0, replacing any such cards in the metadata.
        """
        from ._astropy import exposure_to_ccddata

        return exposure_to_ccddata(self, unit=unit, bad_planes=bad_planes)

    @classmethod
    def from_ccddata(cls, ccd: CCDData) -> Exposure:
        """Inverse of `to_ccddata`: pixels as in `MaskedImage.from_ccddata`, the remaining
        ``meta`` cards as metadata and ``ccd.wcs`` as the WCS."""
        from ._astropy import exposure_from_ccddata

        return exposure_from_ccddata(ccd)

    def to_nddata(self, unit: Any = None, *, bad_planes: Sequence[str] | None = None) -> NDData:
        """Convert to `astropy.nddata.NDData`, with ``wcs`` when the exposure's WCS implements
        astropy's APE 14 interface (the integer mask bits are not kept; see `to_ccddata`)."""
        from ._astropy import exposure_to_nddata

        return exposure_to_nddata(self, unit=unit, bad_planes=bad_planes)
