from importlib.metadata import requires, version

import osprey.daf.butler


def test_version_comes_from_the_distribution_metadata():
    assert osprey.daf.butler.__version__ == version("osprey-daf-butler")
    assert osprey.daf.butler.__version__.count(".") == 2


def test_declares_only_compatible_osprey_ranges():
    for req in requires("osprey-daf-butler") or []:
        if req.startswith("osprey-"):
            assert ">=" in req and "<" in req, req


def test_importing_butler_loads_no_heavy_dependency():
    """`from osprey.daf.butler import Butler` must not import SQLAlchemy, pydantic, YAML, click or boto3."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys; from osprey.daf.butler import Butler, DatasetIdGenEnum, ButlerError; "
        "print(json.dumps(sorted(m for m in ('sqlalchemy', 'pydantic', 'yaml', 'click', 'boto3', 'numpy') "
        "if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


def test_storage_class_plugins_are_located_without_importing_them(monkeypatch, caplog):
    import importlib.metadata
    import sys

    from osprey.daf.butler import _storage_class

    group = _storage_class.STORAGE_CLASS_ENTRY_POINT_GROUP
    found = [
        importlib.metadata.EntryPoint("ours", "osprey.daf.butler:configs/storage_classes.yaml", group),
        importlib.metadata.EntryPoint("broken", "osprey.daf.butler:no/such.yaml", group),
        importlib.metadata.EntryPoint("absent", "osprey_no_such_package:x.yaml", group),
    ]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: found)
    files = _storage_class._plugin_storage_class_files.__wrapped__()  # not the per-process cache
    assert [f.name for f in files] == ["storage_classes.yaml"] and files[0].is_file()
    assert "osprey_no_such_package" not in sys.modules
    assert "no file 'no/such.yaml'" in caplog.text and "osprey_no_such_package" in caplog.text
