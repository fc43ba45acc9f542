"""The log-form Newton attempt of the SX cascade solver (numba): start, frozen-D sweeps,
Newton with line search and, optionally, pseudo-transient continuation; or (``n_picard =
PTC_ATTEMPT``) the pseudo-transient attempt with [H+] eliminated by the proton invariant. The
strategy around it is in :mod:`._kernels`; the equations in :mod:`._newton` and
:mod:`._equilibrium`.
"""
from __future__ import annotations

import math

import numpy as np

from ._jit import inner, kernel

from ._equilibrium import LN10, equilibrium, h_from_invariant
from ._newton import block_solve, evaluate, linear_solve_log, structure

UCAP = 30.0            # largest change of ln x per Newton step
WCAP = LN10            # largest change of ln [H+] per Newton step (one pH unit)
PTC_MINFAC = 0.05      # smallest factor on the pseudo-time parameter after an accepted step
PTC_GROW = 100.0       # a pseudo-time step may raise the merit by this factor
PTC_MAXFAC = 0.6
PTC_REJECT = 3.0
# the pseudo-transient attempt with [H+] eliminated (n_picard = PTC_ATTEMPT, docs/sx.md)
PTC_ATTEMPT = -1
PTC0 = 0.3             # its initial pseudo-time parameter (relative to each row's outflow)
PTC_ACCEPT = 10.0      # a step is accepted while the residual norm grows by less than this
START_CHARGE = 0.5     # start: each stage's aqueous metal charge at most this part of G_j
STEP_CHARGE = 0.99     # every trial point: at most this part of G_j
N_POLISH_PTC = 3       # Newton steps after |r| <= tol in that attempt, towards rounding

# status codes
OK = 0
MAXITER = 1
SINGULAR = 2
STALLED = 3


@inner
def _merit(R, W, nb):
    """Line-search merit sum (W r)^2 with the weights of the current iterate."""
    nst = R.shape[0]
    s = 0.0
    for j in range(nst):
        for a in range(nb):
            t = W[j, a] * R[j, a]
            s += t * t
    return s


@inner
def _weights(x, y, Lout, O, thr, murphree, use_h, W):
    """Merit weights: a row counts with the flow of its species at its stage relative to that
    species' throughput (a trace row is resolved by the convergence test, not the merit, so it
    cannot hold back the line search); the proton rows count with weight 1."""
    nst, S = x.shape
    for j in range(nst):
        for i in range(S):
            if murphree:
                W[j, i] = Lout[j] * x[j, i] / thr[i]
                W[j, S + i] = O * y[j, i] / thr[i]
            else:
                W[j, i] = (Lout[j] * x[j, i] + O * y[j, i]) / thr[i]
        if use_h:
            W[j, W.shape[1] - 1] = 1.0


@inner
def _worst(R, nb):
    nst = R.shape[0]
    best = 0.0
    wj = 0
    wa = 0
    for j in range(nst):
        for a in range(nb):
            v = abs(R[j, a])
            if not (v <= best):  # also catches NaN
                best = v
                wj = j
                wa = a
                if not np.isfinite(v):
                    return np.inf, j, a
    return best, wj, wa


@inner
def _h_of_x(x, G, Ts, Ka, z, h):
    nst, S = x.shape
    for j in range(nst):
        Rj = G[j]
        for i in range(S):
            Rj -= z[i] * x[j, i]
        h[j] = h_from_invariant(Rj, Ts[j], Ka)


@inner
def _to_log(x, mx, floor, u):
    nst, S = x.shape
    for j in range(nst):
        for i in range(S):
            if mx[j, i]:
                u[j, i] = 0.0
            else:
                u[j, i] = math.log(x[j, i] if x[j, i] > floor[i] else floor[i])


@inner
def _cap_charge(u, mx, z, G, frac, xs):
    """Scale each stage's aqueous metals (log values u, in place) so that their charge is at
    most ``frac`` of the proton invariant G_j [mol/L] (the anion charge the stage can balance);
    xs receives the concentrations [mol/L]."""
    nst, S = u.shape
    for j in range(nst):
        q = 0.0
        for i in range(S):
            xs[j, i] = 0.0 if mx[j, i] else math.exp(u[j, i])
            q += z[i] * xs[j, i]
        if G[j] > 0.0 and q > frac * G[j]:
            c = math.log(q / (frac * G[j]))
            for i in range(S):
                if not mx[j, i]:
                    u[j, i] -= c
                    xs[j, i] = math.exp(u[j, i])


@inner
def _closure(x, y, Lout, Lup, O, ext, yin):
    """Largest relative closure |in - out| / in [-] of the cascade's overall balance over the
    species with an inflow: in = the aqueous inflows + O yin, out = the aqueous leaving each
    stage for outside (Lout_j less what goes on to stage j - 1) + O y of the last stage."""
    nst, S = x.shape
    worst = 0.0
    for i in range(S):
        inn = O * yin[i]
        out = O * y[nst - 1, i] + Lout[0] * x[0, i]
        for j in range(nst):
            inn += ext[j, i]
            if j > 0:
                out += (Lout[j] - Lup[j - 1]) * x[j, i]
        if inn > 0.0:
            worst = max(worst, abs(inn - out) / inn)
    return worst


@inner
def _sumsq(R, nb):
    nst = R.shape[0]
    s = 0.0
    for j in range(nst):
        for a in range(nb):
            s += R[j, a] * R[j, a]
    return s


@kernel
def _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                use_h, use_f, x0, lh0, tol, max_iter, n_picard, ptc_ok):
    """Solve one counter-current cascade (module docstring).

    Parameters (arrays, stage index j = 0..nst-1, species i = 0..S-1)
    ----------
    Lout, Lup : (nst,) aqueous flow leaving stage j / arriving from stage j+1 [L/h]
    O : organic flow [L/h]
    ext : (nst, S) external aqueous inflow per stage [mol/h]
    yin : (S,) organic inlet concentration at stage 1 [mol/L]
    k0 : (nst, S), kf, kh, kfh, sc, z : (S,) equilibrium coefficients (:mod:`._equilibrium`)
    fT : total extractant (unit of f); G, Ts : (nst,) proton invariant and total sulfate
    [mol/L]; Ka : HSO4- dissociation constant [mol/L]; eta : (nst,) Murphree efficiency
    x0 : (nst, S) initial aqueous concentrations [mol/L] (all zeros: cold start)
    lh0 : (nst,) initial ln [H+] (NaN: from the proton invariant at x0)
    tol, max_iter : tolerance on every row |r| and the iteration budget (sweeps + Newton)
    n_picard : frozen-D sweeps tried before Newton; ``PTC_ATTEMPT`` (-1) selects the
    pseudo-transient attempt with [H+] eliminated (needs use_h): from the unloaded frozen-D
    cascade with each stage's metal charge capped, [H+] taken from the proton invariant at
    every iterate, and the step regulated by pseudo-time instead of a line search
    ptc_ok : fall back to pseudo-transient continuation when the line search fails (else the
    attempt ends with status STALLED)

    Returns
    -------
    status, iterations, residual (max |r|), worst stage, worst row (species index; S is the
    proton invariant), x, y, h, f
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
    E0 = np.zeros((nst, S))
    for j in range(nst):
        for i in range(S):
            E0[j, i] = math.exp(LN10 * k0[j, i])
    mx, my = structure(ext, yin, k0, Lup, eta)
    # the evaluated state in two slots, the iterate (slot ia) and the trial point (slot ib):
    # accepting a step swaps the two indices, not a dozen array variables (each array that
    # changes binding inside a loop costs numba's SSA pass and the first-run compile seconds)
    ia, ib = 0, 1
    x_s = np.zeros((2, nst, S)); y_s = np.zeros((2, nst, S))
    h_s = np.zeros((2, nst)); f_s = np.zeros((2, nst))
    for k in range(2):
        for j in range(nst):
            h_s[k, j] = 1.0
            f_s[k, j] = fT
    D_s = np.zeros((2, nst, S)); g_s = np.zeros((2, nst, S)); b_s = np.zeros((2, nst, S))
    ncf = 7 if murphree else 4   # Jacobian coefficients per row (_newton.evaluate)
    L_s = np.zeros((2, nst, S)); R_s = np.zeros((2, nst, nb)); c_s = np.zeros((2, nst, S, ncf))
    z_s = np.zeros((2, nst, S)); hh_s = np.zeros((2, nst))
    u = np.zeros((nst, S)); v = np.zeros((nst, S)); w = np.zeros(nst)
    ut = np.zeros((nst, S)); vt = np.zeros((nst, S)); wt = np.zeros(nst)
    cvec = np.zeros(S)
    dx = np.zeros((nst, nb)); Cp = np.zeros((nst, nb, S + 1)); M = np.zeros((nb, nb))
    tv = np.zeros(S + 1)
    xl = np.zeros((nst, S))
    Dun = np.zeros((nst, S))
    # concentration floor per species (a start value only; Newton moves off it)
    Lmax = 0.0
    for j in range(nst):
        if Lout[j] > Lmax:
            Lmax = Lout[j]
    floor = np.zeros(S)
    thr = np.zeros(S)
    lfloor = np.zeros(S)
    W = np.zeros((nst, nb))
    x0l = np.zeros((nst, S))   # the unloaded organic's aqueous side (all zero)
    fun = np.zeros(nst)        # its free extractant
    for i in range(S):
        s = O * yin[i]
        for j in range(nst):
            s += ext[j, i]
        thr[i] = s if s > 0.0 else 1.0
        floor[i] = 1e-250 * s / Lmax if s > 0.0 else 1e-300
        if floor[i] < 1e-300:
            floor[i] = 1e-300
        lfloor[i] = math.log(thr[i] / Lmax) - 1.0e5   # e^-100000: any trace, however deep
    # ---------------------------------------------------------------- start
    cold = True
    for j in range(nst):
        for i in range(S):
            if x0[j, i] != 0.0:
                cold = False
    if cold:
        for j in range(nst - 1, -1, -1):
            for i in range(S):
                val = ext[j, i]
                if j + 1 < nst:
                    val += Lup[j] * x_s[ia, j + 1, i]
                x_s[ia, j, i] = val / Lout[j]
    else:
        for j in range(nst):
            for i in range(S):
                x_s[ia, j, i] = x0[j, i]
    keep_h = use_h and np.isfinite(lh0[0])
    if use_h:
        _h_of_x(x_s[ia], G, Ts, Ka, z, h_s[ia])
        for j in range(nst):
            if np.isfinite(lh0[j]):
                h_s[ia, j] = math.exp(lh0[j])
            w[j] = math.log(h_s[ia, j])
    it = 0
    _to_log(x_s[ia], mx, floor, u)
    elim = use_h and n_picard == PTC_ATTEMPT
    if elim and cold:
        # start: the cascade with the distribution ratios of the unloaded organic at the
        # carried-through [H+] (exact for every trace), each stage's metal charge capped
        for j in range(nst):
            fun[j] = fT
        equilibrium(x0l, w, E0, kf, kh, kfh, sc, fT, use_h, use_f, fun, Dun,
                    g_s[ib], b_s[ib], L_s[ib], cvec, no)
        for j in range(nst):
            for i in range(S):
                Dun[j, i] *= eta[j] if murphree else 1.0
        linear_solve_log(Lout, Lup, O, ext, yin, Dun, u)
        for j in range(nst):
            for i in range(S):
                if mx[j, i]:
                    u[j, i] = 0.0
                elif u[j, i] < lfloor[i]:
                    u[j, i] = lfloor[i]
        _cap_charge(u, mx, z, G, START_CHARGE, x_s[ia])
    if elim:
        _h_of_x(x_s[ia], G, Ts, Ka, z, h_s[ia])
        for j in range(nst):
            w[j] = math.log(h_s[ia, j])
    if murphree:
        equilibrium(x_s[ia], w, E0, kf, kh, kfh, sc, fT, use_h, use_f, f_s[ia], D_s[ia], g_s[ia],
                    b_s[ia], L_s[ia], cvec, no)
        for j in range(nst):
            for i in range(S):
                yp = yin[i] if j == 0 else y_s[ia, j - 1, i]
                y_s[ia, j, i] = (1.0 - eta[j]) * yp + eta[j] * D_s[ia, j, i] * x_s[ia, j, i]
        _to_log(y_s[ia], my, floor, v)
    evaluate(u, v, w, mx, my, Lout, Lup, O, ext, yin, E0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
             use_h, use_f, murphree, x_s[ia], y_s[ia], h_s[ia], f_s[ia], D_s[ia], g_s[ia], b_s[ia],
             L_s[ia], cvec, R_s[ia], c_s[ia], z_s[ia], hh_s[ia], yes)
    _weights(x_s[ia], y_s[ia], Lout, O, thr, murphree, use_h, W)
    phi = _merit(R_s[ia], W, nb)
    if not np.isfinite(phi):
        phi = np.inf
    res, wj, wa = _worst(R_s[ia], nb)
    extra = 1 if (cold and use_f and n_picard > 0) else 0
    for sweep in range(0 if elim else n_picard + extra):
        # frozen-D sweep: D at the current (x, h), then the linear cascade; from a cold start
        # the first candidate takes D of the unloaded organic instead (the carried-through
        # start loads every stage with the whole feed, which a loading-aware correlation may
        # not even admit), and is kept only if it beats the start
        unloaded = extra == 1 and sweep == 0
        if unloaded:
            for j in range(nst):
                fun[j] = fT
            equilibrium(x0l, w, E0, kf, kh, kfh, sc, fT, use_h, use_f, fun,
                        Dun, g_s[ib], b_s[ib], L_s[ib], cvec, no)
        for j in range(nst):
            for i in range(S):
                dd = Dun[j, i] if unloaded else D_s[ia, j, i]
                D_s[ib, j, i] = dd * (eta[j] if murphree else 1.0)
        linear_solve_log(Lout, Lup, O, ext, yin, D_s[ib], ut)
        for j in range(nst):
            for i in range(S):
                if mx[j, i]:
                    ut[j, i] = 0.0
                    xl[j, i] = 0.0
                else:
                    if ut[j, i] < lfloor[i]:
                        ut[j, i] = lfloor[i]
                    xl[j, i] = math.exp(ut[j, i])
        for j in range(nst):
            f_s[ib, j] = f_s[ia, j]
        if use_h:
            if keep_h:
                # [H+] given by the caller (a solved neighbour): recomputing it from the
                # invariant would cancel G - sum z x in saponified cascades
                for j in range(nst):
                    wt[j] = w[j]
            else:
                _h_of_x(xl, G, Ts, Ka, z, h_s[ib])
                for j in range(nst):
                    wt[j] = math.log(h_s[ib, j])
        if murphree:
            for j in range(nst):
                for i in range(S):
                    yp = yin[i] if j == 0 else y_s[ib, j - 1, i]
                    y_s[ib, j, i] = (1.0 - eta[j]) * yp + D_s[ib, j, i] * xl[j, i]
            _to_log(y_s[ib], my, floor, vt)
        evaluate(ut, vt, wt, mx, my, Lout, Lup, O, ext, yin, E0, kf, kh, kfh, sc, z, fT, G, Ts, Ka,
                 eta, use_h, use_f, murphree, x_s[ib], y_s[ib], h_s[ib], f_s[ib], D_s[ib], g_s[ib],
                 b_s[ib], L_s[ib], cvec, R_s[ib], c_s[ib], z_s[ib], hh_s[ib], yes)
        it += 1
        phit = _merit(R_s[ib], W, nb)   # with the weights of the iterate it would replace
        rest, wjt, wat = _worst(R_s[ib], nb)
        if not (phit < 0.25 * phi or (rest < 0.25 * res and phit < 100.0 * phi + 1e-26)):
            if unloaded:
                continue
            break
        for j in range(nst):
            for i in range(S):
                u[j, i] = ut[j, i]
                v[j, i] = vt[j, i]
            w[j] = wt[j]
        ia, ib = ib, ia
        _weights(x_s[ia], y_s[ia], Lout, O, thr, murphree, use_h, W)
        phi = _merit(R_s[ia], W, nb)
        res = rest
        if not use_h and not use_f and not murphree:
            break   # linear: the sweep is the solution
    res, wj, wa = _worst(R_s[ia], nb)
    # ---------------------------------------------------------------- Newton
    status = MAXITER
    polished = False
    ptc = PTC0 if elim else 0.0
    n_ptc = 0
    nrm = _sumsq(R_s[ia], nb)
    while elim and it < max_iter:
        # pseudo-transient steps on the balances with [H+] from the invariant: the step of
        # J + ptc diag(outflow) dx = -R for ln x (its [H+] part is dropped), the trial point's
        # metal charge capped below G_j, [H+] recomputed; ptc shrinks with the residual
        if res <= tol:
            # Newton steps until rounding (a build-up multiplies the rows' error in the
            # cascade's overall balance by its internal recirculation), unless that balance
            # already closes to tol
            if (res <= 1e-3 * tol or res < 1e-15
                    or _closure(x_s[ia], y_s[ia], Lout, Lup, O, ext, yin) <= tol):
                status = OK
                break
            if n_ptc >= N_POLISH_PTC:
                # these steps drop the [H+] coupling and converge linearly: a balance that
                # still does not close goes on with Newton in ln x and ln [H+] (below), as
                # the direct attempt ends (a safeguard, with no measured case of its own: the
                # Tb/Dy circuit whose Tb balance closed to 2.2e-7 turned out to be a state of
                # the acid arclength, refused by MASS_TOL in Cascade.solve)
                elim = False
                _weights(x_s[ia], y_s[ia], Lout, O, thr, murphree, use_h, W)
                phi = _merit(R_s[ia], W, nb)
                break
            n_ptc += 1
            ptc = 0.0
        ok = block_solve(S, murphree, use_h, mx, my, g_s[ia], b_s[ia], L_s[ia], c_s[ia], z_s[ia],
                         hh_s[ia], R_s[ia], ptc, dx, Cp, M, tv)
        it += 1
        if ok:
            for j in range(nst):
                for a in range(nbx):
                    ok = ok and np.isfinite(dx[j, a])
        if not ok:
            ptc = 0.1 if ptc == 0.0 else PTC_REJECT * ptc
            if ptc > 1e8:
                status = SINGULAR
                break
            continue
        for j in range(nst):
            for i in range(S):
                ut[j, i] = u[j, i] + min(max(dx[j, i], -UCAP), UCAP)
                if murphree:
                    vt[j, i] = v[j, i] + min(max(dx[j, S + i], -UCAP), UCAP)
            f_s[ib, j] = f_s[ia, j]
        _cap_charge(ut, mx, z, G, STEP_CHARGE, xl)
        _h_of_x(xl, G, Ts, Ka, z, h_s[ib])
        for j in range(nst):
            wt[j] = math.log(h_s[ib, j])
        evaluate(ut, vt, wt, mx, my, Lout, Lup, O, ext, yin, E0, kf, kh, kfh, sc, z, fT, G, Ts, Ka,
                 eta, use_h, use_f, murphree, x_s[ib], y_s[ib], h_s[ib], f_s[ib], D_s[ib], g_s[ib],
                 b_s[ib], L_s[ib], cvec, R_s[ib], c_s[ib], z_s[ib], hh_s[ib], yes)
        nt = _sumsq(R_s[ib], nb)
        if not (nt <= PTC_ACCEPT * PTC_ACCEPT * nrm):   # (also NaN)
            ptc = 0.1 if ptc == 0.0 else PTC_REJECT * ptc
            if ptc > 1e8:
                status = STALLED
                break
            continue
        ptc *= min(PTC_ACCEPT, math.sqrt(nt / nrm)) if nrm > 0.0 else 0.0
        if ptc < 1e-10:
            ptc = 0.0
        nrm = nt
        for j in range(nst):
            for i in range(S):
                u[j, i] = ut[j, i]
                v[j, i] = vt[j, i]
            w[j] = wt[j]
        ia, ib = ib, ia
        res, wj, wa = _worst(R_s[ia], nb)
    while not elim and it < max_iter:
        if res <= tol:
            if (polished or res <= 0.1 * tol or res < 1e-15
                    or _closure(x_s[ia], y_s[ia], Lout, Lup, O, ext, yin) <= tol):
                status = OK
                break
            polished = True
        ok = block_solve(S, murphree, use_h, mx, my, g_s[ia], b_s[ia], L_s[ia], c_s[ia], z_s[ia],
                         hh_s[ia], R_s[ia], ptc, dx, Cp, M, tv)
        it += 1
        if not ok:
            if ptc_ok and ptc < 1e8:
                ptc = 0.1 if ptc == 0.0 else 10.0 * ptc
                continue
            status = SINGULAR
            break
        # per-component caps (a deep trace far off its value must not shorten the step of the
        # major species)
        bad = False
        for j in range(nst):
            for a in range(nb):
                d = dx[j, a]
                if not np.isfinite(d):
                    bad = True
                cap = WCAP if a >= nbx else UCAP
                if d > cap:
                    dx[j, a] = cap
                elif d < -cap:
                    dx[j, a] = -cap
        if bad:
            status = SINGULAR
            break
        smax = 1.0
        alpha = 1.0 / smax
        accepted = False
        phit = np.inf
        n_ls = 1 if ptc > 0.0 else 30
        for ls in range(n_ls):
            for j in range(nst):
                for i in range(S):
                    ut[j, i] = u[j, i] + alpha * dx[j, i]
                    if murphree:
                        vt[j, i] = v[j, i] + alpha * dx[j, S + i]
                if use_h:
                    wt[j] = w[j] + alpha * dx[j, nbx]
                f_s[ib, j] = f_s[ia, j]
            evaluate(ut, vt, wt, mx, my, Lout, Lup, O, ext, yin, E0, kf, kh, kfh, sc, z, fT, G, Ts,
                     Ka, eta, use_h, use_f, murphree, x_s[ib], y_s[ib], h_s[ib], f_s[ib], D_s[ib],
                     g_s[ib], b_s[ib], L_s[ib], cvec, R_s[ib], c_s[ib], z_s[ib], hh_s[ib], yes)
            phit = _merit(R_s[ib], W, nb)
            if np.isfinite(phit):
                if ptc > 0.0:
                    if phit <= PTC_GROW * phi:
                        accepted = True
                        break
                elif phit <= (1.0 - 2e-4 * alpha * smax) * phi or phit < 1e-28:
                    accepted = True
                    break
                # quadratic interpolation of phi along the step, safeguarded
                a1 = alpha * smax
                c = (phit - phi + 2.0 * phi * a1) / (a1 * a1)
                anew = phi / c if c > 0.0 else 0.5 * a1
                if anew < 0.1 * a1:
                    anew = 0.1 * a1
                elif anew > 0.5 * a1:
                    anew = 0.5 * a1
                alpha = anew / smax
            else:
                alpha *= 0.25
            if alpha * smax < 1e-6:
                break
        if not accepted:
            if res <= tol:
                status = OK
                break
            if not ptc_ok:
                status = STALLED
                break
            if ptc == 0.0:
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
                u[j, i] = ut[j, i]
                v[j, i] = vt[j, i]
            w[j] = wt[j]
        ia, ib = ib, ia
        _weights(x_s[ia], y_s[ia], Lout, O, thr, murphree, use_h, W)
        phi = _merit(R_s[ia], W, nb)
        res, wj, wa = _worst(R_s[ia], nb)
    else:
        if res <= tol:
            status = OK
    res, wj, wa = _worst(R_s[ia], nb)
    if status == OK and res > tol:
        status = MAXITER
    wi = S if wa >= nbx else (wa if wa < S else wa - S)
    return status, it, res, wj, wi, x_s[ia], y_s[ia], h_s[ia], f_s[ia]
