"""Public API hygiene: __all__ matches definitions, every error pickles."""

from __future__ import annotations

import importlib
import inspect
import pickle

import osprey.daf.butler as butler_pkg
from osprey.daf.butler import _exceptions

MODULES = [
    "_butler",
    "_collection_type",
    "_config",
    "_dataset_ref",
    "_dataset_type",
    "_exceptions",
    "_file_dataset",
    "_repo_transfer",
    "_storage_class",
    "_timespan",
    "dimensions._coordinate",
    "dimensions._records",
    "dimensions._universe",
    "registry._database",
    "registry._registry",
    "registry._schema",
    "datastore._base",
    "datastore._file",
    "datastore._in_memory",
    "datastore._templates",
    "datastore.formatters",
]


def test_each_module_all_is_sorted_and_complete():
    for name in MODULES:
        module = importlib.import_module(f"osprey.daf.butler.{name}")
        assert module.__all__ == sorted(module.__all__), name
        defined = {
            n
            for n, obj in vars(module).items()
            if not n.startswith("_") and inspect.isclass(obj) and obj.__module__ == module.__name__
        }
        assert defined <= set(module.__all__), (name, defined - set(module.__all__))


def test_package_all_is_sorted_and_importable():
    assert butler_pkg.__all__ == sorted(butler_pkg.__all__)
    for name in butler_pkg.__all__:
        assert hasattr(butler_pkg, name), name
    assert set(_exceptions.__all__) <= set(butler_pkg.__all__)


def test_every_error_pickles_and_keeps_its_builtin_base():
    for name in _exceptions.__all__:
        cls = getattr(_exceptions, name)
        err = cls(f"{name} happened")
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is cls and str(again) == str(err)
    assert issubclass(_exceptions.DatasetNotFoundError, LookupError)
    assert issubclass(_exceptions.DataIdError, ValueError)
