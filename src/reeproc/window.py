"""Operating windows: over which interval of each parameter does every product stay on target?

For each parameter of a flowsheet script (one at a time, the others at their defaults or at
given values) :func:`operating_window` finds the interval, inside the parameter's advertised
range, over which the flowsheet solves and every product meets the purity target, in two modes:

* ``active``: the design specs act (each trial is a full spec solve; a spec that cannot reach
  its bound saturates: its variable is held at the bound where the measure came closest, as a
  controller at its limit, and the products are judged there);
* ``frozen``: the specs are solved once at the base point and their manipulated variables are
  then held at the solved values (the flowsheet is rebuilt for each trial value and solved
  without specs): what the plant does with its controllers in manual.

Search: from the base value outward on each side, the bound itself is tried first; if it fails,
bisection on the pass/fail boundary between the last passing and the first failing value until
the bracket is below ``rel_tol`` of the range (on a log scale for positive parameters whose range
spans more than a factor 100). A window found by bisection assumes one boundary per side: a
pass/fail pattern that changes more than once between base and bound can hide an inner failure
(the reported interval is then an upper bound; sweeps see such patterns).

Command line: ``reeproc window flowsheets/ndfeb_long_loop.py --param fe_removal_pH --plot w.png``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .flowsheet.report import PURITY_TARGET
from .flowsheet.script import check_params, load_script
from .flowsheet.specs import SpecError

__all__ = ["operating_window", "WindowResult", "plot_window", "MODES"]

MODES = ("active", "frozen")
_COLUMNS = ["parameter", "default", "range low", "range high", "active low", "active high",
            "frozen low", "frozen high", "active limit low", "active limit high",
            "frozen limit low", "frozen limit high", "solves", "description"]


@dataclass
class WindowResult:
    """Outcome of :func:`operating_window`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per parameter: ``default``, ``range low/high`` (advertised range), ``active
        low/high`` and ``frozen low/high`` (the window in each mode, NaN where the base point
        itself fails), ``... limit low/high`` (what failed just outside the window, or
        'range bound'), ``solves`` and the parameter's ``description`` (with units).
    spec_values : dict
        Spec name -> manipulated-variable value solved at the base point (held in ``frozen``).
    purity_min : float
    """

    table: pd.DataFrame
    spec_values: dict = field(default_factory=dict)
    purity_min: float = PURITY_TARGET

    def to_text(self) -> str:
        """Plain-text table of the windows."""
        lines = [f"Operating windows (every product >= {100 * self.purity_min:.2f} %, one "
                 "parameter at a time; specs active / frozen at their base values):"]
        for s, v in self.spec_values.items():
            lines.append(f"  frozen: {s} variable held at {v:.6g}")
        lines.append(f"  {'parameter':24s} {'default':>10s} {'range':>21s} {'active':>21s} "
                     f"{'frozen':>21s}")
        for _, r in self.table.iterrows():
            def iv(lo, hi):
                return "none" if math.isnan(lo) else f"[{lo:.4g}, {hi:.4g}]"
            lines.append(f"  {r['parameter']:24s} {r['default']:10.4g} "
                         f"{iv(r['range low'], r['range high']):>21s} "
                         f"{iv(r['active low'], r['active high']):>21s} "
                         f"{iv(r['frozen low'], r['frozen high']):>21s}")
        return "\n".join(lines)


def _passes(res, purity_min):
    """(ok, reason) for a solved result."""
    if not res.converged:
        return False, "recycle not converged"
    bad = []
    for name, p in res.flowsheet.products.items():
        pur = res.streams[p.stream].purity(list(p.target))
        if pur < purity_min:
            bad.append(f"{name} {100 * pur:.3f} %")
    return (not bad), ("; ".join(bad) if bad else "")


class _Evaluator:
    def __init__(self, script, base, purity_min, spec_values):
        self.mod = load_script(script)
        self.script = script
        self.base = base
        self.purity_min = purity_min
        self.spec_values = spec_values
        self.n = 0

    def __call__(self, mode, name, value):
        """(ok, reason) at ``name`` = ``value`` in ``mode``."""
        self.n += 1
        params = check_params(self.mod.PARAMETERS, {**self.base, name: value})
        opts = dict(getattr(self.mod, "SOLVE_OPTIONS", {}))
        try:
            fs = self.mod.build(**params)
            if mode == "frozen":
                for spec in fs.specs:
                    spec.variable.set(fs, self.spec_values[spec.name])
            try:
                res = fs.solve(specs=(mode == "active"), **opts)
            except SpecError as exc:
                return self._saturated(fs, exc, opts)
            return _passes(res, self.purity_min)
        except Exception as exc:  # a failed trial is a boundary, never a crash of the search
            return False, f"{type(exc).__name__}: {exc}"

    def _saturated(self, fs, exc, opts):
        """A spec that cannot reach its bound: its controller saturates at the variable bound
        where the measure came closest, and the products are judged there."""
        spec = next((s for s in fs.specs if s.name == exc.spec), None)
        reached = {b: v for b, v in exc.achievable.items() if v is not None}
        if spec is None or not reached:
            return False, f"SpecError: {exc}"
        bound = min(reached, key=lambda b: abs(spec.residual(reached[b])))
        spec.variable.set(fs, bound)
        ok, why = _passes(fs.solve(specs=False, **opts), self.purity_min)
        return ok, f"spec '{spec.name}' saturated at {spec.variable.name} = {bound:g}" + (
            f": {why}" if why else "")


def _edge(evaluate, mode, name, x_in, x_out, integer, logscale, tol):
    """Boundary between passing ``x_in`` and the range bound ``x_out``: (last pass, reason)."""
    ok, reason = evaluate(mode, name, x_out)
    if ok:
        return x_out, "range bound"
    good, bad = x_in, x_out
    while True:
        if logscale:
            mid = math.sqrt(good * bad)
            width = abs(math.log(bad / good))
        else:
            mid = 0.5 * (good + bad)
            width = abs(bad - good)
        if integer:
            mid = round(mid)
            if mid in (good, bad):
                break
        elif width <= tol:
            break
        ok, why = evaluate(mode, name, mid)
        if ok:
            good = mid
        else:
            bad, reason = mid, why
    return good, reason


def operating_window(script, params=None, *, base: dict | None = None, modes=MODES,
                     rel_tol: float = 0.02, purity_min: float = PURITY_TARGET) -> WindowResult:
    """Operating window of each parameter (see the module docstring).

    Parameters
    ----------
    script : str or Path
        Flowsheet script.
    params : list of str, optional
        Parameters to scan; default: the script's ``WINDOW_PARAMETERS`` if it defines one,
        else every numeric non-integer parameter with a range.
    base : dict, optional
        Values of the other parameters (defaults otherwise).
    modes : tuple of {'active', 'frozen'}
    rel_tol : float
        Bisection stops when the bracket is below this fraction of the range [-].
    purity_min : float
        Purity every product must meet [-] (default 0.995).

    Returns
    -------
    WindowResult
    """
    script = str(Path(script).resolve())
    mod = load_script(script)
    P = mod.PARAMETERS
    unknown_modes = set(modes) - set(MODES)
    if unknown_modes or not modes:
        raise ValueError(f"modes must be a non-empty subset of {MODES}, got {modes}")
    if not 0 < rel_tol < 1:
        raise ValueError(f"rel_tol must lie in (0, 1), got {rel_tol}")
    if params is None:
        params = list(getattr(mod, "WINDOW_PARAMETERS", None) or
                      [k for k, p in P.items() if not isinstance(p.default, str)
                       and not p.integer and p.low is not None and p.high is not None])
    for k in params:
        if k not in P:
            raise ValueError(f"unknown parameter '{k}'; known: {sorted(P)}")
        if isinstance(P[k].default, str) or P[k].low is None or P[k].high is None:
            raise ValueError(f"parameter '{k}' ({P[k].description}) has no numeric range: "
                             "an operating window needs one")
    base = check_params(P, dict(base or {}))
    spec_values = {}
    if "frozen" in modes:
        fs = mod.build(**base)
        if fs.specs:
            res = fs.solve(**dict(getattr(mod, "SOLVE_OPTIONS", {})))
            spec_values = {s.name: s.value for s in res.specs}
    evaluate = _Evaluator(script, base, purity_min, spec_values)
    rows = []
    for k in params:
        p = P[k]
        x0 = float(base[k])
        lo, hi = float(p.low), float(p.high)
        logscale = lo > 0 and hi / lo > 100
        tol = rel_tol * (math.log(hi / lo) if logscale else (hi - lo))
        row = {"parameter": k, "default": x0, "range low": lo, "range high": hi,
               "description": p.description}
        n0 = evaluate.n
        for mode in MODES:
            if mode not in modes:
                row.update({f"{mode} low": math.nan, f"{mode} high": math.nan,
                            f"{mode} limit low": "not computed",
                            f"{mode} limit high": "not computed"})
                continue
            ok, why = evaluate(mode, k, x0)
            if not ok:
                row.update({f"{mode} low": math.nan, f"{mode} high": math.nan,
                            f"{mode} limit low": f"fails at the base value: {why}",
                            f"{mode} limit high": f"fails at the base value: {why}"})
                continue
            for side, bound in (("low", lo), ("high", hi)):
                if bound == x0:
                    row[f"{mode} {side}"], row[f"{mode} limit {side}"] = x0, "range bound"
                    continue
                edge, why = _edge(evaluate, mode, k, x0, bound, p.integer, logscale, tol)
                row[f"{mode} {side}"], row[f"{mode} limit {side}"] = edge, why
        row["solves"] = evaluate.n - n0
        rows.append(row)
    table = pd.DataFrame(rows, columns=_COLUMNS)
    return WindowResult(table, spec_values, purity_min)


def plot_window(result: WindowResult, ax=None):
    """One bar per parameter and mode over its advertised range (normalised to 0..1, log scale
    for ranges wider than 100x), the default marked; returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    t = result.table
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 1.8 + 0.55 * len(t)))
    else:
        fig = ax.figure

    def norm(v, lo, hi):
        if lo > 0 and hi / lo > 100:
            return math.log(v / lo) / math.log(hi / lo)
        return (v - lo) / (hi - lo)

    colours = {"active": "#3b75af", "frozen": "#e0a030"}
    for i, (_, r) in enumerate(t.iterrows()):
        lo, hi = r["range low"], r["range high"]
        ax.barh(i, 1.0, left=0.0, height=0.7, color="#eeeeee", edgecolor="#bbbbbb")
        for j, mode in enumerate(MODES):
            a, b = r[f"{mode} low"], r[f"{mode} high"]
            if isinstance(a, float) and math.isnan(a):
                continue
            y = i + (0.17 if j == 0 else -0.17)
            ax.barh(y, norm(b, lo, hi) - norm(a, lo, hi), left=norm(a, lo, hi), height=0.3,
                    color=colours[mode], label=f"specs {mode}" if i == 0 else None)
        ax.plot([norm(r["default"], lo, hi)] * 2, [i - 0.38, i + 0.38], color="k", lw=1.5,
                label="default" if i == 0 else None)
        ax.text(1.01, i, f"[{lo:g}, {hi:g}]", va="center", fontsize=7)
    ax.set_yticks(range(len(t)))
    ax.set_yticklabels(t["parameter"])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("position in the advertised range [-]")
    ax.set_title(f"Operating window: every product >= {100 * result.purity_min:.1f} %", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.35 / max(len(t), 1) - 0.1),
              ncol=3, frameon=False)
    return fig
