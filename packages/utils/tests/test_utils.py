import logging
import pickle
from importlib.metadata import version

import pytest

import osprey.utils
from osprey.utils import VERBOSE, OspreyError, OspreyValueError, ShapeMismatchError, get_logger, include_dir


def test_version_comes_from_the_distribution_metadata():
    assert osprey.utils.__version__ == version("osprey-utils")


def test_errors_are_builtin_errors_too_and_pickle():
    err = ShapeMismatchError("x and y differ", (3,), (4,))
    assert isinstance(err, OspreyValueError) and isinstance(err, ValueError) and isinstance(err, OspreyError)
    assert str(err) == "x and y differ (expected (3,), got (4,))"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ShapeMismatchError and str(back) == str(err) and back.actual == (4,)


def test_verbose_level_sits_between_info_and_debug(caplog):
    assert logging.DEBUG < VERBOSE < logging.INFO
    assert logging.getLevelName(VERBOSE) == "VERBOSE"
    log = get_logger("osprey.test.verbose")
    with caplog.at_level(VERBOSE, logger="osprey.test.verbose"):
        log.verbose("item %d done", 7)
        log.debug("hidden")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("VERBOSE", "item 7 done")]


def test_include_dir_of_a_package_without_headers_says_so():
    with pytest.raises(OspreyError, match="osprey.utils has no installed headers"):
        include_dir("osprey.utils")


def test_bench_report_prints_a_table_then_one_json_line(capsys):
    import json

    from osprey.utils.bench import Comparison, report, time_best

    assert time_best(lambda: None, 3) >= 0.0
    report([Comparison("sum", 0.5, "numpy", 2.0)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].split() == ["sum", "0.5000", "2.0000", "4.00", "numpy"]
    assert json.loads(lines[-1]) == {"sum": {"ours_s": 0.5, "peer": "numpy", "peer_s": 2.0, "ratio": 4.0}}


def test_realdata_path_finds_shared_data_beside_a_parent_or_skips(tmp_path, monkeypatch):
    from osprey.utils.testing import realdata_path

    monkeypatch.delenv("OSPREY_REALDATA", raising=False)
    (tmp_path / "shared" / "realdata" / "images").mkdir(parents=True)
    (tmp_path / "shared" / "realdata" / "images" / "a.fits").write_bytes(b"")
    test_file = tmp_path / "repo" / "packages" / "x" / "tests" / "test_x.py"
    assert realdata_path("images/a.fits", test_file) == tmp_path / "shared" / "realdata" / "images" / "a.fits"
    monkeypatch.setenv("OSPREY_REALDATA", str(tmp_path / "elsewhere"))
    with pytest.raises(pytest.skip.Exception, match="set OSPREY_REALDATA to the directory holding images/a.fits"):
        realdata_path("images/a.fits", test_file)
