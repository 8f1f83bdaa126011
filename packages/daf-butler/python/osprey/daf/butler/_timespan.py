"""Half-open time intervals in TAI nanoseconds, the Butler's representation of time."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ._exceptions import InvalidTimespanError

__all__ = ["Timespan", "tai_ns_from_iso"]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_EPOCH = datetime.datetime(1970, 1, 1)


def tai_ns_from_iso(text: str) -> int:
    """Nanoseconds since 1970-01-01T00:00:00 TAI of an ISO-8601 time already on the TAI scale.

    Parameters
    ----------
    text : `str`
        ``YYYY-MM-DDTHH:MM:SS[.ffffff]``, TAI, no time-zone suffix. No leap-second
        handling is needed because the input is TAI, not UTC.
    """
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError as err:
        raise InvalidTimespanError(f"cannot parse {text!r} as an ISO-8601 TAI time: {err}") from None
    if when.tzinfo is not None:
        raise InvalidTimespanError(f"TAI time {text!r} must not carry a time-zone offset")
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


@dataclass(frozen=True, slots=True)
class Timespan:
    """The half-open interval ``[begin, end)`` in TAI nanoseconds since 1970 (int64).

    ``None`` for either bound means unbounded on that side. An instant ``t`` is the
    one-nanosecond span ``Timespan.at(t)``.
    """

    begin: int | None
    end: int | None

    def __post_init__(self) -> None:
        for name in ("begin", "end"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                try:
                    object.__setattr__(self, name, int(value.__index__()))
                except AttributeError:
                    raise InvalidTimespanError(
                        f"Timespan {name} must be integer TAI nanoseconds or None, got {value!r}"
                    ) from None
        if self.begin is not None and self.end is not None and not self.begin < self.end:
            raise InvalidTimespanError(f"Timespan end ({self.end}) must be after its begin ({self.begin})")

    @classmethod
    def at(cls, t: int) -> Timespan:
        """The instant ``t`` (TAI ns) as the span ``[t, t + 1)``."""
        return cls(t, t + 1)

    @classmethod
    def from_iso(cls, begin: str | None, end: str | None) -> Timespan:
        """Build from two ISO-8601 TAI strings (either may be None for unbounded)."""
        return cls(
            None if begin is None else tai_ns_from_iso(begin),
            None if end is None else tai_ns_from_iso(end),
        )

    @property
    def db_begin(self) -> int:
        """Begin as stored in the database (unbounded becomes the int64 minimum)."""
        return INT64_MIN if self.begin is None else self.begin

    @property
    def db_end(self) -> int:
        """End as stored in the database (unbounded becomes the int64 maximum)."""
        return INT64_MAX if self.end is None else self.end

    @classmethod
    def from_db(cls, begin: int | None, end: int | None) -> Timespan | None:
        """Inverse of `db_begin`/`db_end`; None when both columns are NULL."""
        if begin is None and end is None:
            return None
        return cls(None if begin in (None, INT64_MIN) else begin, None if end in (None, INT64_MAX) else end)

    def overlaps(self, other: Timespan) -> bool:
        """True when the two half-open spans share at least one nanosecond."""
        return self.db_begin < other.db_end and other.db_begin < self.db_end

    def contains(self, t: int) -> bool:
        """True when the instant ``t`` (TAI ns) lies in ``[begin, end)``."""
        return self.db_begin <= t < self.db_end

    def __str__(self) -> str:
        return f"[{'-inf' if self.begin is None else self.begin}, {'+inf' if self.end is None else self.end})"
