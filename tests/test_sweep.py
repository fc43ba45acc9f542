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


# ---------------------------------------------------------------- reference flowsheet acceptance
ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "flowsheets" / "ndfeb_long_loop.py"


def test_reference_sweep_processes_and_dask_agree():
    """2-parameter, 20-case sweep of the reference flowsheet on 2 worker processes and on a
    2-worker Dask LocalCluster (loopback): identical results; a case with an out-of-range
    parameter fails with its error text, is kept, and does not stop the sweep. (The 100-case
    version took 350 s of the CI's 2 cores; 20 cases cover the same corners of the grid.)"""
    pytest.importorskip("dask.distributed")
    import numpy as np

    cases = grid_cases({"oxalate_dose": list(np.round(np.linspace(1.0, 2.0, 5), 6)),
                        "fe_removal_pH": list(np.round(np.linspace(2.6, 4.4, 4), 6))})
    cases[7] = {"oxalate_dose": 2.5, "fe_removal_pH": 3.0}  # outside [1, 2]: forced failure
    a = sweep(REF, cases=cases, workers=2, executor="processes", progress=False)
    b = sweep(REF, cases=cases, workers=2, executor="dask", progress=False)
    assert len(a) == len(b) == 20
    cols = [c for c in a.columns if c not in ("solve time [s]", "traceback tail")]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert not a.loc[7, "converged"]
    assert "in [1, 2], got 2.5" in a.loc[7, "error"] and "oxalate_dose" in a.loc[7, "error"]
    others = a.drop(index=7)
    assert others["converged"].all() and (others["error"] == "").all()
    assert others["purity Nd2O3 [-]"].notna().all()  # the four-product reference plant


# ---------------------------------------------------------------- plots and CLI
def _map_table():
    import numpy as np

    rows = []
    for x in np.linspace(0, 1, 6):
        for y in np.linspace(0, 1, 5):
            rows.append({"x": x, "y": y, "converged": not (x == 1 and y == 1),
                         "purity P [-]": 0.99 + 0.01 * x * y, "cost [USD/kg oxide]": 1 + x + y,
                         "recovery Nd [-]": 0.8 + 0.1 * x + 0.05 * y})
    df = pd.DataFrame(rows)
    df["all products meet 99.5 %"] = df["purity P [-]"] >= 0.995
    return df


def test_plot_map_and_pareto():
    import matplotlib

    matplotlib.use("Agg")
    from reeproc.flowsheet.plots.maps import plot_map, plot_pareto
    from reeproc.sweep import pareto_front

    df = _map_table()
    fig = plot_map(df, "x", "y", "purity P [-]")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x" and "99.5" in ax.get_title()
    assert len(ax.collections) >= 2  # mesh + the 99.5 % contour
    with pytest.raises(ValueError, match="not in the sweep table"):
        plot_map(df, "x", "nope", "purity P [-]")
    front = pareto_front(df, "cost [USD/kg oxide]", "recovery Nd [-]",
                         feasible="all products meet 99.5 %")
    assert front["all products meet 99.5 %"].all()
    assert front["cost [USD/kg oxide]"].is_monotonic_increasing
    assert front["recovery Nd [-]"].is_monotonic_increasing
    # no feasible case dominates a front point (lower-or-equal cost and higher recovery)
    feas = df[df["all products meet 99.5 %"]]
    for _, p in front.iterrows():
        dom = feas[(feas["cost [USD/kg oxide]"] <= p["cost [USD/kg oxide]"])
                   & (feas["recovery Nd [-]"] > p["recovery Nd [-]"])]
        assert dom.empty
    fig2 = plot_pareto(df, "cost [USD/kg oxide]", "recovery Nd [-]",
                       feasible="all products meet 99.5 %")
    assert fig2.axes[0].get_legend() is not None


def test_cli_sweep_out_and_plot(tmp_path, capsys):
    from reeproc.cli import main

    out = tmp_path / "s.csv"
    rc = main(["sweep", str(TOY), "--param", "recycle_fraction=0:0.8:0.4",
               "--param", "feed_L_h=1,5", "--executor", "serial", "--quiet",
               "--out", str(out), "--plot", str(tmp_path / "plots")])
    assert rc == 0
    df = pd.read_csv(out)
    assert len(df) == 6 and "error" in df.columns
    pngs = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert any(p.startswith("map_purity") for p in pngs)
    assert capsys.readouterr().out.count("wrote") >= 2
    assert main(["params", str(TOY)]) == 0
    assert "recycle_fraction" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_swallowed_by_a_destructor_still_stops_the_sweep(monkeypatch, tmp_path):
    """CPython drops a KeyboardInterrupt raised inside a destructor ("Exception ignored in");
    the sweep still stops after the case in which Ctrl-C came, keeping the cases done."""
    import os
    import signal

    import reeproc.sweep as sw

    class SendsCtrlC:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):   # the interrupt is raised here, inside __del__, and dropped
                pass

    calls = []
    real = sw.run_case

    def run_case(script, params, specs=True):
        calls.append(params)
        if len(calls) == 2:
            SendsCtrlC()   # created and destroyed at once
        return real(script, params, specs)

    monkeypatch.setattr(sw, "run_case", run_case)
    out = tmp_path / "s.csv"
    # Ctrl-C's Python handler, also when this suite runs as a background job (SIGINT ignored)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(sw.SweepInterrupted) as err:
            sweep(TOY, {"recycle_fraction": [0.1, 0.2, 0.3, 0.4, 0.5]}, executor="serial",
                  out=out, progress=False)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # restored
    finally:
        signal.signal(signal.SIGINT, before)
    assert len(calls) == 2 and len(err.value.results) == 2
    assert len(pd.read_csv(out, index_col="case")) == 2


def test_sx_pipeline_posts_every_chunk_once_and_both_threads_solve(monkeypatch):
    """The pipeline of ``sx_sweep`` on 2+ cores: every chunk prepared (in order), solved and
    posted exactly once, by two threads that each carry chunks through all three steps; the
    Python steps never overlap; each thread's kernels on half the numba threads (this thread
    the odd one over) where the threading layer takes kernels from two threads at once, and
    under workqueue one kernel at a time on nth - 1; an error in either thread reaches the
    caller and the worker thread stops."""
    import threading

    import reeproc._sx_sweep as sw

    calls = {"prep": [], "post": [], "solve": []}
    inside = []   # Python steps running now

    def python_step(kind, q):
        inside.append(q)
        assert len(inside) == 1, f"{kind} of chunk {q} overlaps {inside[:-1]}"
        threading.Event().wait(0.002)   # (a 2 ms Python step, long enough to overlap)
        calls[kind].append(q)
        inside.pop()

    def prep(q):
        python_step("prep", q)
        return q

    running = []   # kernels running now

    def solve(packed, threads):
        running.append(packed)
        calls["solve"].append((packed, threads, threading.current_thread().name,
                               len(running)))
        threading.Event().wait(0.01)   # a kernel of 10 ms
        running.remove(packed)
        return -packed

    def post(q, batch):
        assert batch == -q
        python_step("post", q)

    before = threading.active_count()
    main = threading.main_thread().name
    for layer_ok, nth in ((True, 2), (True, 3), (False, 2), (False, 3)):
        monkeypatch.setattr(sw, "_threadsafe_layer", lambda: layer_ok)
        for v in calls.values():
            v.clear()
        sw._pipeline(12, prep, solve, post, nth)
        assert calls["prep"] == list(range(12)) and sorted(calls["post"]) == list(range(12))
        assert sorted(c[0] for c in calls["solve"]) == list(range(12))
        assert {c[2] for c in calls["solve"]} == {"reeproc-sx-sweep", main}
        if layer_ok:
            assert all(c[1] == (nth - nth // 2 if c[2] == main else nth // 2)
                       for c in calls["solve"])
            assert max(c[3] for c in calls["solve"]) == 2   # (two kernels at once)
        else:
            assert all(c[1] == nth - 1 and c[3] == 1 for c in calls["solve"])
        assert threading.active_count() == before

    def failing(packed, threads):
        if packed == 3:
            raise FloatingPointError("chunk 3")
        return -packed

    posted = []
    with pytest.raises(FloatingPointError, match="chunk 3"):
        sw._pipeline(8, prep, failing, lambda q, b: posted.append(q), 2)
    assert 3 not in posted and len(posted) < 8
    assert threading.active_count() == before


def test_sx_frame_columns_keep_the_dtypes_pandas_infers_from_lists():
    """A chunk's columns go to pandas as numpy arrays where numpy's dtype is pandas' own
    (float, int, bool) and as lists otherwise: mixed, strings, None, huge ints."""
    import numpy as np

    from reeproc._sx_sweep import _column

    for values in ([1.5, 2.0], [1, 2], [True, False], [1, 2.5], [np.float64(1.0), 2.0],
                   [1, True], [1.0, None], ["a", "b"], [2 ** 63, 1], [1.0, np.int64(2)], []):
        got = pd.DataFrame({"c": _column(list(values))})["c"]
        want = pd.DataFrame({"c": list(values)})["c"]
        pd.testing.assert_series_equal(got, want, check_exact=True)


def test_sx_chunks_taper_at_both_ends_of_the_pipeline_only():
    from reeproc._sx_sweep import _chunk_sizes

    assert _chunk_sizes(10_000, 1024, False) == [1024] * 9 + [784]
    got = _chunk_sizes(10_000, 1024, True)
    assert sum(got) == 10_000 and got[0] == 256 and got[-2:] == [512, 256]
    assert all(c == 1024 for c in got[1:-3]) and 0 < got[-3] <= 1024
    assert _chunk_sizes(2048, 1024, True) == [1024, 1024]       # (too few to taper)
    assert sum(_chunk_sizes(2049, 1024, True)) == 2049 and min(_chunk_sizes(2049, 1024, True)) == 1
    assert _chunk_sizes(0, 1024, True) == []
    for n in range(0, 60):   # every chunk holds a case, whatever the sizes
        for chunk in (1, 2, 3, 4, 5, 7, 8):
            got = _chunk_sizes(n, chunk, True)
            assert sum(got) == n and all(0 < c <= chunk for c in got)
