"""Plots of an economics result: cost waterfall, CO2 breakdown, cost and CO2 against plant size.

Every function returns a matplotlib Figure; :func:`save_all` writes them as PNG.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import matplotlib

if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg") and not matplotlib.is_interactive():
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .evaluate import evaluate  # noqa: E402
from .opex import Assumptions  # noqa: E402

__all__ = ["cost_waterfall", "co2_breakdown", "scale_table", "plot_scale", "save_all"]

_CAT_COLOR = {"variable": "#2e86c1", "fixed": "#ca6f1e", "capital": "#7d3c98"}


def cost_waterfall(e):
    """Waterfall of the cost of production [USD/kg oxide]: items stacked from zero to the total,
    variable items first (those under 2 % of the total lumped); the revenue per kg is a line."""
    c = e.costs[e.costs["USD/yr"] > 0].copy()
    c["order"] = c["category"].map({"variable": 0, "fixed": 1, "capital": 2})
    c = c.sort_values(["order", "USD/kg oxide"], ascending=[True, False])
    small = (c["category"] == "variable") & (c["USD/kg oxide"] < 0.02 * c["USD/kg oxide"].sum())
    if small.sum() > 1:
        rest = c[small]
        c = pd.concat([c[~small & (c["order"] == 0)],
                       pd.DataFrame([{"item": f"{len(rest)} small variable items", "category": "variable",
                                      "USD/kg oxide": rest["USD/kg oxide"].sum(), "order": 0}]),
                       c[c["order"] > 0]])
    fig, ax = plt.subplots(figsize=(8.5, 4.6))
    base = 0.0
    labels = []
    for i, (item, cat, v) in enumerate(zip(c["item"], c["category"], c["USD/kg oxide"])):
        ax.bar(i, float(v), bottom=base, color=_CAT_COLOR.get(cat, "grey"))
        base += float(v)
        labels.append(str(item).replace("reagent: ", ""))
    ax.bar(len(labels), base, color="#1c2833")
    labels.append("cost of production")
    ax.axhline(e.revenue_USD_per_kg, color="#1e8449", ls="--", lw=1.2,
               label=f"revenue {e.revenue_USD_per_kg:.1f} USD/kg")
    ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("USD per kg product oxide")
    ax.set_title(f"Cost of production {e.cost_of_production_USD_per_kg:.2f} USD/kg "
                 f"(variable {e.variable_cost_USD_per_kg:.2f}); plant {e.feed_t_y:,.0f} t/y feed", fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=col) for col in _CAT_COLOR.values()]
    ax.legend(handles + ax.get_legend_handles_labels()[0],
              list(_CAT_COLOR) + ax.get_legend_handles_labels()[1], fontsize=8)
    fig.tight_layout()
    return fig


def co2_breakdown(e):
    """Horizontal bars of the CO2 contributions [kg CO2-eq/kg oxide]; missing factors are listed."""
    b = e.co2.copy()
    b["v"] = pd.to_numeric(b["kg CO2-eq/kg oxide"], errors="coerce")
    have = b[b["v"].notna()].sort_values("v")
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(have) + 1.6))
    ax.barh(have["item"], have["v"], color="#5d6d7e")
    ax.set_xlabel("kg CO2-eq per kg product oxide")
    ax.set_title(f"Cradle-to-gate {e.co2_kg_per_kg:.2f} kg CO2-eq/kg (grid {e.assumptions.grid})", fontsize=9)
    miss = b[b["v"].isna()]["item"].tolist()
    if miss:
        ax.text(0.99, 0.02, "factor missing (not counted): " + ", ".join(miss), transform=ax.transAxes,
                ha="right", va="bottom", fontsize=7, color="#c0392b")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    return fig


def scale_table(result, sizes_t_y, assumptions: Assumptions | None = None) -> pd.DataFrame:
    """Capital, variable cost, cost of production and CO2 of a flowsheet at several plant sizes.

    Parameters
    ----------
    result : FlowsheetResult
    sizes_t_y : sequence of float
        Plant sizes [t/y of magnet feed].
    assumptions : Assumptions, optional
        Other assumptions (its ``plant_feed_t_y`` is replaced by each size).
    """
    a = assumptions or Assumptions()
    rows = []
    for s in sizes_t_y:
        e = evaluate(result, replace(a, plant_feed_t_y=float(s)))
        rows.append({"plant feed [t/y]": float(s), "product oxide [t/y]": e.product_t_y,
                     "capex [USD]": e.capex.total_USD,
                     "variable cost [USD/kg oxide]": e.variable_cost_USD_per_kg,
                     "cost of production [USD/kg oxide]": e.cost_of_production_USD_per_kg,
                     "CO2 [kg/kg oxide]": e.co2_kg_per_kg})
    return pd.DataFrame(rows)


def plot_scale(table: pd.DataFrame):
    """Cost of production, variable cost (left) and CO2 (right) against plant size (log x)."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    x = table["plant feed [t/y]"]
    ax.plot(x, table["cost of production [USD/kg oxide]"], "o-", label="cost of production")
    ax.plot(x, table["variable cost [USD/kg oxide]"], "s--", label="variable cost")
    ax.set_xscale("log")
    ax.set_xlabel("plant size [t/y magnet feed]")
    ax.set_ylabel("USD per kg product oxide")
    ax2 = ax.twinx()
    ax2.plot(x, table["CO2 [kg/kg oxide]"], "^:", color="#1e8449", label="CO2")
    ax2.set_ylabel("kg CO2-eq per kg oxide", color="#1e8449")
    ax2.set_ylim(0, 1.2 * max(np.nanmax(table["CO2 [kg/kg oxide]"]), 1e-9))
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8)
    fig.tight_layout()
    return fig


def save_all(e, result, directory, sizes_t_y=(100.0, 365.0, 1200.0, 3000.0, 10000.0)) -> list:
    """Write the waterfall, the CO2 breakdown and the plant-size curves as PNG; returns the paths."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for name, fig in (("cost_waterfall.png", cost_waterfall(e)), ("co2_breakdown.png", co2_breakdown(e)),
                      ("cost_vs_plant_size.png", plot_scale(scale_table(result, sizes_t_y, e.assumptions)))):
        p = d / name
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append(p)
    return out
