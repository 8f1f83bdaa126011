"""Helpers for packages with C++ cores: where their installed headers live."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from .errors import OspreyError

__all__ = ["include_dir"]


def include_dir(package: str) -> str:
    """Absolute directory of the C++ headers installed inside ``package`` (``<package>/include``).

    Works for wheels and for meson-python editable installs. An editable install exposes
    the package as a virtual tree whose files are the source files, so a ``__file__``-based
    path would miss the headers; there the source ``include/`` directory is recovered from
    the location of one header.
    """
    root = resources.files(package) / "include"
    if isinstance(root, Path):
        if root.is_dir():
            return str(root)
        raise OspreyError(f"{package} has no installed headers: {root} does not exist")
    found = _first_file(root, ()) if root.is_dir() else None
    if found is None:
        raise OspreyError(f"{package} has no installed headers under its 'include' directory")
    path, depth = found
    return str(path.parents[depth - 1])


def _first_file(node: Traversable, parts: tuple[str, ...]) -> tuple[Path, int] | None:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if isinstance(child, Path) and child.is_file():
            return child, len(parts) + 1
        if child.is_dir():
            found = _first_file(child, (*parts, child.name))
            if found is not None:
                return found
    return None
