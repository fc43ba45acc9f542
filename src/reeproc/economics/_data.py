"""Look-ups in the economics tables of ``property_data/`` (defaults, cost indices, scale laws, grids,
prices). Every value comes with its source; a missing value raises :class:`MissingDataError`."""
from __future__ import annotations

import math

from ..data import MissingDataError, load_table

__all__ = ["default", "default_or_nan", "cepci", "equipment_row", "grid_factor", "product_price",
           "reagent_row", "SIZE_COLUMNS"]

#: Sizing-basis columns of equipment_costs.csv and the unit each stands for.
SIZE_COLUMNS = {"ref_volume__m3": "m3", "ref_power__kW": "kW", "ref_flow__m3_h": "m3/h",
                "ref_throughput__t_h": "t/h", "ref_area__m2": "m2", "ref_heat_input__kW": "kW"}


def _defaults():
    return load_table("economics_defaults").set_index("parameter")


def default_or_nan(name: str, unit: str) -> float:
    """A row of economics_defaults.csv in ``unit``, NaN when the value is missing.

    Raises
    ------
    KeyError
        If the parameter has no row; ValueError if the row's unit is not ``unit``.
    """
    df = _defaults()
    if name not in df.index:
        raise KeyError(f"economics_defaults.csv has no parameter '{name}'")
    row = df.loc[name]
    if row["unit"] != unit:
        raise ValueError(f"economics_defaults.csv parameter '{name}' is in '{row['unit']}', "
                         f"the code expects '{unit}'")
    return float(row["value__1"])


def default(name: str, unit: str) -> float:
    """A row of economics_defaults.csv in ``unit``; raises MissingDataError when it is empty."""
    v = default_or_nan(name, unit)
    if math.isnan(v):
        raise MissingDataError(f"economics_defaults.csv parameter '{name}' [{unit}] is missing; "
                               "no default is assumed")
    return v


def default_source(name: str) -> str:
    """Source text of a row of economics_defaults.csv."""
    return str(_defaults().loc[name, "source"])


def cepci(year: int) -> float:
    """Annual CEPCI of ``year`` (cost_indices.csv) [-]."""
    df = load_table("cost_indices")
    sel = df[(df["index"] == "CEPCI") & (df["year"].astype(int) == int(year))]
    if sel.empty:
        have = sorted(df.loc[df["index"] == "CEPCI", "year"].astype(int))
        raise MissingDataError(f"cost_indices.csv has no CEPCI for {year}; years available: {have}")
    return float(sel["value__1"].iloc[0])


def equipment_row(item: str) -> dict:
    """Scale law of an equipment item: base cost [USD], cost year, exponent, reference size and its
    unit, source."""
    df = load_table("equipment_costs").set_index("item")
    if item not in df.index:
        raise KeyError(f"equipment_costs.csv has no item '{item}'; items: {list(df.index)}")
    r = df.loc[item]
    sizes = [(c, u) for c, u in SIZE_COLUMNS.items() if not math.isnan(r[c])]
    if len(sizes) != 1:
        raise ValueError(f"equipment_costs.csv item '{item}' must fill exactly one ref_* column")
    col, unit = sizes[0]
    return {"item": item, "base_cost_USD": float(r["base_cost__USD"]), "cost_year": int(r["cost_year"]),
            "exponent": float(r["exponent__1"]), "ref_size": float(r[col]), "size_unit": unit,
            "account": r["account"], "source": r["source"]}


def grid_factor(grid: str) -> tuple[float, str]:
    """(kg CO2-eq per kWh, basis and source) of a grid in grid_co2.csv."""
    df = load_table("grid_co2").set_index("grid")
    if grid not in df.index:
        raise ValueError(f"grid = {grid!r} is not in property_data/grid_co2.csv; allowed: {list(df.index)}")
    r = df.loc[grid]
    return float(r["co2__kg_kWh"]), f"{r['basis']}; {r['source']}"


def product_price(oxide: str) -> tuple[float, str]:
    """(USD per kg, basis and source) of a product oxide; NaN price when missing or unknown."""
    df = load_table("product_prices").set_index("product")
    if oxide not in df.index:
        return math.nan, f"no row for '{oxide}' in product_prices.csv"
    r = df.loc[oxide]
    if math.isnan(r["price__USD_kg"]):
        return math.nan, r["note"]
    return float(r["price__USD_kg"]), f"USD({r['price_year']}) per kg, {r['purity']}; {r['source']}"


def reagent_row(name: str) -> dict | None:
    """Price and CO2 columns of a reagent in reagents.csv (None when the reagent has no row)."""
    df = load_table("reagents").set_index("reagent")
    if name not in df.index:
        return None
    r = df.loc[name]
    return {"price_USD_kg": float(r["price__USD_kg"]), "price_basis": r["price_basis"],
            "co2_kg_kg": float(r["co2__kg_kg"]), "co2_basis": r["co2_basis"],
            "price_USD_kWh": float(r["price__USD_kWh"]), "co2_kg_kWh": float(r["co2__kg_kWh"]),
            "source": r["source"], "confidence": r["confidence"]}
