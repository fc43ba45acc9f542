"""Electricity demand of equipment from sourced specific energies (``property_data/unit_electricity.csv``).

>>> round(unit_electricity_kW("agitated leach tank", volume_m3=10.0), 2)
1.89
"""
from __future__ import annotations

import functools
import math

from ..data import MissingDataError, load_table
from ._balance import check_number

__all__ = ["unit_electricity_kW", "electricity_equipment"]


@functools.cache
def _table() -> dict:
    df = load_table("unit_electricity")
    return {r.equipment: r._asdict() for r in df.itertuples(index=False)}


def electricity_equipment() -> list[str]:
    """Equipment kinds in ``unit_electricity.csv``."""
    return sorted(_table())


def unit_electricity_kW(equipment: str, **basis) -> float:
    """Electric power of one piece of equipment [kW].

    Parameters
    ----------
    equipment : str
        Row of ``unit_electricity.csv`` ('agitated leach tank', 'mixer-settler', 'milling', ...).
    **basis
        Exactly the basis quantity the row names: ``volume_m3`` [m3], ``solids_t_h`` [t/h] or
        ``liquid_m3_h`` [m3/h].

    Raises
    ------
    MissingDataError
        When the row has no sourced value (never returns 0 for missing data).
    """
    tab = _table()
    if equipment not in tab:
        raise ValueError(f"equipment {equipment!r} is not in unit_electricity.csv; known: {sorted(tab)}")
    row = tab[equipment]
    key = row["basis"]
    if set(basis) != {key}:
        raise ValueError(f"unit_electricity_kW({equipment!r}) needs exactly the basis '{key}', got "
                         f"{sorted(basis)}")
    amount = check_number(basis[key], key, 0.0, None)
    v = row["specific__kW"]
    if v is None or math.isnan(v):
        raise MissingDataError(f"property_data/unit_electricity.csv: no specific electricity for "
                               f"'{equipment}' ({row['source']})")
    return float(v) * amount
