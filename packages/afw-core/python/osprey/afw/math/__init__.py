"""Image arithmetic for Osprey: statistics of image regions and background estimation."""

from ._background import (
    DEFAULT_BACKGROUND_BAD_PLANES,
    Background,
    BackgroundControl,
    estimate_background,
    subtract_background,
)
from ._statistics import Property, Statistics, StatisticsControl, make_statistics

__all__ = [
    "DEFAULT_BACKGROUND_BAD_PLANES",
    "Background",
    "BackgroundControl",
    "Property",
    "Statistics",
    "StatisticsControl",
    "estimate_background",
    "make_statistics",
    "subtract_background",
]
