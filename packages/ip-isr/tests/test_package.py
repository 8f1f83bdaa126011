from importlib.metadata import requires, version

import osprey.ip.isr


def test_version_comes_from_the_distribution_metadata():
    assert osprey.ip.isr.__version__ == version("osprey-ip-isr")
    assert osprey.ip.isr.__version__.count(".") == 2


def test_declares_only_compatible_osprey_ranges():
    for req in requires("osprey-ip-isr") or []:
        if req.startswith("osprey-"):
            assert ">=" in req and "<" in req, req
