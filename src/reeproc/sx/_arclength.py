"""Pseudo-arclength continuation for the SX cascade solver (numpy and scipy, no numba).

The natural-parameter continuations of :mod:`._fallback` step a parameter lambda (the organic
inlet's base, the sulfate, the acid, the organic flow) and solve the cascade at each value.
They stop where the steady state moves too fast with lambda: near a turning point (fold), or
where, over a short range of lambda, a species at some stages falls by many decades (measured
on a 4-rare-earth saponified sulfate cascade of the survey: ln [Na] at one stage moves by 36
while the base moves by 0.01 of its value). Pseudo-arclength continuation (Keller 1977,
"Numerical solution of bifurcation and nonlinear eigenvalue problems", in Applications of
Bifurcation Theory, Academic Press, 359-384) takes lambda as an unknown and steps along the
solution curve by its length s, so it passes both; it also shows whether the curve turns back
(a fold: the steady state ceases to exist on that branch) before lambda = 1.

The equations are the kernel's (``docs/sx.md``), written here with the free extractant as an
unknown rather than solved per stage. Per stage j, unknowns u = ln x_ij (species i not
structurally absent), w = ln [H+] (models with [H+]), v = ln f (models with a free
extractant); rows:

* species balance in log form: ``ln(In_ij) - ln(Out_ij)``, In = Lup x_i,j+1 + ext_ij +
  O y_i,j-1 (the organic inlet yin at j = 0), Out = (Lout_j + O D_ij) x_ij, y = D x;
* proton invariant: ``(H(h_j) + sum_i z_i x_ij - G_j) / s_j``, H = h + [HSO4-] - [OH-] and s_j
  the sum of the magnitudes of its terms;
* extractant balance: ``(f_j + sum_i sc_i y_ij - fT) / fT``;

with ln D_ij = ln E0_ij - kh_i w_j + kf_i v_j - kfh_i f_j w_j. Equilibrium stages only (a
Murphree cascade's organic depends on every earlier stage; it is not continued here). The
Jacobian is exact but for the column of lambda (a forward difference); each corrector step
solves the bordered system (Jacobian, lambda column, tangent row) by sparse LU.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import splu

from ._equilibrium import KW, LN10

ARC_DS0 = 0.05          # first arclength step (norm of the ln-variables and lambda) [-]
ARC_DS_MAX = 1e3        # longest step [-]
ARC_DS_MIN = 1e-6       # a shorter step ends the continuation
ARC_N_CORR = 12         # corrector iterations per step
ARC_ROW = 0.05          # the constraint row keeps the tangent's components above this share
ARC_DZ_MAX = 5.0        # a corrector iteration moving an ln-variable further fails the step
ARC_EASY = 6            # corrector iterations (+ 1) of an easy step: the next is twice as long
ARC_TOL = 1e-10         # corrector converged: largest |row| and largest |step| below this
ARC_STEPS = 2000        # steps per continuation
ARC_DLAM = 1e-7         # forward-difference increment of lambda [-]
ARC_ROW_SCALE = 1e-8    # the constraint row's largest entry in the factorised matrix


class Arc(NamedTuple):
    """What :func:`follow` returns."""
    reached: bool        # the curve reached lambda = 1 and Newton solved the cascade there
    x: np.ndarray        # aqueous [mol/L] (nst, S) of the last state on the curve
    y: np.ndarray        # organic [mol/L] (nst, S)
    h: np.ndarray        # [H+] [mol/L] (nst,)
    f: np.ndarray        # free extractant (nst,)
    lam: float           # its lambda
    lam_max: float       # the largest lambda on the curve
    iterations: int      # corrector and Newton iterations
    why: str             # '' (reached), 'fold', 'alkaline', 'stalled', 'steps' or 'murphree'
    residual: float      # largest |row| at the last state
    stage: int           # its stage (0-based)
    row: int             # its row: a species, S the proton invariant, S + 1 the extractant


def _unpack(z, nst, S, use_h, use_f, fT):
    """(u, w, v) views of the unknown vector z (nst * nb); w or v constant where unused."""
    Z = z.reshape(nst, -1)
    u = Z[:, :S]
    w = Z[:, S] if use_h else np.zeros(nst)
    v = Z[:, S + use_h] if use_f else np.full(nst, math.log(fT))
    return u, w, v


def _ln_d(args, w, v):
    """ln D (nst, S) at ln [H+] w and ln f v (the kernel's generic form)."""
    k0, kf, kh, kfh = args[5:9]
    return LN10 * k0 - kh * w[:, None] + kf * v[:, None] - kfh * (np.exp(v) * w)[:, None]


def evaluate(z, mask, args, want_jac=True):
    """Rows R (nst * nb,) at the unknowns z, and with ``want_jac`` the Jacobian as
    (rows, cols, values) of its nonzeros; ``mask`` (nst, S) is True where a species is
    structurally absent (its row is ``u`` itself, pinned at its start value by the caller).
    ``args`` are the kernel's leading arguments (Lout .. use_f)."""
    (Lout, Lup, O, ext, yin, _, kf, kh, kfh, sc, zc, fT, G, Ts, Ka, eta,
     use_h, use_f) = args
    nst, S = ext.shape
    nb = S + use_h + use_f
    u, w, v = _unpack(z, nst, S, use_h, use_f, fT)
    live = ~mask
    f = np.exp(v)
    lnD = _ln_d(args, w, v)
    # the species rows in logarithms (terms far below 1e-308 keep their ratios)
    lu = np.where(live, u, -np.inf)
    lOD = math.log(O) + lnD
    la = np.full((nst, S), -np.inf)           # ln Lup x_i,j+1 (aqueous from above)
    lb = np.empty((nst, S))                   # ln O y_i,j-1 (organic from below)
    # (no flow: ln 0 = -inf; a predictor past lambda = 0 gives negative inflows, NaN rows,
    # and the step is refused by the caller)
    with np.errstate(divide="ignore", invalid="ignore"):
        la[:-1] = np.log(Lup[:-1, None]) + lu[1:]
        lb[0] = np.log(O * yin)
        le = np.log(ext)
        lb[1:] = lOD[:-1] + lu[:-1]
        lIn = np.logaddexp(np.logaddexp(la, le), lb)
    lOut = np.logaddexp(np.log(Lout)[:, None], lOD)     # ln (Lout + O D), per unit x
    R = np.zeros((nst, nb))
    R[:, :S] = np.where(live, lIn - lOut - np.where(live, u, 0.0), 0.0)
    x = np.exp(lu)
    y = np.exp(lnD + lu)
    h = np.exp(w)
    if use_h:
        hs = Ts * h / (h + Ka)
        H = h + hs - KW / h
        zx = zc * x
        s = h + hs + KW / h + np.abs(G) + np.abs(zx).sum(axis=1)
        R[:, S] = (H + zx.sum(axis=1) - G) / s
    if use_f:
        R[:, S + use_h] = (f + (sc * y).sum(axis=1) - fT) / fT
    if not want_jac:
        return R.ravel()
    gD = kf - kfh * (f * w)[:, None]            # d ln D / d v
    hD = -kh - kfh * f[:, None]                 # d ln D / d w
    rows, cols, vals = [], [], []

    def put(r, c, val):
        r, c, val = np.broadcast_arrays(r, c, val)
        rows.append(r.ravel())
        cols.append(c.ravel())
        vals.append(val.ravel())

    J = np.arange(nst)[:, None]
    I = np.arange(S)[None, :]
    ridx = J * nb + I                           # species rows (and their own ln x columns)
    with np.errstate(invalid="ignore"):
        pa = np.where(live, np.exp(la - lIn), 0.0)      # shares of the inflow: a / In ...
        pb = np.where(live, np.exp(lb - lIn), 0.0)      # ... and O y_j-1 / In
    wout = np.where(live, np.exp(lOD - lOut), 0.0)      # O D / (Lout + O D)
    put(ridx, ridx, np.where(live, -1.0, 1.0))  # masked rows: the identity
    put(ridx[:-1], ridx[1:], pa[:-1])           # x_i,j+1
    put(ridx[1:], ridx[:-1], pb[1:])            # y_i,j-1 through ln x_i,j-1 ...
    for col, dD, on in ((S, hD, use_h), (S + use_h, gD, use_f)):
        if not on:
            continue
        put(ridx[1:], (J[:-1] * nb + col), pb[1:] * dD[:-1])   # ... and its D
        put(ridx, J * nb + col, -wout * dD)                            # own D in Out
    if use_h:
        rh = J[:, 0] * nb + S
        put(rh[:, None], ridx, zc * x / s[:, None])
        dH = h + h * Ts * Ka / ((h + Ka) ** 2) + KW / h
        put(rh, rh, dH / s)
    if use_f:
        rf = J[:, 0] * nb + S + use_h
        scy = sc * y
        put(rf[:, None], ridx, scy / fT)
        put(rf, rf, (f + (scy * gD).sum(axis=1)) / fT)
        if use_h:
            put(rf, J[:, 0] * nb + S, (scy * hD).sum(axis=1) / fT)
    keep = np.concatenate(vals) != 0.0
    return (R.ravel(), np.concatenate(rows)[keep], np.concatenate(cols)[keep],
            np.concatenate(vals)[keep])


def _lu(rows, cols, vals, Rl, t, n):
    """LU of the bordered matrix [[J, Rl], [t]] (n + 1 square) as a solve function; None
    when it is singular or not finite. The row t is scaled to ``ARC_ROW_SCALE`` of its
    largest entry (the solution is the same): SuperLU's threshold pivoting would otherwise
    swap that dense row up into J's band, and the fill costs several times the time
    (``benchmarks/test_bench_sx_arclength.py`` measures both)."""
    if not (np.all(np.isfinite(vals)) and np.all(np.isfinite(Rl)) and np.all(np.isfinite(t))):
        return None
    k = ARC_ROW_SCALE / max(np.abs(t).max(), 1e-300)
    r = np.concatenate([rows, np.arange(n), np.full(n + 1, n)])
    c = np.concatenate([cols, np.full(n, n), np.arange(n + 1)])
    d = np.concatenate([vals, Rl, k * t])
    keep = d != 0.0
    M = coo_matrix((d[keep], (r[keep], c[keep])), shape=(n + 1, n + 1)).tocsc()
    try:
        lu = splu(M, permc_spec="NATURAL")   # (the stage order: block tridiagonal)
    except RuntimeError:   # "Factor is exactly singular"
        return None

    def solve(b):
        b = b.copy()
        b[n] *= k
        return lu.solve(b)
    return solve


def _newton(z, mask, args, tol, n_iter, cap=math.inf):
    """Newton on the rows of ``args`` from the unknowns z, each step shortened to move no
    ln-variable by more than ``cap``: (z, rows, iterations) with rows None unless every row
    is within ``tol``."""
    n = z.size
    e = np.zeros(n + 1)
    e[n] = 1.0          # (lambda held: the bordered system's last row)
    z = z.copy()
    for k in range(1, n_iter + 1):
        R, r, cc, v = evaluate(z, mask, args)
        if not np.all(np.isfinite(R)):
            break
        if np.abs(R).max() <= tol:
            return z, R, k
        lu = _lu(r, cc, v, np.zeros(n), e, n)
        if lu is None:
            break
        d = lu(-np.append(R, 0.0))[:n]
        if not np.all(np.isfinite(d)):
            break
        z += d * min(1.0, cap / max(np.abs(d).max(), 1e-300))
    return z, None, n_iter


def _start(args, x, h, f):
    """(unknowns z, mask) of the state x, h, f on the cascade ``args``: ln x with the traces
    below the double range filled (:func:`trace_fill`), ln [H+], ln f; the mask marks the
    species without inflow."""
    nst, S = x.shape
    use_h, use_f = bool(args[16]), bool(args[17])
    lx = trace_fill(args, x, h, f)
    mask = np.isneginf(lx)
    Z = np.zeros((nst, S + use_h + use_f))
    Z[:, :S] = np.where(mask, 0.0, lx)
    if use_h:
        Z[:, S] = np.log(h)
    if use_f:
        Z[:, S + use_h] = np.log(f)
    return Z.ravel(), mask


def solve_from(args, x, h, f, tol, n_iter=ARC_N_CORR):
    """Newton on the rows of the cascade ``args`` (the kernel's leading arguments) from the
    state x [mol/L], h [mol/L], f of a neighbouring cascade, its traces below the double range
    filled by :func:`trace_fill` (the kernel starts from linear concentrations, so a
    neighbour whose traces underflow can stall it). Returns an :class:`Arc` at lambda 1
    (reached: every row within ``tol``)."""
    if np.any(args[15] < 1.0):
        return Arc(False, x, np.full(x.shape, np.nan), h, f, 1.0, 1.0, 0, "murphree",
                   math.nan, 0, 0)
    z, mask = _start(args, x, h, f)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):   # (a diverging
        z, R, k = _newton(z, mask, args, tol, n_iter, ARC_DZ_MAX)          # step: refused)
    if R is not None:
        return _arc(args, z, mask, R, k, True)
    return _arc(args, z, mask, evaluate(z, mask, args, False), k, False, why="stalled")


def trace_fill(args, x, h, f):
    """ln x [ln(mol/L)] (nst, S) of every species with an inflow, for the solved state x, h,
    f of the cascade ``args`` (the kernel's leading arguments): with [H+] and the free
    extractant held, each species' balances are linear in its own concentrations (D fixed),
    and their tridiagonal system is solved by elimination in logarithms, so the entries
    below the double range that the state holds as 0 get their values (a balance's terms are
    all positive after elimination: Out_j x_j = Lup_j x_j+1 + ext_j + O D_j-1 x_j-1 is an
    M-matrix, diagonally dominant by columns); the entries the state resolves keep theirs.
    A species without inflow is -inf throughout."""
    Lout, Lup, O, ext, yin = args[:5]
    nst, S = x.shape
    w = np.log(h) if args[16] else np.zeros(nst)               # (as _unpack)
    v = np.log(f) if args[17] else np.full(nst, math.log(args[11]))
    lOD = math.log(O) + _ln_d(args, w, v)
    lp = np.logaddexp(np.log(Lout)[:, None], lOD)       # ln (Lout + O D)
    with np.errstate(divide="ignore"):
        lsrc = np.log(ext)
        lsrc[0] = np.logaddexp(lsrc[0], np.log(O * yin))
        lLup = np.log(Lup)
    la = np.empty((nst, S))    # x_j = alpha_j x_j+1 + beta_j (logarithms)
    lb = np.empty((nst, S))
    lq = lp[0]
    lb[0] = lsrc[0] - lq
    la[0] = lLup[0] - lq
    for j in range(1, nst):
        sub = lOD[j - 1] + la[j - 1] - lp[j]          # < 0: the column dominance
        lq = lp[j] + np.log1p(-np.exp(np.minimum(sub, -1e-300)))
        lb[j] = np.logaddexp(lsrc[j], lOD[j - 1] + lb[j - 1]) - lq
        la[j] = lLup[j] - lq
    lx = np.empty((nst, S))
    lx[-1] = lb[-1]
    for j in range(nst - 2, -1, -1):
        lx[j] = np.logaddexp(la[j] + lx[j + 1], lb[j])
    with np.errstate(divide="ignore"):
        return np.where(x > 0.0, np.log(np.where(x > 0.0, x, 1.0)), lx)


def _arc(args, z, mask, R, iters, reached, lam=1.0, lam_max=1.0, why=""):
    """The :class:`Arc` of the unknowns z on the cascade ``args`` with rows R."""
    nst, S = mask.shape
    use_h, use_f = bool(args[16]), bool(args[17])
    u, w, v = _unpack(z, nst, S, use_h, use_f, args[11])
    lu = np.where(mask, -np.inf, u)
    Rm = np.abs(R).reshape(nst, -1)
    j, r = np.unravel_index(int(np.argmax(np.nan_to_num(Rm, nan=-1.0))), Rm.shape)
    return Arc(reached, np.exp(lu), np.exp(_ln_d(args, w, v) + lu),
               np.exp(w) if use_h else np.ones(nst), np.exp(v), lam, lam_max, iters,
               why, float(np.nanmax(Rm)), int(j), int(r))


def follow(args_of, x, h, f, lam0, tol=ARC_TOL, tol_end=ARC_TOL, h_min=0.0,
           steps=ARC_STEPS, max_iter=None):
    """Follow the cascade's steady state from the solved state (x [mol/L], h [mol/L], f) at
    lambda = lam0 to lambda = 1 by pseudo-arclength continuation; ``args_of(lambda)`` gives
    the kernel's leading arguments (Lout .. use_f) at lambda. Species with x = 0 stay absent.

    Each step predicts along the unit tangent (ln-variables and lambda) by ``ds`` and corrects
    with chord Newton iterations on the curve's equations plus one constraint row, the
    tangent's components above ``ARC_ROW`` of its largest (a sparse row keeps the LU cheap),
    a new Jacobian only where an iteration shrinks the step by less than 4x; converged when
    every row and every change is below ``tol``. A step whose corrector converges in at most
    ``ARC_EASY`` + 1 iterations on one Jacobian doubles the next; a failed one halves it.
    Where the curve crosses lambda = 1, Newton at lambda = 1 from the chord, to ``tol_end``.

    Returns an :class:`Arc`: reached True with the state at lambda = 1; otherwise the last
    state on the curve, the largest lambda the curve reached and why it stopped: 'fold'
    (the curve turned back below lam0: the steady state of this branch ceases to exist
    beyond lam_max), 'alkaline' (a stage with [H+] below ``h_min`` [mol/L]), 'stalled' (the
    step fell below ``ARC_DS_MIN``, or Newton at lambda = 1 failed), 'steps' (``steps``
    steps, or ``max_iter`` corrector and Newton iterations) or 'murphree' (not run)."""
    args = args_of(lam0)
    use_h, use_f = bool(args[16]), bool(args[17])
    nst, S = x.shape
    if np.any(args[15] < 1.0):
        return Arc(False, x, np.full((nst, S), np.nan), h, f, lam0, lam0, 0, "murphree",
                   math.nan, 0, 0)
    nb = S + use_h + use_f
    n = nst * nb
    z, mask = _start(args, x, h, f)   # (mask: structurally absent, no inflow)
    lam = float(lam0)
    iters = 0

    def system(z, lam, c):
        R, r, cc, v = evaluate(z, mask, args_of(lam))
        Rl = (evaluate(z, mask, args_of(lam + ARC_DLAM), False) - R) / ARC_DLAM
        return R, _lu(r, cc, v, Rl, c, n)

    def state(z, lam, R, why, reached=False, lam_max=None):
        return _arc(args_of(lam), z, mask, R, iters, reached, lam,
                    lam if lam_max is None else lam_max, why)

    e = np.zeros(n + 1)
    e[n] = 1.0
    R, lu = system(z, lam, e)
    if lu is None:
        return state(z, lam, R, "stalled")
    t = lu(e)
    t /= np.linalg.norm(t)
    ds, lam_max = ARC_DS0, lam
    last_state = state(z, lam, R, "stalled")
    for k in range(steps):
        if max_iter is not None and iters >= max_iter:
            break
        zp, lp = z + ds * t[:n], lam + ds * t[n]
        c = np.where(np.abs(t) >= ARC_ROW * np.abs(t).max(), t, 0.0)   # the constraint row
        ct = c @ t
        ok, nfac, last = False, 0, np.inf
        R, lu = system(zp, lp, c)
        for it in range(ARC_N_CORR):
            iters += 1
            if lu is None or not np.all(np.isfinite(R)):
                break
            g = c[:n] @ (zp - z) + c[n] * (lp - lam) - ds * ct
            d = lu(-np.append(R, g))
            size = np.abs(d).max()
            if not np.isfinite(size) or np.abs(d[:n]).max() > ARC_DZ_MAX:
                break
            zp += d[:n]
            lp += d[n]
            if size <= tol and np.abs(R).max() <= tol:
                ok = True
                break
            if size > 0.25 * last:   # a slow chord iteration: a new Jacobian
                R, lu = system(zp, lp, c)
                nfac += 1
            else:
                R = evaluate(zp, mask, args_of(lp), False)
            last = size
        if not ok:
            ds *= 0.5
            if ds < ARC_DS_MIN:
                return last_state._replace(iterations=iters, why="stalled")
            continue
        tn = lu(e)     # the tangent, from the step's last Jacobian
        tn /= np.linalg.norm(tn) * (1.0 if tn @ t >= 0.0 else -1.0)
        if lp >= 1.0:        # the curve crosses lambda = 1: Newton there from the chord
            zc = z + (1.0 - lam) / (lp - lam) * (zp - z)
            zc, R, k = _newton(zc, mask, args_of(1.0), tol_end, ARC_N_CORR)
            iters += k
            if R is not None:
                return state(zc, 1.0, R, "", True, 1.0)
            return last_state._replace(iterations=iters, why="stalled")
        z, lam, t = zp, lp, tn
        lam_max = max(lam_max, lam)
        last_state = state(z, lam, R, "", False, lam_max)
        if use_h and last_state.h.min() < h_min:
            return last_state._replace(why="alkaline")
        if lam < lam0:
            return last_state._replace(why="fold")
        if it <= ARC_EASY and nfac == 0:
            ds = min(2.0 * ds, ARC_DS_MAX)
    return last_state._replace(iterations=iters, why="steps")
