"""Flowsheet results: balance audit, stream and product tables, reagents, energy, cost, CO2, KPIs.

Cost and CO2 come from :mod:`reeproc.economics` (equipment sizing, capital, variable cost, cost of
production, revenue, cradle-to-gate CO2 with its boundary; docs/economics.md). An item without a
price or a CO2 factor is *listed* as missing in the KPIs and the report; its contribution is not
counted and is never taken as zero silently.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..stream import charge_closure, element_closure

__all__ = ["FlowsheetResult", "FlowsheetAuditError", "PURITY_TARGET", "AUDIT_RTOL", "STATUSES",
           "EXIT_CODES", "EXIT_CODES_TEXT", "exit_code_for"]

#: Product purity target on the oxide basis (Belfast demonstration plant; Ionic Technologies).
PURITY_TARGET = 0.995

#: Largest relative closure of the flowsheet audit (every element, and charge) for a solved
#: flowsheet [-]; above it the result is "audit failed".
AUDIT_RTOL = 1e-8

#: The outcomes of a flowsheet solve (``FlowsheetResult.status``).
STATUSES = ("solved", "not converged", "audit failed")

#: Exit status of ``reeproc run`` for each outcome (README, section "Exit codes").
EXIT_CODES = {"solved": 0, "usage or input error": 2, "not converged": 3, "audit failed": 3}

#: One line for help texts.
EXIT_CODES_TEXT = ("exit status: 0 solved with every element and charge balanced (whatever the "
                   "product purity); 2 usage or input error (bad option, parameter, script or "
                   "a unit refusing its input); 3 no convergence (recycle or SX cascade) or "
                   "audit failure (a balance above 1e-8)")


def _impurities_ppm(stream, target) -> dict:
    """Each oxide of a product other than its target oxides, in ppm of the product's total
    oxide mass (oxide basis, as the purity) [mg/kg]; entries below 1e-3 ppm are left out."""
    from ..species import reporting_oxide

    keep = set()
    for t in ([target] if isinstance(target, str) else list(target)):
        try:
            keep.add(reporting_oxide(t))
        except ValueError:
            keep.add(t)
    ox = stream.oxide_kg_h()
    total = sum(ox.values())
    if total <= 0:
        return {}
    return {o: 1e6 * kg / total for o, kg in sorted(ox.items())
            if o not in keep and 1e6 * kg / total >= 1e-3}


class FlowsheetAuditError(RuntimeError):
    """A flowsheet converged but its element or charge audit exceeds ``AUDIT_RTOL``.

    Attributes
    ----------
    result : FlowsheetResult
        The result, with status 'audit failed', for inspection.
    """

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result


def exit_code_for(exc: BaseException) -> int:
    """Exit status for an error raised while building or solving a flowsheet.

    Non-convergence (recycle or SX cascade) and conservation failures (a unit's or the
    flowsheet's balance) give 3; everything else (bad parameters, wiring, a unit refusing its
    input) is a usage or input error, 2. Wrapped causes (``UnitFailure``) are followed.
    """
    from ..sx.cascade import ConvergenceError
    from ..units._balance import ConservationError
    from .convergence import RecycleConvergenceError

    chain, e = [], exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__
    if any(isinstance(e, (RecycleConvergenceError, ConvergenceError)) for e in chain):
        return EXIT_CODES["not converged"]
    if any(isinstance(e, (ConservationError, FlowsheetAuditError)) for e in chain):
        return EXIT_CODES["audit failed"]
    return EXIT_CODES["usage or input error"]


def _energy_dict(e) -> dict:
    if e is None:
        return {}
    if isinstance(e, dict):
        return {k: float(v) for k, v in e.items()}
    return {"heat": float(e)}


@dataclass
class FlowsheetResult:
    """Solved flowsheet.

    Attributes
    ----------
    streams : dict
        Every stream by name (after the final pass at the converged tear values).
    unit_results : dict
        Each unit's result object by unit name.
    converged : bool
        Recycle convergence (tear residual below tolerance).
    status : str
        'solved' (converged, every element and charge closed to ``AUDIT_RTOL``),
        'not converged' or 'audit failed'.
    fixed_point : FixedPointResult
        Method, iterations and residual history of the recycle solve.
    """

    flowsheet: object
    order: list
    tears: list
    streams: dict
    unit_results: dict
    fixed_point: object
    error: object = None
    solve_time_s: float = float("nan")
    parameters: dict = field(default_factory=dict)
    specs: list = field(default_factory=list)  # SpecResult per design spec (flowsheet.specs)
    _cache: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ convergence
    @property
    def converged(self) -> bool:
        return bool(self.fixed_point.converged)

    @property
    def iterations(self) -> int:
        return int(self.fixed_point.iterations)

    @property
    def residual_history(self) -> list:
        return list(self.fixed_point.history)

    # ------------------------------------------------------------------ boundary
    def boundary_streams(self):
        """(inlets, outlets): external feeds plus reagents dosed in units; streams leaving."""
        conn = self.flowsheet.connections()
        ins = [self.streams[s] for src, s, _ in conn if src is None]
        for name, r in self.unit_results.items():
            for st in getattr(r, "reagent_streams", None) or []:
                ins.append(st)
        outs = [self.streams[s] for _, s, sink in conn if sink is None]
        return ins, outs

    def audit(self) -> pd.DataFrame:
        """Element balance over the flowsheet boundary.

        Feeds + reagents dosed inside units = products + wastes + off-gas. Columns
        ``in [mol/h]``, ``out [mol/h]``, ``out - in [mol/h]``, ``relative error``.
        """
        if "audit" not in self._cache:
            ins, outs = self.boundary_streams()
            self._cache["audit"] = element_closure(ins, outs)
        return self._cache["audit"]

    def charge_audit(self) -> pd.DataFrame:
        """Charge balance over the flowsheet boundary (companion of :meth:`audit`).

        One row ``charge``: net charge in and out [eq/h], ``ionic [eq/h]`` (the scale) and
        ``relative error`` (see :func:`reeproc.stream.charge_closure`).
        """
        if "charge" not in self._cache:
            ins, outs = self.boundary_streams()
            self._cache["charge"] = charge_closure(ins, outs)
        return self._cache["charge"]

    @property
    def max_balance_error(self) -> float:
        """Largest relative element-balance error over the flowsheet [-]."""
        a = self.audit()
        return float(a["relative error"].max()) if len(a) else 0.0

    @property
    def charge_balance_error(self) -> float:
        """Relative charge-balance error over the flowsheet [-]."""
        return float(self.charge_audit()["relative error"].max())

    @property
    def balanced(self) -> bool:
        """Every element and charge closes to ``AUDIT_RTOL`` over the flowsheet."""
        # written so that a NaN closure counts as not balanced
        return bool(self.max_balance_error <= AUDIT_RTOL and self.charge_balance_error <= AUDIT_RTOL)

    @property
    def status(self) -> str:
        """'solved', 'not converged' or 'audit failed' (see ``STATUSES``)."""
        if not self.converged:
            return "not converged"
        return "solved" if self.balanced else "audit failed"

    @property
    def exit_code(self) -> int:
        """Exit status of ``reeproc run`` for this result (``EXIT_CODES``)."""
        return EXIT_CODES[self.status]

    def audit_summary(self) -> str:
        """One line: the worst element closure and the charge closure against ``AUDIT_RTOL``."""
        a = self.audit()
        worst = str(a["relative error"].astype(float).idxmax()) if len(a) else "-"
        c = self.charge_audit().iloc[0]
        return (f"element balance: max relative error {self.max_balance_error:.2e} ({worst}); "
                f"charge balance: relative error {c['relative error']:.2e} (net in "
                f"{c['in [eq/h]']:.3e}, out {c['out [eq/h]']:.3e} eq/h); tolerance "
                f"{AUDIT_RTOL:g}")

    # ------------------------------------------------------------------ tables
    def stream_table(self) -> pd.DataFrame:
        """Every stream as a column: phase, T [°C], flow [L/h], species [mol/h] and [mol/L],
        mass [kg/h] and the oxide basis [kg/h]."""
        cols = {}
        for name, s in self.streams.items():
            ser = s.to_series()
            try:  # appended in one concat: item by item costs ~0.3 s per export
                ox = {f"{k} (oxide basis) [kg/h]": m for k, m in s.oxide_kg_h().items()}
                ser = pd.concat([ser, pd.Series(ox, dtype=float)]) if ox else ser
            except LookupError:
                pass
            cols[name] = ser
        df = pd.DataFrame(cols)
        return df

    def _feed_element_mol_h(self) -> dict:
        tot: dict = {}
        for name, s in self.flowsheet.feeds.items():
            if name in getattr(self.flowsheet, "_reagent_feeds", {}):
                continue
            for el, n in s.element_mol_h().items():
                tot[el] = tot.get(el, 0.0) + n
        return tot

    def products(self) -> pd.DataFrame:
        """Product table: oxide, mass [kg/h], purity (oxide basis) [-], meets 99.5 % target,
        and recovery of each target element from the non-reagent feeds [-]."""
        feed = self._feed_element_mol_h()
        rows = []
        for pname, p in self.flowsheet.products.items():
            s = self.streams[p.stream]
            purity = s.purity(list(p.target))
            em = s.element_mol_h()
            row = {"product": pname, "stream": p.stream, "oxide": p.oxide,
                   "mass [kg/h]": s.total_oxide_kg_h if s.phase != "solid" else s.total_kg_h,
                   "oxide basis [kg/h]": s.total_oxide_kg_h,
                   "purity [-]": purity, "meets 99.5 %": purity >= PURITY_TARGET}
            for el in p.target:
                row[f"recovery {el} [-]"] = em.get(el, 0.0) / feed[el] if feed.get(el) else float("nan")
            rows.append(row)
        return pd.DataFrame(rows).set_index("product") if rows else pd.DataFrame()

    def recovery(self) -> dict:
        """Recovery of each product target element into its product(s) [-]."""
        feed = self._feed_element_mol_h()
        out: dict = {}
        for p in self.flowsheet.products.values():
            em = self.streams[p.stream].element_mol_h()
            for el in p.target:
                if feed.get(el):
                    out[el] = out.get(el, 0.0) + em.get(el, 0.0) / feed[el]
        return out

    def reagents_kg_h(self) -> dict:
        """Reagent consumption [kg/h] by reagent name (units' dosing plus reagent feeds)."""
        tot: dict = {}
        for r in self.unit_results.values():
            for k, v in (getattr(r, "reagents_kg_h", None) or {}).items():
                tot[k] = tot.get(k, 0.0) + float(v)
        for name, reagent in getattr(self.flowsheet, "_reagent_feeds", {}).items():
            s = self.flowsheet.feeds[name]
            kg = sum(m for sp, m in s.kg_h.items() if sp != "H2O")
            tot[reagent] = tot.get(reagent, 0.0) + kg
        return tot

    def energy_kW(self) -> pd.DataFrame:
        """Energy duty of each unit [kW], by kind ('heat', 'electricity', ...)."""
        rows = {}
        for n, r in self.unit_results.items():
            e = _energy_dict(getattr(r, "energy_kW", None))
            if e:
                rows[n] = e
        if not rows:
            return pd.DataFrame()
        # a kind a unit does not report is 0; a duty it reports as NaN (not computed: missing
        # data, named in its notes) stays NaN
        kinds = list(dict.fromkeys(k for e in rows.values() for k in e))
        return pd.DataFrame.from_dict({n: {k: e.get(k, 0.0) for k in kinds}
                                       for n, e in rows.items()}, orient="index")

    def total_product_oxide_kg_h(self) -> float:
        return float(sum(self.streams[p.stream].total_oxide_kg_h
                         for p in self.flowsheet.products.values()))

    def economics(self, assumptions=None):
        """Economics and CO2 of the plant (:func:`reeproc.economics.evaluate`).

        Parameters
        ----------
        assumptions : reeproc.economics.Assumptions, optional
            Plant size, grid, prices, discount rate, ... Given, they replace the assumptions the
            report and the KPIs use; omitted, the last ones given (or the defaults) are used.

        Returns
        -------
        reeproc.economics.EconomicsResult
            Capital, variable cost, cost of production, revenue and the CO2 book, each with what is
            missing named.
        """
        from ..economics import evaluate

        if assumptions is not None or "econ" not in self._cache:
            self._cache["econ"] = evaluate(self, assumptions)
        return self._cache["econ"]

    # ------------------------------------------------------------------ KPIs and report
    def kpis(self) -> dict:
        """Key figures in the documented JSON schema (see ``reeproc run --json``)."""
        econ = self.economics()
        ox = self.total_product_oxide_kg_h()
        prods = {}
        for pname, p in self.flowsheet.products.items():
            s = self.streams[p.stream]
            prods[pname] = {"oxide": p.oxide, "purity": s.purity(list(p.target)),
                            "mass_kg_h": s.total_oxide_kg_h,
                            "meets_target": s.purity(list(p.target)) >= PURITY_TARGET,
                            "impurities_ppm": _impurities_ppm(s, p.target)}
        return {
            "flowsheet": self.flowsheet.name,
            "parameters": dict(self.parameters),
            "status": self.status,
            "converged": self.converged,
            "recycle": {"method": self.fixed_point.method, "iterations": self.iterations,
                        "residual": float(self.fixed_point.residual), "tears": list(self.tears)},
            "products": prods,
            "purity_target": PURITY_TARGET,
            "specs": {s.name: s.as_dict() for s in self.specs},
            "recovery": self.recovery(),
            "mass_balance": {"max_relative_error": self.max_balance_error,
                             "tolerance": AUDIT_RTOL,
                             "closed": bool(self.max_balance_error <= AUDIT_RTOL)},
            "charge_balance": {"net_in_eq_h": float(self.charge_audit()["in [eq/h]"].iloc[0]),
                               "net_out_eq_h": float(self.charge_audit()["out [eq/h]"].iloc[0]),
                               "relative_error": self.charge_balance_error,
                               "tolerance": AUDIT_RTOL,
                               "closed": bool(self.charge_balance_error <= AUDIT_RTOL)},
            "reagents_kg_per_kg_oxide": {k: v / ox for k, v in self.reagents_kg_h().items()} if ox else {},
            "cost_per_kg_oxide": econ.variable_cost_USD_per_kg,
            "co2_kg_per_kg_oxide": econ.co2_kg_per_kg,
            "cost_basis": "cost_per_kg_oxide is the VARIABLE cost (not the cost of production); see "
                          "economics.cost_of_production_USD_per_kg",
            "economics": econ.economics_json(),
            "co2": econ.co2_json(),
            "missing_data": list(econ.missing_cost) + list(econ.missing_co2),
            "notes": list(getattr(self.flowsheet, "notes", [])),
            "solve_time_s": self.solve_time_s,
        }

    def report(self) -> str:
        """Plain-text KPI report."""
        k = self.kpis()
        verdict = {"solved": "SOLVED", "not converged": "FAILED: NOT CONVERGED",
                   "audit failed": "FAILED: AUDIT (a balance does not close)"}[k["status"]]
        lines = [f"reeproc flowsheet: {self.flowsheet.name}",
                 f"  status: {verdict}",
                 f"  recycle: {k['recycle']['method']}, {k['recycle']['iterations']} iterations, "
                 f"residual {k['recycle']['residual']:.2e}, tears {k['recycle']['tears']} -> "
                 f"{'converged' if k['converged'] else 'NOT CONVERGED'}",
                 f"  element balance: max relative error {k['mass_balance']['max_relative_error']:.2e}"
                 f" -> {'closed' if k['mass_balance']['closed'] else 'NOT CLOSED'} (tolerance "
                 f"{AUDIT_RTOL:g})",
                 f"  charge balance: relative error {k['charge_balance']['relative_error']:.2e}"
                 f" (net in {k['charge_balance']['net_in_eq_h']:.3e}, out "
                 f"{k['charge_balance']['net_out_eq_h']:.3e} eq/h) -> "
                 f"{'closed' if k['charge_balance']['closed'] else 'NOT CLOSED'}",
                 "", "Products (purity on the oxide basis; target 99.5 %):"]
        for name, p in k["products"].items():
            flag = "meets target" if p["meets_target"] else "BELOW TARGET"
            lines.append(f"  {name:18s} {p['oxide']:12s} {p['mass_kg_h']:9.4f} kg/h  "
                         f"purity {100 * p['purity']:8.4f} %  {flag}")
        if k["specs"]:
            lines += ["", "Design specs (variable moved to hold the measure):"]
            for name, sp in k["specs"].items():
                state = ("at its bound" if sp["at_bound"] else "held") if sp["active"] else \
                    "met, not acting"
                lines.append(f"  {name}: {sp['measure']} {sp['kind']} {sp['target']:g} -> "
                             f"{sp['achieved']:.6g}; {sp['variable']} = {sp['value']:.6g} "
                             f"[{sp['bounds'][0]:g}, {sp['bounds'][1]:g}], {state}, "
                             f"{sp['iterations']} solves")
        lines += ["", "Recovery [%]: " + ", ".join(f"{el} {100 * v:.2f}" for el, v in k["recovery"].items())]
        lines += ["", "Reagents [kg per kg product oxide]:"]
        for r, v in k["reagents_kg_per_kg_oxide"].items():
            lines.append(f"  {r:24s} {v:9.4f}")
        en = self.energy_kW()
        if len(en):
            lines += ["", "Energy duty [kW]:"]
            for u, row in en.iterrows():
                lines.append("  " + f"{u:18s} " + ", ".join(f"{c} {v:9.3f}" for c, v in row.items()))
        from ..economics.summary import report_lines

        lines += [""] + report_lines(self.economics())
        for n in k["notes"]:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def to_json(self, path) -> None:
        """Write :meth:`kpis` as JSON."""
        Path(path).write_text(json.dumps(self.kpis(), indent=2, default=float))

    def to_html(self, path, **options):
        """Write a self-contained HTML report (opens offline); see
        :func:`reeproc.flowsheet.html_report.write_html` for the sections and ``options``."""
        from .html_report import write_html

        return write_html(self, path, **options)

    def export(self, directory, plots=True) -> list:
        """Write stream, product, audit, reagent and energy tables (CSV) and plots (PNG) to a
        directory. Returns the paths written.

        ``plots``: True (every figure), False (tables only) or names from
        ``reeproc.flowsheet.plots.FIGURES`` ('flowsheet', 'distribution', 'profiles') and
        'economics' (cost waterfall, CO2 breakdown, cost vs plant size)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        paths = []
        tables = {"streams.csv": self.stream_table(), "products.csv": self.products(),
                  "element_balance.csv": self.audit(), "charge_balance.csv": self.charge_audit(),
                  "energy_kW.csv": self.energy_kW()}
        from ..economics.summary import tables as _econ_tables

        tables.update(_econ_tables(self.economics()))
        for fname, df in tables.items():
            p = d / fname
            df.to_csv(p)
            paths.append(p)
        if plots:  # matplotlib is imported only when a figure is asked for
            from .plots import save_all

            which = plots if plots is True else [w for w in plots if w != "economics"]
            if which:
                paths += save_all(self, d, which=which)
            if plots is True or "economics" in plots:
                from ..economics import plots as econ_plots

                paths += econ_plots.save_all(self.economics(), self, d)
        (d / "report.txt").write_text(self.report())
        paths.append(d / "report.txt")
        return paths
