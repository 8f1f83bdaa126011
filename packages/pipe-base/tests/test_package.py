from importlib.metadata import requires, version

import osprey.pipe.base


def test_version_comes_from_the_distribution_metadata():
    assert osprey.pipe.base.__version__ == version("osprey-pipe-base")
    assert osprey.pipe.base.__version__.count(".") == 2


def test_declares_only_compatible_osprey_ranges():
    for req in requires("osprey-pipe-base") or []:
        if req.startswith("osprey-"):
            assert ">=" in req and "<" in req, req
