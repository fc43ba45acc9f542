"""Fixed-point acceleration for tear streams: direct substitution, Wegstein and Anderson.

All three solve x = g(x) for the vector of tear-stream variables. Convergence is judged on the
scaled residual ``max_i |g_i(x) - x_i| / (|x_i| + atol)``. A method that does not reach the
tolerance within ``maxiter`` raises :class:`RecycleConvergenceError` carrying the residual history.

References: Wegstein, Commun. ACM 1 (1958) 9 (bounded acceleration factor, as in
sequential-modular simulators); Walker & Ni, SIAM J. Numer. Anal. 49 (2011) 1715 (Anderson
acceleration, the least-squares "type II" form used here).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["RecycleConvergenceError", "FixedPointResult", "solve_fixed_point", "METHODS"]

METHODS = ("wegstein", "anderson", "direct")


class RecycleConvergenceError(RuntimeError):
    """Recycle (tear-stream) iteration did not converge.

    Attributes
    ----------
    history : list of float
        Scaled residual at every iteration.
    worst : str
        The tear variable with the largest final residual.
    """

    def __init__(self, message, history, worst=""):
        super().__init__(message)
        self.history = list(history)
        self.worst = worst


@dataclass
class FixedPointResult:
    """Outcome of a tear-stream solve."""

    x: np.ndarray
    method: str
    iterations: int
    converged: bool
    residual: float
    history: list = field(default_factory=list)


def _scaled(gx, x, atol):
    return np.abs(gx - x) / (np.abs(x) + atol)


def solve_fixed_point(g, x0, *, method="wegstein", tol=1e-9, maxiter=200, atol=1e-9,
                      names=None, wegstein_bounds=(-5.0, 0.0), anderson_memory=6,
                      nonnegative=True, anderson_restart=None) -> FixedPointResult:
    """Solve ``x = g(x)``.

    Parameters
    ----------
    g : callable
        Maps an iterate (1-D array) to the next.
    x0 : array_like
        Initial guess (the tear-stream guess).
    method : {'wegstein', 'anderson', 'direct'}
    tol : float
        Convergence tolerance on the scaled residual [-].
    maxiter : int
        Maximum number of evaluations of ``g``.
    atol : float
        Absolute floor in the scaling [same units as x].
    names : list of str, optional
        Names of the variables, used in error messages.
    wegstein_bounds : (float, float)
        Bounds on the Wegstein acceleration factor q (q < 0 accelerates, q = 0 is direct
        substitution).
    anderson_memory : int
        Number of past iterates Anderson mixing uses.
    nonnegative : bool
        Keep accelerated iterates >= 0 (flows cannot be negative; the converged answer is a fixed
        point of ``g`` whatever path led there).
    anderson_restart : float, optional
        Clear the Anderson history when the residual rises above this multiple of the best
        residual so far (restarted Anderson acceleration, Henderson & Varadhan, J. Comput. Graph.
        Stat. 28 (2019) 834); None never restarts.

    Notes
    -----
    An accelerated iterate (Wegstein, Anderson) on which ``g`` raises is replaced by the plain
    substitution step from the last evaluation and the acceleration restarts; an error on a
    substitution step propagates.

    Raises
    ------
    RecycleConvergenceError
        When ``maxiter`` is reached; carries the residual history.
    ValueError
        For an unknown method or bad settings.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not (tol > 0):
        raise ValueError(f"tol must be > 0, got {tol}")
    if int(maxiter) < 1:
        raise ValueError(f"maxiter must be >= 1, got {maxiter}")
    if int(anderson_memory) < 1:
        raise ValueError(f"anderson_memory must be >= 1, got {anderson_memory}")
    if anderson_restart is not None and not anderson_restart > 1.0:
        raise ValueError(f"anderson_restart must be > 1 (or None), got {anderson_restart}")
    x = np.asarray(x0, dtype=float).copy()
    history: list[float] = []
    gx = np.asarray(g(x), dtype=float)
    res = float(np.max(_scaled(gx, x, atol))) if x.size else 0.0
    history.append(res)
    it = 1
    x_prev = g_prev = None
    X_hist: list[np.ndarray] = []
    F_hist: list[np.ndarray] = []
    while res > tol and it < maxiter:
        if method == "direct":
            x_new = gx
        elif method == "wegstein":
            if x_prev is None:
                x_new = gx
            else:
                dx = x - x_prev
                dg = gx - g_prev
                with np.errstate(divide="ignore", invalid="ignore"):
                    s = np.where(np.abs(dx) > 1e-300, dg / dx, 0.0)
                    q = np.where(np.abs(s - 1.0) > 1e-12, s / (s - 1.0), 0.0)
                q = np.clip(q, *wegstein_bounds)
                x_new = q * x + (1.0 - q) * gx
            x_prev, g_prev = x, gx
        else:  # anderson
            f = gx - x
            X_hist.append(x.copy())
            F_hist.append(f.copy())
            if len(X_hist) > anderson_memory + 1:
                X_hist.pop(0)
                F_hist.pop(0)
            if len(X_hist) == 1:
                x_new = gx
            else:
                dF = np.column_stack([F_hist[i + 1] - F_hist[i] for i in range(len(F_hist) - 1)])
                dX = np.column_stack([X_hist[i + 1] - X_hist[i] for i in range(len(X_hist) - 1)])
                scale = np.abs(x) + atol
                gamma, *_ = np.linalg.lstsq(dF / scale[:, None], f / scale, rcond=None)
                x_new = x + f - (dX + dF) @ gamma
        if nonnegative:
            x_new = np.maximum(x_new, 0.0)
        try:
            gx_new = np.asarray(g(x_new), dtype=float)
        except Exception:
            # an accelerated iterate is an extrapolation and may leave the units' physical domain
            # (an organic more concentrated than the extractant, ...): fall back to plain
            # substitution from the last evaluation, which is a unit output, and restart the
            # acceleration from there; a failure of that step is the units' own and propagates
            if method == "direct" or np.array_equal(x_new, gx):
                raise
            x_new = np.maximum(gx, 0.0) if nonnegative else gx
            x_prev = g_prev = None
            X_hist.clear()
            F_hist.clear()
            gx_new = np.asarray(g(x_new), dtype=float)
        x, gx = x_new, gx_new
        it += 1
        res = float(np.max(_scaled(gx, x, atol))) if x.size else 0.0
        if anderson_restart and method == "anderson" and res > anderson_restart * min(history):
            X_hist.clear()
            F_hist.clear()
        if not np.isfinite(res):
            raise RecycleConvergenceError(
                f"recycle iteration ({method}) produced a non-finite residual at iteration {it}",
                history + [res])
        history.append(res)
    if res > tol:
        r = _scaled(gx, x, atol)
        k = int(np.argmax(r))
        worst = names[k] if names is not None and k < len(names) else f"variable {k}"
        tail = ", ".join(f"{h:.3e}" for h in history[-5:])
        raise RecycleConvergenceError(
            f"recycle did not converge with {method} in {it} iterations: scaled residual "
            f"{res:.3e} > tol {tol:.1e}; worst tear variable: {worst}; last residuals: [{tail}]",
            history, worst)
    return FixedPointResult(gx, method, it, True, res, history)
