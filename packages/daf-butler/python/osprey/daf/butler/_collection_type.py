"""The four kinds of collection."""

from __future__ import annotations

import enum

__all__ = ["CollectionType"]


class CollectionType(enum.IntEnum):
    """Kinds of collection (values are stored in the registry; never renumber).

    RUN holds the datasets written together and owns them: a dataset belongs to exactly
    one run. TAGGED lists datasets by reference. CHAINED is an ordered search path of
    other collections. CALIBRATION associates datasets with validity timespans.
    """

    RUN = 1
    TAGGED = 2
    CHAINED = 3
    CALIBRATION = 4
