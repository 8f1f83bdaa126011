"""LSSTCam, LSSTComCam and LATISS as `osprey.obs.base.Instrument` subclasses."""

from __future__ import annotations

from typing import ClassVar

from osprey.afw.camera_geom import Camera
from osprey.obs.base import (
    FilterDefinition,
    Instrument,
    InstrumentError,
    LatissTranslator,
    LsstCamTranslator,
    LsstComCamTranslator,
    MetadataTranslator,
)

from ._camera import load_camera

__all__ = ["LSST_FILTERS", "Latiss", "LsstCam", "LsstComCam"]

_UGRIZY = {"u": 367.0, "g": 482.5, "r": 622.2, "i": 754.5, "z": 869.1, "y": 971.0}

LSST_FILTERS: tuple[FilterDefinition, ...] = (
    *(
        FilterDefinition(f"{b}_{n:02d}", b, f"LSSTCam {b} filter", _UGRIZY[b], (b,))
        for b, n in (("u", 24), ("g", 6), ("r", 3), ("i", 6), ("z", 20), ("y", 10))
    ),
    *(
        FilterDefinition(f"{b}_{n:02d}", b, f"LSSTCam {b} filter (alternate)", _UGRIZY[b])
        for b, n in (("u", 2), ("g", 7), ("r", 57), ("z", 3))
    ),
    FilterDefinition("empty", None, "no filter in the beam"),
    FilterDefinition("unknown", None, "filter not recorded"),
    FilterDefinition("ph_5", "white", "pinhole mask (lab)"),
)
"""LSSTCam/ComCam physical filters (``u_24``...) with their bands; lab and empty positions keep their names."""


class _RubinInstrument(Instrument):
    """Shared by the Rubin cameras: LSST raw files (one RICE-compressed HDU per amplifier ``SegmentNN``)."""

    raw_format: ClassVar[str] = "amp_hdus"
    raw_compression: ClassVar[str | None] = "RICE_1"
    camera_name: ClassVar[str]
    filter_definitions: ClassVar[tuple[FilterDefinition, ...]] = LSST_FILTERS
    translator_class: ClassVar[type[MetadataTranslator] | None]

    def get_camera(self) -> Camera:
        return load_camera(self.camera_name)

    def amp_hdu_name(self, amp_name: str) -> str:
        # Amplifier C10 is written in HDU "Segment10" by the camera control system.
        return f"Segment{amp_name[1:]}"

    def filter_definition(self, physical_filter: str) -> FilterDefinition:
        """A listed filter, else one named by the Rubin convention ``<band>_<serial>`` (``r_57``).

        ``filter~grating`` combinations take the band of the filter part; anything else is
        its own band (a lab or engineering element).
        """
        try:
            return super().filter_definition(physical_filter)
        except InstrumentError:  # not listed: apply the naming convention
            pass
        filt, _, _ = physical_filter.partition("~")
        band, sep, serial = filt.partition("_")
        if band in _UGRIZY and sep and serial:
            return FilterDefinition(physical_filter[:32], band, f"{self.name} {band} filter", _UGRIZY[band])
        for known in self.filter_definitions:
            if filt == known.physical_filter and known.is_science:
                return FilterDefinition(physical_filter[:32], known.band, known.doc, known.lambda_eff_nm)
        return FilterDefinition(physical_filter[:32], None, f"{self.name} element {physical_filter}")


class LsstCam(_RubinInstrument):
    """The LSST Camera: 189 science CCDs (ITL and e2v) on 21 rafts, 8 guider and 8 wavefront sensors."""

    name: ClassVar[str] = "LSSTCam"
    policy_name: ClassVar[str | None] = "lsstCam"
    camera_name: ClassVar[str] = "LSSTCam"
    translator_class = LsstCamTranslator


class LsstComCam(_RubinInstrument):
    """The LSST Commissioning Camera: one raft of nine ITL CCDs (R22, detectors 0..8)."""

    name: ClassVar[str] = "LSSTComCam"
    policy_name: ClassVar[str | None] = "comCam"
    camera_name: ClassVar[str] = "LSSTComCam"
    translator_class = LsstComCamTranslator


LATISS_FILTERS: tuple[FilterDefinition, ...] = (
    *(
        FilterDefinition(f, b, f"LATISS {f}", w)
        for f, b, w in (
            ("SDSSg_65mm", "g", 477.0),
            ("SDSSr_65mm", "r", 623.1),
            ("SDSSi_65mm", "i", 762.5),
            ("SDSSz_65mm", "z", 913.4),
            ("SDSSy_65mm", "y", 1004.0),
        )
    ),
    *(FilterDefinition(f) for f in ("empty", "unknown", "BG40_65mm", "OG550_65mm", "FELH0600", "SDSSu_65mm")),
)
"""LATISS physical filters (the translator joins filter and grating as ``filter~grating``; see `filter_definition`)."""


class Latiss(_RubinInstrument):
    """LATISS, the Auxiliary Telescope imaging spectrograph: one ITL CCD (``RXX_S00``), filters and gratings."""

    name: ClassVar[str] = "LATISS"
    policy_name: ClassVar[str | None] = "latiss"
    camera_name: ClassVar[str] = "LATISS"
    raw_compression: ClassVar[str | None] = None
    filter_definitions = LATISS_FILTERS
    translator_class = LatissTranslator
