"""Unit operations of the NdFeB long loop.

Each unit is a class whose constructor stores and validates parameters and whose ``run(**inlets)``
returns a result dataclass with named outlet Streams, ``reagents_kg_h`` (names as in
``property_data/reagents.csv``), ``reagent_streams`` (everything dosed inside the unit, for the
flowsheet audit), ``energy_kW``, ``balance`` (element balance, closes to 1e-10 relative), ``charge_balance``
(net charge in and out [eq/h], closes to 1e-10 of the ionic flow) and
``table()``. Ports are named by the class attributes ``inlets`` and ``outlets``.

========================  =======================  ===============================================
unit                      inlets                   outlets
========================  =======================  ===============================================
:class:`Roaster`          feed                     calcine, offgas
:class:`AcidLeach`        feed                     liquor, residue, offgas
:class:`HydroxidePrecipitator` liquor              liquor, precipitate, offgas
:class:`EffluentNeutraliser`   liquor              liquor (brine), precipitate (residue), offgas
:class:`OxalatePrecipitator`   liquor              liquor, precipitate
:class:`SolidLiquidSeparator`  solids, liquor, wash cake, cake_liquor, filtrate, wash_filtrate
:class:`Calciner`         feed, liquor             product, offgas
========================  =======================  ===============================================

Equations, parameters and sources: ``docs/units.md``.
"""
from ._balance import element_balance, charge_balance, BALANCE_RTOL
from .roasting import Roaster, RoastingResult
from .leaching import AcidLeach, LeachResult
from .precipitation import EffluentNeutraliser, HydroxidePrecipitator, HydroxideResult
from .oxalate import OxalatePrecipitator, OxalateResult, oxalate_recovery
from .separation import SolidLiquidSeparator, SeparationResult
from .calcination import Calciner, CalcinationResult, residual_mass_fraction

__all__ = [
    "element_balance", "charge_balance", "BALANCE_RTOL",
    "Roaster", "RoastingResult",
    "AcidLeach", "LeachResult",
    "HydroxidePrecipitator", "HydroxideResult", "EffluentNeutraliser",
    "OxalatePrecipitator", "OxalateResult", "oxalate_recovery",
    "SolidLiquidSeparator", "SeparationResult",
    "Calciner", "CalcinationResult", "residual_mass_fraction",
]
