"""The federation's own rules: consistency with workspace.toml and import layering."""

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from wstool import check, lock, model, release
from wstool.isolation import check_wheel_layout

ROOT = Path(__file__).resolve().parents[2]


def test_the_workspace_is_consistent():
    ws = model.load(ROOT)
    assert check.metadata_problems(ws) == []
    assert lock.check_lock(ws) == []


def test_no_package_imports_outside_its_declared_dependencies_or_upwards():
    assert check.layering_problems(model.load(ROOT)) == []


def test_dependency_order_puts_dependencies_first():
    names = [p.name for p in model.load(ROOT).ordered()]
    assert names.index("osprey-utils") < names.index("osprey-geom")


def _add(ws_root, short, layer, depends, body):
    pkg = model.Package(f"osprey-{short}", f"packages/{short}", f"osprey.{short}", "0.1.0", layer, False, depends)
    mod = ws_root / pkg.path / "python" / "osprey" / short
    mod.mkdir(parents=True)
    (mod / "__init__.py").write_text(textwrap.dedent(body))
    return pkg


def test_layering_check_catches_undeclared_and_upward_imports(tmp_path):
    low = _add(tmp_path, "low", 0, [], "from osprey.high import thing\n")
    high = _add(tmp_path, "high", 1, ["osprey-low"], "import osprey.low\nimport osprey.side\n")
    side = _add(tmp_path, "side", 1, [], "import osprey.nowhere.at_all\n")
    ws = model.Workspace(tmp_path, "3.1.0", ">=3.11", [low, high, side])
    problems = check.layering_problems(ws)
    assert any("low/__init__.py:1: imports osprey.high from osprey-high, not a declared" in p for p in problems)
    assert any("high/__init__.py:2: imports osprey.side from osprey-side, not a declared" in p for p in problems)
    assert any("imports osprey.nowhere.at_all, which no workspace package provides" in p for p in problems)
    assert len(problems) == 3
    # A declared dependency in a higher layer is still refused.
    low.depends, high.depends = ["osprey-high"], []
    assert any("osprey-low (layer 0) imports osprey-high (layer 1), a higher layer" in p
               for p in check.layering_problems(ws))


def test_cycles_and_unknown_dependencies_are_named():
    a = model.Package("osprey-a", "packages/a", "osprey.a", "0.1.0", 0, False, ["osprey-b"])
    b = model.Package("osprey-b", "packages/b", "osprey.b", "0.1.0", 0, False, ["osprey-a"])
    with pytest.raises(model.WorkspaceError, match="dependency cycle"):
        model.Workspace(ROOT, "3.1.0", ">=3.11", [a, b]).ordered()
    b.depends = ["osprey-missing"]
    with pytest.raises(model.WorkspaceError, match="osprey-b depends on 'osprey-missing'"):
        model.Workspace(ROOT, "3.1.0", ">=3.11", [a, b]).ordered()


@pytest.mark.parametrize(("version", "part", "expected"), [
    ("0.1.0", "patch", "0.1.1"), ("0.1.7", "minor", "0.2.0"), ("0.9.3", "major", "1.0.0"), ("2.3.4", "minor", "2.4.0"),
])
def test_semver_bump(version, part, expected):
    assert release.bump(version, part) == expected


def test_compatible_ranges_and_requirement_parsing():
    assert model.compatible_range("0.4.2") == ">=0.4,<0.5"
    assert model.compatible_range("1.2.3") == ">=1.2,<2"
    assert model.split_requirement("osprey-geom>=0.1,<0.2") == ("osprey-geom", ">=0.1,<0.2")
    assert model.split_requirement("Foo_Bar[x] >=1; python_version<'4'") == ("foo-bar", ">=1; python_version<'4'")
    with pytest.raises(model.WorkspaceError, match="not MAJOR.MINOR.PATCH"):
        model.parse_version("1.2")


def test_wheel_layout_refuses_namespace_init(tmp_path):
    pkg = model.Package("osprey-pipe-base", "packages/pipe-base", "osprey.pipe.base", "0.1.0", 2, False, [])
    good, bad = tmp_path / "good.whl", tmp_path / "bad.whl"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("osprey/pipe/base/__init__.py", "")
    check_wheel_layout(pkg, good)
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("osprey/pipe/base/__init__.py", "")
        zf.writestr("osprey/pipe/__init__.py", "")
    with pytest.raises(model.WorkspaceError, match=r"osprey/pipe/__init__.py.*PEP 420"):
        check_wheel_layout(pkg, bad)


def wstool(root, *args):
    return subprocess.run([sys.executable, str(root / "ci" / "wstool"), *args], cwd=root,
                          capture_output=True, text=True)


def test_release_bumps_dependents_ranges_pins_and_changelogs(workspace_copy):
    result = wstool(workspace_copy, "release", "utils", "minor", "-m", "New logging helpers.")
    assert result.returncode == 0, result.stderr
    ws = model.load(workspace_copy)
    assert ws.get("utils").version == "0.2.0"
    assert ws.get("geom").version == "0.1.1"  # its range had to change, so it is re-released
    geom_deps = ws.get("geom").pyproject(workspace_copy)["project"]["dependencies"]
    assert "osprey-utils>=0.2,<0.3" in geom_deps
    meta = (workspace_copy / "meta" / "pyproject.toml").read_text()
    assert '"osprey-utils==0.2.0"' in meta and '"osprey-geom==0.1.1"' in meta
    assert 'version = "0.2.0"' in meta  # metapackage: minor bump for a minor release
    changelog = (workspace_copy / "packages" / "utils" / "CHANGELOG.md").read_text()
    assert "## 0.2.0 (" in changelog and "- New logging helpers." in changelog
    assert "Require osprey-utils>=0.2,<0.3" in (workspace_copy / "packages" / "geom" / "CHANGELOG.md").read_text()
    assert wstool(workspace_copy, "check").returncode == 0
    # A package using geom's C++ headers build-requires geom too: both ranges move.
    assert wstool(workspace_copy, "release", "geom", "minor").returncode == 0
    afw = model.load(workspace_copy).get("afw-core").pyproject(workspace_copy)
    assert "osprey-geom>=0.2,<0.3" in afw["project"]["dependencies"]
    assert "osprey-geom>=0.2,<0.3" in afw["build-system"]["requires"]
    assert wstool(workspace_copy, "check").returncode == 0


def test_check_fails_when_the_metapackage_or_lock_disagree(workspace_copy):
    path = workspace_copy / "packages" / "geom" / "pyproject.toml"
    path.write_text(path.read_text().replace('version = "0.1.0"', 'version = "0.1.5"', 1))
    out = wstool(workspace_copy, "check").stdout
    assert "packages/geom/pyproject.toml: version 0.1.5 but workspace.toml says 0.1.0" in out
    text = (workspace_copy / "workspace.toml").read_text()
    (workspace_copy / "workspace.toml").write_text(text.replace('version = "0.1.0"\nlayer = 0\nnative = true',
                                                                'version = "0.1.5"\nlayer = 0\nnative = true'))
    out = wstool(workspace_copy, "check").stdout
    assert "does not pin exactly the versions in workspace.toml" in out
    assert "was made for other inputs" in out


@pytest.mark.slow
def test_new_package_makes_a_skeleton_that_builds_and_passes_alone(workspace_copy):
    result = wstool(workspace_copy, "new-package", "demo-kernels", "--native", "--import", "osprey.demo.kernels",
                    "--layer", "1", "--depends", "osprey-utils", "--description", "Kernels for a demo.")
    assert result.returncode == 0, result.stderr
    pkg_dir = workspace_copy / "packages" / "demo-kernels"
    for rel in ("pyproject.toml", "meson.build", "README.md", "CHANGELOG.md", "include/osprey/demo/kernels/abi.h",
                "src/bindings.cpp", "python/osprey/demo/kernels/__init__.py", "tests/test_package.py",
                "bench/bench_import.py"):
        assert (pkg_dir / rel).is_file(), rel
    assert not (pkg_dir / "python" / "osprey" / "demo" / "__init__.py").exists()
    assert (workspace_copy / "docs" / "packages" / "demo-kernels.md").is_file()
    assert wstool(workspace_copy, "check").returncode == 0
    result = wstool(workspace_copy, "check-isolation", "osprey-demo-kernels")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "isolation OK: osprey-demo-kernels 0.1.0" in result.stdout
