"""SX-only sweep benchmark: 10,000 Pr/Nd cascades (extraction stages x scrub stages x O/A x scrub
flow) with the numba batch kernel through :func:`reeproc.sweep.sx_sweep`.

Cascade: Pr/Nd fractional extraction (extraction + scrub, no strip) with the constant
separation-factor model: beta(Nd/Pr) = 1.5 (property_data/sx_separation_factors.csv, Banda,
Jeon, Lee 2015, 'established'); D_Pr = 1 fixes the operating point (a design normalisation, the
O/A sweep moves the extraction factors). Feed 1 L/h, 0.05 M Pr + 0.15 M Nd; 20-40 stages per
section, O/A 3.5-6.0, scrub/feed 4.0-6.5 (the constant-D window where E_Nd > 1 in extraction and
E_Pr < 1 in scrub, reaching 99.5 % for both products near 80 stages). Records cases/s on 1 and
2 numba threads in the same run (best of 3, alternating), the 1 -> 2 thread speed-up and where
the time goes on one thread (the user's make_job, packing, kernel, rows + the user's evaluate,
DataFrame), for the object path (``sx_sweep``) and the array path (``sx_sweep_arrays``).

Run: python -m pytest benchmarks/test_bench_sweep.py --benchmark-only -s
"""
import os
import time

import numba
import numpy as np
import pytest

from reeproc import Stream, sx
from reeproc.data import load_table
from reeproc.sweep import grid_cases, sx_sweep

TARGET_CASES_PER_S = 50_000.0   # issue 11, on 2 cores
TARGET_SPEEDUP = 1.7            # issue 11: 2 threads against 1


def _beta_nd_pr():
    t = load_table("sx_separation_factors")
    row = t[(t.extractant == "PC88A") & (t.heavier == "Nd") & (t.lighter == "Pr")
            & (t.confidence == "established")]
    return float(row["beta__1"].iloc[0])


def _setup():
    beta = _beta_nd_pr()
    model = sx.ConstantD({"Pr": 1.0, "Nd": beta})
    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "Cl-": 0.6})
    cascades, organics, scrubs = {}, {}, {}

    def make_job(c):
        key = (c["extraction"], c["scrub"])
        if key not in cascades:
            cascades[key] = sx.Cascade(model, extraction=key[0], scrub=key[1])
        if c["OA"] not in organics:
            organics[c["OA"]] = Stream.organic(c["OA"], {})
        if c["scrub_ratio"] not in scrubs:
            scrubs[c["scrub_ratio"]] = Stream.aqueous(c["scrub_ratio"], {"Cl-": 0.1, "Na": 0.1})
        return cascades[key], dict(feed=feed, organic=organics[c["OA"]],
                                   scrub=scrubs[c["scrub_ratio"]])

    def evaluate(c, r):
        return {"Pr purity [-]": r.purity("Pr", "raffinate"),
                "Pr recovery [-]": r.recovery("Pr", "raffinate"),
                "Nd purity [-]": r.purity("Nd", "loaded_organic"),
                "Nd recovery [-]": r.recovery("Nd", "loaded_organic")}

    grid = {"extraction": [20, 25, 30, 35, 40], "scrub": [20, 25, 30, 35, 40],
            "OA": list(np.round(np.linspace(3.5, 6.0, 20), 4)),
            "scrub_ratio": list(np.round(np.linspace(4.0, 6.5, 20), 4))}
    return make_job, evaluate, grid_cases(grid)


def _best_rates(run, n_cases, threads, repeats=3):
    """Best-of-``repeats`` cases/s per thread count, the thread counts alternating so that a
    change of machine load hits both alike."""
    best = {}
    for _ in range(repeats):
        for th in threads:
            t0 = time.perf_counter()
            run(th)
            best[th] = max(best.get(th, 0.0), n_cases / (time.perf_counter() - t0))
    return best


def _thread_counts():
    return sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)})


def _time_split(make_job, evaluate, cases):
    """Seconds per stage of the object path on one thread (best of 3): job construction (the
    user's make_job), packing, kernel, evaluate + frame (the user's evaluate per case and the
    chunk's DataFrame)."""
    from reeproc._sx_sweep import _sx_frame
    from reeproc.sx._pack import pack_jobs
    from reeproc.sx.batch import solve_packed

    old = numba.get_num_threads()
    numba.set_num_threads(1)
    split = {}
    try:
        for _ in range(3):
            t = [time.perf_counter()]
            jobs = [make_job(c) for c in cases]
            t.append(time.perf_counter())
            packed = pack_jobs(jobs)
            t.append(time.perf_counter())
            batch = solve_packed(packed, 1e-10)
            t.append(time.perf_counter())
            _sx_frame(cases, batch, evaluate)
            t.append(time.perf_counter())
            for key, dt in zip(("jobs", "packing", "kernel", "evaluate + frame"),
                               np.diff(t)):
                split[key] = min(split.get(key, np.inf), dt)
    finally:
        numba.set_num_threads(old)
    return split


def test_bench_sx_sweep_10k(benchmark):
    make_job, evaluate, cases = _setup()
    assert len(cases) == 10_000
    sx_sweep(make_job, cases[:50], evaluate)  # compile / load the numba cache
    ths = _thread_counts()
    rates = _best_rates(lambda th: sx_sweep(make_job, cases, evaluate, threads=th), len(cases),
                        ths)
    th_max = max(rates)
    df = benchmark.pedantic(sx_sweep, args=(make_job, cases, evaluate),
                            kwargs=dict(threads=th_max), rounds=1, iterations=1)
    rates[th_max] = max(rates[th_max], len(cases) / benchmark.stats.stats.mean)
    split = _time_split(make_job, evaluate, cases)
    conv = int(df["converged"].sum())
    feasible = int(((df["Pr purity [-]"] >= 0.995) & (df["Nd purity [-]"] >= 0.995)).sum())
    speedup = rates[th_max] / rates[1]
    benchmark.extra_info.update(
        cases=len(cases), converged=conv, cases_meeting_995_both=feasible,
        cases_per_s_1_thread=rates[1], cases_per_s_2_threads=rates[th_max], threads=th_max,
        speedup_1_to_2_threads=speedup, target_cases_per_s=TARGET_CASES_PER_S,
        target_speedup=TARGET_SPEEDUP, load_average=os.getloadavg()[0],
        **{f"time_{k.replace(' + ', '_').lower()}_s": v for k, v in split.items()},
        median_iterations=float(df["iterations"].median()))
    tot = sum(split.values())
    print(f"\nSX-only sweep (sx_sweep: make_job + evaluate per case), {len(cases)} Pr/Nd "
          f"cascades (constant beta 1.5, 40-80 stages): {rates[1]:.0f} cases/s on 1 thread, "
          f"{rates[th_max]:.0f} cases/s on {th_max} threads (speed-up {speedup:.2f}x; targets "
          f"{TARGET_CASES_PER_S:.0f}/s, {TARGET_SPEEDUP}x); {conv} converged, {feasible} meet "
          f"99.5 % for both products; load average {os.getloadavg()[0]:.1f}\n"
          "time split on 1 thread: " + ", ".join(f"{k} {v * 1e3:.1f} ms ({v / tot:.0%})"
                                                 for k, v in split.items()))
    assert conv == len(cases)


def test_bench_sx_sweep_gc_paused(benchmark):
    """The cyclic garbage collector paused during ``sx_sweep`` (its default) against the same
    sweep with it running again (an ``evaluate`` that re-enables it at its first call), on
    the thread counts of the 10,000-case sweep, alternating, 7 each: best and median (a full
    collection stops both threads now and then, so the median shows it and the best may
    not)."""
    import gc

    make_job, evaluate, cases = _setup()
    sx_sweep(make_job, cases[:50], evaluate)

    def evaluate_gc_on(c, r):
        gc.enable()
        return evaluate(c, r)

    th = max(_thread_counts())
    t = {"paused": [], "running": []}
    for _ in range(7):
        for name, ev in (("paused", evaluate), ("running", evaluate_gc_on)):
            t0 = time.perf_counter()
            sx_sweep(make_job, cases, ev, threads=th)
            t[name].append(time.perf_counter() - t0)
    assert gc.isenabled()
    benchmark.pedantic(sx_sweep, args=(make_job, cases, evaluate), kwargs=dict(threads=th),
                       rounds=1, iterations=1)
    best = {k: min(v) for k, v in t.items()}
    med = {k: float(np.median(v)) for k, v in t.items()}
    benchmark.extra_info.update(threads=th, best_s=best, median_s=med,
                                median_ratio=med["running"] / med["paused"])
    print(f"\nsx_sweep, 10,000 cascades on {th} threads: garbage collector paused "
          f"{best['paused'] * 1e3:.1f} ms best, {med['paused'] * 1e3:.1f} ms median; running "
          f"{best['running'] * 1e3:.1f} ms best, {med['running'] * 1e3:.1f} ms median "
          f"({med['running'] / med['paused']:.2f}x the median; 7 each, alternating)")


def test_bench_sx_sweep_10k_arrays(benchmark):
    """The same 10,000 cascades through the array path (sx_sweep_arrays: no per-case Python
    objects); figures equal the object path's."""
    from reeproc.sx.sweep_arrays import sx_sweep_arrays

    make_job, evaluate, cases = _setup()
    cas0, kw0 = make_job(cases[0])
    model = cas0.model
    arr = {key: np.array([c[key] for c in cases]) for key in cases[0]}
    scrub_sol = kw0["scrub"].conc_mol_L

    def run(th):
        return sx_sweep_arrays(model, {"Pr": 0.05, "Nd": 0.15, "Cl-": 0.6}, {},
                               extraction=arr["extraction"], scrub=arr["scrub"],
                               scrub_solution={"Cl-": 0.1, "Na": 0.1}, feed_flow=1.0,
                               organic_flow=arr["OA"], scrub_flow=arr["scrub_ratio"],
                               threads=th)

    assert scrub_sol == pytest.approx({"Cl-": 0.1, "Na": 0.1}, rel=1e-15)
    run(1)
    ths = _thread_counts()
    rates = _best_rates(run, len(cases), ths, repeats=5)
    th_max = max(rates)
    df = benchmark.pedantic(run, args=(th_max,), rounds=1, iterations=1)
    rates[th_max] = max(rates[th_max], len(cases) / benchmark.stats.stats.mean)
    ref = sx_sweep(make_job, cases, evaluate)
    for col, ref_col in (("Pr purity raffinate [-]", "Pr purity [-]"),
                         ("Nd recovery loaded_organic [-]", "Nd recovery [-]")):
        np.testing.assert_allclose(df[col], ref[ref_col], rtol=1e-12, atol=0)
    speedup = rates[th_max] / rates[1]
    benchmark.extra_info.update(cases=len(cases), cases_per_s_1_thread=rates[1],
                                cases_per_s_2_threads=rates[th_max], threads=th_max,
                                speedup_1_to_2_threads=speedup,
                                load_average=os.getloadavg()[0])
    print(f"\nSX-only sweep (sx_sweep_arrays), {len(cases)} Pr/Nd cascades: {rates[1]:.0f} "
          f"cases/s on 1 thread, {rates[th_max]:.0f} cases/s on {th_max} threads (speed-up "
          f"{speedup:.2f}x; targets {TARGET_CASES_PER_S:.0f}/s, {TARGET_SPEEDUP}x); load "
          f"average {os.getloadavg()[0]:.1f}")
    assert df["converged"].all()


def test_bench_sx_sweep_mass_action_warm_vs_cold(benchmark):
    """182 saponified-PC88A Pr/Nd cascades with strip (stages x O/A x scrub flow around the
    balance point, where a cold start needs hundreds to thousands of pseudo-transient steps):
    chained warm starts (default) vs cold starts, same process. 6 cases bring more Na base
    than acid + metal (over-saponified); each has an acidic steady state with the excess Na on
    the loaded organic: the first of each stage count is reached by the arclength from its
    solved neighbour's cascade (compiled, serial after the parallel kernel: about a third of
    the time), the others by Newton from it."""
    import itertools

    from reeproc.sx.batch import solve_many

    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61})
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4)
    strip = Stream.aqueous(1.0, {"H+": 4.0, "Cl-": 4.0})
    cascades = {n: sx.Cascade(model, extraction=n, scrub=n, strip=6) for n in (30, 35)}
    jobs = [(cascades[n], dict(feed=feed, organic=Stream.organic(O, {"PC88A": 1.0}),
                               scrub=Stream.aqueous(Sc, {"H+": 3.4, "Cl-": 3.4}), strip=strip))
            for n, O, Sc in itertools.product((30, 35), np.linspace(4.8, 5.4, 7),
                                              np.linspace(0.44, 0.56, 13))]
    solve_many(jobs[:2])
    solve_many(jobs[:2], warm_start=False)
    solve_many(jobs[64:66], chunksize=2)   # (an over-saponified case: the arclength compiled)
    t0 = time.perf_counter()
    cold = solve_many(jobs, warm_start=False)
    t_cold = time.perf_counter() - t0
    warm = benchmark.pedantic(solve_many, args=(jobs,), rounds=1, iterations=1)
    t_warm = benchmark.stats.stats.mean
    n_ok = sum(r.converged for r in warm)
    assert n_ok == sum(r.converged for r in cold)
    it_w, it_c = sum(r.iterations for r in warm), sum(r.iterations for r in cold)
    benchmark.extra_info.update(cases=len(jobs), converged=n_ok, warm_s=t_warm, cold_s=t_cold,
                                speedup=t_cold / t_warm, iterations_warm=it_w,
                                iterations_cold=it_c)
    print(f"\nmass-action SX sweep, {len(jobs)} cascades ({n_ok} converge): warm-started "
          f"{len(jobs) / t_warm:.0f} cases/s, cold {len(jobs) / t_cold:.0f} cases/s "
          f"({t_cold / t_warm:.1f}x); iterations {it_w} vs {it_c}")
