"""Stage equilibrium of the SX kernel (numba): distribution ratios, free extractant, [H+].

One generic form covers every model through per-species coefficients (``docs/sx.md``)::

    ln D_ij = ln E0_ij - kh_i w_j + kf_i ln f_j - kfh_i f_j w_j ,   w_j = ln [H+]_j ,
    E0_ij = 10^k0_ij

* ``ConstantD``:      k0 = log10 D, every other coefficient 0.
* ``MassAction``:     k0 = log10 Kex - log10(alpha_Cl), kf = dimers bound, kh = charge;
  f is the free dimer [(HA)2] [mol/L].
* ``PhCorrelation``:  k0 = B0, kf = B1, kh = m0, kfh = m1; f is the local free dosage [vol%].

The local free extractant f_j solves the extractant balance of the equilibrium organic,

    f + sum_i sc_i D_ij(f) x_ij = fT ,

a sum of positive terms, solved by a safeguarded Newton iteration in ln f. Species that share
``kf`` (all RE3+ share 3) share one power f^kf, formed by multiplication where kf is a whole or
half number (:func:`power`), so an evaluation of the balance costs no logarithm or exponential
for mass action (the step's exp(d ln f) is the iteration's one).

Derivatives for the cascade Newton step (implicit-function theorem on the extractant balance),
with P_i = sc_i D_i x_i the extractant bound by species i:

    g_i    = d ln D_i / d ln f = kf_i - kfh_i f w
    Fp     = f + sum_i g_i P_i
    beta_k = P_k / Fp                      d ln D_i / d ln x_k = -g_i beta_k
    LH_i   = d ln D_i / d w = -(kh_i + kfh_i f) + g_i sum_k P_k (kh_k + kfh_k f) / Fp
"""
from __future__ import annotations

import math

import numpy as np

from ._jit import inlined, inner

LN10 = math.log(10.0)
KW = 1.0e-14  # ionic product of water [mol2/L2] at 25 C (sx_constants.csv)
NEWTON_LAST = 1e-9  # a Newton step in ln f this small is the last: the next is ~its square
SERIES = 1e-3       # |q - 1| (ln q) or |d| (e^d) below which a power series replaces libm


def ln_d(k0, kf, kh, kfh, w, v):
    """ln D of the generic form above in numpy (Python callers: the arclength's rows, the
    capacity diagnosis): log10 E0 ``k0`` (..., S), coefficients kf, kh, kfh (S,), ln [H+]
    ``w`` and ln f ``v`` (...,), broadcast over the leading axes; (..., S)."""
    w = np.asarray(w, dtype=float)[..., None]
    v = np.asarray(v, dtype=float)[..., None]
    return LN10 * k0 - kh * w + kf * v - kfh * np.exp(v) * w


@inner
def ln_near1(q):
    """ln q for q > 0; where |q - 1| < SERIES by six terms of the series of ln(1 + d),
    d = q - 1 (exact there; truncation below 2e-19 of the value), else ``math.log``. The
    ratios the solver takes logarithms of (a stage balance In / Out, the extractant balance)
    lie there once it nears the answer: their last iterations make no libm call."""
    d = q - 1.0
    if abs(d) < SERIES:
        return d * (1.0 - d * (0.5 - d * (1.0 / 3.0 - d * (0.25 - d * (0.2 - d / 6.0)))))
    return math.log(q)


@inner
def exp_small(d):
    """e^d; where |d| < SERIES by five terms of its series (truncation below 1e-17), else
    ``math.exp`` (the last, small Newton steps in ln f and ln [H+])."""
    if abs(d) < SERIES:
        return 1.0 + d * (1.0 + d * (0.5 + d * (1.0 / 6.0 + d / 24.0)))
    return math.exp(d)


@inner
def h_function(h, T, Ka):
    """Acid equivalents carried by the aqueous acid species [mol/L]: h + [HSO4-] - [OH-], with
    [HSO4-] = T h / (h + Ka) (T: total sulfate) and [OH-] = Kw / h; returns (value, h d/dh, sum of
    the magnitudes, h d/dh of that sum)."""
    hs = T * h / (h + Ka)
    oh = KW / h
    dhs = h * T * Ka / ((h + Ka) * (h + Ka))
    return h + hs - oh, h + dhs + oh, h + hs + oh, h + dhs - oh


@inner
def h_from_invariant(R, T, Ka):
    """[H+] [mol/L] solving h + T h/(h + Ka) - Kw/h = R (free acid + bisulfate - hydroxide)."""
    if R > 0.0:
        if T > 0.0:
            b = Ka + T - R
            disc = math.sqrt(b * b + 4.0 * R * Ka)
            h = 2.0 * R * Ka / (b + disc) if b > 0.0 else 0.5 * (-b + disc)
        else:
            h = R
        if h < 1e-7:
            h = 0.5 * (R + math.sqrt(R * R + 4.0 * KW))
    else:
        h = KW / (math.sqrt(R * R + 4.0 * KW) - R) * 2.0
    for it in range(60):
        H, dH, mag, dmag = h_function(h, T, Ka)
        dl = -(H - R) / dH
        if dl > 1.0:
            dl = 1.0
        elif dl < -1.0:
            dl = -1.0
        h *= exp_small(dl)
        if abs(dl) < 1e-15:
            break
    return h


@inner
def power(f, k):
    """f**k for f > 0 [in f's unit**k]: by multiplication where 2 k is an integer in 0..16
    (the stoichiometric coefficients of mass action: 3 dimers per RE3+, 1/2 per Na+), else
    exp(k ln f). (Two to four roundings, against a logarithm and an exponential.)"""
    k2 = 2.0 * k
    if k2 >= 0.0 and k2 <= 16.0 and k2 == math.floor(k2):
        n = int(k2)
        p = math.sqrt(f) if n & 1 else 1.0
        for _ in range(n >> 1):
            p *= f
        return p
    return math.exp(k * math.log(f))


@inner
def _bound(f, cvec, kf, kfh, w, S):
    """sum_i c_i f^kf_i exp(-kfh_i f w) and its derivative in ln f (runs of equal kf share
    one power)."""
    tot = 0.0
    der = 0.0
    k_last = np.nan
    pw = 1.0
    for i in range(S):
        c = cvec[i]
        if c == 0.0:
            continue
        if kf[i] != k_last:
            k_last = kf[i]
            pw = power(f, k_last)
        t = c * pw
        gi = kf[i]
        if kfh[i] != 0.0:
            t *= math.exp(-kfh[i] * f * w)
            gi -= kfh[i] * f * w
        tot += t
        der += gi * t
    return tot, der


# the same, inlined by numba into :func:`equilibrium`'s stage loop (no call, so no reference
# counting of its three arrays per stage; the general search keeps the compiled call, which
# compiles once)
_bound_inline = inlined(_bound.py_func)


@inner
def _F(f, cvec, kf, kfh, w, fT, S):
    b, db = _bound(f, cvec, kf, kfh, w, S)
    return f + b - fT, f + db


@inner
def _least(a, b, cvec, kf, kfh, w, fT, S):
    """(f, F, Fp) at the least F between ln f = a, where F falls towards a (Fp < 0), and b,
    where it rises (Fp > 0), by bisection on the slope's sign; stops early at a point where
    F <= 0 (the largest root lies above it)."""
    m = 0.5 * (a + b)
    F, Fp = _F(math.exp(m), cvec, kf, kfh, w, fT, S)
    for it in range(80):
        if F <= 0.0 or b - a <= 1e-13:
            break
        if Fp < 0.0:
            a = m
        else:
            b = m
        m = 0.5 * (a + b)
        F, Fp = _F(math.exp(m), cvec, kf, kfh, w, fT, S)
    return math.exp(m), F, Fp


@inner
def free_extractant(cvec, kf, kfh, w, fT, fguess):
    """Free extractant f in (0, fT] solving F(f) = f + sum_i c_i f^kf_i exp(-kfh_i f w) - fT = 0,
    c_i = sc_i A_i x_i >= 0: the general search, for any sign of kf (:func:`equilibrium`
    solves the convex case of mass action in place and comes here only if that fails).

    F is not monotone when a correlation gives D rising as the free extractant falls (kf < 0,
    some PhCorrelation rows), so the root is first bracketed, F(lo) <= 0 < F(hi), by steps in
    ln f that grow fourfold from the guess (a step that passes F's minimum, where F can dip
    below 0 between two close roots, is searched back by bisection on the slope), then refined
    by Newton in ln f safeguarded by bisection. When F has no root (the correlation asks more
    extractant than the organic holds at any free level) the search returns the f where F is
    least."""
    S = cvec.shape[0]
    f = fguess
    if not (f > 0.0) or f > fT:
        f = fT
    F, Fp = _F(f, cvec, kf, kfh, w, fT, S)
    if F == 0.0:
        return f
    lo = 0.0
    hi = fT
    step = 0.01
    if F > 0.0:
        if Fp <= 0.0 and f < fT:
            # left of a minimum of F (small-f branch of a kf < 0 correlation): the physical,
            # largest root lies above; search down from fT instead
            f = fT
            F, Fp = _F(f, cvec, kf, kfh, w, fT, S)
        hi = f
        fmin = f
        Fmin = F
        while True:   # downwards until F <= 0
            fn = f * math.exp(-step)
            if fn < 1e-30 * fT:
                return fmin   # no root: the least-violating free extractant
            Fn, Fpn = _F(fn, cvec, kf, kfh, w, fT, S)
            if Fn < Fmin:
                fmin = fn
                Fmin = Fn
            if Fn <= 0.0:
                lo = fn
                f, F, Fp = fn, Fn, Fpn
                break
            if Fpn < 0.0 < Fp:
                # the step passed F's minimum (two roots close together: the window between
                # them is narrower than the step): bisect on the slope for it; where F <= 0
                # there the largest root lies between it and f, else F has no root
                fm, Fm, Fpm = _least(math.log(fn), math.log(f), cvec, kf, kfh, w, fT, S)
                if Fm > 0.0:
                    return fm   # no root: the least-violating free extractant
                lo, hi = fm, f
                f, F, Fp = fm, Fm, Fpm
                break
            hi = fn
            f, F, Fp = fn, Fn, Fpn
            step *= 4.0
    else:
        lo = f
        while True:   # upwards until F > 0 (F(fT) > 0 whenever any c_i > 0)
            fn = f * math.exp(step)
            if fn >= fT:
                hi = fT
                break
            Fn, Fpn = _F(fn, cvec, kf, kfh, w, fT, S)
            if Fn > 0.0:
                hi = fn
                break
            lo = fn
            f, F, Fp = fn, Fn, Fpn
            step *= 4.0
    for it in range(100):
        if abs(F) <= 2e-16 * fT:
            break
        dl = -F / Fp if Fp > 0.0 else 0.0
        if dl > 2.0:
            dl = 2.0
        elif dl < -2.0:
            dl = -2.0
        fn = f * exp_small(dl) if dl != 0.0 else 0.0
        if not (fn > lo and fn < hi):
            fn = math.sqrt(lo * hi)
        if abs(fn - f) <= 1e-15 * f:
            f = fn
            break
        f = fn
        F, Fp = _F(f, cvec, kf, kfh, w, fT, S)
        if F > 0.0:
            hi = f
        else:
            lo = f
        if hi - lo <= 1e-15 * hi:
            break
    return f


@inner
def equilibrium(x, w, E0, kf, kh, kfh, sc, fT, use_h, use_f, f, D, g, beta, LH, cvec, want_jac):
    """Equilibrium of every stage j: D (nst, S) for aqueous x [mol/L] at ln[H+] = w_j; f (nst,)
    holds each stage's guess of the free extractant on entry and its value on return; with
    ``want_jac`` also g, beta and LH (module docstring). One call for all stages: a compiled
    call per stage, passing a dozen array views, cost more than the stage's arithmetic."""
    nst, S = x.shape
    for j in range(nst):
        wj = w[j]
        k_last = np.nan
        pw = 1.0
        for i in range(S):
            if use_h:
                if kh[i] != k_last:
                    k_last = kh[i]
                    pw = math.exp(-k_last * wj)
                D[j, i] = E0[j, i] * pw      # A_i, before the extractant terms
            else:
                D[j, i] = E0[j, i]
        fj = fT
        if use_f:
            for i in range(S):
                cvec[i] = sc[i] * D[j, i] * x[j, i]
            wf = wj if use_h else 0.0
            convex = True
            for i in range(S):
                if cvec[i] != 0.0 and (kf[i] < 0.0 or kfh[i] != 0.0):
                    convex = False
            fj = -1.0
            if convex:
                # every bound term with kf >= 0 and no kfh (mass action): G(l) = ln((F + fT)
                # / fT) = ln(f + bound) - ln fT is a log-sum-exp of affine functions of
                # l = ln f, increasing and convex, so from above the root Newton in l never
                # overshoots and from below its first step lands above it; where f or one run
                # of kf dominates the sum G is nearly affine and one step lands on the root
                # (a loaded stage whose free extractant is 1e-3 of fT: 2-3 steps from fT;
                # plain Newton on F took about 20). A step below NEWTON_LAST is the last (the
                # next would be of its square). Written here, not called: a call per stage
                # passing three arrays costs more in atomic reference counts than its
                # arithmetic (the kernel's time fell by a sixth).
                fj = f[j]
                if not (fj > 0.0) or fj > fT:
                    fj = fT
                b, db = _bound_inline(fj, cvec, kf, kfh, wf, S)
                F, Fp = fj + b - fT, fj + db
                for it in range(60 if F != 0.0 else 0):
                    tot = F + fT
                    dl = -ln_near1(tot / fT) * tot / Fp
                    dl = min(max(dl, -30.0), 30.0)
                    fj *= exp_small(dl)
                    if abs(dl) < NEWTON_LAST:
                        break
                    b, db = _bound_inline(fj, cvec, kf, kfh, wf, S)
                    F, Fp = fj + b - fT, fj + db
                    if F == 0.0:
                        break
                else:
                    if F != 0.0:
                        fj = -1.0   # out of steps: the general search
            if not fj > 0.0:
                fj = free_extractant(cvec, kf, kfh, wf, fT, f[j])
        f[j] = fj
        k_last = np.nan
        pw = 1.0
        for i in range(S):
            if kf[i] != k_last:
                k_last = kf[i]
                pw = power(fj, k_last)
            d = D[j, i] * pw
            if kfh[i] != 0.0 and use_h:
                d *= math.exp(-kfh[i] * fj * wj)
            D[j, i] = d
        if want_jac:
            Fp = fj
            Fw = 0.0
            for i in range(S):
                gi = kf[i] - (kfh[i] * fj * wj if use_h else 0.0)
                g[j, i] = gi
                P = sc[i] * D[j, i] * x[j, i] if use_f else 0.0
                cvec[i] = P
                Fp += gi * P
                Fw += P * (kh[i] + kfh[i] * fj)
            for i in range(S):
                beta[j, i] = cvec[i] / Fp if use_f else 0.0
                lh = 0.0
                if use_h:
                    lh = -(kh[i] + kfh[i] * fj)
                    if use_f:
                        lh += g[j, i] * Fw / Fp
                LH[j, i] = lh
