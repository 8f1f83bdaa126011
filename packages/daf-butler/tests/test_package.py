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
