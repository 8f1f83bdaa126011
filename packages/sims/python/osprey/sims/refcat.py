"""An HTM-sharded reference catalogue of the simulated sky, in the LSST layout.

Like ``meas_algorithms``' indexed reference catalogues (and the real SDSS one in the shared
test data), the catalogue is a directory of one file per HTM trixel, named ``<index>.fits``
(or ``.parquet``), plus ``master_schema.<ext>`` (the columns, no rows) and ``config.json``
(dataset name, HTM depth, format version). Columns: ``id``, ``coord_ra``/``coord_dec`` (radians,
at ``epoch``), their errors, proper motions ``pm_ra``/``pm_dec`` (radians per year; ``pm_ra``
includes cos dec), ``epoch`` (MJD TAI), ``<band>_flux``/``<band>_fluxErr`` (nJy), and the
``resolved``, ``variable`` and ``photometric`` flags. Values are the simulation truth; the
errors are nominal.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Literal

import numpy as np

from osprey.geom import HtmPixelization

from .errors import SimsConfigError
from .scene import Catalog

__all__ = ["FORMAT_VERSION", "read_shard", "write_reference_catalog"]

FORMAT_VERSION = 1
"""Reference-catalogue format version (1: fluxes in nJy, as LSST's)."""

_MAS_TO_RAD = math.radians(1.0 / 3.6e6)


def write_reference_catalog(
    catalog: Catalog,
    directory: str | os.PathLike[str],
    *,
    bands: tuple[str, ...],
    epoch: float,
    depth: int = 7,
    name: str = "osprey_sim_refcat",
    file_format: Literal["fits", "parquet"] = "fits",
    flux_error: float = 0.01,
    position_error: float = 0.005,
) -> dict[int, Path]:
    """Shard ``catalog`` (a `Scene.reference_catalog`) by HTM trixel and write it; returns index -> file.

    Parameters
    ----------
    catalog : `Catalog`
        ``id, ra, dec`` (degrees), ``pm_ra, pm_dec`` (mas/yr), ``resolved``, ``is_variable`` and
        ``<band>_flux`` (nJy) columns.
    directory : path
        Created if needed; existing shards of the same name are overwritten.
    epoch : `float`
        MJD (TAI) the positions refer to.
    flux_error, position_error : `float`
        Nominal fractional flux error and position error (arcsec) written in the error columns.
    """
    if file_format not in ("fits", "parquet"):
        raise SimsConfigError(f"reference catalogue format must be 'fits' or 'parquet', got {file_format!r}")
    missing = [
        c for c in ("id", "ra", "dec", "pm_ra", "pm_dec") + tuple(f"{b}_flux" for b in bands) if c not in catalog
    ]
    if missing:
        raise SimsConfigError(f"reference catalogue input lacks columns {missing}")
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    ra, dec = np.radians(catalog["ra"]), np.radians(catalog["dec"])
    n = ra.size
    table: Catalog = {
        "id": np.asarray(catalog["id"], dtype=np.int64),
        "coord_ra": ra,
        "coord_dec": dec,
        "coord_raErr": np.full(n, math.radians(position_error / 3600.0)),
        "coord_decErr": np.full(n, math.radians(position_error / 3600.0)),
        "pm_ra": np.asarray(catalog["pm_ra"], dtype=np.float64) * _MAS_TO_RAD,
        "pm_dec": np.asarray(catalog["pm_dec"], dtype=np.float64) * _MAS_TO_RAD,
        "epoch": np.full(n, float(epoch)),
    }
    for band in bands:
        flux = np.asarray(catalog[f"{band}_flux"], dtype=np.float64)
        table[f"{band}_flux"] = flux
        table[f"{band}_fluxErr"] = flux * flux_error
    resolved = np.asarray(catalog.get("resolved", np.zeros(n, bool)), dtype=bool)
    variable = np.asarray(catalog.get("is_variable", np.zeros(n, bool)), dtype=bool)
    table["resolved"] = resolved
    table["variable"] = variable
    table["photometric"] = ~resolved & ~variable
    shard = HtmPixelization(depth).index(ra, dec)
    order = np.argsort(shard, kind="stable")
    shard_sorted = shard[order]
    bounds = np.flatnonzero(np.diff(shard_sorted)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [n]])
    written: dict[int, Path] = {}
    for s, e in zip(starts, ends, strict=True):
        if s == e:
            continue
        rows = order[s:e]
        index = int(shard_sorted[s])
        written[index] = _write({k: v[rows] for k, v in table.items()}, out_dir / f"{index}.{file_format}")
    _write({k: v[:0] for k, v in table.items()}, out_dir / f"master_schema.{file_format}")
    config = {
        "name": name,
        "format_version": FORMAT_VERSION,
        "indexer": {"name": "HTM", "depth": depth},
        "file_format": file_format,
        "bands": list(bands),
        "epoch_mjd_tai": float(epoch),
        "n_objects": int(n),
        "shards": sorted(written),
    }
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return written


def _write(table: Catalog, path: Path) -> Path:
    if path.suffix == ".parquet":
        from .truth import write_truth

        return write_truth(table, path)
    from astropy.table import Table

    t = Table({k: np.asarray(v) for k, v in table.items()})
    for col in ("coord_ra", "coord_dec", "coord_raErr", "coord_decErr"):
        t[col].unit = "rad"
    for col in ("pm_ra", "pm_dec"):
        t[col].unit = "rad / yr"
    for col in t.colnames:
        if col.endswith("_flux") or col.endswith("_fluxErr"):
            t[col].unit = "nJy"
    tmp = path.with_name(f".{path.name}.tmp")
    t.write(tmp, format="fits", overwrite=True)
    os.replace(tmp, path)
    return path


def read_shard(path: str | os.PathLike[str]) -> Catalog:
    """Read one shard (or the master schema) of either format as numpy columns."""
    p = Path(path)
    if p.suffix == ".parquet":
        from .truth import read_truth

        return read_truth(p)[0]
    from astropy.table import Table

    t = Table.read(p, format="fits")
    return {c: np.asarray(t[c]) for c in t.colnames}
