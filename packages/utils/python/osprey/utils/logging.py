"""Logging levels shared by every Osprey package: VERBOSE (15) between INFO and DEBUG."""

from __future__ import annotations

import logging

__all__ = ["VERBOSE", "get_logger"]

VERBOSE = 15
"""Per-item progress ("processed detector 42"): quieter than DEBUG, chattier than INFO."""

logging.addLevelName(VERBOSE, "VERBOSE")


class OspreyLogger(logging.Logger):
    """A standard logger with a ``verbose`` method for the VERBOSE level."""

    def verbose(self, msg: str, *args, **kwargs) -> None:
        if self.isEnabledFor(VERBOSE):
            self._log(VERBOSE, msg, args, **kwargs)


def get_logger(name: str) -> OspreyLogger:
    """``logging.getLogger`` returning a logger that has ``.verbose``.

    The class is swapped on the one logger asked for, so the global logger class of
    the application is left alone.
    """
    logger = logging.getLogger(name)
    if not isinstance(logger, OspreyLogger):
        logger.__class__ = OspreyLogger
    return logger
