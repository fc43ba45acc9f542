"""Feed library (property_data/feeds.csv) and user compositions (reeproc.feeds)."""
import pytest
from numpy.testing import assert_allclose

from reeproc import magnet_feed
from reeproc.data import load_table
from reeproc.feeds import custom_feed, feed_composition, feed_grades
from reeproc.units import Roaster


def _grades_with(el):
    df = load_table("feeds")
    return set(df[(df.element == el) & (df.wt_pct__pct > 0)]["feed"])


def test_library_coverage_issue_13():
    """>= 5 grades; Tb in >= 2, Co in >= 3, and Cu, Al, Ga, Ni each in >= 3 grades together
    (Cu/Al/Ga/Ni present in >= 3 grades); at least one metal-coated grade; every row sourced."""
    grades = feed_grades()
    assert len(grades) >= 5
    assert {"EV_traction", "HDD", "wind_turbine", "e_bike"} <= set(grades)
    assert len(_grades_with("Tb")) >= 2
    assert len(_grades_with("Co")) >= 3
    minor = set().union(*(_grades_with(el) for el in ("Cu", "Al", "Ga", "Ni")))
    assert len(minor) >= 3
    assert _grades_with("Ga") and _grades_with("Ni")
    df = load_table("feeds")
    assert (df["source"].str.len() > 20).all()
    assert set(df["confidence"]) <= {"established", "single-source", "derived", "estimated"}
    coated = df[df["note"].str.contains("coating", case=False)]["feed"].unique()
    assert len(coated) >= 2


def test_ev_traction_is_a_didymium_gbd_grade():
    c = feed_composition("EV_traction").set_index("element")["wt_pct__pct"]
    pr_share = c["Pr"] / (c["Nd"] + c["Pr"])
    assert 0.20 <= pr_share <= 0.25
    assert 1.0 <= c["Co"] <= 3.0
    assert c["Tb"] > 0 and c["Dy"] > 0
    assert c.sum() == pytest.approx(100.0, abs=1e-9)


@pytest.mark.parametrize("grade", feed_grades())
def test_every_reported_element_is_carried(grade):
    f = magnet_feed(grade, 100.0)
    assert f.excluded_elements == {}
    el = f.stream.element_kg_h()
    for e, w in f.composition_wt_pct.items():
        assert_allclose(el.get(e, 0.0), w, rtol=1e-12), e
    assert_allclose(f.stream.total_kg_h, 100 - f.unreported_wt_pct, rtol=1e-12)
    # and the roaster carries every element on into the calcine or off-gas
    r = Roaster(800).run(f.stream)
    out = r.calcine.element_mol_h()
    out_g = r.offgas.element_mol_h()
    for e in f.composition_wt_pct:
        if e != "O":
            assert out.get(e, 0.0) + out_g.get(e, 0.0) > 0, e


def test_e_bike_oxygen_and_carbon_are_carried():
    f = magnet_feed("e_bike", 100.0)
    assert {"Nd2O3", "Pr2O3", "Gd2O3", "C"} <= set(f.stream.mol_h)
    assert_allclose(f.stream.element_kg_h()["O"], 2.66, rtol=1e-12)
    assert Roaster(800).run(f.stream).offgas.mol_h["CO2"] > 0


def test_custom_feed_literal_and_errors():
    f = custom_feed({"Nd": 20.0, "Pr": 6.0, "Fe": 70.0, "B": 1.0}, kg_h=2.0)
    assert_allclose(f.unreported_wt_pct, 3.0)
    assert_allclose(f.stream.element_kg_h()["Pr"], 0.12, rtol=1e-12)
    assert magnet_feed({"Nd": 30.0, "Fe": 70.0}, 1.0).grade == "user composition"
    with pytest.raises(ValueError, match="sums to"):
        custom_feed({"Nd": 40.0, "Fe": 70.0}, 1.0)
    with pytest.raises(ValueError, match="'Xx'"):
        custom_feed({"Xx": 1.0, "Fe": 70.0}, 1.0)
    with pytest.raises(ValueError, match="outside the allowed range"):
        custom_feed({"Nd": -1.0, "Fe": 70.0}, 1.0)
    with pytest.raises(ValueError, match="kg_h"):
        custom_feed({"Nd": 30.0}, 0.0)
