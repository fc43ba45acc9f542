"""Fall-back path of the SX cascade solver (numba), compiled only when first needed: the
linear-variable Newton (:mod:`._legacy`) followed by a log-form polish, for single cascades
(:func:`solve_fallback`), warm starts from a neighbour (:func:`solve_warm`) and the parallel
batch kernel (:func:`solve_batch_kernel`); and the last attempt for a cascade that all of
these leave unsolved, continuation in its sulfate, saponification, acid and organic flow, then
pseudo-arclength continuation (:mod:`._arclength`) (:func:`solve_by_continuation`).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._jit import inlined

from ._capacity import CAP_MARGIN, margins, unlimited
from ._core import MAXITER, OK, _solve_core
from ._kernels import N_POLISH, N_PRE, aqueous_tracer, solve_cascade, solve_cascade_nb
from ._legacy import _solve_core as legacy_core
from ._legacy import solve_cascade as legacy_solve
from ._legacy import solve_cascade_py as legacy_solve_py

__all__ = ["solve_fallback", "solve_warm", "solve_batch_kernel", "solve_by_continuation"]

# the last attempt (solve_by_continuation)
SAP_FIRST = 0.02         # the start's share of the organic inlet's base [-]
ACID_FIRST = 0.1         # the acid leg's start: share of the aqueous inlets' acid [-]
ORGANIC_FIRST = (0.9, 1.1)  # the organic-flow leg's starts: shares of the organic flow [-]
ORGANIC_UP = 4.0         # an unlimited loading's organic-flow leg: the flow raised this-fold
ORGANIC_UP_MAX = 5       # ... at most this many times (1,024x) until it solves cold
CONT_STEP = 0.25         # the first increment of the continuation parameter [-]
CONT_N_STEP = 30         # log-form Newton iterations per step
CONT_SHORT = 1.0 / 32.0  # an increment this short also tries the linear-variable fall-back
CONT_N_FALLBACK = 200    # ... with this budget (each of its attempts)
CONT_MIN_STEP = 1e-3     # a shorter increment ends the continuation (or jumps: _follow)
LOAD_FIRST = 1e-3        # the loading arclength's start: share of every inlet's metal [-]
ACID_HIGH = 3.0          # the acid arclength's start: multiple of the aqueous inlets' acid [-]
WARM_WINDOW = 32         # a batch's warm start: the nearest of the last 32 converged cascades
LATEST_FACTOR = 10.0     # ... the latest first where at most this many times as far
                        # (saponified sweep: 10 and 30 take 7,119 iterations, 3 and 1
                        # 7,302 and 7,341: its scrub step is ~5x its organic step)
ARC_CLOSURE = 1e-10      # an arclength state the kernel cannot polish: largest stage closure
ARC_BUDGET = 4           # corrector iterations per arclength leg: this many times max_iter,
ARC_STAGES = 66         # and steps ARC_STEPS, for up to this many stages; in proportion beyond
                        # (the pH front crosses every stage: at max_iter 3,000, 180 iterations
                        # and 30 steps per stage)


@inlined
def _polish(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f,
            x, h, tol, budget):
    """Log-form polish of a solution found in linear variables (one frozen-D sweep in
    logarithms at the solution's own [H+], then Newton)."""
    nst = x.shape[0]
    lh = np.full(nst, np.nan)
    if use_h:
        for j in range(nst):
            lh[j] = math.log(h[j])
    return _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                       use_h, use_f, x, lh, tol, budget, nst - nst + 2, nst < 0)   # plain int, bool


@inlined
def solve_warm(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h,
               use_f, x0, lh0, tol, max_iter, linear):
    """Solve from a neighbour's solution (x0, ln h0): the log-form Newton (at most 20
    iterations), or with ``linear`` the linear-variable Newton from the same start and a
    log-form polish. Same returns as :func:`solve_cascade`."""
    if not linear:
        return _solve_core(
            Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f,
            x0, lh0, tol, min(max_iter, 20), max_iter - max_iter + 1, max_iter < 0)
    st2, it2, res2, wj2, wi2, x2, y2, h2, f2 = legacy_core(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, x0,
        lh0, tol, max_iter, max_iter - max_iter)   # (a plain int: one signature)
    if st2 != OK:
        return st2, it2, res2, wj2, wi2, x2, y2, h2, f2
    st3, it3, res3, wj3, wi3, x3, y3, h3, f3 = _polish(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, x2,
        h2, tol, min(max_iter, N_POLISH))   # (not the literal: one signature)
    return st3, it2 + it3, res3, wj3, wi3, x3, y3, h3, f3


def solve_fallback(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h,
                   use_f, x0, tol, max_iter):
    """The linear-variable Newton (pseudo-transient continuation, homotopy on the organic
    inlet) from the cold or given start, then a log-form polish. Same returns as
    :func:`._kernels.solve_cascade`. Driven from Python: the fall-back compiles one signature
    of :func:`._legacy._solve_core` and reuses the log-form kernel for the polish."""
    out = legacy_solve_py(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                          use_h, use_f, x0, tol, max_iter, 1)
    if out[0] != OK:
        return out
    x2, h2 = out[5], out[7]
    lh = np.log(h2) if use_h else np.full(x2.shape[0], np.nan)
    pol = _solve_core(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                      use_h, use_f, np.ascontiguousarray(x2), lh, tol,
                      int(max(1, min(N_POLISH, 4 * max_iter - out[1]))), 2, False)
    return (pol[0], out[1] + pol[1]) + tuple(pol[2:])


@inlined
def solve_fallback_nb(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h,
                   use_f, x0, tol, max_iter):
    """Compiled twin of :func:`solve_fallback` for the parallel batch kernel."""
    st2, it2, res2, wj2, wi2, x2, y2, h2, f2 = legacy_solve(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, x0,
        tol, max_iter, max_iter - max_iter + 1)
    if st2 != OK:
        return st2, it2, res2, wj2, wi2, x2, y2, h2, f2
    st3, it3, res3, wj3, wi3, x3, y3, h3, f3 = _polish(
        Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f, x2,
        h2, tol, max(1, min(N_POLISH, 4 * max_iter - it2)))
    return st3, it2 + it3, res3, wj3, wi3, x3, y3, h3, f3


@njit(cache=True, parallel=True, error_model="numpy")
def solve_batch_kernel(nst_arr, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts,
                       Ka, eta, use_h, use_f, tol, max_iter, n_picard, chain, h_min,
                       short, feat):
    """Solve B cascades in parallel; arrays padded along the stage axis to nmax stages.

    Shapes: nst_arr (B,), Lout/Lup/G/Ts/eta (B, nmax), O/fT (B,), ext/k0 (B, nmax, S),
    yin/kf/kh/kfh/sc/z (B, S). ``chain`` > 1 hands out runs of ``chain`` consecutive cascades
    to the threads and starts each cascade from the solution of one before it in its run
    that converged with its stage count: of the last ``WARM_WINDOW`` such, the one nearest in
    ``feat`` (B, nf), the jobs' features (L1 distance: a grid's neighbour in its outer
    parameter, not the last case of the previous row), and the last one, as the caller
    ordered them: the log-form Newton (20 iterations) from each, then the linear-variable
    Newton (min(max_iter, 100) iterations) and a polish from each; the last one first where
    it lies within ``LATEST_FACTOR`` of the nearest's distance (the features weigh an
    inlet by its flow and every species' molar flow, so they are a guide within an order
    of magnitude: near the saponified sweep's balance diagonal the previous scrub flow,
    about 5x farther than the previous organic flow, starts where the latter cannot; the
    sweep took 7,119 iterations and 0.24 s, against 7,341 and 0.30 s nearest first, and
    7,523 and 0.36 s with the linear-variable Newton before the second log-form try). A
    cascade that none of these solves is dropped for a cold start (the attempts of
    :func:`._kernels.solve_cascade`, then the fall-back), so results do not depend on the
    order. ``chain`` <= 1 solves every cascade from a cold start. A converged state with a
    stage below ``h_min`` [mol/L] (alkaline: refused by the caller) is no warm start.
    ``short`` (B,) bool: cascades diagnosed over-saponified, which skip the long
    pseudo-transient attempt and the fall-back here, and are not solved here at all where
    their run holds a solved neighbour to start from: the caller starts them from their
    nearest solved neighbour (Newton, else the arclength between the two cascades), then
    runs the base arclength and the fall-back, as :meth:`Cascade.solve` does. (Warm starts
    here, 20 log-form Newton then 100 linear-variable iterations per try, took 101-151
    iterations where they succeeded on the saponified sweep of ``benchmarks/``, the caller's
    log-form Newton 13-18; the sweep: 7,523 iterations and 0.37 s against 8,211 and 0.44 s.)
    Returns status (B,), iterations (B,, warm and cold attempts summed), residual (B,),
    x (B, nmax, S), y (B, nmax, S), h (B, nmax), f (B, nmax).
    """
    B = nst_arr.shape[0]
    nmax = ext.shape[1]
    S = ext.shape[2]
    status = np.zeros(B, dtype=np.int64)
    iters = np.zeros(B, dtype=np.int64)
    resid = np.zeros(B)
    X = np.zeros((B, nmax, S))
    Y = np.zeros((B, nmax, S))
    H = np.zeros((B, nmax))
    F = np.zeros((B, nmax))
    size = chain if chain > 1 else 1
    n_runs = (B + size - 1) // size
    warm_iter = max_iter if max_iter < 100 else 100
    for c in prange(n_runs):
        b0 = c * size
        b1 = min(B, b0 + size)
        ring = np.full(WARM_WINDOW, -1)   # the last converged cascades of this run
        latest = -1
        for b in range(b0, b1):
            n = nst_arr[b]
            st = MAXITER
            it_warm = 0
            dist = np.full(WARM_WINDOW, np.inf)   # the ring's distances in features
            for r in range(WARM_WINDOW):
                p = ring[r]
                if p >= 0 and nst_arr[p] == n and (use_h[b] or use_f[b]):
                    d = 0.0   # (a linear cascade needs no warm start)
                    for q in range(feat.shape[1]):
                        d += abs(feat[b, q] - feat[p, q])
                    dist[r] = d
            r = np.argmin(dist)
            # the log-form Newton from the nearest and the latest (the caller's order),
            # then the linear-variable Newton from each, the latest first where it lies
            # within LATEST_FACTOR of the nearest's distance: near a front a grid's
            # neighbour in one parameter may start Newton where its neighbour in the other
            # cannot, and the log-form tries are cheap (saponified sweep: 3 of its hard
            # cases per run took 111-127 iterations by the nearest's linear-variable
            # Newton, 7-13 by the latest's log-form). (The latest is always in the ring,
            # at its own slot.)
            dl = dist[(latest - b0) % WARM_WINDOW] if latest >= 0 else np.inf
            first = 1 if dl <= LATEST_FACTOR * dist[r] else 0
            for k in range(4):
                if st == OK or dist[r] == np.inf or short[b]:
                    break
                if (k + first) % 2 == 1 and (ring[r] == latest or nst_arr[latest] != n):
                    continue
                last = ring[r] if (k + first) % 2 == 0 else latest
                lh0 = np.full(n, np.nan)
                for j in range(n):
                    if use_h[last] and use_h[b]:
                        lh0[j] = math.log(H[last, j])
                st, it, res, wj, wi, x, y, h, f = solve_warm(
                    Lout[b, :n], Lup[b, :n], O[b], ext[b, :n], yin[b], k0[b, :n], kf[b],
                    kh[b], kfh[b], sc[b], z[b], fT[b], G[b, :n], Ts[b, :n], Ka, eta[b, :n],
                    use_h[b], use_f[b], X[last, :n].copy(), lh0, tol, warm_iter, k >= 2)
                it_warm += it
            # (an over-saponified cascade with a solved neighbour goes to the caller, which
            # starts it from its nearest solved neighbour of its own kind)
            if st != OK and not (short[b] and dist[r] < np.inf):
                x0 = np.zeros((n, S))
                st, it, res, wj, wi, x, y, h, f = solve_cascade_nb(
                    Lout[b, :n], Lup[b, :n], O[b], ext[b, :n], yin[b], k0[b, :n], kf[b], kh[b],
                    kfh[b], sc[b], z[b], fT[b], G[b, :n], Ts[b, :n], Ka, eta[b, :n], use_h[b],
                    use_f[b], x0, tol, max_iter, n_picard, not short[b])
                it_warm += it
                if st != OK and (use_h[b] or use_f[b]) and not short[b]:
                    # (the fall-back's budget leaves out the long pseudo-transient attempt,
                    # as in Cascade.solve)
                    st, it, res, wj, wi, x, y, h, f = solve_fallback_nb(
                        Lout[b, :n], Lup[b, :n], O[b], ext[b, :n], yin[b], k0[b, :n], kf[b],
                        kh[b], kfh[b], sc[b], z[b], fT[b], G[b, :n], Ts[b, :n], Ka,
                        eta[b, :n], use_h[b], use_f[b], x0, tol, max_iter - min(it, N_PRE))
                    it_warm += it
            status[b] = st
            if st == OK:
                acidic = True
                if use_h[b]:
                    for j in range(n):
                        if h[j] < h_min:
                            acidic = False
                if acidic:
                    ring[(b - b0) % WARM_WINDOW] = b
                    latest = b
            iters[b] = it_warm
            resid[b] = res
            for j in range(n):   # (loops: a slice assignment compiles numba's shape-error
                H[b, j] = h[j]   # path, string formatting included: ~3 s of the first sweep)
                F[b, j] = f[j]
                for i in range(S):
                    X[b, j, i] = x[j, i]
                    Y[b, j, i] = y[j, i]
    return status, iters, resid, X, Y, H, F


def _with(A, yin, Ts, G, O=None):
    """The kernel's leading arguments ``A`` (Lout .. use_f) with yin, G, Ts (and O) replaced."""
    return A[:2] + (A[2] if O is None else O, A[3], yin) + A[5:12] + (G, Ts) + A[14:]


def _follow(A, inputs, last, itot, budget, tol, h_min):
    """Natural-parameter continuation from the solved state ``last`` (lambda = 0) to
    lambda = 1, ``inputs(lambda)`` giving the arguments of :func:`_with` (yin, Ts, G[, O]),
    with at most ``budget`` iterations more than the ``itot`` spent so far. Increments start
    at ``CONT_STEP``, double after an easy step (<= 8 iterations) and halve after a failed
    one; each step starts from the last solution: log-form Newton, and for increments of
    ``CONT_SHORT`` or less the linear-variable fall-back as well. Stops at a solved state with
    a stage below ``h_min`` [mol/L] (h_min 0: never). Returns (last solved state, its lambda,
    iterations in all)."""
    lam, step, cap = 0.0, CONT_STEP, itot + budget
    while lam < 1.0 and itot < cap:
        if A[16] and last[7].min() < h_min:
            break
        lt = min(1.0, lam + step)
        x, lh = np.ascontiguousarray(last[5]), np.log(last[7])
        args = _with(A, *inputs(lt))
        out = _solve_core(*args, x, lh, tol, CONT_N_STEP, 1, False)
        itot += out[1]
        if out[0] != OK and step <= CONT_SHORT:
            out = solve_fallback(*args, x, tol, CONT_N_FALLBACK)
            itot += out[1]
        if out[0] == OK:
            lam, last = lt, out
            if out[1] <= 8:
                step *= 2.0
        else:
            step *= 0.5
            if step < CONT_MIN_STEP:
                break
    return last, lam, itot


def solve_by_continuation(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                          use_h, use_f, base, tol, budget, n_picard, h_min):
    """The last attempt for a cascade with [H+] that the others leave unsolved, driven from
    Python: continuations (homotopies) from cascades that solve from a cold start, each leg
    with the budget ``budget`` [iterations].

    1. Start: the organic inlet's base cations (``base``, (S,) bool: Na or NH4+) scaled by
       ``SAP_FIRST``, from a cold start (:func:`._kernels.solve_cascade`); skipped when it
       has no base (that start is the cascade itself).
    2. If that fails and the aqueous carries sulfate: the same without sulfate, then the
       total sulfate raised back (HSO4- buffers the acid; a build-up in the scrub that the
       sulfate-free cascade limits through the acid it consumes can then be followed).
    3. The base raised from ``SAP_FIRST`` to 1. Near the acid-base equivalence the stage pH
       climbs steeply with the base (a titration curve), which a cold start cannot follow but
       short steps can; the continuation stops at the first solved state with a stage below
       ``h_min`` [mol/L] (alkaline): more base does not make it acidic again.
    4. If that leg ends short on an acidic state (its branch folds back): the full base with
       the aqueous inlets' acid scaled by ``ACID_FIRST`` (the proton invariant G less the
       rest of the acid carried along the aqueous train), from a cold start, then the acid
       raised back. Where the cascade has more than one steady state this leg may reach
       another branch than the cold start would.
    5. If all of these fail short of an alkaline state: the organic flow scaled by each of
       ``ORGANIC_FIRST`` in turn, from a cold start, then brought back (a cascade that fails
       cold at one flow is often solved cold a few per cent away).
    6. For a model whose loading is unlimited (a correlation whose D does not fall as the
       free extractant is used up, :mod:`._capacity`): the organic flow raised until the
       cascade solves cold, then brought back (:func:`_by_organic_flow`); where that ends at
       a stage's extractant balance losing its root, the model has no steady state below
       that flow, and the attempt ends there.
    7. If these fail too: pseudo-arclength continuation (:func:`_by_arclength`), which passes
       where the steady state moves too fast with the parameter for steps 3-5 and shows a
       fold: in the base from where step 3 ended, else (or if that stalls) in the loading,
       else in the acid from ``ACID_HIGH`` times the aqueous inlets' acid.

    Returns (status, iterations, residual, worst stage, worst row, x, y, h, f, leg, lam, why):
    status OK only when the full cascade was solved; otherwise the last solved state, the
    leg it ended in ('' when no start solved, 'sulfate', 'base', 'organic', 'loading' or
    'acid'), its lambda (for 'organic' the organic flow over the cascade's) and why it ended
    ('alkaline': a stage above pH -log10(h_min); 'fold': the curve turned back at lam;
    'capacity': a stage's extractant balance losing its root; else 'stalled', 'steps' or
    'murphree', see :func:`._arclength.follow`)."""
    A = (Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f)
    out = _legs(A, base, tol, budget, n_picard, h_min)
    if out[0] == OK or (out[9] == "base" and out[7].min() < h_min):
        return out + ("alkaline" if out[0] != OK else "",)
    itot = out[1]
    for f in ORGANIC_FIRST:
        st = _cold(_with(A, yin, Ts, G, f * O), tol, budget, n_picard)
        itot += st[1]
        if st[0] == OK:
            st, lam, itot = _follow(A, lambda t: (yin, Ts, G, (f + t * (1.0 - f)) * O), st,
                                    itot, budget, tol, 0.0)
            if lam >= 1.0:
                return (OK, itot) + tuple(st[2:]) + ("", 1.0, "")
    if unlimited(kf, use_f):
        cap = _by_organic_flow(A, tol, budget, n_picard)
        if cap is not None:
            itot += cap[1]
            if cap[0] == OK or cap[11] == "capacity":
                return (cap[0], itot) + tuple(cap[2:])
    arc = _by_arclength(A, base, out, tol, budget, n_picard, h_min)
    if arc is None:
        return (out[0], itot) + tuple(out[2:]) + ("stalled",)
    return (arc[0], itot + arc[1]) + tuple(arc[2:])


def _by_organic_flow(A, tol, budget, n_picard):
    """Step 6 of :func:`solve_by_continuation` for a model whose loading is unlimited
    (:func:`._capacity.unlimited`): the organic flow raised ``ORGANIC_UP``-fold at a time (at
    most ``ORGANIC_UP_MAX`` times) until the cascade solves from a cold start
    (:func:`._kernels.solve_cascade`), then brought back to its own by natural continuation
    in ln O (:func:`_follow`). Returns None where no raised flow solves; else the returns of
    :func:`solve_by_continuation`: OK at the cascade's own flow, or the last solved state with
    leg 'organic', lambda = its organic flow over the cascade's and why 'capacity' where a
    stage's extractant balance is there losing its root (:func:`._capacity.margins`
    within ``CAP_MARGIN`` of 0: the branch ends, and below that flow the model has no steady
    state), else 'stalled'."""
    O, yin, G, Ts = A[2], A[4], A[12], A[13]
    itot = 0
    for k in range(1, ORGANIC_UP_MAX + 1):
        st = solve_cascade(*_with(A, yin, Ts, G, O * ORGANIC_UP ** k), np.zeros(A[3].shape),
                           tol, budget, n_picard)
        itot += st[1]
        if st[0] == OK:
            break
    else:
        return None
    r = k * math.log(ORGANIC_UP)
    last, lam, itot = _follow(A, lambda t: (yin, Ts, G, O * math.exp((1.0 - t) * r)), st,
                              itot, budget, tol, 0.0)
    if lam >= 1.0:
        return (OK, itot) + tuple(last[2:]) + ("", 1.0, "")
    least = margins(last[5], last[7], *A[5:10], A[11])[0]
    why = "capacity" if least.max() > -CAP_MARGIN else "stalled"
    return (MAXITER, itot) + tuple(last[2:]) + ("organic", math.exp((1.0 - lam) * r), why)


def solve_by_arclength(Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta,
                       use_h, use_f, base, tol, budget, n_picard, h_min):
    """The last attempt for a cascade whose saponified organic brings more base than its
    inlets bring acid and extractable metal (an acidic steady state exists only where the
    loaded organic carries the excess Na out, at a stage pH of 3-6: the natural-parameter
    legs of :func:`solve_by_continuation` cannot follow the titration there): step 6 of it
    alone, the pseudo-arclength in the base from ``SAP_FIRST`` of it (solved cold), then in
    the loading. Same arguments and returns as :func:`solve_by_continuation`."""
    A = (Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, Ka, eta, use_h, use_f)
    st = _cold(_with(A, np.where(base, SAP_FIRST * yin, yin), Ts, G), tol, budget, n_picard)
    leg = ("base", SAP_FIRST) if st[0] == OK else ("", 0.0)
    arc = _by_arclength(A, base, st + leg, tol, budget, n_picard, h_min)
    if arc is None:
        return st + leg + ("stalled",)
    return (arc[0], st[1] + arc[1]) + tuple(arc[2:])


def _by_arclength(A, base, out, tol, budget, n_picard, h_min):
    """Step 7 of :func:`solve_by_continuation`: pseudo-arclength continuation
    (:func:`._arclength.follow`) in the organic inlet's base from the state where the
    saponification leg ended (``out``, the returns of :func:`_legs`; when it ended short on
    an acidic state), else in the loading (every inlet's metal and base scaled by lambda,
    the proton invariant with them, as in :mod:`._continuation`) from lambda =
    ``LOAD_FIRST``, solved cold, else in the acid (the proton invariant with ``ACID_HIGH``
    times the aqueous inlets' acid at lambda = 0, theirs at 1), solved cold. A state reached
    at lambda = 1 is polished by the log-form Newton (or, where that cannot start, taken as
    the arclength's Newton left it: the same rows, within ``tol``). Returns the returns of
    :func:`solve_by_continuation` (with the arclength's corrector iterations) or None when
    no leg starts."""
    from ._arclength import ARC_STEPS, follow   # (compiles _arcjit at first use only)

    yin, G, Ts = A[4], A[12], A[13]
    legs = []
    if out[9] == "base" and out[10] < 1.0:
        legs.append(("base", out, out[10],
                     lambda t: _with(A, np.where(base, t * yin, yin), Ts, G)))
    metal, acid = _inlet_charge(A)

    def loading(t):   # (the scaling of _continuation.metal_scale, which only kernels call)
        return A[:3] + (t * A[3], t * yin) + A[5:12] + (G - (1.0 - t) * metal, Ts) + A[14:]

    legs.append(("loading", None, LOAD_FIRST, loading))
    # the acid raised: where the dilute limit does not exist in double range (middle rare
    # earths extracted in the extraction section and scrubbed back in a long scrub build up
    # between the sections without bound unless the loading holds them: the survey's
    # 7-metal chloride cascade of 123 + 248 stages), more acid in every aqueous inlet
    # lowers every distribution ratio and the cascade solves cold (143 iterations at 3x),
    # and the curve leads down to the cascade's own acid (4,800 iterations)
    if np.any(acid > 0.0):
        def acid_high(t):
            return _with(A, yin, Ts, G + (ACID_HIGH - 1.0) * (1.0 - t) * np.maximum(acid, 0.0))
        legs.append(("acid", None, 0.0, acid_high))
    itot, last = 0, None
    per = max(1.0, len(A[0]) / ARC_STAGES)   # (the budget's stage factor)
    for leg, st, lam0, args_of in legs:
        if st is None:
            st = _cold(args_of(lam0), tol, budget, n_picard)
            itot += st[1]
            if st[0] != OK:
                continue
        arc = follow(args_of, st[5], st[7], st[8], lam0, tol_end=tol, h_min=h_min,
                     max_iter=int(ARC_BUDGET * budget * per), steps=int(ARC_STEPS * per))
        itot += arc.iterations
        if arc.reached:
            pol = polish(A, arc, tol)
            itot += pol[1]
            if pol[0] == OK:
                return (OK, itot) + tuple(pol[2:]) + ("", 1.0, "")
            arc = arc._replace(why="stalled")
        last = (MAXITER, itot, out[2], out[3], out[4], arc.x, arc.y, arc.h, arc.f, leg,
                arc.lam_max if arc.why == "fold" else arc.lam, arc.why)
        if arc.why == "alkaline":
            break
    return last


def polish(A, arc, tol):
    """The kernel's returns for the state an arclength reached at lambda = 1 (``arc``, an
    :class:`._arclength.Arc`) on the cascade ``A`` (the kernel's leading arguments): polished
    by the log-form Newton from it, or, where that cannot start, the arclength's state as
    its Newton left it (the same rows, within ``tol``), which stands only if every stage
    balance closes (:func:`stage_closure`); status MAXITER otherwise. The iterations are the
    polish's."""
    pol = _solve_core(*A, np.ascontiguousarray(arc.x), np.log(arc.h), tol, CONT_N_STEP, 1,
                      False)
    if pol[0] == OK:
        return pol
    # the kernel starts from linear x, so traces below ~1e-308 mol/L start at its floor,
    # which can stall it; the arclength's Newton solved the same rows to tol, but with the
    # traces its start held as 0 left out: its state stands only if every stage balance
    # closes with them at 0 (its extractant row, S + 1, has no kernel row: reported as the
    # proton row S)
    ok = OK if stage_closure(A, arc.x, arc.y) <= ARC_CLOSURE else MAXITER
    return (ok, pol[1], arc.residual, arc.stage, min(arc.row, A[3].shape[1]), arc.x, arc.y,
            arc.h, arc.f)


def stage_closure(A, x, y):
    """Largest |in - out| of a stage's species balance [mol/h] over that species' inflow to
    the cascade (aqueous inflows + O yin), for the state x, y [mol/L] (equilibrium stages)."""
    Lout, Lup, O, ext, yin = A[:5]
    before = np.vstack([yin[None, :], y[:-1]])
    after = np.vstack([x[1:], np.zeros((1, x.shape[1]))])
    bal = ext + O * before + Lup[:, None] * after - Lout[:, None] * x - O * y
    thr = ext.sum(axis=0) + O * yin
    live = thr > 0.0
    return float((np.abs(bal[:, live]).max(axis=0) / thr[live]).max()) if live.any() else 0.0


def _cold(args, tol, budget, n_picard):
    """A continuation's start from a cold start: the attempts of
    :func:`._kernels.solve_cascade`, then the linear-variable fall-back with
    ``CONT_N_FALLBACK`` iterations per attempt (a start the log-form attempts miss is often
    solved there in a few dozen). Same returns as :func:`._kernels.solve_cascade`."""
    cold = np.zeros(args[3].shape)
    out = solve_cascade(*args, cold, tol, budget, n_picard)
    if out[0] == OK:
        return out
    fb = solve_fallback(*args, cold, tol, CONT_N_FALLBACK)
    return (fb[0], out[1] + fb[1]) + tuple((fb if fb[0] == OK else out)[2:])


def _inlet_charge(A) -> tuple:
    """(metal, acid) per stage [mol/L] of the kernel arguments ``A``: the charge of the
    metal that the aqueous inlets carry along the aqueous train (their tracer) and the rest
    of the proton invariant G, the acid they carry."""
    metal = aqueous_tracer(A[3], A[1], A[0]) @ A[10]
    return metal, A[12] - metal


def _legs(A, base, tol, budget, n_picard, h_min):
    """Steps 1-4 of :func:`solve_by_continuation` on its kernel arguments ``A`` (Lout ..
    use_f); same returns."""
    ext, yin, fT, G, Ts = A[3], A[4], A[11], A[12], A[13]
    nst, S = ext.shape
    has_base = bool(np.any(base & (yin > 0)))
    first = SAP_FIRST if has_base else 1.0
    y0 = np.where(base, first * yin, yin)
    cold = np.zeros((nst, S))
    itot = 0
    # (without base, the start would be the cascade itself, which the caller's attempts failed)
    out = (MAXITER, 0, np.inf, 0, 0, cold, cold, np.ones(nst), np.full(nst, fT))
    if has_base:
        out = _cold(_with(A, y0, Ts, G), tol, budget, n_picard)
        itot = out[1]
    if out[0] != OK and np.any(Ts > 0):
        out = _cold(_with(A, y0, 0.0 * Ts, G), tol, budget, n_picard)
        itot += out[1]
        if out[0] != OK:
            return (out[0], itot) + tuple(out[2:]) + ("", 0.0)
        out, lam, itot = _follow(A, lambda t: (y0, t * Ts, G), out, itot, budget, tol, 0.0)
        if lam < 1.0:
            return (MAXITER, itot) + tuple(out[2:]) + ("sulfate", lam)
    elif out[0] != OK:
        return (out[0], itot) + tuple(out[2:]) + ("", 0.0)
    if not has_base:
        return (OK, itot) + tuple(out[2:]) + ("", 1.0)
    out, lam, itot = _follow(
        A, lambda t: (np.where(base, (first + t * (1.0 - first)) * yin, yin), Ts, G), out,
        itot, budget, tol, h_min)
    if lam >= 1.0:
        return (OK, itot) + tuple(out[2:]) + ("", 1.0)
    short = (MAXITER, itot) + tuple(out[2:]) + ("base", first + lam * (1.0 - first))
    if out[7].min() < h_min:
        return short
    acid = _inlet_charge(A)[1]
    st = _cold(_with(A, yin, Ts, G - (1.0 - ACID_FIRST) * acid), tol, budget, n_picard)
    itot += st[1]
    if st[0] == OK:
        st, lam2, itot = _follow(
            A, lambda t: (yin, Ts, G - (1.0 - ACID_FIRST) * (1.0 - t) * acid), st,
            itot, budget, tol, 0.0)
        if lam2 >= 1.0:
            return (OK, itot) + tuple(st[2:]) + ("", 1.0)
    return (MAXITER, itot) + short[2:]
