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
``kf`` (all RE3+ share 3) share one power f^kf, so an iteration costs one exponential per run of
equal ``kf`` rather than one per species.

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

from ._jit import inner

LN10 = math.log(10.0)
KW = 1.0e-14  # ionic product of water [mol2/L2] at 25 C (sx_constants.csv)


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
        h *= math.exp(dl)
        if abs(dl) < 1e-15:
            break
    return h


@inner
def _bound(lf, f, cvec, kf, kfh, w, S):
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
            pw = math.exp(k_last * lf)
        t = c * pw
        gi = kf[i]
        if kfh[i] != 0.0:
            t *= math.exp(-kfh[i] * f * w)
            gi -= kfh[i] * f * w
        tot += t
        der += gi * t
    return tot, der


@inner
def _F(f, cvec, kf, kfh, w, fT, S):
    b, db = _bound(math.log(f), f, cvec, kf, kfh, w, S)
    return f + b - fT, f + db


@inner
def free_extractant(cvec, kf, kfh, w, fT, fguess):
    """Free extractant f in (0, fT] solving F(f) = f + sum_i c_i f^kf_i exp(-kfh_i f w) - fT = 0,
    c_i = sc_i A_i x_i >= 0.

    F is not monotone when a correlation gives D rising as the free extractant falls (kf < 0,
    some PhCorrelation rows), so the root is first bracketed, F(lo) <= 0 < F(hi), by steps in
    ln f that grow fourfold from the guess (the previous iterate's f), then refined by Newton
    in ln f safeguarded by bisection. When F has no root (the correlation asks more extractant
    than the organic holds at any free level) the search returns the f where F is least."""
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
        fn = f * math.exp(dl) if dl != 0.0 else 0.0
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
def stage_equilibrium(x, w, E0, kf, kh, kfh, sc, fT, use_h, use_f, fguess, D, g, beta, LH, cvec,
                      want_jac):
    """Equilibrium of one stage: D_i (into ``D``) for aqueous x [mol/L] at ln[H+] = w; with
    ``want_jac`` also g, beta and LH (module docstring). Returns the free extractant f."""
    S = x.shape[0]
    k_last = np.nan
    pw = 1.0
    for i in range(S):
        if use_h:
            if kh[i] != k_last:
                k_last = kh[i]
                pw = math.exp(-k_last * w)
            D[i] = E0[i] * pw      # A_i, before the extractant terms
        else:
            D[i] = E0[i]
    f = fT
    if use_f:
        for i in range(S):
            cvec[i] = sc[i] * D[i] * x[i]
        f = free_extractant(cvec, kf, kfh, w if use_h else 0.0, fT, fguess)
    lf = math.log(f)
    k_last = np.nan
    pw = 1.0
    for i in range(S):
        if kf[i] != k_last:
            k_last = kf[i]
            pw = math.exp(k_last * lf)
        d = D[i] * pw
        if kfh[i] != 0.0 and use_h:
            d *= math.exp(-kfh[i] * f * w)
        D[i] = d
    if want_jac:
        Fp = f
        Fw = 0.0
        for i in range(S):
            gi = kf[i] - (kfh[i] * f * w if use_h else 0.0)
            g[i] = gi
            P = sc[i] * D[i] * x[i] if use_f else 0.0
            cvec[i] = P
            Fp += gi * P
            Fw += P * (kh[i] + kfh[i] * f)
        for i in range(S):
            beta[i] = cvec[i] / Fp if use_f else 0.0
            lh = 0.0
            if use_h:
                lh = -(kh[i] + kfh[i] * f)
                if use_f:
                    lh += g[i] * Fw / Fp
            LH[i] = lh
    return f
