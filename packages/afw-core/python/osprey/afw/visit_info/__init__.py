"""Observation metadata: `VisitInfo` with its `FilterLabel`, `Observatory`, `Weather` and `RotType` parts.

`VisitInfo` persists as plain values (`VisitInfo.to_dict`, times as ISO strings in TAI)
and as FITS-style keywords (`VisitInfo.to_property_list`), and computes the local Earth
rotation angle, hour angle, altitude/azimuth and airmass with astropy.
"""

from ._components import FilterLabel, Observatory, RotType, Weather
from ._visit_info import VisitInfo

__all__ = ["FilterLabel", "Observatory", "RotType", "VisitInfo", "Weather"]
