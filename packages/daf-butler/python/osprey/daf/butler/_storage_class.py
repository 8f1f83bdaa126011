"""Storage classes: the Python type of a dataset, its components, parameters and formatter."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
import yaml

from ._exceptions import ButlerConfigError, StorageClassError

__all__ = ["StorageClass", "StorageClassFactory", "import_dotted"]

DEFAULT_STORAGE_CLASSES = Path(__file__).with_name("configs") / "storage_classes.yaml"

STORAGE_CLASS_ENTRY_POINT_GROUP = "osprey.storage_classes"
"""Entry points naming zero-argument callables that return storage-class YAML paths (other packages' types)."""


@functools.cache
def _plugin_storage_class_files() -> tuple[Path, ...]:
    """Storage-class files contributed by installed packages (found once per process).

    An entry point of group ``osprey.storage_classes`` names a YAML file inside a package,
    ``"package.name:relative/path.yaml"``. The package is located, not imported, so opening
    a Butler does not import every installed obs or algorithm package.
    """
    import importlib.util
    from importlib.metadata import entry_points

    from osprey.utils import get_logger

    files: list[Path] = []
    for ep in entry_points(group=STORAGE_CLASS_ENTRY_POINT_GROUP):
        package, _, resource = ep.value.partition(":")
        try:
            spec = importlib.util.find_spec(package.strip())
        except (ImportError, ValueError):
            spec = None
        # origin is the package's __init__.py (editable installs have virtual search locations)
        places = [Path(spec.origin).parent] if spec is not None and spec.origin else []
        places += [Path(loc) for loc in (spec.submodule_search_locations or [])] if spec is not None else []
        found = [place / resource.strip() for place in places if (place / resource.strip()).is_file()]
        if found:
            files.append(found[0])
        else:  # a broken plugin must not break every Butler
            get_logger(__name__).warning(
                "storage classes of entry point %r: no file %r in package %r", ep.name, resource, package
            )
    return tuple(files)


@functools.lru_cache(maxsize=512)
def import_dotted(path: str) -> Any:
    """Import ``package.module.Name`` and return ``Name`` (remembered once found)."""
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise StorageClassError(f"{path!r} is not a dotted path of the form 'package.module.Name'")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise StorageClassError(f"cannot import {path!r}: {err}") from None


class StorageClass(pydantic.BaseModel):
    """How a dataset is represented in memory and which formatter writes it by default."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    name: str
    python_type: str
    formatter: str | None = None
    components: dict[str, str] = {}
    parameters: list[str] = []
    doc: str = ""

    def get_python_type(self) -> type:
        """Import and return the Python type."""
        return import_dotted(self.python_type)

    def validate_instance(self, obj: Any, what: str) -> None:
        """Raise `StorageClassError` unless ``obj`` is an instance of the Python type."""
        pytype = self.get_python_type()
        if not isinstance(obj, pytype):
            raise StorageClassError(
                f"{what}: storage class {self.name!r} expects a {self.python_type}, got {type(obj).__module__}."
                f"{type(obj).__qualname__}"
            )

    def validate_parameters(self, parameters: Mapping[str, Any] | None, what: str) -> None:
        """Raise `StorageClassError` for read parameters the storage class does not define."""
        unknown = sorted(set(parameters or {}) - set(self.parameters))
        if unknown:
            raise StorageClassError(
                f"{what}: read parameter(s) {unknown} are not supported by storage class {self.name!r} "
                f"(supported: {self.parameters or 'none'})"
            )


class StorageClassFactory:
    """All known storage classes: the shipped YAML plus any extra files or registrations."""

    def __init__(self, extra_files: list[str | Path] | None = None):
        self._classes: dict[str, StorageClass] = {}
        self.add_from_file(DEFAULT_STORAGE_CLASSES)
        for path in _plugin_storage_class_files():
            try:
                self.add_from_file(path)
            except (ButlerConfigError, StorageClassError) as err:  # first definition wins; say so
                from osprey.utils import get_logger

                get_logger(__name__).warning("ignoring storage classes of %s: %s", path, err)
        for path in extra_files or []:
            self.add_from_file(path)

    def add_from_file(self, path: str | Path) -> None:
        """Load storage class definitions from a YAML file (name -> definition)."""
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ButlerConfigError(f"cannot read storage class file {path}: {err}") from None
        for name, definition in data.items():
            try:
                self.register(StorageClass(name=name, **definition))
            except (pydantic.ValidationError, TypeError) as err:
                raise ButlerConfigError(f"invalid storage class {name!r} in {path}: {err}") from None

    def register(self, storage_class: StorageClass) -> None:
        """Add a storage class; redefining an existing name differently is an error."""
        existing = self._classes.get(storage_class.name)
        if existing is not None and existing != storage_class:
            raise StorageClassError(f"storage class {storage_class.name!r} is already defined differently")
        self._classes[storage_class.name] = storage_class

    def __getitem__(self, name: str) -> StorageClass:
        try:
            return self._classes[name]
        except KeyError:
            raise StorageClassError(
                f"unknown storage class {name!r}; known: {', '.join(sorted(self._classes))}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def names(self) -> list[str]:
        """Sorted names of all storage classes."""
        return sorted(self._classes)
