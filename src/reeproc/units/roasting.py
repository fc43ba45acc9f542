r"""Oxidative roasting of NdFeB magnet feed in air.

Every element of the (metallic) feed leaves as the phase it forms in air at the roasting
temperature (``property_data/roasting_products.csv``): rare earths as their orthoferrite REFeO3
above 500 °C (the literature default: 'when roasting is carried out in air at temperatures above
500 °C, neodymium is converted to NdFeO3, and not to Nd2O3', J. Sustain. Metall. 2019), else as
RE2O3 / Pr6O11 / Tb4O7 (Ce always CeO2); boron first binds rare earths as REBO3 (Jiang et al. 2020 report NdBO3
beside NdFeO3 and Fe2O3 after roasting at 800 °C); Fe2O3 (what the ferrites leave), B2O3 (boron the
rare earths do not take), Co3O4 (< 900 °C)
or CoO, NiO, CuO, Al2O3, Ga2O3, ...; carbon leaves as CO2 and hydrogen as H2O. A fraction
:math:`1-X` of the feed (``conversion`` X) passes unoxidised.

O2 demand and air:

.. math::  n_{O_2} = \tfrac12\left(\sum_{p} o_p\,n_p - n_{O,feed}\right), \qquad
           n_{air} = \lambda\,n_{O_2} / x_{O_2}

with :math:`o_p` the O atoms in product *p*. Mass gain :math:`\Delta m / m_{feed}`.

Energy (:mod:`reeproc.units.thermo`): the furnace duty is
:math:`Q = H(\text{calcine}, T) + H(\text{off-gas}, T) - H(\text{feed}, 25\,°C) - H(\text{air}, 25\,°C)`
(negative: the roast is exothermic, heat to be removed); the calcine is then cooled to
``discharge_T_C`` in a cooler whose duty (negative, heat rejected) is reported separately. The
reaction heat at 25 °C is reported too.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from ..data import MissingDataError, load_table
from ..species import parse_formula, rare_earths
from ..stream import Stream
from ._balance import check_number, check_stream
from ._common import UnitResult, air_O2_fraction
from .thermo import energy_balance

__all__ = ["Roaster", "RoastingResult", "default_ferrite_fraction"]


@functools.cache
def _products() -> list:
    df = load_table("roasting_products")
    return [(r.element, r.product, float(r.T_min__C), float(r.T_max__C))
            for r in df.itertuples(index=False)]


def _ferrite_of(el: str) -> str | None:
    """Orthoferrite species of a rare earth (None for Ce, which stays CeO2 in air)."""
    if el not in rare_earths() or el == "Ce":
        return None
    return f"{el}FeO3"


def _borate_window(T_C: float) -> bool:
    return any(prod == "REBO3" and lo <= T_C < hi for e, prod, lo, hi in _products())


def default_ferrite_fraction(T_C: float) -> float:
    """Literature default fraction of the rare earths roasted to REFeO3 at ``T_C`` [-]
    (rows 'REFeO3' of ``roasting_products.csv``): 1 from 500 °C, 0 below."""
    for e, prod, lo, hi in _products():
        if prod == "REFeO3" and lo <= T_C < hi:
            return 1.0
    return 0.0


def _product_of(el: str, T_C: float) -> str:
    special = {e for e, *_ in _products()}
    key = el if el in special else ("RE" if el in rare_earths() else el)
    for e, prod, lo, hi in _products():
        if prod in ("REFeO3", "REBO3"):
            continue
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
    ferrite_fraction : float
        Fraction of the ferrite-forming rare earths (all but Ce) leaving as REFeO3 [-].
    """

    calcine: Stream = None
    offgas: Stream = None
    O2_demand_mol_h: float = 0.0
    mass_gain: float = 0.0
    heat_of_reaction_kW: float = float("nan")
    ferrite_fraction: float = 0.0
    _outlet_names: tuple = ("calcine", "offgas")

    def _summary_rows(self):
        return {"O2 demand [mol/h]": (self.O2_demand_mol_h, "mol/h"),
                "O2 demand [kg/h]": (self.O2_demand_mol_h * 31.998 / 1000, "kg/h"),
                "mass gain [%]": (100 * self.mass_gain, "%"),
                "calcine [kg/h]": (self.calcine.total_kg_h, "kg/h"),
                "heat of reaction at 25 °C [kW]": (self.heat_of_reaction_kW, "kW"),
                "RE as orthoferrite REFeO3 [%]": (100 * self.ferrite_fraction, "%")}


class Roaster:
    """Oxidative roaster (element-conserving conversion to oxides in air).

    Parameters
    ----------
    T_C : float
        Roasting temperature [°C], 300–1200.
    air_ratio : float
        Air as a multiple λ of the stoichiometric O2 demand [-], 1–20 (default 1.5, a design choice).
    ferrite_fraction : float, optional
        Fraction of each rare earth (except Ce) that forms REFeO3 instead of its oxide [-], 0–1;
        default from ``roasting_products.csv``: 1 at 500 °C and above (J. Sustain. Metall. 2019),
        0 below. Limited by the iron available (noted).
    conversion : float
        Fraction of the feed oxidised [-], 0–1 (default 1: complete oxidation).
    discharge_T_C : float
        Temperature the calcine is cooled to before it leaves [°C], 5–T_C (default 25).
    """

    inlets = ("feed",)
    outlets = ("calcine", "offgas")

    def __init__(self, T_C: float = 800.0, air_ratio: float = 1.5, ferrite_fraction=None,
                 conversion: float = 1.0, discharge_T_C: float = 25.0):
        self.T_C = check_number(T_C, "Roaster T_C", 300.0, 1200.0, unit="°C")
        self.air_ratio = check_number(air_ratio, "Roaster air_ratio", 1.0, 20.0, unit="-")
        self.ferrite_fraction = (None if ferrite_fraction is None else
                                 check_number(ferrite_fraction, "Roaster ferrite_fraction", 0.0, 1.0))
        self.conversion = check_number(conversion, "Roaster conversion", 0.0, 1.0)
        self.discharge_T_C = check_number(discharge_T_C, "Roaster discharge_T_C", 5.0, self.T_C,
                                          unit="°C")

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
        # boron binds rare earths as REBO3 first (Jiang et al. 2020), in proportion to each RE
        re_b = {el: n for el, n in b.items() if n > 0 and _ferrite_of(el)}
        b_left = b.get("B", 0.0)
        if _borate_window(self.T_C) and b_left > 0 and re_b:
            tot = sum(re_b.values())
            nb = min(b_left, tot)
            for el, n in re_b.items():
                products[f"{el}BO3"] = nb * n / tot
                b[el] = n - nb * n / tot
            b["B"] = b_left - nb
        ff = default_ferrite_fraction(self.T_C) if self.ferrite_fraction is None else self.ferrite_fraction
        ferr_re = {el: n for el, n in b.items() if n > 0 and _ferrite_of(el)}
        want = ff * sum(ferr_re.values())
        # iron shared over the rare earths in proportion when it does not suffice
        share = 1.0 if want <= fe_left or want == 0 else fe_left / want
        if share < 1.0:
            notes.append(f"not enough Fe for ferrite fraction {ff}: {100 * ff * share:.1f} % of the "
                         "rare earths form REFeO3")
        for el, n in sorted(b.items()):
            if n <= 1e-300 or el in ("O", "Fe", "N"):
                continue
            if el == "C":
                gas["CO2"] = gas.get("CO2", 0.0) + n
                continue
            if el == "H":
                gas["H2O"] = gas.get("H2O", 0.0) + n / 2
                continue
            n_ox = n
            if el in ferr_re and ff > 0:
                nf = ff * share * n
                products[_ferrite_of(el)] = products.get(_ferrite_of(el), 0.0) + nf
                fe_left -= nf
                n_ox -= nf
            if n_ox <= 0:
                continue
            prod = _product_of(el, self.T_C)
            k = parse_formula(prod)[el]
            products[prod] = products.get(prod, 0.0) + n_ox / k
        if b.get("N", 0.0) > 0:
            raise ValueError("Roaster: nitrogen-bearing feed is not supported (no roasting product)")
        fe_left = max(fe_left, 0.0)
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
        hot = Stream.from_mol_h("solid", solid, None, self.T_C, "roasted magnet (hot)")
        calcine = hot.copy(name="roasted magnet", T_C=self.discharge_T_C)
        offgas = Stream.gas({k: v for k, v in gas.items()}, self.T_C, "roaster off-gas")
        mass_gain = (calcine.total_kg_h - feed.total_kg_h) / feed.total_kg_h
        energy = {}
        q_furnace, why = energy_balance([feed, air_stream], [hot, offgas])
        q_cool, why2 = energy_balance([hot], [calcine])
        energy["heat"] = q_furnace
        energy["cooling"] = q_cool
        # reaction heat at 25 C (O2 and N2 have zero enthalpy there)
        burnt = Stream.gas({g: v for g, v in gas.items() if g in ("CO2", "H2O")}, 25.0)
        dH, why3 = energy_balance([feed.copy(T_C=25.0)], [hot.copy(T_C=25.0), burnt])
        for w in (why, why2, why3):
            if w:
                notes.append(w)
        if self.T_C > 500 and ff == 0 and ferr_re:
            notes.append("ferrite_fraction = 0: all RE reported as oxides, although sources report "
                         "NdFeO3 (not Nd2O3) from roasting in air above 500 °C")
        res = RoastingResult(
            calcine=calcine, offgas=offgas, O2_demand_mol_h=demand, mass_gain=mass_gain,
            heat_of_reaction_kW=dH, ferrite_fraction=ff * share if ferr_re else 0.0,
            inlet_streams={"feed": feed, "air": air_stream}, energy_kW=energy,
            reagent_streams=[air_stream], reagents_kg_h={"air": air_stream.total_kg_h},
            notes=notes)
        res._close("Roaster")
        return res
