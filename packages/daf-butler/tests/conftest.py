"""Fixtures: one suite, parametrised over registry backends (SQLite always; PostgreSQL
when OSPREY_TEST_POSTGRES_URL names a server, e.g. postgresql+psycopg://user@localhost/db)."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from osprey.daf.butler import Butler, Timespan
from osprey.geom import ConvexPolygon, SpherePoint, degrees

POSTGRES_URL = os.environ.get("OSPREY_TEST_POSTGRES_URL")

T0 = 1_750_000_000 * 10**9  # an arbitrary TAI ns origin for test timespans
HOUR = 3600 * 10**9


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    if request.param == "postgresql" and not POSTGRES_URL:
        reason = "PostgreSQL backend: set OSPREY_TEST_POSTGRES_URL (e.g. postgresql+psycopg://user@host/db)"
        if os.environ.get("CI") == "true":  # CI starts a server (ci/start-postgres): never skip there
            pytest.fail(reason)
        pytest.skip(reason)
    return request.param


@pytest.fixture
def make_butler(backend, tmp_path):
    """``make_butler(name="repo", config=None, **from_config_kwargs)`` -> a Butler on a new repo."""
    schemas: list[str] = []
    opened: list[Butler] = []

    def make(name: str = "repo", config: dict | None = None, **kwargs) -> Butler:
        root = tmp_path / name
        if not (root / "butler.yaml").exists():
            config = dict(config or {})
            db_url = None
            if backend == "postgresql":
                db_url = POSTGRES_URL
                schema = f"osprey_test_{uuid.uuid4().hex[:12]}"
                schemas.append(schema)
                config["registry"] = {**config.get("registry", {}), "namespace": schema}
            Butler.make_repo(root, db_url, config=config)
        butler = Butler.from_config(root, **kwargs)
        opened.append(butler)
        return butler

    yield make
    for butler in opened:
        butler.close()
    if schemas:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        engine.dispose()


def square(ra: float, dec: float, half: float) -> ConvexPolygon:
    """A small square polygon centred on (ra, dec) degrees with half-width ``half`` degrees."""
    return ConvexPolygon(
        [
            SpherePoint(ra - half, dec - half, degrees),
            SpherePoint(ra + half, dec - half, degrees),
            SpherePoint(ra + half, dec + half, degrees),
            SpherePoint(ra - half, dec + half, degrees),
        ]
    )


def populate(butler: Butler, instrument: str = "Cam") -> None:
    """Instrument, filters, detectors, a night, three visits/exposures (timespans, regions)."""
    reg = butler.registry
    reg.insert_dimension_data("instrument", {"name": instrument, "detector_max": 4, "visit_max": 1000})
    reg.insert_dimension_data("band", {"name": "g"}, {"name": "r"}, skip_existing=True)
    reg.insert_dimension_data(
        "physical_filter",
        {"instrument": instrument, "name": "Cam-G", "band": "g"},
        {"instrument": instrument, "name": "Cam-R", "band": "r"},
    )
    reg.insert_dimension_data("day_obs", {"instrument": instrument, "id": 20250601})
    reg.insert_dimension_data(
        "detector", *[{"instrument": instrument, "id": d, "full_name": f"S{d}"} for d in range(4)]
    )
    visits = [(100, "Cam-R"), (101, "Cam-G"), (102, "Cam-R")]
    for i, (visit, pf) in enumerate(visits):
        span = Timespan(T0 + i * HOUR, T0 + i * HOUR + 30 * 10**9)
        common = {"instrument": instrument, "id": visit, "physical_filter": pf, "day_obs": 20250601, "timespan": span}
        reg.insert_dimension_data("exposure", {**common, "exposure_time": 30.0})
        reg.insert_dimension_data("visit", {**common, "exposure_time": 30.0, "region": square(10.0 + i, 0.0, 0.3)})
        reg.insert_dimension_data("visit_definition", {"instrument": instrument, "exposure": visit, "visit": visit})


@pytest.fixture
def butler(make_butler):
    """A repository with `populate` records and a default run."""
    b = make_butler(run="run1")
    populate(b)
    b.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    return b


@pytest.fixture
def populate_repo():
    """The `populate` function, for tests that build their own repository."""
    return populate


@pytest.fixture
def sky_repo(butler):
    """`butler` plus a RingsSkyMap's tracts/patches around the visits and 4 detector regions per visit.

    Returns ``(butler, patches, detectors)`` with ``{(tract, patch): region}`` and
    ``{(visit, detector): region}``; one ``calexp_meta`` dataset per (visit, detector) in run1.
    """
    import math

    from osprey.geom import Angle, Extent2I, RingsSkyMap, RingsSkyMapConfig, arcseconds

    reg = butler.registry
    skymap = RingsSkyMap(
        RingsSkyMapConfig(num_rings=40, patch_inner_dimensions=Extent2I(1000, 1000), pixel_scale=Angle(2.0, arcseconds))
    )
    reg.insert_dimension_data("skymap", {"name": "rings", "hash": skymap.id_hash, "tract_max": len(skymap)})
    ras = [math.radians(x) for x in (9.5, 10, 11, 12, 12.5)]
    patches = {}
    for tract_id in sorted({int(t) for t in skymap.find_tract_ids(ras, [0.0] * len(ras))}):
        tract = skymap[tract_id]
        reg.insert_dimension_data("tract", {"skymap": "rings", "id": tract_id, "region": tract.outer_region})
        rows = []
        for patch in tract:
            region = tract.patch_outer_region(patch)
            patches[(tract_id, patch.sequential_index)] = region
            rows.append({"skymap": "rings", "tract": tract_id, "id": patch.sequential_index, "region": region})
        reg.insert_dimension_data("patch", *rows)
    detectors = {}
    for i, visit in enumerate((100, 101, 102)):
        for d in range(4):
            detectors[(visit, d)] = square(10.0 + i + 0.15 * (d % 2) - 0.075, 0.15 * (d // 2) - 0.075, 0.07)
    reg.insert_dimension_data(
        "visit_detector_region",
        *[{"instrument": "Cam", "visit": v, "detector": d, "region": r} for (v, d), r in detectors.items()],
    )
    for v, d in detectors:
        butler.put({"v": v}, "calexp_meta", instrument="Cam", visit=v, detector=d)
    return butler, patches, detectors
