"""`PropertyList`: an ordered, multi-valued, commented key/value list shaped like a FITS header."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import AfwKeyError, AfwValueError
from ._values import Scalar, normalize_values, same_value

if TYPE_CHECKING:
    from astropy.io import fits

__all__ = ["MetadataCard", "PropertyList"]

_MISSING: Any = object()
# FITS commentary keywords: their value is free text and they have no comment field.
_COMMENTARY = frozenset({"", "COMMENT", "HISTORY"})
# A key that FITS can write as a standard 8-character keyword; anything else is HIERARCH.
_STANDARD_KEY = re.compile(r"[A-Z0-9_-]{1,8}")


class MetadataCard(NamedTuple):
    """One entry of a `PropertyList`: the equivalent of one FITS card."""

    key: str
    """Keyword; case is kept (FITS ``HIERARCH`` keeps it too)."""
    value: Scalar
    """``bool``, ``int``, ``float``, ``complex``, ``str``, or ``None`` for an undefined value."""
    comment: str
    """Card comment; always ``""`` for COMMENT, HISTORY and blank-keyword cards."""


def _is_fits_text(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise AfwValueError(f"metadata key must be a str, got {key!r} ({type(key).__name__})")
    if key != key.strip() or "=" in key or not _is_fits_text(key):
        raise AfwValueError(
            f"metadata key {key!r} is not representable in FITS: use printable ASCII without '=' "
            "or leading/trailing spaces"
        )
    if key.upper().startswith("HIERARCH "):
        raise AfwValueError(
            f"metadata key {key!r}: give the bare name; long or mixed-case keys are written as "
            "HIERARCH cards automatically"
        )
    return key


def _check_values(key: str, value: Any) -> list[Scalar]:
    values = normalize_values(key, value)
    for v in values:
        if isinstance(v, str) and not _is_fits_text(v):
            raise AfwValueError(f"metadata key {key!r}: string value {v!r} is not printable ASCII, as FITS requires")
        if key in _COMMENTARY and not isinstance(v, str):
            raise AfwValueError(f"metadata key {key!r} is FITS commentary and holds text, got {v!r}")
    return values


def _check_comment(key: str, comment: Any) -> str:
    if not isinstance(comment, str) or not _is_fits_text(comment):
        raise AfwValueError(f"metadata key {key!r}: comment must be a printable ASCII str, got {comment!r}")
    if comment and key in _COMMENTARY:
        raise AfwValueError(f"metadata key {key!r} is FITS commentary, which has no comment field")
    return comment


class PropertyList:
    """Ordered, multi-valued, commented key/value list that maps one-to-one onto a FITS header.

    Each entry is a `MetadataCard` (key, value, comment), kept in order, and a key may
    appear many times (``COMMENT``, ``HISTORY``, or any repeated keyword), exactly as in
    a FITS header. That is what makes `to_fits_header` and `from_fits_header` lossless.
    Mapping-style access sees one name per distinct key: `get` and ``pl[key]`` return
    the last value, `get_array` every value, and ``len``/iteration count distinct
    names in order of first appearance. `cards` gives the full card list.

    Keys are printable ASCII without ``=``; keys that are not standard FITS keywords
    (longer than 8 characters, lower case, dots, spaces) are written as ``HIERARCH``
    cards, which keep case. Values are ``bool``, ``int``, ``float``, ``complex``, ``str``
    (printable ASCII) or ``None`` (a FITS undefined value); numpy scalars are converted.

    Parameters
    ----------
    cards : iterable of tuple, optional
        ``(key, value)`` or ``(key, value, comment)`` entries, appended in order.

    Raises
    ------
    AfwValueError
        For a key or value FITS cannot hold; the message names the key.

    Examples
    --------
    >>> pl = PropertyList([("EXPTIME", 30.0, "exposure time (s)")])
    >>> pl.add("HISTORY", "bias subtracted")
    >>> pl.set("FILTER", "HSC-I")
    >>> pl["EXPTIME"], pl.comment("EXPTIME"), pl.names()
    (30.0, 'exposure time (s)', ['EXPTIME', 'HISTORY', 'FILTER'])
    """

    __slots__ = ("_cards",)
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(self, cards: Iterable[tuple[Any, ...]] = ()) -> None:
        self._cards: list[MetadataCard] = []
        for entry in cards:
            if not isinstance(entry, tuple) or len(entry) not in (2, 3):
                raise AfwValueError(f"PropertyList entries are (key, value[, comment]) tuples, got {entry!r}")
            self.add(*entry)

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> PropertyList:
        """Build from a mapping; a list or tuple value becomes repeated cards of that key."""
        out = cls()
        for key, value in mapping.items():
            out.add(key, value)
        return out

    @classmethod
    def from_fits_header(cls, header: fits.Header) -> PropertyList:
        """Read every card of an `astropy.io.fits.Header`, in order.

        ``HIERARCH`` keys lose their prefix, ``CONTINUE`` long strings arrive whole and
        undefined values become ``None``; nothing else changes.
        """
        from astropy.io import fits

        out = cls()
        for card in header.cards:
            value = None if isinstance(card.value, fits.card.Undefined) else card.value
            out.add(card.keyword, value, card.comment)
        return out

    # -- reading ---------------------------------------------------------------------------
    def _indices(self, key: str) -> list[int]:
        return [i for i, card in enumerate(self._cards) if card.key == key]

    def _last(self, key: str) -> MetadataCard:
        for card in reversed(self._cards):
            if card.key == key:
                return card
        raise AfwKeyError(f"metadata key {key!r} not found in PropertyList of {len(self)} names")

    def get(self, key: str, default: Any = _MISSING) -> Any:
        """Last value of ``key``; ``default`` if given and the key is absent, else `AfwKeyError`."""
        if default is not _MISSING and key not in self:
            return default
        return self._last(key).value

    def get_array(self, key: str) -> list[Scalar]:
        """Every value of ``key``, in card order; `AfwKeyError` if absent."""
        values = [card.value for card in self._cards if card.key == key]
        if not values:
            self._last(key)  # raises with the standard message
        return values

    def comment(self, key: str) -> str:
        """Comment of the last card of ``key`` (``""`` when it has none)."""
        return self._last(key).comment

    def names(self) -> list[str]:
        """Distinct keys in order of first appearance."""
        return list(dict.fromkeys(card.key for card in self._cards))

    def cards(self) -> list[MetadataCard]:
        """Every card, in order (a new list; the cards themselves are immutable)."""
        return list(self._cards)

    def items(self) -> list[tuple[str, Scalar]]:
        """``(name, last value)`` for each distinct key."""
        return [(name, self.get(name)) for name in self.names()]

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def __contains__(self, key: object) -> bool:
        return any(card.key == key for card in self._cards)

    def __len__(self) -> int:
        return len(self.names())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    # -- writing ---------------------------------------------------------------------------
    def set(self, key: str, value: Any, comment: str | None = None) -> None:
        """Replace every card of ``key`` by ``value`` (a list sets several values).

        The new cards take the place of the first old one, so the key keeps its position.
        ``comment=None`` keeps the existing comment; ``""`` clears it.
        """
        key = _check_key(key)
        values = _check_values(key, value)
        old = self._indices(key)
        if comment is None:
            comment = self._cards[old[-1]].comment if old else ""
        comment = _check_comment(key, comment)
        new = [MetadataCard(key, v, comment) for v in values]
        at = old[0] if old else len(self._cards)
        kept = [card for card in self._cards if card.key != key]
        self._cards = kept[:at] + new + kept[at:]

    def add(self, key: str, value: Any, comment: str | None = None) -> None:
        """Append ``value`` (or each element of a list) as new cards at the end.

        ``comment=None`` reuses the comment of the key's last card, if any.
        """
        key = _check_key(key)
        values = _check_values(key, value)
        if comment is None:
            comment = self._last(key).comment if key in self else ""
        comment = _check_comment(key, comment)
        self._cards.extend(MetadataCard(key, v, comment) for v in values)

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def remove(self, key: str) -> None:
        """Delete every card of ``key``; `AfwKeyError` if absent."""
        self._last(key)
        self._cards = [card for card in self._cards if card.key != key]

    def __delitem__(self, key: str) -> None:
        self.remove(key)

    # -- conversion ------------------------------------------------------------------------
    def to_fits_header(self) -> fits.Header:
        """Return an `astropy.io.fits.Header` with one card per entry, in order.

        Raises
        ------
        AfwValueError
            If astropy cannot write a card (NaN or infinite floats, a HIERARCH key and value
            longer than one 80-character card); the message names the key.
        """
        from astropy.io import fits

        header = fits.Header()
        for key, value, comment in self._cards:
            if key in _COMMENTARY:
                card = fits.Card(key, value)
            else:
                keyword = key if _STANDARD_KEY.fullmatch(key) else f"HIERARCH {key}"
                fits_value = fits.card.UNDEFINED if value is None else value
                try:
                    card = fits.Card(keyword, fits_value, comment)
                    with warnings.catch_warnings():
                        # A too-long comment is only truncated, and astropy warns again when the
                        # header is written; here we want the errors that make a card unwritable.
                        warnings.simplefilter("ignore", fits.verify.VerifyWarning)
                        card.verify("exception")  # e.g. a HIERARCH key too long for any card
                except (ValueError, fits.VerifyError) as err:
                    raise AfwValueError(
                        f"metadata key {key!r} with value {value!r} cannot be written to FITS: {err}"
                    ) from err
            # end=True: astropy otherwise files keyword cards before trailing commentary.
            header.append(card, end=True)
        return header

    def to_dict(self) -> dict[str, Any]:
        """``{name: value}``, with a list for keys that have several values; comments dropped."""
        out: dict[str, Any] = {}
        for name in self.names():
            values = self.get_array(name)
            out[name] = values if len(values) > 1 else values[0]
        return out

    # -- copying, comparison ---------------------------------------------------------------
    def copy(self) -> PropertyList:
        """Independent copy (cards are immutable, so copying the list is a deep copy)."""
        out = PropertyList()
        out._cards = list(self._cards)
        return out

    def __copy__(self) -> PropertyList:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> PropertyList:
        return self.copy()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PropertyList):
            return NotImplemented
        return len(self._cards) == len(other._cards) and all(
            a.key == b.key and a.comment == b.comment and same_value(a.value, b.value)
            for a, b in zip(self._cards, other._cards, strict=True)
        )

    def __repr__(self) -> str:
        body = ", ".join(repr(tuple(card)) for card in self._cards[:6])
        more = f", ... ({len(self._cards)} cards)" if len(self._cards) > 6 else ""
        return f"PropertyList([{body}{more}])"
