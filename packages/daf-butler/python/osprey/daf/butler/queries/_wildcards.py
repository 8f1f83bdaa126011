"""One set of wildcard rules for collection and dataset-type arguments, used everywhere.

An argument is a single item or a sequence of items; each item is

* a plain name (``"HSC/runs/w01"``): exactly that name;
* a shell-style pattern with ``*``, ``?`` or ``[...]`` (``"HSC/runs/*"``): every name it
  matches, sorted by name;
* a compiled regular expression (``re.compile("HSC/runs/w0[12]")``): every name it
  matches in full (``fullmatch``), sorted by name;
* ``...`` (Ellipsis): every name, sorted.

Matches keep the order of the items, and a name reached twice keeps its first position.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["WildcardMatch", "describe_pattern", "expand_wildcards", "is_pattern", "suggest"]

_GLOB_CHARS = set("*?[")


def is_pattern(item: Any) -> bool:
    """True for a shell pattern, a compiled regex or ``...``; False for a plain name."""
    return item is ... or isinstance(item, re.Pattern) or (isinstance(item, str) and bool(_GLOB_CHARS & set(item)))


def describe_pattern(item: Any) -> str:
    """How to show an item in a message: ``'name'``, ``re.compile('x')`` or ``...``."""
    if item is ...:
        return "..."
    if isinstance(item, re.Pattern):
        return f"re.compile({item.pattern!r})"
    return repr(item)


@dataclass
class WildcardMatch:
    """What one wildcard item matched (``explicit`` is True for a plain name)."""

    item: Any
    explicit: bool
    names: list[str]


def _items(argument: Any) -> list[Any]:
    if argument is ... or isinstance(argument, (str, re.Pattern)):
        return [argument]
    if isinstance(argument, Iterable):
        return list(argument)
    raise TypeError(f"expected a name, a pattern, re.compile(...), ... or a sequence of them; got {argument!r}")


def expand_wildcards(argument: Any, available: Sequence[str]) -> list[WildcardMatch]:
    """Match every item of ``argument`` against ``available`` names.

    A plain name is reported as matched only if it is in ``available``.
    """
    pool = sorted(available)
    present = set(available)
    out = []
    for item in _items(argument):
        if item is ...:
            out.append(WildcardMatch(item, False, pool))
        elif isinstance(item, re.Pattern):
            out.append(WildcardMatch(item, False, [n for n in pool if item.fullmatch(n)]))
        elif isinstance(item, str) and is_pattern(item):
            out.append(WildcardMatch(item, False, [n for n in pool if fnmatch.fnmatchcase(n, item)]))
        elif isinstance(item, str):
            out.append(WildcardMatch(item, True, [item] if item in present else []))
        else:
            raise TypeError(f"a wildcard item must be a str, re.Pattern or ...; got {item!r}")
    return out


def flatten(matches: Sequence[WildcardMatch]) -> list[str]:
    """The matched names in order, first occurrence kept."""
    seen: set[str] = set()
    out = []
    for match in matches:
        for name in match.names:
            if name not in seen:
                seen.add(name)
                out.append(name)
    return out


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
