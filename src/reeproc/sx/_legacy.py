"""Driver of the linear-variable Newton core (:mod:`._legacy_step`): frozen-D first step,
backtracking line search with a positivity-preserving update, pseudo-transient continuation
when the line search fails, a second attempt without the frozen-D step, and a homotopy on the
organic inlet. Used by :func:`._kernels.solve_cascade` when the log-form Newton does not
converge directly; its result is then polished in log form.
"""
from __future__ import annotations

import math

import numpy as np

from ._jit import inner, kernel

from ._equilibrium import h_from_invariant as _h_from_invariant
from ._legacy_step import (LH_STEP, _equilibrium, _merit, _newton_step, _residual, _scaled_max,
                           _species_index, _update)

PTC_MINFAC = 0.05
PTC_GROW = 100.0
PTC_MAXFAC = 0.6
PTC_REJECT = 3.0
OK = 0
MAXITER = 1
SINGULAR = 2
STALLED = 3


@kernel
def _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                use_h, use_f, x0, lh0, tol, max_iter, n_picard):
    """Solve one counter-current cascade.

    Parameters (arrays, stage index j = 0..nst-1, species i = 0..S-1)
    ----------
    Lout, Lup : (nst,) aqueous flow leaving stage j / arriving from stage j+1 [L/h]
    O : organic flow [L/h]
    ext : (nst, S) external aqueous inflow per stage [mol/h]
    yin : (S,) organic inlet concentration at stage 1 [mol/L]
    k0 : (nst, S), kf, kh, kfh, sc, z : (S,) equilibrium coefficients (module docstring)
    fT : total extractant (same unit as f); G, Ts : (nst,) proton invariant and total sulfate
    [mol/L]; Ka : HSO4- dissociation constant [mol/L]; eta : (nst,) Murphree efficiency
    x0 : (nst, S) initial aqueous concentrations [mol/L] (all zeros -> internal start)
    lh0 : (nst,) initial ln [H+] (NaN -> from the proton invariant at x0)

    Returns
    -------
    status, iterations, residual (max scaled), worst stage, worst row (species index; S is
    the proton invariant), x, y, h, f
    """
    nst, S = ext.shape
    n_murphree = 0
    for j in range(nst):
        if eta[j] < 1.0:
            n_murphree += 1
    murphree = n_murphree > 0   # a plain bool (a literal False would compile its callees twice)
    no = nst < 0                # False and True as plain bools, for the same reason
    yes = not no
    nbx = 2 * S if murphree else S
    nb = nbx + (1 if use_h else 0)
    x = x0.copy()
    y = np.zeros((nst, S))
    lh = np.zeros(nst)
    fst = np.full(nst, fT)
    ystar = np.zeros((nst, S))
    Jall = np.zeros((nst, S, S))
    Jh = np.zeros((nst, S))
    Hd = np.zeros(nst)
    lnA = np.empty(S)
    R = np.zeros((nst, nb))
    dx = np.zeros((nst, nb))
    Cp = np.zeros((nst, nb, S))
    dp = np.zeros((nst, nb))
    M = np.zeros((nb, nb))
    A = np.zeros((nb, nb))
    Rhs = np.zeros((nb, S + 1))
    xt = np.zeros((nst, S))
    yt = np.zeros((nst, S))
    lht = np.zeros(nst)
    ft = np.zeros(nst)
    Rt = np.zeros((nst, nb))
    Dd = np.zeros((nst, S))
    # row scales: species total inflow [mol/h]; invariant: total equivalents in [mol/h]
    scale = np.zeros(S)
    for i in range(S):
        s = O * yin[i]
        for j in range(nst):
            s += ext[j, i]
        scale[i] = s
    smax = 0.0
    for i in range(S):
        if scale[i] > smax:
            smax = scale[i]
    if smax <= 0.0:
        smax = 1.0
    for i in range(S):
        if scale[i] < 1e-30 * smax:
            scale[i] = 1e-30 * smax
        if scale[i] < 1e-300:
            scale[i] = 1e-300
    rscale = np.zeros(nb)
    for a in range(nbx):
        rscale[a] = scale[a if a < S else a - S]
    if use_h:
        sh = 0.0
        for i in range(S):
            sh += abs(z[i]) * scale[i]
        gmax = 0.0
        for j in range(nst):
            v = abs(G[j]) * Lout[j]
            if v > gmax:
                gmax = v
        if gmax > sh:
            sh = gmax
        if not sh > 0.0:
            sh = smax
        rscale[nbx] = sh
    # ---------------------------------------------------------------- initial guess
    zero_start = True
    for j in range(nst):
        for i in range(S):
            if x[j, i] != 0.0:
                zero_start = False
    if zero_start:
        # aqueous inlets carried through with no extraction (tracer), as a start
        for j in range(nst - 1, -1, -1):
            for i in range(S):
                v = ext[j, i]
                if j + 1 < nst:
                    v += Lup[j] * x[j + 1, i]
                x[j, i] = v / Lout[j] if Lout[j] > 0.0 else 0.0
    if use_h:
        for j in range(nst):
            if np.isfinite(lh0[j]):
                lh[j] = lh0[j]
            else:
                Rj = G[j]
                for i in range(S):
                    Rj -= z[i] * x[j, i]
                lh[j] = math.log(_h_from_invariant(Rj, Ts[j], Ka))
    if murphree:
        for j in range(nst):
            h = math.exp(lh[j]) if use_h else 1.0
            fst[j] = _equilibrium(x, h, j, k0, kf, kh, kfh, sc, fT, use_h, use_f, fst[j],
                                  ystar, Jall, Jh, no, lnA)
        for j in range(nst):
            for i in range(S):
                yprev = yin[i] if j == 0 else y[j - 1, i]
                y[j, i] = (1.0 - eta[j]) * yprev + eta[j] * ystar[j, i]
    _residual(x, y, lh, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
              use_h, use_f, murphree, fst, ystar, Jall, Jh, Hd, R, yes, lnA)
    res, wj, wa = _scaled_max(R, rscale, nb)
    phi = _merit(R, rscale, nb)
    current = True  # ystar, Jall and R belong to the iterate x
    status = MAXITER
    it = 0
    polished = False
    ptc = 0.0
    n_ptc = 0
    while it < max_iter:
        if res <= tol:
            if polished or res <= 0.1 * tol or res < 1e-15:
                status = OK
                break
            polished = True
        picard = it < n_picard
        if ptc > 0.0:
            for j in range(nst):
                for i in range(S):
                    Dd[j, i] = ystar[j, i] / x[j, i] if x[j, i] > 0.0 else Jall[j, i, i]
                    if Dd[j, i] < 0.0:
                        Dd[j, i] = 0.0
        ok = _newton_step(S, Lout, Lup, O, eta, murphree, use_h, Jall, Jh, Hd, z, R, dx,
                          picard, Cp, dp, M, Rhs, A, ptc, Dd)
        it += 1
        if not ok:
            if ptc < 1e8:
                ptc = 0.1 if ptc == 0.0 else 10.0 * ptc
                continue
            status = SINGULAR
            break
        # trial steps with a positivity-preserving update
        alpha = 1.0
        accepted = False
        phit = np.inf
        n_ls = 1 if ptc > 0.0 else 12
        for ls in range(n_ls):
            # first trial: the plain additive Newton step for every concentration it keeps
            # non-negative (a linear, constant-D cascade lands on its solution in one step; a
            # vanishing one pushed below zero by round-off, and every backtracked trial, takes
            # the positivity-preserving update)
            additive = ls == 0 and ptc == 0.0
            for j in range(nst):
                for i in range(S):
                    if additive and x[j, i] + dx[j, i] >= 0.0:
                        xt[j, i] = x[j, i] + dx[j, i]
                    else:
                        xt[j, i] = _update(x[j, i], alpha * dx[j, i])
                    if murphree:
                        if additive and y[j, i] + dx[j, S + i] >= 0.0:
                            yt[j, i] = y[j, i] + dx[j, S + i]
                        else:
                            yt[j, i] = _update(y[j, i], alpha * dx[j, S + i])
                if use_h:
                    d = alpha * dx[j, nbx]
                    if d > LH_STEP:
                        d = LH_STEP
                    elif d < -LH_STEP:
                        d = -LH_STEP
                    lht[j] = lh[j] + d
                ft[j] = fst[j]
            _residual(xt, yt, lht, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts,
                      Ka, eta, use_h, use_f, murphree, ft, ystar, Jall, Jh, Hd, Rt, yes, lnA)
            current = False  # ystar, Jall now belong to the trial point
            phit = _merit(Rt, rscale, nb)
            if np.isfinite(phit):
                if ptc > 0.0:
                    if phit <= PTC_GROW * phi:
                        accepted = True
                        break
                elif (phit <= (1.0 - 1e-4 * alpha) * phi or picard or phit < 1e-26):
                    accepted = True
                    break
            alpha *= 0.5
        if not accepted:
            if res <= tol:
                status = OK
                break
            # restore the Jacobians of the current iterate
            _residual(x, y, lh, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts,
                      Ka, eta, use_h, use_f, murphree, fst, ystar, Jall, Jh, Hd, R, yes, lnA)
            current = True
            if ptc == 0.0:
                # Newton line search failed: switch to pseudo-transient continuation
                # (implicit-Euler steps of the stage dynamics, one Newton iteration each)
                ptc = 1.0
                n_ptc += 1
                if n_ptc > 100:
                    status = STALLED
                    break
            else:
                ptc *= PTC_REJECT
                if ptc > 1e10:
                    status = STALLED
                    break
            continue
        if ptc > 0.0:
            # accepted pseudo-time step: switched evolution relaxation (the time step grows
            # as the residual falls), at most doubling per step
            fac = math.sqrt(phit / phi) if phi > 0.0 else 0.5
            if fac < PTC_MINFAC:
                fac = PTC_MINFAC
            elif fac > PTC_MAXFAC:
                fac = PTC_MAXFAC
            ptc *= fac
            if ptc < 1e-8:
                ptc = 0.0
        for j in range(nst):
            for i in range(S):
                x[j, i] = xt[j, i]
                if murphree:
                    y[j, i] = yt[j, i]
            lh[j] = lht[j]
            fst[j] = ft[j]
        for j in range(nst):
            for a in range(nb):
                R[j, a] = Rt[j, a]
        current = True
        phi = phit
        res, wj, wa = _scaled_max(R, rscale, nb)
    else:
        if res <= tol:
            status = OK
    # final state (organic outlet of each stage): ystar and R already belong to x unless the
    # loop ended on a rejected trial point
    if not current:
        _residual(x, y, lh, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                  use_h, use_f, murphree, fst, ystar, Jall, Jh, Hd, R, no, lnA)
    res, wj, wa = _scaled_max(R, rscale, nb)
    if status == OK and res > tol:
        status = MAXITER
    if not murphree:
        for j in range(nst):
            for i in range(S):
                y[j, i] = ystar[j, i]
    hst = np.ones(nst)
    if use_h:
        for j in range(nst):
            hst[j] = math.exp(lh[j])
    return status, it, res, wj, _species_index(wa, S, nbx), x, y, hst, fst


@inner
def solve_cascade(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                  use_h, use_f, x0, tol, max_iter, n_picard):
    """Robust entry.

    1. Newton from a frozen-D (Picard) first step, falling back to pseudo-transient
       continuation (PTC) when the line search fails;
    2. if that fails, plain Newton (+ PTC) from the same start;
    3. if that fails and the organic inlet carries solutes (saponification Na, recycled
       metal), homotopy on the organic inlet: solve with ``lam * yin`` for lam rising from 0
       to 1 in adaptive steps, each started from the previous solution.

    Same arguments as :func:`_solve_core` (without lh0); ``max_iter`` bounds each attempt and
    all attempts together take at most 4 x ``max_iter`` iterations, so a cascade without a
    steady state fails in bounded time. Returns status, iterations (summed over attempts),
    residual, worst stage, worst row, x, y, h, f.
    """
    nst, S = ext.shape
    lh0 = np.full(nst, np.nan)
    st, it, res, wj, wi, x, y, h, f = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc,
                                                  z, fT, G, Ts, Ka, eta, use_h, use_f, x0, lh0,
                                                  tol, max_iter, n_picard)
    if st == OK:
        return st, it, res, wj, wi, x, y, h, f
    itot = it
    if n_picard > 0:
        st2, it2, res2, wj2, wi2, x2, y2, h2, f2 = _solve_core(
            Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f,
            x0, lh0, tol, max_iter, n_picard - n_picard)   # (a plain int: one signature)
        itot += it2
        if st2 == OK:
            return st2, itot, res2, wj2, wi2, x2, y2, h2, f2
        if res2 < res:
            st, res, wj, wi, x, y, h, f = st2, res2, wj2, wi2, x2, y2, h2, f2
    has_org = False
    for i in range(S):
        if yin[i] > 0.0:
            has_org = True
    if not has_org:
        return st, itot, res, wj, wi, x, y, h, f
    # ------------------------------------------------------------ homotopy on the organic inlet
    yl = np.zeros(S)
    xc = x0.copy()
    lhc = np.full(nst, np.nan)
    lam = 0.0
    step = 0.25
    first = True
    n_fail = 0
    while True:
        lt = 0.0 if first else min(1.0, lam + step)
        for i in range(S):
            yl[i] = lt * yin[i]
        budget = 4 * max_iter - itot
        if budget <= 0:
            break
        stc, itc, resc, wjc, wic, xn, yn, hn, fn = _solve_core(
            Lout, Lup, O, ext, yl, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f,
            xc, lhc, tol, min(max_iter, budget), n_picard - n_picard if not first else n_picard)
        itot += itc
        if stc == OK:
            lam = lt
            first = False
            for j in range(nst):
                for i in range(S):
                    xc[j, i] = xn[j, i]
                lhc[j] = math.log(hn[j]) if use_h else np.nan
            if lam >= 1.0:
                return stc, itot, resc, wjc, wic, xn, yn, hn, fn
            step = min(2.0 * step, 1.0)
        else:
            if first:
                break
            step *= 0.25
            n_fail += 1
            if step < 1e-4 or n_fail > 30:
                break
    return st, itot, res, wj, wi, x, y, h, f


def solve_cascade_py(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                     use_h, use_f, x0, tol, max_iter, n_picard):
    """:func:`solve_cascade` driven from Python (same attempts, same returns): each attempt is
    one call of the compiled :func:`_solve_core`, so the fall-back compiles one signature."""
    nst, S = ext.shape
    lh0 = np.full(nst, np.nan)
    out = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                      use_h, use_f, x0, lh0, tol, max_iter, n_picard)
    if out[0] == OK:
        return out
    itot = out[1]
    if n_picard > 0:
        out2 = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                           use_h, use_f, x0, lh0, tol, max_iter, 0)
        itot += out2[1]
        if out2[0] == OK:
            return (OK, itot) + tuple(out2[2:])
        if out2[2] < out[2]:
            out = out2
    if not np.any(yin > 0.0):
        return (out[0], itot) + tuple(out[2:])
    # homotopy on the organic inlet
    xc = x0.copy()
    lhc = np.full(nst, np.nan)
    lam, step, first, n_fail = 0.0, 0.25, True, 0
    while True:
        lt = 0.0 if first else min(1.0, lam + step)
        budget = 4 * max_iter - itot
        if budget <= 0:
            break
        outc = _solve_core(Lout, Lup, O, ext, lt * yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka,
                           eta, use_h, use_f, xc, lhc, tol, int(min(max_iter, budget)),
                           0 if not first else n_picard)
        itot += outc[1]
        if outc[0] == OK:
            lam = lt
            first = False
            xc = outc[5].copy()
            lhc = np.log(outc[7]) if use_h else np.full(nst, np.nan)
            if lam >= 1.0:
                return (OK, itot) + tuple(outc[2:])
            step = min(2.0 * step, 1.0)
        else:
            if first:
                break
            step *= 0.25
            n_fail += 1
            if step < 1e-4 or n_fail > 30:
                break
    return (out[0], itot) + tuple(out[2:])
