"""SX benchmark: 6-species, 100-stage mass-action cascade (PC88A, loading), extraction + scrub +
strip; numba log-form Newton vs baselines measured in the same process: LAPACK banded solves
of the Newton system's own size, and the scipy reference solver. Also: cost of 400 stages
against 100, and the cold-start textbook cascade of issue 11.

Run: python -m pytest benchmarks/test_bench_sx.py --benchmark-only -s
"""
import time

import numpy as np
from scipy.linalg import solve_banded

from reeproc import Stream, sx
from reeproc.sx import _kernels as K
from reeproc.sx.cascade import N_PICARD

SPECIES = ["La", "Ce", "Pr", "Nd", "Sm", "Dy"]


def _case(n=40):
    """n extraction, n scrub and n/2 strip stages (n = 40: the 100-stage benchmark)."""
    model = sx.MassAction("PC88A", concentration_mol_L=1.0, species=SPECIES)
    cas = sx.Cascade(model, extraction=n, scrub=n, strip=n // 2)
    kw = dict(
        feed=Stream.aqueous(1.0, {"La": 0.01, "Ce": 0.02, "Pr": 0.02, "Nd": 0.05, "Sm": 0.01,
                                  "Dy": 0.01, "H+": 0.3, "Cl-": 0.66}),
        organic=Stream.organic(1.0, {"PC88A": 1.0}),
        scrub=Stream.aqueous(0.2, {"H+": 0.5, "Cl-": 0.5}),
        strip=Stream.aqueous(0.5, {"H+": 4.0, "Cl-": 4.0}))
    return cas, kw


def _kernel_args(cas, kw):
    a = cas._assemble(kw["feed"], kw["organic"], kw["scrub"], kw["strip"])["arrays"]
    x0 = np.zeros(a["ext"].shape)
    return (a["Lout"], a["Lup"], a["O"], a["ext"], a["yin"], a["k0"], a["kf"], a["kh"],
            a["kfh"], a["sc"], a["z"], a["fT"], a["G"], a["Ts"], a["Ka"], a["eta"], a["use_h"],
            a["use_f"], x0, 1e-12, 3000, N_PICARD)


def _per_call(fn, reps):
    fn()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def _banded_baseline(nst, nb, reps=200):
    """One LAPACK banded LU solve (gbsv via scipy.linalg.solve_banded) of the size of the
    Newton system: nst stages x nb unknowns, block tridiagonal -> bandwidth 2 nb - 1."""
    n = nst * nb
    kl = ku = 2 * nb - 1
    rng = np.random.default_rng(0)
    ab = rng.uniform(-1.0, 1.0, (kl + ku + 1, n))
    ab[ku] = 4.0 * nb  # diagonally dominant
    b = rng.uniform(size=n)
    return _per_call(lambda: solve_banded((kl, ku), ab, b), reps)


def test_bench_sx_numba_solve(benchmark):
    """Full API call (assembly + kernel + result DataFrames/Streams), against LAPACK banded
    solves of the Newton system's size in the same run."""
    cas, kw = _case()
    res = cas.solve(**kw)  # compile / load cache
    res = benchmark(cas.solve, **kw)
    assert res.converged and res.mass_balance_residual < 1e-10
    t_api = benchmark.stats.stats.min
    t_band = _banded_baseline(cas.n_stages, len(SPECIES) + 1)
    # the start's frozen-D sweeps run whatever the budget: with max_iter = 1 the kernel stops
    # after them, and its count is theirs; the rest of the iterations are Newton steps
    args = list(_kernel_args(cas, kw))
    args[20] = 1
    sweeps = K.solve_cascade(*args)[1]
    newton = res.iterations - sweeps
    benchmark.extra_info.update(iterations=res.iterations, frozen_d_sweeps=sweeps,
                                newton_steps=newton, api_s=t_api, banded_solve_s=t_band,
                                api_in_banded_solves=t_api / t_band)
    print(f"\nSX 100-stage, 6-species API solve: {t_api * 1e6:.0f} us best, {res.iterations} "
          f"iterations ({sweeps} frozen-D sweeps + {newton} Newton steps; target <= 6 Newton "
          f"iterations); one LAPACK banded solve of the same size {t_band * 1e6:.0f} us; API = "
          f"{t_api / t_band:.1f} banded solves (target about 2)")
    assert newton >= 1 and sweeps >= 1


def test_bench_sx_numba_kernel(benchmark):
    """Kernel only (frozen-D sweeps + log-form Newton on prepared arrays)."""
    cas, kw = _case()
    args = _kernel_args(cas, kw)
    K.solve_cascade(*args)
    out = benchmark(K.solve_cascade, *args)
    assert out[0] == K.OK


def test_bench_sx_stage_scaling(benchmark):
    """400 stages (160/160/80) against 100 (40/40/20): the cost ratio and the iterations."""
    cas1, kw1 = _case(40)
    cas4, kw4 = _case(160)
    r1, r4 = cas1.solve(**kw1), cas4.solve(**kw4)
    t1 = _per_call(lambda: cas1.solve(**kw1), 20)
    t4 = benchmark.pedantic(cas4.solve, kwargs=kw4, rounds=5, iterations=1)
    t4 = benchmark.stats.stats.min
    ratio = t4 / t1
    benchmark.extra_info.update(t100_s=t1, t400_s=t4, ratio=ratio, it100=r1.iterations,
                                it400=r4.iterations)
    print(f"\nSX stage scaling: 100 stages {t1 * 1e3:.2f} ms ({r1.iterations} it), 400 stages "
          f"{t4 * 1e3:.2f} ms ({r4.iterations} it): {ratio:.2f}x (target <= 4.5x)")
    assert r4.converged and r4.mass_balance_residual < 1e-10


def test_bench_sx_newton_cost_per_stage(benchmark):
    """Cost of one Newton iteration per stage, 25 to 400 stages (the benchmark cascade at n
    extraction, n scrub, n/2 strip stages): kernel time at 6 iterations minus at 3 (start and
    frozen-D sweeps), over 3 iterations and the stage count."""
    def per_call(fn):
        return min(_per_call(fn, 10) for _ in range(3))

    cost = {}
    for n in (10, 40, 160):
        cas, kw = _case(n)
        args = list(_kernel_args(cas, kw))
        a3, a6 = args[:], args[:]
        a3[20], a6[20] = 3, 6
        t3 = per_call(lambda: K.solve_cascade(*a3))
        t6 = per_call(lambda: K.solve_cascade(*a6))
        cost[cas.n_stages] = ((t6 - t3) / 3 / cas.n_stages, t3 / cas.n_stages)
    cas, kw = _case(40)
    benchmark(K.solve_cascade, *_kernel_args(cas, kw))
    benchmark.extra_info.update({f"newton_us_per_stage_{n}": c[0] * 1e6 for n, c in cost.items()})
    print("\nSX Newton iteration per stage: " + ", ".join(
        f"{n} stages {c[0] * 1e6:.2f} us (start + 3 sweeps {c[1] * 1e6:.2f} us)"
        for n, c in cost.items()))
    assert all(c[0] > 0 for c in cost.values())


def _textbook(conc):
    model = sx.MassAction("PC88A", concentration_mol_L=conc, species=SPECIES)
    cas = sx.Cascade(model, extraction=50, scrub=50)
    re = 0.29 / 3 / 6
    kw = dict(feed=Stream.aqueous(1.0, {**{s: re for s in SPECIES}, "H+": 0.01, "Cl-": 0.3}),
              organic=Stream.organic(2.0, {"PC88A": conc}),
              scrub=Stream.aqueous(0.5, {"H+": 1.0, "Cl-": 1.0}))
    return cas, kw


def test_bench_sx_textbook_cold_start(benchmark):
    """Issue 11's textbook cascade from a cold start: 50 + 50 stages, six rare earths (La..Dy,
    log Kex over 3.5 decades), 1 M PC88A monomer (0.5 M dimer) unsaponified, 0.3 M chloride
    feed at pH 2, O/A 2, 1 M HCl scrub. Also the 1 M *dimer* (2 M monomer) variant, where Sm
    and Dy build up in the scrub: the direct attempt stalls and the pseudo-transient attempt
    with [H+] eliminated solves it (docs/sx.md). Target: <= 50 iterations each."""
    cas, kw = _textbook(1.0)
    r = cas.solve(**kw)
    benchmark.pedantic(cas.solve, kwargs=kw, rounds=3, iterations=1)
    cas2, kw2 = _textbook(2.0)
    r2 = cas2.solve(**kw2)
    t2 = _per_call(lambda: cas2.solve(**kw2), 3)
    benchmark.extra_info.update(iterations=r.iterations, dimer_1M_converged=r2.converged,
                                dimer_1M_iterations=r2.iterations, dimer_1M_s=t2)
    print(f"\nSX textbook cascade (100 stages, 6 RE, pH-2 feed) from a cold start: "
          f"{r.iterations} iterations, {benchmark.stats.stats.min * 1e3:.2f} ms (target <= 50 "
          f"iterations); with 1 M dimer: {r2.iterations} iterations, {t2 * 1e3:.2f} ms")
    assert r.converged and r.mass_balance_residual < 1e-10
    assert r2.converged and r2.mass_balance_residual < 1e-10 and r2.iterations <= 50


def test_bench_sx_reference_and_ratio(benchmark):
    """scipy.optimize.root reference on the same equations; records the speed ratio."""
    cas, kw = _case()
    res_n = cas.solve(**kw)
    res_r = benchmark.pedantic(cas.solve, kwargs=dict(kw, method="reference"), rounds=1,
                               iterations=1)
    t_ref = benchmark.stats.stats.mean
    args = _kernel_args(cas, kw)
    t_api = _per_call(lambda: cas.solve(**kw), 30)
    t_kernel = _per_call(lambda: K.solve_cascade(*args), 30)
    sc = res_n.aqueous_profile[SPECIES].values.max()
    diff = np.abs(res_n.aqueous_profile[SPECIES].values - res_r.aqueous_profile[SPECIES].values)
    benchmark.extra_info.update(reference_s=t_ref, numba_api_s=t_api, numba_kernel_s=t_kernel,
                                ratio_api=t_ref / t_api, ratio_kernel=t_ref / t_kernel,
                                max_scaled_diff=float(diff.max() / sc))
    print(f"\nSX benchmark (6 species, 100 stages, mass action): reference {t_ref * 1e3:.1f} ms, "
          f"numba API {t_api * 1e3:.3f} ms, kernel {t_kernel * 1e3:.3f} ms, "
          f"ratio {t_ref / t_api:.0f}x (API) / {t_ref / t_kernel:.0f}x (kernel), "
          f"max scaled difference {diff.max() / sc:.1e}")
    assert diff.max() <= 1e-8 * sc
    assert t_ref / t_kernel > 100


def _published_case(stages):
    """PrOMMiS's DEHPA sulfate cascade of tests/test_sx_published.py (one definition)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tests" / "test_sx_published.py"
    spec = importlib.util.spec_from_file_location("_sx_published", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod._case(stages)[1:]


def test_bench_sx_published_dehpa_60_stages(benchmark):
    """Issue 11's published case: PrOMMiS's 12-metal DEHPA cascade in sulfate (Sc included,
    local dosage, metals in the organic feed; its 3-stage outlets are reproduced in
    tests/test_sx_published.py) at 60 stages through the public API, cold start; baseline:
    the scipy reference on the same equations, same run."""
    cas, kw = _published_case(60)
    r = cas.solve(**kw)
    r = benchmark(cas.solve, **kw)
    t_api = benchmark.stats.stats.min
    t0 = time.perf_counter()
    cas.solve(**kw, method="reference")
    t_ref = time.perf_counter() - t0
    benchmark.extra_info.update(iterations=r.iterations, api_s=t_api, reference_s=t_ref)
    print(f"\nSX published case (PrOMMiS DEHPA, sulfate, 12 metals, 60 stages): API "
          f"{t_api * 1e3:.2f} ms best, {r.iterations} iterations (target <= 1 ms); scipy "
          f"reference {t_ref:.2f} s ({t_ref / t_api:.0f}x)")
    assert r.converged and r.mass_balance_residual < 1e-12


def test_bench_sx_warm_start(benchmark):
    """Warm start from a CascadeResult (issue 11): the README's saponified PC88A Pr/Nd cascade
    with its feed flow 1 % higher, started from the solution at the old flow, against the cold
    start of the same cascade (baseline, same run)."""
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.1)
    cas = sx.Cascade(model, extraction=30, scrub=30, strip=6)

    def kw(flow):
        return dict(feed=Stream.aqueous(flow, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61}),
                    organic=Stream.organic(3.0, {"PC88A": 1.0}),
                    scrub=Stream.aqueous(0.3, {"H+": 1.5, "Cl-": 1.5}),
                    strip=Stream.aqueous(0.5, {"H+": 4.0, "Cl-": 4.0}))

    prev = cas.solve(**kw(1.0))
    cold = cas.solve(**kw(1.01))
    t_cold = _per_call(lambda: cas.solve(**kw(1.01)), 5)
    warm = benchmark(cas.solve, **kw(1.01), initial_guess=prev)
    t_warm = benchmark.stats.stats.min
    benchmark.extra_info.update(cold_iterations=cold.iterations, warm_iterations=warm.iterations,
                                cold_s=t_cold, warm_s=t_warm, ratio=t_cold / t_warm)
    print(f"\nSX warm start (README saponified Pr/Nd, feed +1 %): cold {cold.iterations} it "
          f"{t_cold * 1e3:.2f} ms, warm {warm.iterations} it {t_warm * 1e3:.2f} ms "
          f"({t_cold / t_warm:.0f}x)")
    assert warm.converged and warm.iterations < cold.iterations


_FIRST_RUN = """
import time
t0 = time.process_time()
from reeproc import Stream, sx
model = sx.MassAction("PC88A", concentration_mol_L=1.0, species={species!r})
cas = sx.Cascade(model, extraction=40, scrub=40, strip=20)
r = cas.solve(feed=Stream.aqueous(1.0, {{"La": 0.01, "Ce": 0.02, "Pr": 0.02, "Nd": 0.05,
                                        "Sm": 0.01, "Dy": 0.01, "H+": 0.3, "Cl-": 0.66}}),
              organic=Stream.organic(1.0, {{"PC88A": 1.0}}),
              scrub=Stream.aqueous(0.2, {{"H+": 0.5, "Cl-": 0.5}}),
              strip=Stream.aqueous(0.5, {{"H+": 4.0, "Cl-": 4.0}}))
if {flowsheet!r}:
    from reeproc.flowsheet import run
    assert run({flowsheet!r}).status == "solved"
print("CPU", time.process_time() - t0)
"""


def _first_run_cpu(cache_dir, flowsheet=""):
    """CPU seconds of a fresh interpreter that makes one mass-action solve (and runs the
    reference flowsheet when given), numba caching into ``cache_dir``."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    code = _FIRST_RUN.format(species=SPECIES, flowsheet=flowsheet)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=900)
    return float(out.stdout.strip().split()[-1])


def test_bench_sx_first_run_compile(benchmark, tmp_path):
    """First run after install (empty numba cache, its own folder): CPU seconds of one
    100-stage mass-action solve, then of the reference flowsheet (flowsheets/ndfeb_long_loop.py)
    after it; baseline: the same two runs again with the cache now filled (same process)."""
    from pathlib import Path

    fs = str(Path(__file__).resolve().parents[1] / "flowsheets" / "ndfeb_long_loop.py")
    solve_cold = benchmark.pedantic(_first_run_cpu, args=(tmp_path / "a",), rounds=1,
                                    iterations=1)
    fs_cold = _first_run_cpu(tmp_path / "b", fs)
    solve_warm = _first_run_cpu(tmp_path / "a")
    fs_warm = _first_run_cpu(tmp_path / "b", fs)
    benchmark.extra_info.update(solve_empty_cache_cpu_s=solve_cold, solve_cached_cpu_s=solve_warm,
                                flowsheet_empty_cache_cpu_s=fs_cold,
                                flowsheet_cached_cpu_s=fs_warm)
    print(f"\nSX first run, empty numba cache: one mass-action solve {solve_cold:.1f} s CPU "
          f"(cached {solve_warm:.1f} s); + reference flowsheet {fs_cold:.1f} s CPU (cached "
          f"{fs_warm:.1f} s; target <= 15 s)")
