"""Pseudo-arclength continuation for the SX cascade solver (rows compiled in :mod:`._arcjit`).

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
solves the bordered system (Jacobian, lambda column, tangent row): band LU of the Jacobian
(:func:`._arcloop.gbtrf`, LAPACK's ``dgbtf2``), the border by two solves. The continuation's
loop and its Newton run compiled (:mod:`._arcloop`); this module holds the equations' start,
the homotopies and the results.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _arcjit as AJ
from . import _arcloop as LP
from ._equilibrium import ln_d
from ._pack import _ARGS

ARC_DS0 = 0.05          # first arclength step (norm of the ln-variables and lambda) [-]
ARC_DS_MAX = 1e3        # longest step [-]
ARC_DS_MIN = 1e-6       # a shorter step ends the continuation
ARC_N_CORR = 12         # corrector iterations per step
ARC_ROW = 0.05          # the constraint row keeps the tangent's components above this share
ARC_DZ_MAX = 5.0           # a corrector iteration moving an ln-variable further fails the step
ARC_EASY = 6            # corrector iterations (+ 1) of an easy step: the next is twice as long
ARC_TOL = 1e-6          # a point on the way converged: largest |row| and |step| below this
ARC_TOL_END = 1e-10     # the point at lambda = 1 (Newton), unless the caller gives its tol
ARC_STEPS = 2000        # steps per continuation
ARC_DLAM = 1e-7         # forward-difference increment of lambda [-]


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


def _rows(z, mask, args, want_jac):
    """Rows R (nst, nb) and, with ``want_jac``, the Jacobian blocks (Lb, Db, Ub) at the
    unknowns z (:func:`._arcjit.rows`)."""
    nst, S = mask.shape
    nb = S + int(args[16]) + int(args[17])
    R = np.empty((nst, nb))
    shape = (nst, nb, nb) if want_jac else (1, 1, 1)
    blocks = (np.empty(shape), np.empty(shape), np.empty(shape))
    c = np.ascontiguousarray
    AJ.rows(c(z, dtype=float), c(~mask), *(c(a) for a in args[:2]), float(args[2]),
            *(c(a) for a in args[3:11]), float(args[11]), c(args[12]), c(args[13]),
            float(args[14]), bool(args[16]), bool(args[17]), want_jac, R, *blocks)
    return R, blocks


def evaluate(z, mask, args, want_jac=True):
    """Rows R (nst * nb,) at the unknowns z, and with ``want_jac`` the Jacobian as
    (rows, cols, values) of its nonzeros; ``mask`` (nst, S) is True where a species is
    structurally absent (its row is ``u`` itself, pinned at its start value by the caller).
    ``args`` are the kernel's leading arguments (Lout .. use_f)."""
    R, (Lb, Db, Ub) = _rows(z, mask, args, want_jac)
    if not want_jac:
        return R.ravel()
    nst, nb = R.shape
    j, r, c = np.meshgrid(np.arange(nst), np.arange(nb), np.arange(nb), indexing="ij")
    rr, cc, vv = [], [], []
    for blk, off in ((Lb, -1), (Db, 0), (Ub, 1)):
        keep = blk != 0.0
        rr.append((j * nb + r)[keep])
        cc.append(((j + off) * nb + c)[keep])
        vv.append(blk[keep])
    return R.ravel(), np.concatenate(rr), np.concatenate(cc), np.concatenate(vv)


def _factor(z, mask, args):
    """(rows R (nst * nb,), LU factors of the Jacobian at z in band form, or None where it is
    singular or not finite)."""
    R, (Lb, Db, Ub) = _rows(z, mask, args, True)
    nst, nb = R.shape
    kl = 2 * nb - 1
    ab = np.empty((nst * nb, 3 * kl + 1))
    AJ.band(Lb, Db, Ub, ab)
    if not np.all(np.isfinite(ab)):
        return R.ravel(), None
    piv = np.empty(nst * nb, dtype=np.int64)
    if LP.gbtrf(ab, kl, kl, piv) != 0:   # (an exactly zero pivot)
        return R.ravel(), None
    return R.ravel(), (ab, kl, piv)


def _lu(fac, Rl, t):
    """The solve function of the bordered matrix [[J, Rl], [t]] (n + 1 square), J given by
    its band LU ``fac`` (:func:`_factor`): the border by two solves with J (Keller's
    bordering); None where J is singular or the bordered matrix is."""
    if fac is None or not (np.all(np.isfinite(Rl)) and np.all(np.isfinite(t))):
        return None
    ab, kl, piv = fac
    n = Rl.size
    Jb = Rl.astype(float)   # (a copy)
    if Jb.any():            # (Newton: no lambda column)
        LP.gbtrs(ab, kl, kl, piv, Jb)
    den = t[n] - t[:n] @ Jb
    if not (np.isfinite(den) and den != 0.0 and np.all(np.isfinite(Jb))):
        return None

    def solve(b):
        a = np.array(b[:n], dtype=float)
        LP.gbtrs(ab, kl, kl, piv, a)
        dl = (b[n] - t[:n] @ a) / den
        return np.append(a - dl * Jb, dl)
    return solve


# the packed groups (LP.PACKED) as positions in the kernel's leading arguments (Lout ..)
_GROUPS = tuple(tuple(_ARGS.index(k) - 1 for k in g) for g in LP.PACKED)
_SCALARS = _GROUPS[-1]


def _pack(A0, A1):
    """The rows' arguments of the kernel's leading arguments A0 (lambda = 0) and A1
    (lambda = 1) packed as the compiled loop takes them (``_arcloop.PACKED``)."""
    return tuple(np.ascontiguousarray(np.stack([np.stack([np.asarray(A[k], float) for k in g])
                                                for A in (A0, A1)]))
                 for g in _GROUPS)


def _affine(args_of):
    """The packed homotopy (:func:`_pack`) of ``args_of``, which must be affine in lambda
    (every continuation here is); checked at lambda = 1/2."""
    P, mid = _pack(args_of(0.0), args_of(1.0)), _pack(args_of(0.5), args_of(0.5))
    for p, m in zip(P, mid):
        if not np.allclose(m[0], 0.5 * (p[0] + p[1]), rtol=1e-9, atol=0.0, equal_nan=True):
            raise ValueError("the homotopy args_of(lambda) is not affine in lambda")
    return P


def _args_at(P, args, lam):
    """The kernel's leading arguments at lambda of the packed homotopy P, as the compiled
    loop mixes them (eta, use_h, use_f from ``args``)."""
    out = [None] * 15
    for g, p in zip(_GROUPS, P):
        mix = np.where(p[0] == p[1], p[0], (1.0 - lam) * p[0] + lam * p[1])
        for k, v in zip(g, mix):
            out[k] = float(v) if k in _SCALARS else v
    return tuple(out) + tuple(args[15:])


def _run(z, mask, args, P, lam0, nb, newton_only=False, tol=ARC_TOL, tol_end=ARC_TOL_END,
         h_min=0.0, steps=ARC_STEPS, max_iter=None, n_corr=ARC_N_CORR, cap=ARC_DZ_MAX):
    """One call of the compiled loop (``_arcloop.follow``): (why, lambda, largest lambda,
    iterations, unknowns, rows (nst * nb,))."""
    nst = mask.shape[0]
    z_out = np.empty(nst * nb)
    R_out = np.empty((nst, nb))
    why, lam, lam_max, iters = LP.follow(
        np.ascontiguousarray(z, dtype=float), np.ascontiguousarray(~mask), float(lam0), P,
        bool(args[16]), bool(args[17]), float(tol), float(tol_end), float(h_min), int(steps),
        int(max_iter) if max_iter is not None else 2 ** 62, ARC_DS0, ARC_DS_MAX, ARC_DS_MIN,
        int(n_corr), ARC_ROW, float(cap), ARC_EASY, ARC_DLAM, bool(newton_only), z_out, R_out)
    return why, lam, lam_max, int(iters), z_out, R_out.ravel()


def _newton(z, mask, args, tol, n_iter, cap=math.inf):
    """Newton on the rows of ``args`` from the unknowns z, each step shortened to move no
    ln-variable by more than ``cap`` (compiled: ``_arcloop.follow`` with ``newton_only``):
    (z, rows, iterations) with rows None unless every row is within ``tol``."""
    nb = mask.shape[1] + int(args[16]) + int(args[17])
    why, _, _, k, z, R = _run(z, mask, args, _pack(args, args), 1.0, nb, True, tol=tol,
                              n_corr=n_iter, cap=cap)
    return z, (R if why == LP.REACHED else None), k


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


def between(A0, A1):
    """``args_of(lambda)`` for a homotopy from the cascade ``A0`` (lambda = 0) to ``A1``
    (lambda = 1), both the kernel's leading arguments of one cascade layout (stage counts,
    species, model kind): every number taken as (1 - lambda) A0 + lambda A1 (the points
    between are a smooth path, not physical cascades). Between two neighbours of a sweep
    (another organic or scrub flow) a solved neighbour is the start of :func:`follow` where
    Newton from it cannot reach the other (a front may still cross every stage on the way:
    1,445 iterations between two saponified Pr/Nd cascades 0.1 L/h of organic apart).
    None where the two differ in layout or in which species have an inflow (a species absent
    at the start would stay absent along the path)."""
    if A0[16] != A1[16] or A0[17] != A1[17] or A0[3].shape != A1[3].shape:
        return None
    fed = [((a[3] > 0.0).any(axis=0) | (a[4] > 0.0)) for a in (A0, A1)]
    if not np.array_equal(fed[0], fed[1]):
        return None
    d = {k: np.subtract(A1[k], A0[k]) for k in range(16)}
    d = {k: v for k, v in d.items() if np.any(v != 0.0)}   # (what the two share stays)

    def args_of(lam):
        return tuple(A0[k] + lam * d[k] if k in d else A0[k] for k in range(16)) + A1[16:]
    return args_of


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
    lOD = math.log(O) + ln_d(*args[5:9], w, v)
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
    return Arc(reached, np.exp(lu), np.exp(ln_d(*args[5:9], w, v) + lu),
               np.exp(w) if use_h else np.ones(nst), np.exp(v), lam, lam_max, iters,
               why, float(np.nanmax(Rm)), int(j), int(r))


def follow(args_of, x, h, f, lam0, tol=ARC_TOL, tol_end=ARC_TOL_END, h_min=0.0,
           steps=ARC_STEPS, max_iter=None):
    """Follow the cascade's steady state from the solved state (x [mol/L], h [mol/L], f) at
    lambda = lam0 to lambda = 1 by pseudo-arclength continuation; ``args_of(lambda)`` gives
    the kernel's leading arguments (Lout .. use_f) at lambda, affine in lambda (every
    continuation of the solver is; the loop takes it as (1 - lambda) args_of(0) + lambda
    args_of(1), compiled: :func:`._arcloop.follow`). Species with x = 0 stay absent.

    Each step predicts along the unit tangent (ln-variables and lambda) by ``ds`` and corrects
    with chord Newton iterations on the curve's equations plus one constraint row, the
    tangent's components above ``ARC_ROW`` of its largest (a sparse row keeps the LU cheap),
    a new Jacobian only where an iteration shrinks the step by less than 4x; converged when
    every row and every change is below ``tol``. A step whose corrector converges in at most
    ``ARC_EASY`` + 1 iterations on one Jacobian doubles the next; a failed one halves it.
    Where the curve crosses lambda = 1, Newton at lambda = 1 from the chord, to ``tol_end``
    (where that fails, the step is halved and taken again).

    Returns an :class:`Arc`: reached True with the state at lambda = 1; otherwise the last
    state on the curve, the largest lambda the curve reached and why it stopped: 'fold'
    (the curve turned back below lam0: the steady state of this branch ceases to exist
    beyond lam_max), 'alkaline' (a stage with [H+] below ``h_min`` [mol/L]), 'stalled' (the
    step fell below ``ARC_DS_MIN``, the Jacobian singular at the start), 'steps' (``steps``
    steps, or ``max_iter`` corrector and Newton iterations) or 'murphree' (not run)."""
    args = args_of(lam0)
    use_h, use_f = bool(args[16]), bool(args[17])
    nst, S = x.shape
    if np.any(args[15] < 1.0):
        return Arc(False, x, np.full((nst, S), np.nan), h, f, lam0, lam0, 0, "murphree",
                   math.nan, 0, 0)
    nb = S + use_h + use_f
    z, mask = _start(args, x, h, f)   # (mask: structurally absent, no inflow)
    P = _affine(args_of)
    why, lam, lam_max, iters, z, R = _run(z, mask, args, P, lam0, nb, tol=tol, tol_end=tol_end,
                                          h_min=h_min, steps=steps, max_iter=max_iter)
    reached = why == LP.REACHED
    return _arc(args_of(1.0) if reached else _args_at(P, args, lam), z, mask, R, iters,
                reached, lam, lam_max, _WHY[why])


_WHY = {LP.REACHED: "", LP.FOLD: "fold", LP.ALKALINE: "alkaline", LP.STALLED: "stalled",
        LP.STEPS: "steps"}
