"""Each module's __all__ lists exactly its public classes and functions; the package lifts them."""

import importlib
import inspect
import subprocess
import sys

import pytest

import osprey.pipe.base

MODULES = [
    "_connection_types",
    "_connections",
    "_executor",
    "_mp_executor",
    "_progress",
    "_quantum_backed",
    "_pipeline",
    "_pipeline_graph",
    "_pipeline_task",
    "_quantum_graph",
    "_struct",
    "_task",
    "_task_metadata",
    "config",
    "errors",
    "testing",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_all_matches_definitions(name):
    module = importlib.import_module(f"osprey.pipe.base.{name}")
    defined = {
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == module.__name__
    }
    assert set(module.__all__) == defined


def test_package_lifts_every_public_name():
    lifted = set(osprey.pipe.base.__all__)
    for name in MODULES:
        if name == "testing":
            continue
        module = importlib.import_module(f"osprey.pipe.base.{name}")
        assert set(module.__all__) <= lifted, name
    for name in lifted:
        assert getattr(osprey.pipe.base, name) is not None


def test_does_not_import_afw():
    code = (
        "import sys, osprey.pipe.base, osprey.pipe.base.testing; "
        "print(sorted(m for m in sys.modules if m.startswith('osprey.afw')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
