"""SX pseudo-arclength (the solver's last attempt, ``reeproc.sx._arclength``): cost of one
Jacobian step of the corrector (rows and Jacobian blocks compiled, band LU with partial
pivoting, the border by two solves) against the same step through a sparse LU of the bordered
matrix (scipy ``splu``, the module's method until 2026-12-03, constraint row scaled to 1e-8),
measured in the same process on the Jacobian of the 100- and 400-stage benchmark cascades at
their answer; and one loading leg (lambda 1e-3 -> 1) of the 100-stage cascade.

Run: python -m pytest benchmarks/ -c benchmarks/pytest.ini --benchmark-only -s
"""

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import splu
from test_bench_sx import _case, _per_call

from reeproc.sx import _arclength as AL
from reeproc.sx import _kernels as K
from reeproc.sx._pack import _ARGS
from reeproc.sx.cascade import N_PICARD


def _bordered(n_ext):
    """(unknowns z, mask, cascade arguments, lambda column, constraint row, args_of, answer)
    at the answer of the benchmark cascade with n_ext extraction stages, continued in the
    loading."""
    cas, kw = _case(n_ext)
    a = cas._assemble(kw["feed"], kw["organic"], kw["scrub"], kw["strip"])["arrays"]
    A = tuple(a[k] for k in _ARGS[1:])
    out = K.solve_cascade(*A, np.zeros(A[3].shape), 1e-12, 3000, N_PICARD)
    assert out[0] == K.OK
    x, h, f = out[5], out[7], out[8]
    z, mask = AL._start(A, x, h, f)

    def args_of(t):
        return A[:3] + (t * A[3], t * A[4]) + A[5:]

    R, fac = AL._factor(z, mask, args_of(1.0))
    Rl = (AL.evaluate(z, mask, args_of(1.0 + AL.ARC_DLAM), False) - R) / AL.ARC_DLAM
    n = z.size
    e = np.zeros(n + 1)
    e[n] = 1.0
    t = AL._lu(fac, Rl, e)(e)
    t /= np.linalg.norm(t)
    row = np.where(np.abs(t) >= AL.ARC_ROW * np.abs(t).max(), t, 0.0)
    return z, mask, A, Rl, row, args_of, (x, h, f)


def _sparse_step(z, mask, A, Rl, row):
    """The baseline: Jacobian as (rows, cols, values), sparse LU of the bordered matrix in
    stage order with the constraint row scaled to 1e-8 of its largest (so that threshold
    pivoting keeps it last)."""
    _, r, c, v = AL.evaluate(z, mask, A)
    n = z.size
    k = 1e-8 / np.abs(row).max()
    M = coo_matrix((np.concatenate([v, Rl, k * row]),
                    (np.concatenate([r, np.arange(n), np.full(n + 1, n)]),
                     np.concatenate([c, np.full(n, n), np.arange(n + 1)]))),
                   shape=(n + 1, n + 1)).tocsc()
    lu = splu(M, permc_spec="NATURAL")

    def solve(b):
        b = b.copy()
        b[n] *= k
        return lu.solve(b)
    return solve


def _band_step(z, mask, A, Rl, row):
    """The module's corrector step: rows and blocks, band LU, bordering."""
    return AL._lu(AL._factor(z, mask, A)[1], Rl, row)


def test_bench_sx_arclength_bordered_lu(benchmark):
    """One Jacobian step of the corrector (evaluation, factorisation, border): the module's
    band LU vs a sparse LU of the bordered matrix, same Jacobian, same process."""
    res = {}
    for n_ext in (40, 160):
        z, mask, A, Rl, row, _, _ = _bordered(n_ext)
        band = _per_call(lambda: _band_step(z, mask, A, Rl, row), 20)
        sparse = _per_call(lambda: _sparse_step(z, mask, A, Rl, row), 20)
        b = np.random.default_rng(0).normal(size=z.size + 1)
        d1, d2 = _band_step(z, mask, A, Rl, row)(b), _sparse_step(z, mask, A, Rl, row)(b)
        dev = float(np.abs(d1 - d2).max() / np.abs(d2).max())
        assert dev < 1e-9
        res[z.size] = (band, sparse, dev)
    z, mask, A, Rl, row, _, _ = _bordered(40)
    benchmark(_band_step, z, mask, A, Rl, row)
    benchmark.extra_info.update({f"n{k}_band_ms": s * 1e3 for k, (s, _, _) in res.items()})
    benchmark.extra_info.update({f"n{k}_splu_ms": p * 1e3 for k, (_, p, _) in res.items()})
    print("\nSX arclength, one corrector Jacobian step: " + "; ".join(
        f"{k} unknowns {s * 1e3:.3f} ms band LU vs {p * 1e3:.2f} ms sparse LU ({p / s:.1f}x, "
        f"steps agree to {d:.1e})" for k, (s, p, d) in res.items()))


def test_bench_sx_arclength_loading_leg(benchmark):
    """The loading leg of the 100-stage benchmark cascade from 1e-3 of its loading (solved
    cold) to the full cascade; baseline: its direct cold solve in the same process."""
    z, _, _, _, _, args_of, ans = _bordered(40)
    n = z.size
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


def test_bench_sx_arclength_between_saponified_neighbours(benchmark):
    """The arclength between two neighbouring cascades of the saponified sweep
    (``test_bench_sweep.py``): from the solved O/A 5.2 cascade to the over-saponified O/A
    5.3 one (scrub 0.44 L/h, 30 + 30 + 6 stages), a Na front crossing the stages on the way;
    baseline: the corrector iterations it takes (time per iteration)."""
    from reeproc import Stream, sx
    from reeproc.sx._pack import _ARGS

    def job(O):
        cas = sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4),
                         30, 30, 6)
        kw = dict(feed=Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61}),
                  organic=Stream.organic(O, {"PC88A": 1.0}),
                  scrub=Stream.aqueous(0.44, {"H+": 3.4, "Cl-": 3.4}),
                  strip=Stream.aqueous(1.0, {"H+": 4.0, "Cl-": 4.0}))
        asm = cas._assemble(kw["feed"], kw["organic"], kw["scrub"], kw["strip"])
        return cas, kw, tuple(asm["arrays"][k] for k in _ARGS[1:])

    cas0, kw0, A0 = job(5.2)
    cas1, kw1, A1 = job(5.3)
    r0 = cas0.solve(**kw0)
    raw = r0._raw
    x, h, f = raw["aq_arr"][:, :3], raw["h"], raw["f"]
    args_of = AL.between(A0, A1)

    def leg():
        return AL.follow(args_of, x, h, f, 0.0, tol_end=1e-12)

    leg()   # (the loop's first use compiles it)
    arc = benchmark.pedantic(leg, rounds=3, iterations=1)
    t = benchmark.stats.stats.min
    assert arc.reached
    alone = cas1.solve(**kw1)
    want = alone.aqueous_profile[["Pr", "Nd", "Na"]].to_numpy()
    live = want > 1e-280
    dev = float(np.max(np.abs(arc.x[live] - want[live]) / want[live]))
    benchmark.extra_info.update(leg_s=t, iterations=arc.iterations, us_per_iteration=t /
                                arc.iterations * 1e6, max_rel_dev=dev)
    print(f"\nSX arclength between saponified neighbours (O/A 5.2 -> 5.3, {x.size + 2 * len(h)}"
          f" unknowns): {t * 1e3:.0f} ms, {arc.iterations} iterations "
          f"({t / arc.iterations * 1e6:.0f} us each); the state at lambda = 1 agrees with "
          f"Cascade.solve to {dev:.1e} (relative, every entry above 1e-280 mol/L)")
