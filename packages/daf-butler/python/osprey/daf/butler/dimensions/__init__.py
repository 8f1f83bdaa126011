"""Dimensions: the universe of data ID keys, dimension records and data coordinates."""

from ._coordinate import DataCoordinate, DataIdValue
from ._records import DimensionRecord
from ._universe import DimensionElement, DimensionGroup, DimensionUniverse, FieldSpec, SkyPixDimension

__all__ = [
    "DataCoordinate",
    "DataIdValue",
    "DimensionElement",
    "DimensionGroup",
    "DimensionRecord",
    "DimensionUniverse",
    "FieldSpec",
    "SkyPixDimension",
]
