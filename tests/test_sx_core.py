"""SX cascade core: Kremser, conservation, mass-action physics, numba vs reference, errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from reeproc import Stream, sx
from reeproc.data import MissingDataError


def binary(N, DA=2.0, DB=0.5, O=2.0, method="numba"):
    cas = sx.Cascade(sx.ConstantD({"A": DA, "B": DB}), extraction=N)
    return cas.solve(feed=Stream.aqueous(1.0, {"A": 0.1, "B": 0.1}),
                     organic=Stream.organic(O, {}), method=method)


# ----------------------------------------------------------------------------- Kremser
def test_contract_profiles():
    res = binary(5)
    assert list(res.aqueous_profile.index) == [1, 2, 3, 4, 5]
    assert list(res.aqueous_profile.columns) == ["A", "B"]
    assert res.organic_profile.shape == (5, 2)
    assert res.raffinate.phase == "aqueous" and res.loaded_organic.phase == "organic"
    assert res.converged and res.residual < 1e-12


@settings(max_examples=60, deadline=None)
@given(E=st.floats(0.2, 5.0), N=st.integers(1, 200))
def test_kremser_hypothesis(E, N):
    """Raffinate of a constant-D section equals (E-1)/(E^(N+1)-1) to 1e-9 relative."""
    cas = sx.Cascade(sx.ConstantD({"A": E}), extraction=N)
    res = cas.solve(feed=Stream.aqueous(1.0, {"A": 1.0}), organic=Stream.organic(1.0, {}))
    expected = sx.kremser(E, N)
    got = res.raffinate.conc_mol_L["A"]
    # relative only (abs=0): pytest's default abs=1e-12 would hide a wrong trace
    assert got == pytest.approx(expected, rel=1e-9, abs=0)
    assert res.mass_balance_residual < 1e-10


@pytest.mark.parametrize("E,N", [(3.0, 60), (2.0, 100), (3.0, 30)])
def test_kremser_issue_cases_rel_only(E, N):
    """The cases of issue 11: 1.6e-29, 3.9e-31 and 3.2e-15 of the feed, exact to 1e-9."""
    cas = sx.Cascade(sx.ConstantD({"A": E}), extraction=N)
    res = cas.solve(feed=Stream.aqueous(1.0, {"A": 1.0}), organic=Stream.organic(1.0, {}))
    assert res.raffinate.conc_mol_L["A"] == pytest.approx(sx.kremser(E, N), rel=1e-9, abs=0)


def test_kremser_function_limits():
    assert sx.kremser(2.0, 1020) == pytest.approx(2.0 ** -1021, rel=1e-12, abs=0)  # no overflow
    assert sx.kremser(1.0, 9) == pytest.approx(0.1)
    assert sx.kremser(2.0, 1) == pytest.approx(1 / 3)
    n = sx.kremser_stages(2.0, sx.kremser(2.0, 7))
    assert n == pytest.approx(7.0)


def test_constant_d_numba_matches_reference():
    a, b = binary(12), binary(12, method="reference")
    np.testing.assert_allclose(a.aqueous_profile.values, b.aqueous_profile.values,
                               rtol=1e-8, atol=1e-14)


def test_more_stages_higher_purity():
    """Fractional extraction with a scrub section: purity rises with the stage count."""
    model = sx.ConstantD({"A": 2.0, "B": 0.8})
    pur = []
    for n in (4, 8, 16):
        r = sx.Cascade(model, extraction=n, scrub=n).solve(
            feed=Stream.aqueous(1.0, {"A": 0.1, "B": 0.1}), organic=Stream.organic(2.0, {}),
            scrub=Stream.aqueous(2.0, {}))
        pur.append(min(r.purity("A", "loaded_organic"), r.purity("B", "raffinate")))
        assert r.mass_balance_residual < 1e-10
    assert pur[0] < pur[1] < pur[2]


def test_murphree_efficiency_lowers_extraction_and_matches_reference():
    m = sx.ConstantD({"A": 2.0, "B": 0.5})
    kw = dict(feed=Stream.aqueous(1.0, {"A": 0.1, "B": 0.1}), organic=Stream.organic(1.0, {}))
    full = sx.Cascade(m, extraction=8).solve(**kw)
    half = sx.Cascade(m, extraction=8, efficiency=0.6).solve(**kw)
    ref = sx.Cascade(m, extraction=8, efficiency=0.6).solve(**kw, method="reference")
    assert half.raffinate.conc_mol_L["A"] > full.raffinate.conc_mol_L["A"]
    np.testing.assert_allclose(half.organic_profile.values, ref.organic_profile.values,
                               rtol=1e-8, atol=1e-14)
    assert half.mass_balance_residual < 1e-10


# ----------------------------------------------------------------------------- mass action
FEED = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61})
ORG = Stream.organic(3.0, {"PC88A": 1.0})
SCRUB = Stream.aqueous(0.3, {"H+": 1.5, "Cl-": 1.5})
STRIP = Stream.aqueous(0.5, {"H+": 4.0, "Cl-": 4.0})


@pytest.mark.parametrize("n,m,k,sap", [(5, 0, 0, 0.0), (10, 10, 0, 0.0), (10, 0, 4, 0.1),
                                       (10, 10, 4, 0.2), (30, 30, 6, 0.1)])
def test_mass_action_conservation_and_kex_ratio(n, m, k, sap):
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=sap)
    kw = dict(feed=FEED, organic=ORG)
    if m:
        kw["scrub"] = SCRUB
    if k:
        kw["strip"] = STRIP
    r = sx.Cascade(model, n, m, k).solve(**kw)
    assert r.converged and r.mass_balance_residual < 1e-10
    # D_Nd/D_Pr = Kex_Nd/Kex_Pr at every stage (same n and z)
    beta = model.extractant.separation_factor("Nd", "Pr")
    ratio = r.D_profile["Nd"] / r.D_profile["Pr"]
    np.testing.assert_allclose(ratio.values, beta, rtol=1e-10)
    # the organic really is in equilibrium: y = D x
    cols = list(r.organic_profile.columns)
    np.testing.assert_allclose(r.organic_profile.values,
                               r.D_profile[cols].values * r.aqueous_profile[cols].values,
                               rtol=1e-9, atol=1e-300)
    # extractant balance: free + bound = total in every stage
    bound = 3 * r.organic_profile[["Pr", "Nd"]].sum(axis=1)
    if "Na" in r.organic_profile:
        bound += 0.5 * r.organic_profile["Na"]
    np.testing.assert_allclose(r.free_extractant + bound, 0.5, rtol=1e-10)


def test_mass_action_numba_matches_reference():
    for n, m, k in [(5, 0, 0), (10, 10, 0), (10, 0, 4)]:
        model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.1 if k else 0.0)
        kw = dict(feed=FEED, organic=ORG, scrub=SCRUB if m else None,
                  strip=STRIP if k else None)
        cas = sx.Cascade(model, n, m, k)
        a, b = cas.solve(**kw), cas.solve(**kw, method="reference")
        sc = a.aqueous_profile[["Pr", "Nd"]].values.max()
        assert np.abs(a.aqueous_profile[["Pr", "Nd"]].values
                      - b.aqueous_profile[["Pr", "Nd"]].values).max() <= 1e-8 * sc
        assert np.abs(a.pH.values - b.pH.values).max() < 1e-8


def test_h_released_and_saponification():
    """Unsaponified: pH falls along the extraction section towards stage 1 (H+ released);
    saponified: Na+ is released instead and the raffinate is less acidic."""
    plain = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"]), 5).solve(
        feed=FEED, organic=ORG)
    sap = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.1), 5).solve(
        feed=FEED, organic=ORG)
    assert plain.pH.iloc[0] < -math.log10(0.01)
    assert sap.pH.iloc[0] > plain.pH.iloc[0]
    assert sap.raffinate.conc_mol_L["Na"] > 0.0
    assert (plain.free_extractant < 0.5).all()


def test_chloride_complexation_shifts_d_not_beta():
    m0 = sx.MassAction("PC88A", species=["Pr", "Nd"])
    m1 = sx.MassAction("PC88A", species=["Pr", "Nd"], chloride_complexation=True)
    r0 = sx.Cascade(m0, 4).solve(feed=FEED, organic=ORG)
    r1 = sx.Cascade(m1, 4).solve(feed=FEED, organic=ORG)
    assert r1.loaded_organic.conc_mol_L["Nd"] < r0.loaded_organic.conc_mol_L["Nd"]
    np.testing.assert_allclose(r1.D_profile["Nd"] / r1.D_profile["Pr"],
                               m1.extractant.separation_factor("Nd", "Pr"), rtol=1e-10)


def test_ph_correlation_sulfate_loading():
    model = sx.PhCorrelation(5.0, species=["Nd", "Dy", "Al", "Ca"])
    feed = Stream.aqueous(1.0, {"Nd": 0.005, "Dy": 0.001, "Al": 0.01, "Ca": 0.005,
                                "H+": 0.02, "SO4-2": 0.05})
    r = sx.Cascade(model, 4).solve(feed=feed, organic=Stream.organic(1.0, {}))
    assert r.mass_balance_residual < 1e-10
    assert (r.free_extractant < 5.0).all()          # dosage falls as the organic loads
    assert "HSO4-" in r.aqueous_profile
    ref = sx.Cascade(model, 4).solve(feed=feed, organic=Stream.organic(1.0, {}),
                                     method="reference")
    np.testing.assert_allclose(r.pH.values, ref.pH.values, atol=1e-8)


def test_recovery_and_purity_tables():
    r = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"]), 10, 0, 4).solve(
        feed=FEED, organic=ORG, strip=STRIP)
    rec = r.recovery_table()
    np.testing.assert_allclose(rec.loc[["Pr", "Nd"], ["raffinate", "strip_liquor",
                                                      "stripped_organic"]].sum(axis=1), 1.0,
                               rtol=1e-10)
    pur = r.purity_table()
    np.testing.assert_allclose(pur.sum(axis=0), 1.0)


def test_batch_matches_single():
    model = sx.ConstantD({"A": 2.0, "B": 0.5})
    jobs = [(sx.Cascade(model, extraction=n), dict(feed=Stream.aqueous(1.0, {"A": 0.1, "B": 0.2}),
                                                    organic=Stream.organic(O, {})))
            for n in (3, 10, 25) for O in (0.5, 2.0)]
    out = sx.solve_batch(jobs)
    for (cas, kw), r in zip(jobs, out):
        single = cas.solve(**kw)
        np.testing.assert_allclose(r.aqueous_profile.values, single.aqueous_profile.values,
                                   rtol=1e-10, atol=1e-15)


def test_recycled_organic_inlet_accepted():
    """A stripped organic carrying metal can be fed back to stage 1."""
    r = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"]), 6).solve(
        feed=FEED, organic=Stream.organic(3.0, {"PC88A": 1.0, "Nd": 0.001, "Pr": 0.0005}))
    assert r.mass_balance_residual < 1e-10


# ----------------------------------------------------------------------------- data
def test_extractant_data_and_sources():
    ext = sx.load_extractant("P507")
    assert ext.name == "PC88A"
    assert ext.kex["Pr"][0] == pytest.approx(-1.98)
    assert ext.separation_factor("Nd", "Pr") == pytest.approx(1.5, rel=1e-2)
    assert ext.sources["Pr"][1] == "single-source"
    assert ext.sources["Sm"][1] == "estimated"
    assert 0.0029 < ext.mol_L_per_vol_pct() < 0.032


# ----------------------------------------------------------------------------- errors
def test_bad_inputs_raise_clear_errors():
    m = sx.ConstantD({"A": 2.0})
    with pytest.raises(ValueError, match="extraction"):
        sx.Cascade(m, extraction=0)
    with pytest.raises(ValueError, match="efficiency"):
        sx.Cascade(m, extraction=3, efficiency=1.5)
    with pytest.raises(ValueError):
        Stream.aqueous(-1.0, {"A": 0.1})
    with pytest.raises(ValueError, match="unknown species|not an aqueous species"):
        sx.ConstantD({"Xx": 1.0})
    with pytest.raises(ValueError, match="negative"):
        sx.ConstantD({"A": -1.0})
    cas = sx.Cascade(m, extraction=3, scrub=2)
    with pytest.raises(ValueError, match="scrub stream is required"):
        cas.solve(feed=Stream.aqueous(1.0, {"A": 0.1}), organic=Stream.organic(1.0, {}))
    with pytest.raises(ValueError, match="method"):
        sx.Cascade(m, 3).solve(feed=Stream.aqueous(1.0, {"A": 0.1}),
                               organic=Stream.organic(1.0, {}), method="fast")
    with pytest.raises(ValueError, match="flow_L_h"):
        sx.Cascade(m, 3).solve(feed=Stream.aqueous(1.0, {"A": 0.1}),
                               organic=Stream.organic(0.0, {}))
    with pytest.raises(MissingDataError):
        sx.MassAction("PC88A", species=["Ho"])
    with pytest.raises(MissingDataError):
        sx.Cascade(sx.MassAction("PC88A", species=["Nd"]), 3).solve(
            feed=Stream.aqueous(1.0, {"Nd": 0.1, "Pr": 0.1, "H+": 0.01}),
            organic=Stream.organic(1.0, {"PC88A": 1.0}))
    with pytest.raises(ValueError, match="extractant"):
        sx.load_extractant("TBP")


def test_convergence_error_carries_diagnostics():
    cas = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"]), 30, 30)
    with pytest.raises(sx.ConvergenceError) as ei:
        cas.solve(feed=FEED, organic=ORG, scrub=SCRUB, max_iter=2)
    e = ei.value
    assert isinstance(e, RuntimeError)
    assert e.residual > 1e-12 and 1 <= e.stage <= 60 and e.species in ("Pr", "Nd")
    assert e.iterations >= 2
    r = cas.solve(feed=FEED, organic=ORG, scrub=SCRUB, max_iter=2, raise_on_failure=False)
    assert not r.converged


def test_over_saponified_cascade_failure_names_the_base_excess():
    """More Na base on the organic than acid + metal in the aqueous: the diagnosis names it.
    The cascade has an acidic state (the loaded organic carries the excess Na out), which 300
    iterations do not reach: a ConvergenceError, not a refusal (the diagnosis is none)."""
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4)
    cas = sx.Cascade(model, extraction=20, scrub=20)
    with pytest.raises(sx.ConvergenceError, match="turn alkaline") as e:
        cas.solve(feed=Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61}),
                  organic=Stream.organic(5.0, {"PC88A": 1.0}),
                  scrub=Stream.aqueous(0.3, {"H+": 3.4, "Cl-": 3.4}), max_iter=300)
    # 5 L/h x 0.4 mol/L Na = 2.0 eq/h > 0.3 x 3.4 + 0.01 = 1.03 eq/h acid + 0.6 eq/h metal
    assert "2 eq/h of base" in str(e.value) and e.value.residual > 1e-12
    assert type(e.value) is sx.ConvergenceError


def test_capacity_limited_base_excess_is_refused():
    """D2EHPA binds 3 dimers per RE3+ (1 eq per dimer) but 0.5 dimer per Na+ (2 eq per dimer):
    past saponification 0.5 the organic's Na exceeds the metal charge it can load in exchange.
    35 stages, O/A 0.37, 1 M HA (0.185 mol/h of dimer), 6 RE at 0.3 eq/h, feed pH 2.16 (6.9e-3
    eq/h of acid): the neutralisation limit is 0.185 + 0.0069 = 0.192 eq/h of Na, i.e.
    saponification 0.519 (a saponification continuation of this case reaches pH 7 at
    0.5184). Below it the cascade solves acidic from a cold start; above it the refusal names
    the capacity (the metal inflow, 0.3 eq/h, would not)."""
    from test_sx_robustness import cold_start_cascade   # (tests/ is on sys.path)

    case = dict(pH=2.16, oa=0.37, n=35, m=0, n_sp=6, sulfate=True, kind="mass_action")
    cas, kw = cold_start_cascade(sap=0.50, **case)
    r = cas.solve(**kw)
    assert r.converged and r.pH.max() < 7.0 and r.charge_balance_residual < 1e-9
    cas, kw = cold_start_cascade(sap=0.55, **case)
    with pytest.raises(sx.NoAcidicSteadyStateError, match="extractant capacity 0.185 eq/h"):
        cas.solve(**kw)
    asm = cas._assemble(kw["feed"], kw["organic"], None, None)
    assert "0.2035 eq/h of base" in cas._base_excess_note(asm)
    cas, kw = cold_start_cascade(sap=0.50, **case)
    assert cas._base_excess_note(cas._assemble(kw["feed"], kw["organic"], None, None)) == ""


def test_one_compiled_signature_per_kernel():
    """First-run compile time (issue 11): every solve, cold or warm, direct or through the
    fall-back, goes through one compiled signature of each kernel (a literal True/False/int or
    a non-contiguous array would compile a second specialisation of the whole solver)."""
    import numpy as np

    from reeproc.sx import _core, _legacy

    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.1)
    cas = sx.Cascade(model, extraction=30, scrub=30, strip=6)
    kw = dict(feed=Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61}),
              organic=Stream.organic(3.0, {"PC88A": 1.0}),
              scrub=Stream.aqueous(0.3, {"H+": 1.5, "Cl-": 1.5}),
              strip=Stream.aqueous(0.5, {"H+": 4.0, "Cl-": 4.0}))
    res = cas.solve(**kw)                  # cold: direct, then the pseudo-transient attempt
    a = cas._assemble(kw["feed"], kw["organic"], kw["scrub"], kw["strip"])["arrays"]
    from reeproc.sx import _fallback       # the fall-back (linear-variable core) and its polish
    st = _fallback.solve_fallback(a["Lout"], a["Lup"], a["O"], a["ext"], a["yin"], a["k0"],
                                  a["kf"], a["kh"], a["kfh"], a["sc"], a["z"], a["fT"], a["G"],
                                  a["Ts"], a["Ka"], a["eta"], a["use_h"], a["use_f"],
                                  np.zeros(a["ext"].shape), 1e-12, 3000)[0]
    assert st == 0
    cas.solve(**kw, initial_guess=res)     # warm, log form
    prof = res.aqueous_profile[list(res.organic_profile.columns)].to_numpy()
    cas.solve(**kw, initial_guess=np.asfortranarray(prof))   # column-major array start
    assert len(_core._solve_core.signatures) == 1
    assert len(_legacy._solve_core.signatures) == 1
