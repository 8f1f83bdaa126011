from importlib.metadata import requires, version

import osprey.obs.decam


def test_version_comes_from_the_distribution_metadata():
    assert osprey.obs.decam.__version__ == version("osprey-obs-decam")
    assert osprey.obs.decam.__version__.count(".") == 2


def test_declares_only_compatible_osprey_ranges():
    for req in requires("osprey-obs-decam") or []:
        if req.startswith("osprey-"):
            assert ">=" in req and "<" in req, req
