"""Bad input to the SX models and cascades is refused by name (issue 10's bad-input campaign):
text and booleans where a number is meant, constants for species without a stoichiometry row,
H+ or anions passed as 'metals', non-positive iteration limits."""
import pytest

from reeproc import Stream, sx

FEED = Stream.aqueous(1.0, {"A": 0.1})


@pytest.mark.parametrize("make, fragments", [
    (lambda: sx.ConstantD({"A": "abc"}), ["D['A']", "'abc'"]),
    (lambda: sx.ConstantD({"A": True}), ["D['A']", "boolean"]),
    (lambda: sx.MassAction("PC88A", species=["Nd"], saponification="abc"),
     ["saponification", "'abc'"]),
    (lambda: sx.MassAction("PC88A", species=["Nd"], saponification=True),
     ["saponification", "boolean"]),
    (lambda: sx.MassAction("PC88A", species=["Nd"], concentration_mol_L="1 M"),
     ["concentration_mol_L", "'1 M'"]),
    (lambda: sx.MassAction("PC88A", species=["Nd"], kex_override={"Sc": 1.0}),
     ["kex_override['Sc']", "no extraction row", "sx_kex.csv"]),
    (lambda: sx.MassAction("PC88A", species=["Nd"], kex_override={"H+": 0}),
     ["'H+'", "not an extractable cation"]),
    (lambda: sx.MassAction("PC88A", species=["Nd"], kex_override={"Cl-": 0}),
     ["'Cl-'", "not an extractable cation"]),
    (lambda: sx.MassAction("PC88A", species=["Nd", "H+"]), ["'H+'", "not an extractable"]),
    (lambda: sx.Cascade(sx.ConstantD({"A": 2.0}), extraction=3, efficiency="abc"),
     ["efficiency", "'abc'"]),
    (lambda: sx.Cascade(sx.ConstantD({"A": 2.0}), extraction=True), ["extraction=True"]),
    (lambda: sx.Cascade(sx.ConstantD({"A": 2.0}), extraction=3).solve(
        feed=FEED, organic=Stream.organic(1.0, {}), max_iter=-5), ["max_iter=-5", ">= 1"]),
    (lambda: sx.Cascade(sx.ConstantD({"A": 2.0}), extraction=3).solve(
        feed=FEED, organic=Stream.organic(1.0, {}), tol=True), ["tol=True"]),
])
def test_bad_input_is_refused_by_name(make, fragments):
    with pytest.raises(ValueError) as err:
        make()
    for f in fragments:
        assert f in str(err.value), (f, str(err.value))


def test_kex_override_of_a_tabulated_species_keeps_its_stoichiometry():
    base = sx.MassAction("PC88A", species=["Nd"])
    m = sx.MassAction("PC88A", species=["Nd"], kex_override={"Nd": -1.5})
    assert m.kex["Nd"] == (-1.5, *base.kex["Nd"][1:])  # log10 Kex replaced, n and z kept


def test_default_species_of_the_dehpa_correlation_solve():
    model = sx.PhCorrelation(20)
    assert "Sc" in model.species
