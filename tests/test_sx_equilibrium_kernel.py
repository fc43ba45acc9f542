"""The stage equilibrium of the SX kernel (``reeproc.sx._equilibrium``): the free extractant
that ``equilibrium`` solves in place for mass action (no call per stage) against the general
root search, and the power series that replace libm near closure (``ln_near1``,
``exp_small``)."""
import math

import numpy as np
import pytest
from numba import njit
from scipy.optimize import brentq

from reeproc.sx._equilibrium import SERIES, equilibrium, exp_small, free_extractant, ln_near1


@njit(cache=False)
def _ln(q):
    return ln_near1(q)


@njit(cache=False)
def _exp(d):
    return exp_small(d)


@njit(cache=False)
def _free(c, kf, kfh, w, fT, guess):
    return free_extractant(c, kf, kfh, w, fT, guess)


@njit(cache=False)
def _equilibrium(x, w, E0, kf, kh, kfh, sc, fT, f):
    nst, S = x.shape
    D = np.zeros((nst, S))
    g = np.zeros((nst, S))
    beta = np.zeros((nst, S))
    LH = np.zeros((nst, S))
    equilibrium(x, w, E0, kf, kh, kfh, sc, fT, True, True, f, D, g, beta, LH, np.zeros(S),
                True)
    return D


@pytest.mark.parametrize("d", [1e-15, -3e-12, 2.5e-8, -7e-6, 4e-4, -9.99e-4])
def test_series_match_libm_to_rounding(d):
    """Inside |d| < SERIES the series give ln(1 + d) and e^d to within two units in the last
    place of libm's values (rel only, abs = 0: the tiny ln values are checked relatively)."""
    assert abs(d) < SERIES
    q = 1.0 + d
    assert _ln(q) == pytest.approx(math.log(q), rel=4.5e-16, abs=0)
    assert _exp(d) == pytest.approx(math.exp(d), rel=4.5e-16, abs=0)


def test_series_outside_their_range_are_libm():
    for q in (0.5, 1.0 + 2 * SERIES, 1e-300, 7.3e12):
        assert _ln(q) == math.log(q)
    for d in (-700.0, -2 * SERIES, 2 * SERIES, 30.0):
        assert _exp(d) == math.exp(d)
    assert _ln(1.0) == 0.0 and _exp(0.0) == 1.0


def test_in_place_free_extractant_solves_the_extractant_balance():
    """Mass action (kf = 3 per RE3+, 1/2 per Na+): ``equilibrium``'s in-place Newton gives,
    at every stage, the root of f + sum_i sc_i D_i(f) x_i = fT (D_i = A_i f^kf_i) that brentq
    and the general search find, to 1e-13, from the total extractant and from a far guess;
    loadings from 1e-6 to 99.9 % of the extractant."""
    S = 3
    kf = np.array([3.0, 3.0, 0.5])
    kh = np.array([3.0, 3.0, 1.0])
    kfh = np.zeros(S)
    sc = np.array([3.0, 3.0, 0.5])
    fT = 0.5
    load = np.array([1e-6, 1e-3, 0.1, 0.5, 0.9, 0.999])
    nst = load.size
    x = np.tile([1e-2, 3e-2, 1e-3], (nst, 1))
    w = np.log(np.full(nst, 0.05))
    # A_i chosen so that at f = fT (1 - load) the bound extractant is fT load
    E0 = np.empty((nst, S))
    for j, ld in enumerate(load):
        f = fT * (1.0 - ld)
        A = np.array([1.0, 2.0, 0.3])   # relative strengths
        raw = sc * A * x[j] * f ** kf
        E0[j] = A * (fT * ld / raw.sum()) * np.exp(kh * w[j])
    for guess in (fT, 1e-9):
        f = np.full(nst, guess)
        D = _equilibrium(x, w, E0, kf, kh, kfh, sc, fT, f)
        for j in range(nst):
            c = sc * E0[j] * np.exp(-kh * w[j]) * x[j]
            exact = brentq(lambda v: v + np.sum(c * v ** kf) - fT, 1e-300, fT, xtol=1e-300,
                           rtol=1e-15)
            assert f[j] == pytest.approx(exact, rel=1e-13, abs=0)
            assert f[j] == pytest.approx(fT * (1.0 - load[j]), rel=1e-12, abs=0)
            assert _free(c, kf, kfh, 0.0, fT, fT) == pytest.approx(f[j], rel=1e-13, abs=0)
            assert D[j] == pytest.approx(c / x[j] / sc * f[j] ** kf, rel=1e-12, abs=0)
