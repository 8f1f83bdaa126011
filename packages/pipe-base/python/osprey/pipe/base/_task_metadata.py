"""`TaskMetadata`: per-task nested key/value records (timings, counts, flags)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from osprey.utils import OspreyValueError

__all__ = ["TaskMetadata"]

_SCALARS = (str, int, float, bool, type(None))


def _scalar(value: Any, key: str) -> Any:
    if hasattr(value, "item") and not isinstance(value, _SCALARS):  # numpy scalars
        value = value.item()
    if not isinstance(value, _SCALARS):
        raise OspreyValueError(
            f"metadata {key!r}: values are str/int/float/bool/None, lists of them or mappings; "
            f"got {type(value).__name__}"
        )
    return value


class TaskMetadata(MutableMapping[str, Any]):
    """A nested mapping that serialises to JSON/YAML.

    Keys are strings without dots; a dotted key addresses a nested level
    (``md["timing.run.wall_s"]``) and creates missing levels on assignment. Values are
    scalars, lists of scalars or nested `TaskMetadata` (a mapping is converted).
    """

    def __init__(self, data: Mapping[str, Any] | None = None):
        self._data: dict[str, Any] = {}
        if data:
            for key, value in data.items():
                self[key] = value

    def _level(self, key: str, create: bool) -> tuple[TaskMetadata, str]:
        if not isinstance(key, str) or not key or any(not p for p in key.split(".")):
            raise OspreyValueError(f"metadata key {key!r} must be a non-empty string (dots separate levels)")
        parts = key.split(".")
        node = self
        for i, part in enumerate(parts[:-1]):
            child = node._data.get(part)
            if child is None and create:
                child = node._data[part] = TaskMetadata()
            if not isinstance(child, TaskMetadata):
                raise KeyError(".".join(parts[: i + 1]))
            node = child
        return node, parts[-1]

    def __setitem__(self, key: str, value: Any) -> None:
        node, last = self._level(key, create=True)
        if isinstance(value, TaskMetadata):
            node._data[last] = value
        elif isinstance(value, Mapping):
            node._data[last] = TaskMetadata(value)
        elif isinstance(value, list | tuple):
            node._data[last] = [_scalar(v, key) for v in value]
        else:
            node._data[last] = _scalar(value, key)

    def __getitem__(self, key: str) -> Any:
        node, last = self._level(key, create=False)
        return node._data[last]

    def __delitem__(self, key: str) -> None:
        node, last = self._level(key, create=False)
        del node._data[last]

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except (KeyError, OspreyValueError):
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def add(self, key: str, value: Any) -> None:
        """Append ``value`` to the list at ``key`` (created if missing)."""
        node, last = self._level(key, create=True)
        current = node._data.setdefault(last, [])
        if not isinstance(current, list):
            raise OspreyValueError(f"metadata {key!r} holds a {type(current).__name__}, not a list")
        current.append(_scalar(value, key))

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dicts and lists."""
        return {
            k: (v.to_dict() if isinstance(v, TaskMetadata) else (list(v) if isinstance(v, list) else v))
            for k, v in self._data.items()
        }

    def to_json(self) -> str:
        """JSON text (non-finite floats become null)."""

        def clean(obj: Any) -> Any:
            if isinstance(obj, dict):
                return {k: clean(v) for k, v in obj.items()}
            if isinstance(obj, list):
                return [clean(v) for v in obj]
            return None if isinstance(obj, float) and not math.isfinite(obj) else obj

        return json.dumps(clean(self.to_dict()))

    @classmethod
    def from_json(cls, text: str) -> TaskMetadata:
        """Inverse of `to_json`."""
        return cls(json.loads(text))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TaskMetadata):
            return self.to_dict() == other.to_dict()
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TaskMetadata({self.to_dict()!r})"
