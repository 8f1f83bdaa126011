import copy
import math
import pickle

import numpy as np
import pytest
from astropy.io import fits

import osprey.afw.metadata as md
from osprey.afw.errors import AfwKeyError, AfwValueError
from osprey.afw.metadata import MetadataCard, PropertyList, PropertySet


def card_tuples(header):
    """(keyword, value, comment, value type) of every card: equality that sees 1 vs 1.0 vs True."""
    return [(c.keyword, c.value, c.comment, type(c.value)) for c in header.cards]


def test_public_names_are_sorted_and_exported():
    assert md.__all__ == sorted(md.__all__)
    assert all(hasattr(md, name) for name in md.__all__)


# -- PropertyList --------------------------------------------------------------------------
def test_get_returns_last_value_and_get_array_all_values():
    pl = PropertyList()
    pl.set("EXPTIME", 30.0, "exposure time (s)")
    pl.add("HISTORY", "bias")
    pl.add("EXPTIME", 31.5)
    pl.add("HISTORY", "flat")
    assert pl.get("EXPTIME") == 31.5
    assert pl["EXPTIME"] == 31.5
    assert pl.get_array("EXPTIME") == [30.0, 31.5]
    assert pl.get_array("HISTORY") == ["bias", "flat"]
    assert pl.comment("EXPTIME") == "exposure time (s)"  # add reuses the key's comment
    assert pl.names() == ["EXPTIME", "HISTORY"]
    assert list(pl) == ["EXPTIME", "HISTORY"]
    assert len(pl) == 2 and len(pl.cards()) == 4
    assert "EXPTIME" in pl and "NOPE" not in pl
    assert pl.items() == [("EXPTIME", 31.5), ("HISTORY", "flat")]


def test_set_replaces_all_values_in_place_and_keeps_the_comment():
    pl = PropertyList([("A", 1, "first"), ("B", 2), ("A", 3), ("C", 4)])
    pl.set("A", [10, 11])
    assert [c.key for c in pl.cards()] == ["A", "A", "B", "C"]
    assert pl.get_array("A") == [10, 11]
    assert pl.comment("A") == "first"
    pl.set("A", 5, "")
    assert pl.comment("A") == "" and pl.get_array("A") == [5]
    pl["D"] = True
    assert pl.names() == ["A", "B", "C", "D"]
    del pl["B"]
    pl.remove("C")
    assert pl.names() == ["A", "D"]


def test_missing_key_raises_with_the_key_name_unless_a_default_is_given():
    pl = PropertyList([("A", 1)])
    with pytest.raises(AfwKeyError, match="'MISSING' not found"):
        pl.get("MISSING")
    with pytest.raises(KeyError, match="'MISSING' not found"):
        pl["MISSING"]
    with pytest.raises(AfwKeyError, match="'MISSING'"):
        pl.get_array("MISSING")
    with pytest.raises(AfwKeyError, match="'MISSING'"):
        pl.remove("MISSING")
    assert pl.get("MISSING", None) is None
    assert pl.get("A", 7) == 1


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (3, 1, "must be a str"),
        ("A=B", 1, "'A=B' is not representable"),
        (" LEAD", 1, "' LEAD' is not representable"),
        ("CAFÉ", 1, "'CAFÉ' is not representable"),
        ("HIERARCH LONGKEY", 1, "give the bare name"),
        ("OBJ", object(), "'OBJ': value <object"),
        ("DICT", {"a": 1}, "'DICT': value"),
        ("TEXT", "naïve", "'TEXT': string value 'naïve' is not printable ASCII"),
        ("COMMENT", 5, "'COMMENT' is FITS commentary and holds text"),
        ("EMPTY", [], "'EMPTY': an empty sequence"),
        ("ARR", np.zeros((2, 2)), "'ARR': arrays must be 1-D"),
    ],
)
def test_bad_keys_and_values_raise_naming_the_key(key, value, message):
    with pytest.raises(AfwValueError, match=message):
        PropertyList().set(key, value)


def test_bad_comment_raises():
    with pytest.raises(AfwValueError, match="'HISTORY' is FITS commentary, which has no comment"):
        PropertyList().add("HISTORY", "text", "a comment")
    with pytest.raises(AfwValueError, match="'A': comment must be a printable ASCII str"):
        PropertyList().add("A", 1, "é")


def test_numpy_scalars_become_python_scalars():
    pl = PropertyList()
    pl.set("F", np.float32(1.5))
    pl.set("I", np.int64(7))
    pl.set("B", np.bool_(True))
    pl.set("ARR", np.array([1, 2], dtype=np.int16))
    assert [(type(v), v) for v in (pl["F"], pl["I"], pl["B"])] == [(float, 1.5), (int, 7), (bool, True)]
    assert pl.get_array("ARR") == [1, 2] and type(pl.get_array("ARR")[0]) is int


def test_equality_is_type_strict_and_nan_aware():
    assert PropertyList([("A", 1)]) != PropertyList([("A", 1.0)])
    assert PropertyList([("A", 1)]) != PropertyList([("A", True)])
    assert PropertyList([("A", 1, "x")]) != PropertyList([("A", 1, "y")])
    assert PropertyList([("A", math.nan)]) == PropertyList([("A", math.nan)])
    assert PropertyList([("A", 1), ("B", 2)]) != PropertyList([("B", 2), ("A", 1)])


def test_copy_and_pickle_are_independent_and_equal():
    pl = PropertyList([("A", 1, "c"), ("COMMENT", "x"), ("A", 2.5), ("Z", None), ("C", 1 + 2j)])
    for other in (pl.copy(), copy.copy(pl), copy.deepcopy(pl), pickle.loads(pickle.dumps(pl))):
        assert other == pl
        other.add("NEW", 1)
        assert "NEW" not in pl


def test_to_dict_lists_repeated_keys():
    pl = PropertyList([("A", 1), ("COMMENT", "x"), ("COMMENT", "y"), ("B", "s")])
    assert pl.to_dict() == {"A": 1, "COMMENT": ["x", "y"], "B": "s"}
    assert PropertyList.from_mapping({"A": 1, "COMMENT": ["x", "y"], "B": "s"}).to_dict() == pl.to_dict()


def make_tricky_header():
    h = fits.Header()
    cards = [
        ("SIMPLE", True, "conforms"),
        ("BITPIX", -32, ""),
        ("COMMENT", "first comment", ""),
        ("EXPTIME", 30.0, "seconds"),
        ("HISTORY", "step 1", ""),
        ("DUP", 1, "first"),
        ("COMMENT", "second comment", ""),
        ("DUP", 2.5, "second"),
        ("HIERARCH ESO DET CHIP NAME", "ccd12", "long spaced key"),
        ("HIERARCH mixedCase.dotted", 7, ""),
        ("HIERARCH FLUXMAG0ERR", 0.125, ""),
        ("FLAG", False, ""),
        ("CPLX", 1.5 - 2j, "complex"),
        ("UNDEF", fits.card.UNDEFINED, "no value"),
        ("", "blank keyword text", ""),
        ("LONGSTR", "x" * 150 + "end", "continued"),
        ("NOTROUND", 0.30000000000000004, "needs all 17 digits"),
        ("HISTORY", "step 2", ""),
        ("DUP", 3, "third"),
    ]
    for keyword, value, comment in cards:
        h.append(fits.Card(keyword, value, comment), end=True)
    return h


def test_fits_header_round_trip_is_lossless():
    h = make_tricky_header()
    pl = PropertyList.from_fits_header(h)
    assert pl.get_array("DUP") == [1, 2.5, 3]
    assert pl.get_array("COMMENT") == ["first comment", "second comment"]
    assert pl["ESO DET CHIP NAME"] == "ccd12"
    assert pl["mixedCase.dotted"] == 7
    assert pl["UNDEF"] is None
    assert pl["LONGSTR"] == "x" * 150 + "end"
    assert pl[""] == "blank keyword text"
    out = pl.to_fits_header()
    assert card_tuples(out) == card_tuples(h)
    # ...and through the 2880-byte serialization, which is what files hold.
    reread = fits.Header.fromstring(out.tostring())
    assert PropertyList.from_fits_header(reread) == pl


def test_long_or_lowercase_keys_are_written_as_hierarch_and_keep_case():
    pl = PropertyList([("lower", 1), ("VERYLONGKEY", 2), ("a.b", 3), ("OK_8CHAR", 4)])
    text = pl.to_fits_header().tostring()
    assert "HIERARCH lower" in text and "HIERARCH VERYLONGKEY" in text and "HIERARCH a.b" in text
    assert "HIERARCH OK_8CHAR" not in text
    assert PropertyList.from_fits_header(fits.Header.fromstring(text)) == pl


def test_values_fits_cannot_hold_raise_naming_the_key():
    with pytest.raises(AfwValueError, match="'BADNAN' with value nan cannot be written to FITS"):
        PropertyList([("BADNAN", math.nan)]).to_fits_header()
    with pytest.raises(AfwValueError, match="'INF' with value inf"):
        PropertyList([("INF", math.inf)]).to_fits_header()
    with pytest.raises(AfwValueError, match="'KKKKKKKK"):
        PropertyList([("K" * 75, 12345)]).to_fits_header()  # HIERARCH key + value exceed 80 characters


def test_real_afw_headers_round_trip_exactly(hsc_afw_path):
    with fits.open(hsc_afw_path) as hdul:
        headers = [hdul[0].header, hdul[2].header]  # primary (HIERARCH, COMMENT) and the mask HDU (MP_*)
        for header in headers:
            pl = PropertyList.from_fits_header(header)
            assert len(pl.cards()) == len(header.cards)
            assert card_tuples(pl.to_fits_header()) == card_tuples(header)
        primary = PropertyList.from_fits_header(headers[0])
        assert primary["FLUXMAG0ERR"] == 0.0 and primary["FILTER"] == "_unknown_"
        assert len(primary.get_array("COMMENT")) == 2


# -- PropertySet ---------------------------------------------------------------------------
def test_dotted_names_create_nested_sets():
    ps = PropertySet()
    ps["a.b.c"] = 1
    ps["a.b.d"] = "x"
    ps["a.e"] = 2.5
    ps["top"] = True
    assert ps["a.b.c"] == 1
    assert isinstance(ps["a"], PropertySet) and ps["a"]["b.d"] == "x"
    assert ps.names() == ["a", "a.b", "a.b.c", "a.b.d", "a.e", "top"]
    assert ps.names(top_only=True) == ["a", "top"]
    assert ps.param_names() == ["a.b.c", "a.b.d", "a.e", "top"]
    assert ps.set_names() == ["a", "a.b"]
    assert ps.is_property_set("a.b") and not ps.is_property_set("a.e")
    assert "a.b" in ps and "a.x" not in ps and "a.b.c.d" not in ps
    assert len(ps) == 2 and list(ps) == ["a", "top"]
    assert ps.to_dict() == {"a": {"b": {"c": 1, "d": "x"}, "e": 2.5}, "top": True}


def test_multi_valued_names():
    ps = PropertySet()
    ps.add("x.hist", "one")
    ps.add("x.hist", ["two", "three"])
    assert ps.get("x.hist") == "three"
    assert ps.get_array("x.hist") == ["one", "two", "three"]
    ps.set("x.hist", 5)
    assert ps.get_array("x.hist") == [5]
    with pytest.raises(AfwValueError, match="'x' is a nested set, which has no values"):
        ps.get_array("x")


def test_property_set_errors_name_the_key():
    ps = PropertySet()
    ps["a.b"] = 1
    with pytest.raises(AfwValueError, match=r"'a.b.c': 'a.b' holds values, not a nested set"):
        ps["a.b.c"] = 2
    with pytest.raises(AfwValueError, match="'a' is a nested set; cannot add values"):
        ps.add("a", 3)
    with pytest.raises(AfwValueError, match=r"name 'a..b' is invalid"):
        ps["a..b"] = 1
    with pytest.raises(AfwValueError, match="'v': value"):
        ps["v"] = object()
    with pytest.raises(AfwKeyError, match="'a.zz' not found"):
        ps["a.zz"]
    del ps["a.b"]
    assert ps.names() == ["a"]


def test_property_set_flattens_to_a_property_list_and_back():
    ps = PropertySet.from_dict({"calib": {"zp": 27.0, "hist": ["v1", "v2"]}, "EXPTIME": 30.0, "flag": False})
    pl = ps.to_property_list()
    assert [c.key for c in pl.cards()] == ["calib.zp", "calib.hist", "calib.hist", "EXPTIME", "flag"]
    assert pl.get_array("calib.hist") == ["v1", "v2"]
    assert PropertySet.from_property_list(pl) == ps
    # through FITS as well: dotted keys travel as HIERARCH cards
    assert PropertySet.from_property_list(PropertyList.from_fits_header(pl.to_fits_header())) == ps
    with pytest.raises(AfwValueError, match="'A' holds values"):
        PropertySet.from_property_list(PropertyList([("A", 1), ("A.B", 2)]))


def test_property_set_copy_pickle_and_equality():
    ps = PropertySet.from_dict({"a": {"b": 1, "c": [1.0, math.nan]}})
    for other in (ps.copy(), copy.deepcopy(ps), pickle.loads(pickle.dumps(ps))):
        assert other == ps
        other["a.b"] = 2
        assert ps["a.b"] == 1
    assert PropertySet.from_dict({"a": 1}) != PropertySet.from_dict({"a": 1.0})
    assert PropertySet.from_dict({"a": 1, "b": 2}) == PropertySet.from_dict({"b": 2, "a": 1})
    nested = PropertySet()
    nested["inner"] = ps  # copied in, not aliased
    ps["a.b"] = 99
    assert nested["inner.a.b"] == 1


def test_metadata_card_is_a_plain_tuple():
    card = PropertyList([("A", 1, "c")]).cards()[0]
    assert card == MetadataCard("A", 1, "c") and tuple(card) == ("A", 1, "c")
