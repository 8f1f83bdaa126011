"""`Struct`: a simple attribute bag returned by ``Task.run`` methods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from osprey.utils import OspreyValueError

__all__ = ["Struct"]


class Struct:
    """Named results as attributes: ``Struct(exposure=exp, sources=cat).sources``.

    Names must be identifiers that do not start with ``_``. Equality compares the
    attribute dictionaries.
    """

    def __init__(self, **kwargs: Any):
        for name, value in kwargs.items():
            self._check(name)
            setattr(self, name, value)

    @staticmethod
    def _check(name: str) -> None:
        if not name.isidentifier() or name.startswith("_"):
            raise OspreyValueError(f"Struct field {name!r} must be an identifier that does not start with '_'")

    def as_dict(self) -> dict[str, Any]:
        """A shallow copy of the fields as a dict."""
        return dict(vars(self))

    def copy(self) -> Struct:
        """A shallow copy."""
        return Struct(**vars(self))

    def merge_items(self, other: Struct, *names: str) -> None:
        """Copy fields ``names`` of ``other`` here; an existing field is an error."""
        for name in names:
            if name in vars(self):
                raise OspreyValueError(f"Struct already has a field {name!r}")
            setattr(self, name, getattr(other, name))

    def __iter__(self) -> Iterator[str]:
        return iter(vars(self))

    def __contains__(self, name: object) -> bool:
        return name in vars(self)

    def __len__(self) -> int:
        return len(vars(self))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Struct):
            return NotImplemented
        return vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Struct(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"
