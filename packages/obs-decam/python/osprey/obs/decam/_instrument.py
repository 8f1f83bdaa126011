"""`DarkEnergyCamera`: the DECam `Instrument` (entry point ``osprey.instruments`` -> ``DECam``)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from osprey.obs.base import CuratedCalibration, DecamTranslator, Instrument

from . import _raw
from ._crosstalk import CROSSTALK_VALID_FROM, DecamCrosstalk
from ._errors import DecamRawFormatError
from ._filters import DECAM_FILTERS
from ._geometry import load_camera

if TYPE_CHECKING:
    from osprey.afw.camera_geom import Camera, Detector
    from osprey.afw.image import Exposure

__all__ = ["DarkEnergyCamera"]


class DarkEnergyCamera(Instrument):
    """The Dark Energy Camera on the CTIO Blanco 4 m telescope.

    62 science CCDs (detector id = ``CCDNUM`` 1..62, name = ``DETPOS`` S1..S31, N1..N31),
    2048 x 4096 pixels of 15 µm, each read by two amplifiers A and B; raw files are one
    multi-extension FITS file per exposure with one HDU per CCD, usually fpack-compressed.
    Headers are translated by `osprey.obs.base.DecamTranslator`, which agrees with
    astro_metadata_translator's DECam translator (see the package documentation for the
    few conventions that differ).

    Examples
    --------
    >>> from osprey.obs.base import Instrument
    >>> decam = Instrument.from_name("DECam")
    >>> decam.get_camera()["N4"].id
    35
    """

    name: ClassVar[str] = "DECam"
    policy_name: ClassVar[str | None] = "decam"
    filter_definitions = DECAM_FILTERS
    translator_class = DecamTranslator
    raw_format: ClassVar[str] = "detector_hdu"
    raw_dtype: ClassVar[str] = "uint16"

    def get_camera(self) -> Camera:
        """The 62 science CCDs, from the shipped description (built once per process)."""
        return load_camera()

    # -- raw files --------------------------------------------------------------------------------
    def raw_detectors(self, path: str | os.PathLike[str]) -> dict[int, int]:
        """CCDNUM -> HDU index of every CCD in a raw file (headers only)."""
        return _raw.raw_detectors(path)

    def read_raw_headers(self, path: str | os.PathLike[str]) -> dict[int, dict[str, Any]]:
        """CCDNUM -> translatable header (primary cards merged with the CCD's HDU cards)."""
        return _raw.read_raw_headers(path)

    def raw_detector_headers(self, path: str | os.PathLike[str]) -> list[dict[str, Any]]:
        """One translatable header per CCD in a raw file (what `ingest_raws` ingests, one dataset each)."""
        return list(_raw.read_raw_headers(path).values())

    def read_raw_header(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """The header `translate` needs: primary cards merged with those of the file's first CCD.

        DECam's primary header has no ``CCDNUM``; use `read_raw_headers` for every CCD.
        """
        headers = _raw.read_raw_headers(path)
        if not headers:
            raise DecamRawFormatError(f"DECam raw file {os.fspath(path)} has no HDU with a CCDNUM card")
        order = {ccd: i for i, ccd in enumerate(_raw.RAW_HDU_ORDER)}
        first = min(headers, key=lambda ccd: order.get(ccd, 99 + ccd))
        return headers[first]

    def read_raw(self, path: str | os.PathLike[str], detector: int | str | Detector | None = None) -> Exposure:
        """Read one CCD of a DECam raw file (``.fits`` or fpack ``.fits.fz``) as an untrimmed `Exposure`.

        The image is the CCD's raw frame as float32 ADU: both amplifiers side by side, each
        flipped into its readout order (from its ``AMPSEC`` card), so that
        ``exposure.detector``'s amplifier boxes (``raw_data_bbox``,
        ``raw_serial_overscan_bbox``, ``raw_serial_prescan_bbox``,
        ``raw_parallel_overscan_bbox``) locate data, prescan and overscan, and ``osprey.ip.isr``
        assembles it. The amplifiers (geometry, gain, read noise, saturation) come from the
        HDU's own cards. ``exposure.metadata`` holds the primary cards merged with the
        CCD's; ``exposure.visit_info`` the translated header.

        Parameters
        ----------
        path : path-like
            The raw file.
        detector : `int`, `str` or `Detector`, optional
            CCDNUM, DETPOS name or detector; may be omitted when the file holds one CCD.

        Raises
        ------
        DecamRawFormatError
            The file is unreadable, lacks the CCD, or an HDU's shape or cards disagree with the
            camera (the message names the file, HDU and the problem).
        """
        return _raw.read_raw(self, path, detector)

    def write_raw(
        self,
        path: str | os.PathLike[str],
        detector_id: int,
        raw: Any,
        header: Mapping[str, Any],
    ) -> Path:
        """Write one CCD as a DECam raw file holding that CCD only (see `Instrument.write_raw`).

        ``.fz`` names are Rice-compressed as fpack does. For a whole exposure in one file use
        `write_raw_mef`.
        """
        return _raw.write_raw(self, path, {detector_id: raw}, header)

    def write_raw_mef(
        self,
        path: str | os.PathLike[str],
        raws: Mapping[int, Any],
        header: Mapping[str, Any],
        *,
        compress: bool | None = None,
    ) -> Path:
        """Write several CCDs of one exposure as one DECam multi-extension raw file.

        Parameters
        ----------
        path : path-like
            Output file; written atomically. ``.fz`` names are Rice-compressed unless
            ``compress`` says otherwise.
        raws : mapping CCDNUM -> array or mapping
            Each CCD's raw frame (readout order, as `read_raw` returns it; shape
            (4146, 2160)) or a mapping amplifier name -> array of that amplifier's
            ``raw_bbox`` shape. ADU; rounded and clipped to 0..65535 (uint16).
        header : mapping
            Exposure-level (primary) cards; per-CCD cards are written from the camera.
        compress : `bool`, optional
            Force compression on or off.
        """
        return _raw.write_raw(self, path, raws, header, compress=compress)

    # -- calibrations -----------------------------------------------------------------------------
    def curated_calibrations(self) -> Iterator[CuratedCalibration]:
        """The camera, plus the CTIO 2013 crosstalk coefficients per CCD (valid from first light on).

        Each ``crosstalk`` dataset (dimensions instrument, detector; storage class
        ``StructuredDataDict``) is an ``osprey.ip.isr.CrosstalkCalib`` dictionary: the
        A/B coefficient matrix in ADU plus the inter-CCD terms in its metadata.
        """
        from osprey.daf.butler import Timespan

        yield from super().curated_calibrations()
        crosstalk = DecamCrosstalk.load()
        span = Timespan.from_iso(CROSSTALK_VALID_FROM, None)
        for det in self.get_camera():
            amp_names = tuple(a.name for a in det.amplifiers)
            yield CuratedCalibration(
                "crosstalk", "StructuredDataDict", crosstalk.for_detector(det.id, amp_names), span, {"detector": det.id}
            )
