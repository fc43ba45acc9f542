"""Where a model's loading is unlimited: the least value of each stage's extractant balance.

Each stage's free extractant f solves the extractant balance of its equilibrium organic
(:mod:`._equilibrium`)::

    F_j(f) = f + sum_i sc_i D_ij(f) x_ij - fT = 0,
    ln D_ij = ln E0_ij - kh_i w_j + kf_i ln f - kfh_i f w_j,   w_j = ln [H+]_j .

Where every D vanishes as the extractant is used up (kf > 0: mass action, D ~ f^kf) F starts
from -fT at f -> 0 and has a root (one, where also kfh = 0: F is then increasing). The DEHPA
pH correlation used with the local free dosage (``PhCorrelation``; the PrOMMiS/UKy
coefficients of ``sx_ph_correlations.csv``) has no such loading limit: its dosage term
B1 log10(dos) is 0 for La and Pr and negative for Ce and Nd (D rising as the dosage falls).
There F can have two roots, the free extractant the solver takes (the largest) and a smaller
one where the correlation's D has grown without bound, or none: as the loading rises the two
meet at F's least value and vanish (a saddle-node of the stage equilibrium), and the
cascade's steady state on its branch ends there. Nothing in such a model stops the organic
from loading past its extractant; below that organic flow the model has no steady state with
the free extractant on its largest root (the published correlation was fitted at given
dosages, not for a loaded organic).

:func:`margins` gives min_f F_j(f) / fT per stage from a state (x, [H+]); a stage whose value
reaches 0 is at that end. :func:`unlimited` tells which models can reach it.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from ._equilibrium import ln_d

CAP_MARGIN = 1e-3   # a stage whose least F is within this share of fT of 0: losing its root
N_GRID = 1200       # points of the search in ln f over [F_LOW fT, fT]
F_LOW = 1e-14       # the search's lower end: share of the total extractant [-]


def flat(kf) -> np.ndarray:
    """(S,) bool: the species whose D does not vanish as the free extractant is used up
    (kf <= 0 in the generic form; the dosage-pH term exp(-kfh f w) tends to 1 there)."""
    return np.asarray(kf) <= 0.0


def unlimited(kf, use_f) -> bool:
    """Whether a model that follows the free extractant (``use_f``) has such a species, so
    that a stage's extractant balance can lose its root."""
    return bool(use_f) and bool(flat(kf).any())


def _balance(lf, k0j, w, x, kf, kh, kfh, sc, fT):
    """F_j / fT at the free extractants exp(lf) (an array) of a stage with log10 E0 ``k0j``,
    ln [H+] ``w`` and aqueous concentrations ``x`` [mol/L]."""
    lf = np.asarray(lf, dtype=float)
    bound = (sc * x * np.exp(ln_d(k0j, kf, kh, kfh, np.full(lf.shape, w), lf))).sum(axis=-1)
    return (np.exp(lf) + bound - fT) / fT


def margins(x, h, k0, kf, kh, kfh, sc, fT) -> tuple:
    """(least F_j / fT [-], the free extractant there / fT [-]) per stage (nst,) of the state
    x [mol/L] (nst, S), h [mol/L] (nst,) with the model's coefficients (the kernel's k0
    (nst, S), kf, kh, kfh, sc (S,) and total extractant fT): negative where the stage's
    extractant balance has a root, 0 where it is losing it (a double root, or one at f -> 0
    where no D vanishes). The least value is searched on a grid in ln f; that of the stage
    closest to 0, the one a diagnosis reads, is refined (bounded Brent) around its grid
    point."""
    fT = float(fT)
    coef = (kf, kh, kfh, sc, fT)
    grid = np.linspace(np.log(F_LOW * fT), np.log(fT), N_GRID)
    w = np.log(np.asarray(h, dtype=float))
    vals = np.array([_balance(grid, k0[j], w[j], x[j], *coef) for j in range(len(w))])
    k = np.argmin(vals, axis=1)
    least = vals[np.arange(len(w)), k]
    where = np.exp(grid[k]) / fT
    j = int(np.argmax(least))
    lo, hi = grid[max(k[j] - 1, 0)], grid[min(k[j] + 1, N_GRID - 1)]
    res = minimize_scalar(lambda t: float(_balance(t, k0[j], w[j], x[j], *coef)),
                          bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    if res.fun < least[j]:
        least[j], where[j] = res.fun, np.exp(res.x) / fT
    return least, where
