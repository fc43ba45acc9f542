"""Design optimisation and Monte Carlo uncertainty for flowsheet scripts.

:func:`optimise` minimises operating cost (or total stage count, or any KPI) subject to product
purity >= 99.5 % and recovery targets, with ``scipy.optimize.differential_evolution``. Integer
parameters (stage counts) are handled by its ``integrality`` option: the optimiser only ever
evaluates whole stage counts, no rounding of a continuous optimum after the fact. Constraints are
``NonlinearConstraint`` objects; a case that fails to solve counts as infeasible, never as good.

:func:`monte_carlo` samples uncertain parameters and reports the distribution of purities and the
probability of meeting the purity target for a fixed design.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._validate import InputError, as_number
from .flowsheet.report import PURITY_TARGET
from .flowsheet.script import check_params, script_parameters
from .parallel import WorkerPool, interrupt_flag, progress_bar
from .sweep import MAX_CASES, SweepInterrupted, run_case, save, sweep

__all__ = ["optimise", "OptimiseResult", "monte_carlo", "MonteCarloResult", "property_uncertainty"]


@dataclass
class OptimiseResult:
    """Outcome of :func:`optimise`.

    Attributes
    ----------
    x : dict
        Best parameter set found (integers for integer parameters).
    objective : float
        Objective at ``x`` (e.g. [USD/kg oxide]).
    feasible : bool
        True when ``x`` meets every constraint.
    kpis : dict
        The case row of ``x`` (purities, recoveries, cost, ...).
    evaluations : int
        Flowsheet solves used.
    history : pandas.DataFrame
        Every evaluated case.
    message : str
    """

    x: dict
    objective: float
    feasible: bool
    kpis: dict
    evaluations: int
    history: pd.DataFrame = field(repr=False)
    message: str = ""


def _objective_value(row: dict, objective, stage_params) -> float:
    if callable(objective):
        return float(objective(row))
    if objective == "cost":
        return float(row.get("cost [USD/kg oxide]", math.inf))
    if objective == "cost_of_production":
        return float(row.get("cost of production [USD/kg oxide]", math.inf))
    if objective == "stages":
        return float(sum(row[p] for p in stage_params))
    if objective in row:
        return float(row[objective])
    raise ValueError(f"objective must be 'cost', 'cost_of_production', 'stages', a KPI column or a "
                     f"callable; got {objective!r}")


def _violations(row: dict, purity_min, recovery_min) -> dict:
    v = {}
    if not row.get("converged", False) or row.get("error"):
        return {"not solved": 1.0}
    for k, val in row.items():
        if k.startswith("purity ") and purity_min is not None:
            v[k] = max(0.0, purity_min - float(val))
    for el, rmin in (recovery_min or {}).items():
        val = row.get(f"recovery {el} [-]")
        v[f"recovery {el}"] = 1.0 if val is None or not np.isfinite(val) else max(0.0, rmin - float(val))
    return v


def optimise(script, variables, *, objective="cost", purity_min: float = PURITY_TARGET,
             recovery_min: dict | None = None, fixed: dict | None = None, maxiter: int = 30,
             popsize: int = 8, seed: int = 0, tol: float = 1e-6, polish: bool = False,
             local_maxfev: int = 40, workers: int = 1, executor: str = "processes",
             scheduler: str | None = None, progress: bool | None = False,
             out=None, specs: bool = True) -> OptimiseResult:
    """Find the operating point that minimises ``objective`` subject to purity and recovery.

    Parameters
    ----------
    script : str or Path
        Flowsheet script.
    variables : list of str or dict
        Parameters to optimise; bounds from each :class:`~reeproc.flowsheet.Param` (``low``,
        ``high``) or given as {name: (low, high)}.
    objective : {'cost', 'stages'} or str or callable
        'cost' = variable cost [USD/kg oxide]; 'cost_of_production' = variable + fixed + capital
        charge [USD/kg oxide] (reeproc.economics); 'stages' = sum of the integer variables; a KPI
        column name; or a function of the case row.
    purity_min : float
        Minimum purity of every product [-] (default 0.995).
    recovery_min : dict, optional
        {element: minimum recovery [-]}.
    fixed : dict, optional
        Other parameters held at given values.
    maxiter, popsize, seed, tol, polish
        Passed to ``scipy.optimize.differential_evolution``.
    local_maxfev : int
        Flowsheet solves for a bounded Powell refinement of the continuous variables from the
        best feasible DE point, integer variables held fixed (0 = none), then one evaluation
        with the variables that end within 1 % of a bound snapped onto it. Infeasible trial
        points are penalised and never returned.
    workers, executor, scheduler
        With ``workers > 1`` each generation's trial points are solved in parallel
        (:class:`reeproc.parallel.WorkerPool`; differential evolution then updates its
        population once per generation, scipy's ``vectorized`` mode). ``workers=1`` solves them
        one by one in this process (immediate updating).
    progress : bool, optional
        Progress bar on stderr counting flowsheet solves, with the best feasible objective.
    out : str or Path, optional
        File (.csv or .parquet) for every evaluated case, checked before the first solve and
        rewritten after every generation; a Ctrl-C writes the cases evaluated and raises
        :class:`reeproc.sweep.SweepInterrupted`.
    specs : bool
        Meet the script's design specs in every evaluation (a spec that cannot be met makes the
        point infeasible).

    Returns
    -------
    OptimiseResult
        The best *feasible* case seen (or, if none was feasible, the least infeasible one with
        ``feasible=False``).
    """
    from scipy.optimize import NonlinearConstraint, differential_evolution

    purity_min = as_number("purity_min", purity_min, low=0.0, high=1.0)
    recovery_min = {el: as_number(f"recovery_min[{el}]", v, low=0.0, high=1.0)
                    for el, v in (recovery_min or {}).items()}
    maxiter = as_number("maxiter", maxiter, low=1, high=100_000, integer=True)
    if out is not None:
        from ._validate import check_output_file

        out = check_output_file("optimise output", out, (".csv", ".parquet"), create_parent=True)
    popsize = as_number("popsize", popsize, low=1, high=1000, integer=True)
    local_maxfev = as_number("local_maxfev", local_maxfev, low=0, integer=True)
    script = str(Path(script).resolve())
    params = script_parameters(script)
    if isinstance(variables, dict):
        bounds = {k: (as_number(f"lower bound of '{k}'", v[0]),
                      as_number(f"upper bound of '{k}'", v[1])) for k, v in variables.items()}
    else:
        bounds = {}
        for k in variables:
            if k not in params:
                raise ValueError(f"unknown parameter '{k}'; known: {sorted(params)}")
            p = params[k]
            if p.low is None or p.high is None:
                raise ValueError(f"parameter '{k}' has no bounds; pass variables as {{name: (low, high)}}")
            bounds[k] = (float(p.low), float(p.high))
    names = list(bounds)
    for k in names:
        if k not in params:
            raise ValueError(f"unknown parameter '{k}'; known: {sorted(params)}")
        lo, hi = bounds[k]
        if not lo < hi:
            raise ValueError(f"bounds for '{k}' must have low < high, got {bounds[k]}")
    fixed = dict(fixed or {})
    check_params(params, {**fixed})
    integer = np.array([params[k].integer for k in names])
    stage_params = [k for k in names if params[k].integer]
    cache: dict = {}
    rows: list = []
    pool = WorkerPool(workers, executor, scheduler)
    bar = progress_bar(None, "optimise", unit="solve", enabled=progress)
    best_seen = [math.inf]
    ctrl_c = None   # the interrupt flag while the search runs

    def _key(x):
        return tuple(int(round(v)) if i else float(v) for v, i in zip(x, integer))

    def _record(key, row):
        rows.append(row)
        cache[key] = row
        bar.update(1)
        if ctrl_c is not None and ctrl_c.hit:   # a Ctrl-C a destructor swallowed
            raise KeyboardInterrupt
        if not any(_violations(row, purity_min, recovery_min).values()):
            val = _objective_value(row, objective, stage_params)
            if val < best_seen[0]:
                best_seen[0] = val
                bar.set_postfix_str(f"best {objective if isinstance(objective, str) else 'objective'}"
                                    f" {val:.5g}", refresh=False)

    def evaluate(x):
        key = _key(x)
        if key not in cache:
            case = {**fixed, **dict(zip(names, key))}
            _record(key, run_case(script, case) if specs else run_case(script, case, specs=False))
        return cache[key]

    def evaluate_many(X):
        """Solve the uncached columns of X (N x S, or one point N) on the pool, in parallel."""
        X = np.asarray(X)
        keys = list(dict.fromkeys(k for k in map(_key, X.reshape(len(names), -1).T)
                                  if k not in cache))
        tasks = [(script, {**fixed, **dict(zip(names, k))}) + (() if specs else (False,))
                 for k in keys]
        for i, row in pool.imap_unordered(run_case, tasks):
            _record(keys[i], row)

    def f(x):
        row = evaluate(x)
        if _violations(row, purity_min, recovery_min).get("not solved"):
            return 1e30
        val = _objective_value(row, objective, stage_params)
        return val if np.isfinite(val) else 1e30

    def g(x):
        v = _violations(evaluate(x), purity_min, recovery_min)
        return np.array([sum(v.values())])

    def f_many(X):  # vectorized: X is (N, S)
        evaluate_many(X)
        return np.array([f(x) for x in np.asarray(X).reshape(len(names), -1).T])

    def g_many(X):  # (N, S) -> (1, S); scipy also passes a single point (N,) -> (1,)
        evaluate_many(X)
        X = np.asarray(X)
        v = np.array([g(x)[0] for x in X.reshape(len(names), -1).T])
        return v if X.ndim == 1 else v[None, :]

    t0 = time.perf_counter()
    with interrupt_flag() as ctrl_c, pool, bar:
        if pool.serial:
            de = dict(func=f, constraints=[NonlinearConstraint(g, -np.inf, 0.0)],
                      updating="immediate")
        else:
            de = dict(func=f_many, constraints=[NonlinearConstraint(g_many, -np.inf, 0.0)],
                      updating="deferred", vectorized=True)
        def checkpoint(*_):
            if out is not None and rows:
                save(pd.DataFrame(rows), out)

        try:
            res = differential_evolution(
                bounds=[bounds[k] for k in names], integrality=integer, maxiter=maxiter,
                popsize=popsize, seed=seed, tol=tol, polish=polish, callback=checkpoint, **de)
            n_de = len(rows)
            _refine(names, bounds, integer, rows, f, g, evaluate, local_maxfev, purity_min,
                    recovery_min, objective, stage_params)
        except KeyboardInterrupt:
            checkpoint()
            raise SweepInterrupted(pd.DataFrame(rows), len(rows),
                                   out if out is not None and rows else None) from None
        checkpoint()
    hist = pd.DataFrame(rows)
    best, best_val, best_feasible = None, math.inf, False
    least_bad, least_v = None, math.inf
    for row in rows:
        v = sum(_violations(row, purity_min, recovery_min).values())
        if v <= 0:
            val = _objective_value(row, objective, stage_params)
            if val < best_val:
                best, best_val, best_feasible = row, val, True
        elif v < least_v:
            least_bad, least_v = row, v
    if best is None:
        best = least_bad
        best_val = _objective_value(best, objective, stage_params) if best and best.get("converged") else math.inf
    x = {k: best[k] for k in names} if best else {}
    msg = (f"{res.message}; {n_de} + {len(rows) - n_de} (local refinement) flowsheet solves in {time.perf_counter() - t0:.1f} s; "
           + ("feasible optimum" if best_feasible else "NO FEASIBLE DESIGN FOUND within the bounds"))
    return OptimiseResult(x, best_val, best_feasible, dict(best or {}), len(rows), hist, msg)


def _refine(names, bounds, integer, rows, f, g, evaluate, local_maxfev, purity_min,
            recovery_min, objective, stage_params):
    # local refinement of the continuous variables (integers held at the DE optimum): bounded
    # Powell on the objective with a penalty on violations, from the best feasible point; DE's
    # random trial points rarely land on a bound, where cost optima often lie
    cont = [i for i, isint in enumerate(integer) if not isint]
    if local_maxfev and cont:
        from scipy.optimize import minimize

        start = _best_feasible(rows, purity_min, recovery_min, objective, stage_params)
        if start is not None:
            x_full = np.array([float(start[k]) for k in names])

            def penalised(xc):
                x = x_full.copy()
                x[cont] = np.clip(xc, [bounds[names[i]][0] for i in cont],
                                  [bounds[names[i]][1] for i in cont])
                v = float(g(x)[0])
                return f(x) if v <= 0 else 1e6 * (1.0 + v)

            minimize(penalised, x_full[cont], method="Powell",
                     bounds=[bounds[names[i]] for i in cont],
                     options=dict(maxfev=int(local_maxfev), xtol=1e-4, ftol=1e-7))
            # active bounds: Powell stops a tolerance short of a bound it presses against;
            # snap the variables within 1 % of their range to that bound and evaluate the
            # corner too (kept only if feasible and cheaper, like every other point)
            end = _best_feasible(rows, purity_min, recovery_min, objective, stage_params)
            x_end = np.array([float(end[k]) for k in names])
            snapped = x_end.copy()
            for i in cont:
                lo, hi = bounds[names[i]]
                if x_end[i] - lo < 0.01 * (hi - lo):
                    snapped[i] = lo
                elif hi - x_end[i] < 0.01 * (hi - lo):
                    snapped[i] = hi
            if not np.array_equal(snapped, x_end):
                evaluate(snapped)


def _best_feasible(rows, purity_min, recovery_min, objective, stage_params):
    best, best_val = None, math.inf
    for row in rows:
        if sum(_violations(row, purity_min, recovery_min).values()) <= 0:
            val = _objective_value(row, objective, stage_params)
            if val < best_val:
                best, best_val = row, val
    return best


@dataclass
class MonteCarloResult:
    """Outcome of :func:`monte_carlo`: the sample table and summary statistics."""

    samples: pd.DataFrame
    summary: pd.DataFrame
    probability_meeting_target: float


def property_uncertainty(tables=None) -> dict:
    """Confidence ranges of property data from ``property_data/property_uncertainty.csv``.

    Returns
    -------
    dict
        {perturbation key: ('uniform', low, high)}, keys as accepted by
        :func:`reeproc.data.perturbed` (``data:add:sx_kex[extractant=PC88A;...]:log10_Kex__1``).
    """
    from .data import load_table

    t = load_table("property_uncertainty")
    out = {}
    for r in t.itertuples(index=False):
        if tables is not None and r.table not in tables:
            continue
        key = f"data:{r.kind}:{r.table}[{r.match}]:{r.column}"
        out[key] = ("uniform", float(r.low__1), float(r.high__1))
    return out


def monte_carlo(script, design: dict, uncertain: dict | None = None, n: int = 200, seed: int = 0,
                workers: int = 1, executor: str = "processes",
                purity_min: float = PURITY_TARGET, property_data: bool | dict = True,
                progress: bool | None = False, scheduler: str | None = None,
                out=None, specs: bool = True) -> MonteCarloResult:
    """Propagate property-data (and optionally parameter) uncertainty through a fixed design.

    Parameters
    ----------
    script : str or Path
    design : dict
        Fixed parameter values of the design.
    uncertain : dict, optional
        Flowsheet parameters to sample: {parameter: ('uniform', low, high) |
        ('normal', mean, sd) | ('lognormal', median, gsd)}. A key ``feed:EL`` samples the wt%
        of element EL in the design's feed (grade or composition; Fe takes up the change).
    n : int
        Number of samples.
    property_data : bool or dict
        True (default): sample every confidence range of ``property_data/property_uncertainty.csv``
        (extraction constants / separation factors, kinetic constants; see
        :func:`property_uncertainty`); each case re-reads the perturbed tables. A dict
        {perturbation key: distribution} gives the ranges explicitly; False samples none.
    workers, executor, scheduler, progress, out
        As for :func:`reeproc.sweep.sweep` (``out``: the samples are saved as they come).
    specs : bool
        Meet the script's design specs in every sample (the controller acts): ``summary`` then
        also lists the distribution of every manipulated variable.

    Returns
    -------
    MonteCarloResult
        ``samples`` (one row per sample: the sampled values, purities, ...),
        ``summary`` (purity statistics) and ``probability_meeting_target`` = share of samples
        where every product meets ``purity_min`` (failed solves count as not meeting it).
    """
    n = as_number("n (samples)", n, low=1, high=MAX_CASES, integer=True)
    purity_min = as_number("purity_min", purity_min, low=0.0, high=1.0)
    check_params(script_parameters(script), dict(design))  # refuse a bad design before sampling
    spec = dict(uncertain or {})
    if property_data is True:
        spec.update(property_uncertainty())
    elif isinstance(property_data, dict):
        spec.update(property_data)
    if not spec:
        raise InputError("nothing is uncertain: give 'uncertain' parameters or property_data ranges")
    rng = np.random.default_rng(seed)
    cols = {}
    for k, dist in spec.items():
        kind = dist[0]
        if kind == "uniform":
            cols[k] = rng.uniform(dist[1], dist[2], n)
        elif kind == "normal":
            cols[k] = rng.normal(dist[1], dist[2], n)
        elif kind == "lognormal":
            cols[k] = dist[1] * np.exp(rng.normal(0.0, math.log(dist[2]), n))
        else:
            raise InputError(f"distribution for '{k}' must be uniform, normal or lognormal; got {kind!r}")
    cases = [{**design, **{k: float(cols[k][i]) for k in cols}} for i in range(n)]
    cases = _feed_cases(script, design, cases)
    df = sweep(script, cases=cases, workers=workers, executor=executor, scheduler=scheduler,
               progress=progress, out=out, specs=specs)
    pur = [c for c in df.columns if c.startswith("purity ")]
    ok = df["converged"].astype(bool) & (df[pur] >= purity_min).all(axis=1)
    if "error" in df:
        ok &= df["error"].fillna("").eq("")
    df["meets target"] = ok
    moved = [c for c in df.columns if c.startswith("spec ") and not c.endswith("at bound")]
    stats = ["count", "mean", "std", "min", "5%", "50%", "95%", "max"]
    summary = (df[pur + moved].astype(float).describe(percentiles=[0.05, 0.5, 0.95]).T
               if pur + moved else pd.DataFrame(columns=stats))  # no sample solved: no rows
    return MonteCarloResult(df, summary, float(ok.mean()))


def _feed_cases(script, design, cases):
    """Fold sampled ``feed:EL`` wt% into a ``feed`` composition value per case."""
    if not any(str(k).startswith("feed:") for c in cases[:1] for k in c):
        return cases
    from .flowsheet.feedparam import feed_with

    params = script_parameters(script)
    if "feed" not in params:
        raise ValueError("feed:EL sampling needs a script with a 'feed' parameter")
    grade = design.get("feed", params["feed"].default)
    out = []
    for c in cases:
        wt = {k.split(":", 1)[1]: v for k, v in c.items() if str(k).startswith("feed:")}
        rest = {k: v for k, v in c.items() if not str(k).startswith("feed:")}
        rest["feed"] = feed_with(grade, wt, balance=None if "Fe" in wt else "Fe")
        out.append(rest)
    return out
