"""Numba kernels of the SX cascade solver (pure arrays, no Stream objects).

One generic equilibrium kernel covers every model through per-species coefficients::

    log10 D_ij = k0_ij + kf_i*log10(f_j) + kh_i*pH_j + kfh_i*f_j*pH_j

* ``ConstantD``:      k0 = log10 D, all other coefficients 0, no loading.
* ``MassAction``:     k0 = log10 Kex - log10(alpha_Cl), kf = dimers bound (nu), kh = charge (z);
  f is the free dimer concentration [(HA)2] [mol/L].
* ``PhCorrelation``:  k0 = B0, kf = B1, kh = m0, kfh = m1; f is the local free dosage [vol%].

The local free extractant f_j solves the extractant balance of the equilibrium organic
``f + sum_i sc_i * D_ij * x_ij = fT`` (a monotone scalar equation, solved per stage). For
pH-dependent models ``ln[H+]_j`` is a Newton unknown of its own, with the aqueous proton/charge
invariant ``h + [HSO4-] - [OH-] + sum_i z_i x_ij = G_j`` as its equation (G_j is fixed by the
aqueous inlets, see ``docs/sx.md``; ``[HSO4-] = T_j h / (h + Ka)``). Keeping ln h as an unknown
instead of eliminating it avoids the cancellation G - sum z x of a saponified cascade, where
[H+] is many decades below the cations it balances.

Newton unknowns per stage are the aqueous concentrations, the organic ones when a Murphree
efficiency below one is used, and ln h; the Jacobian is block tridiagonal and solved by block
Thomas. The sub-diagonal coupling only reaches the organic-carrying unknowns and the
super-diagonal only the aqueous ones, which the elimination exploits.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

LN10 = math.log(10.0)
KW = 1.0e-14  # ionic product of water [mol2/L2] at 25 C (sx_constants.csv)
PTC_MINFAC = 0.05  # smallest factor on 1/dt after an accepted pseudo-time step
PTC_GROW = 100.0
PTC_MAXFAC = 0.6
PTC_REJECT = 3.0
LH_STEP = 1.0 * LN10

# status codes
OK = 0
MAXITER = 1
SINGULAR = 2
STALLED = 3


@njit(cache=True, error_model="numpy")
def _h_from_invariant(R, T, Ka):
    """[H+] [mol/L] solving h + T h/(h + Ka) - Kw/h = R (free acid + bisulfate - hydroxide)."""
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
    return h


@njit(cache=True, error_model="numpy")
def _equilibrium(x, h, j, k0, kf, kh, kfh, sc, fT, use_h, use_f, fguess, ystar, J, Jh,
                 want_jac, lnA):
    """Equilibrium organic ystar [mol/L] in contact with aqueous x [mol/L] at [H+] = h, stage j.

    Fills ``ystar`` and (if want_jac) ``J = d ystar / d x`` and ``Jh = d ystar / d ln h``;
    returns the local free extractant f.
    """
    S = x.shape[0]
    pH = -math.log10(h) if use_h else 0.0
    # lnA holds A_i = 10^(k0 + kh pH), then D_i once f is known:
    # D_i = A_i f^kf_i 10^(kfh_i f pH). f^kf is computed once per run of species sharing kf
    # (all RE3+ share 3), which saves most exponentials of the free-extractant iteration
    for i in range(S):
        lnA[i] = math.exp(LN10 * (k0[j, i] + kh[i] * pH))
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
            k_last = np.nan
            pw = 1.0
            for i in range(S):
                if x[i] == 0.0 or sc[i] == 0.0:
                    continue
                if kf[i] != k_last:
                    k_last = kf[i]
                    pw = math.exp(k_last * lf)
                ci = LN10 * kfh[i] * pH
                t = sc[i] * lnA[i] * pw * x[i]
                if ci != 0.0:
                    t *= math.exp(ci * f)
                F += t
                Fp += t * (kf[i] / f + ci)
            if abs(F) <= 1e-14 * fT:
                break
            if F > 0.0:
                hi = f
            else:
                lo = f
            # Newton in log f (robust over many decades), safeguarded by bisection
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
    lf = math.log(f) if f > 0.0 else 0.0
    k_last = np.nan
    pw = 1.0
    for i in range(S):
        if kf[i] != k_last:
            k_last = kf[i]
            pw = math.exp(k_last * lf)
        D = lnA[i] * pw
        ci = LN10 * kfh[i] * pH
        if ci != 0.0:
            D *= math.exp(ci * f)
        ystar[i] = D * x[i]
        lnA[i] = D  # from here on: D_i
    if want_jac:
        for i in range(S):
            for k in range(S):
                J[i, k] = 0.0
            J[i, i] = lnA[i]
            Jh[i] = 0.0
        if use_h:
            for i in range(S):
                Jh[i] = -ystar[i] * (kh[i] + kfh[i] * f)
        if use_f:
            Fp = 1.0
            Fh = 0.0
            for i in range(S):
                t = sc[i] * ystar[i]
                Fp += t * (kf[i] / f + LN10 * kfh[i] * pH)
                Fh -= t * (kh[i] + kfh[i] * f)
            dfh = -Fh / Fp if use_h else 0.0
            for k in range(S):
                if sc[k] == 0.0:
                    continue
                dfk = -sc[k] * lnA[k] / Fp
                for i in range(S):
                    if ystar[i] != 0.0:
                        J[i, k] += ystar[i] * (kf[i] / f + LN10 * kfh[i] * pH) * dfk
            if use_h:
                for i in range(S):
                    if ystar[i] != 0.0:
                        Jh[i] += ystar[i] * (kf[i] / f + LN10 * kfh[i] * pH) * dfh
    return f


@njit(cache=True, error_model="numpy")
def _residual(x, y, lh, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
              use_h, use_f, murphree, fst, ystar_all, Jall, Jh, Hd, R, want_jac, lnA):
    """Stage residuals R [mol/h] (species balances, Murphree rows, proton invariant) and the
    local Jacobians."""
    nst, S = x.shape
    nbx = 2 * S if murphree else S
    for j in range(nst):
        h = math.exp(lh[j]) if use_h else 1.0
        fst[j] = _equilibrium(x[j], h, j, k0, kf, kh, kfh, sc, fT, use_h, use_f, fst[j],
                              ystar_all[j], Jall[j], Jh[j], want_jac, lnA)
        if use_h:
            T = Ts[j]
            e = h + T * h / (h + Ka) - KW / h - G[j]
            for i in range(S):
                e += z[i] * x[j, i]
            R[j, nbx] = Lout[j] * e
            Hd[j] = Lout[j] * h * (1.0 + T * Ka / ((h + Ka) * (h + Ka)) + KW / (h * h))
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


@njit(cache=True, error_model="numpy")
def _gauss_solve(M, Rhs, nb, ncol):
    """Solve M X = Rhs in place (Rhs becomes X), partial pivoting. False if singular.

    Row operations only (contiguous rows, no data-dependent branches in the inner loops), which
    suits the small stage blocks (nb = S + 1 rows).
    """
    for c in range(nb):
        p = c
        amax = abs(M[c, c])
        for r in range(c + 1, nb):
            v = abs(M[r, c])
            if v > amax:
                amax = v
                p = r
        if not (amax > 0.0) or amax == np.inf:
            return False
        if p != c:
            for k in range(c, nb):
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
            for k in range(c + 1, nb):
                M[r, k] -= m * M[c, k]
            for k in range(ncol):
                Rhs[r, k] -= m * Rhs[c, k]
    for c in range(nb - 1, -1, -1):
        inv = 1.0 / M[c, c]
        for k in range(ncol):
            Rhs[c, k] *= inv
        for r in range(c):
            m = M[r, c]
            for k in range(ncol):
                Rhs[r, k] -= m * Rhs[c, k]
    return True


@njit(cache=True, error_model="numpy")
def _newton_step(S, Lout, Lup, O, eta, murphree, use_h, Jall, Jh, Hd, z, R, dx, picard, Cp,
                 dp, M, Rhs, A, ptc, Dd):
    """Solve J dx = -R for the block-tridiagonal stage system (block Thomas).

    Stage unknowns: x (S), [y (S) if Murphree], [ln h if use_h]. The super-diagonal block is
    Lup_j on the x part only, so the eliminated blocks Cp_j have S columns.
    """
    nst = R.shape[0]
    nbx = 2 * S if murphree else S
    nb = nbx + (1 if use_h else 0)
    ih = nbx
    for j in range(nst):
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
                if use_h:
                    M[a, ih] = -O * Jh[j, a]
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
                if use_h:
                    M[S + a, ih] = -O * eta[j] * Jh[j, a]
        if use_h:
            for b in range(S):
                M[ih, b] = Lout[j] * z[b]
            M[ih, ih] = Hd[j]
        for a in range(nb):
            Rhs[a, S] = -R[j, a]
        if j > 0 and not murphree:
            # A_j = O [J_{j-1} | Jh_{j-1}] on the species rows (organic inflow from stage
            # j-1); applied directly: M -= A_j Cp_{j-1}, rhs -= A_j dp_{j-1}
            for a in range(S):
                for b in range(nb):
                    if b < S:
                        Aab = Jall[j - 1, a, b]
                        if picard and a != b:
                            Aab = 0.0
                    else:
                        Aab = Jh[j - 1, a]
                    if Aab == 0.0:
                        continue
                    Aab *= O
                    for c in range(S):
                        M[a, c] -= Aab * Cp[j - 1, b, c]
                    Rhs[a, S] -= Aab * dp[j - 1, b]
        elif j > 0:
            # Murphree: A_j couples to y_{j-1} only (dRm/dy = O I, dRe/dy = -O (1 - eta) I)
            for a in range(nb):
                for b in range(nb):
                    A[a, b] = 0.0
            for a in range(S):
                A[a, S + a] = O
                A[S + a, S + a] = -O * (1.0 - eta[j])
            for a in range(nb):
                for b in range(nb):
                    Aab = A[a, b]
                    if Aab == 0.0:
                        continue
                    for c in range(S):
                        M[a, c] -= Aab * Cp[j - 1, b, c]
                    Rhs[a, S] -= Aab * dp[j - 1, b]
        for a in range(nb):
            for c in range(S):
                Rhs[a, c] = 0.0
        if j + 1 < nst:
            for a in range(S):
                Rhs[a, a] = Lup[j]
        if not _gauss_solve(M, Rhs, nb, S + 1):
            return False
        for a in range(nb):
            for c in range(S):
                Cp[j, a, c] = Rhs[a, c]
            dp[j, a] = Rhs[a, S]
    for a in range(nb):
        dx[nst - 1, a] = dp[nst - 1, a]
    for j in range(nst - 2, -1, -1):
        for a in range(nb):
            s = dp[j, a]
            for c in range(S):
                s -= Cp[j, a, c] * dx[j + 1, c]
            dx[j, a] = s
    return True


@njit(cache=True, error_model="numpy")
def _scaled_max(R, rscale, nb):
    nst = R.shape[0]
    best = 0.0
    wj = 0
    wa = 0
    for j in range(nst):
        for a in range(nb):
            v = abs(R[j, a]) / rscale[a]
            if not (v <= best):  # also catches NaN
                best = v
                wj = j
                wa = a
                if not np.isfinite(v):
                    return np.inf, j, a
    return best, wj, wa


@njit(cache=True, error_model="numpy")
def _merit(R, rscale, nb):
    nst = R.shape[0]
    s = 0.0
    for j in range(nst):
        for a in range(nb):
            v = R[j, a] / rscale[a]
            s += v * v
    return s


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
def _species_index(a, S, nbx):
    """Species index of row a (S means the proton invariant)."""
    if a >= nbx:
        return S
    return a if a < S else a - S


@njit(cache=True, error_model="numpy")
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
    murphree = False
    for j in range(nst):
        if eta[j] < 1.0:
            murphree = True
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
            fst[j] = _equilibrium(x[j], h, j, k0, kf, kh, kfh, sc, fT, use_h, use_f, fst[j],
                                  ystar[j], Jall[j], Jh[j], False, lnA)
        for j in range(nst):
            for i in range(S):
                yprev = yin[i] if j == 0 else y[j - 1, i]
                y[j, i] = (1.0 - eta[j]) * yprev + eta[j] * ystar[j, i]
    _residual(x, y, lh, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
              use_h, use_f, murphree, fst, ystar, Jall, Jh, Hd, R, True, lnA)
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
                      Ka, eta, use_h, use_f, murphree, ft, ystar, Jall, Jh, Hd, Rt, True, lnA)
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
                      Ka, eta, use_h, use_f, murphree, fst, ystar, Jall, Jh, Hd, R, True, lnA)
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
                  use_h, use_f, murphree, fst, ystar, Jall, Jh, Hd, R, False, lnA)
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


@njit(cache=True, error_model="numpy")
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
            x0, lh0, tol, max_iter, 0)
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
            xc, lhc, tol, min(max_iter, budget), 0 if not first else n_picard)
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


@njit(cache=True, error_model="numpy")
def aqueous_tracer(e, Lup, Lout):
    """Concentration [mol/L] of solutes that no phase change touches (inert tracers) along the
    aqueous train: c_j = (e_j + Lup_j c_{j+1}) / Lout_j, from the last stage down.

    e : (nst, K) stage inflows [mol/h]; Lup, Lout : (nst,) [L/h]. Returns (nst, K).
    """
    nst, K = e.shape
    c = np.zeros((nst, K))
    for j in range(nst - 1, -1, -1):
        for k in range(K):
            v = e[j, k]
            if j + 1 < nst:
                v += Lup[j] * c[j + 1, k]
            c[j, k] = v / Lout[j]
    return c


@njit(cache=True, parallel=True, error_model="numpy")
def solve_batch_kernel(nst_arr, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts,
                       Ka, eta, use_h, use_f, tol, max_iter, n_picard, chain):
    """Solve B cascades in parallel; arrays padded along the stage axis to nmax stages.

    Shapes: nst_arr (B,), Lout/Lup/G/Ts/eta (B, nmax), O/fT (B,), ext/k0 (B, nmax, S),
    yin/kf/kh/kfh/sc/z (B, S). ``chain`` > 1 hands out runs of ``chain`` consecutive cascades
    to the threads and starts each cascade from the solution of the one before it in its run
    when both have the same stage count (a sweep changes one parameter at a time, so the
    neighbour is close: a few Newton steps instead of a cold start); a warm start that does not
    converge within min(max_iter, 100) iterations is dropped for a cold start, so results do
    not depend on the order. ``chain`` <= 1 solves every cascade from a cold start.
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
        for b in range(b0, b1):
            n = nst_arr[b]
            st = MAXITER
            it_warm = 0
            if b > b0 and status[b - 1] == OK and nst_arr[b - 1] == n:
                lh0 = np.full(n, np.nan)
                for j in range(n):
                    if use_h[b - 1] and use_h[b]:
                        lh0[j] = math.log(H[b - 1, j])
                st, it_warm, res, wj, wi, x, y, h, f = _solve_core(
                    Lout[b, :n], Lup[b, :n], O[b], ext[b, :n], yin[b], k0[b, :n], kf[b],
                    kh[b], kfh[b], sc[b], z[b], fT[b], G[b, :n], Ts[b, :n], Ka, eta[b, :n],
                    use_h[b], use_f[b], X[b - 1, :n].copy(), lh0, tol, warm_iter, 0)
            if st != OK:
                x0 = np.zeros((n, S))
                st, it, res, wj, wi, x, y, h, f = solve_cascade(
                    Lout[b, :n], Lup[b, :n], O[b], ext[b, :n], yin[b], k0[b, :n], kf[b], kh[b],
                    kfh[b], sc[b], z[b], fT[b], G[b, :n], Ts[b, :n], Ka, eta[b, :n], use_h[b],
                    use_f[b], x0, tol, max_iter, n_picard)
                it_warm += it
            status[b] = st
            iters[b] = it_warm
            resid[b] = res
            X[b, :n] = x
            Y[b, :n] = y
            H[b, :n] = h
            F[b, :n] = f
    return status, iters, resid, X, Y, H, F
