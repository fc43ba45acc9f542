"""Warm start of the SX solver from a previous CascadeResult (issue 11): a neighbouring
solution as the start cuts the iterations and changes the answer by no more than the solver
tolerance (relative, abs=0); a result of another shape is refused by name."""
import numpy as np
import pytest

from reeproc import Stream, sx


def _readme_case(feed_flow=1.0):
    """The README's saponified PC88A Pr/Nd cascade (near balance: hundreds of iterations cold)."""
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.1)
    cas = sx.Cascade(model, extraction=30, scrub=30, strip=6)
    kw = dict(feed=Stream.aqueous(feed_flow, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61}),
              organic=Stream.organic(3.0, {"PC88A": 1.0}),
              scrub=Stream.aqueous(0.3, {"H+": 1.5, "Cl-": 1.5}),
              strip=Stream.aqueous(0.5, {"H+": 4.0, "Cl-": 4.0}))
    return cas, kw


def _profiles(res):
    sp = ["Pr", "Nd"]
    return np.concatenate([res.aqueous_profile[sp].to_numpy().ravel(),
                           res.organic_profile[sp].to_numpy().ravel(),
                           res.aqueous_profile["H+"].to_numpy()])


def test_warm_start_from_result_matches_cold_with_far_fewer_iterations():
    cas, kw = _readme_case(1.0)
    prev = cas.solve(**kw)
    cas2, kw2 = _readme_case(1.01)   # feed flow +1 %
    cold = cas2.solve(**kw2)
    warm = cas2.solve(**kw2, initial_guess=prev)
    assert warm.converged and cold.converged
    assert warm.iterations <= 10 and warm.iterations * 10 <= cold.iterations
    assert _profiles(warm) == pytest.approx(_profiles(cold), rel=1e-10, abs=0)


def test_warm_start_from_own_result_takes_a_few_iterations():
    cas, kw = _readme_case(1.0)
    prev = cas.solve(**kw)
    again = cas.solve(**kw, initial_guess=prev)
    assert again.iterations <= 3
    assert _profiles(again) == pytest.approx(_profiles(prev), rel=1e-10, abs=0)


def test_warm_start_from_a_result_of_another_shape_is_refused():
    cas, kw = _readme_case(1.0)
    prev = cas.solve(**kw)
    other = sx.Cascade(cas.model, extraction=29, scrub=30, strip=6)
    with pytest.raises(ValueError, match="66 stages.*cannot start this cascade \\(65 stages"):
        other.solve(**kw, initial_guess=prev)
    with pytest.raises(ValueError, match="initial_guess"):
        cas.solve(**kw, initial_guess=np.ones((3, 2)))


def test_cold_start_iterations_do_not_jump_with_rounding_perturbations():
    """Issue 11: the README's saponified PC88A Pr/Nd cascade (44 + 45 stages, 40 % saponified,
    near its balance point) once took anywhere from 162 to 4,374 iterations when its feed flow
    changed by 1e-15 relative. From a cold start the count now stays within 10 % over such
    perturbations, and the answers agree to the solver tolerance."""
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4)
    cas = sx.Cascade(model, extraction=44, scrub=45)
    organic = Stream.organic(5.0, {"PC88A": 1.0})
    scrub = Stream.aqueous(0.4592, {"H+": 3.4, "Cl-": 3.4})
    runs = []
    for k in range(4):
        feed = Stream.aqueous(1.0 + k * 1e-15, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01,
                                                 "Cl-": 0.61})
        runs.append(cas.solve(feed=feed, organic=organic, scrub=scrub))
    its = [r.iterations for r in runs]
    assert all(r.converged for r in runs) and max(its) <= 1.1 * min(its)
    ref = runs[0].purity("Nd", "loaded_organic")
    for r in runs[1:]:
        assert r.purity("Nd", "loaded_organic") == pytest.approx(ref, rel=1e-9, abs=0)
