"""`PeakCatalog`: the peaks of a footprint as numpy columns."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._afw import det_cull  # type: ignore[attr-defined]
from ._errors import DetectionError

__all__ = ["PEAK_COLUMNS", "Peak", "PeakCatalog"]

PEAK_COLUMNS: dict[str, type] = {
    "id": np.int64,
    "ix": np.int32,
    "iy": np.int32,
    "fx": np.float64,
    "fy": np.float64,
    "peak_value": np.float64,
    "significance": np.float64,
}
"""Column name -> dtype of every `PeakCatalog`."""


class Peak(NamedTuple):
    """One row of a `PeakCatalog`."""

    id: int
    """Identifier, unique within the footprint set that found it (1, 2, ...)."""
    ix: int
    """Column of the peak pixel (parent frame)."""
    iy: int
    """Row of the peak pixel (parent frame)."""
    fx: float
    """Sub-pixel x: vertex of the parabola through the peak and its row neighbours (within 0.5 px)."""
    fy: float
    """Sub-pixel y, from the column neighbours."""
    peak_value: float
    """Image value at the peak pixel (image units; negative for negative-polarity detections)."""
    significance: float
    """``|peak_value| / sigma``: sigma from the variance plane at the pixel, else the image noise; NaN if unknown."""


class PeakCatalog:
    """Columnar table of peaks (`PEAK_COLUMNS`): ``id, ix, iy, fx, fy, peak_value, significance``.

    ``catalog["fx"]`` is a column (numpy array), ``catalog[i]`` a `Peak`, ``catalog[mask]``
    or ``catalog[slice]`` a new catalog. Peaks found by detection are sorted by value,
    brightest (most extreme) first. Columns are read-only views shared with the footprint set
    that made them.
    """

    __slots__ = ("_cols",)

    def __init__(self, columns: Mapping[str, ArrayLike] | None = None) -> None:
        cols: dict[str, NDArray[Any]] = {}
        source = columns or {}
        unknown = set(source) - set(PEAK_COLUMNS)
        if unknown:
            raise DetectionError(f"unknown peak columns {sorted(unknown)}; expected {list(PEAK_COLUMNS)}")
        n = None
        for name, dtype in PEAK_COLUMNS.items():
            if name in source:
                arr = np.ascontiguousarray(source[name], dtype=dtype)
                if arr.ndim != 1 or (n is not None and arr.size != n):
                    raise DetectionError(f"peak column {name!r} must be 1-D with the length of the others")
                n = arr.size
                cols[name] = arr
        n = n or 0
        for name, dtype in PEAK_COLUMNS.items():
            if name not in cols:
                fill = np.arange(1, n + 1) if name == "id" else (0 if np.dtype(dtype).kind == "i" else np.nan)
                cols[name] = np.broadcast_to(np.asarray(fill, dtype=dtype), (n,)).copy()
        for arr in cols.values():
            arr.flags.writeable = False
        self._cols = cols

    @classmethod
    def _wrap(cls, cols: dict[str, NDArray[Any]]) -> PeakCatalog:
        obj = cls.__new__(cls)
        obj._cols = cols
        return obj

    @classmethod
    def concatenate(cls, catalogs: Sequence[PeakCatalog]) -> PeakCatalog:
        """All rows of ``catalogs``, in order."""
        if not catalogs:
            return cls()
        return cls({name: np.concatenate([c._cols[name] for c in catalogs]) for name in PEAK_COLUMNS})

    def __len__(self) -> int:
        return int(self._cols["id"].size)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return self._cols[key]
            except KeyError:
                raise DetectionError(f"no peak column {key!r}; columns are {list(PEAK_COLUMNS)}") from None
        if isinstance(key, (int, np.integer)):
            n = len(self)
            i = int(key) + n if key < 0 else int(key)
            if not 0 <= i < n:
                raise IndexError(f"peak index {key} out of range for {n} peaks")
            return Peak(*(self._cols[name][i].item() for name in PEAK_COLUMNS))
        return PeakCatalog({name: col[key] for name, col in self._cols.items()})

    def __iter__(self) -> Iterator[Peak]:
        for i in range(len(self)):
            yield self[i]

    @property
    def columns(self) -> list[str]:
        """Column names, in `PEAK_COLUMNS` order."""
        return list(PEAK_COLUMNS)

    def sorted_by_value(self, sign: int = 1) -> PeakCatalog:
        """Rows sorted by ``sign * peak_value``, largest first (stable)."""
        order = np.argsort(-sign * self._cols["peak_value"], kind="stable")
        return self[order]

    def deduplicated(self, min_separation: float) -> PeakCatalog:
        """Greedy culling in row order: a peak closer than ``min_separation`` pixels to a kept
        earlier peak is dropped (sort first with `sorted_by_value` to favour bright peaks)."""
        n = len(self)
        groups = np.arange(n, dtype=np.int32)
        keep = det_cull(self._cols["ix"], self._cols["iy"], groups, float(min_separation))
        return self[keep]

    def to_dict(self) -> dict[str, NDArray[Any]]:
        """The columns (read-only arrays)."""
        return dict(self._cols)

    def to_astropy(self) -> Any:
        """An `astropy.table.Table` with the same columns (copies)."""
        from astropy.table import Table

        return Table({name: np.array(col) for name, col in self._cols.items()})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PeakCatalog):
            return NotImplemented
        floats = ("fx", "fy", "peak_value", "significance")
        return all(np.array_equal(self._cols[n], other._cols[n], equal_nan=n in floats) for n in PEAK_COLUMNS)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PeakCatalog({len(self)} peaks)"
