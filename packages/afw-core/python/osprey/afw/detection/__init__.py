"""Detection and footprints: thresholds, span sets, peaks, footprints and footprint sets.

`FootprintSet.from_image` finds the 8-connected regions of an image beyond a `Threshold`
and the peaks inside them in one C++ call; `SpanSet` is the run-length pixel set behind
every `Footprint`, with set algebra and morphology on runs; `HeavyFootprint` carries the
pixel values under a footprint. Everything that touches pixels or spans runs in C++
(``osprey.afw._afw``) with the GIL released.

Not lifted: ``_threshold.PixelThreshold`` and ``robust_noise`` (evaluation details), the
kernel helpers of ``_spanset``.
"""

from ._errors import DetectionError
from ._footprint import Footprint, HeavyFootprint, merge_peaks
from ._footprint_set import FootprintSet
from ._peaks import PEAK_COLUMNS, Peak, PeakCatalog
from ._spanset import SpanSet
from ._threshold import Threshold, robust_stdev

__all__ = [
    "PEAK_COLUMNS",
    "DetectionError",
    "Footprint",
    "FootprintSet",
    "HeavyFootprint",
    "Peak",
    "PeakCatalog",
    "SpanSet",
    "Threshold",
    "merge_peaks",
    "robust_stdev",
]
