"""Cradle-to-gate greenhouse-gas book of a plant, with its boundary written out (:data:`BOUNDARY`).

Every contribution is a flow times a factor with a source: purchased reagents (reagents.csv,
per kg of active substance), SX organic make-up, effluent-neutralisation NaOH, electricity (grid
factor of grid_co2.csv), natural gas for process heat (combustion + upstream; fuel from the
available heat of furnace.py), and carbon that leaves the plant as CO2: off-gases (oxalate carbon
burnt in the calciners, feed carbon in the roaster) and the carbon of aqueous effluents (excess
oxalic acid) once treated. A factor that is missing makes its contribution ``None``: listed, named
in ``missing``, and not added to the total.
"""
from __future__ import annotations

import math

import pandas as pd

from ._data import default, grid_factor, reagent_row
from .boundary import carbon_mol_h

__all__ = ["BOUNDARY", "co2_book"]

BOUNDARY = (
    "Cradle-to-gate, per kg of product oxide leaving the plant gate. Included: production of every "
    "purchased reagent (cradle-to-gate factors of property_data/reagents.csv, per kg of active "
    "substance) including SX extractant and diluent make-up when an organic loss rate is given and "
    "the NaOH that neutralises the acidity of the aqueous effluents; electricity (grid factor of the "
    "selected grid, property_data/grid_co2.csv; the UK default is a generation factor without "
    "transmission losses); natural gas for process heat (combustion CO2 + upstream GREET factor; fuel "
    "= heat duty / available heat of the flue gas at the process temperature, an upper-bound "
    "furnace efficiency); direct process CO2 (all carbon leaving in off-gases); carbon of the aqueous "
    "effluents (excess oxalate) counted as CO2 after treatment. Excluded: the scrap feed (recycled "
    "material enters burden-free, cut-off allocation), collection and transport of feed, reagents, "
    "products and residues, landfill emissions, the energy of effluent treatment and the sludge it "
    "makes, capital goods "
    "(plant construction), credits for recoverable heat (negative duties) and for by-products.")

_M_CO2 = 44.0095  # g/mol (IUPAC atomic weights)


def _add(rows, missing, item, amount, unit, factor, factor_unit, source):
    if math.isnan(factor):
        missing.append(f"{item}: CO2 factor missing; {amount:.4g} {unit} not counted")
        kg = None
    else:
        kg = amount * factor
    rows.append({"item": item, "amount": amount, "amount unit": unit, "factor": factor,
                 "factor unit": factor_unit, "kg CO2-eq/h": kg, "source": source})


def co2_book(result, sizing, qty: dict, a, scale: float):
    """GHG contributions [kg CO2-eq/h at the plant scale] and what is missing.

    Parameters
    ----------
    result : FlowsheetResult
    sizing : Sizing
    qty : dict
        Quantities from :func:`reeproc.economics.opex.operating_costs` (electricity, gas, NaOH,
        organic make-up).
    a : Assumptions
        Resolved assumptions (grid).
    scale : float
        Plant size / flowsheet size.

    Returns
    -------
    (DataFrame, list of str)
    """
    rows, missing = [], []
    for name, kg in sorted(result.reagents_kg_h().items()):
        r = reagent_row(name)
        f = r["co2_kg_kg"] if r else math.nan
        src = f"{r['co2_basis']}" if r and not math.isnan(f) else "no factor in reagents.csv"
        _add(rows, missing, name, kg * scale, "kg/h", f, "kg CO2-eq/kg", src)
    for name, kg_h in (qty.get("organic make-up") or {}).items():
        r = reagent_row(name)
        f = r["co2_kg_kg"] if r else math.nan
        _add(rows, missing, f"make-up: {name}", kg_h, "kg/h", f, "kg CO2-eq/kg",
             r["co2_basis"] if r and not math.isnan(f) else "no factor in reagents.csv")
    r = reagent_row("NaOH")
    _add(rows, missing, "effluent neutralisation (NaOH)", qty["neutralisation NaOH [kg/h]"], "kg/h",
         r["co2_kg_kg"], "kg CO2-eq/kg", r["co2_basis"])
    gf, gsrc = grid_factor(a.grid)
    _add(rows, missing, "electricity", qty["electricity [kW]"], "kW", gf,
         "kg CO2-eq/kWh", f"grid {a.grid}: {gsrc}")
    ng = reagent_row("natural gas")
    up = default("natural_gas_upstream_co2", "kg CO2-eq/kg CH4")
    _add(rows, missing, "natural gas (process heat)", qty["natural gas [kg/h]"], "kg/h",
         ng["co2_kg_kg"] + up, "kg CO2-eq/kg CH4",
         f"combustion {ng['co2_kg_kg']:g} (stoichiometric) + upstream {up:g} (GREET) kg/kg")
    c_gas = carbon_mol_h(result, "gas") * scale
    _add(rows, missing, "process CO2 (carbon in off-gases)", c_gas, "mol C/h", _M_CO2 / 1000.0,
         "kg CO2/mol C", "element balance: every carbon atom leaving in off-gases as CO2")
    c_aq = carbon_mol_h(result, "aqueous") * scale
    _add(rows, missing, "effluent carbon (excess oxalate) as CO2", c_aq, "mol C/h", _M_CO2 / 1000.0,
         "kg CO2/mol C", "element balance: carbon of aqueous effluents, mineralised in treatment")
    return pd.DataFrame(rows), missing

