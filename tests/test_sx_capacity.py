"""A correlation without a loading limit: the free extractant's largest root, and the organic
flow below which such a model has no steady state (``reeproc.sx._capacity``).

The DEHPA pH correlation (PrOMMiS/UKy coefficients) used with the local free dosage gives La
and Pr a D independent of the dosage (B1 = 0) and Ce and Nd a D rising as it falls
(B1 < 0): a stage's extractant balance F(f) = f + sum c_i(f) - fT can have two roots or none.
The cold-start survey (seed 7, case 184; seeds 12-16 of the pH kind) found such cascades,
sulfate feeds without scrub at O/A 0.06-0.41, failing with a bare ConvergenceError.
"""
import numpy as np
import pytest
from numba import njit
from scipy.optimize import brentq

from reeproc import sx
from reeproc.sx._capacity import margins
from reeproc.sx._equilibrium import free_extractant
from reeproc.sx.batch import solve_batch, solve_many
from test_sx_robustness import cold_start_cascade

# benchmarks/sx_robustness_survey.py --seed 7: La + Ce, 0.1 M RE sulfate feed, 5 vol% DEHPA
CASE = dict(pH=2.4731034262673526, oa=0.06019845739103804, n=27, m=0, sap=0.26, n_sp=2,
            sulfate=True, kind="ph")


@njit(cache=False)
def _free(c, kf, kfh, w, fT, guess):
    return free_extractant(c, kf, kfh, w, fT, guess)


def test_free_extractant_finds_the_largest_of_two_close_roots():
    """F(f) = f + 0.69 + c f^-1/2 - 1 with its least value -0.01 at f = 0.1: the two roots lie
    within a factor 1.3 of each other, narrower than the bracketing search's step from the
    total extractant (which stepped over them and returned 'no root' until 2026-12-03)."""
    fT, fstar = 1.0, 0.1
    cB = 2.0 * fstar ** 1.5
    c = np.array([0.69, cB])
    kf = np.array([0.0, -0.5])
    kfh = np.zeros(2)

    def F(f):
        return f + c[0] + cB / np.sqrt(f) - fT

    assert F(fstar) == pytest.approx(-0.01, rel=1e-12)
    exact = brentq(F, fstar, fT, xtol=1e-16, rtol=1e-15)
    for guess in (fT, 0.9, 0.5, 1e-3):
        f = _free(c, kf, kfh, 0.0, fT, guess)
        assert f == pytest.approx(exact, rel=1e-12, abs=0)
    # raised by 0.02, F has no root: the least-violating f is F's minimum
    c[0] = 0.71
    assert _free(c, kf, kfh, 0.0, fT, fT) == pytest.approx(fstar, rel=1e-6, abs=0)


def _state(cas, kw, r):
    a = cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"), None)["arrays"]
    S = len(r._raw["active"])
    return a, r._raw["aq_arr"][:, :S], r._raw["h"], r._raw["f"]


def test_correlation_without_loading_limit_is_refused_below_its_organic_flow():
    """The survey's case: refused by name with the organic flow where the steady state ends;
    above it the cascade solves cold, every stage's free extractant on the largest root of its
    balance, the organic-exit stage's least F closing in on 0 as the flow falls to the limit;
    below it refused again."""
    cas, kw = cold_start_cascade(**CASE)
    with pytest.raises(sx.ExtractantCapacityError, match="loses its root") as err:
        cas.solve(**kw)
    o_min = err.value.organic_flow_min
    assert 5.0 * CASE["oa"] < o_min < 6.5 * CASE["oa"]   # 0.3405 L/h measured (5.66x)
    assert f"{o_min:.4g} L/h" in str(err.value)
    last = -np.inf
    for share in (2.0, 1.2, 1.05, 1.01):
        cas, kw = cold_start_cascade(**dict(CASE, oa=share * o_min))
        r = cas.solve(**kw)
        assert r.converged and r.mass_balance_residual < 1e-10
        a, x, h, f = _state(cas, kw, r)
        least, _ = margins(x, h, a["k0"], a["kf"], a["kh"], a["kfh"], a["sc"], a["fT"])
        assert np.argmax(least) == CASE["n"] - 1      # the stage the organic leaves
        assert last < least.max() < 0.0
        last = least.max()
        for j in range(CASE["n"]):   # F > 0 everywhere above the converged f: the largest root
            fs = np.linspace(f[j], a["fT"], 400)[1:]
            lnd = (np.log(10.0) * a["k0"][j][:, None] - a["kh"][:, None] * np.log(h[j])
                   + a["kf"][:, None] * np.log(fs) - a["kfh"][:, None] * fs * np.log(h[j]))
            F = fs + (a["sc"][:, None] * x[j][:, None] * np.exp(lnd)).sum(axis=0) - a["fT"]
            assert np.all(F > 0.0)
    assert last > -1e-3
    cas, kw = cold_start_cascade(**dict(CASE, oa=0.97 * o_min))
    with pytest.raises(sx.ExtractantCapacityError):
        cas.solve(**kw)


def test_warm_start_from_its_own_answer_near_the_double_root():
    """A correlation cascade whose last stage lies near its balance's double root (survey seed
    16): re-solved from its own answer in a few iterations (the bracketing search had stepped
    over the two roots and left the warm start stalled at a residual of 6e-2)."""
    case = dict(pH=3.2626, oa=2.0 * 0.2038, n=30, m=0, sap=0.216, n_sp=4, sulfate=True,
                kind="ph")
    cas, kw = cold_start_cascade(**case)
    r = cas.solve(**kw)
    again = cas.solve(**kw, initial_guess=r)
    assert again.converged and again.iterations <= 4
    assert again.aqueous_profile.to_numpy() == pytest.approx(r.aqueous_profile.to_numpy(),
                                                             rel=1e-9, abs=0)


def test_batches_refuse_the_same_cascade():
    cas, kw = cold_start_cascade(**CASE)
    with pytest.raises(sx.ExtractantCapacityError, match="batch item 0"):
        solve_batch([(cas, kw)])
    item = solve_many([(cas, kw)])[0]
    assert not item.converged and "loses its root" in item.failure_note
