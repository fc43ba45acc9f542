"""Numba kernels of the SX cascade solver (pure arrays, no Stream objects): the strategy.

The equations and their log form are in :mod:`._newton` and :mod:`._equilibrium`; one log-form
Newton attempt (start, frozen-D sweeps, line search) in :mod:`._core`.

1. **Direct.** From a cold start the aqueous inlets are carried through; then frozen-D sweeps
   (with the distribution ratios of the iterate fixed the cascade is linear: one tridiagonal
   solve per species, in logarithms, :func:`._newton.linear_solve_log`), kept while they
   lower the residual; then Newton in the log unknowns with a backtracking line search on a
   flow-weighted merit. A constant-D cascade is solved exactly by its first sweep.
2. **Pseudo-transient attempt** with [H+] eliminated (models with [H+]; ``_core``, with
   ``n_picard = PTC_ATTEMPT``) when the direct attempt fails: from the unloaded frozen-D
   cascade with each stage's metal charge capped, pseudo-time regulated steps in ln x with
   [H+] from the proton invariant at every iterate (a metal build-up that only the acid it
   consumes can limit, such as issue 11's textbook cascade with 1 M dimer); where it runs
   out of iterations, once more from its last state with the pseudo-time parameter reset.
3. **Continuation in the loading** (:mod:`._continuation`) when these stall, then a long
   pseudo-transient attempt (``N_PTC_LONG`` steps: a slow front, such as the saponified Pr/Nd
   cascade of the reference plant, crosses its cascade in ~1,800).
4. **Fall-back** (:mod:`._fallback`, compiled only when first needed): the linear-variable
   Newton with pseudo-transient continuation and homotopy on the organic inlet
   (:mod:`._legacy`), whose answer is then
5. **polished** in log form (a frozen-D sweep at its own [H+], which fixes every trace, and
   Newton), so the result meets the same relative tolerance on every row.
6. **Continuations** in the sulfate, the saponification and the acid
   (:func:`._fallback.solve_by_continuation`, run by the callers from a cold start) for a
   cascade that is still unsolved.

Convergence means every row satisfies |r| <= tol: every species balance at every stage closes to
``tol`` relative to that species' own flows there, and the proton invariant to ``tol`` of its
terms.
"""
from __future__ import annotations

import math

import numpy as np

from ._jit import inlined, kernel

from ._continuation import loading_continuation, loading_continuation_py
from ._core import MAXITER, OK, PTC_ATTEMPT, SINGULAR, STALLED, _solve_core
from ._equilibrium import KW, LN10
from ._newton import linear_solve

N_DIRECT = 40       # iterations of the direct attempt before continuation takes over
N_PTC = 220         # iterations of the pseudo-transient attempt ([H+] eliminated), and of
                    # its resumption from its last state (pseudo-time reset) where it ran out
N_STEP = 25         # iterations allowed per continuation step
N_CONT = 300        # iterations of the whole continuation before the fall-back
N_PTC_LONG = 2000   # iterations of the long pseudo-transient attempt before the fall-back
N_PRE = N_DIRECT + 2 * N_PTC + N_CONT  # the attempts before the long one (fall-back's budget)
N_RESTART = 50      # Newton iterations restarted from where the long attempt stalled ...
RESTART_RES = 1e-2  # ... when its residual is below this
N_POLISH = 30       # iterations of the log-form polish after the fall-back solver

__all__ = ["KW", "OK", "MAXITER", "SINGULAR", "STALLED", "solve_cascade", "solve_cascade_nb",
           "aqueous_tracer", "N_POLISH"]


@kernel
def _solve_linear(Lout, Lup, O, ext, yin, k0, fT, tol):
    """Constant-D cascade with equilibrium stages: the direct tridiagonal solve (exact to
    rounding for every concentration in the double range), and its log-form residual."""
    nst, S = ext.shape
    D = np.empty((nst, S))
    for j in range(nst):
        for i in range(S):
            D[j, i] = math.exp(LN10 * k0[j, i])
    x = np.empty((nst, S))
    linear_solve(Lout, Lup, O, ext, yin, D, x)
    y = np.empty((nst, S))
    for j in range(nst):
        for i in range(S):
            y[j, i] = D[j, i] * x[j, i]
    res = 0.0
    wj = 0
    wi = 0
    for j in range(nst):
        for i in range(S):
            out = Lout[j] * x[j, i] + O * y[j, i]
            if not out > 1e-300:
                continue   # a zero or sub-double trace: nothing to check in double precision
            inn = ext[j, i] + (O * yin[i] if j == 0 else O * y[j - 1, i])
            if j + 1 < nst:
                inn += Lup[j] * x[j + 1, i]
            r = abs(math.log(inn / out))
            if not r <= res:
                res = r
                wj = j
                wi = i
    st = OK if res <= tol else MAXITER
    return st, 1, res, wj, wi, x, y, np.ones(nst), np.full(nst, fT)


def solve_cascade(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                  use_h, use_f, x0, tol, max_iter, n_picard, lh0=None, long_ptc=True):
    """Robust entry for one cascade (module docstring), driven from Python.

    1. Direct: frozen-D sweeps and the log-form Newton with line search, at most ``N_DIRECT``
       iterations for nonlinear models (a linear, constant-D cascade is solved by its first
       sweep).
    2. For models with [H+]: the pseudo-transient attempt with [H+] eliminated, at most
       ``N_PTC`` iterations (:func:`._core._solve_core` with ``n_picard = PTC_ATTEMPT``);
       where it runs out of iterations, the same attempt again from its last state (the
       pseudo-time parameter reset), at most ``N_PTC`` more (with ``long_ptc`` only).
    3. Continuation in the loading (:func:`._continuation.loading_continuation_py`).

    Python drives the steps so that only one compiled kernel (:func:`._core._solve_core`, one
    signature) serves every step: a compiled driver would optimise the whole solver again on
    the first run (``docs/sx.md``, Performance). :func:`solve_cascade_nb` is the compiled
    twin for the parallel batch kernel. When this fails the caller runs
    :func:`._fallback.solve_fallback` (compiled only when first needed).

    Same arguments as :func:`._core._solve_core` (without ptc_ok; ``lh0`` optional, the
    initial ln [H+] [ln(mol/L)] per stage, NaN or None: from the proton invariant;
    ``long_ptc`` False skips the resumption and the long pseudo-transient attempt: the
    latter starts from scratch, so a warm start that failed goes to the fall-back, which
    keeps its start (a spec search's steps), and so does a cascade whose saponified organic
    brings more base than its inlets bring acid and metal). Returns
    status, iterations (summed over attempts), residual (max |r| of the log-form rows), worst
    stage, worst row, x, y, h, f.
    """
    nst, S = ext.shape
    nonlinear = bool(use_h or use_f)
    if not nonlinear and not np.any(eta < 1.0):
        return _solve_linear(Lout, Lup, O, ext, yin, k0, fT, tol)
    lh = np.full(nst, np.nan) if lh0 is None else lh0
    out = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                      use_h, use_f, x0, lh, tol,
                      min(max_iter, N_DIRECT) if nonlinear else max_iter, n_picard,
                      not nonlinear)
    if out[0] == OK or not nonlinear:
        return out
    if use_h and max_iter > out[1]:
        pt = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                         use_h, use_f, np.zeros((nst, S)), np.full(nst, np.nan), tol,
                         min(max_iter - out[1], N_PTC), PTC_ATTEMPT, False)
        if pt[0] == OK:
            return (OK, out[1] + pt[1]) + tuple(pt[2:])
        out = (out[0], out[1] + pt[1]) + tuple(out[2:])
        if pt[0] == MAXITER and long_ptc and max_iter > out[1]:
            # resumed from its last state, the pseudo-time parameter reset (the saponified
            # sweep's cold heads: 63-81 steps more, where the attempts after it took 750-840;
            # as the long attempt, not for an over-saponified cascade or a warm start)
            pt = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka,
                             eta, use_h, use_f, np.ascontiguousarray(pt[5]),
                             np.full(nst, np.nan), tol, min(max_iter - out[1], N_PTC),
                             PTC_ATTEMPT, False)
            if pt[0] == OK:
                return (OK, out[1] + pt[1]) + tuple(pt[2:])
            out = (out[0], out[1] + pt[1]) + tuple(out[2:])
    itot = out[1]   # (including the pseudo-transient attempt)
    if max_iter > itot:
        cont = loading_continuation_py(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G,
                                       Ts, Ka, eta, use_h, use_f, tol,
                                       min(max_iter - itot, N_CONT), N_STEP, N_DIRECT, n_picard)
        itot += cont[1]
        if cont[0] == OK:
            return (cont[0], itot) + tuple(cont[2:])
    if use_h and long_ptc and max_iter >= N_PRE:
        # a long pseudo-transient attempt: slow fronts (the saponified Pr/Nd cascade of the
        # reference plant needs ~1,800 steps) solve here without compiling the fall-back
        # (benchmarks/test_bench_sx.py::test_bench_sx_first_run_compile)
        pt = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                         use_h, use_f, np.zeros((nst, S)), np.full(nst, np.nan), tol,
                         N_PTC_LONG, PTC_ATTEMPT, False)
        itot += pt[1]
        if pt[0] == OK:
            return (OK, itot) + tuple(pt[2:])
        if pt[2] < RESTART_RES:
            # its end-game can stall near the answer (the [H+] coupling it drops): Newton
            # with [H+] restarts from there (the README's Pr/Nd example: 5-6 steps)
            nw = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka,
                             eta, use_h, use_f, np.ascontiguousarray(pt[5]), np.log(pt[7]),
                             tol, N_RESTART, 1, False)
            itot += nw[1]
            if nw[0] == OK:
                return (OK, itot) + tuple(nw[2:])
    # (the continuation's last state solves a partly loaded cascade: report the direct one)
    return (out[0], itot) + tuple(out[2:])


@inlined
def solve_cascade_nb(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                     use_h, use_f, x0, tol, max_iter, n_picard, long_ptc):
    """Compiled twin of :func:`solve_cascade` for the parallel batch kernel (cold start)."""
    nst, S = ext.shape
    nonlinear = use_h or use_f
    if not nonlinear:
        murphree = False
        for j in range(nst):
            if eta[j] < 1.0:
                murphree = True
        if not murphree:
            return _solve_linear(Lout, Lup, O, ext, yin, k0, fT, tol)
    lh0 = np.full(nst, np.nan)
    st, it, res, wj, wi, x, y, h, f = _solve_core(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, x0,
        lh0, tol, min(max_iter, N_DIRECT) if nonlinear else max_iter, n_picard, not nonlinear)
    if st == OK or not nonlinear:
        return st, it, res, wj, wi, x, y, h, f
    itot = it
    if use_h and max_iter > it:
        stp, itp, resp, wjp, wip, xp, yp, hp, fp = _solve_core(
            Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f,
            x0 * 0.0, lh0, tol, min(max_iter - it, N_PTC), n_picard * 0 + PTC_ATTEMPT,
            nst < 0)   # (plain int and bool: a global constant is a literal in numba)
        itot += itp
        if stp == OK:
            return stp, itot, resp, wjp, wip, xp, yp, hp, fp
        if stp == MAXITER and long_ptc and max_iter > itot:   # (resumed, as in solve_cascade)
            stp, itp, resp, wjp, wip, xp, yp, hp, fp = _solve_core(
                Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h,
                use_f, xp, lh0, tol, min(max_iter - itot, N_PTC),
                n_picard * 0 + PTC_ATTEMPT, nst < 0)
            itot += itp
            if stp == OK:
                return stp, itot, resp, wjp, wip, xp, yp, hp, fp
    if max_iter <= itot:
        return st, itot, res, wj, wi, x, y, h, f
    stc, itc, resc, wjc, wic, xc, yc, hc, fc = loading_continuation(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, tol,
        min(max_iter - itot, N_CONT), N_STEP, N_DIRECT, n_picard)
    itot += itc
    if stc == OK:
        return stc, itot, resc, wjc, wic, xc, yc, hc, fc
    if use_h and long_ptc and max_iter >= N_PRE:   # the long attempt (solve_cascade)
        stp, itp, resp, wjp, wip, xp, yp, hp, fp = _solve_core(
            Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f,
            x0 * 0.0, lh0, tol, max_iter * 0 + N_PTC_LONG, n_picard * 0 + PTC_ATTEMPT, nst < 0)
        itot += itp
        if stp == OK:
            return stp, itot, resp, wjp, wip, xp, yp, hp, fp
        if resp < RESTART_RES:
            stn, itn, resn, wjn, win, xn, yn, hn, fn = _solve_core(
                Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h,
                use_f, xp, np.log(hp), tol, max_iter * 0 + N_RESTART, n_picard * 0 + 1, nst < 0)
            itot += itn
            if stn == OK:
                return stn, itot, resn, wjn, win, xn, yn, hn, fn
    return st, itot, res, wj, wi, x, y, h, f


@kernel
def aqueous_tracer(e, Lup, Lout):
    """Concentration [mol/L] of solutes that no phase change touches (inert tracers) along the
    aqueous train: c_j = (e_j + Lup_j c_{j+1}) / Lout_j, from the last stage down.

    e : (nst, K) stage inflows [mol/h]; Lup, Lout : (nst,) [L/h]. Returns (nst, K).
    """
    nst, K = e.shape
    c = np.zeros((nst, K))
    for j in range(nst - 1, -1, -1):
        for k in range(K):
            val = e[j, k]
            if j + 1 < nst:
                val += Lup[j] * c[j + 1, k]
            c[j, k] = val / Lout[j]
    return c
