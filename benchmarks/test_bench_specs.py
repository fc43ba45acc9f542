"""Design-spec benchmark: the reference NdFeB long loop (flowsheets/ndfeb_long_loop.py) with its
design specs (Dy2O3 and NdPr oxide >= 99.7 %, by the SX1 reflux fraction and O/A), warm
(numba cache loaded, one warm-up run first). Acceptance: under 1 s per run with its specs.

Baseline in the same process: the same run with the specs switched off (``specs=False``); the
ratio is the extra cost of the specs. Two cases:

* the default feed (EV_traction): with this branch's feed data both specs hold without acting
  (one check of each measure); a default that needs a spec to act costs its search (next case);
* the SX1 reflux started 20 % below its default: the heavy product falls below 99.7 % and its
  spec moves the reflux back, each trial a warm-started recycle solve: the cost of a spec that
  works.

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

    reflux = 0.8 * script_parameters(REFERENCE)["sx1_reflux_fraction"].default
    res, _ = _compare(benchmark, "reference, SX1 reflux 20 % below its default",
                      sx1_reflux_fraction=reflux)
    assert any(s.active for s in res.specs)
