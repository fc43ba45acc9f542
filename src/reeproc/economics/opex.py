"""Operating cost, revenue and cost of production.

Items (USD per year at the plant scale; per kg = / product oxide per year):

* **variable**: reagents on the stated assay basis (``reagents.csv``: per kg of active substance),
  SX extractant and diluent make-up (organic loss x aqueous leaving the circuits), effluent
  neutralisation (NaOH for the acidity leaving in aqueous effluents), residue disposal (UK landfill
  tax on the solid residues), electricity (units' own figures, else the sized agitation estimate),
  natural gas for heat duties (fuel = duty / available heat), scrap feed purchase;
* **fixed**: operating labour (Wessel equation, AACE), quality assurance and administration
  (% of labour), maintenance and property tax + insurance (% of TPC);
* **capital charge**: capital recovery factor x total capital.

``variable cost`` = variable items; ``cost of production`` = variable + fixed + capital charge. They
are reported apart and never one for the other. An item whose price is missing is *not counted*
and named (``missing``), so a cost of production with a missing item is a lower bound.

>>> round(price_per_kg_active(168.0, 36.0), 4)   # HCl: 168 USD per tonne of 36 % acid
0.4667
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from ._data import default, default_or_nan, product_price, reagent_row
from .boundary import (effluent_acidity_mol_h, feed_kg_h, kg_per_mol, product_oxide_kg_h,
                       residue_kg_h)
from .furnace import fuel_kg_h

__all__ = ["Assumptions", "price_per_kg_active", "operating_hours", "labour_hours_per_year",
           "operating_costs", "revenue", "PLANT_FEED_RANGE_T_Y"]

#: Plant sizes the scale laws are used for [t/y of magnet feed]: 1 t/d (365 t/y) and below down to
#: a pilot of 10 t/y, up to 10 kt/y. Outside, the scale laws are extrapolated too far to be used.
PLANT_FEED_RANGE_T_Y = (10.0, 10000.0)


def price_per_kg_active(price_per_t_as_sold: float, assay_wt_pct: float) -> float:
    """Price per kg of active substance [USD/kg] from a quote per tonne of the grade as sold.

    Parameters
    ----------
    price_per_t_as_sold : float
        Quote [USD per tonne of product as sold, e.g. 35-37 % hydrochloric acid].
    assay_wt_pct : float
        Mass percentage of the active substance in the grade sold [wt%], (0, 100].
    """
    if not 0.0 < assay_wt_pct <= 100.0:
        raise ValueError(f"assay_wt_pct = {assay_wt_pct}: must lie in (0, 100] wt%")
    if not price_per_t_as_sold >= 0.0:
        raise ValueError(f"price_per_t_as_sold = {price_per_t_as_sold}: must be >= 0 USD/t")
    return price_per_t_as_sold / 1000.0 / (assay_wt_pct / 100.0)


@dataclass(frozen=True)
class Assumptions:
    """Economic and CO2 assumptions (constructor only stores; defaults from economics_defaults.csv).

    Parameters
    ----------
    plant_feed_t_y : float, optional
        Magnet scrap fed per year [t/y] in [10, 10000]; None = the flowsheet's own feed rate x
        operating hours.
    grid : str
        Electricity grid of grid_co2.csv (default 'UK', the reference plant's).
    cost_year : int
        Year of the capital cost (CEPCI year).
    discount_rate_pct, plant_life_yr, capacity_factor : float, optional
        Capital charge and operating hours; defaults from economics_defaults.csv.
    installation : str
        'qgess' (default) or 'lang-solids', 'lang-solid-fluid', 'lang-fluid'.
    electricity_price_USD_kWh : float, optional
        Default: UK industrial price (economics_defaults.csv) x USD/GBP.
    feed_price_USD_kg : float, optional
        Purchase price of the scrap [USD/kg]; None = missing (feed purchase not counted, reported).
    organic_loss_L_per_m3 : float, optional
        SX organic lost per m3 of aqueous leaving a circuit [L/m3]; None = missing.
    excess_air_pct : float, optional
        Combustion excess air of gas-fired heat [%].
    """

    plant_feed_t_y: float | None = None
    grid: str = "UK"
    cost_year: int = 2024
    discount_rate_pct: float | None = None
    plant_life_yr: float | None = None
    capacity_factor: float | None = None
    installation: str = "qgess"
    electricity_price_USD_kWh: float | None = None
    feed_price_USD_kg: float | None = None
    organic_loss_L_per_m3: float | None = None
    excess_air_pct: float | None = None

    def resolved(self) -> "Assumptions":
        """A copy with every None that has a default replaced by it (checks ranges)."""
        a = self
        if a.discount_rate_pct is None:
            a = replace(a, discount_rate_pct=default("discount_rate", "pct"))
        if a.plant_life_yr is None:
            a = replace(a, plant_life_yr=default("plant_life", "yr"))
        if a.capacity_factor is None:
            a = replace(a, capacity_factor=default("capacity_factor", "1"))
        if a.electricity_price_USD_kWh is None:
            a = replace(a, electricity_price_USD_kWh=default("electricity_price_uk", "GBP/kWh")
                        * default("usd_per_gbp", "USD/GBP"))
        if a.organic_loss_L_per_m3 is None:
            v = default_or_nan("organic_loss_rate", "L per m3 aqueous")
            a = replace(a, organic_loss_L_per_m3=None if math.isnan(v) else v)
        lo, hi = PLANT_FEED_RANGE_T_Y
        if a.plant_feed_t_y is not None and not lo <= a.plant_feed_t_y <= hi:
            raise ValueError(f"plant_feed_t_y = {a.plant_feed_t_y} t/y of magnet feed is outside "
                             f"[{lo:g}, {hi:g}] t/y: the equipment scale laws would be extrapolated "
                             "beyond any plant they were drawn from")
        if not 0.0 < a.capacity_factor <= 1.0:
            raise ValueError(f"capacity_factor = {a.capacity_factor}: must lie in (0, 1]")
        for nm in ("electricity_price_USD_kWh", "feed_price_USD_kg", "organic_loss_L_per_m3"):
            v = getattr(a, nm)
            if v is not None and not (v >= 0 and math.isfinite(v)):
                raise ValueError(f"{nm} = {v}: must be a finite number >= 0")
        return a


def operating_hours(capacity_factor: float) -> float:
    """Operating hours per year [h/yr] = 8760 x capacity factor."""
    return 8760.0 * capacity_factor


def labour_hours_per_year(steps: int, product_t_d: float, days_per_year: float) -> float:
    """Operating labour [h/yr] by the Wessel equation (AACE): workhours per tonne of product =
    t x steps / capacity^0.76, capacity in t/d of product."""
    if product_t_d <= 0:
        return 0.0
    t = default("wessel_t", "h")
    n = default("wessel_exponent", "1")
    return t * steps / product_t_d ** n * product_t_d * days_per_year


def _item(rows, name, category, usd_y, basis):
    rows.append({"item": name, "category": category, "USD/yr": usd_y, "basis": basis})


def operating_costs(result, sizing, capex, a: Assumptions, hours: float, scale: float):
    """Operating-cost items [USD/yr] of a plant; returns (DataFrame, missing, quantities dict)."""
    rows, missing, qty = [], [], {}
    # reagents (units' dosing and reagent feeds), per kg of active substance
    for name, kg in sorted(result.reagents_kg_h().items()):
        r = reagent_row(name)
        p = r["price_USD_kg"] if r else math.nan
        if math.isnan(p):
            missing.append(f"{name}: price missing (reagents.csv); {kg * scale:.4g} kg/h not costed")
            continue
        _item(rows, f"reagent: {name}", "variable", kg * scale * hours * p,
              f"{kg * scale:.4g} kg/h x {p:g} USD/kg ({r['price_basis']})")
    # SX organic make-up
    qty["organic make-up"] = _organic_makeup(rows, missing, sizing, a, hours)
    # effluent neutralisation with NaOH
    acid = effluent_acidity_mol_h(result) * scale
    naoh_kg_h = acid * kg_per_mol("NaOH")
    qty["neutralisation NaOH [kg/h]"] = naoh_kg_h
    r = reagent_row("NaOH")
    _item(rows, "effluent neutralisation (NaOH)", "variable", naoh_kg_h * hours * r["price_USD_kg"],
          f"{acid:.4g} mol/h acidity (H+, HSO4-, oxalic) x 40.00 g/mol NaOH x {r['price_USD_kg']:g} USD/kg")
    # residue disposal: UK landfill tax
    res_kg_h = residue_kg_h(result) * scale
    qty["residue [kg/h]"] = res_kg_h
    tax = default("landfill_tax", "GBP/t") * default("usd_per_gbp", "USD/GBP")
    _item(rows, "residue disposal (landfill tax)", "variable", res_kg_h / 1000.0 * hours * tax,
          f"{res_kg_h:.4g} kg/h x {tax:.2f} USD/t (standard rate; gate fee and haulage not sourced)")
    if res_kg_h > 0:
        missing.append("residue landfill gate fee and haulage: not sourced, not counted")
    # electricity
    kw = float(sizing.electricity["kW"].sum()) if len(sizing.electricity) else 0.0
    qty["electricity [kW]"] = kw
    _item(rows, "electricity", "variable", kw * hours * a.electricity_price_USD_kWh,
          f"{kw:.4g} kW x {a.electricity_price_USD_kWh:.4g} USD/kWh")
    # natural gas for heat
    gas = _gas_kg_h(sizing, a)
    qty["natural gas [kg/h]"] = gas
    ng = reagent_row("natural gas")
    _item(rows, "natural gas (process heat)", "variable", gas * hours * ng["price_USD_kg"],
          f"{gas:.4g} kg/h CH4 x {ng['price_USD_kg']:g} USD/kg (U.S. EIA price: UK gas price not retrieved)")
    # scrap feed
    feed = feed_kg_h(result) * scale
    qty["feed [kg/h]"] = feed
    if a.feed_price_USD_kg is None:
        missing.append(f"scrap feed purchase: no sourced magnet-scrap price; {feed:.4g} kg/h not costed "
                       "(give Assumptions(feed_price_USD_kg=...) / --feed-price)")
    else:
        _item(rows, "scrap feed purchase", "variable", feed * hours * a.feed_price_USD_kg,
              f"{feed:.4g} kg/h x {a.feed_price_USD_kg:g} USD/kg (user value)")
    # fixed costs
    prod_kg_h = sum(m for _, m in product_oxide_kg_h(result).values()) * scale
    days = hours / 24.0
    lab_h = labour_hours_per_year(sizing.process_steps, prod_kg_h * 24.0 / 1000.0, days)
    rate = default("operator_rate", "USD/h") * (1 + default("labour_burden", "pct") / 100.0)
    labour = lab_h * rate
    qty["operating labour [h/yr]"] = lab_h
    _item(rows, "operating labour", "fixed", labour,
          f"Wessel: {sizing.process_steps} steps, {lab_h:.0f} h/yr x {rate:.2f} USD/h (incl. burden; U.S. rate)")
    for key, label in (("quality_assurance", "quality assurance"), ("admin_and_support", "administration and support")):
        f = default(key, "pct operating labour") / 100.0
        _item(rows, label, "fixed", f * labour, f"{100 * f:g} % of operating labour")
    for key, label in (("maintenance", "maintenance"), ("property_taxes_and_insurance", "property taxes and insurance")):
        f = default(key, "pct TPC per yr") / 100.0
        _item(rows, label, "fixed", f * capex.total_plant_cost_USD, f"{100 * f:g} % of TPC per year")
    return pd.DataFrame(rows, columns=["item", "category", "USD/yr", "basis"]), missing, qty


def _gas_kg_h(sizing, a) -> float:
    tot = 0.0
    for r in sizing.heat.itertuples(index=False):
        if r[1] > 0:
            tot += fuel_kg_h(r[1], r[2], a.excess_air_pct)
    return tot


def _organic_makeup(rows, missing, sizing, a, hours) -> dict:
    out = {}
    if sizing.organic is None or not len(sizing.organic):
        return out
    if a.organic_loss_L_per_m3 is None:
        missing.append("SX extractant and diluent make-up: organic loss rate missing "
                       "(economics_defaults.csv organic_loss_rate); not counted")
        return out
    rho_dil = reagent_row("kerosene")["density_kg_L"]
    for r in sizing.organic.itertuples(index=False):
        unit, hold_L, ext, ext_kg, dil_L, aq_L_h = r
        lost_L_h = a.organic_loss_L_per_m3 * aq_L_h / 1000.0
        for name, kg_h in ((ext, lost_L_h * ext_kg / hold_L), ("kerosene", lost_L_h * dil_L / hold_L * rho_dil)):
            out[name] = out.get(name, 0.0) + kg_h
            rr = reagent_row(name)
            p = rr["price_USD_kg"] if rr else math.nan
            if math.isnan(p):
                missing.append(f"{name} make-up ({unit}): price missing; {kg_h:.4g} kg/h not costed")
            else:
                _item(rows, f"make-up: {name} ({unit})", "variable", kg_h * hours * p,
                      f"{a.organic_loss_L_per_m3:g} L/m3 x {aq_L_h:.4g} L/h aqueous; {kg_h:.4g} kg/h x {p:g} USD/kg")
    return out


def revenue(result, scale: float, hours: float):
    """Revenue items [USD/yr] by product, and what is not counted: products without a price and
    products below the purity target the prices are quoted for (99.5 %)."""
    from ..flowsheet.report import PURITY_TARGET

    rows, missing = [], []
    purity = {n: result.streams[p.stream].purity(list(p.target)) for n, p in result.flowsheet.products.items()}
    for name, (oxide, kg_h) in product_oxide_kg_h(result).items():
        p, basis = product_price(oxide)
        if math.isnan(p):
            missing.append(f"product '{name}' ({oxide}): price missing ({basis}); revenue not counted")
            continue
        if not purity[name] >= PURITY_TARGET:
            missing.append(f"product '{name}' ({oxide}): purity {100 * purity[name]:.2f} % is below the "
                           f"{100 * PURITY_TARGET:.1f} % its price is quoted for; revenue not counted")
            continue
        rows.append({"product": name, "oxide": oxide, "kg/h": kg_h * scale, "USD/kg": p,
                     "USD/yr": kg_h * scale * hours * p, "basis": basis})
    return pd.DataFrame(rows, columns=["product", "oxide", "kg/h", "USD/kg", "USD/yr", "basis"]), missing

