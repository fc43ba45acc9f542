r"""Oxalate precipitation of rare earths from solubility chemistry.

Reactions
---------
.. math::
   2\,\mathrm{RE^{3+}} + 3\,\mathrm{H_2C_2O_4} + 10\,\mathrm{H_2O}
       \rightarrow \mathrm{RE_2(C_2O_4)_3\cdot 10H_2O}\downarrow + 6\,\mathrm{H^+}

Oxalic acid is dosed as the dihydrate at :math:`d` times the stoichiometric 1.5 mol per mol RE.

Equilibrium (``property_data/oxalate.csv``; ideal activities, concentration basis):

* solubility of each decahydrate, :math:`[\mathrm{RE^{3+}}]^2[\mathrm{C_2O_4^{2-}}]^3 = K_{sp}`;
* oxalic acid speciation, :math:`K_{a1} = [\mathrm{H^+}][\mathrm{HOx^-}]/[\mathrm{H_2Ox}]`,
  :math:`K_{a2} = [\mathrm{H^+}][\mathrm{Ox^{2-}}]/[\mathrm{HOx^-}]` (NEA pKa 1.40, 4.25);
* sulfate complexes :math:`\mathrm{RESO_4^+}` (llnl.dat NdSO4+) with free sulfate from the
  HSO4- equilibrium (llnl.dat), so that a constant calibrated in sulfate carries to chloride;
* dissolved oxalato complexes :math:`\mathrm{RE(Ox)^+}`, :math:`\mathrm{RE(Ox)_2^-}` (β1, β2) and
  chloro complexes :math:`\mathrm{RECl^{2+}}`, :math:`\mathrm{RECl_2^+}` (``sx_chloride_complexes``);
* mass balances of oxalate and of exchangeable hydrogen, :math:`H_T = [\mathrm{H^+}] +
  [\mathrm{HOx^-}] + 2[\mathrm{H_2Ox}]`: the precipitate takes Ox2- and leaves its protons.

Given the free oxalate :math:`x`, the H balance is a quadratic in :math:`[\mathrm{H^+}]`; the
oxalate balance is monotone in :math:`\log x` and solved by Brent. The RE oxalates precipitate
as an ideal solid solution (isostructural decahydrates): RE *i* stays dissolved at
:math:`[\mathrm{RE}_i]_{tot} = X_i\sqrt{K_{sp,i}/x^3}\,\alpha_i` with :math:`X_i` its mole
fraction in the precipitate and :math:`\alpha_i = 1 + \beta_1 x + \beta_2 x^2 + \sum_n
\beta_{Cl,n}[\mathrm{Cl^-}]^n + \beta_{SO_4}[\mathrm{SO_4^{2-}}]`; with one Ksp for all RE every
rare earth precipitates the same fraction (as Klemettinen report for the lumped RE). Recovery therefore falls with
acidity and rises with excess oxalic acid, as Chung et al. (1998) measured. The one effective
:math:`K_{sp}` is calibrated to the dose–response of Klemettinen et al. (2023) (see oxalate.csv).

Impurities: Fe(II) co-precipitates as FeC2O4·2H2O with the partition :math:`f = k(d-1)`
(Klemettinen); Co, Ni, B, Na, K, NH4+, Al, Mg stay (Klemettinen: unchanged at 1.0–1.4×; data for
Cu, Zn, Mn, Ga, Ca oxalates are listed in oxalate.csv, missing ones raise). Co-precipitation is
calibrated at pH < 1: above pH 1.5 (free oxalate orders of magnitude higher) the unit notes that
M(II) oxalate co-precipitation is not represented.

Energy: heat duty :math:`\sum H_{out} - \sum H_{in}` at the unit temperature
(:mod:`reeproc.units.thermo`).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from scipy.optimize import brentq

from ..data import MissingDataError, load_table
from ..species import get_species, rare_earths
from ..stream import Stream
from ._balance import check_number, check_stream
from ._common import UnitResult, with_solvent_water
from .thermo import energy_balance

__all__ = ["OxalatePrecipitator", "OxalateResult", "oxalate_recovery", "oxalate_equilibrium",
           "REFERENCE_LIQUOR"]

_REAGENT = "oxalic acid dihydrate"
#: Liquor of the Klemettinen et al. (2023) calibration [mol/L] (their H2SO4 NdFeB leachate; the
#: composition is an ASSUMED proxy: RE 0.26 M, free acid 0.3 M, see oxalate.csv)
REFERENCE_LIQUOR = {"Nd": 0.2, "Pr": 0.05, "Dy": 0.01, "Fe+2": 0.05, "Co": 0.01, "Ni": 0.005,
                    "H3BO3": 0.01, "H+": 0.3, "SO4-2": 0.615}
_NONMETAL = {"H+", "H2O", "Cl-", "SO4-2", "HSO4-", "NO3-", "H2C2O4", "HC2O4-", "C2O4-2", "OH-",
             "H2O2"}


@functools.cache
def _params():
    df = load_table("oxalate")
    eq, cop = {}, {}
    for r in df.itertuples(index=False):
        if r.quantity == "coprecipitation_per_excess_dose":
            cop[r.species] = r.value__1
        else:
            eq[(r.quantity, r.species)] = r.value__1
    for k in ("pKa1", "pKa2", "log10_beta1_RE_Ox", "log10_beta2_RE_Ox", "log10_Ksp_eff",
              "log10_beta1_RE_SO4", "pKa_HSO4"):
        if not any(q == k for q, _ in eq):
            raise MissingDataError(f"property_data/oxalate.csv: row '{k}' is missing")
    return eq, cop


def _re_const(q: str, el: str) -> float:
    eq, _ = _params()
    v = eq.get((q, el), eq.get((q, "RE")))
    if v is None or math.isnan(v):
        raise MissingDataError(f"property_data/oxalate.csv: no '{q}' for {el} (nor an 'RE' row)")
    return float(v)


@functools.cache
def _chloro() -> dict:
    """log10 beta_n of RECl_n for each RE (sx_chloride_complexes.csv)."""
    df = load_table("sx_chloride_complexes")
    out: dict = {}
    cols = [c for c in df.columns if c.startswith("log10")]
    for r in df.to_dict("records"):
        sp = r.get("species") or r.get("metal")
        out[sp] = [float(r[c]) for c in cols if not math.isnan(float(r[c]))]
    return out


def oxalate_equilibrium(n_re: dict, n_ox: float, H_T: float, V: float, cl: float = 0.0,
                        so4: float = 0.0):
    """Solubility equilibrium of RE oxalates [mol/h basis].

    Parameters
    ----------
    n_re : dict
        Dissolved rare earths before precipitation [mol/h].
    n_ox : float
        Oxalate dosed (all forms) [mol/h].
    H_T : float
        Exchangeable hydrogen of the liquor + dosed acid: free H+ + 2 per H2C2O4 [mol/h].
    V : float
        Liquor volume [L/h].
    cl : float
        Chloride concentration [mol/L] (chloro-complexation of RE3+).
    so4 : float
        Total sulfate concentration [mol/L] (RESO4+ complexation; HSO4- at the liquor acidity).

    Returns
    -------
    dict with 'precipitated' {RE: mol/h}, 'H' [mol/L], 'Ox' free oxalate [mol/L],
    'HOx', 'H2Ox' [mol/L].
    """
    eq, _ = _params()
    Ka1 = 10.0 ** -float(eq[("pKa1", "H2C2O4")])
    Ka2 = 10.0 ** -float(eq[("pKa2", "H2C2O4")])
    K = {el: 10.0 ** _re_const("log10_Ksp_eff", el) for el in n_re}
    b1 = {el: 10.0 ** _re_const("log10_beta1_RE_Ox", el) for el in n_re}
    b2 = {el: 10.0 ** _re_const("log10_beta2_RE_Ox", el) for el in n_re}
    chl = {el: sum(10.0 ** lb * cl ** (i + 1) for i, lb in enumerate(_chloro().get(el, [])))
           for el in n_re}
    HT = H_T / V
    lbs, lka = float(eq[("log10_beta1_RE_SO4", "RE")]), float(eq[("pKa_HSO4", "HSO4-")])

    def sulf(h):  # RESO4+ complexation factor at free acid h (free sulfate from the HSO4- equilibrium)
        return 10.0 ** lbs * so4 / (1.0 + h / 10.0 ** -lka) if so4 > 0 else 0.0

    def h_of(x):  # h + x (h/Ka2 + 2 h^2/(Ka1 Ka2)) = HT  ->  a h^2 + b h - HT = 0
        a = 2.0 * x / (Ka1 * Ka2)
        b = 1.0 + x / Ka2
        if a < 1e-300:
            return HT / b
        return (-b + math.sqrt(b * b + 4 * a * HT)) / (2 * a)

    def state(x):
        h = h_of(x)
        s4 = sulf(h)
        alpha = {el: 1.0 + b1[el] * x + b2[el] * x * x + chl[el] + s4 for el in n_re}
        # total dissolved RE_i in equilibrium with a pure oxalate of RE_i [mol/L]
        sat = {el: math.sqrt(K[el] / x ** 3) * alpha[el] for el in n_re}
        # ideal solid solution (the RE oxalate decahydrates are isostructural): RE_i dissolved
        # = sat_i * X_i, X_i = p_i / P its mole fraction in the precipitate
        # -> p_i = n_i P / (P + sat_i V), with P solving sum_i n_i / (P + sat_i V) = 1
        prec = {el: 0.0 for el in n_re}
        if sum(n / (sat[el] * V) for el, n in n_re.items()) > 1.0:
            N = sum(n_re.values())
            P = brentq(lambda P: sum(n / (P + sat[el] * V) for el, n in n_re.items()) - 1.0,
                       0.0, N, xtol=1e-14 * N, rtol=1e-14, maxiter=300)
            prec = {el: n * P / (P + sat[el] * V) for el, n in n_re.items()}
        comp = 0.0
        for el, n in n_re.items():
            free_d = (n - prec[el]) / V / alpha[el]
            comp += free_d * (b1[el] * x + 2 * b2[el] * x * x)
        ox_sol = x * (1.0 + h / Ka2 + h * h / (Ka1 * Ka2)) + comp
        return h, prec, ox_sol

    def g(lx):
        x = 10.0 ** lx
        _, prec, ox_sol = state(x)
        return ox_sol * V + 1.5 * sum(prec.values()) - n_ox

    lo, hi = -40.0, math.log10(max(n_ox / V, 1e-300))
    if g(hi) < 0:  # cannot happen with positive species; guard
        hi += 1.0
    lx = brentq(g, lo, hi, xtol=1e-13, maxiter=500)
    x = 10.0 ** lx
    h, prec, _ = state(x)
    return {"precipitated": prec, "H": h, "Ox": x, "HOx": x * h / Ka2,
            "H2Ox": x * h * h / (Ka1 * Ka2)}


def oxalate_recovery(dose_factor: float, liquor: dict | None = None) -> float:
    r"""Fraction of the rare earths precipitated [-] at a dose :math:`d` (multiple of
    stoichiometric) from ``liquor`` {species: mol/L} (default :data:`REFERENCE_LIQUOR`, the
    calibration liquor)."""
    d = check_number(dose_factor, "dose_factor", 0.0, None, lo_open=True, unit="x stoichiometric")
    c = dict(REFERENCE_LIQUOR if liquor is None else liquor)
    re_ = {el: v for el, v in c.items() if el in rare_earths() and v > 0}
    n_re = sum(re_.values())
    n_ox = 1.5 * d * n_re
    out = oxalate_equilibrium(re_, n_ox, c.get("H+", 0.0) + 2 * n_ox, 1.0, c.get("Cl-", 0.0),
                              c.get("SO4-2", 0.0) + c.get("HSO4-", 0.0))
    return sum(out["precipitated"].values()) / n_re


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
        Fraction of the dissolved rare earths precipitated [-]; ``recovery_by_element`` per RE.
    coprecipitated : dict
        Fraction of each impurity species precipitated [-].
    H_released_mol_h : float
        Protons released by precipitation [mol/h].
    pH : float
        Barren-liquor pH (free H+, ideal) [-].
    """

    liquor: Stream = None
    precipitate: Stream = None
    dose_factor: float = float("nan")
    recovery: float = float("nan")
    recovery_by_element: dict = None
    coprecipitated: dict = None
    H_released_mol_h: float = 0.0
    pH: float = float("nan")
    _outlet_names: tuple = ("liquor", "precipitate")

    def _summary_rows(self):
        rows = {
            "oxalic acid dose [x stoichiometric]": (self.dose_factor, "-"),
            "RE recovery [%]": (100 * self.recovery, "%"),
            "barren liquor pH [-]": (self.pH, "-"),
            "H+ released [mol/h]": (self.H_released_mol_h, "mol/h"),
            "precipitate [kg/h]": (self.precipitate.total_kg_h, "kg/h"),
        }
        for el, r in sorted(self.recovery_by_element.items()):
            rows[f"recovery {el} [%]"] = (100 * r, "%")
        return rows


class OxalatePrecipitator:
    """Rare-earth oxalate precipitation with oxalic acid dihydrate.

    Parameters
    ----------
    dose_factor : float
        Oxalic acid dose as a multiple of the stoichiometric 1.5 mol per mol RE [-], 1.0–2.0.
    T_C : float
        Temperature [°C], 5–95 (the constants are 25 °C values; outlets leave at T_C).
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
        _, cop = _params()
        liq, added = with_solvent_water(liquor)
        inlets = {"liquor": liquor}
        notes = []
        if added is not None:
            inlets["liquor solvent water"] = added
            notes.append("liquor carried no 'H2O': solvent water added (flow_L_h x 55.3 mol/L)")
        mol = liq.mol_h
        V = liq.flow_L_h
        res_ = set(rare_earths())
        n_re = {sp: n for sp, n in mol.items() if sp in res_ and n > 0}
        n_re_tot = sum(n_re.values())
        if n_re_tot <= 0:
            raise ValueError("OxalatePrecipitator: the liquor carries no dissolved rare earth to "
                             "precipitate (dose is defined per mol RE)")
        for sp in n_re:
            try:
                get_species(f"{sp}2(C2O4)3.10H2O", "solid")
            except ValueError:
                raise MissingDataError(f"no solid species '{sp}2(C2O4)3.10H2O' in "
                                       f"property_data/species.csv: cannot precipitate {sp}") from None
        # impurities: data first (a missing coefficient raises before any work)
        for sp, n in mol.items():
            if sp in res_ or n <= 0 or sp in _NONMETAL or sp == "H3BO3" and "H3BO3" in cop:
                continue
            if sp not in cop or math.isnan(cop[sp]):
                raise MissingDataError(
                    f"property_data/oxalate.csv has no co-precipitation coefficient for dissolved "
                    f"'{sp}'; add a sourced value (no default is assumed)")
        d = self.dose_factor
        n_ox = 1.5 * d * n_re_tot
        reagent = Stream.from_mol_h("solid", {"H2C2O4.2H2O": n_ox}, T_C=liquor.T_C,
                                    name="oxalic acid dihydrate")
        inlets["oxalic acid"] = reagent
        # Fe(II) co-precipitation (Klemettinen partition) takes its oxalate first
        out = dict(mol)
        solid: dict[str, float] = {}
        copre = {}
        ox_left = n_ox
        h_rel = 0.0
        for sp, n in mol.items():
            if sp in res_ or n <= 0 or sp in _NONMETAL:
                continue
            f = cop.get(sp, 0.0) * (d - 1.0)
            if f > 1.0:
                raise ValueError(f"OxalatePrecipitator: co-precipitated fraction of {sp} = {f:.3g} > 1 "
                                 f"at dose_factor {d}: outside the validity of the partition model")
            copre[sp] = f
            if f <= 0:
                continue
            if sp != "Fe+2":
                raise MissingDataError(f"no oxalate solid defined for co-precipitated '{sp}'")
            p = min(f * n, 0.5 * ox_left)
            copre[sp] = p / n
            out[sp] = n - p
            solid["FeC2O4.2H2O"] = p
            ox_left -= p
            h_rel += 2.0 * p
        # RE solubility equilibrium with the oxalate left
        h_in = mol.get("H+", 0.0) + h_rel
        cl = mol.get("Cl-", 0.0) / V
        so4 = (mol.get("SO4-2", 0.0) + mol.get("HSO4-", 0.0)) / V
        eqm = oxalate_equilibrium(n_re, ox_left, h_in + 2.0 * ox_left, V, cl, so4)
        rec_el = {}
        for el, n in n_re.items():
            p = max(min(eqm["precipitated"][el], n), 0.0)
            rec_el[el] = p / n
            out[el] = n - p
            solid[f"{el}2(C2O4)3.10H2O"] = 0.5 * p
            h_rel += 3.0 * p
            ox_left -= 1.5 * p
        p_re = sum(rec_el[el] * n for el, n in n_re.items())
        # dissolved oxalate speciated at the equilibrium acidity (H conserved: H_T = H + HOx + 2 H2Ox)
        ox_tot = ox_left
        hox_frac = eqm["HOx"] / (eqm["Ox"] + eqm["HOx"] + eqm["H2Ox"])
        h2ox_frac = eqm["H2Ox"] / (eqm["Ox"] + eqm["HOx"] + eqm["H2Ox"])
        out["H2C2O4"] = out.get("H2C2O4", 0.0) + ox_tot * h2ox_frac
        out["HC2O4-"] = out.get("HC2O4-", 0.0) + ox_tot * hox_frac
        out["C2O4-2"] = out.get("C2O4-2", 0.0) + ox_tot * (1.0 - hox_frac - h2ox_frac)
        H_T = mol.get("H+", 0.0) + 2.0 * n_ox  # exchangeable H: the precipitates take Ox2- only
        out["H+"] = H_T - out["HC2O4-"] - 2.0 * out["H2C2O4"]
        out["H2O"] = out.get("H2O", 0.0) + 2.0 * n_ox - 10.0 * 0.5 * p_re - 2.0 * solid.get("FeC2O4.2H2O", 0.0)
        if out["H+"] < -1e-9 * max(H_T, 1e-300):
            raise RuntimeError("OxalatePrecipitator: negative free acid after the equilibrium "
                               "(modelling bug)")
        out["H+"] = max(out["H+"], 0.0)
        if out["H2O"] < 0:
            raise ValueError("OxalatePrecipitator: the liquor holds less water than the hydrates "
                             "bind; check its H2O flow")
        pH = -math.log10(out["H+"] / V) if out["H+"] > 0 else float("inf")
        if pH > 1.5 and any(sp in mol for sp in ("Co", "Ni", "Cu", "Zn", "Mn")):
            notes.append(f"barren liquor pH {pH:.2f} > 1.5: Co/Ni/Cu/Zn/Mn oxalate co-precipitation "
                         "(calibrated below pH 1) is not represented (data gap: M(II) oxalate Ksp)")
        liquor_out = Stream.from_mol_h("aqueous", {k: v for k, v in out.items() if v != 0 or k in mol},
                                       V, self.T_C, "oxalate barren liquor")
        precip = Stream.from_mol_h("solid", {k: v for k, v in solid.items() if v > 0}, None,
                                   self.T_C, "RE oxalate precipitate")
        q, why = energy_balance(list(inlets.values()), [liquor_out, precip])
        if why:
            notes.append(why)
        R = p_re / n_re_tot
        res = OxalateResult(
            liquor=liquor_out, precipitate=precip, dose_factor=d, recovery=R,
            recovery_by_element=rec_el, coprecipitated=copre, H_released_mol_h=h_rel,
            pH=pH, inlet_streams=inlets,
            reagent_streams=[reagent] + ([added] if added is not None else []),
            reagents_kg_h={_REAGENT: reagent.total_kg_h}, energy_kW={"heat": q}, notes=notes)
        res._close("OxalatePrecipitator")
        return res
