"""The CTIO 2013 crosstalk coefficients: parsing, the shipped table and the per-CCD calibrations."""

from __future__ import annotations

import numpy as np
import pytest

from osprey.obs.decam import DecamCrosstalk, DecamCrosstalkError
from osprey.utils.testing import realdata_path


@pytest.fixture(scope="module")
def parsed():
    return DecamCrosstalk.from_text(realdata_path("calibs/decam/DECam_xtalk_20130606.txt", __file__))


def test_every_line_of_the_text_file_is_a_term(parsed):
    text = realdata_path("calibs/decam/DECam_xtalk_20130606.txt", __file__).read_text().splitlines()
    rows = [line.split() for line in text if line.strip() and not line.startswith("#")]
    assert len(parsed) == len(rows) == 249
    matrix, errors = parsed.matrix(), parsed.matrix(errors=True)
    assert matrix.shape == (124, 124) and np.count_nonzero(matrix) == 249
    for row in rows:  # every coefficient, spot-checked against the text by its own parse
        v, s = (int(row[0][3:-1]), row[0][-1]), (int(row[1][3:-1]), row[1][-1])
        vi, si = 2 * (v[0] - 1) + "AB".index(v[1]), 2 * (s[0] - 1) + "AB".index(s[1])
        assert matrix[vi, si] == float(row[2]) and errors[vi, si] == float(row[3])


def test_spot_values(parsed):
    assert parsed.coefficient((25, "B"), (25, "A")) == 1.34e-04
    assert parsed.coefficient((25, "A"), (25, "B")) == 3.16e-04
    assert parsed.coefficient((26, "A"), (25, "A")) == 2.95e-05
    assert parsed.coefficient((62, "B"), (62, "A")) == -7.12e-04
    assert parsed.coefficient((25, "A"), (62, "B")) == 0.0  # not listed: no coupling
    first = parsed.terms[0]
    assert (first.nonlinear_onset_adu, first.poly) == (4.078154e04, (1.537540e-04, -6.980507e-08, 5.963848e-12))
    assert parsed.terms[2].nonlinear_onset_adu == 1e10  # linear only


def test_shipped_table_equals_the_text_file(parsed):
    shipped = DecamCrosstalk.load()
    assert shipped == parsed
    assert "DECam_xtalk_20130606.txt" in shipped.provenance


def test_per_ccd_calibration_dict(parsed):
    calib = parsed.for_detector(26)
    assert calib["amp_names"] == ["A", "B"] and calib["units"] == "adu"
    np.testing.assert_array_equal(calib["coeffs"], [[0.0, 4.50e-04], [-5.36e-04, 0.0]])
    inter = {
        (t["victim_amp"], t["source_detector"], t["source_amp"]): t["coeff"]
        for t in calib["metadata"]["inter_detector"]
    }
    assert inter[("A", 25, "A")] == 2.95e-05 and inter[("B", 27, "A")] == -2.31e-05
    assert len(inter) == sum(1 for t in parsed.terms if t.victim_detector == 26 and t.source_detector != 26)
    swapped = parsed.for_detector(26, ("B", "A"))
    np.testing.assert_array_equal(swapped["coeffs"], [[0.0, -5.36e-04], [4.50e-04, 0.0]])
    with pytest.raises(DecamCrosstalkError, match="CCDNUM 63 is not a DECam science CCD"):
        parsed.for_detector(63)


def test_crosstalk_signal_matches_a_dense_matrix_product(parsed):
    rng = np.random.default_rng(3)
    data = {ccd: {amp: rng.normal(1000, 300, (8, 5)) for amp in "AB"} for ccd in (25, 26, 27)}
    signal = parsed.crosstalk_signal(data)
    m = parsed.matrix()
    idx = {(c, a): 2 * (c - 1) + "AB".index(a) for c in data for a in "AB"}
    for (c, a), vi in idx.items():
        expected = sum(m[vi, si] * data[sc][sa] for (sc, sa), si in idx.items())
        np.testing.assert_allclose(signal[c][a], expected, rtol=1e-12, atol=1e-12)


def test_malformed_tables_are_refused_with_the_line(tmp_path):
    path = tmp_path / "xt.txt"
    path.write_text("# header\nccd25B ccd25X 1e-4 1e-5 1e10 0 0 0\n")
    with pytest.raises(DecamCrosstalkError, match=r"xt.txt:2: 'ccd25X' is not an amplifier"):
        DecamCrosstalk.from_text(path)
    path.write_text("ccd25B ccd25A 1e-4 1e-5 1e10 0 0\n")
    with pytest.raises(DecamCrosstalkError, match=r"xt.txt:1: expected 8 columns, got 7"):
        DecamCrosstalk.from_text(path)
    path.write_text("ccd25B ccd25A 1e-4 1e-5 1e10 0 0 0\nccd25B ccd25A 2e-4 1e-5 1e10 0 0 0\n")
    with pytest.raises(DecamCrosstalkError, match="twice"):
        DecamCrosstalk.from_text(path)
