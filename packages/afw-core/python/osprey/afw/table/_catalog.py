"""`SourceCatalog`: a columnar source table (one numpy array per field) with slots and footprints."""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..metadata import PropertyList
from ._errors import SchemaMismatchError, TableError
from ._schema import Field, Schema

if TYPE_CHECKING:
    import pandas
    import pyarrow
    from astropy.table import Table

__all__ = ["SourceCatalog", "concatenate"]

_MINIMAL = (
    ("id", "i8", "", "Unique source identifier."),
    ("coord_ra", "f8", "rad", "Right ascension (ICRS)."),
    ("coord_dec", "f8", "rad", "Declination (ICRS)."),
    ("parent", "i8", "", "Identifier of the parent source this one was deblended from; 0 for none."),
)


def _as_column(field: Field, values: ArrayLike, n: int | None, *, copy: bool) -> NDArray[Any]:
    """Convert ``values`` to a 1-D array of ``field.dtype`` (length ``n`` when given, scalars broadcast)."""
    arr = np.asarray(values)
    if arr.ndim == 0 and n is not None:
        arr = np.full(n, arr, dtype=field.dtype)
        copy = False
    if arr.ndim != 1:
        raise TableError(f"column {field.name!r}: values must be 1-D, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise TableError(f"column {field.name!r} has length {arr.shape[0]}, but the catalog has {n} rows")
    if arr.dtype.kind == "U" and field.dtype.kind == "U":
        if arr.dtype.itemsize > field.dtype.itemsize and (np.char.str_len(arr) > field.dtype.itemsize // 4).any():
            raise TableError(f"column {field.name!r}: a string is longer than the field width {field.dtype}")
    elif arr.dtype.kind in "iu" and field.dtype.kind in "iu" and arr.dtype != field.dtype:
        info = np.iinfo(field.dtype)
        if arr.size and (arr.min() < info.min or arr.max() > info.max):
            raise TableError(
                f"column {field.name!r}: values span [{arr.min()}, {arr.max()}], outside the {field.dtype} range"
            )
    elif arr.dtype != field.dtype and not np.can_cast(arr.dtype, field.dtype, "same_kind"):
        raise TableError(f"column {field.name!r}: cannot store {arr.dtype} values in a {field.dtype} field")
    if arr.dtype == field.dtype and arr.flags.c_contiguous and not copy:
        return arr
    return np.array(arr, dtype=field.dtype, copy=True, order="C")


def _index_kind(key: Any) -> str:
    if isinstance(key, slice):
        return "slice"
    arr = np.asarray(key)
    if arr.ndim == 1 and (arr.dtype == bool or arr.dtype.kind in "iu" or arr.size == 0):
        return "array"
    raise TableError(
        f"cannot index a catalog with {key!r}: use a column name, a slice, a boolean mask or an "
        "integer array (for one row, cat[[i]] or cat.row(i))"
    )


class SourceCatalog:
    """Columnar catalog of sources: one numpy array per schema field, all the same length.

    Every schema holds the minimal source fields (`minimal_schema`): ``id`` (int64),
    ``coord_ra`` and ``coord_dec`` (float64, radians, ICRS) and ``parent`` (int64, 0 for
    no parent). Row selection, sorting, joins and concatenation are vectorised numpy
    operations; nothing loops over rows in Python.

    Footprints are opaque objects keyed by source ``id`` (`footprints`); they follow their
    rows through selection, sorting, joins and concatenation, but are not written by the
    file formats.

    Parameters
    ----------
    schema : `Schema`, optional
        Column contract; `minimal_schema` when omitted. The catalog keeps a copy.
    columns : mapping of str to array_like, optional
        Initial values per field; fields not given are filled with `Field.default_value`.
        A name may be an alias. Values are cast (``same_kind``) to the field's dtype.
    length : `int`, optional
        Number of rows, needed only when ``columns`` is empty (default 0).
    metadata : `PropertyList`, optional
        Header-like metadata (copied).
    footprints : mapping of int to object, optional
        Footprints by source id; every key must be an id in the catalog.
    copy : `bool`, optional
        Copy the column arrays (default). With False, arrays of the right dtype are kept
        as they are, so the catalog and the caller share memory.

    Raises
    ------
    TableError
        If the schema lacks a minimal field, a column has the wrong length or dtype, or a
        footprint key is not an id of the catalog.
    UnknownColumnError
        If ``columns`` names a field the schema does not have.

    Examples
    --------
    >>> cat = SourceCatalog(columns={"id": [1, 2], "coord_ra": [0.1, 0.2], "coord_dec": [0.0, 0.1]})
    >>> len(cat), cat["parent"].tolist()
    (2, [0, 0])
    """

    __slots__ = ("_columns", "_footprints", "_length", "_metadata", "_schema")
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(
        self,
        schema: Schema | None = None,
        columns: Mapping[str, ArrayLike] | None = None,
        *,
        length: int | None = None,
        metadata: PropertyList | None = None,
        footprints: Mapping[int, Any] | None = None,
        copy: bool = True,
    ) -> None:
        schema = self.minimal_schema() if schema is None else schema
        if not isinstance(schema, Schema):
            raise TableError(f"schema must be a Schema, got {type(schema).__name__}")
        self._check_minimal(schema)
        self._schema = schema.copy()
        given = {schema.find(name).name: values for name, values in (columns or {}).items()}
        n = length
        for name, values in given.items():
            m = np.shape(values)
            if len(m) == 1:
                if n is not None and m[0] != n:
                    raise TableError(f"column {name!r} has length {m[0]}, but the catalog has {n} rows")
                n = m[0]
        n = 0 if n is None else int(n)
        self._length = n
        self._columns: dict[str, NDArray[Any]] = {}
        for field in schema:
            if field.name in given:
                self._columns[field.name] = _as_column(field, given[field.name], n, copy=copy)
            else:
                self._columns[field.name] = np.full(n, field.default_value(), dtype=field.dtype)
        if metadata is not None and not isinstance(metadata, PropertyList):
            raise TableError(f"metadata must be a PropertyList, got {type(metadata).__name__}")
        self._metadata = PropertyList() if metadata is None else metadata.copy()
        self._footprints: dict[int, Any] = {}
        if footprints:
            self.set_footprints(footprints)

    @staticmethod
    def minimal_schema() -> Schema:
        """A new schema with just ``id``, ``coord_ra``, ``coord_dec`` and ``parent``."""
        return Schema(Field(*spec) for spec in _MINIMAL)

    @staticmethod
    def _check_minimal(schema: Schema) -> None:
        for name, dtype, unit, _doc in _MINIMAL:
            if name not in schema.names:
                raise TableError(
                    f"schema lacks the minimal source field {name!r}; start from SourceCatalog.minimal_schema()"
                )
            field = schema.find(name)
            if field.dtype != np.dtype(dtype) or field.unit != unit:
                raise TableError(
                    f"minimal field {name!r} must be {np.dtype(dtype)} with unit {unit!r}, "
                    f"got {field.dtype} with unit {field.unit!r}"
                )

    @classmethod
    def _from_parts(
        cls,
        schema: Schema,
        columns: dict[str, NDArray[Any]],
        metadata: PropertyList,
        footprints: dict[int, Any],
    ) -> SourceCatalog:
        """Assemble from already-validated parts (no copies, no checks)."""
        out = cls.__new__(cls)
        out._schema = schema
        out._columns = columns
        out._length = len(next(iter(columns.values()))) if columns else 0
        out._metadata = metadata
        out._footprints = footprints
        return out

    # -- basic access ----------------------------------------------------------------------
    @property
    def schema(self) -> Schema:
        """The schema (a copy: change columns with `add_column`, slots with `set_slot`)."""
        return self._schema.copy()

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return list(self._columns)

    @property
    def metadata(self) -> PropertyList:
        """Header-like metadata of the catalog (the live object)."""
        return self._metadata

    @metadata.setter
    def metadata(self, value: PropertyList) -> None:
        if not isinstance(value, PropertyList):
            raise TableError(f"metadata must be a PropertyList, got {type(value).__name__}")
        self._metadata = value

    def __len__(self) -> int:
        return self._length

    def __contains__(self, name: object) -> bool:
        return name in self._schema

    def __getitem__(self, key: Any) -> Any:
        """``cat["name"]`` is the column (a view; aliases resolved); any other key selects rows.

        A slice gives a catalog whose columns are views; a boolean mask or an integer
        array gives a catalog with copied columns.
        """
        if isinstance(key, str):
            return self._columns[self._schema.find(key).name]
        kind = _index_kind(key)
        if kind == "array":
            key = np.asarray(key)
            if key.dtype == bool and key.shape[0] != self._length:
                raise TableError(f"boolean mask has length {key.shape[0]}, but the catalog has {self._length} rows")
            if key.dtype.kind in "iu" and key.size and (key.max() >= self._length or key.min() < -self._length):
                raise TableError(f"row index out of range for a catalog of {self._length} rows")
            if key.size == 0:
                key = key.astype(np.intp)
        columns = {name: col[key] for name, col in self._columns.items()}
        out = SourceCatalog._from_parts(self._schema.copy(), columns, self._metadata.copy(), {})
        out._length = len(columns["id"])
        out._footprints = self._footprints_for(columns["id"])
        return out

    def __setitem__(self, name: str, values: ArrayLike) -> None:
        """Overwrite the values of an existing column (a scalar broadcasts); use `add_column` to add one."""
        if not isinstance(name, str):
            raise TableError("assign whole columns only: cat['name'] = values")
        field = self._schema.find(name)
        self._columns[field.name] = _as_column(field, values, self._length, copy=True)

    def row(self, index: int) -> dict[str, Any]:
        """One row as ``{name: numpy scalar}`` (for inspection, not for loops)."""
        if not -self._length <= index < self._length:
            raise TableError(f"row {index} out of range for a catalog of {self._length} rows")
        return {name: col[index] for name, col in self._columns.items()}

    def add_column(
        self, field: Field | str, values: ArrayLike | None = None, *, dtype: Any = None, unit: Any = "", doc: str = ""
    ) -> Field:
        """Append a column (in place); ``values`` default to `Field.default_value`. Returns the field.

        Raises
        ------
        TableError
            If the name exists, the field is invalid, or the values have the wrong length.
        """
        if not isinstance(field, Field):
            if dtype is None:
                if values is None:
                    raise TableError(f"column {field!r}: give values or a dtype")
                dtype = np.asarray(values).dtype
            field = Field(field, dtype, unit, doc)
        schema = self._schema.copy()
        schema.add_field(field)
        if values is None:
            column = np.full(self._length, field.default_value(), dtype=field.dtype)
        else:
            column = _as_column(field, values, self._length, copy=True)
        self._schema = schema
        self._columns[field.name] = column
        return field

    def set_slot(self, slot: str, prefix: str | None) -> None:
        """Point a slot at a field prefix (see `Schema.set_slot`)."""
        self._schema.set_slot(slot, prefix)

    def set_alias(self, alias: str, target: str) -> None:
        """Add an alias (see `Schema.set_alias`)."""
        self._schema.set_alias(alias, target)

    def copy(self) -> SourceCatalog:
        """Deep copy of columns, schema and metadata; footprint objects are shared, the mapping is not."""
        columns = {name: col.copy() for name, col in self._columns.items()}
        out = SourceCatalog._from_parts(self._schema.copy(), columns, self._metadata.copy(), dict(self._footprints))
        out._length = self._length
        return out

    def equals(self, other: SourceCatalog) -> bool:
        """True if schema, metadata and every column are identical to the bit (NaNs included)."""
        if not isinstance(other, SourceCatalog) or self._schema != other._schema or len(self) != len(other):
            return False
        if self._metadata != other._metadata:
            return False
        for name, col in self._columns.items():
            theirs = other._columns[name]
            if col.dtype.kind == "U":
                if not np.array_equal(col, theirs):
                    return False
            elif col.tobytes() != theirs.tobytes():
                return False
        return True

    def __repr__(self) -> str:
        names = ", ".join(self.names[:8]) + (", ..." if len(self.names) > 8 else "")
        return f"SourceCatalog({self._length} rows; columns {names})"

    # -- slots -----------------------------------------------------------------------------
    def get_slot(self, slot: str, suffix: str) -> NDArray[Any]:
        """Column ``suffix`` of ``slot``, e.g. ``get_slot("centroid", "x_err")`` (a view)."""
        return self._columns[self._schema.slot_column(slot, suffix)]

    @property
    def centroid_x(self) -> NDArray[np.floating]:
        """Centroid slot x (pixels)."""
        return self.get_slot("centroid", "x")

    @property
    def centroid_y(self) -> NDArray[np.floating]:
        """Centroid slot y (pixels)."""
        return self.get_slot("centroid", "y")

    @property
    def centroid_flag(self) -> NDArray[np.bool_]:
        """Centroid slot failure flag."""
        return self.get_slot("centroid", "flag")

    @property
    def shape_xx(self) -> NDArray[np.floating]:
        """Shape slot second moment xx (pixels^2)."""
        return self.get_slot("shape", "xx")

    @property
    def shape_yy(self) -> NDArray[np.floating]:
        """Shape slot second moment yy (pixels^2)."""
        return self.get_slot("shape", "yy")

    @property
    def shape_xy(self) -> NDArray[np.floating]:
        """Shape slot second moment xy (pixels^2)."""
        return self.get_slot("shape", "xy")

    @property
    def shape_flag(self) -> NDArray[np.bool_]:
        """Shape slot failure flag."""
        return self.get_slot("shape", "flag")

    @property
    def psf_flux(self) -> NDArray[np.floating]:
        """PSF flux slot value."""
        return self.get_slot("psf_flux", "flux")

    @property
    def psf_flux_err(self) -> NDArray[np.floating]:
        """PSF flux slot uncertainty."""
        return self.get_slot("psf_flux", "flux_err")

    @property
    def psf_flux_flag(self) -> NDArray[np.bool_]:
        """PSF flux slot failure flag."""
        return self.get_slot("psf_flux", "flag")

    @property
    def ap_flux(self) -> NDArray[np.floating]:
        """Aperture flux slot value."""
        return self.get_slot("ap_flux", "flux")

    @property
    def ap_flux_err(self) -> NDArray[np.floating]:
        """Aperture flux slot uncertainty."""
        return self.get_slot("ap_flux", "flux_err")

    @property
    def ap_flux_flag(self) -> NDArray[np.bool_]:
        """Aperture flux slot failure flag."""
        return self.get_slot("ap_flux", "flag")

    @property
    def calib_flux(self) -> NDArray[np.floating]:
        """Calibration flux slot value."""
        return self.get_slot("calib_flux", "flux")

    @property
    def calib_flux_err(self) -> NDArray[np.floating]:
        """Calibration flux slot uncertainty."""
        return self.get_slot("calib_flux", "flux_err")

    @property
    def calib_flux_flag(self) -> NDArray[np.bool_]:
        """Calibration flux slot failure flag."""
        return self.get_slot("calib_flux", "flag")

    # -- footprints ------------------------------------------------------------------------
    @property
    def footprints(self) -> Mapping[int, Any]:
        """Read-only view of ``{source id: footprint}``; change it with `set_footprints`."""
        return types.MappingProxyType(self._footprints)

    def set_footprints(self, footprints: Mapping[int, Any]) -> None:
        """Attach (or replace) footprints by source id; every id must be in the catalog.

        Raises
        ------
        TableError
            Naming up to five ids that are not in the catalog.
        """
        keys = np.fromiter((int(k) for k in footprints), dtype=np.int64, count=len(footprints))
        missing = keys[~np.isin(keys, self._columns["id"])]
        if missing.size:
            raise TableError(f"footprints given for {missing.size} ids not in the catalog, e.g. {missing[:5].tolist()}")
        self._footprints.update(zip(keys.tolist(), footprints.values(), strict=True))

    def _footprints_for(self, ids: NDArray[np.int64]) -> dict[int, Any]:
        if not self._footprints:
            return {}
        keys = np.fromiter(self._footprints, dtype=np.int64, count=len(self._footprints))
        kept = keys[np.isin(keys, ids)].tolist()
        return {k: self._footprints[k] for k in kept}

    # -- row operations --------------------------------------------------------------------
    def argsort(self, by: str | Sequence[str], *, descending: bool = False) -> NDArray[np.intp]:
        """Stable row order by one column or several (first name is the primary key)."""
        names = [by] if isinstance(by, str) else list(by)
        if not names:
            raise TableError("sort needs at least one column name")
        keys = [self[name] for name in names]
        if descending:
            # Sort the reversed rows ascending (stable), then reverse the result: equal keys
            # keep their original order and everything else comes out descending.
            keys = [k[::-1] for k in keys]
        order = np.argsort(keys[0], kind="stable") if len(keys) == 1 else np.lexsort(keys[::-1])
        if descending:
            order = (self._length - 1 - order)[::-1]
        return order

    def sort(self, by: str | Sequence[str], *, descending: bool = False) -> None:
        """Reorder the rows in place by one or more columns (stable; NaNs last)."""
        order = self.argsort(by, descending=descending)
        self._columns = {name: col[order] for name, col in self._columns.items()}

    def children(self, parent_id: int | ArrayLike) -> SourceCatalog:
        """Rows whose ``parent`` is ``parent_id`` (or any of an array of ids), in catalog order."""
        ids = np.asarray(parent_id, dtype=np.int64)
        parent = self._columns["parent"]
        mask = parent == ids if ids.ndim == 0 else np.isin(parent, ids)
        return self[mask]

    def join(self, other: SourceCatalog, on: str = "id", *, rsuffix: str = "_2") -> SourceCatalog:
        """Inner join on ``on``: rows of ``self`` that have a partner in ``other``, in ``self``'s order.

        The result has every column of ``self`` then the other columns of ``other``; a name
        present in both (except ``on``) takes ``rsuffix`` for ``other``'s copy. Schema
        aliases, slots and metadata come from ``self``; footprints from both.

        Raises
        ------
        TableError
            If ``other``'s keys are not unique (naming some duplicates) or a suffixed
            name still collides.
        """
        key_left = self[on]
        key_right = other[on]
        order = np.argsort(key_right, kind="stable")
        sorted_keys = key_right[order]
        dup = sorted_keys[1:][sorted_keys[1:] == sorted_keys[:-1]]
        if dup.size:
            raise TableError(f"join key {on!r} is not unique in the right catalog, e.g. {np.unique(dup)[:5].tolist()}")
        pos = np.searchsorted(sorted_keys, key_left)
        pos_clip = np.minimum(pos, max(len(sorted_keys) - 1, 0))
        found = (pos < len(sorted_keys)) & (sorted_keys[pos_clip] == key_left) if len(sorted_keys) else pos < 0
        left = np.flatnonzero(found)
        right = order[pos_clip[found]]

        schema = self._schema.copy()
        columns = {name: col[left] for name, col in self._columns.items()}
        on_right = other._schema.find(on).name
        for field in other._schema:
            if field.name == on_right:
                continue
            name = field.name + rsuffix if field.name in self._columns else field.name
            try:
                schema.add_field(Field(name, field.dtype, field.unit, field.doc))
            except TableError as err:
                raise TableError(f"join: column {field.name!r} of the right catalog: {err}") from err
            columns[name] = other._columns[field.name][right]
        footprints = {**other._footprints_for(columns["id"]), **self._footprints_for(columns["id"])}
        out = SourceCatalog._from_parts(schema, columns, self._metadata.copy(), footprints)
        out._length = left.size
        return out

    # -- conversions (implemented in _io) --------------------------------------------------
    def to_astropy(self) -> Table:
        """`astropy.table.Table` with units and descriptions; aliases, slots, metadata in ``meta``.

        Columns are copied. Footprints are not carried.
        """
        from ._io import catalog_to_astropy

        return catalog_to_astropy(self)

    @classmethod
    def from_astropy(cls, table: Table) -> SourceCatalog:
        """Inverse of `to_astropy`; any astropy Table with the minimal columns works.

        Raises
        ------
        TableError
            For a missing minimal column, a multidimensional column, an unsupported dtype,
            or masked values in a non-float column.
        """
        from ._io import catalog_from_astropy

        return catalog_from_astropy(table)

    def to_arrow(self) -> pyarrow.Table:
        """`pyarrow.Table`; per-field unit and doc in field metadata, schema extras in table metadata."""
        from ._io import catalog_to_arrow

        return catalog_to_arrow(self)

    @classmethod
    def from_arrow(cls, table: pyarrow.Table) -> SourceCatalog:
        """Inverse of `to_arrow`."""
        from ._io import catalog_from_arrow

        return catalog_from_arrow(table)

    def write_parquet(self, path: str | Any) -> None:
        """Write a Parquet file atomically (temp file in the same directory, then rename)."""
        from ._io import write_parquet

        write_parquet(self, path)

    @classmethod
    def read_parquet(cls, path: str | Any) -> SourceCatalog:
        """Read a file written by `write_parquet` (or any Parquet file with the minimal columns)."""
        from ._io import read_parquet

        return read_parquet(path)

    def write_fits(self, path: str | Any) -> None:
        """Write a FITS file atomically: metadata in the primary header, the table in HDU 1.

        Units go to ``TUNITn``, docs to ``TDOCn``, slots and aliases to ``SLOT`` and
        ``ALIAS`` cards (``"name:target"``). Trailing spaces of strings are not kept (FITS).
        """
        from ._io import write_fits

        write_fits(self, path)

    @classmethod
    def read_fits(cls, path: str | Any, hdu: int = 1) -> SourceCatalog:
        """Read a FITS binary table written by `write_fits` (``TCOMMn`` is read as a doc too)."""
        from ._io import read_fits

        return read_fits(path, hdu)

    def to_pandas(self) -> pandas.DataFrame:
        """`pandas.DataFrame` of the columns (copied); units and docs in ``df.attrs``.

        Raises
        ------
        ImportError
            If pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError as err:
            raise ImportError("SourceCatalog.to_pandas needs pandas: pip install pandas") from err
        df = pd.DataFrame({name: col.copy() for name, col in self._columns.items()})
        df.attrs["units"] = {f.name: f.unit for f in self._schema}
        df.attrs["docs"] = {f.name: f.doc for f in self._schema}
        return df


def concatenate(catalogs: Iterable[SourceCatalog]) -> SourceCatalog:
    """Stack catalogs with identical schemas row-wise; metadata from the first, footprints from all.

    Raises
    ------
    SchemaMismatchError
        If a schema differs from the first one; the message lists the differing fields.
    TableError
        If no catalog is given.
    """
    cats = list(catalogs)
    if not cats:
        raise TableError("concatenate needs at least one catalog")
    first = cats[0]
    for i, cat in enumerate(cats[1:], start=1):
        if not isinstance(cat, SourceCatalog):
            raise TableError(f"concatenate: item {i} is a {type(cat).__name__}, not a SourceCatalog")
        if cat._schema != first._schema:
            diff = "; ".join(first._schema.difference(cat._schema))
            raise SchemaMismatchError(f"concatenate: catalog {i} has a different schema from catalog 0: {diff}")
    columns = {name: np.concatenate([c._columns[name] for c in cats]) for name in first._columns}
    footprints: dict[int, Any] = {}
    for cat in cats:
        footprints.update(cat._footprints)
    out = SourceCatalog._from_parts(first._schema.copy(), columns, first._metadata.copy(), footprints)
    out._length = sum(len(c) for c in cats)
    return out
