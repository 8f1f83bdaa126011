from importlib.metadata import requires, version

import osprey.afw


def test_version_comes_from_the_distribution_metadata():
    assert osprey.afw.__version__ == version("osprey-afw-core")
    assert osprey.afw.__version__.count(".") == 2


def test_declares_only_compatible_osprey_ranges():
    for req in requires("osprey-afw-core") or []:
        if req.startswith("osprey-"):
            assert ">=" in req and "<" in req, req


def test_headers_are_installed_and_match_the_extension():
    import re
    from pathlib import Path

    from osprey.afw import _afw

    header = Path(osprey.afw.get_include()) / "osprey/afw/abi.h"
    declared = int(re.search(r"header_abi_version = (\d+);", header.read_text())[1])
    assert declared == _afw.header_abi_version
