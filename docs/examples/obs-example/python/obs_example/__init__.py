"""ExampleCam for Osprey: two 512 x 512 CCDs with two amplifiers each, g and r filters.

`ExampleCam` is the instrument (entry point ``osprey.instruments`` -> ``ExampleCam``);
`ExampleCamTranslator` reads its headers. See ``docs/writing-an-obs-package.md``.
"""

from ._instrument import EXAMPLE_FILTERS, ExampleCam
from ._translator import ExampleCamTranslator

__version__ = "0.1.0"

__all__ = ["EXAMPLE_FILTERS", "ExampleCam", "ExampleCamTranslator", "__version__"]
