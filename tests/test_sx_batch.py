"""Fast SX batch path (reeproc.sx.batch): arrays equal Cascade._assemble, results equal
solve_batch; sx_sweep keeps failed cases."""
import numpy as np
import pytest

from reeproc import Stream, sx
from reeproc.sweep import grid_cases, sx_sweep
from reeproc.sx import solve_batch
from reeproc.sx.batch import assemble_many, solve_many


def _jobs(model, strip, organic_conc, scrub_conc):
    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61})
    jobs = []
    for c in grid_cases({"n": [6, 9], "m": [5, 8], "oa": [1.0, 2.5], "s": [0.2, 0.6]}):
        n, m, oa, s = c["n"], c["m"], c["oa"], c["s"]
        cas = sx.Cascade(model, extraction=n, scrub=m, strip=strip)
        kw = dict(feed=feed, organic=Stream.organic(oa, organic_conc),
                  scrub=Stream.aqueous(s, scrub_conc))
        if strip:
            kw["strip"] = Stream.aqueous(0.5, {"H+": 4.0, "Cl-": 4.0})
        jobs.append((cas, kw))
    return jobs


@pytest.mark.parametrize("kind", ["constant", "mass_action"])
def test_fast_assembly_and_results_match_solve_batch(kind):
    if kind == "constant":
        jobs = _jobs(sx.ConstantD({"Pr": 1.0, "Nd": 1.5}), 0, {}, {"Cl-": 0.1, "Na": 0.1})
    else:
        model = sx.MassAction("PC88A", concentration_mol_L=1.0, species=["Pr", "Nd"],
                              saponification=0.2, chloride_complexation=True)
        jobs = _jobs(model, 3, {"PC88A": 1.0}, {"H+": 1.5, "Cl-": 1.5})
    fast_arrays = assemble_many(jobs)
    for (cas, kw), fa in zip(jobs, fast_arrays):
        ref = cas._assemble(kw["feed"], kw["organic"], kw.get("scrub"), kw.get("strip"))["arrays"]
        for key, v in ref.items():
            np.testing.assert_allclose(np.asarray(fa["arrays"][key], float),
                                       np.asarray(v, float), rtol=1e-13, atol=0, err_msg=key)
    ref = solve_batch(jobs, raise_on_failure=False)
    fast = solve_many(jobs, warm_start=False)   # cold starts, as solve_batch: the same path
    warm = solve_many(jobs)                     # chained warm starts: the same answers
    for r, f, w in zip(ref, fast, warm):
        assert r.converged == f.converged == w.converged and r.iterations == f.iterations
        if not r.converged:
            continue
        for o in r.outlets:
            for sp in ("Pr", "Nd"):
                assert f.recovery(sp, o) == pytest.approx(r.recovery(sp, o), rel=1e-12, abs=1e-15)
                assert f.purity(sp, o) == pytest.approx(r.purity(sp, o), rel=1e-12, abs=1e-15)
                assert w.recovery(sp, o) == pytest.approx(r.recovery(sp, o), rel=1e-9, abs=0)
                assert w.purity(sp, o) == pytest.approx(r.purity(sp, o), rel=1e-9, abs=0)
    full = fast[0].full()
    assert full.purity("Pr", "raffinate") == pytest.approx(fast[0].purity("Pr", "raffinate"))


_CONSTANT_D = sx.ConstantD({"Pr": 1.0, "Nd": 1.5})


def _constant_d_job(c):
    """(cascade, solve keywords) of a constant-D Pr/Nd case {"n": extraction stages, "OA":
    organic flow [L/h]} with 10 scrub stages, for the sweep tests (one model for all)."""
    return (sx.Cascade(_CONSTANT_D, extraction=c["n"], scrub=10),
            dict(feed=Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "Cl-": 0.6}),
                 organic=Stream.organic(c["OA"], {}),
                 scrub=Stream.aqueous(3.0, {"Cl-": 0.1, "Na": 0.1})))


def test_sx_sweep_rows_and_failures():
    make_job = _constant_d_job

    def evaluate(c, r):
        if c["OA"] > 3.5:
            raise RuntimeError("evaluation failure")
        return {"Pr purity": r.purity("Pr", "raffinate")}

    cases = grid_cases({"n": [8, 12], "OA": [2.5, 3.0, 4.0]})
    df = sx_sweep(make_job, cases, evaluate, threads=1, chunk=4)
    assert len(df) == 6 and df["converged"].all()
    bad = df["OA"] > 3.5
    assert df.loc[bad, "error"].str.contains("evaluation failure").all()
    assert (df.loc[~bad, "error"] == "").all() and df.loc[~bad, "Pr purity"].between(0, 1).all()
    # more extraction stages give a purer raffinate at equal flows
    p = df[~bad].set_index(["n", "OA"])["Pr purity"]
    assert p[(12, 3.0)] > p[(8, 3.0)]


def test_sx_sweep_pauses_the_garbage_collector_and_restores_it():
    """The cyclic garbage collector is off during the sweep and as before after it, also
    when ``make_job`` raises (on one and on two threads)."""
    import gc

    seen = []

    def evaluate(c, r):
        seen.append(gc.isenabled())
        return {"Pr purity": r.purity("Pr", "raffinate")}

    def failing_job(c):
        if c["OA"] > 3.5:
            raise RuntimeError("no job")
        return _constant_d_job(c)

    cases = grid_cases({"n": [8, 12], "OA": [2.5, 3.0, 4.0]})
    assert gc.isenabled()
    for threads in (1, min(2, _max_threads())):
        seen.clear()
        sx_sweep(_constant_d_job, cases, evaluate, threads=threads, chunk=2)
        assert seen == [False] * 6 and gc.isenabled()
        with pytest.raises(RuntimeError, match="no job"):
            sx_sweep(failing_job, cases, evaluate, threads=threads, chunk=2)
        assert gc.isenabled()
    gc.disable()
    try:
        sx_sweep(_constant_d_job, cases, evaluate, threads=1, chunk=2)
        assert not gc.isenabled()   # (left as the caller had it)
    finally:
        gc.enable()


def test_sx_sweep_frame_equals_the_row_by_row_frame():
    """A chunk's frame is built column by column when every case and every evaluation has the
    keys of the first, row by row otherwise: both give the frame of one dict per case (case,
    converged, iterations, error, figures; a figure named like a case key replaces it; a
    failed evaluation leaves NaN)."""
    import pandas as pd

    make_job = _constant_d_job

    def uniform(c, r):
        if c["OA"] > 3.5:
            raise RuntimeError("evaluation failure")
        return {"OA": 2.0 * c["OA"], "Pr purity": r.purity("Pr", "raffinate")}

    def ragged(c, r):
        out = {"Pr purity": r.purity("Pr", "raffinate")}
        if c["n"] > 10:
            out["Nd recovery"] = r.recovery("Nd", "loaded_organic")
        return out

    cases = grid_cases({"n": [8, 12], "OA": [2.5, 3.0, 4.0]})
    items = solve_many([make_job(c) for c in cases])
    for evaluate in (uniform, ragged):
        rows = []
        for c, r in zip(cases, items):
            row = dict(c, converged=True, iterations=r.iterations, error="")
            try:
                row.update(evaluate(c, r))
            except RuntimeError as exc:
                row["error"] = f"RuntimeError: {exc}"
            rows.append(row)
        want = pd.DataFrame(rows)
        want.index.name = "case"
        got = sx_sweep(make_job, cases, evaluate, threads=1, chunk=4)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["Nd recovery"].isna().tolist() == [True] * 3 + [False] * 3


def test_warm_started_batch_matches_cold_and_needs_fewer_iterations():
    """A sweep along the scrub flow of a saponified PC88A Pr/Nd cascade near its balance
    point: chained warm starts give the cold-start answers with a fraction of the work."""
    import numpy as np

    from reeproc import Stream, sx
    from reeproc.sx.batch import solve_many

    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61})
    cas = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4), 30, 30)
    org = Stream.organic(5.0, {"PC88A": 1.0})
    jobs = [(cas, dict(feed=feed, organic=org, scrub=Stream.aqueous(Sc, {"H+": 3.4, "Cl-": 3.4})))
            for Sc in np.linspace(0.46, 0.56, 24)]
    warm = solve_many(jobs, warm_start=True, chunksize=12)
    cold = solve_many(jobs, warm_start=False)
    assert all(w.converged for w in warm) and all(c.converged for c in cold)
    for w, c in zip(warm, cold):
        assert np.allclose(w.x, c.x, rtol=1e-8, atol=1e-12 * c.x.max())
        assert abs(w.purity("Pr", "raffinate") - c.purity("Pr", "raffinate")) < 1e-9
    assert sum(w.iterations for w in warm) < 0.5 * sum(c.iterations for c in cold)


def test_warm_start_skips_a_failed_neighbour():
    """A case without a steady state in the middle of a run: the case after it starts from
    the last converged one (a few Newton steps), not cold (hundreds)."""
    from reeproc import Stream, sx
    from reeproc.sx.batch import solve_many

    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61})
    cas = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4), 30, 30,
                     6)
    # (the third: 90 % saponified, its steady state alkaline, pH 11 at stage 28)
    over = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.9), 30,
                      30, 6)
    strip = Stream.aqueous(1.0, {"H+": 4.0, "Cl-": 4.0})
    jobs = [(c, dict(feed=feed, organic=Stream.organic(O, {"PC88A": 1.0}),
                     scrub=Stream.aqueous(0.5, {"H+": 3.4, "Cl-": 3.4}), strip=strip))
            for c, O in [(cas, 5.2), (cas, 5.21), (over, 5.2), (cas, 5.22)]]
    out = solve_many(jobs, chunksize=4)
    assert [r.converged for r in out] == [True, True, False, True]
    cold = solve_many(jobs[3:])[0]
    assert out[3].iterations <= 20 < cold.iterations
    assert np.allclose(out[3].x, cold.x, rtol=1e-8, atol=0)


def test_linear_fast_path_equals_single_solves_at_every_stage():
    """Constant-D batch (the direct tridiagonal kernel, vectorised assembly, array results):
    every stage and species equals Cascade.solve to 1e-12 relative, and so do recoveries and
    purities through sx_sweep (several shapes, a strip section, inert tracers, one feed
    reused and per-case streams)."""
    model = sx.ConstantD({"Pr": 1.0, "Nd": 1.5, "La": 0.3})
    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "La": 1e-6, "Cl-": 0.6})
    strip = Stream.aqueous(0.7, {"Cl-": 1.0, "H+": 1.0})
    cases = grid_cases({"n": [5, 9], "m": [0, 4], "k": [0, 3], "OA": [0.8, 2.5, 4.0],
                        "Sc": [0.3, 1.7]})

    def make_job(c):
        cas = sx.Cascade(model, extraction=c["n"], scrub=c["m"], strip=c["k"])
        kw = dict(feed=feed, organic=Stream.organic(c["OA"], {"Nd": 1e-4}))
        if c["m"]:
            kw["scrub"] = Stream.aqueous(c["Sc"], {"Cl-": 0.1, "Na": 0.1})
        if c["k"]:
            kw["strip"] = strip
        return cas, kw

    jobs = [make_job(c) for c in cases]
    fast = solve_many(jobs, tol=1e-12)
    assert fast[0].batch.packed.linear
    singles = [cas.solve(**kw, tol=1e-12) for cas, kw in jobs]
    for f, r in zip(fast, singles):
        assert f.converged and r.converged and f.iterations == r.iterations == 1
        raw = r._raw
        np.testing.assert_allclose(f.x, raw["aq_arr"][:, :3], rtol=1e-12, atol=0)
        np.testing.assert_allclose(f.y, raw["y"], rtol=1e-12, atol=0)
        assert f.x.shape == (f.cascade.n_stages, 3)
        for o in r.outlets:
            for sp in ("Pr", "Nd", "La"):
                assert f.recovery(sp, o) == pytest.approx(r.recovery(sp, o), rel=1e-12, abs=0)
                assert f.purity(sp, o) == pytest.approx(r.purity(sp, o), rel=1e-12, abs=0)
        assert f.purity(["Pr", "La"], "raffinate", basis=["Pr", "Nd", "La"]) == pytest.approx(
            r.purity(["Pr", "La"], "raffinate"), rel=1e-12, abs=0)
    full = fast[-1].full()
    np.testing.assert_allclose(full.raffinate.conc("Nd"), singles[-1].raffinate.conc("Nd"),
                               rtol=1e-12, atol=0)

    def evaluate(c, r):
        return {"Pr purity": r.purity("Pr", "raffinate"),
                "Nd recovery": r.recovery("Nd", "loaded_organic")}

    for threads in (1, 2):
        df = sx_sweep(make_job, cases, evaluate, threads=min(threads, _max_threads()),
                      chunk=7, tol=1e-12)
        assert df["converged"].all() and (df["error"] == "").all()
        for i, r in enumerate(singles):
            assert df["Pr purity"][i] == pytest.approx(r.purity("Pr", "raffinate"), rel=1e-12,
                                                       abs=0)
            assert df["Nd recovery"][i] == pytest.approx(
                r.recovery("Nd", "loaded_organic"), rel=1e-12, abs=0)


def test_batch_item_refuses_missing_outlets_and_species():
    model = sx.ConstantD({"Pr": 1.0, "Nd": 1.5})
    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15})
    items = solve_many([(sx.Cascade(model, 4, 2), dict(feed=feed, organic=Stream.organic(2.0, {}),
                                                       scrub=Stream.aqueous(0.5, {})))])
    r = items[0]
    assert r.outlets == ("raffinate", "loaded_organic")
    with pytest.raises(ValueError, match="not an outlet"):
        r.purity("Pr", "strip_liquor")
    with pytest.raises(ValueError, match="not an active species"):
        r.recovery("Dy", "raffinate")
    with pytest.raises(ValueError, match="purity basis"):
        r.purity("Dy", "raffinate")
    assert np.all(r.h == 1.0) and r.f.shape == (6,)
    with pytest.raises(ValueError, match="flow_L_h"):
        solve_many([(sx.Cascade(model, 4, 2), dict(feed=feed, organic=Stream.organic(2.0, {}),
                                                   scrub=Stream.aqueous(0.0, {})))])


def _max_threads():
    import numba

    return numba.config.NUMBA_NUM_THREADS


def test_sx_sweep_arrays_equals_single_solves():
    """The array sweep (no per-case objects) gives Cascade.solve's purities and recoveries to
    1e-12 relative, for cases with and without scrub and strip sections."""
    from reeproc.sx.sweep_arrays import sx_sweep_arrays

    model = sx.ConstantD({"Pr": 1.0, "Nd": 1.5})
    feed, org = {"Pr": 0.05, "Nd": 0.15, "Cl-": 0.6}, {"Nd": 1e-5}
    scrub_sol, strip_sol = {"Cl-": 0.1, "Na": 0.1}, {"H+": 1.0, "Cl-": 1.0}
    n = np.array([6, 9, 6, 12, 9])
    m = np.array([4, 0, 5, 3, 0])
    k = np.array([0, 2, 3, 0, 0])
    O = np.array([2.0, 1.5, 3.0, 2.5, 0.7])
    Sc = np.array([0.8, 0.0, 1.1, 0.4, 0.0])
    df = sx_sweep_arrays(model, feed, org, extraction=n, scrub=m, strip=k,
                         scrub_solution=scrub_sol, strip_solution=strip_sol, feed_flow=1.2,
                         organic_flow=O, scrub_flow=Sc, strip_flow=0.6, tol=1e-12, threads=1,
                         chunk=2)
    assert df["converged"].all() and (df["iterations"] == 1).all()
    for b in range(len(n)):
        kw = dict(feed=Stream.aqueous(1.2, feed), organic=Stream.organic(O[b], org))
        if m[b]:
            kw["scrub"] = Stream.aqueous(Sc[b], scrub_sol)
        if k[b]:
            kw["strip"] = Stream.aqueous(0.6, strip_sol)
        r = sx.Cascade(model, int(n[b]), int(m[b]), int(k[b])).solve(**kw, tol=1e-12)
        for o in ("raffinate", "loaded_organic", "strip_liquor"):
            for sp in ("Pr", "Nd"):
                for kind in ("purity", "recovery"):
                    got = df[f"{sp} {kind} {o} [-]"][b]
                    if o not in r.outlets:
                        assert np.isnan(got)
                        continue
                    assert got == pytest.approx(getattr(r, kind)(sp, o), rel=1e-12, abs=0)
    with pytest.raises(ValueError, match="scrub_flow"):
        sx_sweep_arrays(model, feed, org, extraction=5, scrub=[2, 3], scrub_solution=scrub_sol,
                        organic_flow=2.0, scrub_flow=[1.0, 0.0])


def test_over_saponified_neighbours_in_a_batch_need_one_arclength():
    """Two neighbouring over-saponified Pr/Nd cascades (more Na than acid + metal; an acidic
    state exists with the loaded organic carrying the excess Na to the strip): the batch
    solves the first by the base arclength and starts the second from it (Newton on the
    arclength's rows, its underflowing Na traces filled), with the answers of Cascade.solve."""
    from reeproc import Stream, sx
    from reeproc.sx.batch import solve_many

    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61})
    cas = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4), 30, 30,
                     6)
    strip = Stream.aqueous(1.0, {"H+": 4.0, "Cl-": 4.0})
    jobs = [(cas, dict(feed=feed, organic=Stream.organic(5.4, {"PC88A": 1.0}),
                       scrub=Stream.aqueous(Sc, {"H+": 3.4, "Cl-": 3.4}), strip=strip))
            for Sc in (0.44, 0.45)]
    out = solve_many(jobs, chunksize=2)
    assert all(r.converged for r in out)
    assert out[1].iterations < 0.25 * out[0].iterations
    alone = cas.solve(**jobs[1][1])
    assert alone.pH.max() > 5.0
    x = alone.aqueous_profile[["Pr", "Nd", "Na"]].to_numpy()
    live = x > 1e-280     # (the batch's own arrays: those below underflow alike)
    assert out[1].x[live] == pytest.approx(x[live], rel=1e-8, abs=0)


def _sap_pr_nd(O, Sc, n=30):
    """A saponified PC88A Pr/Nd cascade with strip near its balance point (the saponified
    sweep of benchmarks/test_bench_sweep.py): organic flow O, scrub flow Sc [L/h]."""
    cas = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4), n, n,
                     6)
    return (cas, dict(feed=Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01,
                                                "Cl-": 0.61}),
                      organic=Stream.organic(O, {"PC88A": 1.0}),
                      scrub=Stream.aqueous(Sc, {"H+": 3.4, "Cl-": 3.4}),
                      strip=Stream.aqueous(1.0, {"H+": 4.0, "Cl-": 4.0})))


def test_warm_start_takes_the_nearest_solved_case_not_the_last():
    """A 3 x 4 grid (organic flow outer, scrub flow inner) in one warm-started run: the first
    case of each row starts from the same scrub flow of the row before (nearest in its
    flows), not from the row's predecessor at the other end of the scrub range, from which
    Newton fails and a cold start takes ~3,400 iterations (measured with the predecessor
    rule). Every case after the first is solved by a warm start (<= 100 iterations)."""
    import itertools

    jobs = [_sap_pr_nd(O, Sc) for O, Sc in itertools.product((4.8, 4.9, 5.0),
                                                              (0.44, 0.48, 0.52, 0.56))]
    out = solve_many(jobs, chunksize=len(jobs))
    assert all(r.converged for r in out)
    assert max(r.iterations for r in out[1:]) <= 100


def test_over_saponified_case_is_reached_from_its_solved_neighbour():
    """An over-saponified cascade (O/A 5.3, scrub 0.44 L/h: more Na than acid + metal) next
    to a solved one (O/A 5.2): Newton from the neighbour fails (the Na front lies elsewhere),
    the arclength from the neighbour's cascade to its own reaches it, in half the iterations
    of the base arclength that Cascade.solve takes alone, with the same answer."""
    jobs = [_sap_pr_nd(5.2, 0.44), _sap_pr_nd(5.3, 0.44)]
    cas, kw = jobs[1]
    asm = cas._assemble(kw["feed"], kw["organic"], kw["scrub"], kw["strip"])
    assert cas._base_excess_note(asm)
    out = solve_many(jobs, chunksize=2)
    assert all(r.converged for r in out)
    alone = cas.solve(**kw)
    assert alone.pH.max() > 5.0
    assert out[1].iterations < 0.6 * alone.iterations
    x = alone.aqueous_profile[["Pr", "Nd", "Na"]].to_numpy()
    live = x > 1e-280
    assert out[1].x[live] == pytest.approx(x[live], rel=1e-8, abs=0)


def test_rescues_of_two_stage_counts_run_side_by_side_with_the_serial_answers(monkeypatch):
    """Over-saponified items of two stage counts, each next to a solved neighbour of its own
    count: their arclengths run in two threads (the compiled continuation releases the GIL)
    and give, bit for bit, what each pair gives alone."""
    import threading

    import numba

    from reeproc.sx import _arclength as AL

    if _max_threads() < 2:
        pytest.skip("one numba thread")
    jobs = [_sap_pr_nd(O, 0.44, n) for n in (30, 31) for O in (5.2, 5.3)]
    seen = []
    real = AL.follow

    def follow(*args, **kw):
        seen.append(threading.current_thread().name)
        return real(*args, **kw)

    monkeypatch.setattr(AL, "follow", follow)
    old = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        both = solve_many(jobs, chunksize=4)
    finally:
        numba.set_num_threads(old)
    assert len(seen) == 2 and len(set(seen)) == 2 and threading.main_thread().name not in seen
    alone = solve_many(jobs[:2], chunksize=2) + solve_many(jobs[2:], chunksize=2)
    for a, b in zip(both, alone):
        assert a.converged and b.converged and a.iterations == b.iterations
        assert np.array_equal(a.x, b.x) and np.array_equal(a.h, b.h)


def test_warm_start_takes_the_latest_first_where_it_is_about_as_near():
    """Near the balance diagonal a grid's previous point in the inner parameter (the latest,
    one scrub step: about 5x the nearest's feature distance, one organic step) starts Newton
    where the nearest cannot: within LATEST_FACTOR of the nearest's distance the latest is
    tried first. The last case of this 2 x 2 grid is then solved by the first log-form try
    (the nearest first: 33 iterations; in the order before, the linear-variable Newton from
    the nearest failed after 102); the answer is the cold-started one."""
    import itertools

    from reeproc.sx._fallback import LATEST_FACTOR

    assert LATEST_FACTOR == 10.0
    jobs = [_sap_pr_nd(O, Sc) for O, Sc in itertools.product((5.0, 5.1), (0.46, 0.47))]
    out = solve_many(jobs, chunksize=len(jobs))
    assert all(r.converged for r in out) and out[-1].iterations <= 20
    cas, kw = jobs[-1]
    alone = cas.solve(**kw)
    x = alone.aqueous_profile[["Pr", "Nd", "Na"]].to_numpy()
    live = x > 1e-280
    assert out[-1].x[live] == pytest.approx(x[live], rel=1e-8, abs=0)


def test_over_saponified_flags_equal_the_cascade_diagnosis():
    """The batch's vectorised over-saponification diagnosis (every job at once from the
    packed inflows) flags exactly the jobs that Cascade._base_excess_note flags: saponified
    PC88A cascades over organic flow, saponification, scrub acid and a loaded organic inlet,
    with and without a scrub section; an unsaponified and a constant-D job are never
    flagged."""
    import itertools

    from reeproc.sx._batch_rescue import over_saponified
    from reeproc.sx._pack import pack_jobs

    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61})
    jobs = []
    for sap, O, acid, m, load in itertools.product((0.0, 0.2, 0.4, 0.6), (1.0, 3.0, 5.3),
                                                   (0.5, 3.4), (0, 10), (0.0, 0.02)):
        cas = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=sap),
                         10, m, 4)
        kw = dict(feed=feed, organic=Stream.organic(O, {"PC88A": 1.0, "Nd": load}),
                  strip=Stream.aqueous(1.0, {"H+": 4.0, "Cl-": 4.0}))
        if m:
            kw["scrub"] = Stream.aqueous(0.44, {"H+": acid, "Cl-": acid})
        jobs.append((cas, kw))
    for model in (sx.ConstantD({"Pr": 1.0, "Nd": 1.5}),):
        jobs.append((sx.Cascade(model, 10, 10), dict(feed=feed, organic=Stream.organic(1.0, {}),
                                                     scrub=Stream.aqueous(0.44, {}))))
    want = []
    for cas, kw in jobs:
        asm = cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"), kw.get("strip"))
        want.append(bool(cas._base_excess_note(asm)))
    by_kind = {}
    for j, (cas, kw) in enumerate(jobs):   # (one pack per species set)
        by_kind.setdefault(len(cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"),
                                             kw.get("strip"))["active"]), []).append(j)
    for idx in by_kind.values():
        got = over_saponified(pack_jobs([jobs[j] for j in idx]))
        assert got.tolist() == [want[j] for j in idx]
    assert 10 < sum(want) < len(want) - 10


def test_sx_sweep_of_mass_action_cascades_on_two_threads_equals_one():
    """A mass-action sweep (kernels that hold the GIL) through the 2-thread pipeline, tapered
    chunks and this thread solving chunks too: every case as on one thread, to the solver's
    tolerance."""
    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.3, "Cl-": 0.9})
    cas = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"]), 10, 8)

    def make_job(c):
        return cas, dict(feed=feed, organic=Stream.organic(c["OA"], {"PC88A": 1.0}),
                         scrub=Stream.aqueous(c["Sc"], {"H+": 0.5, "Cl-": 0.5}))

    def evaluate(c, r):
        return {"Pr purity": r.purity("Pr", "raffinate"),
                "Nd recovery": r.recovery("Nd", "loaded_organic")}

    cases = grid_cases({"OA": [1.0, 1.5, 2.0, 2.5], "Sc": [0.2, 0.3, 0.4, 0.5]})
    one = sx_sweep(make_job, cases, evaluate, threads=1, chunk=4, tol=1e-12)
    two = sx_sweep(make_job, cases, evaluate, threads=min(2, _max_threads()), chunk=4,
                   tol=1e-12)
    assert one["converged"].all() and two["converged"].all()
    for col in ("Pr purity", "Nd recovery"):
        assert two[col].to_numpy() == pytest.approx(one[col].to_numpy(), rel=1e-9, abs=0)
