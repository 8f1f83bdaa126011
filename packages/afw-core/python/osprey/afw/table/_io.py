"""Conversions of `SourceCatalog` to and from astropy Tables, FITS binary tables and Arrow/Parquet.

Every conversion keeps values and dtypes to the bit, plus units, docs, slots, aliases and
metadata. Files are written atomically: to a temporary file in the destination directory,
then renamed over the target with `os.replace`, so a failed write never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AfwValueError
from ..metadata import PropertyList
from ._catalog import SourceCatalog
from ._errors import TableError
from ._schema import Field, Schema

if TYPE_CHECKING:
    import pyarrow
    from astropy.table import Table

__all__ = [
    "catalog_from_arrow",
    "catalog_from_astropy",
    "catalog_to_arrow",
    "catalog_to_astropy",
    "read_fits",
    "read_parquet",
    "write_fits",
    "write_parquet",
]

META_ALIASES = "osprey_aliases"
META_SLOTS = "osprey_slots"
META_METADATA = "osprey_metadata"
_ARROW_PREFIX = b"osprey."
# Primary-header keywords astropy writes itself; user metadata may not use them.
_FITS_PRIMARY_RESERVED = frozenset({"SIMPLE", "BITPIX", "NAXIS", "EXTEND"})


def _build(schema: Schema, columns: dict[str, np.ndarray], metadata: PropertyList) -> SourceCatalog:
    try:
        return SourceCatalog(schema, columns, metadata=metadata, copy=False)
    except AfwValueError:
        raise
    except (TypeError, ValueError) as err:
        raise TableError(f"cannot build a SourceCatalog: {err}") from err


def _schema_extras(schema_fields: list[Field], aliases: dict[str, str], slots: dict[str, str], where: str) -> Schema:
    try:
        return Schema(schema_fields, aliases=aliases, slots=slots)
    except TableError as err:
        raise TableError(f"{where}: {err}") from err


# -- astropy ---------------------------------------------------------------------------------
def catalog_to_astropy(cat: SourceCatalog) -> Table:
    """See `SourceCatalog.to_astropy`."""
    from astropy import units as u
    from astropy.table import Column, Table

    schema = cat._schema
    cols = [
        Column(
            cat._columns[f.name].copy(),
            name=f.name,
            unit=u.Unit(f.unit) if f.unit else None,
            description=f.doc or None,
        )
        for f in schema
    ]
    meta = {
        META_ALIASES: schema.aliases,
        META_SLOTS: schema.slots,
        META_METADATA: [tuple(card) for card in cat.metadata.cards()],
    }
    return Table(cols, meta=meta, copy=False)


def _numpy_column(name: str, values: Any, where: str) -> np.ndarray:
    """Plain native-endian 1-D array from an astropy/FITS column; masked floats become NaN."""
    mask = getattr(values, "mask", None)
    if mask is not None and np.any(mask):
        if np.asarray(values).dtype.kind != "f":
            raise TableError(f"{where}: column {name!r} has masked values and is not float; fill them first")
        values = values.filled(np.nan)
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise TableError(f"{where}: column {name!r} has shape {arr.shape}; only scalar (1-D) columns are supported")
    if arr.dtype.kind == "S":
        arr = np.char.decode(arr, "ascii")
    if arr.dtype.byteorder not in "=|":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def catalog_from_astropy(table: Table) -> SourceCatalog:
    """See `SourceCatalog.from_astropy`."""
    fields, columns = [], {}
    for name in table.colnames:
        col = table[name]
        arr = _numpy_column(name, col, "from_astropy")
        unit = col.unit.to_string() if col.unit is not None else ""
        fields.append(Field(name, arr.dtype, unit, col.description or ""))
        columns[name] = arr
    meta = dict(table.meta)
    aliases = dict(meta.pop(META_ALIASES, {}) or {})
    slots = dict(meta.pop(META_SLOTS, {}) or {})
    cards = meta.pop(META_METADATA, None)
    try:
        metadata = PropertyList(tuple(card) for card in cards) if cards is not None else PropertyList()
        for key, value in meta.items():  # plain astropy meta (e.g. from a FITS header)
            if key.lower() in ("comments", "history") and isinstance(value, list):
                metadata.add("COMMENT" if key.lower() == "comments" else "HISTORY", value)
            else:
                metadata.add(key, value)
    except AfwValueError as err:
        raise TableError(f"from_astropy: table.meta cannot become metadata: {err}") from err
    schema = _schema_extras(fields, aliases, slots, "from_astropy")
    return _build(schema, columns, metadata)


# -- atomic writes ---------------------------------------------------------------------------
@contextlib.contextmanager
def _atomic_target(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``, else delete it."""
    final = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(final))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(final)}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# -- FITS ------------------------------------------------------------------------------------
def _fits_text(what: str, text: str) -> str:
    if not (text.isascii() and text.isprintable()):
        raise TableError(f"{what} {text!r} is not printable ASCII, which FITS headers require")
    return text


def write_fits(cat: SourceCatalog, path: str | os.PathLike[str]) -> None:
    """See `SourceCatalog.write_fits`."""
    from astropy.io import fits
    from astropy.table import Table

    schema = cat._schema
    for f in schema:
        if f.dtype.kind == "U" and len(cat) and not all(s.isascii() for s in np.unique(cat._columns[f.name])):
            raise TableError(f"write_fits {path}: column {f.name!r} holds non-ASCII text, which FITS cannot store")
    plain = Table([cat._columns[f.name] for f in schema], names=schema.names, copy=False)
    hdu = fits.table_to_hdu(plain)
    header = hdu.header
    for i, f in enumerate(schema, start=1):
        if f.unit:
            header.set(f"TUNIT{i}", _fits_text(f"unit of {f.name!r}", f.unit), after=f"TFORM{i}")
        if f.doc:
            header.set(
                f"TDOC{i}", _fits_text(f"doc of {f.name!r}", f.doc), after=f"TUNIT{i}" if f.unit else f"TFORM{i}"
            )
    for slot, prefix in schema.slots.items():
        header.append(("SLOT", f"{slot}:{prefix}", "slot:field prefix"), end=True)
    for alias, target in schema.aliases.items():
        header.append(("ALIAS", f"{alias}:{target}", "alias:target"), end=True)
    header["EXTNAME"] = "SOURCES"

    primary = fits.PrimaryHDU()
    reserved = [key for key in cat.metadata.names() if key.upper() in _FITS_PRIMARY_RESERVED]
    if reserved:
        raise TableError(f"write_fits {path}: metadata keys {reserved} are reserved by FITS; rename them")
    for card in cat.metadata.to_fits_header().cards:
        primary.header.append(card, end=True)
    with _atomic_target(path) as tmp:
        fits.HDUList([primary, hdu]).writeto(tmp, overwrite=True)


def read_fits(path: str | os.PathLike[str], hdu: int = 1) -> SourceCatalog:
    """See `SourceCatalog.read_fits`."""
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        if hdu >= len(hdul) or not isinstance(hdul[hdu], fits.BinTableHDU):
            raise TableError(f"read_fits {path}: HDU {hdu} is not a binary table ({len(hdul)} HDUs in the file)")
        primary = hdul[0].header.copy()
        for key in _FITS_PRIMARY_RESERVED:
            primary.remove(key, ignore_missing=True, remove_all=True)
        metadata = PropertyList.from_fits_header(primary)
        table = hdul[hdu]
        header = table.header
        data = table.data
        fields, columns = [], {}
        for i, column in enumerate(table.columns, start=1):
            name = column.name
            if data is None:
                arr = np.zeros(0, dtype=column.dtype)
            else:
                arr = data[name]
            arr = _numpy_column(name, arr, f"read_fits {path}")
            unit = str(header.get(f"TUNIT{i}", "")).strip()
            doc = header.get(f"TDOC{i}", header.get(f"TCOMM{i}", ""))
            try:
                fields.append(Field(name, arr.dtype, unit, str(doc)))
            except TableError as err:
                raise TableError(f"read_fits {path}: {err}") from err
            columns[name] = np.array(arr, dtype=fields[-1].dtype, copy=True)
        slots = _pairs(header, "SLOT", path)
        aliases = _pairs(header, "ALIAS", path)
    schema = _schema_extras(fields, aliases, slots, f"read_fits {path}")
    return _build(schema, columns, metadata)


def _pairs(header: Any, keyword: str, path: Any) -> dict[str, str]:
    out = {}
    for card in header.cards:
        if card.keyword == keyword:
            name, sep, target = str(card.value).partition(":")
            if not sep:
                raise TableError(f"read_fits {path}: {keyword} card {card.value!r} is not 'name:target'")
            out[name] = target
    return out


# -- Arrow / Parquet -------------------------------------------------------------------------
def _encode_value(value: Any) -> Any:
    return {"complex": [value.real, value.imag]} if isinstance(value, complex) else value


def _decode_value(value: Any) -> Any:
    return complex(*value["complex"]) if isinstance(value, dict) else value


def catalog_to_arrow(cat: SourceCatalog) -> pyarrow.Table:
    """See `SourceCatalog.to_arrow`."""
    import pyarrow as pa

    schema = cat._schema
    arrays, fields = [], []
    for f in schema:
        col = cat._columns[f.name]
        arr = pa.array(col, type=pa.string()) if f.dtype.kind == "U" else pa.array(col)
        meta = {"unit": f.unit, "description": f.doc, "numpy_dtype": f.dtype.str}
        arrays.append(arr)
        fields.append(pa.field(f.name, arr.type, nullable=False, metadata=meta))
    cards = [[key, _encode_value(value), comment] for key, value, comment in cat.metadata.cards()]
    table_meta = {
        _ARROW_PREFIX + b"aliases": json.dumps(schema.aliases),
        _ARROW_PREFIX + b"slots": json.dumps(schema.slots),
        _ARROW_PREFIX + b"metadata": json.dumps(cards),
    }
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=table_meta))


def catalog_from_arrow(table: pyarrow.Table) -> SourceCatalog:
    """See `SourceCatalog.from_arrow`."""
    import pyarrow as pa

    fields, columns = [], {}
    for i, afield in enumerate(table.schema):
        meta = {k.decode(): v.decode() for k, v in (afield.metadata or {}).items()}
        chunked = table.column(i)
        if chunked.null_count and not pa.types.is_floating(afield.type):
            raise TableError(f"from_arrow: column {afield.name!r} ({afield.type}) has nulls and is not float")
        values = chunked.to_numpy()
        if "numpy_dtype" in meta:
            dtype = np.dtype(meta["numpy_dtype"])
        elif pa.types.is_string(afield.type) or pa.types.is_large_string(afield.type):
            dtype = np.dtype(f"U{max(1, max((len(s) for s in values), default=1))}")
        else:
            dtype = values.dtype
        try:
            field = Field(afield.name, dtype, meta.get("unit", ""), meta.get("description", ""))
        except TableError as err:
            raise TableError(f"from_arrow: {err}") from err
        fields.append(field)
        columns[field.name] = np.array(values, dtype=field.dtype, copy=True)
    tmeta = table.schema.metadata or {}

    def load(key: bytes, default: Any) -> Any:
        raw = tmeta.get(_ARROW_PREFIX + key)
        try:
            return json.loads(raw) if raw is not None else default
        except ValueError as err:
            raise TableError(f"from_arrow: schema metadata {key.decode()!r} is not valid JSON: {err}") from err

    cards = load(b"metadata", [])
    try:
        metadata = PropertyList((key, _decode_value(value), comment) for key, value, comment in cards)
    except (AfwValueError, TypeError) as err:
        raise TableError(f"from_arrow: stored metadata is invalid: {err}") from err
    schema = _schema_extras(fields, load(b"aliases", {}), load(b"slots", {}), "from_arrow")
    return _build(schema, columns, metadata)


def write_parquet(cat: SourceCatalog, path: str | os.PathLike[str]) -> None:
    """See `SourceCatalog.write_parquet`."""
    import pyarrow.parquet as pq

    table = catalog_to_arrow(cat)
    with _atomic_target(path) as tmp:
        pq.write_table(table, tmp)


def read_parquet(path: str | os.PathLike[str]) -> SourceCatalog:
    """See `SourceCatalog.read_parquet`."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as err:
        raise TableError(f"read_parquet {path}: not a readable Parquet file: {err}") from err
    try:
        return catalog_from_arrow(table)
    except TableError as err:
        raise TableError(f"read_parquet {path}: {err}") from err
