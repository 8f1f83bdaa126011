from importlib.metadata import requires, version

import osprey.ip.isr


def test_version_comes_from_the_distribution_metadata():
    assert osprey.ip.isr.__version__ == version("osprey-ip-isr")
    assert osprey.ip.isr.__version__.count(".") == 2


def test_declares_only_compatible_osprey_ranges():
    for req in requires("osprey-ip-isr") or []:
        if req.startswith("osprey-"):
            assert ">=" in req and "<" in req, req


def test_headers_are_installed_and_match_the_extension():
    import re
    from pathlib import Path

    from osprey.ip.isr import _isr

    header = Path(osprey.ip.isr.get_include()) / "osprey/ip/isr/abi.h"
    declared = int(re.search(r"header_abi_version = (\d+);", header.read_text())[1])
    assert declared == _isr.header_abi_version
    assert (Path(osprey.ip.isr.get_include()) / "osprey/ip/isr/kernels.h").is_file()
