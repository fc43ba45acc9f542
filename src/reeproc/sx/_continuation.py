"""Continuation (homotopy) in the loading for the SX cascade solver (numba).

The metals of every inlet (the aqueous inflows and the organic inlet's solutes, saponification
Na included) are scaled by lambda. At lambda = 1e-3 every metal is a trace: the free extractant
is that of the unloaded organic, [H+] that of the inlet acid, and the cascade is nearly linear,
so the frozen-D sweeps solve it. lambda then rises geometrically to 1; each step starts from the
previous solution with every concentration scaled by the step ratio (exact in the linear limit)
and its [H+], and a step that does not converge within ``n_step`` iterations is retried
shorter.
"""
from __future__ import annotations

import math

import numpy as np

from ._core import OK, _solve_core
from ._jit import inner


@inner
def metal_scale(ext, z, lam, Lup, Lout, G, Gl):
    """ext scaled by lam, and the proton invariant G (into Gl) with its metal part scaled
    alike."""
    nst, S = ext.shape
    el = np.empty((nst, S))
    dm = np.zeros(nst)
    for j in range(nst):
        s = 0.0
        for i in range(S):
            el[j, i] = lam * ext[j, i]
            s += z[i] * ext[j, i]
        dm[j] = s
    c = 0.0
    for j in range(nst - 1, -1, -1):
        val = dm[j]
        if j + 1 < nst:
            val += Lup[j] * c
        c = val / Lout[j]
        Gl[j] = G[j] - (1.0 - lam) * c
    return el


@inner
def loading_continuation(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka,
                         eta, use_h, use_f, tol, budget, n_step, n_first, n_picard):
    """Run the continuation with the log-form Newton (:func:`._core._solve_core`).
    Returns (status, iterations, residual, worst stage, worst row, x, y, h, f) of the last
    solved step (status OK only when lambda reached 1)."""
    nst, S = ext.shape
    yl = np.zeros(S)
    Gl = np.zeros(nst)
    xc = np.zeros((nst, S))
    lhc = np.full(nst, np.nan)
    lam = 0.0
    step = 4.0
    first = True
    n_fail = 0
    itot = 0
    res = np.inf
    wj = 0
    wi = 0
    x = np.zeros((nst, S))
    y = np.zeros((nst, S))
    h = np.ones(nst)
    f = np.full(nst, fT)
    while itot < budget:
        lt = 1e-3 if first else min(1.0, lam * step)
        for i in range(S):
            yl[i] = lt * yin[i]
        el = metal_scale(ext, z, lt, Lup, Lout, G, Gl)
        xs = np.zeros((nst, S))
        if not first:
            for j in range(nst):
                for i in range(S):
                    xs[j, i] = xc[j, i] * (lt / lam)
        stc, itc, resc, wjc, wic, xn, yn, hn, fn = _solve_core(
            Lout, Lup, O, el, yl, k0, kf, kh, kfh, sc, z, fT, Gl, Ts, Ka, eta, use_h, use_f,
            xs, lhc, tol, min(n_first if first else n_step, budget - itot),
            n_picard if first else 1, nst < 0)   # (a plain-bool False: one signature)
        itot += itc
        if stc == OK:
            lam = lt
            first = False
            for j in range(nst):
                for i in range(S):
                    xc[j, i] = xn[j, i]
                lhc[j] = math.log(hn[j]) if use_h else np.nan
            res, wj, wi, x, y, h, f = resc, wjc, wic, xn, yn, hn, fn
            if lam >= 1.0:
                return OK, itot, res, wj, wi, x, y, h, f
            if itc <= 6 and step < 16.0:
                step = step * step
        else:
            if first:
                break
            step = math.sqrt(step)
            n_fail += 1
            if step < 1.0 + 1e-4 or n_fail > 40:
                break
    return 1, itot, res, wj, wi, x, y, h, f


def loading_continuation_py(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka,
                            eta, use_h, use_f, tol, budget, n_step, n_first, n_picard):
    """:func:`loading_continuation` driven from Python (same steps, same returns): every step
    is one call of the compiled :func:`._core._solve_core`, so the single-cascade path
    compiles no second copy of the solver."""
    nst, S = ext.shape
    dm = ext @ z
    c = np.zeros(nst)   # metal charge carried along the aqueous train [eq/L]
    acc = 0.0
    for j in range(nst - 1, -1, -1):
        acc = (dm[j] + (Lup[j] * acc if j + 1 < nst else 0.0)) / Lout[j]
        c[j] = acc
    lhc = np.full(nst, np.nan)
    xc = None
    lam = 0.0
    step = 4.0
    n_fail = 0
    itot = 0
    last = None
    while itot < budget:
        first = xc is None
        lt = 1e-3 if first else min(1.0, lam * step)
        xs = np.zeros((nst, S)) if first else xc * (lt / lam)
        out = _solve_core(Lout, Lup, O, np.ascontiguousarray(lt * ext), lt * yin, k0, kf, kh,
                          kfh, sc, z, fT, G - (1.0 - lt) * c, Ts, Ka, eta, use_h, use_f, xs,
                          lhc, tol, int(min(n_first if first else n_step, budget - itot)),
                          int(n_picard if first else 1), False)
        itot += out[1]
        if out[0] == OK:
            lam = lt
            xc = out[5]
            lhc = np.log(out[7]) if use_h else np.full(nst, np.nan)
            last = out
            if lam >= 1.0:
                return (OK, itot) + tuple(out[2:])
            if out[1] <= 6 and step < 16.0:
                step = step * step
        else:
            if first:
                break
            step = math.sqrt(step)
            n_fail += 1
            if step < 1.0 + 1e-4 or n_fail > 40:
                break
    if last is None:
        return (1, itot, np.inf, 0, 0, np.zeros((nst, S)), np.zeros((nst, S)), np.ones(nst),
                np.full(nst, fT))
    return (1, itot) + tuple(last[2:])
