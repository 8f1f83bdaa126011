"""osprey.afw.table: schema, catalog operations and lossless conversions (astropy, FITS, Parquet)."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from osprey.afw.metadata import PropertyList
from osprey.afw.table import (
    Field,
    Schema,
    SchemaMismatchError,
    SourceCatalog,
    TableError,
    UnknownColumnError,
    concatenate,
)


def make_schema():
    s = SourceCatalog.minimal_schema()
    s.add_field("base_sdss_centroid_x", "f8", "pix", "Centroid x from the SDSS algorithm.")
    s.add_field("base_sdss_centroid_y", "f8", "pix", "Centroid y.")
    s.add_field("base_sdss_centroid_flag", "?", doc="Centroid failed.")
    s.add_field("base_psf_flux_flux", "f4", "nJy", "PSF flux.")
    s.add_field("base_psf_flux_flux_err", "f4", "nJy", "PSF flux uncertainty.")
    s.add_field("n_pix", "i4", "", "Footprint area in pixels.")
    s.add_field("visit", "u4")
    s.add_field("mask_bits", "u8", doc="A bit field needing all 64 bits.")
    s.add_field("small", "i2")
    s.add_field("byte", "u1")
    s.add_field("band", "U4", doc="Filter band.")
    s.add_field("area", "f8", "deg**2", "A unit astropy rewrites to its generic form.")
    s.set_slot("centroid", "base_sdss_centroid")
    s.set_slot("psf_flux", "base_psf_flux")
    s.set_alias("psf", "base_psf_flux")
    s.set_alias("x", "base_sdss_centroid_x")
    return s


@pytest.fixture
def cat():
    """Six sources: 10 and 20 are parents, 11/12 children of 10, 21 child of 20, 30 isolated."""
    metadata = PropertyList([("EXPTIME", 30.0, "seconds"), ("FILTER", "HSC-I"), ("FLAG", True)])
    metadata.add("HISTORY", "made by a test")
    metadata.set("long.hierarch.key", 7)
    c = SourceCatalog(
        make_schema(),
        {
            "id": [10, 11, 12, 20, 21, 30],
            "coord_ra": [0.5, 0.5001, 0.4999, 2.0, 2.0001, 6.2],
            "coord_dec": [-0.1, -0.1, -0.1001, 0.3, 0.3, 1.5],
            "parent": [0, 10, 10, 0, 20, 0],
            "base_sdss_centroid_x": [10.5, 11.0, np.nan, 200.25, 201.0, 3000.0],
            "base_sdss_centroid_y": [20.0, 21.0, 22.0, 300.0, -0.0, 1.0],
            "base_sdss_centroid_flag": [False, False, True, False, False, True],
            "base_psf_flux_flux": [100.0, 40.0, 60.0, 5.5, 5.5, np.inf],
            "base_psf_flux_flux_err": [1.0, 2.0, 3.0, 0.5, 0.5, np.nan],
            "n_pix": [50, 20, 30, 9, 9, 1],
            "visit": [1, 1, 1, 2, 2, 4294967295],
            "mask_bits": np.array([0, 1, 2**63, 2**64 - 1, 5, 6], dtype=np.uint64),
            "small": [-32768, 32767, 0, 1, 2, 3],
            "byte": [0, 255, 1, 2, 3, 4],
            "band": ["g", "r", "i", "z", "y", "N921"],
            "area": [1e-10, 2.0, 3.0, 4.0, 5.0, 6.0],
        },
        metadata=metadata,
    )
    c.set_footprints({10: "fp10", 12: "fp12", 20: "fp20", 30: "fp30"})
    return c


def assert_identical(a: SourceCatalog, b: SourceCatalog):
    assert a.schema == b.schema, a.schema.difference(b.schema)
    assert a.metadata == b.metadata
    for name in a.names:
        assert a[name].dtype == b[name].dtype, name
        if a[name].dtype.kind == "U":
            assert_array_equal(a[name], b[name])
        else:
            assert a[name].tobytes() == b[name].tobytes(), name  # to the bit, NaN payloads and -0.0 too
    assert a.equals(b)


# -- schema ------------------------------------------------------------------------------------
def test_field_normalizes_and_validates():
    f = Field("area", ">f8", "deg**2", "doc")
    assert f.dtype == np.dtype("f8") and f.dtype.byteorder in "=<"
    assert f.unit == "deg2"
    with pytest.raises(TableError, match="'flux'.*'furlong/fortnightz'"):
        Field("flux", "f8", "furlong/fortnightz")
    with pytest.raises(TableError, match="'c'.*complex128.*not supported"):
        Field("c", "c16")
    with pytest.raises(TableError, match="'tiny'.*int8"):
        Field("tiny", "i1")
    with pytest.raises(TableError, match="field name '2x'"):
        Field("2x", "f8")


def test_schema_lookup_aliases_slots_and_groups():
    s = make_schema()
    assert "id" in s and "psf_flux" in s and "x" in s and "nope" not in s
    assert s.find("psf_flux_err").name == "base_psf_flux_flux_err"  # prefix alias
    assert s.find("x").unit == "pix"
    assert [f.name for f in s.extract("base_sdss_centroid")] == [
        "base_sdss_centroid_x",
        "base_sdss_centroid_y",
        "base_sdss_centroid_flag",
    ]
    assert [f.name for f in s.extract("psf")] == ["base_psf_flux_flux", "base_psf_flux_flux_err"]
    assert s.slot_column("centroid", "flag") == "base_sdss_centroid_flag"
    with pytest.raises(UnknownColumnError, match="no column 'coord_raa'.*did you mean 'coord_ra'"):
        s.find("coord_raa")
    with pytest.raises(UnknownColumnError, match="needs column nothing_x"):
        s.set_slot("centroid", "nothing")
    with pytest.raises(TableError, match="unknown slot 'centre'"):
        s.set_slot("centre", "base_sdss_centroid")
    with pytest.raises(TableError, match="already in the schema"):
        s.add_field("id", "i8")
    s.set_alias("a", "b")
    with pytest.raises(TableError, match="cycle"):
        s.set_alias("b", "a")
    assert s.aliases["a"] == "b" and "b" not in s.aliases


def test_schema_dict_round_trip_and_equality():
    s = make_schema()
    again = Schema.from_dict(s.to_dict())
    assert again == s and again is not s
    again.set_slot("psf_flux", None)
    assert again != s
    assert any("slots differ" in d for d in s.difference(again))


def test_errors_pickle():
    for err in (TableError("x"), UnknownColumnError("no column 'a'"), SchemaMismatchError("y")):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err)
    assert isinstance(UnknownColumnError("k"), KeyError) and isinstance(TableError("v"), ValueError)


# -- catalog basics ---------------------------------------------------------------------------
def test_minimal_catalog_and_validation():
    c = SourceCatalog(columns={"id": [1, 2], "coord_ra": [0.1, 0.2], "coord_dec": [0.0, 0.1]})
    assert len(c) == 2 and c["parent"].tolist() == [0, 0] and c["id"].dtype == np.int64
    assert SourceCatalog.minimal_schema().names == ["id", "coord_ra", "coord_dec", "parent"]
    with pytest.raises(TableError, match="'coord_dec' has length 3, but the catalog has 2 rows"):
        SourceCatalog(columns={"id": [1, 2], "coord_dec": [0.0, 0.1, 0.2]})
    with pytest.raises(UnknownColumnError, match="no column 'flux'"):
        SourceCatalog(columns={"id": [1], "flux": [1.0]})
    with pytest.raises(TableError, match="column 'id': cannot store float64 values in a int64 field"):
        SourceCatalog(columns={"id": [1.5]})
    with pytest.raises(TableError, match="lacks the minimal source field 'coord_dec'"):
        SourceCatalog(Schema([Field("id", "i8"), Field("coord_ra", "f8", "rad")]))


def test_column_access_is_a_view_and_slots(cat):
    col = cat["n_pix"]
    col[0] = 99
    assert cat["n_pix"][0] == 99
    assert cat["x"] is cat["base_sdss_centroid_x"]
    assert_array_equal(cat.centroid_x, cat["base_sdss_centroid_x"])
    assert_array_equal(cat.centroid_y, [20.0, 21.0, 22.0, 300.0, -0.0, 1.0])
    assert cat.centroid_flag.tolist() == [False, False, True, False, False, True]
    assert cat.psf_flux.dtype == np.float32 and cat.psf_flux[1] == 40.0
    assert cat.psf_flux_err[2] == 3.0
    with pytest.raises(UnknownColumnError, match="slot 'psf_flux' -> 'base_psf_flux' has no column"):
        cat.psf_flux_flag  # noqa: B018
    with pytest.raises(UnknownColumnError, match="slot 'shape' is not set"):
        cat.shape_xx  # noqa: B018
    with pytest.raises(UnknownColumnError, match="no column 'psf_fluxx'"):
        cat["psf_fluxx"]


def test_add_column_and_setitem(cat):
    cat.add_column("snr", cat.psf_flux / cat.psf_flux_err, unit="", doc="Signal to noise.")
    assert cat.schema.find("snr").dtype == np.float32 and cat["snr"][0] == 100.0
    cat.add_column("good", dtype="?")
    assert not cat["good"].any()
    cat["good"] = True
    assert cat["good"].all()
    with pytest.raises(TableError, match="'bad' has length 2, but the catalog has 6 rows"):
        cat.add_column("bad", [1, 2])
    with pytest.raises(TableError, match="already in the schema"):
        cat.add_column("snr", np.zeros(6))
    assert "bad" not in cat


def test_selection_mask_fancy_and_slice(cat):
    sel = cat[cat.psf_flux > 10]
    assert sel["id"].tolist() == [10, 11, 12, 30]
    assert dict(sel.footprints) == {10: "fp10", 12: "fp12", 30: "fp30"}
    assert sel.metadata == cat.metadata and sel.schema == cat.schema

    picked = cat[np.array([5, 0, 0])]
    assert picked["id"].tolist() == [30, 10, 10] and picked["band"].tolist() == ["N921", "g", "g"]
    picked["n_pix"][0] = -1
    assert cat["n_pix"][5] == 1  # fancy index copies

    sl = cat[1:4]
    assert sl["id"].tolist() == [11, 12, 20] and set(sl.footprints) == {12, 20}
    sl["n_pix"][0] = -7
    assert cat["n_pix"][1] == -7  # slice is a view
    assert len(cat[np.zeros(6, bool)]) == 0
    with pytest.raises(TableError, match="boolean mask has length 2"):
        cat[np.array([True, False])]
    with pytest.raises(TableError, match="cat.row"):
        cat[3]
    assert cat.row(3)["id"] == 20


def test_sort_children_and_copy(cat):
    c = cat.copy()
    c.sort("base_psf_flux_flux")
    assert c["id"].tolist() == [20, 21, 11, 12, 10, 30]  # stable for the tie 20/21
    c.sort(["visit", "n_pix"], descending=True)
    assert c["id"].tolist() == [30, 20, 21, 10, 12, 11]
    assert dict(c.footprints) == dict(cat.footprints)
    assert cat["id"].tolist() == [10, 11, 12, 20, 21, 30]  # the copy was sorted, not the original
    kids = cat.children(10)
    assert kids["id"].tolist() == [11, 12] and dict(kids.footprints) == {12: "fp12"}
    assert cat.children([10, 20])["id"].tolist() == [11, 12, 21]
    assert len(cat.children(30)) == 0


def test_join_on_id(cat):
    right = SourceCatalog(columns={"id": [30, 12, 99, 10], "coord_ra": [9.0, 9.0, 9.0, 9.0], "coord_dec": 0.0})
    right.add_column("ext_flux", [3.0, 1.2, 9.9, 1.0], unit="nJy", doc="Extra flux.")
    right.set_footprints({99: "fp99", 12: "other12"})
    j = cat.join(right)
    assert j["id"].tolist() == [10, 12, 30]  # left order
    assert j["ext_flux"].tolist() == [1.0, 1.2, 3.0]
    assert j["coord_ra_2"].tolist() == [9.0, 9.0, 9.0] and j["coord_ra"].tolist() == [0.5, 0.4999, 6.2]
    assert j.schema.find("ext_flux").unit == "nJy" and j.centroid_x[0] == 10.5
    assert dict(j.footprints) == {10: "fp10", 12: "fp12", 30: "fp30"}  # left wins
    dup = SourceCatalog(columns={"id": [10, 10], "coord_ra": [0.0, 0.0], "coord_dec": [0.0, 0.0]})
    with pytest.raises(TableError, match=r"join key 'id' is not unique in the right catalog, e.g. \[10\]"):
        cat.join(dup)
    assert len(cat.join(SourceCatalog())) == 0


def test_concatenate(cat):
    both = concatenate([cat[:2], cat[4:]])
    assert both["id"].tolist() == [10, 11, 21, 30]
    assert both["band"].tolist() == ["g", "r", "y", "N921"]
    assert dict(both.footprints) == {10: "fp10", 30: "fp30"} and both.metadata == cat.metadata
    other = cat.copy()
    other.add_column("extra", np.ones(6))
    with pytest.raises(SchemaMismatchError, match="catalog 1 has a different schema.*'extra' only in the second"):
        concatenate([cat, other])
    unit_changed = SourceCatalog.minimal_schema()
    unit_changed.add_field("n_pix", "i8")
    a = SourceCatalog(unit_changed, length=1)
    b = SourceCatalog(SourceCatalog.minimal_schema(), length=1)
    b.add_column("n_pix", dtype="i4")
    with pytest.raises(SchemaMismatchError, match="'n_pix': dtype int64 != int32"):
        concatenate([a, b])


# -- conversions ------------------------------------------------------------------------------
def test_astropy_round_trip(cat):
    from astropy import units as u

    t = cat.to_astropy()
    assert t["base_psf_flux_flux"].unit == u.nJy and t["area"].unit == u.deg**2
    assert t["n_pix"].description == "Footprint area in pixels."
    assert t.meta["osprey_slots"] == {"centroid": "base_sdss_centroid", "psf_flux": "base_psf_flux"}
    back = SourceCatalog.from_astropy(t)
    assert_identical(cat, back)
    assert back.centroid_x[0] == 10.5


def test_fits_round_trip(cat, tmp_path):
    from astropy.io import fits

    path = tmp_path / "cat.fits"
    cat.write_fits(path)
    with fits.open(path) as hdul:
        h = hdul[1].header
        assert h["TUNIT5"] == "pix" and h["TDOC5"].startswith("Centroid x")
        assert [c.value for c in h.cards if c.keyword == "SLOT"] == [
            "centroid:base_sdss_centroid",
            "psf_flux:base_psf_flux",
        ]
        assert hdul[0].header["EXPTIME"] == 30.0
    back = SourceCatalog.read_fits(path)
    assert_identical(cat, back)
    assert [p.name for p in tmp_path.iterdir()] == ["cat.fits"]  # no temporary left behind


def test_fits_reads_tcomm_and_rejects_what_fits_cannot_hold(cat, tmp_path):
    from astropy.io import fits

    cols = [
        fits.Column("id", "K", array=np.array([1, 2])),
        fits.Column("coord_ra", "D", unit="rad", array=np.zeros(2)),
        fits.Column("coord_dec", "D", unit="rad", array=np.zeros(2)),
        fits.Column("parent", "K", array=np.zeros(2, np.int64)),
    ]
    hdu = fits.BinTableHDU.from_columns(cols)
    hdu.header["TCOMM1"] = "An id described the TCOMM way."
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp_path / "ext.fits")
    ext = SourceCatalog.read_fits(tmp_path / "ext.fits")
    assert ext.schema.find("id").doc == "An id described the TCOMM way." and ext["id"].tolist() == [1, 2]
    with pytest.raises(TableError, match="HDU 0 is not a binary table"):
        SourceCatalog.read_fits(tmp_path / "ext.fits", hdu=0)

    cat["band"] = ["g", "r", "i", "z", "y", "é"]
    target = tmp_path / "bad.fits"
    with pytest.raises(TableError, match="column 'band' holds non-ASCII text"):
        cat.write_fits(target)
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ext.fits"]


def test_parquet_round_trip(cat, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "cat.parquet"
    cat.write_parquet(path)
    back = SourceCatalog.read_parquet(path)
    assert_identical(cat, back)
    schema = pq.read_schema(path)
    assert schema.field("base_psf_flux_flux").metadata[b"unit"] == b"nJy"
    assert schema.field("n_pix").metadata[b"description"] == b"Footprint area in pixels."
    assert b"osprey.slots" in schema.metadata
    assert_identical(cat, SourceCatalog.from_arrow(cat.to_arrow()))
    assert [p.name for p in tmp_path.iterdir()] == ["cat.parquet"]


def test_empty_catalog_round_trips(tmp_path):
    pytest.importorskip("pyarrow")
    empty = SourceCatalog(make_schema())
    assert_identical(empty, SourceCatalog.from_astropy(empty.to_astropy()))
    empty.write_fits(tmp_path / "e.fits")
    assert_identical(empty, SourceCatalog.read_fits(tmp_path / "e.fits"))
    empty.write_parquet(tmp_path / "e.parquet")
    assert_identical(empty, SourceCatalog.read_parquet(tmp_path / "e.parquet"))


def test_to_pandas_when_available(cat):
    pd = pytest.importorskip("pandas")
    df = cat.to_pandas()
    assert isinstance(df, pd.DataFrame) and df["id"].tolist() == cat["id"].tolist()
    assert df.attrs["units"]["base_psf_flux_flux"] == "nJy"
