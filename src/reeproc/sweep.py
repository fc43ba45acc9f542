"""Parameter sweeps over flowsheet scripts: grids and Latin-hypercube samples, run on local
processes or on a Dask cluster.

Every case becomes one row of a pandas DataFrame: the parameters, ``converged``, ``error`` (the
error text of a case that failed; such a case never stops the sweep and is never dropped), product
purities, recoveries, cost and CO2 per kg oxide, the worst element-balance error and the solve time.

>>> grid = parse_param_spec("sx_scrub_stages=4:8:2")
>>> grid
{'sx_scrub_stages': [4.0, 6.0, 8.0]}
"""
from __future__ import annotations

import itertools
import math
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["sweep", "sx_sweep", "grid_cases", "lhs_cases", "parse_param_spec", "run_case", "save",
           "plot_map", "pareto_front", "plot_pareto", "EXECUTORS"]

EXECUTORS = ("processes", "dask", "serial")


def parse_param_spec(spec: str) -> dict:
    """Parse ``NAME=start:stop:step`` (inclusive) or ``NAME=v1,v2,...`` into {name: values}.

    Raises
    ------
    ValueError
        For a malformed spec, a zero or wrong-signed step, or more than 100,000 values.
    """
    if "=" not in spec:
        raise ValueError(f"parameter spec '{spec}' must look like NAME=start:stop:step or NAME=v1,v2")
    name, rhs = spec.split("=", 1)
    name = name.strip()
    if ":" in rhs:
        parts = rhs.split(":")
        if len(parts) != 3:
            raise ValueError(f"range '{rhs}' for '{name}' must be start:stop:step")
        a, b, step = (float(x) for x in parts)
        if step == 0 or (b - a) * step < 0:
            raise ValueError(f"step {step} cannot go from {a} to {b} for '{name}'")
        n = int(math.floor((b - a) / step + 1e-9)) + 1
        if n > 100_000:
            raise ValueError(f"range for '{name}' has {n} values (> 100,000)")
        values = [a + i * step for i in range(n)]
    else:
        values = []
        for v in rhs.split(","):
            v = v.strip()
            try:
                values.append(float(v))
            except ValueError:
                values.append(v)
    if not values:
        raise ValueError(f"no values for '{name}'")
    return {name: values}


def grid_cases(grid: dict) -> list[dict]:
    """Full-factorial cases from {name: values}."""
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def lhs_cases(bounds: dict, n: int, seed: int = 0, integer=()) -> list[dict]:
    """Latin-hypercube sample of ``n`` cases within {name: (low, high)} (scipy.stats.qmc).

    Integer parameters are rounded to the nearest integer after scaling.
    """
    from scipy.stats import qmc

    if n < 1:
        raise ValueError(f"LHS sample size must be >= 1, got {n}")
    names = list(bounds)
    lo = np.array([bounds[k][0] for k in names], float)
    hi = np.array([bounds[k][1] for k in names], float)
    if np.any(hi < lo):
        raise ValueError(f"LHS bounds must have low <= high: {bounds}")
    u = qmc.LatinHypercube(d=len(names), seed=seed).random(n)
    x = lo + u * (hi - lo)
    cases = []
    for row in x:
        case = {}
        for k, v in zip(names, row):
            case[k] = int(round(v)) if k in integer else float(v)
        cases.append(case)
    return cases


def _flatten_kpis(k: dict) -> dict:
    row = {"converged": bool(k["converged"]),
           "recycle iterations": k["recycle"]["iterations"],
           "max balance error [-]": k["mass_balance"]["max_relative_error"],
           "cost [USD/kg oxide]": k["cost_per_kg_oxide"],
           "CO2 [kg/kg oxide]": k["co2_kg_per_kg_oxide"]}
    for name, p in k["products"].items():
        row[f"purity {name} [-]"] = p["purity"]
        row[f"mass {name} [kg/h]"] = p["mass_kg_h"]
    for el, r in k["recovery"].items():
        row[f"recovery {el} [-]"] = r
    row["all products meet 99.5 %"] = all(p["meets_target"] for p in k["products"].values())
    for name, sp in k.get("specs", {}).items():  # design specs: the controller's moves
        row[f"spec {name}: {sp['variable']}"] = sp["value"]
        row[f"spec {name}: at bound"] = sp["at_bound"]
    return row


def run_case(script: str, params: dict, specs: bool = True) -> dict:
    """Solve one case; never raises: failures return ``converged=False`` and the error text.

    Keys ``data:add|mul:TABLE[col=value;...]:COLUMN`` perturb property data for this case
    (:func:`reeproc.data.perturbed`); the other keys are flowsheet parameters. ``specs``: meet
    the script's design specs (a spec that cannot be met is a failed case, with its message).
    """
    from .flowsheet.script import run

    from .data import perturbed

    t0 = time.perf_counter()
    row = dict(params)
    data = {k: v for k, v in params.items() if str(k).startswith("data:")}
    params = {k: v for k, v in params.items() if k not in data}
    try:
        if data:
            with perturbed(data):
                res = run(script, raise_on_failure=False, specs=specs, **params)
        else:
            res = run(script, raise_on_failure=False, specs=specs, **params)
        row.update(_flatten_kpis(res.kpis()))
        if res.error is not None:
            row["error"] = f"{type(res.error).__name__}: {res.error}"
        else:
            row["error"] = ""
    except Exception as exc:  # a failed case is recorded, never dropped
        row.update({"converged": False,
                    "error": f"{type(exc).__name__}: {exc}".strip()})
        row["traceback tail"] = traceback.format_exc(limit=2)[-400:]
    row["solve time [s]"] = time.perf_counter() - t0
    return row


def _run_chunk(script, chunk, specs=True):
    # specs=False is passed by name only: run_case's two-argument form stays the default call
    return [run_case(script, c) if specs else run_case(script, c, specs=False) for c in chunk]


class _Progress:
    def __init__(self, total, enabled):
        self.total, self.done, self.enabled = total, 0, enabled
        self.t0 = time.perf_counter()
        self.last = 0.0

    def update(self, k):
        self.done += k
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < 0.5 and self.done < self.total:
            return
        self.last = now
        el = now - self.t0
        rate = self.done / el if el > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        bar = "#" * int(30 * self.done / self.total)
        sys.stderr.write(f"\r[{bar:<30s}] {self.done}/{self.total} cases, {rate:.2f}/s, ETA {eta:.0f} s")
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def sweep(script, grid: dict | None = None, *, lhs: dict | None = None, n_lhs: int = 0,
          cases: list | None = None, workers: int = 1, executor: str = "processes",
          scheduler: str | None = None, progress: bool | None = None, seed: int = 0,
          chunksize: int | None = None, specs: bool = True) -> pd.DataFrame:
    """Run a flowsheet script over many parameter sets.

    Parameters
    ----------
    script : str or Path
        Flowsheet script (see :mod:`reeproc.flowsheet.script`).
    grid : dict, optional
        {name: values} for a full-factorial grid.
    lhs, n_lhs : dict, int, optional
        {name: (low, high)} and the number of Latin-hypercube cases (combined with ``grid`` as
        an outer product when both are given).
    cases : list of dict, optional
        Explicit cases (used instead of grid/lhs).
    workers : int
        Worker processes (``processes``) or Dask workers for a LocalCluster (``dask``).
    executor : {'processes', 'dask', 'serial'}
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); a LocalCluster otherwise.
    progress : bool, optional
        Progress bar on stderr (default: when stderr is a terminal).
    specs : bool
        Meet the script's design specs in every case (columns ``spec NAME: VARIABLE`` record
        the manipulated variables).

    Returns
    -------
    pandas.DataFrame
        One row per case, in case order.
    """
    from .flowsheet.script import script_parameters

    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    script = str(Path(script).resolve())
    params = script_parameters(script)
    if cases is None:
        base = grid_cases(grid) if grid else [{}]
        if lhs:
            integer = {k for k in lhs if params.get(k) is not None and params[k].integer}
            sample = lhs_cases(lhs, n_lhs, seed=seed, integer=integer)
            cases = [{**b, **s} for b in base for s in sample]
        else:
            cases = base
    from .data import parse_perturbation_key

    for c in cases:
        for k in c:
            if str(k).startswith("data:"):
                parse_perturbation_key(k)
        unknown = {k for k in c if not str(k).startswith("data:")} - set(params)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} for {Path(script).name}; "
                             f"known: {sorted(params)}")
    n = len(cases)
    bar = _Progress(n, sys.stderr.isatty() if progress is None else progress)
    if executor == "serial" or (executor == "processes" and workers == 1):
        rows = []
        for c in cases:
            rows.append(run_case(script, c) if specs else run_case(script, c, specs=False))
            bar.update(1)
    elif executor == "processes":
        from concurrent.futures import ProcessPoolExecutor
        import multiprocessing as mp

        cs = chunksize or max(1, min(16, n // (4 * workers) or 1))
        chunks = [cases[i:i + cs] for i in range(0, n, cs)]
        # spawn: numba's thread pools and open files are not fork-safe
        ctx = mp.get_context("spawn")
        rows_by_chunk = [None] * len(chunks)
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
            futs = {ex.submit(_run_chunk, script, ch, specs): i for i, ch in enumerate(chunks)}
            from concurrent.futures import as_completed

            for f in as_completed(futs):
                i = futs[f]
                rows_by_chunk[i] = f.result()
                bar.update(len(chunks[i]))
        rows = [r for ch in rows_by_chunk for r in ch]
    else:
        rows = _dask_map(script, cases, workers, scheduler, bar, chunksize, specs)
    df = pd.DataFrame(rows)
    df.index.name = "case"
    df.attrs["script"] = script
    df.attrs["executor"] = executor
    return df


def _dask_map(script, cases, workers, scheduler, bar, chunksize, specs=True):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency
        raise ImportError("executor='dask' needs dask.distributed: pip install 'dask[distributed]'") from exc
    n = len(cases)
    cs = chunksize or max(1, min(16, n // (4 * workers) or 1))
    chunks = [cases[i:i + cs] for i in range(0, n, cs)]
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")
        client = Client(cluster)
    try:
        futs = client.map(_run_chunk, [script] * len(chunks), chunks, [specs] * len(chunks),
                          pure=False)
        index = {f.key: i for i, f in enumerate(futs)}
        out = [None] * len(chunks)
        for f in as_completed(futs):
            i = index[f.key]
            out[i] = f.result()
            bar.update(len(chunks[i]))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return [r for ch in out for r in ch]


def save(df: pd.DataFrame, path) -> Path:
    """Write a sweep table to CSV or Parquet (by extension)."""
    p = Path(path)
    if p.suffix == ".parquet":
        try:
            df.to_parquet(p)
        except ImportError as exc:
            raise ImportError("writing .parquet needs pyarrow: pip install pyarrow, or use .csv") from exc
    elif p.suffix == ".csv":
        df.to_csv(p)
    else:
        raise ValueError(f"sweep output must end in .csv or .parquet, got '{p.name}'")
    return p



# ---------------------------------------------------------------------------- SX-only sweeps
def sx_sweep(make_job, cases: list, evaluate, *, threads: int | None = None,
             chunk: int = 2048, tol: float = 1e-10, max_iter: int = 3000,
             warm_start: bool = True) -> pd.DataFrame:
    """Sweep SX cascades alone with the batch solver (numba ``prange`` over cascades).

    Far cheaper than a flowsheet sweep: no unit operations, no recycle loop, no Python work per
    stage; jobs that differ only in flows are assembled once per cascade shape
    (:func:`reeproc.sx.batch.solve_many`). ``make_job`` may return the same Cascade and Stream
    objects for many cases (cache them), which keeps job construction cheap. Cases that do not
    converge are kept with ``converged=False`` and an ``error`` text.

    Parameters
    ----------
    make_job : callable
        ``make_job(case) -> (Cascade, dict of solve kwargs)`` (feed, organic, scrub, strip).
    cases : list of dict
        Parameter sets.
    evaluate : callable
        ``evaluate(case, result) -> dict`` of figures to record (purities, recoveries);
        ``result`` is a :class:`reeproc.sx.batch.BatchItem` (``recovery``, ``purity``,
        ``outlet_mol_h``, arrays; ``result.full()`` gives the full CascadeResult).
    threads : int, optional
        Numba threads (default: numba's current setting).
    chunk : int
        Cascades per batch call.
    warm_start : bool
        Start each case from its predecessor's solution when the stage counts match (see
        :func:`reeproc.sx.batch.solve_many`); order the cases so that neighbours are close
        (``grid_cases`` does: its last parameter varies fastest).

    Returns
    -------
    pandas.DataFrame
        One row per case: the case, ``converged``, ``iterations`` and the evaluated figures.
    """
    import numba

    from .sx.batch import solve_many

    old = numba.get_num_threads()
    if threads is not None:
        if not 1 <= int(threads) <= numba.config.NUMBA_NUM_THREADS:
            raise ValueError(f"threads must lie in [1, {numba.config.NUMBA_NUM_THREADS}], got {threads}")
        numba.set_num_threads(int(threads))
    rows = []
    try:
        for i in range(0, len(cases), chunk):
            part = cases[i:i + chunk]
            jobs = [make_job(c) for c in part]
            results = solve_many(jobs, tol=tol, max_iter=max_iter, warm_start=warm_start)
            for c, r in zip(part, results):
                row = dict(c)
                row["converged"] = bool(r.converged)
                row["iterations"] = int(r.iterations)
                row["error"] = "" if r.converged else (
                    f"ConvergenceError: scaled residual {r.residual:.3e} after "
                    f"{r.iterations} iterations" + (f"; {r.failure_note}" if r.failure_note
                                                    else ""))
                if r.converged:
                    try:
                        row.update(evaluate(c, r))
                    except Exception as exc:  # recorded, never dropped
                        row["error"] = f"{type(exc).__name__}: {exc}"
                rows.append(row)
    finally:
        numba.set_num_threads(old)
    df = pd.DataFrame(rows)
    df.index.name = "case"
    return df


# ---------------------------------------------------------------------------- plots
def plot_map(df: pd.DataFrame, x: str, y: str, z: str, target: float = 0.995, ax=None):
    """Filled map of ``z`` over two swept parameters with the ``target`` contour (99.5 %).

    Non-converged cases are left blank (NaN), never interpolated.
    """
    import matplotlib.pyplot as plt

    for col in (x, y, z):
        if col not in df.columns:
            raise ValueError(f"column '{col}' not in the sweep table; columns: {list(df.columns)}")
    piv = df.assign(_z=np.where(df.get("converged", True), df[z], np.nan)).pivot_table(
        index=y, columns=x, values="_z", aggfunc="mean")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4.5))
    else:
        fig = ax.figure
    X, Y = np.meshgrid(piv.columns.to_numpy(float), piv.index.to_numpy(float))
    Z = piv.to_numpy(float)
    cs = ax.pcolormesh(X, Y, Z, shading="nearest", cmap="viridis")
    fig.colorbar(cs, ax=ax, label=z)
    if np.nanmin(Z) < target < np.nanmax(Z) and min(Z.shape) > 1:
        c = ax.contour(X, Y, Z, levels=[target], colors="w", linewidths=1.5)
        ax.clabel(c, fmt={target: f"{100 * target:.1f} %"}, fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{z} (white: {100 * target:.1f} % contour)", fontsize=9)
    return fig


def pareto_front(df: pd.DataFrame, cost: str, benefit: str, feasible=None) -> pd.DataFrame:
    """Non-dominated cases: lowest ``cost`` for each level of ``benefit`` (higher is better),
    among rows where ``feasible`` (a boolean Series or column name) holds."""
    d = df
    if feasible is not None:
        mask = df[feasible] if isinstance(feasible, str) else feasible
        d = df[mask.astype(bool)]
    d = d.dropna(subset=[cost, benefit]).sort_values([cost, benefit], ascending=[True, False])
    front, best = [], -np.inf
    for idx, row in d.iterrows():
        if row[benefit] > best:
            front.append(idx)
            best = row[benefit]
    return d.loc[front]


def plot_pareto(df: pd.DataFrame, cost: str, benefit: str, feasible=None, ax=None):
    """Scatter of all cases and the Pareto front (cost vs benefit) of the feasible ones."""
    import matplotlib.pyplot as plt

    front = pareto_front(df, cost, benefit, feasible)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4.5))
    else:
        fig = ax.figure
    ax.scatter(df[cost], df[benefit], s=8, c="#bbbbbb", label="all cases")
    if feasible is not None:
        mask = df[feasible] if isinstance(feasible, str) else feasible
        ok = df[mask.astype(bool)]
        ax.scatter(ok[cost], ok[benefit], s=10, c="#3b75af", label="purity >= 99.5 %")
    ax.plot(front[cost], front[benefit], "o-", c="#c0392b", label="Pareto front")
    ax.set_xlabel(cost)
    ax.set_ylabel(benefit)
    ax.legend(fontsize=7)
    return fig
