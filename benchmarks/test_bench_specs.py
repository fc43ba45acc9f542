"""Design-spec benchmark: the reference NdFeB long loop (flowsheets/ndfeb_long_loop.py) with its
design specs (SX1 cuts; SX2 Pr/Nd and SX4 Tb/Dy: a balance spec and a >= 99.7 % purity spec
each), warm (numba cache loaded, one warm-up run first; SX circuits start from the profiles of
the last run, SXCircuit ``warm_key``). Acceptance: under 1 s per run with its specs.

Baseline in the same process: the same run with the specs switched off (``specs=False``); the
ratio is the extra cost of the specs. Two cases:

* the default feed (EV_traction): every spec holds without acting (one check of each
  measure; the balance specs start inside their band);
* the SX4 scrub started 3 % below its default: the Tb/Dy balance leaves its band and its spec
  moves the scrub back, each trial a warm-started recycle solve: the cost of a spec that works.

Run: python -m pytest benchmarks/test_bench_specs.py --benchmark-only -s
"""
import time

from test_bench_flowsheet import REFERENCE, _check  # same flowsheet, same acceptance checks

from reeproc.flowsheet import run


def _timed(**kw):
    t0 = time.perf_counter()
    res = run(REFERENCE, **kw)
    res.kpis()
    return res, time.perf_counter() - t0


def _compare(benchmark, label, **kw):
    _check(run(REFERENCE, **kw))  # warm-up: numba cache load, Cantera phases, feed tables

    def solve():
        res = run(REFERENCE, **kw)
        res.kpis()
        return res

    res = benchmark.pedantic(solve, rounds=3, iterations=1, warmup_rounds=0)
    t_specs = benchmark.stats.stats.mean
    free = [_timed(specs=False, **kw)[1] for _ in range(3)]
    t_free = sum(free) / len(free)
    _check(res)
    solves = getattr(res, "spec_solves", 1)
    moved = {s.name: (s.variable, s.value, s.active) for s in res.specs}
    benchmark.extra_info.update(with_specs_s=t_specs, spec_free_s=t_free,
                                extra_cost_ratio=t_specs / t_free, flowsheet_solves=solves,
                                specs=moved)
    print(f"\n{label}: with specs {t_specs:.3f} s per run ({solves} flowsheet solves), "
          f"spec-free {t_free:.3f} s: extra cost {t_specs / t_free:.2f}x; {moved}")
    return res, t_specs


def test_bench_reference_with_specs(benchmark):
    res, t = _compare(benchmark, "reference, default feed")
    assert t < 1.0


def test_bench_reference_with_an_acting_spec(benchmark):
    from reeproc.flowsheet.script import script_parameters

    scrub = 0.97 * script_parameters(REFERENCE)["sx4_scrub_ratio"].default
    res, _ = _compare(benchmark, "reference, SX4 scrub 3 % below its default",
                      sx4_scrub_ratio=scrub)
    assert any(s.active for s in res.specs)
