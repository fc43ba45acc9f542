r"""Capital cost: purchased equipment from sourced scale laws, CEPCI escalation, installation
factors, SX organic first fill, and the annualised capital charge.

* Purchased cost of one item: :math:`C = C_\mathrm{ref}\,(S/S_\mathrm{ref})^n` in USD of the source
  year (``equipment_costs.csv``), escalated to the cost year by
  :math:`C_B = C_A\,\mathrm{CEPCI}_B/\mathrm{CEPCI}_A` (``cost_indices.csv``).
* Total plant cost TPC = purchased-equipment cost (PEC) x installation factor: by default the NETL
  QGESS percentages used by PrOMMiS (piping, electrical, instruments, buildings, site,
  installation, field expenses, project management, process contingency; effective factor 2.97),
  or one of Lang's factors (3.10 solids, 3.63 solid-fluid, 4.74 fluid).
* Total capital = TPC + first fill of the SX organic (extractant + diluent hold-up).
* Capital charge per year = capital recovery factor x total capital,
  :math:`\mathrm{CRF} = i(1+i)^N/((1+i)^N - 1)`.

>>> round(capital_recovery_factor(10.0, 20), 5)
0.11746
>>> round(escalate(1000.0, 2016, 2023), 1)
1473.0
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ._data import cepci, default, equipment_row, reagent_row

__all__ = ["scale_law", "escalate", "purchased_cost", "installation_factor", "INSTALLATION_ITEMS",
           "capital_recovery_factor", "Capex", "capital_cost"]

#: Installation items of the QGESS method (rows of economics_defaults.csv, % of PEC).
INSTALLATION_ITEMS = ("piping_materials_and_labor", "electrical_materials_and_labor",
                      "instrumentation", "plant_services", "process_buildings", "auxiliary_buildings",
                      "site_improvements", "equipment_installation", "field_expenses",
                      "project_management_and_construction", "process_contingency")
_LANG = {"lang-solids": "lang_factor_solids", "lang-solid-fluid": "lang_factor_solid_fluid",
         "lang-fluid": "lang_factor_fluid"}


def scale_law(base_cost: float, ref_size: float, size: float, exponent: float) -> float:
    """Cost at ``size`` from a reference cost at ``ref_size`` [same currency]: base x (size/ref)^n."""
    if not (size > 0 and ref_size > 0):
        raise ValueError(f"scale law needs size > 0 and ref_size > 0, got {size} and {ref_size}")
    return base_cost * (size / ref_size) ** exponent


def escalate(cost: float, from_year: int, to_year: int) -> float:
    """Escalate a plant cost between years with the annual CEPCI [same currency]."""
    return cost * cepci(to_year) / cepci(from_year)


def purchased_cost(item: str, size: float, year: int) -> float:
    """Purchased cost of one equipment item of ``size`` (unit of its scale law) in USD of ``year``."""
    r = equipment_row(item)
    c = scale_law(r["base_cost_USD"], r["ref_size"], size, r["exponent"])
    return escalate(c, r["cost_year"], year)


def installation_factor(method: str = "qgess") -> float:
    """TPC / PEC [-]: 'qgess' (1 + sum of the QGESS percentages) or 'lang-solids',
    'lang-solid-fluid', 'lang-fluid'."""
    if method == "qgess":
        return 1.0 + sum(default(k, "pct PEC") for k in INSTALLATION_ITEMS) / 100.0
    if method in _LANG:
        return default(_LANG[method], "1")
    raise ValueError(f"installation = {method!r}; allowed: 'qgess', {', '.join(map(repr, _LANG))}")


def capital_recovery_factor(rate_pct: float, years: float) -> float:
    """Capital recovery factor i(1+i)^N/((1+i)^N - 1) [1/yr] at ``rate_pct`` [%] over ``years``."""
    if not (years > 0):
        raise ValueError(f"plant life = {years} yr: must be > 0")
    if not (0.0 <= rate_pct < 100.0):
        raise ValueError(f"discount rate = {rate_pct} %: must lie in [0, 100) %")
    i = rate_pct / 100.0
    if i == 0:
        return 1.0 / years
    g = (1 + i) ** years
    return i * g / (g - 1)


@dataclass
class Capex:
    """Capital cost of a plant [USD of ``year``].

    Attributes
    ----------
    equipment : DataFrame
        Sizing rows with purchased cost each and in total [USD].
    purchased_USD, installation_factor, total_plant_cost_USD, organic_fill_USD, total_USD : float
    organic : DataFrame
        First fill of each SX circuit: extractant and diluent [kg] and cost [USD].
    missing : list of str
    """

    equipment: pd.DataFrame
    purchased_USD: float
    installation_factor: float
    installation: str
    total_plant_cost_USD: float
    organic: pd.DataFrame
    organic_fill_USD: float
    total_USD: float
    year: int
    missing: list = field(default_factory=list)


def _organic_fill(sizing, missing):
    rows, total = [], 0.0
    if sizing.organic is None or not len(sizing.organic):
        return pd.DataFrame(rows), 0.0
    dil = reagent_row("kerosene")
    rho_dil = dil["density_kg_L"]
    for r in sizing.organic.itertuples(index=False):
        ext, ext_kg, dil_L = r[2], r[3], r[4]
        er = reagent_row(ext) if ext else None
        p_ext = er["price_USD_kg"] if er else math.nan
        dil_kg = dil_L * rho_dil if dil_L == dil_L else math.nan
        c_ext = ext_kg * p_ext
        c_dil = dil_kg * dil["price_USD_kg"]
        for what, c in ((f"{ext or 'extractant'} first fill ({r[0]})", c_ext),
                        (f"diluent (kerosene) first fill ({r[0]})", c_dil)):
            if math.isnan(c):
                missing.append(f"{what}: price or quantity missing, not in the capital cost")
            else:
                total += c
        rows.append({"unit": r[0], "extractant": ext, "extractant [kg]": ext_kg,
                     "extractant [USD]": c_ext, "diluent [kg]": dil_kg, "diluent [USD]": c_dil})
    return pd.DataFrame(rows), total


def capital_cost(sizing, year: int = 2024, installation: str = "qgess") -> Capex:
    """Capital cost of sized equipment.

    Parameters
    ----------
    sizing : Sizing
        From :func:`reeproc.economics.sizing.size_equipment`.
    year : int
        Cost year (a CEPCI year of cost_indices.csv).
    installation : str
        'qgess' (default) or a Lang factor: 'lang-solids', 'lang-solid-fluid', 'lang-fluid'.
    """
    missing = list()
    eq = sizing.equipment.copy()
    if len(eq):
        eq["purchased each [USD]"] = [purchased_cost(i, s, year) for i, s in zip(eq["item"], eq["size each"])]
        eq["purchased [USD]"] = eq["purchased each [USD]"] * eq["count"]
        pec = float(eq["purchased [USD]"].sum())
    else:
        pec = 0.0
    f = installation_factor(installation)
    org, fill = _organic_fill(sizing, missing)
    tpc = pec * f
    return Capex(equipment=eq, purchased_USD=pec, installation_factor=f, installation=installation,
                 total_plant_cost_USD=tpc, organic=org, organic_fill_USD=fill, total_USD=tpc + fill,
                 year=int(year), missing=missing)

