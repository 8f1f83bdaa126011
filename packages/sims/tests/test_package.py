from importlib.metadata import requires, version

import osprey.sims


def test_version_comes_from_the_distribution_metadata():
    assert osprey.sims.__version__ == version("osprey-sims")
    assert osprey.sims.__version__.count(".") == 2


def test_declares_only_compatible_osprey_ranges():
    for req in requires("osprey-sims") or []:
        if req.startswith("osprey-"):
            assert ">=" in req and "<" in req, req
