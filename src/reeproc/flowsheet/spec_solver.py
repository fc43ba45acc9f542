"""Solving design specs (:mod:`reeproc.flowsheet.specs`) together with the recycles.

How specs and recycles are solved: **nested**. Every trial value of the manipulated variables
gets a converged recycle solve (warm-started from the previous trial's tear streams and SX
profiles; units upstream of every recycle run once per search; trials converge the tears to
1e-8, and the returned point is solved again at the flowsheet's own tolerance); the spec loop
runs outside it. Why not simultaneous (the spec variables updated inside the tear iteration):

* product purities respond to the variables through cliffs: the reference flowsheet's Dy2O3
  impurity falls ~3000-fold between SX1 reflux fractions 0.055 and 0.060. A root on a cliff needs
  a bracket, and a bracket needs trustworthy function values: a half-converged recycle gives none;
* a trial at which a unit fails (an SX cascade raising ``ConvergenceError`` near its balance
  point, a recycle that does not converge) is simply a failed trial: the solver steps back
  towards the last good point and brackets around it. Nothing half-converged is ever reported.

Search: residuals are taken on a transformed scale (``logit`` for purities and recoveries, so
99.6 % vs 99.7 % and 99.96 % vs 99.97 % weigh alike; ``log`` for concentrations; ``linear``
otherwise). One active spec: a bracketed search (secant steps from a finite-difference slope,
growing until the residual changes sign, then Brent's method, ``scipy.optimize.brentq``, which
cannot itself step around a failed trial: the bracket is shrunk towards its better end and
Brent restarted). An inequality is aimed at the middle of its tolerance band, on its allowed
side.
Several active specs: simultaneous Newton on the transformed residuals (finite-difference
Jacobian, Broyden updates, backtracking, steps projected onto the bounds); when Newton stalls,
up to 4 Gauss-Seidel sweeps of the one-dimensional bracketed solves (each spec in turn, the
others held: enough for weakly coupled specs, e.g. on different circuits); when those do not
settle, nested one-dimensional searches (the first spec outermost, each of its trials meeting
the others), which are robust on coupled cliffs and cost the product of the searches.
Inequality specs (``">="``, ``"<="``) are active only when violated (an override controller):
they are solved as equalities at their bound and left alone otherwise, also within a
Gauss-Seidel sweep: an active override that another spec's move has met keeps its variable
(driving it back to its bound would undo that move: on the reference plant the SX2 reflux spec,
pulled back to its bound, threw the SX2 balance spec off at every sweep and the search ran for
minutes; left alone, 22 solves).

Entry point: :func:`solve_with_specs`, called by :meth:`Flowsheet.solve` when specs are
attached. Set the environment variable ``REEPROC_SPEC_TRACE=1`` to print every trial.
"""
from __future__ import annotations

import math
import os
import time

import numpy as np
from scipy.optimize import brentq

from .specs import SpecError, SpecResult

__all__ = ["solve_with_specs"]

_TRACE = bool(os.environ.get("REEPROC_SPEC_TRACE"))
#: Loosest recycle tolerance of the trial solves during a search [-] (at most 1e-3 of the
#: tightest spec tolerance; the returned point is re-solved at the flowsheet's own tolerance).
_TRIAL_TOL = 1e-8


class _Stop(Exception):
    pass


class _TrialFailed(Exception):
    def __init__(self, value):
        super().__init__(value)
        self.value = value


class _Trials:
    """Flowsheet solves at trial values of the manipulated variables (warm-started)."""

    def __init__(self, fs, specs, solve_kwargs):
        self.fs, self.specs = fs, specs
        tight = min(_TRIAL_TOL, 1e-3 * min(s.tol for s in specs))
        self.kw = {**solve_kwargs, "tol": max(solve_kwargs.get("tol", 1e-10), tight)}
        self.full_kw = dict(solve_kwargs)
        self.n = 0
        self.failures: list = []
        self.best = None  # (values, result) of the last successful trial
        self.history: list = []  # (values, {tear stream: Stream}) of every successful trial
        self.span = np.array([s.high - s.low for s in specs], float)

    def values(self) -> np.ndarray:
        return np.array([s.variable.get(self.fs) for s in self.specs])

    def __call__(self, x):
        """Result at variable values ``x`` (all specs), or None when the flowsheet fails there."""
        from .convergence import RecycleConvergenceError
        from .errors import UnitFailure
        from .report import FlowsheetAuditError
        from ..data import MissingDataError

        self.warm(x)
        for s, v in zip(self.specs, x):
            s.variable.set(self.fs, float(v))
        self.n += 1
        try:
            try:
                res = self.fs.solve(specs=False, **self.kw)
            except FlowsheetAuditError:
                # a small element (a trace product) can miss the 1e-8 audit at the trials'
                # looser recycle tolerance: that trial again at the flowsheet's own tolerance
                res = self.fs.solve(specs=False, **self.full_kw)
            if not _solved(res):
                raise RecycleConvergenceError(f"flowsheet {_status(res)}", res.residual_history)
            measured = [s.measure(res) for s in self.specs]
            if not all(math.isfinite(m) for m in measured):
                raise FloatingPointError(f"measure not finite: {measured}")
        except (RecycleConvergenceError, UnitFailure, FloatingPointError, ValueError,
                ZeroDivisionError) as exc:
            if isinstance(exc.__cause__, MissingDataError) or isinstance(exc, MissingDataError):
                raise  # missing data fails at every value: not a trial failure
            self.failures.append((tuple(float(v) for v in x), f"{type(exc).__name__}: {exc}"))
            return None
        self.accept(x, res)
        return res

    def warm(self, x):
        """Tear guesses for a trial at ``x``: the tear streams of the successful trial nearest
        to it, linearly interpolated towards the next nearest when the two bracket ``x`` along
        the one variable in which they differ (a bracketed search's usual step)."""
        if not self.history:
            return
        x = np.asarray(x, float)
        dist = [float(np.sum(np.abs(h[0] - x) / self.span)) for h in self.history]
        order = np.argsort(dist)
        (xa, ta) = self.history[order[0]]
        guess = ta
        if len(order) > 1:
            xb, tb = self.history[order[1]]
            diff = np.flatnonzero(xa != xb)
            if len(diff) == 1 and np.array_equal(np.delete(xa, diff), np.delete(x, diff)):
                k = diff[0]
                if min(xa[k], xb[k]) < x[k] < max(xa[k], xb[k]):
                    guess = _interpolate(ta, tb, (x[k] - xa[k]) / (xb[k] - xa[k]))
        for t, st in guess.items():
            self.fs.set_tear_guess(t, st)
        for s, v in zip(self.specs, x):  # a recycle-flow variable lives in its tear guess
            s.variable.set(self.fs, float(v))

    def accept(self, x, res):
        """Keep a successful trial (its tear streams start later trials near it)."""
        if self.n == 0:
            self.n = 1
        self.history.append((np.array(x, float), {t: res.streams[t] for t in res.tears}))
        self.best = (np.array(x, float), res)
        if _TRACE:
            print("spec trial", self.n, list(x), [s.measure(res) for s in self.specs],
                  res.iterations, flush=True)


def _status(res) -> str:
    """'solved', 'not converged' or 'audit failed' (a result without ``status``: converged or
    not)."""
    return str(getattr(res, "status", "solved" if res.converged else "not converged"))


def _solved(res) -> bool:
    return res.converged and _status(res) == "solved"


def _probe(v, lo, hi):
    """Finite-difference step at ``v``: 1 % of the value (at least 0.1 % of the range, at most
    2 %), into the interior. Purities change steeply: a larger step measures a secant across a
    cliff, not a slope."""
    w = hi - lo
    h = min(max(0.01 * abs(v), 0.001 * w), 0.02 * w)
    return h if v + h <= hi else -h


def _interpolate(ta, tb, w):
    """Tear streams (1 - w) * ta + w * tb, species by species (0 <= w <= 1)."""
    from ..stream import Stream

    out = {}
    for t, a in ta.items():
        b = tb.get(t)
        if b is None or a.phase != b.phase or (a.flow_L_h is None) != (b.flow_L_h is None):
            out[t] = a
            continue
        ma, mb = a.mol_h, b.mol_h
        mol = {sp: (1 - w) * ma.get(sp, 0.0) + w * mb.get(sp, 0.0) for sp in set(ma) | set(mb)}
        flow = None if a.flow_L_h is None else (1 - w) * a.flow_L_h + w * b.flow_L_h
        out[t] = Stream.from_mol_h(a.phase, mol, flow, a.T_C, name=t)
    return out


def _residuals(specs, res):
    return np.array([s.residual(s.measure(res)) for s in specs])


def _raise_infeasible(spec, ach, pts, reason=""):
    """SpecError with the measure at both bounds and the closest value seen in between
    (``pts``: variable value -> (residual, result, ...))."""
    fmt = lambda v: "did not solve" if v is None else f"{v:.6g}"  # noqa: E731
    best = min(pts, key=lambda v: abs(pts[v][0]))
    raise SpecError(
        f"spec '{spec.name}' cannot be met: {spec.label} {spec.kind} {spec.target:g} is not "
        f"reached by '{spec.variable.name}' within its bounds [{spec.low:g}, {spec.high:g}]; "
        f"achievable: {fmt(ach.get(spec.low))} at {spec.low:g}, {fmt(ach.get(spec.high))} at "
        f"{spec.high:g}, closest seen {spec.measure(pts[best][1]):.6g} at {best:.6g} "
        f"({len(pts)} values tried)" + (f"; {reason}" if reason else ""),
        spec=spec.name, variable=spec.variable.name, low=spec.low, high=spec.high, achievable=ach)


def _fail(spec, msg, trials):
    raise SpecError(f"spec '{spec.name}': {msg}; failed trials: {trials.failures[-3:]}",
                    spec=spec.name, variable=spec.variable.name, low=spec.low, high=spec.high)


def _solve_1d(spec, i, x, res, trials, max_evals, evaluate=None):
    """Bracketed search on variable i for spec i's residual = 0; returns (x, result).

    ``evaluate(x) -> (x, result) or None`` solves at trial values (default: one flowsheet
    solve; the nested search passes one that also meets the inner specs)."""
    lo, hi, w = spec.low, spec.high, spec.high - spec.low
    name = spec.variable.name
    pts = {}  # variable value -> (residual, result, all variables)
    count = [0]  # evaluations of this search (its budget is max_evals)
    if evaluate is None:
        def evaluate(xv):
            r = trials(xv)
            return None if r is None else (xv, r)

    def at(v):
        if v in pts:
            return pts[v][0]
        xv = np.array(x, float)
        xv[i] = v
        count[0] += 1
        out = evaluate(xv)
        if out is None:
            return None
        f = spec.residual(spec.measure(out[1])) - aim
        pts[v] = (f, out[1], np.asarray(out[0], float))
        return f

    aim = spec._aim  # residuals below are shifted by it: the search aims at f = 0
    a = float(x[i])
    r0 = spec.residual(spec.measure(res))
    fa = r0 - aim
    if spec._holds(r0):
        # an override whose bound holds (another spec's move of a Gauss-Seidel sweep met it)
        # leaves its variable where it is; the flowsheet's warm starts return to this point
        xa = np.array(x, float)
        if trials.best is None or not np.array_equal(trials.best[0], xa):
            res = trials(xa)
            if res is None:
                _fail(spec, f"the flowsheet no longer solves at '{spec.variable.name}' = {a:g}",
                      trials)
        return xa, res
    pts[a] = (fa, res, np.array(x, float))
    if not spec._done(fa + aim):
        # slope from a small step into the interior (halved on a failed trial)
        h0 = _probe(a, lo, hi)
        for h in (h0, h0 / 2, h0 / 4, -h0, -h0 / 2):  # the other side when one side fails
            if lo <= a + h <= hi:
                fh = at(a + h)
                if fh is not None:
                    break
        else:
            _fail(spec, f"the flowsheet does not solve near '{name}' = {a:g}", trials)
        x0, f0 = a, fa
        slope = (fh - f0) / h
        if f0 * fh <= 0:  # the probe already crossed the target
            b, fb = x0 + h, fh
        else:
            if abs(fh) < abs(f0):
                a, fa = x0 + h, fh
            b, fb = a, fa
        step = -fa / slope if slope != 0 else math.copysign(0.05 * w, h)
        while fa * fb > 0:  # expand towards the target until the residual changes sign
            if count[0] > max_evals:
                _fail(spec, f"no bracket within {max_evals} trials", trials)
            step = math.copysign(min(max(abs(step), 0.01 * w), 0.5 * w), step)
            c = min(max(a + step, lo), hi)
            fc = at(c) if c != a else fa
            tries = 0
            while fc is None and tries < 4:  # failed trial: step back towards the good point
                c = a + (c - a) / 2
                fc = at(c)
                tries += 1
            if fc is None:  # the target lies, if anywhere, where the flowsheet does not solve
                ach = {v: spec.measure(pts[v][1]) if v in pts else None for v in (lo, hi)}
                why = trials.failures[-1][1] if trials.failures else "no result"
                _raise_infeasible(spec, ach, pts, f"the flowsheet does not solve beyond "
                                  f"'{name}' = {a:g} (at {c:g}: {why})")
            if fc * fa <= 0:
                b, fb = c, fc
                break
            if c in (lo, hi):  # a bound without a crossing: look at the other bound too
                other = hi if c == lo else lo
                fo = pts[other][0] if other in pts else at(other)
                if fo is not None and fo * fc <= 0:
                    a, fa, b, fb = c, fc, other, fo
                    break
                ach = {v: spec.measure(pts[v][1]) if v in pts else None for v in (lo, hi)}
                _raise_infeasible(spec, ach, pts)
            s_new = (fc - fa) / (c - a)
            sec = -fc / s_new if s_new != 0 else 0.0
            step = 1.5 * sec if sec * (c - a) > 0 else 2.0 * (c - a)
            a, fa = c, fc
        # Brent's method (scipy brentq) inside [a, b]; it stops at the first point within
        # tolerance, and a failed trial shrinks the bracket towards its better end
        def f_or_stop(v):
            f = at(v)
            if f is None:
                raise _TrialFailed(v)
            if spec._done(f + aim) or count[0] > max_evals:
                raise _Stop
            return f

        while not (spec._done(fa + aim) or spec._done(fb + aim)) and count[0] <= max_evals:
            try:
                brentq(f_or_stop, a, b, xtol=1e-12 * w, maxiter=max_evals)
                break
            except _Stop:
                break
            except _TrialFailed as exc:
                c = 0.5 * (exc.value + (a if abs(fa) < abs(fb) else b))
                fc = at(c)
                if fc is None:
                    _fail(spec, f"the flowsheet fails inside the bracket '{name}' in "
                          f"[{min(a, b):g}, {max(a, b):g}]", trials)
                if fc * fa < 0:
                    b, fb = c, fc
                else:
                    a, fa = c, fc
    # the evaluated point closest to the target, on the feasible side for an inequality
    def rank(v):
        f = pts[v][0]
        return (not spec._done(f + aim), abs(f))
    v = min(pts, key=rank)
    f, rv, xv = pts[v]
    if not spec._done(f + aim):
        _fail(spec, f"search did not reach the target within {max_evals} trials "
              f"({spec.label} = {spec.measure(rv):.6g} at '{name}' = {v:g}, target "
              f"{spec.kind} {spec.target:g})", trials)
    if trials.best is None or not np.array_equal(trials.best[0], xv):
        rv = trials(xv)  # the warm starts left in the flowsheet belong to the returned point
        if rv is None:
            _fail(spec, f"the flowsheet no longer solves at '{name}' = {v:g}", trials)
    return xv, rv


def _solve_nested(specs, idx, x, res, trials, max_evals):
    """Nested one-dimensional searches: the first spec of ``idx`` outermost, every trial of it
    meeting the others (recursively). Robust where Newton and Gauss-Seidel are not (strongly
    coupled specs on cliffs) and costly: the solves multiply."""
    if len(idx) == 1:
        return _solve_1d(specs[idx[0]], idx[0], x, res, trials, max_evals)
    outer, inner = idx[0], idx[1:]
    x, res = _solve_nested(specs, inner, x, res, trials, max_evals)
    state = {"x": np.array(x, float)}

    def evaluate(xv):
        xs = state["x"].copy()  # the inner variables where the last inner search left them
        xs[outer] = xv[outer]
        r = trials(xs)
        if r is None:
            return None
        try:
            xi, ri = _solve_nested(specs, inner, xs, r, trials, max_evals)
        except SpecError as exc:  # the inner specs cannot be met here: a failed outer trial
            trials.failures.append((tuple(float(v) for v in xs), f"SpecError: {exc}"))
            return None
        state["x"] = np.array(xi, float)
        return xi, ri

    return _solve_1d(specs[outer], outer, x, res, trials, max_evals, evaluate=evaluate)


def _solve_newton(specs, idx, x, res, trials, max_evals):
    """Simultaneous Newton-Broyden on the active specs ``idx``; returns (x, result) or None."""
    lo = np.array([specs[i].low for i in idx])
    hi = np.array([specs[i].high for i in idx])
    act = [specs[i] for i in idx]
    aims = np.array([s._aim for s in act])

    def F(r):
        return _residuals(act, r) - aims

    def full(z):
        xv = np.array(x, float)
        xv[idx] = z
        return xv

    z = np.array(x, float)[idx]
    f = F(res)
    if all(s._done(v + a) for s, v, a in zip(act, f, aims)):
        return full(z), res  # already met (an "=" spec inside its band): no trial at all
    n = len(idx)
    J = np.zeros((n, n))
    for j in range(n):  # finite-difference Jacobian, steps into the interior
        h = _probe(z[j], lo[j], hi[j])
        zj = z.copy()
        zj[j] += h
        r = trials(full(zj))
        if r is None:
            return None
        J[:, j] = (F(r) - f) / h
    r_cur = res
    while trials.n <= max_evals:
        if all(s._done(v + a) for s, v, a in zip(act, f, aims)):
            return full(z), r_cur
        try:
            dz = np.linalg.solve(J, -f)
        except np.linalg.LinAlgError:
            return None
        lim = 0.25 * (hi - lo)
        dz *= min(1.0, float(np.min(lim / np.maximum(np.abs(dz), 1e-300))))
        t, ok = 1.0, False
        while t > 1e-3 and trials.n <= max_evals:
            zn = np.clip(z + t * dz, lo, hi)
            if np.all(np.abs(zn - z) <= 1e-14 * (hi - lo)):
                return None  # pressed against a bound
            rn = trials(full(zn))
            if rn is not None:
                fn = F(rn)
                if np.linalg.norm(fn) < np.linalg.norm(f):
                    ok = True
                    break
            t /= 2
        if not ok:
            return None
        s = zn - z
        J += np.outer((fn - f) - J @ s, s) / float(s @ s)  # Broyden update
        z, f, r_cur = zn, fn, rn
    return None


def solve_with_specs(fs, specs, *, max_evals: int = 40, **solve_kwargs):
    """Solve ``fs`` with its recycles and the design ``specs`` (nested; see module docstring).

    ``max_evals``: flowsheet solves allowed to one one-dimensional search (Newton on several
    specs gets max(10, 5 x their number), then up to 6 Gauss-Seidel sweeps).

    Returns
    -------
    FlowsheetResult
        With ``specs``: a list of :class:`SpecResult`.

    Raises
    ------
    SpecError
        A spec that cannot be met within its bounds (naming the spec, the variable, the bounds
        and the measured values at them), or a search that failed.
    """
    with fs.reuse_unit_results():
        return _solve(fs, specs, max_evals, solve_kwargs)


def _solve(fs, specs, max_evals, solve_kwargs):
    t0 = time.perf_counter()
    specs = list(specs)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"spec names must be unique, got {names}")
    vars_ = [s.variable.name for s in specs]
    if len(set(vars_)) != len(vars_):
        raise ValueError(f"each spec needs its own manipulated variable, got {vars_}")
    for s in specs:  # a spec that no value of its variable can meet: refused before solving
        if s.feasible is not None:
            s.feasible()
    trials = _Trials(fs, specs, solve_kwargs)
    x = trials.values()
    for s, v in zip(specs, x):
        if not s.low <= v <= s.high:
            raise SpecError(f"spec '{s.name}': '{s.variable.name}' starts at {v:g}, outside its "
                            f"bounds [{s.low:g}, {s.high:g}]", spec=s.name,
                            variable=s.variable.name, low=s.low, high=s.high)
    # the starting point: its failures propagate exactly as without specs (a recycle that does
    # not converge raises, or is returned as it is when raise_on_failure is False)
    res = fs.solve(specs=False, **solve_kwargs)
    if not _solved(res):
        return res
    trials.accept(x, res)
    active: list = []
    evals = {s.name: 0 for s in specs}
    for _round in range(len(specs) + 1):
        new = [i for i, s in enumerate(specs) if i not in active and
               (s.kind == "=" or not s.met(s.measure(res)))]
        if not new:
            break
        active += new
        n0 = trials.n
        if len(active) == 1:
            x, res = _solve_1d(specs[active[0]], active[0], x, res, trials, max_evals)
        else:
            out = _solve_newton(specs, active, x, res, trials,
                                trials.n + max(10, 5 * len(active)))
            if out is None:  # Gauss-Seidel sweeps of bracketed one-dimensional solves
                x0, res0 = x, res
                for _sweep in range(4):
                    for i in active:
                        x, res = _solve_1d(specs[i], i, x, res, trials, max_evals)
                    if all(specs[i].met(specs[i].measure(res)) for i in active):
                        break
                else:  # strongly coupled: nested searches from the starting point
                    x, res = _solve_nested(specs, active, x0, res0, trials, max_evals)
            else:
                x, res = out
                if trials.best is None or not np.array_equal(trials.best[0], x):
                    res = trials(x)
        for i in active:
            evals[specs[i].name] += trials.n - n0
    if active and trials.n:  # the returned point at the flowsheet's own recycle tolerance
        trials.warm(x)
        res = fs.solve(specs=False, **solve_kwargs)
        if not _solved(res):
            return res
        unmet = [s.name for s in specs if not s.met(s.measure(res))]
        if unmet:
            raise SpecError(f"specs {unmet} drifted off their targets in the final solve "
                            f"at the full recycle tolerance ({trials.n} flowsheet solves)")
    out = []
    for i, s in enumerate(specs):
        v = float(x[i])
        tol_b = 1e-9 * (s.high - s.low)
        out.append(SpecResult(
            name=s.name, kind=s.kind, target=float(s.target), achieved=s.measure(res),
            measure=s.label, variable=s.variable.name, value=v, low=s.low, high=s.high,
            at_bound=bool(v - s.low <= tol_b or s.high - v <= tol_b), active=i in active,
            iterations=evals[s.name]))
    res.specs = out
    res.solve_time_s = time.perf_counter() - t0
    res.spec_solves = trials.n
    return res
