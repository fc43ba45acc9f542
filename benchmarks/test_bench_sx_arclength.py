"""SX pseudo-arclength (the solver's last attempt, ``reeproc.sx._arclength``): cost of one
factorisation of the bordered corrector system with the constraint row scaled as the module
does (``ARC_ROW_SCALE``) against the same row unscaled, measured in the same process on the
Jacobian of the 100- and 400-stage benchmark cascades at their answer; and one loading leg
(lambda 1e-3 -> 1) of the 100-stage cascade.

Run: python -m pytest benchmarks/ -c benchmarks/pytest.ini --benchmark-only -s
"""

import numpy as np
from test_bench_sx import _case, _per_call

from reeproc.sx import _arclength as AL
from reeproc.sx import _kernels as K
from reeproc.sx._pack import _ARGS
from reeproc.sx.cascade import N_PICARD



def _bordered(n_ext):
    """(rows, cols, vals, lambda column, constraint row, n) at the answer of the benchmark
    cascade with n_ext extraction stages, continued in the loading."""
    cas, kw = _case(n_ext)
    a = cas._assemble(kw["feed"], kw["organic"], kw["scrub"], kw["strip"])["arrays"]
    A = tuple(a[k] for k in _ARGS[1:])
    out = K.solve_cascade(*A, np.zeros(A[3].shape), 1e-12, 3000, N_PICARD)
    assert out[0] == K.OK
    x, h, f = out[5], out[7], out[8]
    mask = ~(x > 0)
    z = np.hstack([np.where(mask, 0.0, np.log(np.where(mask, 1.0, x))), np.log(h)[:, None],
                   np.log(f)[:, None]]).ravel()
    n = z.size

    def args_of(t):
        return A[:3] + (t * A[3], t * A[4]) + A[5:]

    R, r, c, v = AL.evaluate(z, mask, args_of(1.0))
    Rl = (AL.evaluate(z, mask, args_of(1.0 + AL.ARC_DLAM), False) - R) / AL.ARC_DLAM
    e = np.zeros(n + 1)
    e[n] = 1.0
    t = AL._lu(r, c, v, Rl, e, n)(e)
    t /= np.linalg.norm(t)
    row = np.where(np.abs(t) >= AL.ARC_ROW * np.abs(t).max(), t, 0.0)
    return r, c, v, Rl, row, n, args_of, (x, h, f)


def test_bench_sx_arclength_bordered_lu(benchmark, monkeypatch):
    """One bordered factorisation, constraint row scaled (the module) vs unscaled."""
    res = {}
    for n_ext in (40, 160):
        r, c, v, Rl, row, n, _, _ = _bordered(n_ext)
        scaled = _per_call(lambda: AL._lu(r, c, v, Rl, row, n), 20)
        with monkeypatch.context() as m:
            m.setattr(AL, "ARC_ROW_SCALE", 1.0)
            plain = _per_call(lambda: AL._lu(r, c, v, Rl, row, n), 20)
            b = np.random.default_rng(0).normal(size=n + 1)
            same = np.allclose(AL._lu(r, c, v, Rl, row, n)(b), AL._lu(r, c, v, Rl, row, n)(b))
        res[n] = (scaled, plain)
        assert same
    r, c, v, Rl, row, n, _, _ = _bordered(40)
    benchmark(AL._lu, r, c, v, Rl, row, n)
    benchmark.extra_info.update({f"n{k}_scaled_ms": s * 1e3 for k, (s, _) in res.items()})
    benchmark.extra_info.update({f"n{k}_unscaled_ms": p * 1e3 for k, (_, p) in res.items()})
    print("\nSX arclength, one bordered LU: " + "; ".join(
        f"{k} unknowns {s * 1e3:.2f} ms scaled row vs {p * 1e3:.2f} ms unscaled "
        f"({p / s:.1f}x)" for k, (s, p) in res.items()))


def test_bench_sx_arclength_loading_leg(benchmark):
    """The loading leg of the 100-stage benchmark cascade from 1e-3 of its loading (solved
    cold) to the full cascade; baseline: its direct cold solve in the same process."""
    _, _, _, _, _, n, args_of, ans = _bordered(40)
    st = K.solve_cascade(*args_of(1e-3), np.zeros(ans[0].shape), 1e-12, 3000, N_PICARD)
    assert st[0] == K.OK

    def leg():
        return AL.follow(args_of, st[5], st[7], st[8], 1e-3, tol_end=1e-12)

    arc = benchmark.pedantic(leg, rounds=3, iterations=1)
    t_leg = benchmark.stats.stats.min
    t_cold = _per_call(lambda: K.solve_cascade(*args_of(1.0), np.zeros(ans[0].shape), 1e-12,
                                               3000, N_PICARD), 20)
    assert arc.reached
    dev = float(np.max(np.abs(arc.x - ans[0]) / ans[0].max(axis=0)))
    benchmark.extra_info.update(leg_s=t_leg, iterations=arc.iterations, cold_solve_s=t_cold,
                                max_dev_scaled=dev)
    print(f"\nSX arclength loading leg, 100 stages ({n} unknowns): {t_leg * 1e3:.0f} ms, "
          f"{arc.iterations} iterations; direct cold solve {t_cold * 1e3:.2f} ms; answers "
          f"agree to {dev:.1e} (scaled by each species' largest)")
