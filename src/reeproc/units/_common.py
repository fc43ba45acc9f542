"""Shared pieces of the unit operations: result base class, solvent water, reagent streams."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pandas as pd

from ..data import load_table, require
from ..stream import Stream
from ._balance import BALANCE_RTOL, assert_closed, charge_balance, check_neutral, element_balance

__all__ = ["UnitResult", "water_mol_per_L", "with_solvent_water", "air_O2_fraction",
           "stream_table"]


@functools.cache
def _constants() -> dict:
    df = load_table("unit_constants").set_index("quantity")
    return {k: float(require(v, f"unit_constants row '{k}', column value__1", "unit_constants"))
            for k, v in df["value__1"].items()}


def water_mol_per_L() -> float:
    """Molar concentration of pure water at 25 °C [mol/L] (IAPWS-95 density / molar mass)."""
    c = _constants()
    return c["water density at 25 C [kg/L]"] * 1000.0 / c["water molar mass [g/mol]"]


def air_O2_fraction() -> float:
    """O2 mole fraction of dry air [-]; the rest is lumped as N2."""
    return _constants()["O2 mole fraction in dry air"]


def with_solvent_water(stream: Stream) -> tuple[Stream, Stream | None]:
    """Make sure an aqueous stream carries its solvent water as species ``H2O``.

    Returns
    -------
    (Stream, Stream or None)
        The stream with ``H2O`` [mol/h] and, if water had to be added, the added water as its own
        bookkeeping stream so that the unit can list it among its inlets and the element audit still
        closes (``None`` when ``H2O`` was tracked). The bookkeeping stream is a 'solid'-phase ``H2O``
        stream (liquid water without a volume of its own: the litres of the liquor already hold it).
    """
    if stream.phase != "aqueous" or "H2O" in stream.mol_h:
        return stream, None
    n_w = stream.flow_L_h * water_mol_per_L()
    mol = stream.mol_h
    mol["H2O"] = n_w
    full = Stream.from_mol_h("aqueous", mol, stream.flow_L_h, stream.T_C, stream.name)
    added = Stream.from_mol_h("solid", {"H2O": n_w}, None, stream.T_C,
                              f"{stream.name} solvent water (untracked upstream)")
    return full, added


def stream_table(streams: dict) -> pd.DataFrame:
    """Stream table: one column per named stream (flow, T, species flows with units)."""
    cols = []
    for port, s in streams.items():
        if s is None:
            continue
        ser = s.to_series()
        ser.name = port
        cols.append(ser)
    return pd.concat(cols, axis=1) if cols else pd.DataFrame()


@dataclass
class UnitResult:
    """Common part of every unit result.

    Attributes
    ----------
    inlet_streams : dict
        Every stream that entered (feeds as passed in, reagents dosed inside the unit, solvent water
        added for untracked liquors) [Stream].
    reagent_streams : list
        Streams dosed inside the unit (reagents, air, added solvent water): the flowsheet audit adds
        them to the external feeds.
    reagents_kg_h : dict
        Purchased reagent consumption by name in ``property_data/reagents.csv`` [kg/h] (the active
        substance, e.g. HCl as 100 % HCl).
    energy_kW : dict
        Duties by kind ('heat': + = heat supplied to the unit) [kW].
    balance : pandas.DataFrame
        Element balance [mol/h] (see :func:`reeproc.units._balance.element_balance`).
    charge_balance : pandas.DataFrame
        Charge balance [eq/h] (see :func:`reeproc.units._balance.charge_balance`).
    notes : list of str
        Modelling statements a reader must see (approximations used, data flagged 'estimated').
    """

    inlet_streams: dict = field(default_factory=dict)
    reagent_streams: list = field(default_factory=list)
    reagents_kg_h: dict = field(default_factory=dict)
    energy_kW: dict = field(default_factory=dict)
    balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    charge_balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list = field(default_factory=list)

    #: names of the outlet attributes (set by subclasses)
    _outlet_names: tuple = ()

    @property
    def outlets(self) -> dict:
        """Outlet streams by port name."""
        return {n: getattr(self, n) for n in self._outlet_names}

    def _close(self, unit: str) -> None:
        ins = list(self.inlet_streams.values())
        outs = [s for s in self.outlets.values() if s is not None]
        self.balance = element_balance(ins, outs)
        self.charge_balance = charge_balance(ins, outs)
        if float(self.charge_balance["relative closure [-]"].max()) > BALANCE_RTOL:
            for port, s in self.inlet_streams.items():
                check_neutral(s, port, unit)
        assert_closed(self.balance, unit, charge=self.charge_balance)

    def stream_table(self) -> pd.DataFrame:
        """Stream table of inlets and outlets."""
        d = {f"in: {k}": v for k, v in self.inlet_streams.items()}
        d.update({f"out: {k}": v for k, v in self.outlets.items()})
        return stream_table(d)

    def _summary_rows(self) -> dict:  # pragma: no cover - overridden
        return {}

    def table(self) -> pd.DataFrame:
        """Small summary table (quantity, value, unit)."""
        rows = [{"quantity": k, "value": v[0], "unit": v[1]} for k, v in self._summary_rows().items()]
        for name, kg in self.reagents_kg_h.items():
            rows.append({"quantity": f"reagent {name}", "value": kg, "unit": "kg/h"})
        for kind, kw in self.energy_kW.items():
            rows.append({"quantity": f"energy ({kind})", "value": kw, "unit": "kW"})
        if len(self.balance):
            rows.append({"quantity": "worst element closure", "value":
                         float(self.balance["relative closure [-]"].max()), "unit": "-"})
        if len(self.charge_balance):
            rows.append({"quantity": "charge closure", "value":
                         float(self.charge_balance["relative closure [-]"].max()), "unit": "-"})
        return pd.DataFrame(rows, columns=["quantity", "value", "unit"])
