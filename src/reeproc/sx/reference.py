"""Reference cascade solver: the same equations written with numpy and solved by scipy.

This is an independent implementation used to cross-check the numba kernel (tests) and as the
benchmark baseline. It does *not* eliminate H+ and the free extractant: per stage the unknowns are
the aqueous concentrations x_i, ln[H+] and ln f, and the equations are

* the species balances ``Lup x_{j+1} + ext_j + O y_{j-1} - Lout x_j - O y_j = 0`` [mol/h];
* the proton balance ``Lup H_{j+1} + extH_j + O sum_i z_i (y_ji - y_{j-1,i}) - Lout H_j = 0``,
  with ``H = h + T h/(h + Ka) - Kw/h`` (free acid + bisulfate - hydroxide);
* the extractant balance of the equilibrium organic ``f + sum_i sc_i D_i x_i = fT``;

solved with ``scipy.optimize.root(method='hybr')`` (MINPACK, finite-difference Jacobian).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import root

from . import _kernels as K

LN10 = np.log(10.0)


def solve_reference(a: dict, ext_h: np.ndarray, tol: float = 1e-12, max_iter: int = 200):
    """Solve the cascade described by the assembled arrays ``a`` (see Cascade._assemble).

    Returns the same tuple as the numba kernel: status, iterations (function evaluations),
    residual (max scaled), worst stage, worst species, x, y, h, f.
    """
    Lout, Lup, O, ext, yin = a["Lout"], a["Lup"], a["O"], a["ext"], a["yin"]
    k0, kf, kh, kfh, sc, z = a["k0"], a["kf"], a["kh"], a["kfh"], a["sc"], a["z"]
    fT, Ts, Ka, eta = a["fT"], a["Ts"], a["Ka"], a["eta"]
    use_h, use_f = a["use_h"], a["use_f"]
    Kw = K.KW
    nst, S = ext.shape
    murphree = bool(np.any(eta < 1.0))
    scale = ext.sum(axis=0) + O * yin
    smax = scale.max() if scale.max() > 0 else 1.0
    scale = np.maximum(scale, 1e-30 * smax)
    # concentration reference per species for the unknown scaling
    cref = np.maximum(scale / Lout.max(), 1e-30)
    hscale = max(float(np.abs(ext_h).sum() + (O * yin * z).sum()), 1e-12)

    def unpack(u):
        u = u.reshape(nst, -1)
        x = u[:, :S] * cref
        col = S
        if use_h:
            h = np.exp(u[:, col]); col += 1
        else:
            h = np.ones(nst)
        f = np.exp(u[:, col]) if use_f else np.full(nst, fT)
        return x, h, f

    def organic(x, h, f):
        pH = -np.log10(h)[:, None] if use_h else np.zeros((nst, 1))
        with np.errstate(divide="ignore"):
            logD = k0 + kf * np.log10(f)[:, None] + kh * pH + kfh * f[:, None] * pH
        D = 10.0 ** logD
        ystar = D * x
        if not murphree:
            return ystar, ystar
        y = np.empty_like(ystar)
        prev = yin
        for j in range(nst):
            y[j] = (1.0 - eta[j]) * prev + eta[j] * ystar[j]
            prev = y[j]
        return y, ystar

    def fun(u):
        x, h, f = unpack(u)
        y, ystar = organic(x, h, f)
        yprev = np.vstack([yin[None, :], y[:-1]])
        xnext = np.vstack([x[1:], np.zeros((1, S))])
        Rm = ext + O * yprev - Lout[:, None] * x - O * y + Lup[:, None] * xnext
        out = [Rm / scale]
        if use_h:
            H = h + Ts * h / (h + Ka) - Kw / h
            Hnext = np.append(H[1:], 0.0)
            Rh = Lup * Hnext + ext_h + O * ((y - yprev) * z).sum(axis=1) - Lout * H
            out.append((Rh / hscale)[:, None])
        if use_f:
            Rf = (f + (sc * ystar).sum(axis=1) - fT) / fT
            out.append(Rf[:, None])
        return np.hstack(out).ravel()

    # start: aqueous inlets carried through unextracted; H+ from the inlet acid
    x0 = np.zeros((nst, S))
    H0 = np.zeros(nst)
    for j in range(nst - 1, -1, -1):
        nxt = x0[j + 1] if j + 1 < nst else 0.0
        x0[j] = (ext[j] + Lup[j] * nxt) / Lout[j]
        H0[j] = (ext_h[j] + Lup[j] * (H0[j + 1] if j + 1 < nst else 0.0)) / Lout[j]
    cols = [x0 / cref]
    if use_h:
        cols.append(np.log(np.maximum(H0, 1e-7))[:, None])
    if use_f:
        cols.append(np.full((nst, 1), np.log(0.5 * fT)))
    u0 = np.hstack(cols).ravel()
    with np.errstate(all="ignore"):
        sol = root(fun, u0, method="hybr",
                   options=dict(xtol=1e-14, maxfev=max(200, max_iter) * (u0.size + 1)))
        x, h, f = unpack(sol.x)
        y, _ = organic(x, h, f)
        R = fun(sol.x).reshape(nst, -1)
    Rm = np.abs(R[:, :S])
    res = float(np.max(np.abs(R))) if np.all(np.isfinite(R)) else np.inf
    wj, wi = np.unravel_index(int(np.argmax(Rm)), Rm.shape)
    neg = min(float(x.min()), float(y.min()))
    if neg < 0 and neg > -1e-12 * float(cref.max()):
        x = np.maximum(x, 0.0)  # rounding-level negatives of vanishing species
        y = np.maximum(y, 0.0)
    elif neg < 0:
        res = np.inf
    status = K.OK if (np.isfinite(res) and res <= max(tol, 1e-11)) else K.MAXITER
    return status, int(sol.nfev), res, int(wj), int(wi), x, y, h, f
