"""Formulas, molar masses, species registry and oxide factors."""
import pytest
from numpy.testing import assert_allclose

from reeproc.data import MissingDataError
from reeproc.species import (
    element_to_oxide_kg,
    get_species,
    molar_mass,
    oxide_factor,
    oxide_to_element_kg,
    parse_formula,
    reporting_oxide,
)


@pytest.mark.parametrize("el, oxide, factor", [
    ("Nd", "Nd2O3", 1.1664), ("Pr", "Pr6O11", 1.2082), ("Dy", "Dy2O3", 1.1477),
    ("Tb", "Tb4O7", 1.1762), ("La", "La2O3", 1.1728), ("Ce", "CeO2", 1.2284),
])
def test_oxide_factors(el, oxide, factor):
    assert reporting_oxide(el) == oxide
    assert_allclose(oxide_factor(el), factor, atol=5e-5)
    assert_allclose(element_to_oxide_kg(el, 1.0), factor, atol=5e-5)
    assert_allclose(oxide_to_element_kg(oxide, element_to_oxide_kg(el, 2.5)), 2.5, rtol=1e-14)


def test_formula_parsing_with_groups_and_hydrates():
    assert parse_formula("Nd2(C2O4)3.10H2O") == {"Nd": 2, "C": 6, "O": 22, "H": 20}
    assert parse_formula("Fe(OH)3") == {"Fe": 1, "O": 3, "H": 3}
    # Nd2O3 residue 45.9 % (the calcination check value)
    # 2(144.242) + 6(12.011) + 22(15.999) + 20(1.008) = 732.688
    assert_allclose(molar_mass("Nd2(C2O4)3.10H2O"), 732.688, atol=1e-3)
    assert_allclose(molar_mass("Nd2O3") / molar_mass("Nd2(C2O4)3.10H2O"), 0.4593, atol=5e-4)
    assert_allclose(molar_mass("H2O"), 18.015, atol=1e-3)


@pytest.mark.parametrize("bad", ["Xx2O3", "Nd2(O3", "Nd2O3)", "", "2Nd"])
def test_bad_formula(bad):
    with pytest.raises(ValueError):
        molar_mass(bad)


def test_registry_lookup_and_errors():
    assert get_species("Nd", "aqueous").charge == 3
    assert get_species("Fe+3", "aqueous").charge == 3
    assert get_species("Cl-", "aqueous").charge == -1
    assert get_species("Nd2O3", "solid").elements == {"Nd": 2, "O": 3}
    with pytest.raises(ValueError, match="unknown species 'Nd2O3' for phase 'aqueous'.*solid"):
        get_species("Nd2O3", "aqueous")
    with pytest.raises(ValueError, match="unknown phase"):
        get_species("Nd", "plasma")
    with pytest.raises(ValueError, match="did you mean"):
        get_species("Ndd", "aqueous")
    a = get_species("A", "organic")
    assert a.is_pseudo
    with pytest.raises(MissingDataError, match="pseudo-component 'A'"):
        a.molar_mass


def test_non_metal_has_no_oxide():
    with pytest.raises(ValueError, match="no reporting oxide"):
        reporting_oxide("Cl")
