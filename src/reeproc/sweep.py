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
import re
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

from ._validate import InputError, as_number, check_output_file
from ._sx_sweep import sx_sweep
from .parallel import EXECUTORS, WorkerPool, interrupt_flag, progress_bar

__all__ = ["sweep", "sx_sweep", "grid_cases", "lhs_cases", "parse_param_spec", "count_cases",
           "run_case", "save", "pareto_front", "summary_table", "EXECUTORS",
           "MAX_CASES", "SweepInterrupted"]

#: Largest number of cases a sweep accepts (checked before any case is built).
MAX_CASES = 1_000_000

_DATA_KEY = re.compile(r"(data:(?:add|mul):[A-Za-z0-9_-]+\[[^\]]*\]:[A-Za-z0-9_]+)=(.*)")


def _number(name: str, text: str, what: str) -> float:
    return as_number(f"{what} of '{name}'", text)


def parse_param_spec(spec: str) -> dict:
    """Parse ``NAME=start:stop:step`` (inclusive) or ``NAME=v1,v2,...`` into {name: values}.

    ``NAME`` may be a property-data perturbation key, which holds '=' itself
    (``data:mul:sx_kex[extractant=PC88A;species=Nd]:log10_Kex__1=0.9,1.1``).

    Raises
    ------
    ValueError
        For a malformed spec (naming the parameter and the part that is not a number), a zero
        or wrong-signed step, or more than 100,000 values.
    """
    m = _DATA_KEY.fullmatch(spec.strip())
    if m:
        name, rhs = m.groups()
    elif "=" in spec:
        name, rhs = spec.split("=", 1)
    else:
        raise InputError(f"parameter spec '{spec}' must look like NAME=start:stop:step or "
                         "NAME=v1,v2")
    name = name.strip()
    if not name:
        raise InputError(f"parameter spec '{spec}' has no name before '='")
    if ":" in rhs:
        parts = rhs.split(":")
        if len(parts) != 3:
            raise InputError(f"range '{rhs}' for '{name}' must be start:stop:step")
        a, b, step = (_number(name, x, w) for x, w in zip(parts, ("start", "stop", "step")))
        if step == 0 or (b - a) * step < 0:
            raise InputError(f"step {step:g} cannot go from {a:g} to {b:g} for '{name}'")
        n_float = (b - a) / step + 1.0
        if not math.isfinite(n_float) or n_float > 100_000:
            raise InputError(f"range '{rhs}' for '{name}' has more than 100,000 values")
        n = int(math.floor(n_float - 1.0 + 1e-9)) + 1
        values = [a + i * step for i in range(n)]
    else:
        values = []
        for v in rhs.split(","):
            v = v.strip()
            if not v:
                raise InputError(f"value list '{rhs}' for '{name}' has an empty entry")
            try:
                values.append(float(v))
            except ValueError:
                if name.startswith("data:"):
                    raise InputError(f"value of '{name}' must be a number, got {v!r}") from None
                values.append(v)
    return {name: values}


def count_cases(grid: dict | None = None, n_lhs: int = 0) -> int:
    """Number of cases of a grid (times ``n_lhs`` when a Latin-hypercube sample is crossed
    with it), computed without building them."""
    for k, v in (grid or {}).items():
        if isinstance(v, (str, bytes)) or not hasattr(v, "__len__"):
            raise InputError(f"grid values of '{k}' must be a list of values, got {v!r}")
    n = math.prod(len(v) for v in (grid or {}).values()) if grid else 1
    return n * (int(n_lhs) if n_lhs else 1)


def grid_cases(grid: dict) -> list[dict]:
    """Full-factorial cases from {name: values}."""
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def lhs_cases(bounds: dict, n: int, seed: int = 0, integer=()) -> list[dict]:
    """Latin-hypercube sample of ``n`` cases within {name: (low, high)} (scipy.stats.qmc).

    Integer parameters are rounded to the nearest integer after scaling.
    """
    n = as_number("LHS sample size", n, low=1, high=MAX_CASES, integer=True)
    names = list(bounds)
    lo = np.array([as_number(f"LHS lower bound of '{k}'", bounds[k][0]) for k in names])
    hi = np.array([as_number(f"LHS upper bound of '{k}'", bounds[k][1]) for k in names])
    if np.any(hi < lo):
        raise InputError(f"LHS bounds must have low <= high: {bounds}")
    from scipy.stats import qmc  # imported here only: it costs ~0.3 s

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
    # an audit failure is a failure: 'converged' is True only for a solved, balanced case
    row = {"status": k["status"], "converged": k["status"] == "solved",
           "recycle iterations": k["recycle"]["iterations"],
           "max balance error [-]": k["mass_balance"]["max_relative_error"],
           "charge balance error [-]": k["charge_balance"]["relative_error"],
           "cost [USD/kg oxide]": k["cost_per_kg_oxide"],
           "CO2 [kg/kg oxide]": k["co2_kg_per_kg_oxide"]}
    econ = k.get("economics") or {}
    row["variable cost [USD/kg oxide]"] = econ.get("variable_cost_USD_per_kg", math.nan)
    row["cost of production [USD/kg oxide]"] = econ.get("cost_of_production_USD_per_kg", math.nan)
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


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C: ``results`` holds the cases done (also written to ``path``
    when the sweep had an output file), ``total`` the number of cases asked for."""

    def __init__(self, results, total, path=None):
        super().__init__(f"sweep interrupted after {len(results)} of {total} cases")
        self.results, self.total, self.path = results, total, path


def _table(rows: dict, script, executor) -> pd.DataFrame:
    df = pd.DataFrame([rows[i] for i in sorted(rows)], index=sorted(rows))
    df.index.name = "case"
    df.attrs["script"] = script
    df.attrs["executor"] = executor
    return df


def sweep(script, grid: dict | None = None, *, lhs: dict | None = None, n_lhs: int = 0,
          cases: list | None = None, workers: int = 1, executor: str = "processes",
          scheduler: str | None = None, progress: bool | None = None, seed: int = 0,
          chunksize: int | None = None, out=None, checkpoint_s: float = 5.0,
          specs: bool = True) -> pd.DataFrame:
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
    out : str or Path, optional
        Results file (.csv or .parquet), checked before any case runs and written as cases
        complete (at most every ``checkpoint_s`` seconds, and at the end). A Ctrl-C writes the
        cases done and raises :class:`SweepInterrupted`.

    Returns
    -------
    pandas.DataFrame
        One row per case, in case order.

    Raises
    ------
    ValueError
        Before any case runs: unknown parameters, more than :data:`MAX_CASES` cases, an output
        file that cannot be written.
    """
    from .flowsheet.script import script_parameters

    if executor not in EXECUTORS:
        raise InputError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    as_number("workers", workers, low=1, integer=True)
    if out is not None:
        out = check_output_file("sweep output", out, (".csv", ".parquet"), create_parent=True)
    script = str(Path(script).resolve())
    params = script_parameters(script)
    if cases is None:
        n_total = count_cases(grid, n_lhs if lhs else 0)
        if n_total > MAX_CASES:
            raise InputError(f"the sweep has {n_total:,} cases, more than the {MAX_CASES:,} "
                             "allowed; use fewer values or an LHS sample")
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
            raise InputError(f"unknown parameter(s) {sorted(unknown)} for {Path(script).name}; "
                             f"known: {sorted(params)}")
    n = len(cases)
    pool = WorkerPool(workers, executor, scheduler)
    cs = 1 if pool.serial else (chunksize or max(1, min(16, n // (4 * pool.workers) or 1)))
    chunks = [list(range(i, min(i + cs, n))) for i in range(0, n, cs)]
    rows: dict = {}
    last_save = time.perf_counter()
    try:
        with interrupt_flag() as ctrl_c, pool, progress_bar(n, "sweep", enabled=progress) as bar:
            tasks = [(script, [cases[i] for i in ch], specs) for ch in chunks]
            for k, result in pool.imap_unordered(_run_chunk, tasks):
                rows.update(zip(chunks[k], result))
                bar.update(len(result))
                if ctrl_c.hit:   # a Ctrl-C whose KeyboardInterrupt a destructor swallowed
                    raise KeyboardInterrupt
                if out is not None and time.perf_counter() - last_save > checkpoint_s:
                    save(_table(rows, script, executor), out)
                    last_save = time.perf_counter()
    except KeyboardInterrupt:
        df = _table(rows, script, executor)
        if out is not None and rows:
            save(df, out)
        raise SweepInterrupted(df, n, out if rows else None) from None
    df = _table(rows, script, executor)
    if out is not None:
        save(df, out)
    return df


def summary_table(df: pd.DataFrame, rows: int = 12, width: int = 120) -> str:
    """The swept parameters, convergence, purities, recoveries and cost of the first cases."""
    first = list(df.columns).index("converged") if "converged" in df.columns else len(df.columns)
    keep = list(df.columns[:first + 1]) + [
        c for c in df.columns if c.startswith(("purity ", "recovery ", "cost "))]
    t = df[keep].head(rows)
    with pd.option_context("display.float_format", "{:.5g}".format):
        text = t.to_string(line_width=width)
    if len(df) > rows:
        text += f"\n... ({len(df) - rows} more cases in the output file)"
    return text


def save(df: pd.DataFrame, path) -> Path:
    """Write a sweep table to CSV or Parquet (by extension); a missing folder is created."""
    p = Path(path)
    if p.suffix not in (".csv", ".parquet"):
        raise InputError(f"sweep output must end in .csv or .parquet, got '{p.name}'")
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".part")
    if p.suffix == ".parquet":
        try:
            df.to_parquet(tmp)
        except ImportError:
            raise InputError("writing .parquet needs pyarrow: pip install pyarrow, or use "
                             ".csv") from None
    else:
        df.to_csv(tmp)
    tmp.replace(p)  # readers never see a half-written file
    return p


# ---------------------------------------------------------------------------- Pareto front
# (the sweep figures live in reeproc.flowsheet.plots.maps)
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
