"""CALIBRATION collections: certify with validity ranges, lookups by time, overlaps refused."""

from __future__ import annotations

import pytest

from osprey.daf.butler import (
    CalibrationOverlapError,
    CollectionType,
    DataIdError,
    DatasetNotFoundError,
    Timespan,
)

T0 = 1_750_000_000 * 10**9  # same origin as conftest.populate
HOUR = 3600 * 10**9


@pytest.fixture
def calib_butler(butler):
    butler.register_dataset_type("bias", ["instrument", "detector"], "StructuredDataDict", is_calibration=True)
    reg = butler.registry
    reg.register_collection("calib", CollectionType.CALIBRATION)
    old = butler.put({"gen": "old"}, "bias", instrument="Cam", detector=1, run="calib/old")
    new = butler.put({"gen": "new"}, "bias", instrument="Cam", detector=1, run="calib/new")
    # old valid for [T0 - 10h, T0 + 1h), new for [T0 + 1h, T0 + 10h)
    reg.certify("calib", [old], Timespan(T0 - 10 * HOUR, T0 + HOUR))
    reg.certify("calib", [new], Timespan(T0 + HOUR, T0 + 10 * HOUR))
    return butler, old, new


def test_lookup_before_inside_after(calib_butler):
    butler, old, new = calib_butler
    get = lambda t: butler.get("bias", instrument="Cam", detector=1, collections="calib", timespan=Timespan.at(t))  # noqa: E731
    assert get(T0)["gen"] == "old"
    assert get(T0 + HOUR - 1)["gen"] == "old"
    assert get(T0 + HOUR)["gen"] == "new"  # [begin, end): the boundary belongs to the later range
    assert get(T0 + 9 * HOUR)["gen"] == "new"
    with pytest.raises(DatasetNotFoundError):
        get(T0 - 11 * HOUR)  # before
    with pytest.raises(DatasetNotFoundError):
        get(T0 + 10 * HOUR)  # after (end is exclusive)
    assert (
        butler.find_dataset("bias", instrument="Cam", detector=1, collections="calib", timespan=Timespan.at(T0)) == old
    )


def test_lookup_by_exposure_timespan(calib_butler):
    butler, old, new = calib_butler
    # exposure 100 is at T0, exposure 102 at T0 + 2h (see conftest.populate)
    assert butler.get("bias", instrument="Cam", detector=1, exposure=100, collections="calib")["gen"] == "old"
    assert butler.get("bias", instrument="Cam", detector=1, exposure=102, collections="calib")["gen"] == "new"
    assert butler.get("bias", {"instrument": "Cam", "detector": 1, "visit": 101}, collections="calib")["gen"] == "new"


def test_overlapping_validity_is_refused(calib_butler):
    butler, old, new = calib_butler
    third = butler.put({"gen": "third"}, "bias", instrument="Cam", detector=1, run="calib/third")
    with pytest.raises(CalibrationOverlapError, match="already certified"):
        butler.registry.certify("calib", [third], Timespan(T0 + 5 * HOUR, None))
    with pytest.raises(CalibrationOverlapError):
        butler.registry.certify("calib", [third], Timespan(None, T0 - 9 * HOUR))
    # adjacent ranges are fine, and another detector is independent
    butler.registry.certify("calib", [third], Timespan(T0 + 10 * HOUR, None))
    other = butler.put({"gen": "d2"}, "bias", instrument="Cam", detector=2, run="calib/old")
    butler.registry.certify("calib", [other], Timespan(T0 - 10 * HOUR, T0 + 10 * HOUR))
    t = Timespan.at(T0 + 20 * HOUR)
    assert butler.get("bias", instrument="Cam", detector=1, collections="calib", timespan=t)["gen"] == "third"


def test_calibration_search_needs_a_time(calib_butler):
    butler, _, _ = calib_butler
    with pytest.raises(DataIdError, match="needs a time"):
        butler.registry.query_datasets("bias", "calib")
    refs = butler.registry.query_datasets("bias", "calib", find_first=False)
    assert len(refs) == 2
    # a chain of a calibration collection and a run works with a time
    butler.registry.register_collection("chain", CollectionType.CHAINED)
    butler.registry.set_collection_chain("chain", ["calib", "calib/old"])
    refs = butler.registry.query_datasets("bias", "chain", timespan=Timespan.at(T0 + 2 * HOUR))
    assert [r.run for r in refs] == ["calib/new"]


def test_timespan_validation():
    from osprey.daf.butler import InvalidTimespanError, tai_ns_from_iso

    with pytest.raises(InvalidTimespanError):
        Timespan(10, 10)
    assert Timespan.from_iso("1970-01-01T00:00:01", None).begin == 10**9
    assert tai_ns_from_iso("2025-06-01T00:00:00") - tai_ns_from_iso("2025-05-31T00:00:00") == 86_400 * 10**9
    assert Timespan(None, 5).overlaps(Timespan(4, None)) and not Timespan(None, 5).overlaps(Timespan(5, None))
