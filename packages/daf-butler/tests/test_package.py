from importlib.metadata import requires, version

import osprey.daf.butler


def test_version_comes_from_the_distribution_metadata():
    assert osprey.daf.butler.__version__ == version("osprey-daf-butler")
    assert osprey.daf.butler.__version__.count(".") == 2


def test_declares_only_compatible_osprey_ranges():
    for req in requires("osprey-daf-butler") or []:
        if req.startswith("osprey-"):
            assert ">=" in req and "<" in req, req
