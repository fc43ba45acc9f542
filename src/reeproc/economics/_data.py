"""Look-ups in the economics tables of ``property_data/`` (defaults, cost indices, scale laws, grids,
prices). Every value comes with its source; a missing value raises :class:`MissingDataError`."""
from __future__ import annotations

import functools
import math

from ..data import MissingDataError, load_table

__all__ = ["default", "default_or_nan", "cepci", "equipment_row", "grid_factor", "product_price",
           "reagent_row", "SIZE_COLUMNS"]

#: Sizing-basis columns of equipment_costs.csv and the unit each stands for.
SIZE_COLUMNS = {"ref_volume__m3": "m3", "ref_power__kW": "kW", "ref_flow__m3_h": "m3/h",
                "ref_throughput__t_h": "t/h", "ref_area__m2": "m2", "ref_heat_input__kW": "kW"}


@functools.cache
def _defaults() -> dict:
    """parameter -> (value, unit, source); cleared with every property-data perturbation."""
    df = load_table("economics_defaults")
    return {r.parameter: (float(r.value__1), r.unit, r.source) for r in df.itertuples(index=False)}


def default_or_nan(name: str, unit: str) -> float:
    """A row of economics_defaults.csv in ``unit``, NaN when the value is missing.

    Raises
    ------
    KeyError
        If the parameter has no row; ValueError if the row's unit is not ``unit``.
    """
    d = _defaults()
    if name not in d:
        raise KeyError(f"economics_defaults.csv has no parameter '{name}'")
    value, have, _ = d[name]
    if have != unit:
        raise ValueError(f"economics_defaults.csv parameter '{name}' is in '{have}', "
                         f"the code expects '{unit}'")
    return value


def default(name: str, unit: str) -> float:
    """A row of economics_defaults.csv in ``unit``; raises MissingDataError when it is empty."""
    v = default_or_nan(name, unit)
    if math.isnan(v):
        raise MissingDataError(f"economics_defaults.csv parameter '{name}' [{unit}] is missing; "
                               "no default is assumed")
    return v


def default_source(name: str) -> str:
    """Source text of a row of economics_defaults.csv."""
    return str(_defaults()[name][2])


@functools.cache
def _cepci() -> dict:
    df = load_table("cost_indices")
    return {int(y): float(v) for i, y, v in zip(df["index"], df["year"], df["value__1"]) if i == "CEPCI"}


def cepci(year: int) -> float:
    """Annual CEPCI of ``year`` (cost_indices.csv) [-]."""
    table = _cepci()
    if int(year) not in table:
        raise MissingDataError(f"cost_indices.csv has no CEPCI for {year}; years available: {sorted(table)}")
    return table[int(year)]


@functools.cache
def _equipment() -> dict:
    df = load_table("equipment_costs")
    out = {}
    for _, r in df.iterrows():
        sizes = [(c, u) for c, u in SIZE_COLUMNS.items() if not math.isnan(r[c])]
        if len(sizes) != 1:
            raise ValueError(f"equipment_costs.csv item '{r['item']}' must fill exactly one ref_* column")
        col, unit = sizes[0]
        out[r["item"]] = {"item": r["item"], "base_cost_USD": float(r["base_cost__USD"]),
                          "cost_year": int(r["cost_year"]), "exponent": float(r["exponent__1"]),
                          "ref_size": float(r[col]), "size_unit": unit, "account": r["account"],
                          "source": r["source"]}
    return out


def equipment_row(item: str) -> dict:
    """Scale law of an equipment item: base cost [USD], cost year, exponent, reference size and its
    unit, source."""
    table = _equipment()
    if item not in table:
        raise KeyError(f"equipment_costs.csv has no item '{item}'; items: {list(table)}")
    return dict(table[item])


@functools.cache
def _grids() -> dict:
    df = load_table("grid_co2")
    return {r["grid"]: (float(r["co2__kg_kWh"]), f"{r['basis']}; {r['source']}") for _, r in df.iterrows()}


def grid_factor(grid: str) -> tuple[float, str]:
    """(kg CO2-eq per kWh, basis and source) of a grid in grid_co2.csv."""
    g = _grids()
    if grid not in g:
        raise ValueError(f"grid = {grid!r} is not in property_data/grid_co2.csv; allowed: {list(g)}")
    return g[grid]


@functools.cache
def _prices() -> dict:
    df = load_table("product_prices")
    out = {}
    for _, r in df.iterrows():
        if math.isnan(r["price__USD_kg"]):
            out[r["product"]] = (math.nan, r["note"])
        else:
            out[r["product"]] = (float(r["price__USD_kg"]),
                                 f"USD({r['price_year']}) per kg, {r['purity']}; {r['source']}")
    return out


def product_price(oxide: str) -> tuple[float, str]:
    """(USD per kg, basis and source) of a product oxide; NaN price when missing or unknown."""
    return _prices().get(oxide, (math.nan, f"no row for '{oxide}' in product_prices.csv"))


@functools.cache
def _reagents() -> dict:
    df = load_table("reagents")
    return {r["reagent"]: {"price_USD_kg": float(r["price__USD_kg"]), "price_basis": r["price_basis"],
                           "co2_kg_kg": float(r["co2__kg_kg"]), "co2_basis": r["co2_basis"],
                           "price_USD_kWh": float(r["price__USD_kWh"]), "co2_kg_kWh": float(r["co2__kg_kWh"]),
                           "density_kg_L": float(r["density__kg_L"]),
                           "source": r["source"], "confidence": r["confidence"]}
            for _, r in df.iterrows()}


def reagent_row(name: str) -> dict | None:
    """Price, CO2 and density columns of a reagent in reagents.csv (None when it has no row)."""
    r = _reagents().get(name)
    return dict(r) if r is not None else None
