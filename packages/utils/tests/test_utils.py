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
