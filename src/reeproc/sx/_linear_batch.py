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

from ._kernels import _solve_linear

__all__ = ["solve_linear_batch"]


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def solve_linear_batch(nst_arr, Lout, Lup, O, ext, yin, k0, fT, tol):
    """Solve B constant-D cascades; arrays padded along the stage axis to nmax stages.

    Parameters
    ----------
    nst_arr : ndarray (B,) of int
        Stage counts.
    Lout, Lup : ndarray (B, nmax)
        Aqueous flows leaving each stage and coming up from the next [L/h].
    O : ndarray (B,)
        Organic flow [L/h].
    ext : ndarray (B, nmax, S)
        Aqueous inflows per stage [mol/h].
    yin : ndarray (B, S)
        Organic inlet concentrations [mol/L].
    k0 : ndarray (B, nmax, S)
        log10 of the distribution ratios [-].
    fT : ndarray (B,)
        Total extractant (returned as the free extractant of every stage).
    tol : float
        Tolerance on the largest log-form stage residual [-].

    Returns
    -------
    status (B,), residual (B,), x (B, nmax, S), y (B, nmax, S) [mol/L]; the padding stages
    hold zeros.
    """
    B = nst_arr.shape[0]
    nmax = ext.shape[1]
    S = ext.shape[2]
    status = np.zeros(B, dtype=np.int64)
    resid = np.zeros(B)
    X = np.zeros((B, nmax, S))
    Y = np.zeros((B, nmax, S))
    for b in prange(B):
        n = nst_arr[b]
        st, it, res, wj, wi, x, y, h, f = _solve_linear(
            Lout[b, :n], Lup[b, :n], O[b], ext[b, :n], yin[b], k0[b, :n], fT[b], tol)
        status[b] = st
        resid[b] = res
        X[b, :n] = x
        Y[b, :n] = y
    return status, resid, X, Y
