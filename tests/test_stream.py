"""Streams: conversions, oxide basis, purity, mixing and input validation."""
import math

import pytest
from hypothesis import given, settings, strategies as st
from numpy.testing import assert_allclose

from reeproc import Stream, element_closure, magnet_feed, mix
from reeproc.data import MissingDataError
from reeproc.feeds import feed_grades
from reeproc.species import molar_mass


def test_aqueous_conversions():
    s = Stream.aqueous(10.0, {"Nd": 0.1, "Cl-": 0.3}, T_C=40, name="liquor")
    assert_allclose(s.mol_h["Nd"], 1.0)
    assert_allclose(s.conc("Nd"), 0.1)
    assert_allclose(s.kg_h["Nd"], 0.144242)
    assert_allclose(s.element_kg_h()["Cl"], 0.3 * 10 * 35.45 / 1000)
    assert_allclose(s.T_K, 313.15)
    # 1 mol/h Nd -> 0.5 mol/h Nd2O3
    assert_allclose(s.oxide_kg_h()["Nd2O3"], 0.5 * molar_mass("Nd2O3") / 1000)
    assert set(s.oxide_kg_h()) == {"Nd2O3"}  # chloride is not on the oxide basis


def test_solid_stream_and_purity():
    s = Stream.solid({"Nd2O3": 99.6, "Pr6O11": 0.3, "Fe2O3": 0.1})
    assert_allclose(s.total_kg_h, 100.0)
    assert_allclose(s.purity("Nd"), 0.996)
    assert_allclose(s.purity("Nd2O3"), 0.996)
    assert_allclose(s.purity(["Nd", "Pr"]), 0.999)
    assert_allclose(s.treo_kg_h, 99.9)
    # element basis round trip
    assert_allclose(s.element_kg_h()["Nd"] * 1.16638, 99.6, rtol=1e-5)


def test_purity_of_aqueous_stream_counts_impurity_metals_as_oxides():
    s = Stream.aqueous(1.0, {"Nd": 1.0, "Fe+3": 0.01, "Na": 0.05, "Cl-": 3.08})
    ox = s.oxide_kg_h()
    assert set(ox) == {"Nd2O3", "Fe2O3", "Na2O"}
    assert_allclose(s.purity("Nd"), ox["Nd2O3"] / sum(ox.values()))


@pytest.mark.parametrize("maker, args, match", [
    (Stream.aqueous, (-1.0, {"Nd": 0.1}), "flow_L_h .* must be >= 0"),
    (Stream.aqueous, (1.0, {"Nd": -0.1}), "concentration of 'Nd'.*>= 0"),
    (Stream.aqueous, (1.0, {"Nd": float("nan")}), "must be finite"),
    (Stream.aqueous, (1.0, {"Unobtainium": 0.1}), "unknown species 'Unobtainium'"),
    (Stream.aqueous, (1.0, {"Nd": 144.0}), "was g/L passed"),
    (Stream.solid, ({"Nd2O3": -1.0},), "mass flow of 'Nd2O3'.*>= 0"),
    (Stream.solid, ({"Nd": 1.0, "Cl-": 1.0},), "unknown species 'Cl-' for phase 'solid'"),
    (Stream.gas, ({"O2": math.inf},), "must be finite"),
])
def test_bad_input(maker, args, match):
    with pytest.raises(ValueError, match=match):
        maker(*args)


def test_stream_from_a_concentration_array_equals_the_mapping_constructor():
    import numpy as np
    a = Stream.from_conc_array("aqueous", 2.5, ["Nd", "H+", "Cl-", "H2O"],
                               np.array([0.1, 0.02, 0.32, 55.5]), T_C=40, name="row")
    b = Stream.aqueous(2.5, {"Nd": 0.1, "H+": 0.02, "Cl-": 0.32, "H2O": 55.5}, T_C=40,
                       name="row")
    assert a.mol_h == b.mol_h and a.flow_L_h == b.flow_L_h and a.T_K == b.T_K
    assert a.name == b.name and a.phase == b.phase


@pytest.mark.parametrize("species, values, match", [
    (["Nd"], [-0.1], "concentration of 'Nd'.*>= 0"),
    (["Nd"], [float("nan")], "must be finite"),
    (["H2O"], [float("inf")], "must be finite"),
    (["Nd"], [144.0], "was g/L passed"),
    (["Unobtainium"], [0.1], "unknown species 'Unobtainium'"),
    (["Nd", "Cl-"], [0.1], "2 values|1 values"),
    (["Nd", "Nd"], [0.1, 0.1], "each species once"),
])
def test_stream_from_a_concentration_array_refuses_bad_values_by_name(species, values, match):
    with pytest.raises(ValueError, match=match):
        Stream.from_conc_array("aqueous", 1.0, species, values)
    with pytest.raises(ValueError, match="'aqueous' or 'organic'"):
        Stream.from_conc_array("solid", 1.0, ["Nd"], [0.1])


def test_temperature_checks():
    with pytest.raises(ValueError, match="above -273.15"):
        Stream.aqueous(1.0, {}, T_C=-300)
    with pytest.raises(ValueError, match="did you pass K"):
        Stream.gas({"O2": 1.0}, T_C=5000)


def test_mix_phase_mismatch():
    with pytest.raises(ValueError, match="cannot mix a organic stream"):
        mix(Stream.aqueous(1, {"Nd": 0.1}), Stream.organic(1, {"Nd": 0.1}))


def test_pseudo_components_have_no_mass():
    s = Stream.aqueous(1.0, {"A": 0.1, "B": 0.2})
    assert s.element_mol_h() == {"A": 0.1, "B": 0.2}
    with pytest.raises(MissingDataError):
        s.kg_h
    with pytest.raises(MissingDataError):
        s.purity("Nd")


conc = st.dictionaries(st.sampled_from(["Nd", "Pr", "Dy", "Fe+3", "H+", "Cl-", "SO4-2", "Co"]),
                       st.floats(0, 5), max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 1e4), conc, st.floats(0, 95)), min_size=1, max_size=5))
def test_mix_conserves_elements_and_volume(parts):
    streams = [Stream.aqueous(f, c, T_C=t) for f, c, t in parts]
    m = mix(*streams)
    bal = element_closure(streams, [m])
    assert (bal["relative error"] <= 1e-12).all()
    assert_allclose(m.flow_L_h, sum(f for f, _, _ in parts), rtol=1e-12)
    lo, hi = min(t for *_, t in parts), max(t for *_, t in parts)
    assert lo - 1e-9 <= m.T_C <= hi + 1e-9


@pytest.mark.parametrize("grade", feed_grades())
def test_feed_grades_build(grade):
    f = magnet_feed(grade, 100.0)
    assert 0 <= f.unreported_wt_pct < 100
    assert f.stream.treo_kg_h > 0
    carried = 100 - f.unreported_wt_pct - sum(f.excluded_elements.values())
    assert_allclose(f.stream.total_kg_h, carried, rtol=1e-12)


def test_feed_errors():
    with pytest.raises(ValueError, match="unknown magnet feed grade 'fridge'"):
        magnet_feed("fridge", 1.0)
    with pytest.raises(ValueError, match="must be > 0"):
        magnet_feed("HDD", -1.0)


@pytest.mark.parametrize("make, fragment", [
    (lambda: Stream.aqueous(True, {"Nd": 0.1, "Cl-": 0.3}), "a boolean is not a number"),
    (lambda: Stream.aqueous(1.0, {"Nd": "0.1", "Cl-": 0.3}), "text is not a number"),
    (lambda: Stream.solid({"Nd2O3": "1"}), "text is not a number"),
    (lambda: Stream.solid({"Nd2O3": False}), "a boolean is not a number"),
])
def test_booleans_and_text_are_not_numbers(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()
