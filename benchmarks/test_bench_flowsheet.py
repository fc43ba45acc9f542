"""Flowsheet benchmark: the reference NdFeB long loop (flowsheets/ndfeb_long_loop.py), built and
solved after numba compilation (a warm-up run first), with its four recycles (the stripped
organics of SX1-SX4) converged by the script's SOLVE_OPTIONS method (Anderson). Acceptance: under
2 s per run (build + solve + KPIs) on a 2-core machine.

Baseline in the same process: the same flowsheet with the recycle converged by direct
substitution (ratio = direct / the script's method). The scipy reference SX solver is not a usable baseline
here: from a cold start it does not converge on the loaded 16-stage SX1 cascade (hybr stops
after ~200 iterations with a scaled residual ~1e2).

Run: python -m pytest benchmarks/test_bench_flowsheet.py --benchmark-only -s
"""
import time
from pathlib import Path

from reeproc.flowsheet import run
from reeproc.flowsheet.script import check_params, load_script

REFERENCE = Path(__file__).resolve().parents[1] / "flowsheets" / "ndfeb_long_loop.py"


def _check(res):
    assert res.status == "solved"  # converged, every element and charge balanced to 1e-8
    for name, p in res.kpis()["products"].items():
        assert p["purity"] >= 0.995, name


def test_bench_reference_flowsheet(benchmark):
    """`run(flowsheets/ndfeb_long_loop.py)`: build (with its sizing pass) + recycle solve + KPIs."""
    _check(run(REFERENCE))  # warm-up: numba cache load / compile, Cantera phase build

    def solve():
        res = run(REFERENCE)
        res.kpis()
        return res

    res = benchmark.pedantic(solve, rounds=5, iterations=1, warmup_rounds=1)
    _check(res)
    t = benchmark.stats.stats.mean
    benchmark.extra_info.update(seconds=t, engine_solve_s=res.solve_time_s,
                                recycle_iterations=res.iterations, tears=list(res.tears),
                                purities={n: p["purity"] for n, p in res.kpis()["products"].items()})
    print(f"\nreference flowsheet: {t:.3f} s per run (build + solve + KPIs; engine solve "
          f"{res.solve_time_s:.3f} s), {res.iterations} {res.fixed_point.method} iterations, "
          f"tears {res.tears}")
    assert t < 2.0


def test_bench_reference_flowsheet_vs_direct_substitution(benchmark):
    """Same flowsheet, recycle by direct substitution (baseline) vs the script's method: ratio."""
    mod = load_script(REFERENCE)
    params = check_params(mod.PARAMETERS, {})
    mod.build(**params).solve(**mod.SOLVE_OPTIONS)  # warm-up

    def timed(method):
        fs = mod.build(**params)
        opts = (dict(mod.SOLVE_OPTIONS) if method == mod.SOLVE_OPTIONS["method"]
                else {"method": method, "tol": mod.SOLVE_OPTIONS["tol"]})
        opts["maxiter"] = 2000
        t0 = time.perf_counter()
        r = fs.solve(**opts)
        return r, time.perf_counter() - t0

    res_d = benchmark.pedantic(lambda: timed("direct")[0], rounds=1, iterations=1)
    t_direct = benchmark.stats.stats.mean
    method = mod.SOLVE_OPTIONS["method"]
    res_w, t_weg = timed(method)
    _check(res_d)
    _check(res_w)
    benchmark.extra_info.update(direct_s=t_direct, accelerated_s=t_weg, method=method,
                                ratio=t_direct / t_weg, direct_iterations=res_d.iterations,
                                accelerated_iterations=res_w.iterations)
    print(f"\nrecycle: direct substitution {t_direct:.3f} s ({res_d.iterations} it), {method} "
          f"{t_weg:.3f} s ({res_w.iterations} it), ratio {t_direct / t_weg:.2f}x")
