"""Flowsheet results: balance audit, stream and product tables, reagents, energy, cost, CO2, KPIs.

Cost and CO2 come from ``property_data/reagents.csv`` (reagents, electricity) and
``property_data/energy.csv`` (heat duty as natural gas at its LHV). A reagent without a price or a
CO2 factor is *listed* as missing in the KPIs and the report; its contribution is not counted and
is never taken as zero silently.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import load_table
from ..stream import element_closure

__all__ = ["FlowsheetResult", "PURITY_TARGET"]

#: Product purity target on the oxide basis (Belfast demonstration plant; Ionic Technologies).
PURITY_TARGET = 0.995


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

    @property
    def max_balance_error(self) -> float:
        """Largest relative element-balance error over the flowsheet [-]."""
        a = self.audit()
        return float(a["relative error"].max()) if len(a) else 0.0

    # ------------------------------------------------------------------ tables
    def stream_table(self) -> pd.DataFrame:
        """Every stream as a column: phase, T [°C], flow [L/h], species [mol/h] and [mol/L],
        mass [kg/h] and the oxide basis [kg/h]."""
        cols = {}
        for name, s in self.streams.items():
            ser = s.to_series()
            try:
                for ox, m in s.oxide_kg_h().items():
                    ser[f"{ox} (oxide basis) [kg/h]"] = m
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
        return pd.DataFrame.from_dict(rows, orient="index").fillna(0.0) if rows else pd.DataFrame()

    def total_product_oxide_kg_h(self) -> float:
        return float(sum(self.streams[p.stream].total_oxide_kg_h
                         for p in self.flowsheet.products.values()))

    def economics(self) -> dict:
        """Operating cost and CO2 of reagents and energy, per hour and per kg of product oxide.

        Returns a dict with ``cost_USD_h``, ``co2_kg_h``, ``cost_per_kg_oxide``,
        ``co2_kg_per_kg_oxide``, ``breakdown`` (DataFrame) and ``missing`` (list of what has no
        price or CO2 factor, left out of the totals).
        """
        if "econ" in self._cache:
            return self._cache["econ"]
        rt = load_table("reagents").set_index("reagent")
        rows, missing = [], []
        for name, kg in sorted(self.reagents_kg_h().items()):
            if name not in rt.index:
                missing.append(f"{name}: not in reagents.csv")
                rows.append({"item": name, "amount": kg, "unit": "kg/h", "cost [USD/h]": np.nan,
                             "CO2 [kg/h]": np.nan})
                continue
            price = rt.at[name, "price__USD_kg"]
            co2 = rt.at[name, "co2__kg_kg"]
            if math.isnan(price):
                missing.append(f"{name}: price missing")
            if math.isnan(co2):
                missing.append(f"{name}: CO2 factor missing")
            rows.append({"item": name, "amount": kg, "unit": "kg/h", "cost [USD/h]": kg * price,
                         "CO2 [kg/h]": kg * co2})
        en = self.energy_kW()
        if len(en):
            heat = float(en["heat"].clip(lower=0).sum()) if "heat" in en else 0.0
            elec = float(en["electricity"].sum()) if "electricity" in en else 0.0
            et = load_table("energy").set_index("quantity")
            lhv = et.at["natural gas LHV", "value__MJ_kg"]
            gas_kg_h = heat * 3.6 / lhv  # kW * 3.6 MJ/kWh / (MJ/kg) = kg/h
            if heat > 0:
                missing.append("furnace efficiency missing: heat priced at natural-gas LHV "
                               "(efficiency 1, optimistic)")
                ng = rt.loc["natural gas"]
                rows.append({"item": "natural gas (heat)", "amount": gas_kg_h, "unit": "kg/h",
                             "cost [USD/h]": gas_kg_h * ng["price__USD_kg"],
                             "CO2 [kg/h]": gas_kg_h * ng["co2__kg_kg"]})
            if elec > 0:
                el = rt.loc["electricity"]
                rows.append({"item": "electricity", "amount": elec, "unit": "kW",
                             "cost [USD/h]": elec * el["price__USD_kWh"],
                             "CO2 [kg/h]": elec * el["co2__kg_kWh"]})
        df = pd.DataFrame(rows)
        cost = float(np.nansum(df["cost [USD/h]"])) if len(df) else 0.0
        co2 = float(np.nansum(df["CO2 [kg/h]"])) if len(df) else 0.0
        ox = self.total_product_oxide_kg_h()
        out = {"cost_USD_h": cost, "co2_kg_h": co2,
               "cost_per_kg_oxide": cost / ox if ox > 0 else float("nan"),
               "co2_kg_per_kg_oxide": co2 / ox if ox > 0 else float("nan"),
               "breakdown": df, "missing": missing}
        self._cache["econ"] = out
        return out

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
                            "meets_target": s.purity(list(p.target)) >= PURITY_TARGET}
        return {
            "flowsheet": self.flowsheet.name,
            "parameters": dict(self.parameters),
            "converged": self.converged,
            "recycle": {"method": self.fixed_point.method, "iterations": self.iterations,
                        "residual": float(self.fixed_point.residual), "tears": list(self.tears)},
            "products": prods,
            "purity_target": PURITY_TARGET,
            "specs": {s.name: s.as_dict() for s in self.specs},
            "recovery": self.recovery(),
            "mass_balance": {"max_relative_error": self.max_balance_error},
            "reagents_kg_per_kg_oxide": {k: v / ox for k, v in self.reagents_kg_h().items()} if ox else {},
            "cost_per_kg_oxide": econ["cost_per_kg_oxide"],
            "co2_kg_per_kg_oxide": econ["co2_kg_per_kg_oxide"],
            "cost_basis": "reagents + energy (operating, no capital); prices and CO2 from property_data/reagents.csv",
            "missing_data": econ["missing"],
            "notes": list(getattr(self.flowsheet, "notes", [])),
            "solve_time_s": self.solve_time_s,
        }

    def report(self) -> str:
        """Plain-text KPI report."""
        k = self.kpis()
        lines = [f"reeproc flowsheet: {self.flowsheet.name}",
                 f"  recycle: {k['recycle']['method']}, {k['recycle']['iterations']} iterations, "
                 f"residual {k['recycle']['residual']:.2e}, tears {k['recycle']['tears']} -> "
                 f"{'CONVERGED' if k['converged'] else 'NOT CONVERGED'}",
                 f"  element balance: max relative error {k['mass_balance']['max_relative_error']:.2e}",
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
        lines += ["", f"Operating cost: {k['cost_per_kg_oxide']:.3f} USD/kg oxide; "
                      f"CO2: {k['co2_kg_per_kg_oxide']:.3f} kg/kg oxide (reagents + energy)"]
        if k["missing_data"]:
            lines.append("  not counted (data missing): " + "; ".join(k["missing_data"]))
        for n in k["notes"]:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def to_json(self, path) -> None:
        """Write :meth:`kpis` as JSON."""
        Path(path).write_text(json.dumps(self.kpis(), indent=2, default=float))

    def export(self, directory) -> list:
        """Write stream, product, audit, reagent and energy tables (CSV) and plots (PNG) to a
        directory. Returns the paths written."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        paths = []
        tables = {"streams.csv": self.stream_table(), "products.csv": self.products(),
                  "element_balance.csv": self.audit(),
                  "economics.csv": self.economics()["breakdown"], "energy_kW.csv": self.energy_kW()}
        for fname, df in tables.items():
            p = d / fname
            df.to_csv(p)
            paths.append(p)
        from . import plots

        paths += plots.save_all(self, d)
        (d / "report.txt").write_text(self.report())
        paths.append(d / "report.txt")
        return paths
