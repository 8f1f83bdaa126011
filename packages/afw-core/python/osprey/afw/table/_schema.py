"""`Field` and `Schema`: the typed, documented column list of a catalog, with aliases and slots."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import TableError, UnknownColumnError

__all__ = ["SLOT_COLUMNS", "SUPPORTED_DTYPES", "Field", "Schema"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

SUPPORTED_DTYPES: tuple[str, ...] = ("b1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8", "U")
"""Column dtypes every format (astropy, FITS, Parquet) keeps exactly; ``"U"`` is any fixed-width str."""

SLOT_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "centroid": (("x", "y"), ("x_err", "y_err", "flag")),
    "shape": (("xx", "yy", "xy"), ("flag",)),
    "psf_flux": (("flux",), ("flux_err", "flag")),
    "ap_flux": (("flux",), ("flux_err", "flag")),
    "calib_flux": (("flux",), ("flux_err", "flag")),
}
"""For each slot, the column suffixes it requires and those it may have.

A slot names a field prefix: slot ``centroid`` -> ``base_sdss_centroid`` means the
columns ``base_sdss_centroid_x`` and ``base_sdss_centroid_y`` (required) and
``base_sdss_centroid_flag`` etc. (optional).
"""


def _normalize_dtype(name: str, dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TableError(f"field {name!r}: {dtype!r} is not a numpy dtype") from err
    if dt.byteorder not in "=|":
        dt = dt.newbyteorder("=")
    ok = dt.kind == "U" and dt.itemsize > 0 or dt.kind != "U" and dt.str[1:] in SUPPORTED_DTYPES
    if not ok:
        raise TableError(
            f"field {name!r}: dtype {dt} is not supported; use one of bool, int16, int32, int64, "
            "uint8, uint16, uint32, uint64, float32, float64 or a fixed-width str ('U<n>')"
        )
    return dt


def _normalize_unit(name: str, unit: Any) -> str:
    from astropy import units as u

    if unit is None:
        return ""
    if isinstance(unit, u.UnitBase):
        return unit.to_string()
    if not isinstance(unit, str):
        raise TableError(f"field {name!r}: unit must be a str or astropy unit, got {unit!r}")
    if unit.strip() == "":
        return ""
    try:
        return u.Unit(unit, parse_strict="raise").to_string()
    except ValueError as err:
        raise TableError(f"field {name!r}: unit {unit!r} is not a valid astropy unit string ({err})") from err


@dataclass(frozen=True)
class Field:
    """One column of a `Schema`: name, numpy dtype, unit and a one-line description.

    Parameters
    ----------
    name : `str`
        Column name: a letter then letters, digits or underscores.
    dtype : dtype-like
        One of `SUPPORTED_DTYPES` (bool, int16/32/64, uint8/16/32/64, float32/64, ``U<n>``);
        stored in native byte order.
    unit : `str` or `astropy.units.UnitBase`, optional
        Parsed by astropy and kept in its generic string form (``"deg2"`` for
        ``"deg**2"``); ``""`` for dimensionless or unitless.
    doc : `str`, optional
        What the column holds.

    Raises
    ------
    TableError
        For a bad name, an unsupported dtype or a unit astropy cannot parse; the message
        names the field.
    """

    name: str
    dtype: np.dtype
    unit: str = ""
    doc: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise TableError(f"field name {self.name!r} is invalid: use a letter then letters, digits or underscores")
        object.__setattr__(self, "dtype", _normalize_dtype(self.name, self.dtype))
        object.__setattr__(self, "unit", _normalize_unit(self.name, self.unit))
        if not isinstance(self.doc, str):
            raise TableError(f"field {self.name!r}: doc must be a str, got {self.doc!r}")

    def to_dict(self) -> dict[str, str]:
        """JSON-ready ``{"name", "dtype", "unit", "doc"}`` (dtype as its numpy ``.str``)."""
        return {"name": self.name, "dtype": self.dtype.str, "unit": self.unit, "doc": self.doc}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Field:
        """Inverse of `to_dict`."""
        try:
            return cls(data["name"], data["dtype"], data.get("unit", ""), data.get("doc", ""))
        except KeyError as err:
            raise TableError(f"field description {dict(data)!r} lacks {err.args[0]!r}") from err

    def default_value(self) -> Any:
        """Fill value for new rows: NaN for floats, 0 for integers, False, or ``""``."""
        if self.dtype.kind == "f":
            return np.nan
        if self.dtype.kind == "U":
            return ""
        return self.dtype.type(0)


class Schema:
    """Ordered fields plus aliases and slots: the column contract of a catalog.

    Aliases map a name to another name and are resolved on lookup, exactly or as a
    prefix (alias ``psf`` -> ``base_psf_flux`` makes ``psf_flux`` resolve to
    ``base_psf_flux_flux``), so a whole group of columns can be renamed at once. Slots
    (`SLOT_COLUMNS`) name the field prefix that plays a standard role, such as the
    centroid or the PSF flux, so catalog code reads ``cat.centroid_x`` whatever
    algorithm produced it.

    Parameters
    ----------
    fields : iterable of `Field`, optional
        Initial fields, in order.
    aliases : mapping of str to str, optional
        ``alias -> target``.
    slots : mapping of str to str, optional
        ``slot -> field prefix``; the slot's required columns must exist.

    Examples
    --------
    >>> s = Schema([Field("base_sdss_centroid_x", "f8", "pix"), Field("base_sdss_centroid_y", "f8", "pix")])
    >>> s.set_slot("centroid", "base_sdss_centroid")
    >>> s.slot_column("centroid", "x")
    'base_sdss_centroid_x'
    """

    __slots__ = ("_aliases", "_fields", "_slots")
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(
        self,
        fields: Iterable[Field] = (),
        *,
        aliases: Mapping[str, str] | None = None,
        slots: Mapping[str, str] | None = None,
    ) -> None:
        self._fields: dict[str, Field] = {}
        self._aliases: dict[str, str] = {}
        self._slots: dict[str, str] = {}
        for field in fields:
            self.add_field(field)
        for alias, target in (aliases or {}).items():
            self.set_alias(alias, target)
        for slot, prefix in (slots or {}).items():
            self.set_slot(slot, prefix)

    # -- fields ----------------------------------------------------------------------------
    def add_field(self, field: Field | str, dtype: Any = None, unit: Any = "", doc: str = "") -> Field:
        """Append a field, given as a `Field` or as ``(name, dtype, unit, doc)``; returns it.

        Raises
        ------
        TableError
            If the name is already a field or an alias, or the field is invalid.
        """
        if not isinstance(field, Field):
            if dtype is None:
                raise TableError(f"field {field!r}: give a dtype")
            field = Field(field, dtype, unit, doc)
        if field.name in self._fields:
            raise TableError(f"field {field.name!r} is already in the schema")
        if field.name in self._aliases:
            raise TableError(f"field {field.name!r} would shadow the alias of that name; remove the alias first")
        self._fields[field.name] = field
        return field

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every field, in column order."""
        return tuple(self._fields.values())

    @property
    def names(self) -> list[str]:
        """Field names, in column order (aliases not included)."""
        return list(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __iter__(self) -> Iterator[Field]:
        return iter(self._fields.values())

    def __contains__(self, name: object) -> bool:
        """True if ``name`` is a field, directly or through an alias."""
        if not isinstance(name, str):
            return False
        try:
            return self.resolve(name) in self._fields
        except TableError:
            return False

    def resolve(self, name: str) -> str:
        """Follow aliases (exact, then longest prefix) until reaching a non-alias name.

        Raises
        ------
        TableError
            If the aliases form a cycle.
        """
        seen = [name]
        while True:
            if name in self._fields:
                return name
            target = self._aliases.get(name)
            if target is None:
                for alias in sorted(self._aliases, key=len, reverse=True):
                    if name.startswith(alias + "_"):
                        target = self._aliases[alias] + name[len(alias) :]
                        break
            if target is None:
                return name
            if target in seen:
                raise TableError(f"aliases form a cycle: {' -> '.join([*seen, target])}")
            seen.append(target)
            name = target

    def find(self, name: str) -> Field:
        """Return the field called ``name`` (aliases resolved).

        Raises
        ------
        UnknownColumnError
            If there is no such field; the message suggests close names.
        """
        resolved = self.resolve(name)
        field = self._fields.get(resolved)
        if field is None:
            raise UnknownColumnError(self._unknown_message(name, resolved))
        return field

    def _unknown_message(self, name: str, resolved: str) -> str:
        via = f" (alias of {resolved!r})" if resolved != name else ""
        close = difflib.get_close_matches(resolved, [*self._fields, *self._aliases], n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        return f"no column {name!r}{via} in schema of {len(self._fields)} fields{hint}"

    def extract(self, prefix: str) -> list[Field]:
        """Fields in the group ``prefix``: named ``prefix`` or starting with ``prefix + "_"``.

        Aliases are resolved on the prefix, so a slot or alias prefix works too.
        """
        resolved = self.resolve(prefix)
        return [f for name, f in self._fields.items() if name == resolved or name.startswith(resolved + "_")]

    # -- aliases ---------------------------------------------------------------------------
    @property
    def aliases(self) -> dict[str, str]:
        """A copy of ``{alias: target}``."""
        return dict(self._aliases)

    def set_alias(self, alias: str, target: str) -> None:
        """Make ``alias`` (and ``alias_<suffix>``) resolve to ``target`` (and ``target_<suffix>``).

        The target need not exist yet (a prefix alias usually names a group, not a field).

        Raises
        ------
        TableError
            If ``alias`` is a field name, either name is malformed, or a cycle would form.
        """
        for what, value in (("alias", alias), ("alias target", target)):
            if not isinstance(value, str) or not _NAME.fullmatch(value):
                raise TableError(f"{what} {value!r} is invalid: use a letter then letters, digits or underscores")
        if alias in self._fields:
            raise TableError(f"alias {alias!r} is already a field name")
        old = self._aliases.get(alias)
        self._aliases[alias] = target
        try:
            self.resolve(alias)
        except TableError:
            if old is None:
                del self._aliases[alias]
            else:
                self._aliases[alias] = old
            raise

    def remove_alias(self, alias: str) -> None:
        """Delete an alias; `UnknownColumnError` if absent."""
        if alias not in self._aliases:
            raise UnknownColumnError(f"no alias {alias!r}; aliases are {sorted(self._aliases)}")
        del self._aliases[alias]

    # -- slots -----------------------------------------------------------------------------
    @property
    def slots(self) -> dict[str, str]:
        """A copy of ``{slot: field prefix}`` for the slots that are set."""
        return dict(self._slots)

    def set_slot(self, slot: str, prefix: str | None) -> None:
        """Point ``slot`` (a key of `SLOT_COLUMNS`) at the columns ``prefix_<suffix>``; None clears it.

        Raises
        ------
        TableError
            If the slot name is unknown.
        UnknownColumnError
            If a required column of the slot is missing; the message names it.
        """
        if slot not in SLOT_COLUMNS:
            raise TableError(f"unknown slot {slot!r}; slots are {sorted(SLOT_COLUMNS)}")
        if prefix is None:
            self._slots.pop(slot, None)
            return
        if not isinstance(prefix, str) or not _NAME.fullmatch(prefix):
            raise TableError(f"slot {slot!r}: prefix {prefix!r} is not a valid field-name prefix")
        required, _optional = SLOT_COLUMNS[slot]
        for suffix in required:
            if f"{prefix}_{suffix}" not in self:
                raise UnknownColumnError(
                    f"slot {slot!r} -> {prefix!r} needs column {prefix}_{suffix!s}, which the schema lacks"
                )
        self._slots[slot] = prefix

    def slot_column(self, slot: str, suffix: str) -> str:
        """Resolved column name playing ``suffix`` (``"x"``, ``"flux"``, ``"flag"``...) of ``slot``.

        Raises
        ------
        UnknownColumnError
            If the slot is not set, or the slot's prefix has no such column.
        """
        if slot not in SLOT_COLUMNS:
            raise TableError(f"unknown slot {slot!r}; slots are {sorted(SLOT_COLUMNS)}")
        prefix = self._slots.get(slot)
        if prefix is None:
            raise UnknownColumnError(f"slot {slot!r} is not set; call schema.set_slot({slot!r}, prefix)")
        name = f"{prefix}_{suffix}"
        resolved = self.resolve(name)
        if resolved not in self._fields:
            raise UnknownColumnError(f"slot {slot!r} -> {prefix!r} has no column {name!r}")
        return resolved

    # -- comparison, copying, serialization ------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schema):
            return NotImplemented
        return (
            list(self._fields.values()) == list(other._fields.values())
            and self._aliases == other._aliases
            and self._slots == other._slots
        )

    def difference(self, other: Schema) -> list[str]:
        """Human-readable list of what differs from ``other`` (empty when equal)."""
        out = []
        mine, theirs = self._fields, other._fields
        out += [f"{n!r} only in the first" for n in mine if n not in theirs]
        out += [f"{n!r} only in the second" for n in theirs if n not in mine]
        for n in mine:
            if n in theirs and mine[n] != theirs[n]:
                a, b = mine[n], theirs[n]
                parts = [
                    f"{attr} {getattr(a, attr)!s} != {getattr(b, attr)!s}"
                    for attr in ("dtype", "unit", "doc")
                    if getattr(a, attr) != getattr(b, attr)
                ]
                out.append(f"{n!r}: {', '.join(parts)}")
        common = [n for n in mine if n in theirs]
        if not out and common != [n for n in theirs if n in mine]:
            out.append(f"column order differs: {list(mine)} vs {list(theirs)}")
        if self._aliases != other._aliases:
            out.append(f"aliases differ: {self._aliases} vs {other._aliases}")
        if self._slots != other._slots:
            out.append(f"slots differ: {self._slots} vs {other._slots}")
        return out

    def copy(self) -> Schema:
        """Independent copy (fields are immutable and shared)."""
        out = Schema()
        out._fields = dict(self._fields)
        out._aliases = dict(self._aliases)
        out._slots = dict(self._slots)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"fields": [...], "aliases": {...}, "slots": {...}}``."""
        return {
            "fields": [f.to_dict() for f in self._fields.values()],
            "aliases": dict(self._aliases),
            "slots": dict(self._slots),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        """Inverse of `to_dict`."""
        fields = [Field.from_dict(f) for f in data.get("fields", [])]
        return cls(fields, aliases=data.get("aliases") or {}, slots=data.get("slots") or {})

    def __repr__(self) -> str:
        body = ", ".join(f"{f.name}:{f.dtype.str[1:]}" for f in list(self._fields.values())[:8])
        more = f", ... ({len(self._fields)} fields)" if len(self._fields) > 8 else ""
        extra = "".join(f", {k}={v}" for k, v in (("aliases", self._aliases), ("slots", self._slots)) if v)
        return f"Schema([{body}{more}]{extra})"
