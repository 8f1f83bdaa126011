"""The public C++ headers are installed and usable by another package's C++ code."""

import shutil
import subprocess
from pathlib import Path

import pytest

import osprey.geom

HEADERS = ["cartesian.h", "healpix.h", "htm.h", "regions.h", "vector3d.h"]

PROGRAM = r"""
#include <cstdio>
#include "osprey/geom/cartesian.h"
#include "osprey/geom/healpix.h"
#include "osprey/geom/htm.h"
#include "osprey/geom/regions.h"
#include "osprey/geom/vector3d.h"
int main() {
    using namespace osprey::geom;
    Box2I box{0, 0, 10, 20};
    UnitVector3d north(Vector3d{0.0, 0.0, 1.0});
    std::printf("%d %lld\n", box.width() * box.height(),
                static_cast<long long>(htm::index(north, 3)));
    return 0;
}
"""


def test_get_include_lists_every_public_header():
    include = Path(osprey.geom.get_include())
    assert include.is_absolute()
    found = sorted(p.name for p in (include / "osprey" / "geom").glob("*.h"))
    assert found == HEADERS


@pytest.mark.skipif(shutil.which("c++") is None, reason="no C++ compiler on this machine")
def test_headers_compile_alone_against_the_installed_include_dir(tmp_path):
    source = tmp_path / "use_geom.cpp"
    source.write_text(PROGRAM)
    exe = tmp_path / "use_geom"
    cmd = ["c++", "-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror", "-I", osprey.geom.get_include(),
           str(source), "-o", str(exe)]
    subprocess.run(cmd, check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()
    # -Wall -Wextra -Werror with -I (not -isystem): the headers themselves are warning-free.
    assert out[0] == "200"
    from osprey.geom import HtmPixelization

    assert int(out[1]) == int(HtmPixelization(3).index([0.0], [0.5 * 3.141592653589793])[0])
