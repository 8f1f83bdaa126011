"""Small private helpers: did-you-mean suggestions and import by dotted name."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable
from typing import Any

__all__ = ["did_you_mean", "full_name_of", "import_by_name"]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or ``""`` when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def full_name_of(obj: Any) -> str:
    """``module.QualName`` of a class or function."""
    return f"{obj.__module__}.{obj.__qualname__}"


def import_by_name(name: str) -> Any:
    """Import ``package.module.Attribute`` (attributes may be nested: ``mod.Outer.Inner``).

    Raises
    ------
    ImportError
        Naming the dotted path and the longest importable module.
    """
    if not isinstance(name, str) or not name or name.startswith(".") or ".." in name:
        raise ImportError(f"{name!r} is not a dotted Python name like 'package.module.ClassName'")
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            missing = err.name or ""
            if missing != module_name and not module_name.startswith(missing + "."):
                raise  # the module exists but one of its own imports failed
            continue
        for attr in parts[split:]:
            try:
                obj = getattr(obj, attr)
            except AttributeError:
                raise ImportError(
                    f"cannot import {name!r}: module {module_name!r} has no attribute path {'.'.join(parts[split:])!r}"
                ) from None
        return obj
    raise ImportError(f"cannot import {name!r}: no module {parts[0]!r}")
