"""Compiled rows, Jacobian blocks and block-tridiagonal solves of the pseudo-arclength
(:mod:`._arclength`, which holds the equations and the continuation).

Unknowns per stage j (``nb`` of them): ln x_ij of each species i, then ln [H+] (models with
[H+]) and ln f (models with a free extractant); the rows are the species balances in log form,
the proton invariant and the extractant balance (``_arclength`` module doc). A row of stage j
depends on the unknowns of stages j - 1, j and j + 1 only, so the Jacobian is block
tridiagonal: ``Lb[j]`` (d rows_j / d z_j-1), ``Db[j]`` (d rows_j / d z_j), ``Ub[j]``
(d rows_j / d z_j+1), each (nb, nb); :func:`band` writes it in LAPACK's band storage
(transposed), whose LU with partial pivoting across the band (:func:`._arcloop.gbtrf`, LAPACK's
``dgbtf2``) stays accurate where the curve nears a fold (an elimination that pivots only
within each stage's block stalled a survey path there).
"""
from __future__ import annotations

import math

import numpy as np

from ._equilibrium import KW, LN10
from ._jit import inner, kernel


@inner
def _ln(a):
    """ln a; -inf at 0 and NaN below (a negative flow: the caller refuses the step)."""
    if a > 0.0:
        return math.log(a)
    if a == 0.0:
        return -np.inf
    return np.nan


@inner
def _lae(a, b):
    """ln(exp a + exp b) with -inf terms (no flow) and NaN propagated."""
    if a != a or b != b:
        return np.nan
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@kernel
def rows(z, live, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, zc, fT, G, Ts, Ka, use_h,
         use_f, jac, R, Lb, Db, Ub):
    """Rows R (nst, nb) at the unknowns z (nst * nb,); with ``jac`` also the Jacobian blocks
    Lb, Db, Ub (nst, nb, nb), overwritten. ``live`` (nst, S) is False where a species is
    structurally absent (its row is its own unknown, the identity in Db). The remaining
    arguments are the kernel's (Lout .. use_f, without eta)."""
    nst, S = ext.shape
    nb = S + int(use_h) + int(use_f)
    cf = S + int(use_h)          # the column of ln f
    lO = math.log(O)
    lnD = np.empty((nst, S))
    lu = np.empty((nst, S))
    for j in range(nst):
        w = z[j * nb + S] if use_h else 0.0
        v = z[j * nb + cf] if use_f else math.log(fT)
        f = math.exp(v)
        for i in range(S):
            lnD[j, i] = LN10 * k0[j, i] - kh[i] * w + kf[i] * v - kfh[i] * f * w
            lu[j, i] = z[j * nb + i] if live[j, i] else -np.inf
    if jac:
        Lb[:] = 0.0
        Db[:] = 0.0
        Ub[:] = 0.0
    xs = np.empty(S)
    ys = np.empty(S)
    for j in range(nst):
        w = z[j * nb + S] if use_h else 0.0
        v = z[j * nb + cf] if use_f else math.log(fT)
        f = math.exp(v)
        h = math.exp(w)
        lLout = _ln(Lout[j])
        lLup = _ln(Lup[j]) if j < nst - 1 else 0.0
        if jac and j > 0:   # (the previous stage's free extractant and ln [H+])
            fp = math.exp(z[(j - 1) * nb + cf]) if use_f else fT
            wp = z[(j - 1) * nb + S] if use_h else 0.0
        else:
            fp = fT
            wp = 0.0
        zx = 0.0
        azx = 0.0
        scy = 0.0
        for i in range(S):
            lOD = lO + lnD[j, i]
            la = lLup + lu[j + 1, i] if j < nst - 1 else -np.inf
            lb = _ln(O * yin[i]) if j == 0 else lO + lnD[j - 1, i] + lu[j - 1, i]
            lIn = _lae(_lae(la, _ln(ext[j, i])), lb)
            lOut = _lae(lLout, lOD)
            x = math.exp(lu[j, i])
            y = math.exp(lnD[j, i] + lu[j, i])
            xs[i] = x
            ys[i] = y
            zx += zc[i] * x
            azx += abs(zc[i] * x)
            scy += sc[i] * y
            if live[j, i]:
                R[j, i] = lIn - lOut - lu[j, i]
            else:
                R[j, i] = 0.0
            if not jac:
                continue
            r = i
            if not live[j, i]:
                Db[j, r, i] = 1.0
                continue
            Db[j, r, i] = -1.0
            pa = math.exp(la - lIn)
            pb = math.exp(lb - lIn)
            wout = math.exp(lOD - lOut)
            if j < nst - 1:
                Ub[j, r, i] = pa
            if j > 0:
                Lb[j, r, i] = pb
            if use_h:
                if j > 0:
                    Lb[j, r, S] = pb * (-kh[i] - kfh[i] * fp)
                Db[j, r, S] = -wout * (-kh[i] - kfh[i] * f)
            if use_f:
                if j > 0:
                    Lb[j, r, cf] = pb * (kf[i] - kfh[i] * fp * wp)
                Db[j, r, cf] = -wout * (kf[i] - kfh[i] * f * w)
        if use_h:
            hs = Ts[j] * h / (h + Ka)
            s = h + hs + KW / h + abs(G[j]) + azx
            R[j, S] = (h + hs - KW / h + zx - G[j]) / s
            if jac:
                for i in range(S):
                    Db[j, S, i] = zc[i] * xs[i] / s
                Db[j, S, S] = (h + h * Ts[j] * Ka / ((h + Ka) ** 2) + KW / h) / s
        if use_f:
            R[j, cf] = (f + scy - fT) / fT
            if jac:
                dv = f
                dw = 0.0
                for i in range(S):
                    y = ys[i]
                    Db[j, cf, i] = sc[i] * y / fT
                    dv += sc[i] * y * (kf[i] - kfh[i] * f * w)
                    dw += sc[i] * y * (-kh[i] - kfh[i] * f)
                Db[j, cf, cf] = dv / fT
                if use_h:
                    Db[j, cf, S] = dw / fT


@kernel
def band(Lb, Db, Ub, ab):
    """The block-tridiagonal matrix (Lb, Db, Ub) in LAPACK's band storage, transposed so that
    each column is contiguous (:func:`._arcloop.gbtrf`): ab[c, kl + ku + r - c] = J[r, c]
    with kl = ku = 2 nb - 1 (ab (nst * nb, 3 kl + 1), zeroed here; the first kl entries of
    each column are the factorisation's room for fill)."""
    nst, nb = Db.shape[0], Db.shape[1]
    k = 2 * (2 * nb - 1)     # kl + ku
    ab[:] = 0.0
    for j in range(nst):
        for r in range(nb):
            row = j * nb + r
            for c in range(nb):
                col = j * nb + c
                ab[col, k + row - col] = Db[j, r, c]
                if j > 0:
                    ab[col - nb, k + row - col + nb] = Lb[j, r, c]
                if j < nst - 1:
                    ab[col + nb, k + row - col - nb] = Ub[j, r, c]
