"""Numba kernels of the SX cascade solver (pure arrays, no Stream objects).

One generic equilibrium kernel covers every model through per-species coefficients::

    log10 D_ij = k0_ij + kf_i*log10(f_j) + kh_i*pH_j + kfh_i*f_j*pH_j

* ``ConstantD``:      k0 = log10 D, all other coefficients 0, no loading.
* ``MassAction``:     k0 = log10 Kex - log10(alpha_Cl), kf = dimers bound (nu), kh = charge (z);
  f is the free dimer concentration [(HA)2] [mol/L].
* ``PhCorrelation``:  k0 = B0, kf = B1, kh = m0, kfh = m1; f is the local free dosage [vol%].

The local free extractant f_j solves the extractant balance of the equilibrium organic
``f + sum_i sc_i * D_ij * x_ij = fT`` and the local H+ follows from the aqueous proton/charge
invariant ``h + [HSO4-] + sum_i z_i x_ij = G_j`` (G_j is fixed by the aqueous inlets, see
``docs/sx.md``), with ``[HSO4-] = T_j h / (h + Ka)``.

Newton unknowns are the aqueous concentrations per stage (and the organic ones when a Murphree
efficiency below one is used); the Jacobian is block tridiagonal and solved by block Thomas.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

LN10 = math.log(10.0)
KW = 1.0e-14  # ionic product of water [mol2/L2] at 25 C (sx_constants.csv)

# status codes
OK = 0
MAXITER = 1
SINGULAR = 2
STALLED = 3


@njit(cache=True)
def _equilibrium(x, j, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, use_h, use_f, fguess,
                 ystar, J, want_jac, lnA):
    """Equilibrium organic ystar [mol/L] in contact with aqueous x [mol/L] at stage j.

    Fills ``ystar`` and (if want_jac) ``J = d ystar / d x``; returns (h [mol/L], f, D-vector
    is implicit as ystar/x).
    """
    S = x.shape[0]
    # ---------------------------------------------------------------- H+ from the invariant
    h = 1.0
    pH = 0.0
    Hp = 1.0
    if use_h:
        # h + T h/(h+Ka) - Kw/h = R  (free acid + bisulfate - hydroxide = proton invariant)
        R = G[j]
        for i in range(S):
            R -= z[i] * x[i]
        T = Ts[j]
        if R > 0.0:
            if T > 0.0:
                b = Ka + T - R
                disc = math.sqrt(b * b + 4.0 * R * Ka)
                if b > 0.0:
                    h = 2.0 * R * Ka / (b + disc)
                else:
                    h = 0.5 * (-b + disc)
            else:
                h = R
            if h < 1e-7:
                h = 0.5 * (R + math.sqrt(R * R + 4.0 * KW))
        else:
            h = KW / (math.sqrt(R * R + 4.0 * KW) - R) * 2.0
        for it in range(60):
            Hh = h + T * h / (h + Ka) - KW / h
            Hp = 1.0 + T * Ka / ((h + Ka) * (h + Ka)) + KW / (h * h)
            dl = -(Hh - R) / (Hp * h)
            if dl > 1.0:
                dl = 1.0
            elif dl < -1.0:
                dl = -1.0
            h *= math.exp(dl)
            if abs(dl) < 1e-15:
                break
        Hp = 1.0 + T * Ka / ((h + Ka) * (h + Ka)) + KW / (h * h)
        pH = -math.log10(h)
    # ---------------------------------------------------------------- free extractant
    # ln D_i = lnA_i + kf_i ln f + c_i f   (lnA_i, c_i fixed at this pH)
    for i in range(S):
        lnA[i] = LN10 * (k0[j, i] + kh[i] * pH)
    f = fT
    if use_f:
        f = fguess
        if not (f > 0.0) or f > fT:
            f = fT
        lo = 0.0
        hi = fT
        for it in range(200):
            F = f - fT
            Fp = 1.0
            lf = math.log(f)
            for i in range(S):
                if x[i] == 0.0 or sc[i] == 0.0:
                    continue
                ci = LN10 * kfh[i] * pH
                t = sc[i] * math.exp(lnA[i] + kf[i] * lf + ci * f) * x[i]
                F += t
                Fp += t * (kf[i] / f + ci)
            if abs(F) <= 1e-14 * fT:
                break
            if F > 0.0:
                hi = f
            else:
                lo = f
            # Newton in log f (robust over many decades)
            dlog = -F / (Fp * f)
            if dlog > 2.0:
                dlog = 2.0
            elif dlog < -2.0:
                dlog = -2.0
            fn = f * math.exp(dlog)
            if Fp <= 0.0 or not (fn > lo and fn < hi):
                if lo > 0.0:
                    fn = math.sqrt(lo * hi)
                else:
                    fn = 0.01 * hi
            if abs(fn - f) <= 1e-15 * f:
                f = fn
                break
            f = fn
    # ---------------------------------------------------------------- D and ystar
    lf = math.log(f) if f > 0.0 else 0.0
    for i in range(S):
        ystar[i] = math.exp(lnA[i] + kf[i] * lf + LN10 * kfh[i] * f * pH) * x[i]
    if want_jac:
        for i in range(S):
            for k in range(S):
                J[i, k] = 0.0
        for i in range(S):
            J[i, i] = math.exp(lnA[i] + kf[i] * lf + LN10 * kfh[i] * f * pH)
        if use_h or use_f:
            # d pH / d x_k = z_k / (Hp h ln10)
            cph = 0.0
            if use_h:
                cph = 1.0 / (Hp * h * LN10)
            sum_ph = 0.0
            Fp = 1.0
            if use_f:
                for i in range(S):
                    t = sc[i] * ystar[i]
                    Fp += t * (kf[i] / f + LN10 * kfh[i] * pH)
                    sum_ph += t * LN10 * (kh[i] + kfh[i] * f)
            for k in range(S):
                dph = z[k] * cph
                df = 0.0
                if use_f:
                    Fx = sc[k] * J[k, k] + sum_ph * dph
                    df = -Fx / Fp
                for i in range(S):
                    if ystar[i] == 0.0:
                        continue
                    a = kf[i] / f + LN10 * kfh[i] * pH
                    b = LN10 * (kh[i] + kfh[i] * f)
                    J[i, k] += ystar[i] * (a * df + b * dph)
    return h, f


@njit(cache=True)
def _residual(x, y, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
              use_h, use_f, murphree, fst, hst, ystar_all, Jall, R, want_jac):
    """Stage residuals R [mol/h] (and equilibrium Jacobians). Returns False if infeasible."""
    nst, S = x.shape
    lnA = np.empty(S)
    for j in range(nst):
        h, f = _equilibrium(x[j], j, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, use_h, use_f,
                            fst[j], ystar_all[j], Jall[j], want_jac, lnA)
        hst[j] = h
        fst[j] = f
    for j in range(nst):
        for i in range(S):
            yj = ystar_all[j, i] if not murphree else y[j, i]
            yprev = yin[i] if j == 0 else (ystar_all[j - 1, i] if not murphree else y[j - 1, i])
            r = ext[j, i] + O * yprev - Lout[j] * x[j, i] - O * yj
            if j + 1 < nst:
                r += Lup[j] * x[j + 1, i]
            R[j, i] = r
            if murphree:
                R[j, S + i] = O * (y[j, i] - (1.0 - eta[j]) * yprev - eta[j] * ystar_all[j, i])
    return True


@njit(cache=True)
def _gauss_solve(M, Rhs, nb, ncol):
    """Solve M X = Rhs in place (Rhs becomes X), partial pivoting. False if singular."""
    for c in range(nb):
        p = c
        amax = abs(M[c, c])
        for r in range(c + 1, nb):
            if abs(M[r, c]) > amax:
                amax = abs(M[r, c])
                p = r
        if amax == 0.0 or not np.isfinite(amax):
            return False
        if p != c:
            for k in range(nb):
                t = M[c, k]
                M[c, k] = M[p, k]
                M[p, k] = t
            for k in range(ncol):
                t = Rhs[c, k]
                Rhs[c, k] = Rhs[p, k]
                Rhs[p, k] = t
        inv = 1.0 / M[c, c]
        for r in range(c + 1, nb):
            m = M[r, c] * inv
            if m != 0.0:
                for k in range(c + 1, nb):
                    M[r, k] -= m * M[c, k]
                for k in range(ncol):
                    Rhs[r, k] -= m * Rhs[c, k]
    for c in range(nb - 1, -1, -1):
        inv = 1.0 / M[c, c]
        for k in range(ncol):
            s = Rhs[c, k]
            for q in range(c + 1, nb):
                s -= M[c, q] * Rhs[q, k]
            Rhs[c, k] = s * inv
    return True


@njit(cache=True)
def _newton_step(x, y, Lout, Lup, O, eta, murphree, Jall, R, dx, picard, Cp, dp, M, Rhs, ptc,
                 Dd):
    """Solve J dx = -R for the block-tridiagonal stage system (block Thomas)."""
    nst, S = x.shape
    nb = 2 * S if murphree else S
    # forward sweep
    for j in range(nst):
        # diagonal block B_j
        for a in range(nb):
            for b in range(nb):
                M[a, b] = 0.0
        if not murphree:
            for a in range(S):
                for b in range(S):
                    Jab = Jall[j, a, b]
                    if picard and a != b:
                        Jab = 0.0
                    M[a, b] = -O * Jab
                M[a, a] -= Lout[j] + ptc * (Lout[j] + O * Dd[j, a])
        else:
            for a in range(S):
                M[a, a] = -Lout[j] * (1.0 + ptc)
                M[a, S + a] = -O
                M[S + a, S + a] = O * (1.0 + ptc)
                for b in range(S):
                    Jab = Jall[j, a, b]
                    if picard and a != b:
                        Jab = 0.0
                    M[S + a, b] = -O * eta[j] * Jab
        # rhs = -R_j - A_j dp_{j-1};  M -= A_j Cp_{j-1}
        for a in range(nb):
            Rhs[a, nb] = -R[j, a]
        if j > 0:
            # A_j (sub-diagonal block): derivative w.r.t. stage j-1 unknowns
            if not murphree:
                # A = O * J_{j-1} (w.r.t. x_{j-1})
                for a in range(S):
                    for b in range(S):
                        Aab = Jall[j - 1, a, b]
                        if picard and a != b:
                            Aab = 0.0
                        if Aab == 0.0:
                            continue
                        Aab *= O
                        for c in range(nb):
                            M[a, c] -= Aab * Cp[j - 1, b, c]
                        Rhs[a, nb] -= Aab * dp[j - 1, b]
            else:
                # A: dRm/dy_{j-1} = O I ; dRe/dy_{j-1} = -O (1-eta) I
                for a in range(S):
                    c1 = O
                    c2 = -O * (1.0 - eta[j])
                    for c in range(nb):
                        M[a, c] -= c1 * Cp[j - 1, S + a, c]
                        M[S + a, c] -= c2 * Cp[j - 1, S + a, c]
                    Rhs[a, nb] -= c1 * dp[j - 1, S + a]
                    Rhs[S + a, nb] -= c2 * dp[j - 1, S + a]
        # C_j = Lup_j on the x-part
        for a in range(nb):
            for c in range(nb):
                Rhs[a, c] = 0.0
        if j + 1 < nst:
            for a in range(S):
                Rhs[a, a] = Lup[j]
        if not _gauss_solve(M, Rhs, nb, nb + 1):
            return False
        for a in range(nb):
            for c in range(nb):
                Cp[j, a, c] = Rhs[a, c]
            dp[j, a] = Rhs[a, nb]
    # back substitution
    for a in range(nb):
        dx[nst - 1, a] = dp[nst - 1, a]
    for j in range(nst - 2, -1, -1):
        for a in range(nb):
            s = dp[j, a]
            for c in range(nb):
                s -= Cp[j, a, c] * dx[j + 1, c]
            dx[j, a] = s
    return True


@njit(cache=True)
def _scaled_max(R, scale, S, murphree):
    nst = R.shape[0]
    nb = R.shape[1]
    best = 0.0
    wj = 0
    wi = 0
    for j in range(nst):
        for a in range(nb):
            i = a if a < S else a - S
            v = abs(R[j, a]) / scale[i]
            if not (v <= best):  # also catches NaN
                best = v
                wj = j
                wi = i
                if not np.isfinite(v):
                    return np.inf, j, i
    return best, wj, wi


@njit(cache=True)
def _merit(R, scale, S):
    nst = R.shape[0]
    nb = R.shape[1]
    s = 0.0
    for j in range(nst):
        for a in range(nb):
            i = a if a < S else a - S
            v = R[j, a] / scale[i]
            s += v * v
    return s


@njit(cache=True)
def _update(v, d):
    """Positivity-preserving update: additive when increasing, multiplicative (log-space
    Newton, same first-order step) when decreasing."""
    if v <= 0.0 or (d >= 0.0 and d <= v):
        w = v + d
        return w if w > 0.0 else 0.0
    r = d / v
    if r < -700.0:
        r = -700.0
    if r > 1.0:
        # large relative increase: log-space step, but never beyond the additive one
        w = v * math.exp(r) if r < 30.0 else v + d
        return w if w < v + d else v + d
    return v * math.exp(r)


@njit(cache=True)
def _feasible(x):
    nst, S = x.shape
    for j in range(nst):
        for i in range(S):
            if not np.isfinite(x[j, i]):
                return False
    return True


@njit(cache=True)
def solve_cascade(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                  use_h, use_f, x0, tol, max_iter, n_picard):
    """Robust entry: Newton from a frozen-D (Picard) first step; if that fails, start again
    with plain Newton (both fall back to pseudo-transient continuation). Same arguments and
    returns as :func:`_solve_core`; iterations are summed over the attempts."""
    st, it, res, wj, wi, x, y, h, f = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc,
                                                  z, fT, G, Ts, Ka, eta, use_h, use_f, x0, tol,
                                                  max_iter, n_picard)
    if st != OK and n_picard > 0:
        st2, it2, res2, wj2, wi2, x2, y2, h2, f2 = _solve_core(
            Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f,
            x0, tol, max_iter, 0)
        it2 += it
        if st2 == OK or res2 < res:
            return st2, it2, res2, wj2, wi2, x2, y2, h2, f2
        return st, it2, res, wj, wi, x, y, h, f
    return st, it, res, wj, wi, x, y, h, f


@njit(cache=True)
def _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                use_h, use_f, x0, tol, max_iter, n_picard):
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

    Returns
    -------
    status, iterations, residual (max scaled), worst stage, worst species, x, y, h, f
    """
    nst, S = ext.shape
    murphree = False
    for j in range(nst):
        if eta[j] < 1.0:
            murphree = True
    nb = 2 * S if murphree else S
    x = x0.copy()
    y = np.zeros((nst, S))
    fst = np.full(nst, fT)
    hst = np.ones(nst)
    ystar = np.zeros((nst, S))
    Jall = np.zeros((nst, S, S))
    R = np.zeros((nst, nb))
    dx = np.zeros((nst, nb))
    Cp = np.zeros((nst, nb, nb))
    dp = np.zeros((nst, nb))
    M = np.zeros((nb, nb))
    Rhs = np.zeros((nb, nb + 1))
    xt = np.zeros((nst, S))
    yt = np.zeros((nst, S))
    ft = np.zeros(nst)
    Rt = np.zeros((nst, nb))
    Dd = np.zeros((nst, S))
    # species scale: total inflow [mol/h]
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
    if murphree:
        for j in range(nst):
            _equilibrium(x[j], j, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, use_h, use_f, fst[j],
                         ystar[j], Jall[j], False, np.empty(S))
        for j in range(nst):
            for i in range(S):
                yprev = yin[i] if j == 0 else y[j - 1, i]
                y[j, i] = (1.0 - eta[j]) * yprev + eta[j] * ystar[j, i]
    _residual(x, y, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
              use_h, use_f, murphree, fst, hst, ystar, Jall, R, True)
    res, wj, wi = _scaled_max(R, scale, S, murphree)
    phi = _merit(R, scale, S)
    status = MAXITER
    it = 0
    polished = False
    ptc = 0.0
    n_ptc = 0
    while it < max_iter:
        if res <= tol:
            if polished or res < 1e-15:
                status = OK
                break
            polished = True
        picard = it < n_picard
        for j in range(nst):
            for i in range(S):
                Dd[j, i] = ystar[j, i] / x[j, i] if x[j, i] > 0.0 else Jall[j, i, i]
                if Dd[j, i] < 0.0:
                    Dd[j, i] = 0.0
        ok = _newton_step(x, y, Lout, Lup, O, eta, murphree, Jall, R, dx, picard, Cp, dp, M,
                          Rhs, ptc, Dd)
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
            for j in range(nst):
                for i in range(S):
                    xt[j, i] = _update(x[j, i], alpha * dx[j, i])
                    if murphree:
                        yt[j, i] = _update(y[j, i], alpha * dx[j, S + i])
                ft[j] = fst[j]
            if _feasible(xt):
                _residual(xt, yt, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts,
                          Ka, eta, use_h, use_f, murphree, ft, hst, ystar, Jall, Rt, True)
                phit = _merit(Rt, scale, S)
                if np.isfinite(phit):
                    if ptc > 0.0:
                        if phit <= 4.0 * phi:
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
            _residual(x, y, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts,
                      Ka, eta, use_h, use_f, murphree, fst, hst, ystar, Jall, R, True)
            if ptc == 0.0:
                # Newton line search failed: switch to pseudo-transient continuation
                # (implicit-Euler steps of the stage dynamics, one Newton iteration each)
                ptc = 1.0
                n_ptc += 1
                if n_ptc > 100:
                    status = STALLED
                    break
            else:
                ptc *= 4.0
                if ptc > 1e10:
                    status = STALLED
                    break
            continue
        if ptc > 0.0:
            # accepted pseudo-time step: lengthen the next one
            ptc *= 0.5
            if ptc < 1e-8:
                ptc = 0.0
        for j in range(nst):
            for i in range(S):
                x[j, i] = xt[j, i]
                if murphree:
                    y[j, i] = yt[j, i]
            fst[j] = ft[j]
        for j in range(nst):
            for a in range(nb):
                R[j, a] = Rt[j, a]
        phi = _merit(R, scale, S)
        res, wj, wi = _scaled_max(R, scale, S, murphree)
    else:
        if res <= tol:
            status = OK
    # final state (organic outlet of each stage)
    _residual(x, y, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
              use_h, use_f, murphree, fst, hst, ystar, Jall, R, False)
    res, wj, wi = _scaled_max(R, scale, S, murphree)
    if status == OK and res > tol:
        status = MAXITER
    if not murphree:
        for j in range(nst):
            for i in range(S):
                y[j, i] = ystar[j, i]
    return status, it, res, wj, wi, x, y, hst, fst


@njit(cache=True, parallel=True)
def solve_batch_kernel(nst_arr, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts,
                       Ka, eta, use_h, use_f, tol, max_iter, n_picard):
    """Solve B cascades in parallel; arrays padded along the stage axis to nmax stages.

    Shapes: nst_arr (B,), Lout/Lup/G/Ts/eta (B, nmax), O/fT (B,), ext/k0 (B, nmax, S),
    yin/kf/kh/kfh/sc/z (B, S). Returns status (B,), iterations (B,), residual (B,),
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
    for b in prange(B):
        n = nst_arr[b]
        x0 = np.zeros((n, S))
        st, it, res, wj, wi, x, y, h, f = solve_cascade(
            Lout[b, :n], Lup[b, :n], O[b], ext[b, :n], yin[b], k0[b, :n], kf[b], kh[b],
            kfh[b], sc[b], z[b], fT[b], G[b, :n], Ts[b, :n], Ka, eta[b, :n], use_h[b],
            use_f[b], x0, tol, max_iter, n_picard)
        status[b] = st
        iters[b] = it
        resid[b] = res
        X[b, :n] = x
        Y[b, :n] = y
        H[b, :n] = h
        F[b, :n] = f
    return status, iters, resid, X, Y, H, F
