"""Economics and CO2 of a solved flowsheet: equipment sizing, capital cost, operating cost, cost of
production, revenue and a cradle-to-gate CO2 book with its boundary written out.

>>> from reeproc.economics import Assumptions, capital_recovery_factor
>>> round(capital_recovery_factor(7.5, 20), 5)
0.09809

See docs/economics.md for the method, the data and the comparison with the Belfast plant.
"""
from .capex import Capex, capital_cost, capital_recovery_factor, escalate, installation_factor, purchased_cost, scale_law
from .co2 import BOUNDARY, co2_book
from .evaluate import EconomicsResult, evaluate
from .furnace import available_heat_fraction, fuel_kg_h
from .opex import PLANT_FEED_RANGE_T_Y, Assumptions, labour_hours_per_year, price_per_kg_active
from .sizing import ESTIMATED_LABEL, Sizing, size_equipment

__all__ = ["Assumptions", "evaluate", "EconomicsResult", "size_equipment", "Sizing", "ESTIMATED_LABEL",
           "capital_cost", "Capex", "capital_recovery_factor", "escalate", "installation_factor",
           "purchased_cost", "scale_law", "co2_book", "BOUNDARY", "available_heat_fraction", "fuel_kg_h",
           "price_per_kg_active", "labour_hours_per_year", "PLANT_FEED_RANGE_T_Y"]
