r"""Oxidative roasting of NdFeB magnet feed in air.

Every element of the (metallic) feed leaves as the oxide it forms in air at the roasting
temperature (``property_data/roasting_products.csv``): RE2O3 (Nd, Dy, La, ...), Pr6O11, Tb4O7, CeO2,
Fe2O3, B2O3, Co3O4 (< 900 °C) or CoO, NiO, CuO, Al2O3, ...; carbon leaves as CO2 and hydrogen as
H2O. Optionally a fraction :math:`f` of Nd, Pr and Dy forms the perovskite REFeO3 (consuming iron),
which sources report above 500 °C but do not quantify. A fraction :math:`1-X` of the feed
(``conversion`` X) passes unoxidised.

O2 demand and air:

.. math::  n_{O_2} = \tfrac12\left(\sum_{p} o_p\,n_p - n_{O,feed}\right), \qquad
           n_{air} = \lambda\,n_{O_2} / x_{O_2}

with :math:`o_p` the O atoms in product *p*. Mass gain :math:`\Delta m / m_{feed}`.
Reaction heat at 25 °C, :math:`\Delta H_r = \sum \nu\,\Delta_f H^\circ`, is reported when every
species has an enthalpy of formation in ``thermo_solids.csv`` (metals in their standard state are
0; Nd2Fe14B is not curated, so alloy feed gives no number and says so).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from ..data import MissingDataError, load_table
from ..species import parse_formula, rare_earths
from ..stream import Stream
from ._balance import check_number, check_stream
from ._common import UnitResult, air_O2_fraction

__all__ = ["Roaster", "RoastingResult"]

_FERRITES = {"Nd": "NdFeO3", "Pr": "PrFeO3", "Dy": "DyFeO3"}


@functools.cache
def _products() -> list:
    df = load_table("roasting_products")
    return [(r.element, r.product, float(r.T_min__C), float(r.T_max__C))
            for r in df.itertuples(index=False)]


def _product_of(el: str, T_C: float) -> str:
    special = {e for e, *_ in _products()}
    key = el if el in special else ("RE" if el in rare_earths() else el)
    for e, prod, lo, hi in _products():
        if e == key and lo <= T_C < hi:
            return f"{el}2O3" if prod == "RE2O3" else prod
    raise MissingDataError(
        f"property_data/roasting_products.csv names no roasting product for element {el} at "
        f"{T_C} °C; add a sourced row")


@dataclass
class RoastingResult(UnitResult):
    """Result of :class:`Roaster`.

    Attributes
    ----------
    calcine : Stream
        Roasted solid [mol/h].
    offgas : Stream
        Off-gas: N2, excess O2, CO2, H2O [mol/h].
    O2_demand_mol_h : float
        Stoichiometric O2 consumed [mol/h].
    mass_gain : float
        (calcine − feed) / feed [kg/kg].
    heat_of_reaction_kW : float
        Reaction enthalpy at 25 °C [kW] (negative = exothermic); NaN when data are missing.
    """

    calcine: Stream = None
    offgas: Stream = None
    O2_demand_mol_h: float = 0.0
    mass_gain: float = 0.0
    heat_of_reaction_kW: float = float("nan")
    _outlet_names: tuple = ("calcine", "offgas")

    def _summary_rows(self):
        return {"O2 demand [mol/h]": (self.O2_demand_mol_h, "mol/h"),
                "O2 demand [kg/h]": (self.O2_demand_mol_h * 31.998 / 1000, "kg/h"),
                "mass gain [%]": (100 * self.mass_gain, "%"),
                "calcine [kg/h]": (self.calcine.total_kg_h, "kg/h"),
                "heat of reaction at 25 °C [kW]": (self.heat_of_reaction_kW, "kW")}


class Roaster:
    """Oxidative roaster (element-conserving conversion to oxides in air).

    Parameters
    ----------
    T_C : float
        Roasting temperature [°C], 300–1200.
    air_ratio : float
        Air as a multiple λ of the stoichiometric O2 demand [-], 1–20 (default 1.5, a design choice).
    ferrite_fraction : float
        Fraction of Nd, Pr and Dy that forms REFeO3 instead of the RE oxide [-], 0–1 (default 0;
        sources report NdFeO3 above 500 °C without quantifying it).
    conversion : float
        Fraction of the feed oxidised [-], 0–1 (default 1: complete oxidation).
    """

    inlets = ("feed",)
    outlets = ("calcine", "offgas")

    def __init__(self, T_C: float = 800.0, air_ratio: float = 1.5, ferrite_fraction: float = 0.0,
                 conversion: float = 1.0):
        self.T_C = check_number(T_C, "Roaster T_C", 300.0, 1200.0, unit="°C")
        self.air_ratio = check_number(air_ratio, "Roaster air_ratio", 1.0, 20.0, unit="-")
        self.ferrite_fraction = check_number(ferrite_fraction, "Roaster ferrite_fraction", 0.0, 1.0)
        self.conversion = check_number(conversion, "Roaster conversion", 0.0, 1.0)

    def run(self, feed: Stream) -> RoastingResult:
        """Roast a solid magnet feed [mol/h] (alloy, metals, partly oxidised material)."""
        check_stream(feed, "feed", "solid", "Roaster")
        X = self.conversion
        b = {el: X * n for el, n in feed.element_mol_h().items()}
        if not any(v > 0 for v in b.values()):
            raise ValueError("Roaster: the feed is empty")
        notes = []
        products: dict[str, float] = {}
        gas: dict[str, float] = {}
        fe_left = b.get("Fe", 0.0)
        for el, n in sorted(b.items()):
            if n <= 0 or el in ("O", "Fe", "N"):
                continue
            if el == "C":
                gas["CO2"] = gas.get("CO2", 0.0) + n
                continue
            if el == "H":
                gas["H2O"] = gas.get("H2O", 0.0) + n / 2
                continue
            n_ox = n
            if el in _FERRITES and self.ferrite_fraction > 0:
                nf = min(self.ferrite_fraction * n, fe_left)
                if nf < self.ferrite_fraction * n:
                    notes.append(f"not enough Fe for ferrite_fraction {self.ferrite_fraction} of {el}")
                products[_FERRITES[el]] = products.get(_FERRITES[el], 0.0) + nf
                fe_left -= nf
                n_ox -= nf
            prod = _product_of(el, self.T_C)
            k = parse_formula(prod)[el]
            products[prod] = products.get(prod, 0.0) + n_ox / k
        if b.get("N", 0.0) > 0:
            raise ValueError("Roaster: nitrogen-bearing feed is not supported (no roasting product)")
        if fe_left > 0:
            products["Fe2O3"] = products.get("Fe2O3", 0.0) + fe_left / 2
        o_prod = sum(n * parse_formula(p).get("O", 0.0) for p, n in products.items()) \
            + sum(n * parse_formula(g).get("O", 0.0) for g, n in gas.items())
        demand = 0.5 * (o_prod - b.get("O", 0.0))
        if demand < 0:
            raise ValueError("Roaster: the feed holds more oxygen than its oxides need "
                             "(is it already roasted?)")
        xO2 = air_O2_fraction()
        o2_in = self.air_ratio * demand
        air = o2_in / xO2
        air_stream = Stream.gas({"O2": o2_in, "N2": air * (1 - xO2)}, T_C=25.0, name="roaster air")
        gas["O2"] = (self.air_ratio - 1.0) * demand
        gas["N2"] = air * (1 - xO2)
        solid = dict(products)
        if X < 1.0:
            for sp, n in feed.mol_h.items():
                solid[sp] = solid.get(sp, 0.0) + (1.0 - X) * n
        calcine = Stream.from_mol_h("solid", solid, None, self.T_C, "roasted magnet")
        offgas = Stream.gas({k: v for k, v in gas.items()}, self.T_C, "roaster off-gas")
        mass_gain = (calcine.total_kg_h - feed.total_kg_h) / feed.total_kg_h
        # reaction heat at 25 C
        dH = float("nan")
        try:
            from .calcination import _need
            h = 0.0
            for sp, n in products.items():
                h += n * _need(sp, "dHf")
            for g, n in gas.items():
                h += n * {"CO2": -393.51, "H2O": -241.83, "O2": 0.0, "N2": 0.0}[g] if g in ("CO2", "H2O") else 0.0
            for sp, n in feed.mol_h.items():
                f = parse_formula(sp)
                if len(f) == 1 and sp in f:  # element in its standard state
                    continue
                h -= X * n * _need(sp, "dHf")
            dH = h / 3600.0
        except MissingDataError as exc:
            notes.append(f"heat of reaction not computed: {exc}")
        if self.T_C > 500 and self.ferrite_fraction == 0 and any(el in b for el in _FERRITES):
            notes.append("ferrite_fraction = 0: all RE reported as oxides, although sources report "
                         "NdFeO3 formation in air above 500 °C (extent not quantified)")
        res = RoastingResult(
            calcine=calcine, offgas=offgas, O2_demand_mol_h=demand, mass_gain=mass_gain,
            heat_of_reaction_kW=dH, inlet_streams={"feed": feed, "air": air_stream},
            reagent_streams=[air_stream], reagents_kg_h={"air": air_stream.total_kg_h},
            notes=notes)
        res._close("Roaster")
        return res
