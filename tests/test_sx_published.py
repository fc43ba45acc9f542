"""A published SX case through the public API: PrOMMiS's DEHPA cascade in sulfate.

Source: PrOMMiS 1.1.0 (PyPI wheel, 2025), ``prommis/solvent_extraction/
solvent_extraction_steady.py`` (inputs) and ``tests/test_solvent_extraction_steady.py::
test_solution`` (the outlets of its 3-stage solve by IPOPT, published to 5 significant digits).
Its model is the PhCorrelation form with PrOMMiS's own coefficients (property_data/
sx_ph_correlations.csv): 12 metals (Sc included; Sc, Al, Ca, Fe at constant D), 5 vol% DEHPA
as the *free* dosage of an organic feed that already carries metals, the dosage evaluated
locally per stage (975.8 g/L, 322.431 g/mol), HSO4- = H+ + SO4 2- with Ka2 = 10^-1.99.

PrOMMiS states concentrations in mg/L with its own molar masses (H 1.0, SO4 96.0, HSO4 97.0
g/mol, ...): the inputs below are converted, and the outputs compared, with those.
"""
import numpy as np
import pytest

from reeproc import Stream, sx

# PrOMMiS 1.1.0 ree_og_distribution.py / sulfuric_acid_leaching_properties.py molar masses
MW_G_MOL = {"H": 1.0, "SO4": 96.0, "HSO4": 97.0, "Cl": 35.453, "Sc": 44.946, "Y": 88.905,
            "La": 138.905, "Ce": 140.116, "Pr": 140.907, "Nd": 144.242, "Sm": 150.36,
            "Gd": 157.25, "Dy": 162.50, "Al": 26.982, "Ca": 40.078, "Fe": 55.845}
NAME = {"H": "H+", "SO4": "SO4-2", "HSO4": "HSO4-", "Cl": "Cl-", "Fe": "Fe+3"}
# inlets [mg/L], both 62.01 L/h (solvent_extraction_steady.py, set_inputs)
AQ_IN = {"H": 10.75, "SO4": 100.0, "HSO4": 1e4, "Al": 422.375, "Ca": 109.542, "Cl": 1e-7,
         "Fe": 688.266, "Sc": 0.032, "Y": 0.124, "La": 0.986, "Ce": 2.277, "Pr": 0.303,
         "Nd": 0.946, "Sm": 0.097, "Gd": 0.2584, "Dy": 0.047}
ORG_IN = {"Al": 1.267e-5, "Ca": 2.684e-5, "Fe": 2.873e-6, "Sc": 1.734, "Y": 2.179e-5,
          "La": 0.000105, "Ce": 0.00031, "Pr": 3.711e-5, "Nd": 0.000165, "Sm": 1.701e-5,
          "Gd": 3.357e-5, "Dy": 8.008e-6}
# published outlets [mg/L] (test_solution); DEHPA is the free extractant of the loaded organic
AQ_OUT = {"H": 3.9513e01, "HSO4": 8.0232e03, "SO4": 2.0564e03, "Sc": 2.7415e-03,
          "Y": 6.2927e-06, "La": 9.1421e-01, "Ce": 2.1095e00, "Pr": 2.7631e-01, "Nd": 8.8099e-01,
          "Sm": 8.6579e-02, "Gd": 1.9246e-01, "Dy": 1.1699e-03, "Al": 3.9995e02, "Ca": 1.0234e02,
          "Fe": 5.8559e02}
ORG_OUT = {"DEHPA": 4.6087e04, "Al": 2.2425e01, "Ca": 7.2059e00, "Fe": 1.0267e02,
           "Sc": 1.7633e00, "Y": 1.2402e-01, "La": 7.1891e-02, "Ce": 1.6778e-01,
           "Pr": 2.6727e-02, "Nd": 6.5178e-02, "Sm": 1.0438e-02, "Gd": 6.5974e-02,
           "Dy": 4.5838e-02}
METALS = ["La", "Y", "Pr", "Ce", "Nd", "Sm", "Gd", "Dy", "Al", "Ca", "Fe+3", "Sc"]
DEHPA_G_L = 975.8


def _mol_L(mg_L):
    return {NAME.get(k, k): v / MW_G_MOL[k] / 1000.0 for k, v in mg_L.items()}


def _case(stages):
    model = sx.PhCorrelation(5.0, species=METALS, dosage_basis="free",
                             extractant_density_g_mL=DEHPA_G_L / 1000.0,
                             extractant_molar_mass_g_mol=322.431)
    cas = sx.Cascade(model, extraction=stages)
    kw = dict(feed=Stream.aqueous(62.01, _mol_L(AQ_IN)),
              organic=Stream.organic(62.01, _mol_L(ORG_IN)))
    return model, cas, kw


def test_prommis_three_stage_dehpa_case_is_reproduced_to_its_published_digits():
    _, cas, kw = _case(3)
    r = cas.solve(**kw)
    raff = r.raffinate.conc_mol_L
    loaded = r.loaded_organic.conc_mol_L
    for k, v in AQ_OUT.items():
        got = raff[NAME.get(k, k)] * MW_G_MOL[k] * 1000.0
        assert got == pytest.approx(v, rel=1e-4, abs=0), ("aqueous", k)
    for k, v in ORG_OUT.items():
        if k == "DEHPA":   # free extractant of the loaded organic, vol% -> mg/L
            got = r.free_extractant.iloc[-1] / 100.0 * DEHPA_G_L * 1000.0
        else:
            got = loaded[NAME.get(k, k)] * MW_G_MOL[k] * 1000.0
        assert got == pytest.approx(v, rel=1e-4, abs=0), ("organic", k)
    assert r.mass_balance_residual < 1e-13 and r.charge_balance_residual < 1e-12


def test_prommis_case_at_60_stages_equals_the_independent_reference_stage_by_stage():
    """The same cascade with 60 stages (no published answer; PrOMMiS needs IPOPT, not
    available here): the numba solver against the scipy reference (linear unknowns, [H+] and
    the free dosage as unknowns, finite-difference Jacobian), every species at every stage."""
    model, cas, kw = _case(60)
    r = cas.solve(**kw)
    ref = cas.solve(**kw, method="reference")
    for a, b in ((r.aqueous_profile, ref.aqueous_profile),
                 (r.organic_profile, ref.organic_profile)):
        np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-6, atol=0)
    np.testing.assert_allclose(r.pH.to_numpy(), ref.pH.to_numpy(), rtol=1e-9, atol=0)
    # the correlation holds at every stage, at the stage's pH and local free dosage
    dos = r.free_extractant.to_numpy()
    pH = r.pH.to_numpy()
    for sp in ("Dy", "Nd", "Y"):
        m0, m1, b0, b1 = model.params[sp][1]
        logD = (m0 + m1 * dos) * pH + b0 + b1 * np.log10(dos)
        ratio = r.organic_profile[sp].to_numpy() / r.aqueous_profile[sp].to_numpy()
        np.testing.assert_allclose(ratio, 10.0 ** logD, rtol=1e-12, atol=0)
    # Sc (constant D 632.5, entering with the organic) is extracted at every stage
    assert (r.organic_profile["Sc"] > 600 * r.aqueous_profile["Sc"]).all()
    assert r.mass_balance_residual < 1e-12
