"""Fall-back path of the SX cascade solver (numba), compiled only when first needed: the
linear-variable Newton (:mod:`._legacy`) followed by a log-form polish, for single cascades
(:func:`solve_fallback`), warm starts from a neighbour (:func:`solve_warm`) and the parallel
batch kernel (:func:`solve_batch_kernel`).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._jit import inner

from ._core import MAXITER, OK, _solve_core
from ._kernels import N_POLISH, N_PRE, solve_cascade_nb
from ._legacy import _solve_core as legacy_core
from ._legacy import solve_cascade as legacy_solve
from ._legacy import solve_cascade_py as legacy_solve_py

__all__ = ["solve_fallback", "solve_warm", "solve_batch_kernel"]


@inner
def _polish(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f,
            x, h, tol, budget):
    """Log-form polish of a solution found in linear variables (one frozen-D sweep in
    logarithms at the solution's own [H+], then Newton)."""
    nst = x.shape[0]
    lh = np.full(nst, np.nan)
    if use_h:
        for j in range(nst):
            lh[j] = math.log(h[j])
    return _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                       use_h, use_f, x, lh, tol, budget, nst - nst + 2, nst < 0)   # plain int, bool


@inner
def solve_warm(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h,
               use_f, x0, lh0, tol, max_iter):
    """Solve from a neighbour's solution (x0, ln h0): log-form Newton, else the linear-variable
    Newton from the same start and a log-form polish. Same returns as :func:`solve_cascade`."""
    st, it, res, wj, wi, x, y, h, f = _solve_core(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, x0,
        lh0, tol, min(max_iter, 20), max_iter - max_iter + 1, max_iter < 0)
    if st == OK or not (use_h or use_f):
        return st, it, res, wj, wi, x, y, h, f
    st2, it2, res2, wj2, wi2, x2, y2, h2, f2 = legacy_core(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, x0,
        lh0, tol, max_iter, max_iter - max_iter)   # (a plain int: one signature)
    if st2 != OK:
        return st2, it + it2, res2, wj2, wi2, x2, y2, h2, f2
    st3, it3, res3, wj3, wi3, x3, y3, h3, f3 = _polish(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, x2,
        h2, tol, min(max_iter, N_POLISH))   # (not the literal: one signature)
    return st3, it + it2 + it3, res3, wj3, wi3, x3, y3, h3, f3


def solve_fallback(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h,
                   use_f, x0, tol, max_iter):
    """The linear-variable Newton (pseudo-transient continuation, homotopy on the organic
    inlet) from the cold or given start, then a log-form polish. Same returns as
    :func:`._kernels.solve_cascade`. Driven from Python: the fall-back compiles one signature
    of :func:`._legacy._solve_core` and reuses the log-form kernel for the polish."""
    out = legacy_solve_py(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                          use_h, use_f, x0, tol, max_iter, 1)
    if out[0] != OK:
        return out
    x2, h2 = out[5], out[7]
    lh = np.log(h2) if use_h else np.full(x2.shape[0], np.nan)
    pol = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                      use_h, use_f, np.ascontiguousarray(x2), lh, tol,
                      int(max(1, min(N_POLISH, 4 * max_iter - out[1]))), 2, False)
    return (pol[0], out[1] + pol[1]) + tuple(pol[2:])


@inner
def solve_fallback_nb(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h,
                   use_f, x0, tol, max_iter):
    """Compiled twin of :func:`solve_fallback` for the parallel batch kernel."""
    st2, it2, res2, wj2, wi2, x2, y2, h2, f2 = legacy_solve(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, x0,
        tol, max_iter, max_iter - max_iter + 1)
    if st2 != OK:
        return st2, it2, res2, wj2, wi2, x2, y2, h2, f2
    st3, it3, res3, wj3, wi3, x3, y3, h3, f3 = _polish(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, x2,
        h2, tol, max(1, min(N_POLISH, 4 * max_iter - it2)))
    return st3, it2 + it3, res3, wj3, wi3, x3, y3, h3, f3


@njit(cache=True, parallel=True, error_model="numpy")
def solve_batch_kernel(nst_arr, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts,
                       Ka, eta, use_h, use_f, tol, max_iter, n_picard, chain):
    """Solve B cascades in parallel; arrays padded along the stage axis to nmax stages.

    Shapes: nst_arr (B,), Lout/Lup/G/Ts/eta (B, nmax), O/fT (B,), ext/k0 (B, nmax, S),
    yin/kf/kh/kfh/sc/z (B, S). ``chain`` > 1 hands out runs of ``chain`` consecutive cascades
    to the threads and starts each cascade from the solution of the last one before it in its
    run that converged, when both have the same stage count; a warm start that does not
    converge within min(max_iter, 100) iterations is dropped for a cold start (the attempts of
    :func:`._kernels.solve_cascade`, then the fall-back), so results do not depend on the
    order. ``chain`` <= 1 solves every cascade from a cold start.
    Returns status (B,), iterations (B,, warm and cold attempts summed), residual (B,),
    x (B, nmax, S), y (B, nmax, S), h (B, nmax), f (B, nmax).
    """
    B = nst_arr.shape[0]
    nmax = ext.shape[1]
    S = ext.shape[2]
    status = np.zeros(B, dtype=np.int64)
    iters = np.zeros(B, dtype=np.int64)
    resid = np.zeros(B)
    X = np.zeros((B, nmax, S))
    Y = np.zeros((B, nmax, S))
    H = np.zeros((B, nmax))
    F = np.zeros((B, nmax))
    size = chain if chain > 1 else 1
    n_runs = (B + size - 1) // size
    warm_iter = max_iter if max_iter < 100 else 100
    for c in prange(n_runs):
        b0 = c * size
        b1 = min(B, b0 + size)
        last = -1   # the last cascade of this run that converged: the next one's start
        for b in range(b0, b1):
            n = nst_arr[b]
            st = MAXITER
            it_warm = 0
            if (last >= 0 and nst_arr[last] == n
                    and (use_h[b] or use_f[b])):   # a linear cascade needs no warm start
                lh0 = np.full(n, np.nan)
                for j in range(n):
                    if use_h[last] and use_h[b]:
                        lh0[j] = math.log(H[last, j])
                st, it_warm, res, wj, wi, x, y, h, f = solve_warm(
                    Lout[b, :n], Lup[b, :n], O[b], ext[b, :n], yin[b], k0[b, :n], kf[b],
                    kh[b], kfh[b], sc[b], z[b], fT[b], G[b, :n], Ts[b, :n], Ka, eta[b, :n],
                    use_h[b], use_f[b], X[last, :n].copy(), lh0, tol, warm_iter)
            if st != OK:
                x0 = np.zeros((n, S))
                st, it, res, wj, wi, x, y, h, f = solve_cascade_nb(
                    Lout[b, :n], Lup[b, :n], O[b], ext[b, :n], yin[b], k0[b, :n], kf[b], kh[b],
                    kfh[b], sc[b], z[b], fT[b], G[b, :n], Ts[b, :n], Ka, eta[b, :n], use_h[b],
                    use_f[b], x0, tol, max_iter, n_picard)
                it_warm += it
                if st != OK and (use_h[b] or use_f[b]):
                    # (the fall-back's budget leaves out the long pseudo-transient attempt,
                    # as in Cascade.solve)
                    st, it, res, wj, wi, x, y, h, f = solve_fallback_nb(
                        Lout[b, :n], Lup[b, :n], O[b], ext[b, :n], yin[b], k0[b, :n], kf[b],
                        kh[b], kfh[b], sc[b], z[b], fT[b], G[b, :n], Ts[b, :n], Ka,
                        eta[b, :n], use_h[b], use_f[b], x0, tol, max_iter - min(it, N_PRE))
                    it_warm += it
            status[b] = st
            if st == OK:
                last = b
            iters[b] = it_warm
            resid[b] = res
            X[b, :n] = x
            Y[b, :n] = y
            H[b, :n] = h
            F[b, :n] = f
    return status, iters, resid, X, Y, H, F
