"""Compiled pseudo-arclength continuation: the band LU and the whole loop of
:func:`._arclength.follow` (predictor, chord corrector, step control, Newton where the curve
crosses lambda = 1) in one numba call, :func:`follow`; with ``newton_only`` the same call is
that Newton alone (one kernel: one call tree to compile).

The homotopy is affine: every number of the cascade at lambda is (1 - lambda) P0 + lambda P1
(an entry equal in both stays exact), P0 and P1 the rows' arguments of :func:`._arcjit.rows`
at lambda = 0 and 1, as every continuation of the solver takes it (the base, the loading, the
path between two neighbouring cascades). They come packed in four arrays, P = (Pst, Pss, Psp,
Psc), each with a leading axis of 2 (lambda = 0, 1): per stage (Lout, Lup, G, Ts), per stage
and species (ext, k0), per species (yin, kf, kh, kfh, sc, z) and the scalars (O, fT, Ka)
(``PACKED``). The first use compiles in 11.5 s of CPU (fifteen separate arguments and a
second kernel for the Newton: 13.5 s). The equations, the rows and their Jacobian are
:mod:`._arclength`'s and :mod:`._arcjit`'s; the steps here are those that
:func:`._arclength.follow` documents.

The band LU is LAPACK's unblocked ``dgbtf2`` and ``dgbtrs`` (Anderson et al., LAPACK Users'
Guide, 3rd ed., SIAM 1999): partial pivoting across the band, in LAPACK's band storage
transposed (``ab[c, kl + ku + r - c]`` = J[r, c]: each column contiguous). LAPACK's blocked
``dgbtrf`` runs the unblocked code itself when its block size exceeds kl (2 nb - 1 <= 23
here). Written here because a numba kernel that calls LAPACK through a function pointer
cannot be cached.
"""
from __future__ import annotations

import math

import numpy as np

from ._arcjit import band, rows
from ._jit import inner, kernel, released

# the rows' arguments in the packed P: per stage, per stage and species, per species, scalars
PACKED = (("Lout", "Lup", "G", "Ts"), ("ext", "k0"), ("yin", "kf", "kh", "kfh", "sc", "z"),
          ("O", "fT", "Ka"))
# why a continuation ended (:func:`follow`)
REACHED, FOLD, ALKALINE, STALLED, STEPS = 0, 1, 2, 3, 4


@kernel
def gbtrf(ab, kl, ku, piv):
    """Band LU with partial pivoting in place (LAPACK ``dgbtf2``) of the band ``ab`` stored
    by columns: ab[c, kl + ku + r - c] = J[r, c] (n, 2 kl + ku + 1), the first kl entries of
    each column zero (room for fill). Returns 0, or j + 1 for the first exactly zero pivot
    (column j), where it stops."""
    n = ab.shape[0]
    kv = kl + ku
    ju = 0
    for j in range(n):
        km = min(kl, n - 1 - j)
        col = ab[j]
        jp = 0
        big = abs(col[kv])
        for t in range(1, km + 1):
            if abs(col[kv + t]) > big:
                big = abs(col[kv + t])
                jp = t
        piv[j] = j + jp
        if col[kv + jp] == 0.0:
            return j + 1
        ju = max(ju, min(j + ku + jp, n - 1))
        if jp != 0:
            for c in range(j, ju + 1):
                a = ab[c, kv + jp + j - c]
                ab[c, kv + jp + j - c] = ab[c, kv + j - c]
                ab[c, kv + j - c] = a
        inv = 1.0 / col[kv]
        for t in range(1, km + 1):
            col[kv + t] *= inv
        for c in range(j + 1, ju + 1):
            cc = ab[c]
            o = kv + j - c
            u = cc[o]
            if u != 0.0:
                for t in range(1, km + 1):
                    cc[o + t] -= col[kv + t] * u
    return 0


@kernel
def gbtrs(ab, kl, ku, piv, b):
    """Solve J x = b in place from the factors of :func:`gbtrf` (LAPACK ``dgbtrs``)."""
    n = ab.shape[0]
    kv = kl + ku
    for j in range(n - 1):
        lm = min(kl, n - 1 - j)
        p = piv[j]
        if p != j:
            a = b[p]
            b[p] = b[j]
            b[j] = a
        bj = b[j]
        for t in range(1, lm + 1):
            b[j + t] -= ab[j, kv + t] * bj
    for j in range(n - 1, -1, -1):
        b[j] /= ab[j, kv]
        bj = b[j]
        for i in range(max(0, j - kv), j):
            b[i] -= ab[j, kv + i - j] * bj


@inner
def _mix(a, b, lam, out):
    """out = (1 - lam) a + lam b entry by entry (equal entries exact)."""
    o = out.reshape(-1)
    p = a.reshape(-1)
    q = b.reshape(-1)
    for k in range(o.size):
        o[k] = p[k] if p[k] == q[k] else (1.0 - lam) * p[k] + lam * q[k]


@inner
def _num(a, b, lam):
    return a if a == b else (1.0 - lam) * a + lam * b


@inner
def _rows_at(z, live, P, W, lam, use_h, use_f, jac, R, Lb, Db, Ub):
    """The rows (and with ``jac`` the Jacobian blocks) at the unknowns z on the cascade at
    lambda; W = (Wst, Wss, Wsp) holds the mixed arrays (work)."""
    Pst, Pss, Psp, Psc = P
    Wst, Wss, Wsp = W
    _mix(Pst[0], Pst[1], lam, Wst)
    _mix(Pss[0], Pss[1], lam, Wss)
    _mix(Psp[0], Psp[1], lam, Wsp)
    rows(z, live, Wst[0], Wst[1], _num(Psc[0, 0], Psc[1, 0], lam), Wss[0], Wsp[0], Wss[1],
         Wsp[1], Wsp[2], Wsp[3], Wsp[4], Wsp[5], _num(Psc[0, 1], Psc[1, 1], lam), Wst[2],
         Wst[3], _num(Psc[0, 2], Psc[1, 2], lam), use_h, use_f, jac, R, Lb, Db, Ub)


@inner
def _finite(a):
    for v in a.reshape(-1):
        if not np.isfinite(v):
            return False
    return True


@inner
def _amax(a):
    m = 0.0
    for v in a:
        if abs(v) > m or v != v:
            m = abs(v)
    return m


@inner
def _factor(z, live, P, W, lam, use_h, use_f, R, Lb, Db, Ub, ab, piv):
    """Rows R at z and the band LU of their Jacobian in ``ab``; False where the Jacobian is
    not finite or singular."""
    nb = Db.shape[1]
    kl = 2 * nb - 1
    _rows_at(z, live, P, W, lam, use_h, use_f, True, R, Lb, Db, Ub)
    band(Lb, Db, Ub, ab)
    if not _finite(ab):
        return False
    return gbtrf(ab, kl, kl, piv) == 0


@inner
def _system(z, lam, c, live, P, W, use_h, use_f, dlam, R, R2, Lb, Db, Ub, ab, piv, Jb):
    """The bordered system [[J, Rl], [c]] at (z, lam): J's band LU in ``ab``, Jb = J^-1 Rl
    (Rl the forward difference of the rows in lambda). Returns its border's pivot
    c[n] - c[:n] . Jb, NaN where J or the border is singular or not finite."""
    n = z.size
    ok = _factor(z, live, P, W, lam, use_h, use_f, R, Lb, Db, Ub, ab, piv)
    _rows_at(z, live, P, W, lam + dlam, use_h, use_f, False, R2, Lb, Db, Ub)
    Rf = R.reshape(-1)
    R2f = R2.reshape(-1)
    for k in range(n):
        Jb[k] = (R2f[k] - Rf[k]) / dlam
    if not ok or not _finite(Jb) or not _finite(c):
        return np.nan
    nb = Db.shape[1]
    gbtrs(ab, 2 * nb - 1, 2 * nb - 1, piv, Jb)
    den = c[n]
    for k in range(n):
        den -= c[k] * Jb[k]
    if not (np.isfinite(den) and den != 0.0 and _finite(Jb)):
        return np.nan
    return den


@inner
def _bsolve(ab, piv, kl, Jb, den, c, b, out):
    """out (n + 1) = the bordered system's solution for b (n + 1) (Keller's bordering)."""
    n = Jb.size
    for k in range(n):
        out[k] = b[k]
    gbtrs(ab, kl, kl, piv, out[:n])
    dl = b[n]
    for k in range(n):
        dl -= c[k] * out[k]
    dl /= den
    for k in range(n):
        out[k] -= dl * Jb[k]
    out[n] = dl


@inner
def _newton_at(z, lam, live, P, W, use_h, use_f, tol, n_iter, cap, R, Lb, Db, Ub, ab, piv,
               d):
    """Newton on the rows at lambda from z (in place), each step shortened to move no
    ln-variable by more than ``cap``: (converged: every row within tol, iterations;
    n_iter where it fails)."""
    n = z.size
    kl = 2 * Db.shape[1] - 1
    Rf = R.reshape(-1)
    for k in range(1, n_iter + 1):
        ok = _factor(z, live, P, W, lam, use_h, use_f, R, Lb, Db, Ub, ab, piv)
        if not _finite(Rf):
            break
        if _amax(Rf) <= tol:
            return True, k
        if not ok:
            break
        for q in range(n):
            d[q] = -Rf[q]
        gbtrs(ab, kl, kl, piv, d)
        if not _finite(d):
            break
        s = min(1.0, cap / max(_amax(d), 1e-300))
        for q in range(n):
            z[q] += d[q] * s
    return False, n_iter


@inner
def _work(P, nst, nb):
    """Work arrays: the mixed parameters (Wst, Wss, Wsp), the Jacobian blocks, the band and
    its pivots."""
    W = (np.empty_like(P[0][0]), np.empty_like(P[1][0]), np.empty_like(P[2][0]))
    n = nst * nb
    kl = 2 * nb - 1
    return (W, np.zeros((nst, nb, nb)), np.zeros((nst, nb, nb)), np.zeros((nst, nb, nb)),
            np.zeros((n, 3 * kl + 1)), np.zeros(n, dtype=np.int64))


@released
def follow(z0, live, lam0, P, use_h, use_f, tol, tol_end, h_min, steps, max_iter, ds0,
           ds_max, ds_min, n_corr, row_share, dz_max, easy, dlam, newton_only, z_out, R_out):
    """The continuation of :func:`._arclength.follow` from the unknowns z0 at lambda0 (its
    constants passed in). Writes the last state's unknowns and rows into z_out (n,) and
    R_out (nst, nb); returns (why, lambda, largest lambda, iterations), ``why`` one of
    REACHED (z_out solves the cascade at lambda = 1 to ``tol_end``), FOLD, ALKALINE, STALLED
    or STEPS. With ``newton_only``: Newton alone at lambda0 from z0, at most ``n_corr``
    iterations, each step shortened to move no ln-variable by more than ``dz_max``, to
    ``tol`` (REACHED or STALLED; one kernel for both keeps the compile to one call tree)."""
    nst, S = live.shape
    nb = R_out.shape[1]
    n = nst * nb
    kl = 2 * nb - 1
    W, Lb, Db, Ub, ab, piv = _work(P, nst, nb)
    R = np.zeros((nst, nb))
    R2 = np.zeros((nst, nb))
    Rf = R.reshape(-1)
    Jb = np.zeros(n)
    e = np.zeros(n + 1)
    e[n] = 1.0
    t = np.zeros(n + 1)
    tn = np.zeros(n + 1)
    c = np.zeros(n + 1)
    b = np.zeros(n + 1)
    dv = np.zeros(n + 1)
    z = z0.copy()
    zp = np.zeros(n)
    zc = np.zeros(n)
    lam = lam0
    iters = 0
    if newton_only:
        conv, k = _newton_at(z, lam, live, P, W, use_h, use_f, tol, n_corr, dz_max, R, Lb, Db,
                             Ub, ab, piv, dv[:n])
        z_out[:] = z
        R_out[:] = R
        return (REACHED if conv else STALLED), lam, lam, k
    # z_out, R_out, lam and lam_max: the last state on the curve (returned where the
    # continuation stops short)
    z_out[:] = z
    den = _system(z, lam, e, live, P, W, use_h, use_f, dlam, R, R2, Lb, Db, Ub, ab, piv,
                  Jb)
    R_out[:] = R
    if not np.isfinite(den):
        return STALLED, lam, lam, iters
    _bsolve(ab, piv, kl, Jb, den, e, e, t)
    t /= np.sqrt(np.sum(t * t))
    ds = ds0
    lam_max = lam
    for _ in range(steps):
        if iters >= max_iter:
            break
        for k in range(n):
            zp[k] = z[k] + ds * t[k]
        lp = lam + ds * t[n]
        tmax = _amax(t)
        ct = 0.0
        for k in range(n + 1):
            c[k] = t[k] if abs(t[k]) >= row_share * tmax else 0.0
            ct += c[k] * t[k]
        ok = False
        nfac = 0
        last = np.inf
        den = _system(zp, lp, c, live, P, W, use_h, use_f, dlam, R, R2, Lb, Db, Ub, ab,
                      piv, Jb)
        it = 0
        for it in range(n_corr):
            iters += 1
            if not np.isfinite(den) or not _finite(Rf):
                break
            g = c[n] * (lp - lam) - ds * ct
            for k in range(n):
                g += c[k] * (zp[k] - z[k])
                b[k] = -Rf[k]
            b[n] = -g
            _bsolve(ab, piv, kl, Jb, den, c, b, dv)
            size = _amax(dv)
            if not np.isfinite(size) or _amax(dv[:n]) > dz_max:
                break
            for k in range(n):
                zp[k] += dv[k]
            lp += dv[n]
            if size <= tol and _amax(Rf) <= tol:
                ok = True
                break
            if size > 0.25 * last:   # a slow chord iteration: a new Jacobian
                den = _system(zp, lp, c, live, P, W, use_h, use_f, dlam, R, R2, Lb, Db,
                              Ub, ab, piv, Jb)
                nfac += 1
            else:
                _rows_at(zp, live, P, W, lp, use_h, use_f, False, R, Lb, Db, Ub)
            last = size
        if not ok:
            ds *= 0.5
            if ds < ds_min:
                return STALLED, lam, lam_max, iters
            continue
        _bsolve(ab, piv, kl, Jb, den, c, e, tn)   # the tangent, from the last Jacobian
        nrm = np.sqrt(np.sum(tn * tn)) * (1.0 if np.sum(tn * t) >= 0.0 else -1.0)
        tn /= nrm
        if lp >= 1.0:   # the curve crosses lambda = 1: Newton there from the chord
            for k in range(n):
                zc[k] = z[k] + (1.0 - lam) / (lp - lam) * (zp[k] - z[k])
            conv, kn = _newton_at(zc, 1.0, live, P, W, use_h, use_f, tol_end, n_corr,
                                  np.inf, R, Lb, Db, Ub, ab, piv, dv[:n])
            iters += kn
            if conv:
                z_out[:] = zc
                R_out[:] = R
                return REACHED, 1.0, 1.0, iters
            ds *= 0.5   # (the chord far from the curve at lambda = 1: a shorter step)
            if ds < ds_min:
                return STALLED, lam, lam_max, iters
            continue
        z[:] = zp
        lam = lp
        t[:] = tn
        lam_max = max(lam_max, lam)
        z_out[:] = z
        R_out[:] = R
        if use_h:
            for j in range(nst):
                if math.exp(z[j * nb + S]) < h_min:
                    return ALKALINE, lam, lam_max, iters
        if lam < lam0:
            return FOLD, lam, lam_max, iters
        if it <= easy and nfac == 0:
            ds = min(2.0 * ds, ds_max)
    return STEPS, lam, lam_max, iters
