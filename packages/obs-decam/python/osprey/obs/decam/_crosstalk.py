"""DECam crosstalk: the CTIO 2013-06-06 coefficients between amplifiers of the whole focal plane.

The coefficients were measured by CTIO (file ``DECam_xtalk_20130606.txt`` of the DECam
calibration files) for the 124 amplifiers of the 62 science CCDs: every amplifier couples
to the other amplifier of its CCD and, more weakly, to amplifiers of the CCDs on the same
readout board. `DecamCrosstalk.from_text` parses that file; the package ships the same
249 terms as ``resources/crosstalk_20130606.ecsv`` (written by ``python -m
osprey.obs.decam._build``), which `DecamCrosstalk.load` reads.

Convention (as ``osprey.ip.isr.CrosstalkCalib``): ``coeff`` is the fraction of the
source amplifier's signal (ADU, after overscan subtraction) that appears in the victim
amplifier, both read in readout order — which is how `read_raw` lays each amplifier out,
so source and victim pixels correspond index by index.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._errors import DecamCrosstalkError
from ._geometry import AMP_NAMES, N_SCIENCE_CCDS

__all__ = ["CROSSTALK_VALID_FROM", "CrosstalkTerm", "DecamCrosstalk"]

CROSSTALK_VALID_FROM = "2012-09-12T00:00:00"
"""Start (TAI) of the validity range of the shipped coefficients: DECam first light; open-ended."""

_AMP = re.compile(r"^ccd(\d{1,2})([AB])$")
_N_POLY = 3


@dataclasses.dataclass(frozen=True)
class CrosstalkTerm:
    """One victim/source pair of the coefficient table.

    Attributes
    ----------
    victim_detector, source_detector : `int`
        CCDNUM (Osprey detector id) of the victim and of the source.
    victim_amp, source_amp : `str`
        ``"A"`` or ``"B"``.
    coeff, coeff_err : `float`
        Linear coefficient (victim ADU per source ADU) and its uncertainty.
    nonlinear_onset_adu : `float`
        Source level above which CTIO fitted a non-linear response (1e10 = never).
    poly : `tuple` of `float`
        CTIO's polynomial coefficients p1..p3 for that regime, stored as published.
    """

    victim_detector: int
    victim_amp: str
    source_detector: int
    source_amp: str
    coeff: float
    coeff_err: float
    nonlinear_onset_adu: float
    poly: tuple[float, ...]

    @property
    def intra_detector(self) -> bool:
        """Whether source and victim are the two amplifiers of one CCD."""
        return self.victim_detector == self.source_detector


def amp_index(detector: int, amp: str) -> int:
    """Row/column of an amplifier in the 124 x 124 matrix: ``2 * (CCDNUM - 1) + (0 for A, 1 for B)``."""
    if not 1 <= int(detector) <= N_SCIENCE_CCDS or amp not in AMP_NAMES:
        raise DecamCrosstalkError(f"no DECam science amplifier {amp!r} on CCDNUM {detector!r}")
    return 2 * (int(detector) - 1) + AMP_NAMES.index(amp)


class DecamCrosstalk:
    """Crosstalk coefficients between all amplifiers of the DECam science CCDs.

    Parameters
    ----------
    terms : iterable of `CrosstalkTerm`
        Victim/source pairs; a pair may appear once.
    provenance : `str`
        Where the numbers come from (kept with every dataset written from them).
    """

    def __init__(self, terms: Iterable[CrosstalkTerm], provenance: str = "") -> None:
        self._terms = tuple(terms)
        self.provenance = provenance
        seen: set[tuple[int, str, int, str]] = set()
        for t in self._terms:
            key = (t.victim_detector, t.victim_amp, t.source_detector, t.source_amp)
            amp_index(t.victim_detector, t.victim_amp)
            amp_index(t.source_detector, t.source_amp)
            if key in seen:
                raise DecamCrosstalkError(
                    f"crosstalk pair victim ccd{key[0]}{key[1]} / source ccd{key[2]}{key[3]} twice"
                )
            if key[:2] == key[2:]:
                raise DecamCrosstalkError(f"crosstalk term of ccd{key[0]}{key[1]} onto itself")
            seen.add(key)

    @property
    def terms(self) -> tuple[CrosstalkTerm, ...]:
        """All victim/source pairs, in file order."""
        return self._terms

    def __len__(self) -> int:
        return len(self._terms)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DecamCrosstalk):
            return NotImplemented
        return self._terms == other._terms

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DecamCrosstalk({len(self)} terms)"

    # -- reading and writing --------------------------------------------------------------------
    @classmethod
    def from_text(cls, path: str | Path) -> DecamCrosstalk:
        """Parse CTIO's ``DECam_xtalk_*.txt``: ``victim source x x_err src_nl p1 p2 p3`` per line."""
        path = Path(path)
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise DecamCrosstalkError(f"cannot read crosstalk table {path}: {exc}") from exc
        terms = []
        for number, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            where = f"{path}:{number}"
            if len(fields) != 5 + _N_POLY:
                raise DecamCrosstalkError(f"{where}: expected {5 + _N_POLY} columns, got {len(fields)}: {line!r}")
            amps = []
            for text in fields[:2]:
                match = _AMP.match(text)
                if match is None:
                    raise DecamCrosstalkError(f"{where}: {text!r} is not an amplifier like 'ccd25A'")
                amps.append((int(match.group(1)), match.group(2)))
            try:
                numbers = [float(v) for v in fields[2:]]
            except ValueError:
                raise DecamCrosstalkError(f"{where}: non-numeric coefficient in {line!r}") from None
            (vd, va), (sd, sa) = amps
            terms.append(CrosstalkTerm(vd, va, sd, sa, numbers[0], numbers[1], numbers[2], tuple(numbers[3:])))
        if not terms:
            raise DecamCrosstalkError(f"{path}: no crosstalk terms found")
        try:
            return cls(terms, provenance=f"CTIO DECam calibration file {path.name}")
        except DecamCrosstalkError as exc:
            raise DecamCrosstalkError(f"{path}: {exc}") from None

    def to_table(self) -> Any:
        """An astropy `~astropy.table.Table`, one row per term (the shipped ECSV layout)."""
        from astropy.table import Table

        t = self._terms
        table = Table(
            {
                "victim_detector": np.array([x.victim_detector for x in t], dtype=np.int16),
                "victim_amp": [x.victim_amp for x in t],
                "source_detector": np.array([x.source_detector for x in t], dtype=np.int16),
                "source_amp": [x.source_amp for x in t],
                "coeff": np.array([x.coeff for x in t]),
                "coeff_err": np.array([x.coeff_err for x in t]),
                "nonlinear_onset": np.array([x.nonlinear_onset_adu for x in t]),
                "poly": np.array([x.poly for x in t]),
            }
        )
        table["nonlinear_onset"].unit = "adu"
        table.meta["provenance"] = self.provenance
        table.meta["units"] = "adu"
        table.meta["valid_from_tai"] = CROSSTALK_VALID_FROM
        table.meta["convention"] = "victim += coeff * source, both overscan-subtracted ADU in readout order"
        return table

    def write(self, path: str | Path) -> None:
        """Write `to_table` as ECSV."""
        self.to_table().write(Path(path), format="ascii.ecsv", overwrite=True)

    @classmethod
    def read(cls, path: str | Path) -> DecamCrosstalk:
        """Read the ECSV written by `write`."""
        from astropy.table import Table

        path = Path(path)
        try:
            table = Table.read(path, format="ascii.ecsv")
        except Exception as exc:  # astropy raises several types for malformed files
            raise DecamCrosstalkError(f"{path}: not a readable crosstalk ECSV table ({exc})") from exc
        missing = {"victim_detector", "victim_amp", "source_detector", "source_amp", "coeff"} - set(table.colnames)
        if missing:
            raise DecamCrosstalkError(f"{path}: crosstalk table lacks columns {sorted(missing)}")
        terms = [
            CrosstalkTerm(
                int(row["victim_detector"]),
                str(row["victim_amp"]),
                int(row["source_detector"]),
                str(row["source_amp"]),
                float(row["coeff"]),
                float(row["coeff_err"]),
                float(row["nonlinear_onset"]),
                tuple(float(p) for p in row["poly"]),
            )
            for row in table
        ]
        return cls(terms, provenance=str(table.meta.get("provenance", "")))

    @staticmethod
    def load() -> DecamCrosstalk:
        """The shipped 2013-06-06 coefficients (``resources/crosstalk_20130606.ecsv``), read once."""
        return _load_shipped()

    # -- views ----------------------------------------------------------------------------------
    def matrix(self, errors: bool = False) -> NDArray[np.float64]:
        """The 124 x 124 matrix ``M[victim, source]`` (index `amp_index`); zero where not measured.

        ``errors=True`` gives the uncertainties instead of the coefficients.
        """
        out = np.zeros((2 * N_SCIENCE_CCDS, 2 * N_SCIENCE_CCDS))
        if self._terms:
            v = [amp_index(t.victim_detector, t.victim_amp) for t in self._terms]
            s = [amp_index(t.source_detector, t.source_amp) for t in self._terms]
            out[v, s] = [t.coeff_err if errors else t.coeff for t in self._terms]
        return out

    def coefficient(self, victim: tuple[int, str], source: tuple[int, str]) -> float:
        """One coefficient, ``(CCDNUM, amp)`` pairs; 0.0 for a pair CTIO did not list."""
        return float(self.matrix()[amp_index(*victim), amp_index(*source)])

    def sources_of(self, detector: int) -> list[CrosstalkTerm]:
        """Terms whose victim is on ``detector`` and whose source is on another CCD."""
        return [t for t in self._terms if t.victim_detector == detector and not t.intra_detector]

    def for_detector(self, detector: int, amp_names: tuple[str, ...] = AMP_NAMES) -> dict[str, Any]:
        """The intra-CCD part as an ``osprey.ip.isr.CrosstalkCalib`` dictionary (``CrosstalkCalib.from_dict``).

        ``coeffs[v, s]`` in ``amp_names`` order (the detector's amplifier order), units ADU;
        ``metadata["inter_detector"]`` lists the terms coupling other CCDs into this one.
        """
        if not 1 <= int(detector) <= N_SCIENCE_CCDS:
            raise DecamCrosstalkError(f"CCDNUM {detector!r} is not a DECam science CCD (1..{N_SCIENCE_CCDS})")
        coeffs = np.zeros((len(amp_names), len(amp_names)))
        for t in self._terms:
            if t.victim_detector == detector and t.intra_detector:
                coeffs[amp_names.index(t.victim_amp), amp_names.index(t.source_amp)] = t.coeff
        inter = [
            {
                "victim_amp": t.victim_amp,
                "source_detector": t.source_detector,
                "source_amp": t.source_amp,
                "coeff": t.coeff,
                "coeff_err": t.coeff_err,
            }
            for t in self.sources_of(int(detector))
        ]
        return {
            "coeffs": coeffs.tolist(),
            "coeffs_sqr": None,
            "amp_names": list(amp_names),
            "units": "adu",
            "metadata": {
                "instrument": "DECam",
                "detector": int(detector),
                "provenance": self.provenance,
                "valid_from_tai": CROSSTALK_VALID_FROM,
                "inter_detector": inter,
            },
        }

    # -- correction -----------------------------------------------------------------------------
    def crosstalk_signal(self, data: Mapping[int, Mapping[str, NDArray[Any]]]) -> dict[int, dict[str, NDArray[Any]]]:
        """Crosstalk each victim amplifier receives: ``Σ_s coeff * source`` (linear terms).

        Parameters
        ----------
        data : mapping CCDNUM -> (amp name -> array)
            Overscan-subtracted data regions (ADU) of the CCDs at hand, each amplifier in
            readout order (``exposure.image.array[amp raw data slices]`` of `read_raw`);
            all arrays of one shape. Sources that are absent contribute nothing.

        Returns
        -------
        signal : dict CCDNUM -> (amp name -> float64 array)
            For every victim amplifier in ``data``; subtract it to correct.
        """
        out: dict[int, dict[str, NDArray[Any]]] = {}
        for det, amps in data.items():
            out[int(det)] = {name: np.zeros(np.shape(arr), dtype=np.float64) for name, arr in amps.items()}
        for t in self._terms:  # a loop over the 249 terms; each is one array operation
            victim = out.get(t.victim_detector, {}).get(t.victim_amp)
            source = data.get(t.source_detector, {}).get(t.source_amp)
            if victim is None or source is None or t.coeff == 0.0:
                continue
            if np.shape(source) != victim.shape:
                raise DecamCrosstalkError(
                    f"source ccd{t.source_detector}{t.source_amp} has shape {np.shape(source)} but victim "
                    f"ccd{t.victim_detector}{t.victim_amp} has {victim.shape}"
                )
            victim += t.coeff * np.asarray(source, dtype=np.float64)
        return out


@functools.lru_cache(maxsize=1)
def _load_shipped() -> DecamCrosstalk:
    source = resources.files("osprey.obs.decam").joinpath("resources/crosstalk_20130606.ecsv")
    with resources.as_file(source) as path:
        return DecamCrosstalk.read(path)
