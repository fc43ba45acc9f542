"""Linear-variable Newton core of the SX solver (the kernel of reeproc <= 0.x), kept as the
robust fall-back of :func:`._kernels.solve_cascade`: equilibrium with analytical Jacobian and the
block-Thomas Newton step in concentration unknowns (residuals in mol/h scaled by each species'
total inflow). Its answers are polished by the log-form Newton of :mod:`._newton`, which resolves
traces to relative precision. Driver: :mod:`._legacy`.
"""
from __future__ import annotations

import math

import numpy as np

from ._jit import inner

from ._equilibrium import KW, LN10
from ._newton import gauss_solve as _gauss_solve

LH_STEP = 1.0 * LN10

@inner
def _equilibrium(x, h, j, k0, kf, kh, kfh, sc, fT, use_h, use_f, fguess, ystar, J, Jh,
                 want_jac, lnA):
    """Equilibrium organic ystar[j] [mol/L] in contact with aqueous x[j] [mol/L] at [H+] = h,
    stage j (whole arrays and an index: a call passing per-stage views cost more than the
    stage's arithmetic).

    Fills ``ystar[j]`` and (if want_jac) ``J[j] = d ystar / d x`` and ``Jh[j] = d ystar / d ln
    h``; returns the local free extractant f.
    """
    S = x.shape[1]
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
                if x[j, i] == 0.0 or sc[i] == 0.0:
                    continue
                if kf[i] != k_last:
                    k_last = kf[i]
                    pw = math.exp(k_last * lf)
                ci = LN10 * kfh[i] * pH
                t = sc[i] * lnA[i] * pw * x[j, i]
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
        ystar[j, i] = D * x[j, i]
        lnA[i] = D  # from here on: D_i
    if want_jac:
        for i in range(S):
            for k in range(S):
                J[j, i, k] = 0.0
            J[j, i, i] = lnA[i]
            Jh[j, i] = 0.0
        if use_h:
            for i in range(S):
                Jh[j, i] = -ystar[j, i] * (kh[i] + kfh[i] * f)
        if use_f:
            Fp = 1.0
            Fh = 0.0
            for i in range(S):
                t = sc[i] * ystar[j, i]
                Fp += t * (kf[i] / f + LN10 * kfh[i] * pH)
                Fh -= t * (kh[i] + kfh[i] * f)
            dfh = -Fh / Fp if use_h else 0.0
            for k in range(S):
                if sc[k] == 0.0:
                    continue
                dfk = -sc[k] * lnA[k] / Fp
                for i in range(S):
                    if ystar[j, i] != 0.0:
                        J[j, i, k] += ystar[j, i] * (kf[i] / f + LN10 * kfh[i] * pH) * dfk
            if use_h:
                for i in range(S):
                    if ystar[j, i] != 0.0:
                        Jh[j, i] += ystar[j, i] * (kf[i] / f + LN10 * kfh[i] * pH) * dfh
    return f


@inner
def _residual(x, y, lh, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
              use_h, use_f, murphree, fst, ystar_all, Jall, Jh, Hd, R, want_jac, lnA):
    """Stage residuals R [mol/h] (species balances, Murphree rows, proton invariant) and the
    local Jacobians."""
    nst, S = x.shape
    nbx = 2 * S if murphree else S
    for j in range(nst):
        h = math.exp(lh[j]) if use_h else 1.0
        fst[j] = _equilibrium(x, h, j, k0, kf, kh, kfh, sc, fT, use_h, use_f, fst[j],
                              ystar_all, Jall, Jh, want_jac, lnA)
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


@inner
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


@inner
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


@inner
def _merit(R, rscale, nb):
    nst = R.shape[0]
    s = 0.0
    for j in range(nst):
        for a in range(nb):
            v = R[j, a] / rscale[a]
            s += v * v
    return s


@inner
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


@inner
def _species_index(a, S, nbx):
    """Species index of row a (S means the proton invariant)."""
    if a >= nbx:
        return S
    return a if a < S else a - S
