"""Sweeps: grid and LHS cases, failure recording, process and Dask executors agree."""
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from reeproc.species import molar_mass
from reeproc.sweep import grid_cases, lhs_cases, parse_param_spec, sweep

TOY = Path(__file__).parent / "data" / "toy_flowsheet.py"


def test_parse_specs():
    assert parse_param_spec("a=1:2:0.5") == {"a": [1.0, 1.5, 2.0]}
    assert parse_param_spec("b=3,5,9") == {"b": [3.0, 5.0, 9.0]}
    with pytest.raises(ValueError, match="must look like"):
        parse_param_spec("nonsense")
    with pytest.raises(ValueError, match="step"):
        parse_param_spec("a=1:2:-1")


def test_grid_and_lhs():
    cases = grid_cases({"a": [1, 2], "b": [3, 4, 5]})
    assert len(cases) == 6 and cases[0] == {"a": 1, "b": 3}
    s = lhs_cases({"x": (0, 1), "n": (2, 10)}, 20, seed=1, integer={"n"})
    assert len(s) == 20
    xs = sorted(c["x"] for c in s)
    # Latin hypercube: exactly one sample in each of the 20 strata
    assert [int(x * 20) for x in xs] == list(range(20))
    assert all(isinstance(c["n"], int) and 2 <= c["n"] <= 10 for c in s)


def test_serial_sweep_records_failures_without_stopping():
    df = sweep(TOY, {"recycle_fraction": [0.2, 0.5], "fail": [0, 1]}, executor="serial")
    assert len(df) == 4
    failed = df[df["fail"] == 1]
    assert not failed["converged"].any()
    assert failed["error"].str.contains("forced failure").all()
    ok = df[df["fail"] == 0]
    assert ok["converged"].all()
    # at steady state everything fed leaves as product: 1 mol/h Nd, 0.01 mol/h Fe as oxides
    expected = (0.5 * molar_mass("Nd2O3") + 0.005 * molar_mass("Fe2O3")) / 1000
    assert_allclose(ok["mass Nd product [kg/h]"], expected, rtol=1e-9)


def test_unknown_parameter():
    with pytest.raises(ValueError, match="unknown parameter"):
        sweep(TOY, {"stages": [1, 2]}, executor="serial")


def test_processes_and_dask_agree():
    pytest.importorskip("dask.distributed")
    grid = {"recycle_fraction": [0.0, 0.3, 0.6, 0.9], "feed_L_h": [1.0, 5.0], "fail": [0, 1]}
    a = sweep(TOY, grid, workers=2, executor="processes", progress=False)
    b = sweep(TOY, grid, workers=2, executor="dask", progress=False)
    cols = [c for c in a.columns if c not in ("solve time [s]", "traceback tail")]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert (a["error"] != "").sum() == 8
