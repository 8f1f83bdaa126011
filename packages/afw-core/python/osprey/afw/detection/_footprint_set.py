"""`FootprintSet`: every footprint of an image, built in one C++ call and wrapped lazily."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from osprey.geom import Box2I, Extent2I, Point2I

from .._afw import det_detect, det_flatten, det_paint, det_pixels, det_relabel, det_stats  # type: ignore[attr-defined]
from ._errors import DetectionError
from ._footprint import Footprint
from ._peaks import PEAK_COLUMNS, PeakCatalog
from ._spanset import SpanSet, check_radius, kernel_array, pixel_array, shape_code
from ._threshold import Threshold

__all__ = ["FootprintSet"]

_log = logging.getLogger(__name__)
_PEAK_ORDER = tuple(PEAK_COLUMNS)  # the C++ kernels' peak column order
_NO_VARIANCE = np.zeros((0, 0), np.float32)


def _frozen(arrays: Sequence[NDArray[Any]]) -> list[NDArray[Any]]:
    for arr in arrays:
        arr.flags.writeable = False
    return list(arrays)


def _pixels_of(image: Any, xy0: Any) -> tuple[NDArray[Any], NDArray[Any] | None, Point2I]:
    """(image array, variance array or None, xy0) of a MaskedImage, Image or 2-D array."""
    if hasattr(image, "variance") and hasattr(image, "image"):
        return image.image.array, image.variance.array, image.xy0
    if hasattr(image, "array") and hasattr(image, "xy0"):
        arr, origin = image.array, image.xy0
    else:
        arr, origin = np.asarray(image), Point2I(0, 0)
    if xy0 is not None:
        origin = Point2I(xy0)
    return arr, None, origin


def _joined_offsets(parts: Sequence[NDArray[np.int64]]) -> NDArray[np.int64]:
    """Offsets of the concatenation of groups described by each of ``parts``."""
    out, base = [np.zeros(1, np.int64)], 0
    for off in parts:
        out.append(off[1:] + base)
        base += int(off[-1])
    return np.concatenate(out)


class FootprintSet:
    """The footprints of one image: connected regions above a `Threshold`, with their peaks.

    Built by `from_image` in one GIL-free C++ call that returns every footprint's spans and
    peaks as flat arrays with offsets; `Footprint` objects are made only when indexed or
    iterated. Footprints are ordered by their first pixel in raster order (y, then x).

    Vectorised views over all footprints: `areas`, `bboxes`, `centroids`, `peaks`,
    `peak_footprint_index`, `spans`, `to_label_image`, `set_mask`.
    """

    __slots__ = ("_peak_cols", "_peak_off", "_region", "_sign", "_span_off", "_spans", "_stats")

    def __init__(self) -> None:
        raise DetectionError("make a FootprintSet with FootprintSet.from_image or FootprintSet.from_footprints")

    @classmethod
    def _from_kernel(cls, out: Sequence[NDArray[Any]], region: Box2I, sign: int = 1) -> FootprintSet:
        obj = cls.__new__(cls)
        obj._sign = sign
        y, x0, x1, span_off = _frozen(out[:4])
        obj._spans = (y, x0, x1)
        obj._span_off = span_off
        obj._peak_cols = dict(zip(_PEAK_ORDER, _frozen(out[4:11]), strict=True))
        obj._peak_off = _frozen([out[11]])[0]
        obj._region = region
        obj._stats = None
        return obj

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_image(
        cls,
        image: Any,
        threshold: Threshold | float,
        npix_min: int = 1,
        grow: int = 0,
        is_isotropic: bool = True,
        find_peaks: bool = True,
        *,
        peak_min_separation: float = 0.0,
        xy0: Point2I | tuple[int, int] | None = None,
    ) -> FootprintSet:
        """Detect: connected pixels beyond ``threshold``, with their local maxima.

        Pixels are connected through their 8 neighbours (sides and corners), as
        ``scipy.ndimage.label`` with a 3x3 structure of ones; NaN pixels are never detected.

        Parameters
        ----------
        image : `MaskedImage`, `Image` or 2-D array
            Pixels (float32 or float64 are used as they are, other types are converted to
            float64). A `MaskedImage` brings its variance plane, needed by ``PIXEL_STDEV``
            thresholds and used for peak significances.
        threshold : `Threshold` or `float`
            A float means ``Threshold(value)`` in pixel units.
        npix_min : `int`
            Smallest footprint kept, in pixels (counted before growing).
        grow : `int`
            Radius in pixels to dilate each footprint by (after peaks are found); grown
            footprints are clipped to the image and merged where they overlap or touch.
        is_isotropic : `bool`
            Grow with a disk (``dx² + dy² <= grow²``) if true, a diamond (``|dx| + |dy| <= grow``) if false.
        find_peaks : `bool`
            Find the local maxima (for negative polarity, minima) of each footprint: pixels
            not exceeded by any of their 8 neighbours (ties go to the first in raster
            order), sorted by value, most extreme first.
        peak_min_separation : `float`
            Drop a peak closer than this many pixels to a brighter peak of the same
            footprint (0: keep every local maximum).
        xy0 : `Point2I`, optional
            Origin of a bare array (ignored for images, which carry their own).

        Returns
        -------
        `FootprintSet`
        """
        if not isinstance(threshold, Threshold):
            threshold = Threshold(float(threshold))
        arr, var, origin = _pixels_of(image, xy0)
        if arr.ndim != 2:
            raise DetectionError(f"image must be 2-D, got shape {arr.shape}")
        if arr.dtype not in (np.float32, np.float64) or not arr.dtype.isnative:
            arr = arr.astype(np.float64)
        if var is not None and (var.dtype != np.float32 or not var.dtype.isnative):
            var = var.astype(np.float32)
        if isinstance(npix_min, bool) or not isinstance(npix_min, (int, np.integer)) or npix_min < 1:
            raise DetectionError(f"npix_min must be an int >= 1, got {npix_min!r}")
        r = check_radius(grow, "grow")
        if not (np.isfinite(peak_min_separation) and peak_min_separation >= 0):
            raise DetectionError(f"peak_min_separation must be finite and >= 0, got {peak_min_separation!r}")
        t = threshold.evaluate(arr, var)
        region = Box2I(origin, Extent2I(int(arr.shape[1]), int(arr.shape[0])))
        out = det_detect(
            arr,
            _NO_VARIANCE if var is None else var,
            int(origin.x),
            int(origin.y),
            float(t.t_pix),
            float(t.t_keep),
            t.sign,
            t.per_pixel,
            int(npix_min),
            bool(find_peaks),
            float(peak_min_separation),
            float(t.sigma),
            r,
            0 if is_isotropic else 1,
        )
        fs = cls._from_kernel(out, region, t.sign)
        _log.debug("detected %d footprints above %s (%g in pixel units) on %s", len(fs), threshold, t.t_pix, region)
        return fs

    @classmethod
    def from_footprints(
        cls, footprints: Sequence[Footprint], region: Box2I, polarity: str = "positive"
    ) -> FootprintSet:
        """A set holding ``footprints`` as given (no merging), over the image box ``region``;
        ``polarity`` says how `grown` orders merged peaks (by value, or by -value)."""
        spans = [fp.spans for fp in footprints]
        peaks = PeakCatalog.concatenate([fp.peaks for fp in footprints])
        span_off = np.zeros(len(spans) + 1, np.int64)
        span_off[1:] = np.cumsum([len(s) for s in spans])
        peak_off = np.zeros(len(spans) + 1, np.int64)
        peak_off[1:] = np.cumsum([len(fp.peaks) for fp in footprints])
        cat = lambda name: np.concatenate([getattr(s, name) for s in spans]) if spans else np.zeros(0, np.int32)  # noqa: E731
        out = [
            cat("y").astype(np.int32),
            cat("x0").astype(np.int32),
            cat("x1").astype(np.int32),
            span_off,
            *(np.array(peaks[name]) for name in _PEAK_ORDER),
            peak_off,
        ]
        return cls._from_kernel(out, region, -1 if polarity == "negative" else 1)

    # -- container protocol -------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._span_off.size - 1)

    def __getitem__(self, index: int) -> Footprint:
        n = len(self)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"FootprintSet indices are ints, got {type(index).__name__}")
        i = int(index) + n if index < 0 else int(index)
        if not 0 <= i < n:
            raise IndexError(f"footprint index {index} out of range for {n} footprints")
        a, b = int(self._span_off[i]), int(self._span_off[i + 1])
        p, q = int(self._peak_off[i]), int(self._peak_off[i + 1])
        y, x0, x1 = self._spans
        spans = SpanSet._wrap(y[a:b], x0[a:b], x1[a:b])
        peaks = PeakCatalog._wrap({name: col[p:q] for name, col in self._peak_cols.items()})
        return Footprint(spans, peaks, self._region)

    def __iter__(self) -> Iterator[Footprint]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        return f"FootprintSet({len(self)} footprints, {len(self.peaks)} peaks, region={self._region})"

    # -- vectorised views -----------------------------------------------------------------------
    @property
    def region(self) -> Box2I:
        """Bounding box of the image the footprints were found on."""
        return self._region

    def _compute_stats(self) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
        if self._stats is None:
            self._stats = det_stats(*self._spans, self._span_off)
        return self._stats

    @property
    def areas(self) -> NDArray[np.int64]:
        """Pixels in each footprint."""
        return self._compute_stats()[0]

    @property
    def bboxes(self) -> NDArray[np.int32]:
        """``(n, 4)`` array of ``x_min, y_min, x_max, y_max`` per footprint (all inclusive)."""
        return self._compute_stats()[1]

    @property
    def centroids(self) -> NDArray[np.float64]:
        """``(n, 2)`` array of unweighted mean ``x, y`` per footprint."""
        return self._compute_stats()[2]

    @property
    def spans(self) -> SpanSet:
        """Every detected pixel as one `SpanSet` (footprints never overlap)."""
        y, x0, x1 = self._spans
        if len(self) <= 1:
            return SpanSet._wrap(y, x0, x1)
        return SpanSet(y, x0, x1)

    @property
    def span_arrays(self) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32], NDArray[np.int64]]:
        """``(y, x0, x1, offsets)``: footprint ``i`` holds runs ``offsets[i]:offsets[i + 1]`` (persistence)."""
        return (*self._spans, self._span_off)

    @property
    def peaks(self) -> PeakCatalog:
        """Every peak of every footprint, footprint by footprint."""
        return PeakCatalog._wrap(dict(self._peak_cols))

    @property
    def peak_footprint_index(self) -> NDArray[np.int64]:
        """Index of the footprint of each row of `peaks`."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self._peak_off))

    # -- pixels -------------------------------------------------------------------------------
    def pixels(self) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """``(x, y)`` of every detected pixel, footprint by footprint (split with `pixel_offsets`)."""
        ys, xs = det_pixels(*self._spans)
        return xs, ys

    @property
    def pixel_offsets(self) -> NDArray[np.int64]:
        """Footprint ``i`` owns pixels ``pixel_offsets[i]:pixel_offsets[i + 1]`` of `pixels` and `flatten`."""
        return np.concatenate([[0], np.cumsum(self.areas)]).astype(np.int64)

    def flatten(self, image: Any) -> NDArray[Any]:
        """Values of ``image`` (`Image`, `Mask` or 2-D array at origin 0) on every detected pixel,
        footprint by footprint: e.g. ``np.add.reduceat`` over `pixel_offsets` gives isophotal sums."""
        arr, origin = pixel_array(image)
        karr, dtype = kernel_array(arr, "image")
        box = Box2I(origin, Extent2I(int(arr.shape[1]), int(arr.shape[0])))
        if len(self):
            b = self.bboxes
            inside = Box2I.from_min_max(
                Point2I(int(b[:, 0].min()), int(b[:, 1].min())), Point2I(int(b[:, 2].max()), int(b[:, 3].max()))
            )
            if not box.contains(inside):
                raise DetectionError(f"footprints spanning {inside} reach outside the image's box {box}")
        out = det_flatten(karr, origin.x, origin.y, *self._spans)
        return out.view(dtype) if dtype != out.dtype else out

    def set_mask(self, mask: Any, plane: str | int = "DETECTED") -> None:
        """OR the bit of ``plane`` (a name, or an int bit pattern) into ``mask`` on every detected pixel."""
        SpanSet._wrap(*self._spans).set_mask(mask, plane if isinstance(plane, int) else [plane])

    def to_label_image(self) -> Any:
        """int32 `Image` over `region`: 0 off footprints, ``i + 1`` on footprint ``i``."""
        from ..image import Image

        out = Image(self._region, dtype=np.int32)
        if len(self):
            det_paint(out.array, self._region.begin.x, self._region.begin.y, *self._spans, self._span_off, 1, 3)
        return out

    # -- growth and merging -------------------------------------------------------------------
    def _relabel(
        self, other: FootprintSet | None, r: int, shape: int, min_dist: float, sort_sign: int
    ) -> tuple[Sequence[NDArray[Any]], Box2I]:
        sets = [self] if other is None else [self, other]
        region = self._region if other is None else self._region.union(other._region)
        cols = [np.concatenate([s._spans[k] for s in sets]) for k in range(3)]
        span_off = _joined_offsets([s._span_off for s in sets])
        peak_off = _joined_offsets([s._peak_off for s in sets])
        peaks = {}
        for name in _PEAK_ORDER:
            parts = [s._peak_cols[name] for s in sets]
            if name == "id" and other is not None and parts[0].size:
                parts[1] = parts[1] + parts[0].max()  # keep ids unique across the two sets
            peaks[name] = np.ascontiguousarray(np.concatenate(parts), dtype=PEAK_COLUMNS[name])
        groups = np.repeat(np.arange(len(sets), dtype=np.int32), [len(s) for s in sets])
        out = det_relabel(
            *(np.ascontiguousarray(c, dtype=np.int32) for c in cols),
            np.ascontiguousarray(span_off, dtype=np.int64),
            *(peaks[name] for name in _PEAK_ORDER),
            np.ascontiguousarray(peak_off, dtype=np.int64),
            groups,
            r,
            shape,
            True,
            region.begin.x,
            region.begin.y,
            region.end.x - 1,
            region.end.y - 1,
            float(min_dist),
            sort_sign,
        )
        return out, region

    def grown(self, radius: int, is_isotropic: bool = True) -> FootprintSet:
        """Every footprint dilated by ``radius`` pixels (disk, or diamond if not isotropic),
        clipped to `region`; footprints that then overlap or touch are merged (peaks kept)."""
        r = check_radius(radius, "grow radius")
        shape = shape_code("circle" if is_isotropic else "manhattan")
        out, region = self._relabel(None, r, shape, 0.0, self._sign)
        return FootprintSet._from_kernel(out, region, self._sign)

    def merge(self, other: FootprintSet, min_new_peak_distance: float = 1.0) -> FootprintSet:
        """Merge with another set (another band, or the negative detections of this image).

        Footprints of either set that overlap or touch become one footprint (union of
        pixels). Its peaks are those of this set, then those of ``other`` that are not closer
        than ``min_new_peak_distance`` pixels to one of them; ``other``'s peak ids are offset
        past this set's. The region is the union of both regions.
        """
        if not isinstance(other, FootprintSet):
            raise DetectionError(f"can only merge a FootprintSet, got {type(other).__name__}")
        if not (np.isfinite(min_new_peak_distance) and min_new_peak_distance >= 0):
            raise DetectionError(f"min_new_peak_distance must be finite and >= 0, got {min_new_peak_distance!r}")
        out, region = self._relabel(other, 0, 0, min_new_peak_distance, 0)
        return FootprintSet._from_kernel(out, region, self._sign)
