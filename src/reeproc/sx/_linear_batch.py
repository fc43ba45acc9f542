"""Parallel batch kernel for constant-D cascades with equilibrium stages.

Each cascade takes the direct tridiagonal path of :meth:`Cascade.solve`
(:func:`._kernels._solve_linear`, the same compiled function and the same inputs, hence the
same answer); the batch runs in one ``prange`` loop over the cascades with the GIL released, so
Python can build and evaluate the neighbouring chunks of a sweep meanwhile. It compiles in a
few seconds: none of the nonlinear solver is reached from it.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._jit import inner
from ._kernels import _solve_linear

__all__ = ["solve_linear_batch"]


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def solve_linear_batch(n_arr, m_arr, k_arr, flows, feed_in, scrub_in, strip_in, tidx, k0_t,
                       yin_t, fT_t, nmax, tol):
    """Solve B constant-D cascades, building each one's arrays as ``Cascade._assemble`` does.

    Parameters
    ----------
    n_arr, m_arr, k_arr : ndarray (B,) of int
        Extraction, scrub and strip stage counts.
    flows : ndarray (B, 4)
        Feed, organic, scrub and strip flows [L/h] (0 where absent).
    feed_in, scrub_in, strip_in : ndarray (B, S)
        Molar flows [mol/h] of the active species in the feed (entering stage n), scrub
        (stage n+m) and strip (last stage) inlets; zeros where absent.
    tidx : ndarray (B,) of int
        Each cascade's template (row of k0_t, yin_t, fT_t).
    k0_t : ndarray (T, tmax, S)
        log10 of the distribution ratios [-] per stage.
    yin_t : ndarray (T, S)
        Organic inlet concentrations [mol/L].
    fT_t : ndarray (T,)
        Total extractant (returned by the single solve as the free extractant; unused here).
    nmax : int
        Stage axis length of the results (>= every n + m + k).
    tol : float
        Tolerance on the largest log-form stage residual [-].

    Returns
    -------
    status (B,), residual (B,), x (B, nmax, S), y (B, nmax, S) [mol/L]; the padding stages
    hold zeros.
    """
    B = n_arr.shape[0]
    S = feed_in.shape[1]
    status = np.zeros(B, dtype=np.int64)
    resid = np.zeros(B)
    X = np.empty((B, nmax, S))   # (written, padding included, by the parallel loop)
    Y = np.empty((B, nmax, S))
    nq = min(B, 1024)   # work item q takes cascades q, q + nq, ...: every thread a like mix
    for q in prange(nq):
        for b in range(q, B, nq):
            _solve_one(b, n_arr, m_arr, k_arr, flows, feed_in, scrub_in, strip_in, tidx, k0_t,
                       yin_t, fT_t, tol, status, resid, X, Y)
    return status, resid, X, Y


@inner
def _solve_one(b, n_arr, m_arr, k_arr, flows, feed_in, scrub_in, strip_in, tidx, k0_t, yin_t,
               fT_t, tol, status, resid, X, Y):
    """Cascade b of :func:`solve_linear_batch`: its arrays as ``Cascade._assemble`` builds
    them, the direct solve, the results written into row b."""
    S = feed_in.shape[1]
    n = n_arr[b]
    m = m_arr[b]
    nst = n + m + k_arr[b]
    F = flows[b, 0]
    O = flows[b, 1]
    Sc = flows[b, 2]
    St = flows[b, 3]
    Lout = np.empty(nst)
    Lup = np.zeros(nst)
    for j in range(nst):
        if j < n:
            Lout[j] = F + Sc
            if j < n - 1:
                Lup[j] = F + Sc
        elif j < n + m:
            Lout[j] = Sc
        else:
            Lout[j] = St
    if m > 0:
        Lup[n - 1] = Sc
        for j in range(n, n + m - 1):
            Lup[j] = Sc
    if nst > n + m:
        for j in range(n + m, nst - 1):
            Lup[j] = St
    ext = np.zeros((nst, S))
    for i in range(S):   # at most one inlet per stage: each sum is that inlet's value
        ext[n - 1, i] += feed_in[b, i]
        ext[n + m - 1, i] += scrub_in[b, i]
        ext[nst - 1, i] += strip_in[b, i]
    t = tidx[b]
    st, it, res, wj, wi, x, y, h, f = _solve_linear(
        Lout, Lup, O, ext, yin_t[t], np.ascontiguousarray(k0_t[t, :nst]), fT_t[t], tol)
    status[b] = st
    resid[b] = res
    X[b, :nst] = x
    Y[b, :nst] = y
    X[b, nst:] = 0.0
    Y[b, nst:] = 0.0
