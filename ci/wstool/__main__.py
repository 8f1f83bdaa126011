"""Workspace tool behind ``scripts/*``: ``python ci/wstool <command> --help``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wstool import bootstrap, check, generate, isolation, lock, model, release, scaffold  # noqa: E402


def _regenerate(ws: model.Workspace) -> None:
    (ws.root / "tox.ini").write_text(generate.render_tox_ini(ws))
    meta = ws.root / generate.META_DIR / "pyproject.toml"
    meta.write_text(generate.render_meta_pyproject(ws, release.meta_version(ws)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wstool", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("order", help="print distributions in dependency order")
    p.add_argument("--paths", action="store_true", help="print package paths instead of names")
    sub.add_parser("bootstrap", help="create .venv and install every package editable (idempotent)")
    p = sub.add_parser("new-package", help="create and register a new distribution")
    p.add_argument("name", help="short name, e.g. afw-core (distribution osprey-afw-core)")
    p.add_argument("--native", action="store_true", help="with a C++ core (nanobind, meson)")
    p.add_argument("--import", dest="import_name", help="import path if not osprey.<name with dots>")
    p.add_argument("--layer", type=int, default=0, help="architecture layer (ARCHITECTURE.md section 2)")
    p.add_argument("--depends", default="", help="comma-separated osprey distributions it imports")
    p.add_argument("--description", default="An Osprey distribution.", help="one-line summary")
    p = sub.add_parser("release", help="bump one package's version (semver)")
    p.add_argument("package")
    p.add_argument("part", choices=release.PARTS)
    p.add_argument("-m", "--message", default="Release.", help="changelog entry")
    sub.add_parser("lock", help="write meta/requirements.lock and meta/environment.yml")
    sub.add_parser("regenerate", help="rewrite tox.ini and the metapackage from workspace.toml")
    sub.add_parser("check", help="consistency and layering checks (as CI runs them)")
    p = sub.add_parser("build-wheels", help="isolated wheel builds into dist/wheelhouse")
    p.add_argument("packages", nargs="*")
    p = sub.add_parser("install-wheel", help="install one package's wheel with its test extra")
    p.add_argument("package")
    p.add_argument("--python", required=True)
    p = sub.add_parser("check-isolation", help="install each package alone in a fresh venv and test it")
    p.add_argument("packages", nargs="*")
    args = parser.parse_args(argv)

    try:
        ws = model.load()
        if args.command == "order":
            for pkg in ws.ordered():
                print(pkg.path if args.paths else pkg.name)
        elif args.command == "bootstrap":
            bootstrap.bootstrap(ws)
        elif args.command == "new-package":
            depends = [d for d in args.depends.split(",") if d]
            pkg = scaffold.create(ws, args.name, native=args.native, import_name=args.import_name,
                                  layer=args.layer, depends=depends, description=args.description)
            _regenerate(ws)
            lock.write_lock(ws)
            print(f"created {pkg.name} in {pkg.path}; run scripts/bootstrap to install it")
        elif args.command == "release":
            for line in release.release(ws, args.package, args.part, args.message):
                print(line)
            _regenerate(ws)
            lock.write_lock(ws)
        elif args.command == "lock":
            lock.write_lock(ws)
        elif args.command == "regenerate":
            _regenerate(ws)
        elif args.command == "check":
            problems = check.metadata_problems(ws) + check.layering_problems(ws) + lock.check_lock(ws)
            for line in problems:
                print("problem:", line)
            print("workspace consistent" if not problems else f"{len(problems)} problem(s)")
            return 1 if problems else 0
        elif args.command == "build-wheels":
            for wheel in isolation.build_wheels(ws, args.packages or [p.name for p in ws.ordered()]):
                print(wheel)
        elif args.command == "install-wheel":
            isolation.install_wheel(ws, args.package, args.python)
        elif args.command == "check-isolation":
            isolation.check_isolation(ws, args.packages)
    except model.WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
