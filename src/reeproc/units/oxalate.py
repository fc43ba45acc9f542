r"""Oxalate precipitation of rare earths.

Reactions
---------
.. math::
   2\,\mathrm{RE^{3+}} + 3\,\mathrm{H_2C_2O_4} + 10\,\mathrm{H_2O}
       \rightarrow \mathrm{RE_2(C_2O_4)_3\cdot 10H_2O}\downarrow + 6\,\mathrm{H^+}

   \mathrm{Fe^{2+}} + \mathrm{H_2C_2O_4} + 2\,\mathrm{H_2O} \rightarrow
       \mathrm{FeC_2O_4\cdot 2H_2O}\downarrow + 2\,\mathrm{H^+}

Oxalic acid is dosed as the dihydrate at :math:`d` times the stoichiometric 1.5 mol per mol RE:
:math:`n_{ox} = 1.5\,d\,\sum n_{RE}`.

Recovery (sourced empirical fit, ``property_data/oxalate.csv``):

.. math::  R(d) = \exp\left[-\left(\varepsilon / d\right)^{n}\right],
           \quad \varepsilon = 0.5253,\; n = 4.079

fitted to 93 / 96.7 / 98.1 % at 1.0 / 1.2 / 1.4× stoichiometric in a real NdFeB leachate
(Klemettinen et al., Minerals 13 (2023)); every rare earth precipitates the fraction R.
Co-precipitation of impurity *i*: :math:`f_i = k_i (d - 1)`.
Unreacted oxalic acid stays in the liquor as ``H2C2O4`` (nominal speciation: at pH < 1.3 it is
mostly undissociated; pKa1 1.40, NEA/ThermoChimie). The solid reagent's volume is neglected.

Outputs: ``liquor`` (barren liquor) and ``precipitate`` (oxalate cake, before solid–liquid
separation; pass both to :class:`~reeproc.units.separation.SolidLiquidSeparator`).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from ..data import MissingDataError, load_table
from ..species import get_species, rare_earths
from ..stream import Stream
from ._balance import check_number, check_stream
from ._common import UnitResult, with_solvent_water

__all__ = ["OxalatePrecipitator", "OxalateResult", "oxalate_recovery"]

_REAGENT = "oxalic acid dihydrate"


@functools.cache
def _params():
    df = load_table("oxalate")
    fit = {}
    cop = {}
    for r in df.itertuples(index=False):
        if r.quantity == "coprecipitation_per_excess_dose":
            cop[r.species] = r.value__1
        else:
            fit[r.quantity] = r.value__1
    for k in ("recovery_fit_eps", "recovery_fit_n", "dose_calibrated_min", "dose_calibrated_max"):
        if k not in fit or math.isnan(fit[k]):
            raise MissingDataError(f"property_data/oxalate.csv: row '{k}' is missing")
    return fit, cop


def oxalate_recovery(dose_factor: float) -> float:
    r"""Fraction of the rare earths precipitated [-] at a dose :math:`d` (multiple of
    stoichiometric): :math:`R = \exp[-(\varepsilon/d)^n]`."""
    fit, _ = _params()
    d = check_number(dose_factor, "dose_factor", 0.0, None, lo_open=True, unit="x stoichiometric")
    return math.exp(-((fit["recovery_fit_eps"] / d) ** fit["recovery_fit_n"]))


@dataclass
class OxalateResult(UnitResult):
    """Result of :class:`OxalatePrecipitator`.

    Attributes
    ----------
    liquor : Stream
        Barren liquor [L/h].
    precipitate : Stream
        RE oxalate decahydrates and co-precipitated impurities [mol/h].
    recovery : float
        Fraction of each rare earth precipitated [-].
    coprecipitated : dict
        Fraction of each impurity species precipitated [-].
    H_released_mol_h : float
        Protons released by precipitation [mol/h].
    """

    liquor: Stream = None
    precipitate: Stream = None
    dose_factor: float = float("nan")
    recovery: float = float("nan")
    coprecipitated: dict = None
    H_released_mol_h: float = 0.0
    _outlet_names: tuple = ("liquor", "precipitate")

    def _summary_rows(self):
        return {
            "oxalic acid dose [x stoichiometric]": (self.dose_factor, "-"),
            "RE recovery [%]": (100 * self.recovery, "%"),
            "H+ released [mol/h]": (self.H_released_mol_h, "mol/h"),
            "precipitate [kg/h]": (self.precipitate.total_kg_h, "kg/h"),
            "precipitate TREO purity, oxide basis [%]": (
                100 * self.precipitate.purity(sorted(set(rare_earths()) & set(self.precipitate.element_mol_h())))
                if self.precipitate.total_mol_h > 0 else float("nan"), "%"),
        }


class OxalatePrecipitator:
    """Rare-earth oxalate precipitation with oxalic acid dihydrate.

    Parameters
    ----------
    dose_factor : float
        Oxalic acid dose as a multiple of the stoichiometric 1.5 mol per mol RE [-], 1.0–2.0
        (the recovery fit is calibrated on 1.0–1.4; doses above are extrapolated and noted).
    T_C : float
        Temperature [°C], 5–95 (outlets leave at this temperature).
    """

    inlets = ("liquor",)
    outlets = ("liquor", "precipitate")

    def __init__(self, dose_factor: float = 1.2, T_C: float = 25.0):
        self.dose_factor = check_number(dose_factor, "OxalatePrecipitator dose_factor", 1.0, 2.0,
                                        unit="x stoichiometric")
        self.T_C = check_number(T_C, "OxalatePrecipitator T_C", 5.0, 95.0, unit="°C")

    def run(self, liquor: Stream) -> OxalateResult:
        """Precipitate the rare earths of an acid liquor [L/h] (pregnant strip liquor or leachate)."""
        check_stream(liquor, "liquor", "aqueous", "OxalatePrecipitator")
        fit, cop = _params()
        liq, added = with_solvent_water(liquor)
        inlets = {"liquor": liquor}
        notes = []
        if added is not None:
            inlets["liquor solvent water"] = added
            notes.append("liquor carried no 'H2O': solvent water added (flow_L_h x 55.3 mol/L)")
        mol = liq.mol_h
        res_ = set(rare_earths())
        n_re = {sp: n for sp, n in mol.items() if sp in res_ and n > 0}
        n_re_tot = sum(n_re.values())
        if n_re_tot <= 0:
            raise ValueError("OxalatePrecipitator: the liquor carries no dissolved rare earth to "
                             "precipitate (dose is defined per mol RE)")
        d = self.dose_factor
        if d > fit["dose_calibrated_max"]:
            notes.append(f"dose {d}x is above the calibrated range "
                         f"{fit['dose_calibrated_min']}-{fit['dose_calibrated_max']}x: recovery "
                         "extrapolated with the fitted curve")
        R = oxalate_recovery(d)
        n_ox = 1.5 * d * n_re_tot
        reagent = Stream.from_mol_h("solid", {"H2C2O4.2H2O": n_ox}, T_C=liquor.T_C,
                                    name="oxalic acid dihydrate")
        inlets["oxalic acid"] = reagent
        # precipitation
        out = dict(mol)
        out["H2C2O4"] = out.get("H2C2O4", 0.0) + n_ox
        out["H2O"] = out.get("H2O", 0.0) + 2.0 * n_ox
        solid: dict[str, float] = {}
        h_rel = 0.0
        for el, n in n_re.items():
            sp = f"{el}2(C2O4)3.10H2O"
            try:
                get_species(sp, "solid")
            except ValueError:
                raise MissingDataError(f"no solid species '{sp}' in property_data/species.csv: "
                                       f"cannot precipitate {el} as oxalate") from None
            p = R * n  # mol RE precipitated
            out[el] = n - p
            solid[sp] = 0.5 * p
            out["H2C2O4"] -= 1.5 * p
            out["H2O"] -= 5.0 * p
            out["H+"] = out.get("H+", 0.0) + 3.0 * p
            h_rel += 3.0 * p
        copre = {}
        for sp, n in mol.items():
            if sp in res_ or n <= 0 or sp in ("H+", "H2O", "Cl-", "SO4-2", "HSO4-", "NO3-",
                                               "H2C2O4", "HC2O4-", "C2O4-2", "OH-"):
                continue
            if sp not in cop or math.isnan(cop[sp]):
                raise MissingDataError(
                    f"property_data/oxalate.csv has no co-precipitation coefficient for dissolved "
                    f"'{sp}'; add a sourced value (no default is assumed)")
            f = cop[sp] * (d - 1.0)
            if f > 1.0:
                raise ValueError(f"OxalatePrecipitator: co-precipitated fraction of {sp} = {f:.3g} > 1 "
                                 f"at dose_factor {d}: outside the validity of the partition model")
            copre[sp] = f
            if f <= 0:
                continue
            if sp != "Fe+2":
                raise MissingDataError(f"no oxalate solid defined for co-precipitated '{sp}'")
            p = f * n
            if p > out["H2C2O4"]:
                notes.append(f"co-precipitation of {sp} limited by the oxalate left after the rare "
                             f"earths: {out['H2C2O4']:.4g} of {p:.4g} mol/h (partition model asks more "
                             "oxalate than dosed)")
                p = max(out["H2C2O4"], 0.0)
                copre[sp] = p / n
            out[sp] = n - p
            solid["FeC2O4.2H2O"] = solid.get("FeC2O4.2H2O", 0.0) + p
            out["H2C2O4"] -= p
            out["H2O"] -= 2.0 * p
            out["H+"] = out.get("H+", 0.0) + 2.0 * p
            h_rel += 2.0 * p
        if out["H2C2O4"] < 0:
            raise ValueError(
                f"OxalatePrecipitator: dose_factor {d} does not supply the oxalate that RE recovery "
                f"and impurity co-precipitation consume ({-out['H2C2O4']:.4g} mol/h short)")
        if out["H2O"] < 0:
            raise ValueError("OxalatePrecipitator: the liquor holds less water than the hydrates "
                             "bind; check its H2O flow")
        liquor_out = Stream.from_mol_h("aqueous", out, liq.flow_L_h, self.T_C, "oxalate barren liquor")
        precip = Stream.from_mol_h("solid", solid, None, self.T_C, "RE oxalate precipitate")
        res = OxalateResult(
            liquor=liquor_out, precipitate=precip, dose_factor=d, recovery=R,
            coprecipitated=copre, H_released_mol_h=h_rel, inlet_streams=inlets,
            reagent_streams=[reagent] + ([added] if added is not None else []),
            reagents_kg_h={_REAGENT: reagent.total_kg_h}, notes=notes)
        res._close("OxalatePrecipitator")
        return res
