r"""Hydroxide precipitation (neutralisation, iron removal).

The liquor is neutralised to a target pH with a named base; every metal whose hydroxide has a
solubility constant in ``property_data/hydroxide_solubility.csv`` keeps in solution at most

.. math::  n_{M,diss} = \min\left(n_{M,in},\; {}^*K_M\,[\mathrm{H^+}]^{z}\,V_{out}\right),
           \qquad \mathrm{M(OH)_z(s)} + z\,\mathrm{H^+} \rightleftharpoons \mathrm{M^{z+}} + z\,\mathrm{H_2O}

with :math:`[\mathrm{H^+}] = 10^{-pH}` (ideal activities) and the rest precipitates as M(OH)z.
Rare earths are also lost with the Fe(III)/Al(III) hydroxide by co-precipitation/adsorption:
:math:`n_{RE,lost} = r\,(n_{Fe(OH)_3} + n_{Al(OH)_3})` shared in proportion to the dissolved RE,
with :math:`r` from ``coprecipitation.csv`` (an *estimated* default, overridable).

Base demand from the proton balance (each precipitated M(OH)z releases z H+):

.. math::  n_{H^+,in} + \sum_M z_M\,n_{M,prec} - e_b\,n_b = 10^{-pH}\,V_{out}(n_b)

solved for the base :math:`n_b` [mol/h] (Brent), with :math:`e_b` equivalents per mol:
NaOH 1 (→ Na+ + H2O), NH3 1 (→ NH4+), MgO 2 (→ Mg2+ + H2O), Na2CO3 2 (→ 2 Na+ + H2O + CO2↑),
Ca(OH)2 2 (hydrated lime, → Ca2+ + 2 H2O).
NaOH and NH3 are dosed as aqueous solutions of ``base_conc_mol_L`` (their volume adds to the liquor;
their water is counted at 55.3 mol/L, a dilute-solution approximation), MgO and Na2CO3 as solids
(no volume). Validity: pH ≤ 7.5 for NH3 (NH4+ pKa 9.25 keeps > 98 % protonated), ≤ 8.5 for MgO,
≤ 4.5 for Na2CO3 (CO2 assumed to degas completely), ≤ 11 for NaOH.

Energy: heat duty :math:`\sum H_{out} - \sum H_{in}` (heat of neutralisation and precipitation
removed at the unit temperature; :mod:`reeproc.units.thermo`); negative = cooling needed.

Outputs: ``liquor`` and ``precipitate`` (pass both to the solid–liquid separator; the gelatinous
cake entrains liquor, a further RE loss) and ``offgas`` (CO2 when Na2CO3 is the base).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from scipy.optimize import brentq

from ..data import MissingDataError, load_table, require
from ..species import parse_formula, rare_earths
from ..stream import Stream
from ._balance import check_number, check_stream
from ._common import UnitResult, water_mol_per_L, with_solvent_water
from .thermo import energy_balance

__all__ = ["HydroxidePrecipitator", "HydroxideResult", "BASES", "EffluentNeutraliser"]

#: base -> (equivalents per mol, cation species, cations per mol, dosing form, max pH)
BASES = {
    "NaOH": (1.0, "Na", 1.0, "solution", 11.0),
    "NH3": (1.0, "NH4+", 1.0, "solution", 7.5),
    "MgO": (2.0, "Mg", 1.0, "solid", 8.5),
    "Na2CO3": (2.0, "Na", 2.0, "solid", 4.5),
    "Ca(OH)2": (2.0, "Ca", 1.0, "solid", 11.0),
}
#: dissolved species that never precipitate as hydroxides here (anions, neutral solutes, alkalis)
_INERT = {"H+", "H2O", "Cl-", "SO4-2", "HSO4-", "NO3-", "C2O4-2", "HC2O4-", "H2C2O4", "H3BO3",
          "OH-", "NH3", "Na", "K", "NH4+"}


@functools.cache
def _solubility() -> dict:
    df = load_table("hydroxide_solubility")
    return {r.dissolved: (r.solid, float(r.charge__1), float(r.log10_K__1), r.confidence)
            for r in df.itertuples(index=False)}


@functools.cache
def _default_re_loss() -> float:
    df = load_table("coprecipitation").set_index("quantity")
    return float(require(df.loc["re_loss_per_mol_M(OH)3", "value__1"],
                         "row 're_loss_per_mol_M(OH)3', column value__1", "coprecipitation"))


@dataclass
class HydroxideResult(UnitResult):
    """Result of :class:`HydroxidePrecipitator`.

    Attributes
    ----------
    liquor : Stream
        Neutralised liquor [L/h].
    precipitate : Stream
        Hydroxide precipitate [mol/h].
    offgas : Stream
        CO2 released by Na2CO3 (empty otherwise) [mol/h].
    pH_in, pH : float
        Liquor pH before and after (ideal, from free H+) [-].
    base_mol_h : float
        Base dosed [mol/h].
    precipitated : dict
        Fraction of each dissolved metal precipitated [-].
    re_loss_fraction : float
        Fraction of the dissolved rare earths lost to the precipitate [-].
    """

    liquor: Stream = None
    precipitate: Stream = None
    offgas: Stream = None
    pH_in: float = float("nan")
    pH: float = float("nan")
    base: str = ""
    base_mol_h: float = 0.0
    precipitated: dict = None
    re_loss_fraction: float = 0.0
    _outlet_names: tuple = ("liquor", "precipitate", "offgas")

    def _summary_rows(self):
        rows = {"pH in [-]": (self.pH_in, "-"), "pH out [-]": (self.pH, "-"),
                f"base {self.base} [mol/h]": (self.base_mol_h, "mol/h"),
                "RE lost to precipitate [%]": (100 * self.re_loss_fraction, "%")}
        for sp, f in sorted(self.precipitated.items()):
            rows[f"{sp} precipitated [%]"] = (100 * f, "%")
        return rows


class HydroxidePrecipitator:
    """Neutralise a liquor to a target pH and precipitate hydroxides by solubility.

    Parameters
    ----------
    pH : float
        Target pH [-], 0.5–11 and at most the base's validity limit (NH3 7.5, MgO 8.5,
        Na2CO3 4.5, NaOH 11).
    base : {'NaOH', 'NH3', 'MgO', 'Na2CO3'}
        Neutralising reagent (name as in ``property_data/reagents.csv``).
    base_conc_mol_L : float
        Concentration of the base solution for NaOH / NH3 [mol/L], 0.1–19 (default 5).
    re_loss_mol_per_mol : float, optional
        RE co-precipitated per mol Fe(OH)3 + Al(OH)3 [mol/mol], 0–1; default from
        ``coprecipitation.csv`` (flagged 'estimated').
    T_C : float
        Temperature [°C], 5–95 (solubility constants are 25 °C values).
    above_target : {'refuse', 'pass'}
        A liquor already above the target pH: 'refuse' (default) raises; 'pass' doses no base
        and holds the liquor's own pH (a trim that only adds base, as a pH controller does).
    """

    inlets = ("liquor",)
    outlets = ("liquor", "precipitate", "offgas")

    def __init__(self, pH: float = 3.5, base: str = "NaOH", base_conc_mol_L: float = 5.0,
                 re_loss_mol_per_mol=None, T_C: float = 25.0, above_target: str = "refuse"):
        if base not in BASES:
            raise ValueError(f"HydroxidePrecipitator base = {base!r} is not a known reagent; "
                             f"allowed: {sorted(BASES)}")
        self.base = base
        pmax = BASES[base][4]
        self.pH = check_number(pH, f"HydroxidePrecipitator pH (base {base})", 0.5, pmax, unit="")
        self.base_conc_mol_L = check_number(base_conc_mol_L, "HydroxidePrecipitator base_conc_mol_L",
                                            0.1, 19.0, unit="mol/L")
        self.re_loss = (None if re_loss_mol_per_mol is None else
                        check_number(re_loss_mol_per_mol, "HydroxidePrecipitator re_loss_mol_per_mol",
                                     0.0, 1.0, unit="mol/mol"))
        self.T_C = check_number(T_C, "HydroxidePrecipitator T_C", 5.0, 95.0, unit="°C")
        if above_target not in ("refuse", "pass"):
            raise ValueError(f"HydroxidePrecipitator above_target = {above_target!r}; allowed: "
                             "'refuse', 'pass'")
        self.above_target = above_target

    def run(self, liquor: Stream) -> HydroxideResult:
        """Neutralise ``liquor`` [L/h] to the target pH."""
        check_stream(liquor, "liquor", "aqueous", "HydroxidePrecipitator")
        liq, added = with_solvent_water(liquor)
        inlets = {"liquor": liquor}
        notes = []
        if added is not None:
            inlets["liquor solvent water"] = added
            notes.append("liquor carried no 'H2O': solvent water added (flow_L_h x 55.3 mol/L)")
        if liq.flow_L_h <= 0:
            raise ValueError("HydroxidePrecipitator: liquor flow_L_h must be > 0")
        mol = liq.mol_h
        V0 = liq.flow_L_h
        h_in = mol.get("H+", 0.0)
        pH_in = -math.log10(h_in / V0) if h_in > 0 else float("inf")
        pH_t, h = self.pH, 10.0 ** (-self.pH)
        if pH_in > self.pH and self.above_target == "pass":
            if h_in <= 0:
                raise ValueError("HydroxidePrecipitator: the liquor carries no free H+, so its pH "
                                 "(from free H+) is undefined; give its H+ [mol/L]")
            pH_t, h = pH_in, h_in / V0
            notes.append(f"liquor pH {pH_in:.3g} already above the target {self.pH}: no base "
                         "needed to reach it")
        elif pH_in > self.pH:
            raise ValueError(
                f"HydroxidePrecipitator: liquor pH {pH_in:.3g} (from free H+) is already above the "
                f"target pH {self.pH}; this unit only neutralises (allowed target >= {pH_in:.3g})")
        sol = _solubility()
        re_set = set(rare_earths())
        metals = {}
        for sp, n in mol.items():
            if sp in _INERT or n <= 0:
                continue
            if sp not in sol:
                raise MissingDataError(
                    f"property_data/hydroxide_solubility.csv has no hydroxide solubility for "
                    f"dissolved '{sp}'; add a sourced log10 *K (no default is assumed)")
            metals[sp] = n
        eq, cation, n_cat, form, _ = BASES[self.base]
        cb = self.base_conc_mol_L
        r = self._re_loss()

        def state(nb):
            """Liquor volume [L/h] and metal precipitated [mol/h] at base dose nb [mol/h].

            What stays dissolved is computed first (never below zero, also not by round-off)
            and the precipitate is what is left of the inflow."""
            V = V0 + (nb / cb if form == "solution" else 0.0)
            left = {}
            for sp, n in metals.items():
                _, z, logK, _ = sol[sp]
                left[sp] = min(n, 10.0 ** (logK - z * pH_t) * V)
            # RE co-precipitation with Fe(III)/Al(III) hydroxides: a share of the dissolved RE
            n_host = (metals.get("Fe+3", 0.0) - left.get("Fe+3", 0.0)
                      + metals.get("Al", 0.0) - left.get("Al", 0.0))
            tot_re = sum(left[sp] for sp in metals if sp in re_set)
            if tot_re > 0:
                keep = 1.0 - min(r * n_host / tot_re, 1.0)
                for sp in metals:
                    if sp in re_set:
                        left[sp] *= keep
            return V, {sp: metals[sp] - left[sp] for sp in metals}

        def resid(nb):
            V, prec = state(nb)
            released = sum(sol[sp][1] * p for sp, p in prec.items())
            return h_in + released - eq * nb - h * V

        hi = max(h_in + sum(sol[sp][1] * n for sp, n in metals.items()), 1e-300) / eq * 1.5 + 1e-12
        while resid(hi) > 0:
            hi *= 2.0
        nb = 0.0 if resid(0.0) <= 0 else brentq(resid, 0.0, hi, xtol=1e-300, rtol=1e-15, maxiter=500)
        V, prec = state(nb)
        # assemble
        out = dict(mol)
        solid: dict[str, float] = {}
        water_released = 0.0
        for sp, p in prec.items():
            if p <= 0:
                continue
            name, z, _, conf = sol[sp]
            out[sp] = metals[sp] - p
            solid[name] = solid.get(name, 0.0) + p
            # M(z+) + w H2O -> solid + z H+, w = O atoms of the solid (Fe(OH)3: 3; CuO: 1; GaOOH: 2)
            water_released -= parse_formula(name).get("O", 0.0) * p
            if conf == "estimated":
                notes.append(f"{sp}: solubility constant flagged 'estimated' (hydroxide_solubility.csv)")
        gas = {}
        base_in = {}
        if form == "solution":
            base_in = {self.base if self.base != "NaOH" else "Na": nb}
            if self.base == "NaOH":
                base_in = {"Na": nb, "OH-": nb}
            else:  # NH3 solution
                base_in = {"NH3": nb}
            base_in["H2O"] = nb / cb * water_mol_per_L()
            reagent = Stream.from_mol_h("aqueous", base_in, nb / cb, self.T_C, f"{self.base} solution")
            # neutralisation: OH- + H+ -> H2O ; NH3 + H+ -> NH4+
            water_released += base_in.get("H2O", 0.0)
            if self.base == "NaOH":
                out["Na"] = out.get("Na", 0.0) + nb
                water_released += nb
            else:
                out["NH4+"] = out.get("NH4+", 0.0) + nb
        else:
            reagent = Stream.from_mol_h("solid", {self.base: nb}, None, self.T_C, self.base)
            out[cation] = out.get(cation, 0.0) + n_cat * nb
            # MgO + 2H+ -> Mg2+ + H2O ; Na2CO3 + 2H+ -> 2Na+ + H2O + CO2 ; Ca(OH)2 + 2H+ -> Ca2+ + 2H2O
            water_released += nb * (2.0 if self.base == "Ca(OH)2" else 1.0)
            if self.base == "Na2CO3":
                gas["CO2"] = nb
        out["H+"] = h * V
        out["H2O"] = out.get("H2O", 0.0) + water_released
        if out["H2O"] < 0:
            raise ValueError("HydroxidePrecipitator: liquor water insufficient for the hydroxides formed")
        liquor_out = Stream.from_mol_h("aqueous", out, V, self.T_C, "neutralised liquor")
        precip = Stream.from_mol_h("solid", solid, None, self.T_C, "hydroxide precipitate")
        offgas = Stream.gas(gas, self.T_C, "neutralisation off-gas")
        inlets["base"] = reagent
        frac = {sp: prec[sp] / metals[sp] for sp in metals}
        re_in = sum(n for sp, n in metals.items() if sp in re_set)
        re_lost = sum(prec[sp] for sp in metals if sp in re_set)
        if self.re_loss is None and re_lost > 0:
            notes.append("RE co-precipitation loss uses the 'estimated' default of coprecipitation.csv")
        q, why = energy_balance(list(inlets.values()), [liquor_out, precip, offgas])
        if why:
            notes.append(why)
        energy = {"heat": q}
        res = HydroxideResult(
            liquor=liquor_out, precipitate=precip, offgas=offgas, pH_in=pH_in, pH=pH_t,
            base=self.base, base_mol_h=nb, precipitated=frac,
            re_loss_fraction=re_lost / re_in if re_in > 0 else 0.0,
            inlet_streams=inlets, reagent_streams=[reagent] + ([added] if added is not None else []),
            reagents_kg_h={self.base: nb * _molar_mass(self.base) / 1000.0}, energy_kW=energy,
            notes=sorted(set(notes)))
        res._close("HydroxidePrecipitator")
        return res

    def _re_loss(self) -> float:
        return _default_re_loss() if self.re_loss is None else self.re_loss


def _molar_mass(formula: str) -> float:
    from ..species import molar_mass
    return molar_mass(formula)


class EffluentNeutraliser(HydroxidePrecipitator):
    """Neutralise the plant's acid effluents (barren liquors, raffinates) before discharge.

    The chemistry is :class:`HydroxidePrecipitator`'s at a discharge pH: every metal with a
    hydroxide solubility precipitates to its llnl.dat limit; the liquor leaves as a brine
    (NaCl, or CaCl2 with lime; boric acid and oxalate stay dissolved) and the precipitate as a
    residue. The result reports the base demand [kg/h] (``reagents_kg_h``), the brine and the
    residue; dissolved oxalate is not precipitated as CaC2O4 here (stated approximation).

    Parameters
    ----------
    pH : float
        Discharge pH [-], 6–10 (default 9: Co, Ni below ~1e-5 mol/L, RE(OH)3(am) below ~1e-6).
    base : {'NaOH', 'Ca(OH)2', 'MgO', 'Na2CO3', 'NH3'}
        Neutralising reagent (default NaOH).
    """

    def __init__(self, pH: float = 9.0, base: str = "NaOH", base_conc_mol_L: float = 5.0,
                 T_C: float = 25.0):
        check_number(pH, "EffluentNeutraliser pH", 6.0, 10.0)
        super().__init__(pH=pH, base=base, base_conc_mol_L=base_conc_mol_L,
                         re_loss_mol_per_mol=0.0, T_C=T_C)

    def run(self, liquor: Stream) -> HydroxideResult:
        """Neutralise an acid effluent [L/h]; outlets: brine (``liquor``), residue (``precipitate``)."""
        res = super().run(liquor)
        res.liquor = res.liquor.copy(name="neutralised brine")
        res.precipitate = res.precipitate.copy(name="neutralisation residue")
        res.notes.append(f"effluent neutralised to pH {self.pH}: brine {res.liquor.flow_L_h:.4g} L/h "
                         f"with {res.liquor.mol_h.get('Cl-', 0.0):.4g} mol/h Cl-, residue "
                         f"{res.precipitate.total_kg_h:.4g} kg/h")
        return res
