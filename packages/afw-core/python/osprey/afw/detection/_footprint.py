"""`Footprint` (a `SpanSet` with peaks) and `HeavyFootprint` (plus the pixel values under it)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.geom import Box2I, Point2D

from .._afw import det_cull  # type: ignore[attr-defined]
from ._errors import DetectionError
from ._peaks import PeakCatalog
from ._spanset import SpanSet

__all__ = ["Footprint", "HeavyFootprint", "merge_peaks"]


def merge_peaks(first: PeakCatalog, second: PeakCatalog, min_new_peak_distance: float) -> PeakCatalog:
    """Every peak of ``first``, then the peaks of ``second`` not closer than
    ``min_new_peak_distance`` pixels to a peak of ``first`` (0 keeps them all)."""
    both = PeakCatalog.concatenate([first, second])
    groups = np.repeat(np.array([0, 1], np.int32), [len(first), len(second)])
    keep = det_cull(both["ix"], both["iy"], groups, float(min_new_peak_distance))
    return both[keep]


class Footprint:
    """A detected region: a `SpanSet` plus the `PeakCatalog` of the local maxima inside it.

    Parameters
    ----------
    spans : `SpanSet`
        The pixels (parent frame).
    peaks : `PeakCatalog`, optional
        Peaks; none when omitted.
    region : `Box2I`, optional
        The image the footprint was found on; `dilated` clips to it.

    Examples
    --------
    >>> fp = Footprint(SpanSet.from_box(Box2I.from_begin_end(0, 0, 3, 2)))
    >>> fp.area, fp.dilated(1).area
    (6, 16)
    """

    __slots__ = ("_peaks", "_region", "_spans")

    def __init__(self, spans: SpanSet, peaks: PeakCatalog | None = None, region: Box2I | None = None) -> None:
        if not isinstance(spans, SpanSet):
            raise DetectionError(f"a Footprint needs a SpanSet, got {type(spans).__name__}")
        if peaks is not None and not isinstance(peaks, PeakCatalog):
            raise DetectionError(f"peaks must be a PeakCatalog, got {type(peaks).__name__}")
        self._spans = spans
        self._peaks = PeakCatalog() if peaks is None else peaks
        self._region = region

    @property
    def spans(self) -> SpanSet:
        """The pixels."""
        return self._spans

    @property
    def peaks(self) -> PeakCatalog:
        """The peaks, brightest first when found by detection."""
        return self._peaks

    @property
    def region(self) -> Box2I | None:
        """The bbox of the image it was found on, if known."""
        return self._region

    @property
    def area(self) -> int:
        """Number of pixels."""
        return self._spans.area

    @property
    def bbox(self) -> Box2I:
        """Bounding box of the pixels (end exclusive)."""
        return self._spans.bbox

    @property
    def centroid(self) -> Point2D:
        """Unweighted mean pixel position."""
        return self._spans.centroid

    def contains(self, x: Any, y: ArrayLike | None = None) -> Any:
        """See `SpanSet.contains`."""
        return self._spans.contains(x, y)

    def _with(self, spans: SpanSet, peaks: PeakCatalog | None = None) -> Footprint:
        return Footprint(spans, self._peaks if peaks is None else peaks, self._region)

    def _peaks_inside(self, spans: SpanSet) -> PeakCatalog:
        if len(self._peaks) == 0:
            return self._peaks
        return self._peaks[spans.contains(self._peaks["ix"], self._peaks["iy"])]

    def dilated(self, radius: int, shape: str = "circle") -> Footprint:
        """Footprint grown by ``radius`` pixels (see `SpanSet.dilated`), clipped to `region`; same peaks."""
        spans = self._spans.dilated(radius, shape)
        if self._region is not None:
            spans = spans.clipped_to(self._region)
        return self._with(spans)

    def eroded(self, radius: int, shape: str = "circle") -> Footprint:
        """Footprint shrunk by ``radius`` pixels; keeps the peaks still inside."""
        spans = self._spans.eroded(radius, shape)
        return self._with(spans, self._peaks_inside(spans))

    def clipped_to(self, bbox: Box2I) -> Footprint:
        """The part inside ``bbox``, with the peaks inside it."""
        spans = self._spans.clipped_to(bbox)
        return self._with(spans, self._peaks_inside(spans))

    def shifted(self, dx: int, dy: int) -> Footprint:
        """Footprint and peaks moved by ``(dx, dy)`` pixels (the region is not moved)."""
        cols = self._peaks.to_dict()
        moved = {
            **cols,
            "ix": cols["ix"] + np.int32(dx),
            "iy": cols["iy"] + np.int32(dy),
            "fx": cols["fx"] + dx,
            "fy": cols["fy"] + dy,
        }
        return self._with(self._spans.shifted(dx, dy), PeakCatalog(moved))

    def merged(self, other: Footprint, min_new_peak_distance: float = 0.0) -> Footprint:
        """Union of the pixels; this footprint's peaks, then ``other``'s that are not closer than
        ``min_new_peak_distance`` pixels to one of them. The result need not be connected."""
        if not isinstance(other, Footprint):
            raise DetectionError(f"can only merge a Footprint, got {type(other).__name__}")
        region = self._region
        if region is not None and other._region is not None:
            region = region.union(other._region)
        return Footprint(
            self._spans.union(other._spans), merge_peaks(self._peaks, other._peaks, min_new_peak_distance), region
        )

    def set_mask(self, mask: Any, bits: int | str | list[str] = "DETECTED") -> None:
        """OR ``bits`` (int or plane names) into ``mask`` on this footprint's pixels."""
        self._spans.set_mask(mask, bits)

    def to_heavy(self, image: Any) -> HeavyFootprint:
        """`HeavyFootprint` carrying the pixels of ``image`` (an `Image` or `MaskedImage`) under this footprint."""
        return HeavyFootprint.from_image(self, image)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Footprint):
            return NotImplemented
        return type(self) is type(other) and self._spans == other._spans and self._peaks == other._peaks

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(area={self.area}, bbox={self.bbox}, peaks={len(self._peaks)})"


def _planes(image: Any) -> tuple[Any, Any, Any]:
    """(image, mask or None, variance or None) of an `Image` or `MaskedImage`."""
    if hasattr(image, "variance") and hasattr(image, "mask"):
        return image.image, image.mask, image.variance
    if hasattr(image, "array") and hasattr(image, "xy0"):
        return image, None, None
    raise DetectionError(f"expected an osprey.afw.image Image or MaskedImage, got {type(image).__name__}")


class HeavyFootprint(Footprint):
    """A `Footprint` that carries the pixel values under it, flattened in span order.

    Made with `from_image` (or `Footprint.to_heavy`); `insert` writes the values back into
    any image that overlaps the footprint, e.g. to paste a source into a blank image or to
    replace it by noise. ``image`` keeps the pixel type of the source image; ``mask``
    (int32) and ``variance`` (float32) are present when it was a `MaskedImage`.
    """

    __slots__ = ("_image", "_mask", "_planes", "_variance")

    def __init__(
        self,
        footprint: Footprint,
        image: ArrayLike,
        mask: ArrayLike | None = None,
        variance: ArrayLike | None = None,
        planes: Any = None,
    ) -> None:
        super().__init__(footprint.spans, footprint.peaks, footprint.region)
        n = footprint.area
        self._image = self._check(image, n, "image", None)
        self._mask = None if mask is None else self._check(mask, n, "mask", np.int32)
        self._variance = None if variance is None else self._check(variance, n, "variance", np.float32)
        self._planes = planes

    @staticmethod
    def _check(values: ArrayLike, n: int, what: str, dtype: Any) -> NDArray[Any]:
        arr = np.asarray(values) if dtype is None else np.asarray(values, dtype=dtype)
        if arr.shape != (n,):
            raise DetectionError(f"HeavyFootprint {what} must hold one value per pixel: shape ({n},), got {arr.shape}")
        return arr

    @classmethod
    def from_image(cls, footprint: Footprint, image: Any) -> HeavyFootprint:
        """Copy the pixels of ``image`` (an `Image` or `MaskedImage`) under ``footprint``.

        The footprint must lie inside the image (clip it first with `Footprint.clipped_to`).
        """
        img, mask, var = _planes(image)
        spans = footprint.spans
        return cls(
            footprint,
            spans.flatten(img),
            None if mask is None else spans.flatten(mask),
            None if var is None else spans.flatten(var),
            None if mask is None else mask.planes,
        )

    @property
    def image(self) -> NDArray[Any]:
        """Image values, span order."""
        return self._image

    @property
    def mask(self) -> NDArray[np.int32] | None:
        """Mask bits, span order (None when made from an `Image`)."""
        return self._mask

    @property
    def variance(self) -> NDArray[np.float32] | None:
        """Variances, span order (None when made from an `Image`)."""
        return self._variance

    @property
    def mask_planes(self) -> Any:
        """The `MaskPlaneDict` of the source mask, or None."""
        return self._planes

    def insert(self, target: Any) -> None:
        """Write the values into ``target`` (an `Image` or `MaskedImage`) where they overlap it.

        Pixels outside ``target`` are skipped; mask and variance are written when both sides
        have them.
        """
        img, mask, var = _planes(target)
        self.spans.unflatten(self._image, img)
        if mask is not None and self._mask is not None:
            self.spans.unflatten(self._mask, mask)
        if var is not None and self._variance is not None:
            self.spans.unflatten(self._variance, var)

    def merged(self, other: Footprint, min_new_peak_distance: float = 0.0) -> HeavyFootprint:
        """Union of two heavy footprints; where they overlap, this footprint's values win."""
        if not isinstance(other, HeavyFootprint):
            raise DetectionError(f"a HeavyFootprint merges with another HeavyFootprint, got {type(other).__name__}")
        light = Footprint.merged(self, other, min_new_peak_distance)
        box = light.bbox
        out = {}
        for name in ("_image", "_mask", "_variance"):
            a, b = getattr(self, name), getattr(other, name)
            if a is None or b is None:
                out[name] = None
                continue
            canvas = np.zeros((box.height, box.width), dtype=np.result_type(a.dtype, b.dtype))
            other.spans.unflatten(b.astype(canvas.dtype, copy=False), canvas, xy0=box.begin)
            self.spans.unflatten(a.astype(canvas.dtype, copy=False), canvas, xy0=box.begin)
            out[name] = light.spans.flatten(canvas, xy0=box.begin)
        return HeavyFootprint(light, out["_image"], out["_mask"], out["_variance"], self._planes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HeavyFootprint):
            return NotImplemented
        same = [
            np.array_equal(x, y, equal_nan=x.dtype.kind == "f") if x is not None and y is not None else x is y
            for x, y in ((self._image, other._image), (self._mask, other._mask), (self._variance, other._variance))
        ]
        return Footprint.__eq__(self, other) and all(same)

    __hash__ = None  # type: ignore[assignment]
