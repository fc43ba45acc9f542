r"""Gas-fired heat: fuel for a process heat duty from the available heat of natural-gas combustion.

A direct-fired furnace (roaster, calciner, heater) delivers to the process the fuel's lower heating
value less the sensible heat the flue gas carries away. The flue gas cannot leave colder than the
process it heats, so with the flue at the process temperature :math:`T_p` the *available heat* is

.. math::  \eta(T_p) = 1 - \frac{\sum_i n_i\,[h_i(T_p) - h_i(25\,^\circ C)]}{\mathrm{LHV}}

per mol CH4 burned with air at :math:`(1 + x)` times the stoichiometric O2 (flue: 1 CO2, 2 H2O,
:math:`2x` O2, :math:`2(1+x)\cdot 0.7905/0.2095` N2). Enthalpies come from the NASA polynomials of
Cantera's GRI-Mech 3.0 species; the LHV is ``natural gas LHV`` of ``property_data/energy.csv``.
Wall and opening losses are not counted, so :math:`\eta` is an upper bound of the furnace efficiency
(and the fuel a lower bound).

>>> round(available_heat_fraction(900.0, 10.0), 3)
0.575
"""
from __future__ import annotations

import functools

from ..data import load_table, require
from ._data import default

__all__ = ["available_heat_fraction", "fuel_kg_h", "LHV_MJ_kg"]

_M_CH4 = 16.043  # g/mol, IUPAC atomic weights (C 12.011, H 1.008)


@functools.cache
def LHV_MJ_kg() -> float:
    """Lower heating value of natural gas (as CH4) [MJ/kg], property_data/energy.csv."""
    et = load_table("energy").set_index("quantity")
    return require(et.at["natural gas LHV", "value__MJ_kg"], "natural gas LHV, value__MJ_kg", "energy")


@functools.cache
def _gas() -> dict:
    """GRI-Mech 3.0 species thermo by name (Cantera's gri30.yaml; no kinetics needed)."""
    import cantera as ct

    return {s.name: s for s in ct.Species.list_from_file("gri30.yaml")}


def _dh_J_mol(species: str, T_C: float) -> float:
    sp = _gas()[species]
    return float(sp.thermo.h(273.15 + T_C) - sp.thermo.h(298.15)) / 1000.0  # J/kmol -> J/mol


def available_heat_fraction(T_C: float, excess_air_pct: float | None = None) -> float:
    """Fraction of the fuel LHV delivered to a process at ``T_C`` [-].

    Parameters
    ----------
    T_C : float
        Process (= flue-gas exit) temperature [°C], 25-1500.
    excess_air_pct : float, optional
        Air above stoichiometric [%], 0-300; default ``furnace_excess_air`` of
        economics_defaults.csv.
    """
    if not 25.0 <= float(T_C) <= 1500.0:
        raise ValueError(f"furnace process temperature T_C = {T_C} °C outside [25, 1500] °C")
    x = default("furnace_excess_air", "pct") if excess_air_pct is None else float(excess_air_pct)
    if not 0.0 <= x <= 300.0:
        raise ValueError(f"excess_air_pct = {x} outside [0, 300] %")
    from ..units._common import air_O2_fraction

    xO2 = air_O2_fraction()
    excess = x / 100.0
    flue = {"CO2": 1.0, "H2O": 2.0, "O2": 2.0 * excess, "N2": 2.0 * (1 + excess) * (1 - xO2) / xO2}
    sensible = sum(n * _dh_J_mol(sp, T_C) for sp, n in flue.items())  # J per mol CH4
    lhv_J_mol = LHV_MJ_kg() * _M_CH4 * 1000.0  # MJ/kg * g/mol * 1000 -> J/mol
    eta = 1.0 - sensible / lhv_J_mol
    if eta <= 0.0:
        raise ValueError(f"no heat is available from natural gas at {T_C} °C with {x} % excess air "
                         "(flue gas carries the whole LHV away)")
    return eta


def fuel_kg_h(heat_kW: float, T_C: float, excess_air_pct: float | None = None) -> float:
    """Natural gas (as CH4) burned to deliver ``heat_kW`` to a process at ``T_C`` [kg/h]."""
    eta = available_heat_fraction(T_C, excess_air_pct)
    return heat_kW / eta * 3.6 / LHV_MJ_kg()
