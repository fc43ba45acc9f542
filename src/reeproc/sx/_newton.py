"""Stage residuals, Jacobian blocks and linear solves of the SX cascade Newton method (numba).

Unknowns per stage j: u_ji = ln x_ji (aqueous concentrations of the S active species), with a
Murphree efficiency below one also v_ji = ln y_ji (organic), and for pH-dependent models
w_j = ln [H+]_j. Log unknowns keep every concentration positive and make every balance a
statement about *relative* quantities, so a trace at 1e-30 of its feed level is resolved as
precisely as a major species.

Every species balance is written in log form,

    r_ji = ln(In_ji) - ln(Out_ji),
    In  = Lup_j x_{j+1,i} + ext_ji + O y_{j-1,i},     Out = Lout_j x_ji + O y_ji ,

a ratio of two sums of non-negative terms: no cancellation, and |r| <= tol means the stage
balance closes to a relative tol *of that species at that stage*. Each term is evaluated
relative to x_ji (ratios of neighbouring concentrations), so nothing under- or overflows however
deep the trace. With a Murphree efficiency the organic rows read
``ln y_ji = ln((1 - eta_j) y_{j-1,i} + eta_j D_ji x_ji)``. The proton/charge invariant
``h + [HSO4-] - [OH-] + sum_i z_i x_ji = G_j`` (``docs/sx.md``) closes each stage, scaled by
the sum of the magnitudes of its terms.

Structural zeros (a species that cannot reach a stage: no source upstream in either phase, or
D = 0 exactly) are found once (:func:`structure`) and fixed at zero.

The Jacobian is block tridiagonal: the sub-diagonal block (organic from stage j-1) is a diagonal
plus a rank-one term plus the [H+] column, the super-diagonal block (aqueous from stage j+1) is
diagonal; :func:`block_solve` eliminates with those structures (block Thomas) and a dense
partial-pivoting solve of each stage block.
"""
from __future__ import annotations

import math

import numpy as np

from ._jit import inner

from ._equilibrium import equilibrium, h_function, ln_near1

RCLIP = 2.0   # largest balance residual (ln In/Out) entering one Newton step
BIG = 300.0   # exponent clamp: keeps every term and sum finite at far-off trial points


@inner
def structure(ext, yin, k0, Lup, eta):
    """Structural zeros: mx[j, i] (aqueous) and my[j, i] (organic) are True where species i can
    never be present at stage j (no source reaches it), so its unknown is fixed at zero."""
    nst, S = ext.shape
    px = np.zeros((nst, S), dtype=np.bool_)
    py = np.zeros((nst, S), dtype=np.bool_)
    for i in range(S):
        changed = True
        while changed:
            changed = False
            # organic direction (stage 0 -> nst-1)
            for j in range(nst):
                org_in = yin[i] > 0.0 if j == 0 else py[j - 1, i]
                ax = px[j, i] or ext[j, i] > 0.0 or org_in or (j + 1 < nst and Lup[j] > 0.0
                                                              and px[j + 1, i])
                ay = (ax and k0[j, i] > -np.inf) or (org_in and eta[j] < 1.0)
                if ax and not px[j, i]:
                    px[j, i] = True
                    changed = True
                if ay and not py[j, i]:
                    py[j, i] = True
                    changed = True
            # aqueous direction (stage nst-1 -> 0)
            for j in range(nst - 1, -1, -1):
                if not px[j, i] and j + 1 < nst and Lup[j] > 0.0 and px[j + 1, i]:
                    px[j, i] = True
                    changed = True
                    if k0[j, i] > -np.inf:
                        py[j, i] = True
    mx = np.zeros((nst, S), dtype=np.bool_)
    my = np.zeros((nst, S), dtype=np.bool_)
    for j in range(nst):
        for i in range(S):
            mx[j, i] = not px[j, i]
            my[j, i] = not py[j, i]
    return mx, my


@inner
def _rel(uk, uj, xk, xj):
    """x_k / x_j from the log values (robust for under- or overflowing concentrations)."""
    if xj > 1e-280 and xk > 1e-280:
        return xk / xj
    d = uk - uj
    if d > BIG:
        d = BIG
    return math.exp(d)


@inner
def _per(c, uj):
    """c / exp(uj), formed as exp(ln c - uj) with the exponent clamped (c and exp(uj) may both
    lie below the double range)."""
    if c == 0.0:
        return 0.0
    d = math.log(c) - uj
    if d > BIG:
        d = BIG
    return math.exp(d)


@inner
def evaluate(u, v, w, mx, my, Lout, Lup, O, ext, yin, E0, kf, kh, kfh, sc, z, fT, G, Ts, Ka,
             eta, use_h, use_f, murphree, x, y, h, fst, D, g, beta, LH, cvec, R, cf, hz, hh,
             want_jac):
    """Residuals R (nst, nb) of the log-form balances and, with ``want_jac``, the coefficients
    of the Jacobian blocks (cf, hz, hh). Updates the linear values x, y, h, f and D."""
    nst, S = u.shape
    nbx = 2 * S if murphree else S
    for j in range(nst):
        for i in range(S):
            x[j, i] = 0.0 if mx[j, i] else math.exp(u[j, i])
            if murphree:
                y[j, i] = 0.0 if my[j, i] else math.exp(v[j, i])
        h[j] = math.exp(w[j]) if use_h else 1.0
    equilibrium(x, w, E0, kf, kh, kfh, sc, fT, use_h, use_f, fst, D, g, beta, LH, cvec, want_jac)
    if not murphree:
        for j in range(nst):
            for i in range(S):
                y[j, i] = D[j, i] * x[j, i]
    for j in range(nst):
        for i in range(S):
            if mx[j, i]:
                R[j, i] = 0.0
                for q in range(cf.shape[2]):
                    cf[j, i, q] = 0.0
                continue
            uj = u[j, i]
            a = 0.0
            if j + 1 < nst and not mx[j + 1, i]:
                a = Lup[j] * _rel(u[j + 1, i], uj, x[j + 1, i], x[j, i])
            e = _per(ext[j, i], uj)
            if j == 0:
                b = _per(O * yin[i], uj)
            elif not murphree:
                b = 0.0 if mx[j - 1, i] else O * D[j - 1, i] * _rel(u[j - 1, i], uj,
                                                                     x[j - 1, i], x[j, i])
            else:
                b = 0.0 if my[j - 1, i] else O * _rel(v[j - 1, i], uj, y[j - 1, i], x[j, i])
            c = Lout[j]
            if not murphree:
                d = O * D[j, i]
            else:
                d = 0.0 if my[j, i] else O * _rel(v[j, i], uj, y[j, i], x[j, i])
            In = a + e + b
            Out = c + d
            R[j, i] = ln_near1(In / Out)
            if want_jac:
                p = 1.0 / In
                m = 1.0 / Out
                cf[j, i, 0] = p * a
                cf[j, i, 1] = p * b
                cf[j, i, 2] = m * (c + d) if not murphree else m * c
                cf[j, i, 3] = m * d
        if murphree:
            for i in range(S):
                if my[j, i]:
                    R[j, S + i] = 0.0
                    for q in range(4, 7):
                        cf[j, i, q] = 0.0
                    continue
                vj = v[j, i]
                if j == 0:
                    qa = _per((1.0 - eta[j]) * yin[i], vj)
                else:
                    qa = 0.0 if my[j - 1, i] else (1.0 - eta[j]) * _rel(v[j - 1, i], vj,
                                                                       y[j - 1, i], y[j, i])
                qb = 0.0 if mx[j, i] else eta[j] * D[j, i] * _rel(u[j, i], vj, x[j, i], y[j, i])
                Q = qa + qb
                R[j, S + i] = ln_near1(Q)
                if want_jac:
                    cf[j, i, 4] = qa / Q
                    cf[j, i, 5] = qb / Q
                    cf[j, i, 6] = 1.0
        if use_h:
            Hv, dH, mag, dmag = h_function(h[j], Ts[j], Ka)
            num = Hv - G[j]
            den = mag + abs(G[j])
            for i in range(S):
                t = z[i] * x[j, i]
                num += t
                den += abs(t)
            rr = num / den
            R[j, nbx] = rr
            if want_jac:
                # exact derivative of num/den (the scale moves with the iterate)
                for i in range(S):
                    t = z[i] * x[j, i]
                    hz[j, i] = (t - rr * abs(t)) / den
                hh[j] = (dH - rr * dmag) / den


@inner
def gauss_solve(M, Rhs, nb, ncol):
    """Solve M X = Rhs in place (Rhs becomes X), partial pivoting; False if singular."""
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
            if m == 0.0:
                continue
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
            if m == 0.0:
                continue
            for k in range(ncol):
                Rhs[r, k] -= m * Rhs[c, k]
    return True


@inner
def block_solve(S, murphree, use_h, mx, my, g, beta, LH, cf, hz, hh, R, ptc, dx, Cp, M, t):
    """Newton step dx (nst, nb) solving J dx = -R by block Thomas; ``ptc`` > 0 adds the
    pseudo-transient (implicit Euler) term to the balance rows. False if a block is singular.

    A balance row further than RCLIP from closing (a trace whose start value is many decades
    off) enters with its residual clipped to +-RCLIP: its correction then spreads over a few
    iterations instead of pushing a linear-model step of hundreds of e-folds into its
    neighbours."""
    nst = R.shape[0]
    nbx = 2 * S if murphree else S
    nb = nbx + (1 if use_h else 0)
    ih = nbx
    ncol = S + 1
    for j in range(nst):
        Z = Cp[j]   # stage j's [C_j | d_j], eliminated in place
        for a in range(nb):
            for b in range(nb):
                M[a, b] = 0.0
        for i in range(S):
            if mx[j, i]:
                M[i, i] = 1.0
                continue
            c2 = cf[j, i, 2]
            c3 = cf[j, i, 3]
            if not murphree:
                gi = c3 * g[j, i]
                if gi != 0.0:
                    for k in range(S):
                        M[i, k] = gi * beta[j, k]
                M[i, i] -= c2 * (1.0 + ptc)
                if use_h:
                    M[i, ih] = -c3 * LH[j, i]
            else:
                M[i, i] = -c2 * (1.0 + ptc)
                M[i, S + i] = -c3 * (1.0 + ptc)
        if murphree:
            for i in range(S):
                r = S + i
                if my[j, i]:
                    M[r, r] = 1.0
                    continue
                c5 = cf[j, i, 5]
                if c5 != 0.0:
                    gi = c5 * g[j, i]
                    for k in range(S):
                        M[r, k] = -gi * beta[j, k]
                    M[r, i] += c5
                    if use_h:
                        M[r, ih] = c5 * LH[j, i]
                M[r, r] -= cf[j, i, 6]
        if use_h:
            for k in range(S):
                M[ih, k] = hz[j, k]
            M[ih, ih] = hh[j]
        for a in range(nb):
            for c in range(S):
                Z[a, c] = 0.0
            ra = R[j, a]
            if ra > RCLIP:
                ra = RCLIP
            elif ra < -RCLIP:
                ra = -RCLIP
            Z[a, S] = -ra
        if j + 1 < nst:
            for i in range(S):
                Z[i, i] = cf[j, i, 0]   # super-diagonal block (aqueous from stage j+1)
        if j > 0:
            # subtract A_j [Cp_{j-1} | dp_{j-1}] from [M | rhs] (Cp stored with S+1 columns)
            if not murphree:
                for c in range(ncol):
                    s = 0.0
                    for k in range(S):
                        s += beta[j - 1, k] * Cp[j - 1, k, c]
                    t[c] = s
                for i in range(S):
                    c1 = cf[j, i, 1]
                    if c1 == 0.0:
                        continue
                    gi = g[j - 1, i]
                    lh = LH[j - 1, i] if use_h else 0.0
                    for c in range(ncol):
                        val = Cp[j - 1, i, c] - gi * t[c]
                        if use_h:
                            val += lh * Cp[j - 1, ih, c]
                        val *= c1
                        if c < S:
                            M[i, c] -= val
                        else:
                            Z[i, S] -= val
            else:
                for i in range(S):
                    c1 = cf[j, i, 1]
                    c4 = cf[j, i, 4]
                    for c in range(ncol):
                        val = Cp[j - 1, S + i, c]
                        if c < S:
                            M[i, c] -= c1 * val
                            M[S + i, c] -= c4 * val
                        else:
                            Z[i, S] -= c1 * val
                            Z[S + i, S] -= c4 * val
        if not gauss_solve(M, Z, nb, ncol):
            return False
    for a in range(nb):
        dx[nst - 1, a] = Cp[nst - 1, a, S]
    for j in range(nst - 2, -1, -1):
        for a in range(nb):
            s = Cp[j, a, S]
            for c in range(S):
                s -= Cp[j, a, c] * dx[j + 1, c]
            dx[j, a] = s
    return True


@inner
def _thomas(Lout, Lup, O, ext, yin, D, i, dpv, rpv, x):
    """Species i of :func:`linear_solve` (x[:, i] [mol/L]); dpv and rpv (nst,) hold the
    pivots and the eliminated right-hand side on return."""
    nst = ext.shape[0]
    sig = Lout[0]
    dpv[0] = O * D[0, i] + sig
    rpv[0] = ext[0, i] + O * yin[i]
    for j in range(1, nst):
        sj = Lout[j] - Lup[j - 1]
        if sj < 0.0:
            sj = 0.0
        sig = sj + Lup[j - 1] * sig / dpv[j - 1]
        dpv[j] = O * D[j, i] + sig
        rpv[j] = ext[j, i] + O * D[j - 1, i] * rpv[j - 1] / dpv[j - 1]
    x[nst - 1, i] = rpv[nst - 1] / dpv[nst - 1]
    for j in range(nst - 2, -1, -1):
        x[j, i] = (rpv[j] + Lup[j] * x[j + 1, i]) / dpv[j]


@inner
def linear_solve(Lout, Lup, O, ext, yin, D, x):
    """Aqueous profile x (nst, S) of the cascade with *given* distribution ratios D (nst, S)
    (equilibrium stages): one tridiagonal system per species, solved by the Thomas algorithm
    with the pivots accumulated from non-negative terms only (the column-sum form of
    Grassmann-Taksar-Heyman elimination), so every concentration, however small, is exact to
    rounding."""
    nst, S = ext.shape
    dpv = np.zeros(nst)
    rpv = np.zeros(nst)
    for i in range(S):
        _thomas(Lout, Lup, O, ext, yin, D, i, dpv, rpv, x)


@inner
def _lse(a, b):
    """ln(e^a + e^b) without overflow or underflow (either may be -inf)."""
    if a < b:
        a, b = b, a
    if a == -np.inf:
        return a
    return a + math.log1p(math.exp(b - a))


@inner
def linear_solve_log(Lout, Lup, O, ext, yin, D, lx):
    """As :func:`linear_solve`, but returns ln x (nst, S), exact for concentrations far below
    the double-precision range too (-inf where a species cannot reach a stage). A species
    whose every concentration lies in 1e-280..1e280 mol/L takes the linear solve and
    one logarithm per value (a third of the cost); any other is carried in logarithms through
    both sweeps."""
    nst, S = ext.shape
    dpv = np.zeros(nst)
    lrp = np.zeros(nst)
    for i in range(S):
        _thomas(Lout, Lup, O, ext, yin, D, i, dpv, lrp, lx)
        normal = True
        for j in range(nst):
            if not (lx[j, i] > 1e-280 and lx[j, i] < 1e280):
                normal = False
                break
        if normal:
            for j in range(nst):
                lx[j, i] = math.log(lx[j, i])
            continue
        # the pivots dpv are those of _thomas (sums of non-negative terms, never out of
        # range); only the right-hand side and the back substitution go to logarithms
        t = O * yin[i]
        lrp[0] = _lse(math.log(ext[0, i]) if ext[0, i] > 0.0 else -np.inf,
                      math.log(t) if t > 0.0 else -np.inf)
        for j in range(1, nst):
            c = O * D[j - 1, i] / dpv[j - 1]
            up = math.log(c) + lrp[j - 1] if c > 0.0 else -np.inf
            lrp[j] = _lse(math.log(ext[j, i]) if ext[j, i] > 0.0 else -np.inf, up)
        lx[nst - 1, i] = lrp[nst - 1] - math.log(dpv[nst - 1])
        for j in range(nst - 2, -1, -1):
            down = math.log(Lup[j]) + lx[j + 1, i] if Lup[j] > 0.0 else -np.inf
            lx[j, i] = _lse(lrp[j], down) - math.log(dpv[j])
