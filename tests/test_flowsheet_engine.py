"""Flowsheet engine: ordering, tear selection, recycle convergence, audit, errors."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from reeproc import Stream
from reeproc.flowsheet import (Flowsheet, FlowsheetError, Mixer, RecycleConvergenceError, Splitter,
                               solve_fixed_point)


def loop(recycle_fraction, guess=None):
    fs = Flowsheet("loop")
    fs.add_feed("fresh", Stream.aqueous(10.0, {"Nd": 0.1, "Fe+3": 0.01, "Cl-": 0.33}))
    fs.add_unit("mix", Mixer(2), inlets={"in1": "fresh", "in2": "recycle"}, outlets={"out": "mixed"})
    fs.add_unit("split", Splitter({"recycle": recycle_fraction}), inlets={"feed": "mixed"},
                outlets={"recycle": "recycle", "rest": "product"})
    fs.set_tear_guess("recycle", guess or Stream.aqueous(1.0, {"Nd": 0.0}))
    return fs


@pytest.mark.parametrize("method", ["wegstein", "anderson", "direct"])
def test_recycle_converges_to_analytic_steady_state(method):
    r = 0.8
    res = loop(r).solve(method=method, tol=1e-12, maxiter=500)
    assert res.converged
    # steady state of a recycle loop: recycle = r/(1-r) * fresh
    assert_allclose(res.streams["recycle"].mol_h["Nd"], r / (1 - r) * 1.0, rtol=1e-9)
    assert_allclose(res.streams["product"].mol_h["Nd"], 1.0, rtol=1e-10)
    assert res.tears == ["recycle"]
    assert res.max_balance_error < 1e-10
    # the audit closes every element, including ones absent from the tear guess
    assert set(res.audit().index) >= {"Nd", "Fe", "Cl"}


def test_acceleration_beats_direct_substitution():
    its = {m: loop(0.95).solve(method=m, tol=1e-10, maxiter=2000).iterations
           for m in ("direct", "wegstein", "anderson")}
    assert its["wegstein"] < its["direct"] / 5
    assert its["anderson"] < its["direct"] / 5


def test_non_converging_recycle_raises_with_history():
    with pytest.raises(RecycleConvergenceError, match="did not converge with direct in 15") as ei:
        loop(1.0).solve(method="direct", maxiter=15)
    assert len(ei.value.history) == 15
    assert "recycle:" in ei.value.worst
    res = loop(1.0).solve(method="direct", maxiter=15, raise_on_failure=False)
    assert not res.converged


def test_wiring_errors():
    fs = Flowsheet()
    fs.add_feed("a", Stream.aqueous(1, {"Nd": 0.1}))
    with pytest.raises(FlowsheetError, match="already has a source"):
        fs.add_feed("a", Stream.aqueous(1, {"Nd": 0.1}))
    with pytest.raises(FlowsheetError, match="unknown inlet port"):
        fs.add_unit("m", Mixer(2), inlets={"in9": "a"}, outlets={"out": "b"})
    with pytest.raises(FlowsheetError, match="not named"):
        fs.add_unit("s", Splitter({"x": 0.5}), inlets={"feed": "a"}, outlets={"x": "b"})
    fs.add_unit("m", Mixer(1), inlets={"in1": "ghost"}, outlets={"out": "b"})
    with pytest.raises(FlowsheetError, match="'ghost', which no feed or unit produces"):
        fs.solve()


def test_missing_tear_guess_is_named():
    fs = loop(0.5)
    fs._guesses.clear()
    with pytest.raises(FlowsheetError, match="stream '(mixed|recycle)' closes a recycle"):
        fs.solve()


def test_splitter_validation():
    with pytest.raises(ValueError, match="must lie in \\[0, 1\\]"):
        Splitter({"a": 1.5})
    with pytest.raises(ValueError, match="sum to"):
        Splitter({"a": 0.6, "b": 0.6})


def test_fixed_point_scalar_wegstein():
    # x = cos(x): 0.7390851332151607
    res = solve_fixed_point(lambda x: np.cos(x), np.array([1.0]), method="wegstein", tol=1e-13,
                            nonnegative=False)
    assert_allclose(res.x[0], 0.7390851332151607, rtol=1e-12)
    with pytest.raises(ValueError, match="method must be one of"):
        solve_fixed_point(np.cos, [1.0], method="newton")


def test_export_and_report(tmp_path):
    res = loop(0.5).solve()
    paths = res.export(tmp_path)
    names = {p.name for p in paths}
    assert {"streams.csv", "element_balance.csv", "flowsheet.png", "element_distribution.png",
            "report.txt"} <= names
    assert "status: SOLVED" in res.report() and "charge balance" in res.report()
