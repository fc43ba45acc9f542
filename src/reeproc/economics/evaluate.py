"""Economics and CO2 of a solved flowsheet at a chosen plant size: :func:`evaluate` ties sizing,
capital, operating cost, revenue and the CO2 book together into an :class:`EconomicsResult`."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .boundary import feed_kg_h, product_oxide_kg_h
from .capex import capital_cost, capital_recovery_factor
from .co2 import BOUNDARY, co2_book
from .opex import Assumptions, operating_costs, operating_hours, revenue
from .sizing import size_equipment

__all__ = ["EconomicsResult", "evaluate"]


@dataclass
class EconomicsResult:
    """Economics and CO2 of a plant (USD of ``assumptions.cost_year`` for capital; reagent and
    product prices in the years their sources state).

    Attributes
    ----------
    assumptions : Assumptions
        Resolved assumptions.
    scale : float
        Plant size / flowsheet size [-].
    hours : float
        Operating hours per year [h/yr].
    feed_t_y, product_t_y : float
        Scrap fed and product oxide made per year [t/yr].
    sizing, capex :
        :class:`~reeproc.economics.sizing.Sizing`, :class:`~reeproc.economics.capex.Capex`.
    costs : DataFrame
        item, category ('variable', 'fixed', 'capital'), USD/yr, USD/kg oxide, basis.
    revenue : DataFrame
        product, oxide, kg/h, USD/kg, USD/yr, basis.
    co2 : DataFrame
        item, amount, factor, kg CO2-eq/h (None where the factor is missing), kg CO2-eq/kg oxide.
    missing_cost, missing_co2 : list of str
        Items not counted, and why.
    """

    assumptions: Assumptions
    scale: float
    hours: float
    feed_t_y: float
    product_t_y: float
    sizing: object
    capex: object
    costs: pd.DataFrame
    revenue: pd.DataFrame
    co2: pd.DataFrame
    missing_cost: list = field(default_factory=list)
    missing_co2: list = field(default_factory=list)

    # ------------------------------------------------------------------ per kg of product oxide
    def _per_kg(self, usd_y: float) -> float:
        kg_y = self.product_t_y * 1000.0
        return usd_y / kg_y if kg_y > 0 else math.nan

    def _sum(self, category: str) -> float:
        c = self.costs
        return float(c.loc[c["category"] == category, "USD/yr"].sum()) if len(c) else 0.0

    @property
    def variable_cost_USD_per_kg(self) -> float:
        """Variable cost [USD/kg oxide]: reagents, make-up, neutralisation, disposal, energy, feed."""
        return self._per_kg(self._sum("variable"))

    @property
    def fixed_cost_USD_per_kg(self) -> float:
        """Fixed cost [USD/kg oxide]: labour, QA, administration, maintenance, tax + insurance."""
        return self._per_kg(self._sum("fixed"))

    @property
    def capital_charge_USD_per_kg(self) -> float:
        """Annualised capital [USD/kg oxide]."""
        return self._per_kg(self._sum("capital"))

    @property
    def cost_of_production_USD_per_kg(self) -> float:
        """Cost of production [USD/kg oxide] = variable + fixed + capital charge."""
        return self._per_kg(float(self.costs["USD/yr"].sum()))

    @property
    def revenue_USD_per_kg(self) -> float:
        """Revenue per kg of product oxide [USD/kg] from the priced products; NaN when no product
        has a price (a product without one is named in ``missing_cost``)."""
        return self._per_kg(float(self.revenue["USD/yr"].sum())) if len(self.revenue) else math.nan

    @property
    def margin_USD_per_kg(self) -> float:
        """Revenue - cost of production [USD/kg oxide]."""
        return self.revenue_USD_per_kg - self.cost_of_production_USD_per_kg

    @property
    def co2_kg_per_kg(self) -> float:
        """Cradle-to-gate GHG [kg CO2-eq/kg oxide] (counted contributions)."""
        v = pd.to_numeric(self.co2["kg CO2-eq/kg oxide"], errors="coerce")
        return float(v.sum())

    # ------------------------------------------------------------------ JSON
    def economics_json(self) -> dict:
        """The ``economics`` block of ``reeproc run --json``."""
        a = self.assumptions
        items = {r["item"]: r["USD/kg oxide"] for _, r in self.costs.iterrows()}
        return {
            "capex_USD": self.capex.total_USD,
            "total_plant_cost_USD": self.capex.total_plant_cost_USD,
            "purchased_equipment_USD": self.capex.purchased_USD,
            "organic_first_fill_USD": self.capex.organic_fill_USD,
            "installation_factor": self.capex.installation_factor,
            "cost_of_production_USD_per_kg": self.cost_of_production_USD_per_kg,
            "variable_cost_USD_per_kg": self.variable_cost_USD_per_kg,
            "fixed_cost_USD_per_kg": self.fixed_cost_USD_per_kg,
            "capital_charge_USD_per_kg": self.capital_charge_USD_per_kg,
            "revenue_USD_per_kg": self.revenue_USD_per_kg,
            "margin_USD_per_kg": self.margin_USD_per_kg,
            "items_USD_per_kg": items,
            "plant_feed_t_per_y": self.feed_t_y, "product_oxide_t_per_y": self.product_t_y,
            "scale": self.scale, "operating_hours_per_y": self.hours,
            "cost_year": a.cost_year, "currency": "USD",
            "discount_rate_pct": a.discount_rate_pct, "plant_life_y": a.plant_life_yr,
            "installation": a.installation,
            "basis": ("per kg of product oxide; cost of production = variable + fixed + capital "
                      "charge; items in 'missing' are not counted (the figures are then lower bounds)"),
            "prices": self._prices(),
            "missing": list(self.missing_cost),
        }

    def _prices(self) -> dict:
        from ._data import reagent_row

        out = {}
        for name in sorted(set(self.sizing_reagents)):
            r = reagent_row(name)
            out[name] = {"USD_per_kg": None if (r is None or math.isnan(r["price_USD_kg"])) else r["price_USD_kg"],
                         "basis": r["price_basis"] if r else "no row in reagents.csv"}
        return out

    sizing_reagents: list = field(default_factory=list)

    def co2_json(self) -> dict:
        """The ``co2`` block of ``reeproc run --json``."""
        contrib, sources = {}, {}
        for _, r in self.co2.iterrows():
            v = r["kg CO2-eq/kg oxide"]
            contrib[r["item"]] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            sources[r["item"]] = {"factor": None if math.isnan(r["factor"]) else r["factor"],
                                  "factor_unit": r["factor unit"], "source": r["source"]}
        return {"kg_per_kg_oxide": self.co2_kg_per_kg, "boundary": BOUNDARY, "grid": self.assumptions.grid,
                "contributions": contrib, "factors": sources, "missing": list(self.missing_co2)}


def evaluate(result, assumptions: Assumptions | None = None) -> EconomicsResult:
    """Size, cost and book the CO2 of a solved flowsheet.

    Parameters
    ----------
    result : FlowsheetResult
        A solved flowsheet (its flows set the plant design; ``plant_feed_t_y`` rescales it).
    assumptions : Assumptions, optional

    Returns
    -------
    EconomicsResult
    """
    a = (assumptions or Assumptions()).resolved()
    hours = operating_hours(a.capacity_factor)
    feed0 = feed_kg_h(result)
    if a.plant_feed_t_y is not None:
        if feed0 <= 0:
            raise ValueError("plant_feed_t_y was given but the flowsheet has no non-reagent feed to scale")
        scale = a.plant_feed_t_y * 1000.0 / hours / feed0
    else:
        scale = 1.0
    sizing = size_equipment(result, scale, excess_air_pct=a.excess_air_pct)
    capex = capital_cost(sizing, a.cost_year, a.installation)
    costs, missing, qty = operating_costs(result, sizing, capex, a, hours, scale)
    crf = capital_recovery_factor(a.discount_rate_pct, a.plant_life_yr)
    costs = pd.concat([costs, pd.DataFrame([{
        "item": "capital charge", "category": "capital", "USD/yr": crf * capex.total_USD,
        "basis": f"CRF {crf:.5f}/yr ({a.discount_rate_pct:g} %, {a.plant_life_yr:g} yr) x "
                 f"{capex.total_USD:,.0f} USD"}])], ignore_index=True)
    prod_kg_h = sum(m for _, m in product_oxide_kg_h(result).values()) * scale
    product_t_y = prod_kg_h * hours / 1000.0
    kg_y = product_t_y * 1000.0
    costs["USD/kg oxide"] = costs["USD/yr"] / kg_y if kg_y > 0 else math.nan
    rev, rev_missing = revenue(result, scale, hours)
    book, co2_missing = co2_book(result, sizing, qty, a, scale)
    book["kg CO2-eq/kg oxide"] = [None if v is None else v / prod_kg_h if prod_kg_h > 0 else math.nan
                                  for v in book["kg CO2-eq/h"]]
    missing_cost = list(sizing.missing) + list(capex.missing) + missing + rev_missing
    return EconomicsResult(assumptions=a, scale=scale, hours=hours, feed_t_y=feed0 * scale * hours / 1000.0,
                           product_t_y=product_t_y, sizing=sizing, capex=capex, costs=costs, revenue=rev,
                           co2=book, missing_cost=missing_cost, missing_co2=co2_missing,
                           sizing_reagents=list(result.reagents_kg_h()))
