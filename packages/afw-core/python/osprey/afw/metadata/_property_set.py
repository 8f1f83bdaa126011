"""`PropertySet`: hierarchical, multi-valued key/value set addressed by dotted names."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import AfwKeyError, AfwValueError
from ._property_list import PropertyList
from ._values import Scalar, normalize_values, same_value

__all__ = ["PropertySet"]

_MISSING: Any = object()


def _split(name: Any) -> list[str]:
    if not isinstance(name, str):
        raise AfwValueError(f"PropertySet name must be a str, got {name!r} ({type(name).__name__})")
    parts = name.split(".")
    if any(not p or p != p.strip() or not p.isprintable() for p in parts):
        raise AfwValueError(
            f"PropertySet name {name!r} is invalid: use non-empty, printable components separated "
            "by single dots, without surrounding spaces"
        )
    return parts


class PropertySet:
    """Hierarchical metadata: ``ps["a.b.c"] = 1`` creates the nested sets ``a`` and ``a.b``.

    A name is a dotted path; each component names either a nested `PropertySet` or a
    list of one or more scalar values (``bool``, ``int``, ``float``, ``complex``, ``str``
    or ``None``). `set` replaces, `add` appends, `get` returns the last value (or the
    nested set), `get_array` every value. This is the shape of task configuration and
    provenance metadata; `to_property_list` flattens it into FITS-ready dotted keys
    (comments are not kept, since a PropertySet has none).

    Names at each level keep insertion order. Equality ignores that order.

    Examples
    --------
    >>> ps = PropertySet()
    >>> ps["calib.zero_point"] = 27.0
    >>> ps.add("calib.history", "v1")
    >>> ps.add("calib.history", "v2")
    >>> ps.names()
    ['calib', 'calib.zero_point', 'calib.history']
    >>> ps.to_dict()
    {'calib': {'zero_point': 27.0, 'history': ['v1', 'v2']}}
    """

    __slots__ = ("_entries",)
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(self) -> None:
        self._entries: dict[str, list[Scalar] | PropertySet] = {}

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> PropertySet:
        """Build from a (nested) mapping; nested mappings become sets, lists multiple values."""
        out = cls()
        for key, value in mapping.items():
            out.set(key, value)
        return out

    # -- navigation ------------------------------------------------------------------------
    def _parent(self, parts: list[str], name: str, *, create: bool) -> PropertySet | None:
        node = self
        for i, part in enumerate(parts[:-1]):
            child = node._entries.get(part)
            if child is None:
                if not create:
                    return None
                child = node._entries[part] = PropertySet()
            if not isinstance(child, PropertySet):
                prefix = ".".join(parts[: i + 1])
                raise AfwValueError(f"PropertySet name {name!r}: {prefix!r} holds values, not a nested set")
            node = child
        return node

    def _lookup(self, name: str) -> list[Scalar] | PropertySet:
        parts = _split(name)
        parent = self._parent(parts, name, create=False)
        if parent is None or parts[-1] not in parent._entries:
            raise AfwKeyError(f"PropertySet name {name!r} not found")
        return parent._entries[parts[-1]]

    # -- reading ---------------------------------------------------------------------------
    def get(self, name: str, default: Any = _MISSING) -> Any:
        """Last value of ``name``, or the nested `PropertySet` it names.

        Returns ``default`` when given and ``name`` is absent; otherwise raises `AfwKeyError`.
        """
        if default is not _MISSING and name not in self:
            return default
        entry = self._lookup(name)
        return entry if isinstance(entry, PropertySet) else entry[-1]

    def get_array(self, name: str) -> list[Scalar]:
        """Every value of ``name`` (a new list); `AfwValueError` if it names a nested set."""
        entry = self._lookup(name)
        if isinstance(entry, PropertySet):
            raise AfwValueError(f"PropertySet name {name!r} is a nested set, which has no values")
        return list(entry)

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        try:
            self._lookup(name)  # type: ignore[arg-type]
        except (AfwKeyError, AfwValueError):
            return False
        return True

    def is_property_set(self, name: str) -> bool:
        """Whether ``name`` is a nested set (rather than values); `AfwKeyError` if absent."""
        return isinstance(self._lookup(name), PropertySet)

    def _walk(self, prefix: str, top_only: bool) -> Iterator[tuple[str, list[Scalar] | PropertySet]]:
        for key, entry in self._entries.items():
            full = f"{prefix}{key}"
            yield full, entry
            if isinstance(entry, PropertySet) and not top_only:
                yield from entry._walk(f"{full}.", top_only)

    def names(self, top_only: bool = False) -> list[str]:
        """Every name, nested sets included, depth first (``"a", "a.b", "a.b.c"``)."""
        return [name for name, _ in self._walk("", top_only)]

    def param_names(self, top_only: bool = False) -> list[str]:
        """Names that hold values (the leaves)."""
        return [name for name, e in self._walk("", top_only) if not isinstance(e, PropertySet)]

    def set_names(self, top_only: bool = False) -> list[str]:
        """Names of the nested sets."""
        return [name for name, e in self._walk("", top_only) if isinstance(e, PropertySet)]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    # -- writing ---------------------------------------------------------------------------
    def set(self, name: str, value: Any) -> None:
        """Replace ``name`` with ``value``: a scalar, a list of scalars, or a set/mapping.

        A `PropertySet` or mapping value is copied in as a nested set, so later changes to
        the argument do not reach this set. Missing intermediate sets are created.
        """
        parts = _split(name)
        if isinstance(value, PropertySet):
            entry: list[Scalar] | PropertySet = value.copy()
        elif isinstance(value, Mapping):
            entry = PropertySet.from_dict(value)
        else:
            entry = normalize_values(name, value)
        parent = self._parent(parts, name, create=True)
        assert parent is not None
        parent._entries[parts[-1]] = entry

    def add(self, name: str, value: Any) -> None:
        """Append a value (or each element of a list) to ``name``, creating it if needed."""
        parts = _split(name)
        values = normalize_values(name, value)
        parent = self._parent(parts, name, create=True)
        assert parent is not None
        entry = parent._entries.setdefault(parts[-1], [])
        if isinstance(entry, PropertySet):
            raise AfwValueError(f"PropertySet name {name!r} is a nested set; cannot add values to it")
        entry.extend(values)

    def __setitem__(self, name: str, value: Any) -> None:
        self.set(name, value)

    def remove(self, name: str) -> None:
        """Delete ``name`` (values or a whole nested set); `AfwKeyError` if absent."""
        self._lookup(name)
        parts = _split(name)
        parent = self._parent(parts, name, create=False)
        assert parent is not None
        del parent._entries[parts[-1]]

    def __delitem__(self, name: str) -> None:
        self.remove(name)

    # -- conversion ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Nested ``dict``; a name with several values maps to a list, one value to a scalar."""
        out: dict[str, Any] = {}
        for key, entry in self._entries.items():
            if isinstance(entry, PropertySet):
                out[key] = entry.to_dict()
            else:
                out[key] = list(entry) if len(entry) > 1 else entry[0]
        return out

    def to_property_list(self) -> PropertyList:
        """Flatten into a `PropertyList` whose keys are the full dotted names of the leaves.

        Leaves appear depth first in insertion order, one card per value, with no comment.
        Keys with dots are written to FITS as ``HIERARCH`` cards.
        """
        out = PropertyList()
        for name, entry in self._walk("", top_only=False):
            if not isinstance(entry, PropertySet):
                out.add(name, list(entry), "")
        return out

    @classmethod
    def from_property_list(cls, metadata: PropertyList) -> PropertySet:
        """Rebuild the hierarchy by splitting each `PropertyList` key on dots.

        Repeated keys become multi-valued names; comments are dropped. A blank FITS
        keyword, or a key that is both a value and a prefix (``A`` and ``A.B``), raises
        `AfwValueError`.
        """
        out = cls()
        for card in metadata.cards():
            out.add(card.key, card.value)
        return out

    # -- copying, comparison ---------------------------------------------------------------
    def copy(self) -> PropertySet:
        """Deep copy (values are immutable scalars; every nested set is copied)."""
        out = PropertySet()
        out._entries = {k: (e.copy() if isinstance(e, PropertySet) else list(e)) for k, e in self._entries.items()}
        return out

    def __copy__(self) -> PropertySet:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> PropertySet:
        return self.copy()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PropertySet):
            return NotImplemented
        if self._entries.keys() != other._entries.keys():
            return False
        for key, mine in self._entries.items():
            theirs = other._entries[key]
            if isinstance(mine, PropertySet) or isinstance(theirs, PropertySet):
                if not (isinstance(mine, PropertySet) and isinstance(theirs, PropertySet) and mine == theirs):
                    return False
            elif len(mine) != len(theirs) or not all(map(same_value, mine, theirs)):
                return False
        return True

    def __repr__(self) -> str:
        return f"PropertySet.from_dict({self.to_dict()!r})"
