"""Text lines and tables of an :class:`~reeproc.economics.EconomicsResult` for reports and exports.
Variable cost and cost of production are printed apart, each with its name."""
from __future__ import annotations

import math

import pandas as pd

__all__ = ["report_lines", "tables"]


def _musd(x: float) -> str:
    return f"{x / 1e6:,.2f} M USD"


def report_lines(e) -> list:
    """Plain-text lines of the economics and CO2 sections of a flowsheet report."""
    a = e.assumptions
    c = e.capex
    lines = [f"Economics (plant: {e.feed_t_y:,.1f} t/y magnet feed -> {e.product_t_y:,.1f} t/y product "
             f"oxide, {e.hours:,.0f} h/y; capital in {a.cost_year} USD, CEPCI-escalated):",
             f"  capital cost:        {_musd(c.total_USD)} (purchased equipment {_musd(c.purchased_USD)} "
             f"x installation factor {c.installation_factor:.2f} ({a.installation})"
             + (f" + SX organic first fill {_musd(c.organic_fill_USD)})" if c.organic_fill_USD else ")"),
             f"  variable cost:       {e.variable_cost_USD_per_kg:9.3f} USD/kg oxide (reagents, organic "
             "make-up, effluent neutralisation, residue disposal, electricity, gas, feed)",
             f"  fixed cost:          {e.fixed_cost_USD_per_kg:9.3f} USD/kg oxide (labour, QA, "
             "administration, maintenance, taxes + insurance)",
             f"  capital charge:      {e.capital_charge_USD_per_kg:9.3f} USD/kg oxide "
             f"({a.discount_rate_pct:g} %, {a.plant_life_yr:g} y)",
             f"  cost of production:  {e.cost_of_production_USD_per_kg:9.3f} USD/kg oxide "
             "(variable + fixed + capital charge)",
             (f"  revenue:             {e.revenue_USD_per_kg:9.3f} USD/kg oxide; margin "
              f"{e.margin_USD_per_kg:.3f} USD/kg oxide" if math.isfinite(e.revenue_USD_per_kg) else
              "  revenue:             not available (no product has a sourced price)")]
    top = e.costs.sort_values("USD/yr", ascending=False).head(6)
    lines.append("  largest items [USD/kg oxide]: " + ", ".join(
        f"{r['item']} {r['USD/kg oxide']:.2f}" for _, r in top.iterrows()))
    if e.missing_cost:
        lines.append("  not counted (data missing; cost figures are lower bounds): " + "; ".join(e.missing_cost))
    counted = e.co2[pd.to_numeric(e.co2["kg CO2-eq/kg oxide"], errors="coerce").notna()]
    counted = counted.sort_values("kg CO2-eq/kg oxide", ascending=False)
    lines += ["", f"CO2 (cradle-to-gate, grid {a.grid}): {e.co2_kg_per_kg:.3f} kg CO2-eq/kg oxide; "
              "contributions: " + ", ".join(f"{r['item']} {r['kg CO2-eq/kg oxide']:.3f}"
                                            for _, r in counted.iterrows())]
    if e.missing_co2:
        lines.append("  not counted (factor missing; the total is a lower bound): " + "; ".join(e.missing_co2))
    lines.append("  boundary: see docs/economics.md and the JSON 'co2.boundary' (scrap enters burden-free; "
                 "transport, landfill, construction excluded)")
    return lines


def tables(e) -> dict:
    """CSV tables of an economics result: file name -> DataFrame."""
    eq = e.capex.equipment
    co2 = e.co2.copy()
    co2["kg CO2-eq/kg oxide"] = [math.nan if v is None else v for v in co2["kg CO2-eq/kg oxide"]]
    return {"economics_costs.csv": e.costs, "economics_equipment.csv": eq,
            "economics_revenue.csv": e.revenue, "co2_book.csv": co2,
            "economics_electricity.csv": e.sizing.electricity}
