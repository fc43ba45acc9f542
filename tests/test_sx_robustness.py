"""SX solver: traces to full relative precision, honest refusals, cold-start robustness.

Every tolerance here is relative with ``abs=0``: a trace at 1e-29 of its feed level must be as
right as a major species.
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reeproc import Stream, sx
from reeproc.sx.cascade import PH_MAX


def kremser_profile(E, N):
    """Exact aqueous profile of a constant-D extraction section, feed 1 mol/L at stage N, fresh
    organic at stage 1, O/A 1: x_j = (E^j - 1) / (E^(N+1) - 1), j = 1..N."""
    lnE = math.log(E)
    return np.array([math.expm1(j * lnE) / math.expm1((N + 1) * lnE) for j in range(1, N + 1)])


@pytest.mark.parametrize("E,N", [(3.0, 60), (2.0, 100), (3.0, 30), (0.5, 40), (1.5, 200)])
def test_kremser_every_stage_relative(E, N):
    cas = sx.Cascade(sx.ConstantD({"A": E}), extraction=N)
    res = cas.solve(feed=Stream.aqueous(1.0, {"A": 1.0}), organic=Stream.organic(1.0, {}))
    exact = kremser_profile(E, N)
    got = res.aqueous_profile["A"].to_numpy()
    keep = exact >= 1e-30 * 1.0
    assert got[keep] == pytest.approx(exact[keep], rel=1e-9, abs=0)
    assert res.raffinate.conc_mol_L["A"] == pytest.approx(sx.kremser(E, N), rel=1e-9, abs=0)


def test_kremser_deep_trace_in_a_binary_separation():
    """Two species, one a deep trace in the raffinate: both exact at every stage."""
    cas = sx.Cascade(sx.ConstantD({"A": 3.0, "B": 0.2}), extraction=60)
    res = cas.solve(feed=Stream.aqueous(1.0, {"A": 0.5, "B": 0.5}), organic=Stream.organic(1.0, {}))
    for sp, E in (("A", 3.0), ("B", 0.2)):
        exact = 0.5 * kremser_profile(E, 60)
        assert res.aqueous_profile[sp].to_numpy() == pytest.approx(exact, rel=1e-9, abs=0)


FEED = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61})


def test_mass_action_every_stage_relative_relations():
    """D ratio = Kex ratio, y = D x and the extractant balance at every stage, relative only,
    and the stage balances of the traces (Nd in the scrub top) close to 1e-12 of their own
    flows."""
    model = sx.MassAction("PC88A", species=["Pr", "Nd", "Sm"])
    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "Sm": 0.01, "H+": 0.01, "Cl-": 0.64})
    cas = sx.Cascade(model, 12, 12, 4)
    r = cas.solve(feed=feed, organic=Stream.organic(3.0, {"PC88A": 1.0}),
                  scrub=Stream.aqueous(0.3, {"H+": 1.5, "Cl-": 1.5}),
                  strip=Stream.aqueous(0.5, {"H+": 4.0, "Cl-": 4.0}))
    D = r.D_profile
    beta = model.extractant.separation_factor("Sm", "Pr")
    assert (D["Sm"] / D["Pr"]).to_numpy() == pytest.approx(np.full(28, beta), rel=1e-10, abs=0)
    cols = ["Pr", "Nd", "Sm"]
    assert r.organic_profile[cols].to_numpy().ravel() == pytest.approx(
        (D[cols] * r.aqueous_profile[cols]).to_numpy().ravel(), rel=1e-10, abs=0)
    bound = 3 * r.organic_profile[cols].sum(axis=1)
    assert (r.free_extractant + bound).to_numpy() == pytest.approx(np.full(28, 0.5), rel=1e-12,
                                                                   abs=0)
    # stage balances, relative to each species' own flows at that stage
    x, y = r.aqueous_profile[cols].to_numpy(), r.organic_profile[cols].to_numpy()
    F, Sc, St, O = 1.0, 0.3, 0.5, 3.0
    Lout = np.r_[np.full(12, F + Sc), np.full(12, Sc), np.full(4, St)]
    Lup = np.r_[np.full(11, F + Sc), [Sc], np.full(11, Sc), [0.0], np.full(3, St), [0.0]]
    ext = np.zeros((28, 3))
    ext[11] = [0.05, 0.15, 0.01]
    yprev = np.vstack([np.zeros(3), y[:-1]])
    xnext = np.vstack([x[1:], np.zeros(3)])
    inflow = Lup[:, None] * xnext + ext + O * yprev
    outflow = Lout[:, None] * x + O * y
    assert np.max(np.abs(inflow / outflow - 1.0)) < 1e-11
    assert outflow.min() < 1e-20 * outflow.max()     # the check does reach traces
    assert r.charge_balance_residual < 1e-12


# ----------------------------------------------------------------- honest refusals (issue 10)
def test_overloaded_organic_inlet_is_refused():
    cas = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"]), 5)
    with pytest.raises(ValueError, match="extractant capacity"):
        cas.solve(feed=FEED, organic=Stream.organic(5.0, {"PC88A": 0.1, "Nd": 1.0}))


def test_trace_held_between_the_sections_is_refused_not_unbalanced():
    """A Tb/Dy cascade of the reference flowsheet at one end of a parameter range (its SX4 at
    sx1_scrub_ratio = 2): Tb, a trace in the feed (5.9e-10 mol/L), is extracted in the
    extraction section and scrubbed back in the scrub, and its steady state (reached by the
    acid arclength) holds it at 3.8e8 times its inflow through a stage; every stage balance
    is within tol, but the overall balance closes only to 2.2e-7 of the Tb inflow. Such a
    result is refused by name (ConvergenceError naming Tb and the build-up), never returned
    as converged to fail the flowsheet's conservation audit."""
    model = sx.MassAction("PC88A", species=["Dy", "Tb"])
    cas = sx.Cascade(model, 24, 24, 4)
    kw = dict(feed=Stream.aqueous(83.6478, {"Dy": 4.90339e-6, "Tb": 5.85352e-10,
                                            "Cl-": 3.08236, "H+": 0.1, "NH4+": 2.98234}),
              organic=Stream.organic(163.071, {"PC88A": 1.0}),
              scrub=Stream.aqueous(31.9293, {"H+": 1.625, "Cl-": 1.625}),
              strip=Stream.aqueous(54.1395, {"H+": 4.0, "Cl-": 4.0}))
    with pytest.raises(sx.ConvergenceError, match="overall balance of 'Tb'.*builds up") as err:
        cas.solve(**kw, tol=1e-11)
    assert err.value.species == "Tb" and not isinstance(err.value, sx.NoAcidicSteadyStateError)
    r = cas.solve(**kw, tol=1e-11, raise_on_failure=False)
    assert not r.converged and r.raffinate is None and "builds up" in r.failure
    assert r.mass_balance_residual > 1e-8   # (what the refusal is about)
    # the batch paths refuse it alike
    from reeproc.sx.batch import solve_batch, solve_many

    item = solve_many([(cas, kw)], tol=1e-11)[0]
    assert not item.converged and "overall balance of 'Tb'" in item.batch.error(0)
    with pytest.raises(sx.ConvergenceError, match="batch item 0.*builds up"):
        solve_batch([(cas, kw)], tol=1e-11)


def test_over_saponified_cascade_has_no_acidic_steady_state():
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.99)
    cas = sx.Cascade(model, 5)
    with pytest.raises(sx.NoAcidicSteadyStateError, match="no acidic steady state") as e:
        cas.solve(feed=FEED, organic=Stream.organic(20.0, {"PC88A": 1.0}))
    assert e.value.pH > PH_MAX and "eq/h of base" in str(e.value)
    r = cas.solve(feed=FEED, organic=Stream.organic(20.0, {"PC88A": 1.0}),
                  raise_on_failure=False)
    assert not r.converged and "acidic" in r.failure and r.outlets == {}


def test_charge_closure_reported_for_every_model():
    models = [sx.ConstantD({"Pr": 1.0, "Nd": 1.5}),
              sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.2),
              sx.PhCorrelation(5.0, species=["Nd", "Pr"])]
    for m in models:
        r = sx.Cascade(m, 6, 4).solve(feed=FEED, organic=Stream.organic(2.0, {"PC88A": 1.0})
                                      if isinstance(m, sx.MassAction) else
                                      Stream.organic(2.0, {}),
                                      scrub=Stream.aqueous(0.5, {"H+": 1.0, "Cl-": 1.0}))
        assert r.converged and 0 <= r.charge_balance_residual < 1e-12, m


# ----------------------------------------------------------------- coverage
def test_ph_correlation_default_species_and_extractant_data():
    m = sx.PhCorrelation(5.0)
    assert "Sc" in m.species
    m2 = sx.PhCorrelation(5.0, extractant_density_g_mL=0.9758, extractant_molar_mass_g_mol=322.431)
    assert m2.extractant.mol_L_per_vol_pct() == pytest.approx(10 * 0.9758 / 322.431, rel=1e-12)
    with pytest.raises(ValueError, match="dosage_basis"):
        sx.PhCorrelation(5.0, dosage_basis="local")
    with pytest.raises(ValueError, match="extractant_density_g_mL"):
        sx.PhCorrelation(5.0, extractant_density_g_mL=975.8)


def test_ph_correlation_free_dosage_basis_adds_the_bound_extractant():
    m = sx.PhCorrelation(5.0, species=["Nd", "Dy"], dosage_basis="free")
    c1 = m.extractant.mol_L_per_vol_pct()
    assert m.total_extractant({"Nd": 0.01}) == pytest.approx(5.0 + 3 * 0.01 / c1, rel=1e-12)
    feed = Stream.aqueous(1.0, {"Nd": 0.005, "Dy": 0.001, "H+": 0.02, "SO4-2": 0.05})
    r = sx.Cascade(m, 4).solve(feed=feed, organic=Stream.organic(1.0, {"Nd": 0.001}))
    assert r.free_extractant.iloc[0] > 5.0 * 0.99 and r.mass_balance_residual < 1e-12


@pytest.mark.parametrize("pH", [2.6, 3.0, 3.5])
@pytest.mark.parametrize("anion", ["Cl-", "SO4-2"])
def test_ph_correlation_above_pH_2_4(pH, anion):
    model = sx.PhCorrelation(5.0, species=["Nd", "Dy", "Al", "Ca"], dosage_basis="total")
    conc = {"Nd": 0.005, "Dy": 0.001, "Al": 0.01, "Ca": 0.005, "H+": 10 ** -pH}
    conc[anion] = 0.05 if anion == "SO4-2" else 0.1
    r = sx.Cascade(model, 4).solve(feed=Stream.aqueous(1.0, conc),
                                   organic=Stream.organic(1.0, {}))
    assert r.converged and r.mass_balance_residual < 1e-10


def test_stream_mass_concentrations_round_trip():
    s = Stream.aqueous_g_L(2.0, {"Nd": 14.4242, "Sc": 0.044955907})
    assert s.conc_mol_L["Nd"] == pytest.approx(0.1, rel=1e-12)
    assert s.conc_mg_L["Sc"] == pytest.approx(44.955907, rel=1e-12)
    assert Stream.organic_mg_L(1.0, {"Pm": 144.912756}).conc_mol_L["Pm"] == pytest.approx(1e-3)


# ----------------------------------------------------------------- cold-start robustness
RE_D2EHPA = ["La", "Ce", "Pr", "Nd", "Sm", "Tb", "Dy"]
IMP_D2EHPA = ["Fe+3", "Al", "Zn", "Cu", "Co", "Ni"]


def cold_start_cascade(pH, oa, n, m, sap, n_sp, sulfate, kind, k=0, strip_flow=1.0,
                       strip_sulfate=False):
    """(cascade, solve keywords) of one case of the cold-start domain (also used by
    benchmarks/sx_robustness_survey.py); ``k`` strip stages with a 4 M acid strip (HCl, or
    H2SO4 with ``strip_sulfate``) at ``strip_flow`` [L/h]."""
    species = (RE_D2EHPA + IMP_D2EHPA)[:n_sp] if kind == "mass_action" else RE_D2EHPA[:min(n_sp, 6)]
    if kind == "ph":
        species = [s for s in species if s in ("La", "Ce", "Pr", "Nd", "Sm", "Dy")]
    charge = {"Fe+3": 3, "Al": 3, "Zn": 2, "Cu": 2, "Co": 2, "Ni": 2}
    conc = {s: 0.1 / len(species) for s in species}
    h = 10.0 ** -pH
    eq = sum(charge.get(s, 3) * c for s, c in conc.items()) + h
    conc["H+"] = h
    if sulfate:
        conc["SO4-2"] = eq / 2
    else:
        conc["Cl-"] = eq
    if kind == "mass_action":
        model = sx.MassAction("D2EHPA", concentration_mol_L=1.0, species=species,
                              saponification=sap)
        org = Stream.organic(oa, {"D2EHPA": 1.0})
    elif kind == "constant":
        model = sx.ConstantD({s: 0.1 * 3.0 ** i for i, s in enumerate(species)})
        org = Stream.organic(oa, {})
    else:
        model = sx.PhCorrelation(5.0, species=species)
        org = Stream.organic(oa, {})
    cas = sx.Cascade(model, n, m, k)
    kw = dict(feed=Stream.aqueous(1.0, conc), organic=org)
    if m:
        kw["scrub"] = Stream.aqueous(0.3, {"H+": 1.0, "Cl-": 1.0})
    if k:
        kw["strip"] = Stream.aqueous(strip_flow, {"H+": 4.0, "SO4-2": 2.0} if strip_sulfate
                                     else {"H+": 4.0, "Cl-": 4.0})
    return cas, kw


def _cold_start_case(pH, oa, n, m, sap, n_sp, sulfate, kind):
    cas, kw = cold_start_cascade(pH, oa, n, m, sap, n_sp, sulfate, kind)
    model = cas.model
    try:
        r = cas.solve(**kw)
    except sx.NoAcidicSteadyStateError:
        return
    except sx.ExtractantCapacityError:   # (a correlation without a loading limit only)
        assert kind == "ph"
        return
    assert r.converged and r.mass_balance_residual < 1e-9
    assert r.charge_balance_residual < 1e-9
    if model.uses_h:
        assert r.pH.max() <= PH_MAX


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(pH=st.floats(0.0, 4.0), oa=st.floats(0.05, 20.0), n=st.integers(1, 40),
       m=st.integers(0, 30), sap=st.floats(0.0, 0.6), n_sp=st.integers(1, 12),
       sulfate=st.booleans(), kind=st.sampled_from(["mass_action", "constant", "ph"]))
def test_cold_start_converges_or_refuses(pH, oa, n, m, sap, n_sp, sulfate, kind):
    """Every case from the default start either converges (balances closed, every stage
    acidic) or raises the documented no-acidic-steady-state error (fixed examples, so CI is
    reproducible; a random search found the case below)."""
    _cold_start_case(pH, oa, n, m, sap, n_sp, sulfate, kind)



@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(pH=st.floats(0.0, 4.0), oa=st.floats(0.05, 20.0), n=st.integers(1, 250),
       m=st.integers(0, 250), sap=st.floats(0.0, 0.6), n_sp=st.integers(1, 12),
       sulfate=st.booleans(), kind=st.sampled_from(["mass_action", "constant", "ph"]))
def test_cold_start_converges_or_refuses_up_to_500_stages(pH, oa, n, m, sap, n_sp, sulfate,
                                                           kind):
    """The same over the issue's whole stage range (1-500 stages; fewer examples, each costs
    up to seconds; benchmarks/sx_robustness_survey.py --max-extraction 250 --max-scrub 250
    draws hundreds)."""
    _cold_start_case(pH, oa, n, m, sap, n_sp, sulfate, kind)

def test_cold_start_ten_metals_saponified_converges():
    """The 10-metal D2EHPA cascade (Fe3+, Al, Zn; 22 % saponification) that every earlier
    attempt left unsolved: the steady state reached by the last attempt (the saponification
    leg stops at ~21.5 %, where the pH front moves through the stages at a constant base;
    the acid leg solves it) is the one a continuation in the feed acid through the public
    API reaches (pH 3.004 at stage 1, 2.04 at the lowest), closed to round-off."""
    kw = dict(pH=2.0, oa=1.25, n=31, m=0, n_sp=10, sulfate=False, kind="mass_action")
    cas, job = cold_start_cascade(sap=0.21875, **kw)
    r = cas.solve(**job)   # (the assertions of _cold_start_case, on this one solve)
    assert r.converged and r.mass_balance_residual < 1e-9
    assert r.charge_balance_residual < 1e-9 and r.pH.max() <= PH_MAX
    # the same state by hand: feed acid 1e-3 mol/L (solves cold), raised to 1e-2 in 4 steps
    prev = None
    for h in (1e-3, 3e-3, 6e-3, 1e-2):
        conc = dict(job["feed"].conc_mol_L)
        conc["Cl-"] += h - conc["H+"]
        conc["H+"] = h
        feed = Stream.aqueous(1.0, conc)
        prev = cas.solve(feed=feed, organic=job["organic"], initial_guess=prev)
    assert r.pH.iloc[0] == pytest.approx(3.004, abs=1e-3)
    assert r.pH.to_numpy() == pytest.approx(prev.pH.to_numpy(), rel=1e-9, abs=0)
    got = r.aqueous_profile[list(cas.model.species)].to_numpy()
    ref = prev.aqueous_profile[list(cas.model.species)].to_numpy()
    assert got == pytest.approx(ref, rel=1e-8, abs=0)


def test_saponification_continuation_solves_and_refuses():
    """Saponified cascades near the acid-base equivalence that the cold-start attempts miss
    (found by benchmarks/sx_robustness_survey.py): the continuation in the saponification
    solves the first (4 RE, 32 + 24 stages, 49.9 %), at the state a hand continuation through
    the public API reaches from 48 %; in the second (6 RE, 17 + 22 stages, 56.5 %) the
    continued state turns alkaline before the full saponification, and the refusal says so."""
    base = dict(pH=1.98, oa=1.148, n=32, m=24, n_sp=4, sulfate=False, kind="mass_action")
    cas, job = cold_start_cascade(sap=0.499, **base)
    r = cas.solve(**job)
    assert r.converged and r.pH.max() == pytest.approx(3.2, abs=0.1)
    assert r.mass_balance_residual < 1e-10 and r.charge_balance_residual < 1e-10
    prev = None
    for sap in (0.48, 0.49, 0.495, 0.499):
        c, j = cold_start_cascade(sap=sap, **base)
        prev = c.solve(**j, initial_guess=prev)
    got = r.organic_profile[list(cas.model.species)].to_numpy()
    ref = prev.organic_profile[list(cas.model.species)].to_numpy()
    assert got == pytest.approx(ref, rel=1e-8, abs=0)
    cas, job = cold_start_cascade(pH=2.05, oa=1.011, n=17, m=22, sap=0.565, n_sp=6,
                                  sulfate=False, kind="mass_action")
    with pytest.raises(sx.NoAcidicSteadyStateError, match="turns alkaline"):
        cas.solve(**job)


def test_acid_arclength_solves_a_cascade_without_a_dilute_limit():
    """The long survey's 7-metal chloride cascade (D2EHPA, 42.5 % saponified, feed pH 3.91,
    O/A 0.96, 123 + 248 stages; seed 5 of benchmarks/sx_robustness_survey.py) that every
    other attempt leaves unsolved: its middle rare earths, extracted in the extraction
    section and scrubbed back in the long scrub, build up between the sections beyond the
    double range unless the loading holds them, so no nearly unloaded start exists. With
    three times the aqueous inlets' acid it solves cold, and the arclength in the acid leads
    down to it. The answer closes every stage balance relative to each species' own flows
    there and is at equilibrium at every stage."""
    kw = dict(pH=3.9067217179040865, oa=0.9612867371649176, n=123, m=248,
              sap=0.42497912219068645, n_sp=7, sulfate=False, kind="mass_action")
    cas, job = cold_start_cascade(**kw)
    r = cas.solve(**job)
    assert r.converged and r.mass_balance_residual < 1e-10
    assert r.charge_balance_residual < 1e-10 and r.pH.max() <= PH_MAX
    cols = list(cas.model.species)   # (seven metals and the saponification Na)
    x, y = r.aqueous_profile[cols].to_numpy(), r.organic_profile[cols].to_numpy()
    n, m, O = 123, 248, kw["oa"]
    F, Sc = 1.0, 0.3
    Lout = np.r_[np.full(n, F + Sc), np.full(m, Sc)]
    Lup = np.r_[np.full(n - 1, F + Sc), [Sc], np.full(m - 1, Sc), [0.0]]
    ext = np.zeros(x.shape)
    ext[n - 1] = [job["feed"].mol_h.get(sp, 0.0) for sp in cols]
    a = cas._assemble(job["feed"], job["organic"], job["scrub"], None)["arrays"]
    yin = a["yin"]   # (the saponified organic inlet: its Na)
    inflow = (Lup[:, None] * np.vstack([x[1:], np.zeros(len(cols))]) + ext
              + O * np.vstack([yin, y[:-1]]))
    outflow = Lout[:, None] * x + O * y
    live = outflow > 0.0
    assert np.max(np.abs(inflow[live] / outflow[live] - 1.0)) < 1e-9
    # equilibrium: log10 D = k0 + kf log10 f + kh pH, and the extractant balance
    f, pH = r.free_extractant.to_numpy(), r.pH.to_numpy()
    logD = a["k0"] + a["kf"] * np.log10(f)[:, None] + a["kh"] * pH[:, None]
    assert y[live] == pytest.approx((10.0 ** logD * x)[live], rel=1e-9, abs=0)
    assert f + y @ a["sc"] == pytest.approx(np.full(n + m, a["fT"]), rel=1e-10, abs=0)


def test_textbook_dimer_cascade_converges_from_cold():
    """Issue 11: the textbook cascade (50 + 50 stages, La..Dy, PC88A at 1 M as dimer, i.e.
    2 M monomer, unsaponified; 0.3 M chloride feed at pH 2, O/A 2, 1 M HCl scrub) from the
    default start within 50 iterations (Sm and Dy build up in the scrub, which the direct
    attempt cannot follow; the pseudo-transient attempt with [H+] eliminated can). The answer
    closes every balance and is at equilibrium at every stage."""
    species = ["La", "Ce", "Pr", "Nd", "Sm", "Dy"]
    model = sx.MassAction("PC88A", concentration_mol_L=2.0, species=species)
    cas = sx.Cascade(model, extraction=50, scrub=50)
    re = 0.29 / 3 / 6
    kw = dict(feed=Stream.aqueous(1.0, {**{s: re for s in species}, "H+": 0.01, "Cl-": 0.3}),
              organic=Stream.organic(2.0, {"PC88A": 2.0}),
              scrub=Stream.aqueous(0.5, {"H+": 1.0, "Cl-": 1.0}))
    r = cas.solve(**kw)
    assert r.converged and r.iterations <= 50
    assert r.mass_balance_residual < 1e-10 and r.charge_balance_residual < 1e-10
    # every metal leaves: La..Nd in the raffinate, Sm and Dy with the loaded organic
    x = r.aqueous_profile[species].to_numpy()
    y = r.organic_profile[species].to_numpy()
    feed = np.full(len(species), re)
    out = 1.5 * x[0] + 2.0 * y[-1]
    assert out == pytest.approx(feed, rel=1e-10)
    assert np.all(y[-1, 4:] * 2.0 > 0.999 * re) and np.all(x[0, :4] * 1.5 > 0.99 * re)
    # equilibrium at every stage, from the model's constants: log10 D = k0 + 3 log10 f + 3 pH
    # and the extractant balance f + 3 sum y = 1 M dimer
    a = cas._assemble(kw["feed"], kw["organic"], kw["scrub"], None)["arrays"]
    f = r.free_extractant.to_numpy()
    pH = r.pH.to_numpy()
    logD = a["k0"] + a["kf"] * np.log10(f)[:, None] + a["kh"] * pH[:, None]
    assert y == pytest.approx(10.0 ** logD * x, rel=1e-9, abs=0)
    assert f + 3.0 * y.sum(axis=1) == pytest.approx(np.full(100, 1.0), rel=1e-12)


def test_sulfate_continuation_solves_an_unsaponified_cascade():
    """An unsaponified 8-metal D2EHPA cascade (La..Dy and Fe3+) in sulfate with a 20-stage 1 M
    HCl scrub, which every attempt before the last leaves unsolved (found by
    benchmarks/sx_robustness_survey.py; the same cascade in chloride solves directly): the
    continuation from its sulfate-free twin reaches the state that a hand continuation
    through the public API reaches (the feed's sulfate exchanged for chloride and raised back
    in four steps, each warm-started)."""
    cas, job = cold_start_cascade(pH=3.7, oa=1.113, n=39, m=20, sap=0.0, n_sp=8, sulfate=True,
                                  kind="mass_action")
    r = cas.solve(**job)
    assert r.converged and r.mass_balance_residual < 1e-10 and r.charge_balance_residual < 1e-10
    conc = dict(job["feed"].conc_mol_L)
    so4 = conc.pop("SO4-2")
    prev = None
    for lam in (0.0, 0.25, 0.5, 0.75, 1.0):
        c = {**conc, "SO4-2": lam * so4, "Cl-": 2.0 * (1.0 - lam) * so4}
        feed = Stream.aqueous(1.0, {k: v for k, v in c.items() if v > 0})
        prev = cas.solve(feed=feed, organic=job["organic"], scrub=job["scrub"],
                         initial_guess=prev)
    species = list(cas.model.species)
    got, ref = r.organic_profile[species].to_numpy(), prev.organic_profile[species].to_numpy()
    assert got == pytest.approx(ref, rel=1e-9, abs=0)


def test_organic_flow_continuation_solves_an_unsaponified_cascade():
    """An unsaponified 11-metal D2EHPA cascade in chloride (36 + 11 stages, O/A 0.8518) that
    every other attempt leaves unsolved, while the same cascade at O/A 0.7, 0.8 or 1.0 solves
    directly (found by benchmarks/sx_robustness_survey.py): the organic-flow leg starts 10 %
    below and brings the flow back, to the state a hand continuation through the public API
    reaches from O/A 0.8."""
    case = dict(pH=2.6421, n=36, m=11, sap=0.0, n_sp=11, sulfate=False, kind="mass_action")
    cas, job = cold_start_cascade(oa=0.8518, **case)
    r = cas.solve(**job)
    assert r.converged and r.mass_balance_residual < 1e-10 and r.charge_balance_residual < 1e-10
    prev = None
    for oa in (0.8, 0.8518):
        c, j = cold_start_cascade(oa=oa, **case)
        prev = c.solve(**j, initial_guess=prev)
    species = list(cas.model.species)
    got, ref = r.organic_profile[species].to_numpy(), prev.organic_profile[species].to_numpy()
    assert got == pytest.approx(ref, rel=1e-9, abs=0)


def test_batches_take_the_same_last_attempt():
    """solve_many and solve_batch end with the continuation in the saponification as
    Cascade.solve does: the same state for the case it solves, the same refusal for the
    case whose continued state turns alkaline."""
    from reeproc.sx.batch import solve_many

    base = dict(pH=1.98, oa=1.148, n=32, m=24, n_sp=4, sulfate=False, kind="mass_action")
    cas, job = cold_start_cascade(sap=0.499, **base)
    single = cas.solve(**job)
    item = solve_many([(cas, job)])[0]
    assert item.converged
    ref = single.aqueous_profile[list(item.species)].to_numpy()
    assert item.x == pytest.approx(ref, rel=1e-9, abs=0)
    cas, job = cold_start_cascade(pH=2.05, oa=1.011, n=17, m=22, sap=0.565, n_sp=6,
                                  sulfate=False, kind="mass_action")
    item = solve_many([(cas, job)])[0]
    assert not item.converged and "turns alkaline" in item.failure_note
    with pytest.raises(sx.NoAcidicSteadyStateError, match="turns alkaline"):
        sx.solve_batch([(cas, job)])


def test_continuation_start_falls_back_to_linear_variables():
    """The last attempt's starts (here 2 % of the organic inlet's base) take the
    linear-variable Newton when the log-form attempts miss them: the 4-RE sulfate cascade
    (25 + 20 stages, 54.9 % saponified, found by benchmarks/sx_robustness_survey.py) at 2 % of
    its base stalls in the log form and solves there, at the state the public API reaches
    for the cascade saponified to 2 % of 54.9 %."""
    from reeproc.sx import _kernels as K
    from reeproc.sx._fallback import _cold, _with
    from reeproc.sx.cascade import N_PICARD

    case = dict(pH=2.404936494635301, oa=1.0302290031189814, n=25, m=20, n_sp=4, sulfate=True,
                kind="mass_action")
    cas, kw = cold_start_cascade(sap=0.5494444471084363, **case)
    asm, A = _kernel_args(cas, kw)
    a = asm["arrays"]
    base = np.array([sp == "Na" for sp in asm["active"]])
    args = _with(A, np.where(base, 0.02 * a["yin"], a["yin"]), a["Ts"], a["G"])
    log_form = K.solve_cascade(*args, np.zeros(a["ext"].shape), 1e-12, 3000, N_PICARD)
    assert log_form[0] != K.OK
    out = _cold(args, 1e-12, 3000, N_PICARD)
    assert out[0] == K.OK
    c2, kw2 = cold_start_cascade(sap=0.02 * 0.5494444471084363, **case)
    r = c2.solve(**kw2)
    assert r.converged and r.pH.max() <= PH_MAX
    ref = r.aqueous_profile[list(asm["active"])].to_numpy()
    assert out[5] == pytest.approx(ref, rel=1e-8, abs=0)


# ------------------------------------------------------- pseudo-arclength (last attempt)
KERNEL_ARGS = ("Lout", "Lup", "O", "ext", "yin", "k0", "kf", "kh", "kfh", "sc", "z", "fT", "G",
               "Ts", "Ka", "eta", "use_h", "use_f")


def _kernel_args(cas, kw):
    asm = cas._assemble(kw["feed"], kw["organic"], kw.get("scrub"), None)
    return asm, tuple(asm["arrays"][k] for k in KERNEL_ARGS)


def _unknowns(x, h, f):
    """The arclength module's unknowns (ln x, ln [H+], ln f per stage) and its mask."""
    mask = ~(x > 0)
    lx = np.log(np.where(mask, 1.0, x))
    z = np.hstack([np.where(mask, 0.0, lx), np.log(h)[:, None], np.log(f)[:, None]])
    return z.ravel(), mask


@pytest.mark.parametrize("kind,sulfate,sap", [("mass_action", True, 0.2), ("ph", False, 0.0),
                                              ("ph", True, 0.0)])
def test_arclength_rows_vanish_at_the_kernel_answer_and_jacobian_is_exact(kind, sulfate, sap):
    """The arclength module writes the kernel's equations with the free extractant as an
    unknown: at the kernel's answer every row is zero to rounding, and its Jacobian equals
    central differences (mass action with sulfate and Na; the pH correlation's f*pH term)."""
    from reeproc.sx import _arclength as AL
    from reeproc.sx import _kernels as K
    from reeproc.sx.cascade import N_PICARD

    cas, kw = cold_start_cascade(pH=2.0, oa=1.0, n=8, m=4, sap=sap, n_sp=5, sulfate=sulfate,
                                 kind=kind)
    asm, A = _kernel_args(cas, kw)
    out = K.solve_cascade(*A, np.zeros(A[3].shape), 1e-12, 3000, N_PICARD)
    assert out[0] == K.OK
    z, mask = _unknowns(out[5], out[7], out[8])
    R, rows, cols, vals = AL.evaluate(z, mask, A)
    assert np.abs(R).max() < 1e-11
    J = np.zeros((z.size, z.size))
    np.add.at(J, (rows, cols), vals)
    fd = np.empty_like(J)
    for k in range(z.size):
        dz = np.zeros(z.size)
        dz[k] = 1e-6
        fd[:, k] = (AL.evaluate(z + dz, mask, A, False)
                    - AL.evaluate(z - dz, mask, A, False)) / 2e-6
    big = np.abs(fd) > 1e-3   # (below, the differences carry rounding of ~1e-10)
    assert J[big] == pytest.approx(fd[big], rel=1e-6, abs=0)
    assert np.abs(J - fd).max() < 1e-8


@pytest.mark.parametrize("kind,sulfate,sap", [("mass_action", True, 0.2), ("ph", True, 0.0)])
def test_arclength_bordered_step_solves_the_bordered_system(kind, sulfate, sap):
    """The corrector's step (band LU of the Jacobian with partial pivoting, the lambda column
    and the constraint row by bordering) solves [[J, c], [t]] d = b as a dense solve does,
    to 1e-12 of the step's largest entry, at the kernel's answer of a survey-like cascade."""
    from reeproc.sx import _arclength as AL
    from reeproc.sx import _kernels as K
    from reeproc.sx.cascade import N_PICARD

    cas, kw = cold_start_cascade(pH=2.0, oa=1.0, n=8, m=4, sap=sap, n_sp=5, sulfate=sulfate,
                                 kind=kind)
    asm, A = _kernel_args(cas, kw)
    out = K.solve_cascade(*A, np.zeros(A[3].shape), 1e-12, 3000, N_PICARD)
    z, mask = AL._start(A, out[5], out[7], out[8])
    _, r, c, v = AL.evaluate(z, mask, A)
    n = z.size
    rng = np.random.default_rng(3)
    col, row, b = rng.normal(size=n), rng.normal(size=n + 1), rng.normal(size=n + 1)
    M = np.zeros((n + 1, n + 1))
    np.add.at(M, (r, c), v)
    M[:n, n], M[n] = col, row
    want = np.linalg.solve(M, b)
    got = AL._lu(AL._factor(z, mask, A)[1], col, row)(b)
    assert np.abs(got - want).max() <= 1e-12 * np.abs(want).max()


@pytest.mark.parametrize("n,kl,ku", [(40, 3, 3), (33, 9, 9), (7, 2, 5)])
def test_band_lu_is_lapacks(n, kl, ku):
    """The compiled band LU (``_arcloop.gbtrf``/``gbtrs``, LAPACK's ``dgbtf2``/``dgbtrs`` in
    column-contiguous storage) gives LAPACK's pivots and factors and solves J x = b as a
    dense solve does; an exactly singular band is reported at its first zero pivot."""
    from scipy.linalg.lapack import dgbtrf

    from reeproc.sx._arcloop import gbtrf, gbtrs

    rng = np.random.default_rng(n)
    J = np.zeros((n, n))
    for r in range(n):
        for c in range(max(0, r - kl), min(n, r + ku + 1)):
            J[r, c] = rng.uniform(-1.0, 1.0)   # (no dominance: rows are swapped)
    band = np.zeros((2 * kl + ku + 1, n))
    for r in range(n):
        for c in range(max(0, r - kl), min(n, r + ku + 1)):
            band[kl + ku + r - c, c] = J[r, c]
    ab, piv = np.ascontiguousarray(band.T), np.zeros(n, dtype=np.int64)
    assert gbtrf(ab, kl, ku, piv) == 0
    lu, ipiv, info = dgbtrf(np.asfortranarray(band), kl, ku)
    assert info == 0 and np.array_equal(piv, ipiv) and any(piv != np.arange(n))
    assert np.abs(ab.T - lu).max() <= 1e-12 * np.abs(lu).max()
    b = rng.uniform(size=n)
    x = b.copy()
    gbtrs(ab, kl, ku, piv, x)
    want = np.linalg.solve(J, b)
    assert np.abs(x - want).max() <= 1e-12 * np.abs(want).max()
    band[:, 4] = 0.0   # column 4 zero: singular
    ab = np.ascontiguousarray(band.T)
    assert gbtrf(ab, kl, ku, piv) == 5


def test_arclength_refuses_a_homotopy_that_is_not_affine():
    """The compiled continuation takes args_of(lambda) as (1 - lambda) args_of(0) + lambda
    args_of(1); a homotopy off that line is refused, not followed on another path."""
    from reeproc.sx import _arclength as AL

    cas, kw = cold_start_cascade(pH=2.0, oa=1.0, n=8, m=4, sap=0.0, n_sp=3, sulfate=False,
                                 kind="mass_action")
    _, A = _kernel_args(cas, kw)
    P = AL._affine(lambda t: A[:3] + (t * A[3],) + A[4:])
    ext = P[1][:, 0]   # (ext at lambda = 0 and 1: _arcloop.PACKED)
    assert np.array_equal(ext[1], A[3]) and not ext[0].any()
    assert AL._args_at(P, A, 0.25)[3] == pytest.approx(0.25 * A[3], rel=1e-15, abs=0)
    with pytest.raises(ValueError, match="not affine"):
        AL._affine(lambda t: A[:3] + (t ** 2 * A[3],) + A[4:])


def test_arclength_between_two_cascades_is_each_at_its_end():
    """The homotopy between two cascades of one layout (another organic and scrub flow) is
    the first at lambda 0 and the second at 1, exactly; two whose species inflows differ
    (a species absent from the start would stay absent) get none."""
    from reeproc.sx import _arclength as AL

    cas, kw = cold_start_cascade(pH=2.0, oa=1.0, n=8, m=4, sap=0.2, n_sp=3, sulfate=False,
                                 kind="mass_action")
    _, A0 = _kernel_args(cas, kw)
    kw1 = dict(kw, organic=kw["organic"].scaled(1.3), scrub=kw["scrub"].scaled(0.8))
    _, A1 = _kernel_args(cas, kw1)
    args_of = AL.between(A0, A1)
    for lam, A in ((0.0, A0), (1.0, A1)):
        for a, b in zip(args_of(lam), A):
            assert np.array_equal(np.asarray(a), np.asarray(b))
    none = A1[:4] + (np.zeros_like(A1[4]),) + A1[5:]   # (no metal or base on the organic)
    assert AL.between(A0, none) is None


def test_arclength_in_the_loading_reaches_the_cold_start_answer():
    """The loading leg of the last attempt (every inlet's metal and base scaled by lambda,
    from 1e-3, by pseudo-arclength, then the kernel's polish) ends at the answer of the
    direct cold start where that solves (5 metals, sulfate, 20 % saponified)."""
    from reeproc.sx import _kernels as K
    from reeproc.sx._fallback import _by_arclength
    from reeproc.sx.cascade import N_PICARD

    cas, kw = cold_start_cascade(pH=2.0, oa=1.0, n=8, m=4, sap=0.2, n_sp=5, sulfate=True,
                                 kind="mass_action")
    asm, A = _kernel_args(cas, kw)
    base = np.array([sp == "Na" for sp in asm["active"]])
    cold = K.solve_cascade(*A, np.zeros(A[3].shape), 1e-12, 3000, N_PICARD)
    nothing = (K.MAXITER, 0, np.inf, 0, 0) + tuple(cold[5:9]) + ("", 0.0)
    arc = _by_arclength(A, base, nothing, 1e-12, 3000, N_PICARD, 10.0 ** -PH_MAX)
    assert arc[0] == K.OK and arc[9] == ""
    assert arc[5] == pytest.approx(cold[5], rel=1e-9, abs=0)
    assert arc[7] == pytest.approx(cold[7], rel=1e-9, abs=0)



def test_arclength_answer_stands_where_the_kernel_polish_cannot_start(monkeypatch):
    """The kernel takes a start as linear concentrations, so traces below ~1e-308 mol/L
    start at its floor and can stall its polish (a 12-metal, 70-stage survey variant: residual
    22 at stage 1 after 2 iterations). The arclength's Newton has then solved the same rows
    to tol, and its state is the answer: here, with the polish made to fail, the loading leg
    returns the cold start's answer, organic included (y = D x of the arclength module)."""
    from reeproc.sx import _fallback as FB
    from reeproc.sx import _kernels as K
    from reeproc.sx.cascade import N_PICARD

    cas, kw = cold_start_cascade(pH=2.0, oa=1.0, n=8, m=4, sap=0.2, n_sp=5, sulfate=True,
                                 kind="mass_action")
    asm, A = _kernel_args(cas, kw)
    base = np.array([sp == "Na" for sp in asm["active"]])
    cold = K.solve_cascade(*A, np.zeros(A[3].shape), 1e-12, 3000, N_PICARD)
    core, polished = FB._solve_core, []

    def polish_fails(*args):
        out = core(*args)
        full = args[4] is A[4] and args[3] is A[3]      # the polish runs on the cascade itself
        polished.append(full)
        return (K.STALLED, 2, 22.0) + tuple(out[3:]) if full else out

    monkeypatch.setattr(FB, "_solve_core", polish_fails)
    nothing = (K.MAXITER, 0, np.inf, 0, 0) + tuple(cold[5:9]) + ("", 0.0)
    arc = FB._by_arclength(A, base, nothing, 1e-12, 3000, N_PICARD, 10.0 ** -PH_MAX)
    assert any(polished) and arc[0] == K.OK and arc[2] <= 1e-12
    for k in (5, 6, 7, 8):   # x, y, h, f
        assert arc[k] == pytest.approx(cold[k], rel=1e-9, abs=0)

# survey cases (benchmarks/sx_robustness_survey.py, seeds 2 and 3) that every earlier attempt
# left unsolved: the natural-parameter continuations stop where the steady state moves by
# decades while the parameter moves by 1e-6 (the acid-base equivalence front)
SURVEY_BASE = dict(pH=1.4508012284784666, oa=0.9856268831294199, n=19, m=14,
                   sap=0.5367439231300025, n_sp=12, sulfate=True, kind="mass_action")
SURVEY_LOAD = dict(pH=3.2637244030299044, oa=0.8779432769286886, n=24, m=17,
                   sap=0.5134721483211089, n_sp=12, sulfate=False, kind="mass_action")
SURVEY_ALKALINE = dict(pH=2.404936494635301, oa=1.0302290031189814, n=25, m=20,
                       sap=0.5494444471084363, n_sp=4, sulfate=True, kind="mass_action")


@pytest.mark.parametrize("case", [SURVEY_BASE, SURVEY_LOAD], ids=["base", "loading"])
def test_arclength_solves_what_natural_continuation_cannot(case):
    """12 metals (Fe3+, Al, Zn, Cu, Co among them), 51-54 % saponified D2EHPA: the first
    stalls at 0.99 of its base in the saponification leg and the arclength passes (ln [Na]
    at one stage moves by 36 while the base moves by 1 %); the second fails cold even
    unsaponified and the arclength in the loading solves it. Through the public API: closed
    balances, every stage acidic, and the arclength module's own rows (free extractant as an
    unknown) zero at the answer."""
    from reeproc.sx import _arclength as AL

    cas, kw = cold_start_cascade(**case)
    r = cas.solve(**kw)
    assert r.converged and r.mass_balance_residual < 1e-9 and r.charge_balance_residual < 1e-9
    assert r.pH.max() <= PH_MAX
    asm, A = _kernel_args(cas, kw)
    raw = r._raw
    z, mask = _unknowns(raw["aq_arr"][:, :len(asm["active"])], raw["h"], raw["f"])
    assert np.abs(AL.evaluate(z, mask, A, False)).max() < 1e-10


def test_arclength_refuses_when_the_followed_state_turns_alkaline():
    """The 4-RE sulfate cascade at 54.9 % saponification: the saponification leg ends at 0.916
    of the base on an acidic state (stage pH 4.5); by arclength the state turns alkaline at
    0.917 of the base, so the cascade is refused with the documented error."""
    cas, kw = cold_start_cascade(**SURVEY_ALKALINE)
    with pytest.raises(sx.NoAcidicSteadyStateError, match=r"turns alkaline .* at 0\.91"):
        cas.solve(**kw)


def test_over_saponified_cascade_with_an_acidic_state_converges():
    """The saponified PC88A Pr/Nd cascade of the sweep benchmark at O/A 5.4 and scrub 0.44
    L/h: its organic brings 2.16 eq/h of Na against 1.506 eq/h of acid and 0.6 eq/h of metal
    (diagnosed over-saponified), yet it has an acidic steady state in which the loaded
    organic carries the excess Na to the strip (stage pH up to 5.7). It was refused with
    NoAcidicSteadyStateError until the arclength's start took the traces below the double
    range (Na in the scrub organic, ~1e-600 mol/L at 2 % of the base) as unknowns."""
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4)
    cas = sx.Cascade(model, 30, 30, 6)
    kw = dict(feed=FEED, organic=Stream.organic(5.4, {"PC88A": 1.0}),
              scrub=Stream.aqueous(0.44, {"H+": 3.4, "Cl-": 3.4}),
              strip=Stream.aqueous(1.0, {"H+": 4.0, "Cl-": 4.0}))
    asm = cas._assemble(kw["feed"], kw["organic"], kw["scrub"], kw["strip"])
    assert "eq/h of base" in cas._base_excess_note(asm)
    r = cas.solve(**kw)
    assert r.converged and r.mass_balance_residual < 1e-12 and r.charge_balance_residual < 1e-12
    assert 5.0 < r.pH.max() <= PH_MAX
    raf, lo = r.raffinate.mol_h, r.loaded_organic.mol_h
    base = 0.4 * 5.4
    # the raffinate takes Na up to its chloride; the loaded organic carries the rest
    assert lo["Na"] == pytest.approx(base - raf["Na"], rel=1e-10, abs=0)
    assert raf["Na"] + raf["H+"] + 3 * (raf["Pr"] + raf["Nd"]) == pytest.approx(
        0.61 + 0.44 * 3.4, rel=1e-12, abs=0)
    assert lo["Na"] > 0.05


def test_long_over_saponified_cascade_gets_a_budget_per_stage():
    """A 331-stage (173 + 158) saponified (53 %) D2EHPA cascade of survey seed 4: the pH front
    of its base arclength crosses every stage, which takes 13,600 corrector iterations, more
    than 4 x max_iter (12,000: it stopped at 0.247 of the base and the cascade was refused);
    with a budget per stage it reaches the full base, stage pH up to 5.27."""
    cas, kw = cold_start_cascade(pH=0.789948510407879, oa=5.817444779323053, n=173, m=158,
                                 sap=0.529942824364307, n_sp=2, sulfate=True,
                                 kind="mass_action")
    r = cas.solve(**kw)
    assert r.converged and r.mass_balance_residual < 1e-12 and r.charge_balance_residual < 1e-12
    assert r.pH.max() == pytest.approx(5.2706, abs=1e-3)


def test_trace_fill_recovers_entries_below_the_double_range():
    """The arclength's start: with [H+] and the free extractant of a solved state held, each
    species' balances are linear in its own concentrations; solved by elimination in
    logarithms they give back, to 1e-9 relative, the entries the state is told are absent
    (here every entry below 1e-3 of its species' largest, about half of them)."""
    from reeproc.sx import _arclength as AL
    from reeproc.sx import _kernels as K
    from reeproc.sx.cascade import N_PICARD

    cas, kw = cold_start_cascade(pH=2.0, oa=1.0, n=8, m=4, sap=0.2, n_sp=5, sulfate=True,
                                 kind="mass_action")
    asm, A = _kernel_args(cas, kw)
    out = K.solve_cascade(*A, np.zeros(A[3].shape), 1e-12, 3000, N_PICARD)
    assert out[0] == K.OK
    x, h, f = out[5], out[7], out[8]
    hidden = x < 1e-3 * x.max(axis=0)
    assert 0.2 < hidden.mean() < 0.8
    lx = AL.trace_fill(A, np.where(hidden, 0.0, x), h, f)
    assert np.exp(lx) == pytest.approx(x, rel=1e-9, abs=0)


def test_arclength_leaves_murphree_cascades_alone():
    """A Murphree cascade's organic depends on every earlier stage, which the arclength's
    stage-local rows do not express: it declines (the error then reports the earlier legs)."""
    from reeproc.sx import _arclength as AL

    cas, kw = cold_start_cascade(pH=2.0, oa=1.0, n=4, m=2, sap=0.1, n_sp=3, sulfate=False,
                                 kind="mass_action")
    asm, A = _kernel_args(cas, kw)
    A = A[:15] + (np.full(A[15].shape, 0.8),) + A[16:]
    x = np.ones(A[3].shape)
    out = AL.follow(lambda t: A, x, np.ones(len(x)), np.full(len(x), 0.5), 0.5)
    assert not out.reached and out.why == "murphree" and out.lam == 0.5 and out.iterations == 0
