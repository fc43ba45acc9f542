"""Leach chemistry: phase classes, dissolution stoichiometry (Cl2 / O2 / H2 / H2O2 closure of the
electron balance), shrinking-core conversion and the hematite solubility used by
:mod:`reeproc.units.leaching` (equations in that module's docstring)."""
from __future__ import annotations

import functools
import math

import numpy as np

from ..data import MissingDataError, load_table
from ..species import get_species, parse_formula, rare_earths

__all__ = ["ACIDS", "REDUCTANTS", "phase_class", "dissolution_stoichiometry",
           "conversion_from_theta", "hematite_solubility_coeff"]

R = 8.314462618e-3  # kJ/mol/K
ACIDS = {"HCl": (1.0, {"Cl-": 1.0}, 12.0), "H2SO4": (2.0, {"SO4-2": 1.0}, 9.0)}
#: reductant -> (reagent name in reagents.csv, default solution strength [mol/L])
#: 30 wt% H2O2: 1.11 kg/L x 0.30 / 34.01 g/mol = 9.8 mol/L (derived; density of 30 % H2O2 from CRC)
REDUCTANTS = {"H2O2": ("hydrogen peroxide", 9.8)}
_CATION = {"Co": "Co", "Ni": "Ni", "Cu": "Cu", "Al": "Al", "Ga": "Ga", "Mn": "Mn", "Zn": "Zn",
           "Mg": "Mg", "Ca": "Ca", "Na": "Na", "K": "K"}
_INERT_ELEMENTS = {"Nb", "C", "Si", "Ti"}


# ------------------------------------------------------------------ chemistry
def phase_class(species: str) -> str:
    """Kinetic class of a solid species (row of leach_kinetics.csv)."""
    f = parse_formula(species)
    els = set(f) - {"O"}
    re_ = set(rare_earths())
    if species == "Cu" or els <= _INERT_ELEMENTS:
        return "inert"
    if "H" in f or "C" in f:
        raise MissingDataError(f"no leaching model for solid '{species}' (hydroxides, carbonates, "
                               "oxalates are not leach feeds here)")
    if "O" not in f:
        return "metal"
    if species == "B2O3":
        return "B2O3"
    if els & re_ and "Fe" in els:
        return "RE_ferrite"
    if els & re_ and els <= re_ | {"B"}:
        return "RE_oxide"
    if els == {"Fe"}:
        if species == "Fe2O3":
            return "hematite"
        raise MissingDataError(f"no leaching kinetics for iron oxide '{species}' (only Fe2O3)")
    return "base_metal_oxide"


@functools.lru_cache(maxsize=512)
def dissolution_stoichiometry(species: str, acid: str = "HCl", reductant: str | None = None) -> dict:
    """Products of dissolving one mol of a solid [mol] (module docstring).

    Keys: aqueous ions and 'H3BO3', 'H2O' (produced, may be < 0) and the gases 'H2', 'O2',
    'Cl2' as produced; 'H+' as CONSUMED (> 0); 'Cl-' and 'H2O2' as produced (< 0 = consumed).
    """
    if acid not in ACIDS:
        raise ValueError(f"acid = {acid!r}; allowed: {sorted(ACIDS)}")
    if reductant is not None and reductant not in REDUCTANTS:
        raise ValueError(f"reductant = {reductant!r}; allowed: None or {sorted(REDUCTANTS)}")
    f = parse_formula(species)
    cls = phase_class(species)
    if cls == "inert":
        return {}
    ions: dict[str, float] = {}
    q = 0.0
    for el, n in f.items():
        if el in ("O", "B"):
            continue
        if el in rare_earths():
            sp = el
        elif el == "Fe":
            sp = "Fe+2" if cls == "metal" else "Fe+3"
        elif el in _CATION:
            sp = _CATION[el]
        else:
            raise MissingDataError(f"no aqueous product for element {el} of '{species}'")
        ions[sp] = ions.get(sp, 0.0) + n
        q += n * get_species(sp, "aqueous").charge
    nO, nB, nH = f.get("O", 0.0), f.get("B", 0.0), f.get("H", 0.0)
    e = q + nH + 3 * nB - 2 * nO
    h2 = o2 = cl2 = h2o2 = 0.0
    if e > 0:
        h2 = e / 2.0
    elif e < 0:
        ox = -e
        if reductant == "H2O2":
            h2o2, o2 = ox / 2.0, ox / 2.0
        elif acid == "HCl":
            cl2 = ox / 2.0
        else:
            o2 = ox / 4.0
    w = nO + 2 * h2o2 - 3 * nB - 2 * o2                     # O balance
    h_cons = 3 * nB + 2 * w + 2 * h2 - nH - 2 * h2o2         # H balance
    out = dict(ions)
    out["H+"] = h_cons
    out["H2O"] = w
    if nB:
        out["H3BO3"] = nB
    for k, v in (("H2", h2), ("O2", o2), ("Cl2", cl2)):
        if v:
            out[k] = v
    if cl2:
        out["Cl-"] = -2 * cl2
    if h2o2:
        out["H2O2"] = -h2o2
    return out


def conversion_from_theta(theta, control: str):
    """Shrinking-core conversion X(θ) (vectorised); θ >= 1 gives X = 1."""
    th = np.clip(np.asarray(theta, dtype=float), 0.0, 1.0)
    if control == "surface":
        return 1.0 - (1.0 - th) ** 3
    if control == "diffusion":
        y = 0.5 + np.cos(np.arccos(2.0 * th - 1.0) / 3.0 - 2.0 * np.pi / 3.0)
        y = np.clip(y, 0.0, 1.0)
        return 1.0 - y ** 3
    raise ValueError(f"unknown control '{control}'")


@functools.cache
def _hematite() -> tuple:
    df = load_table("leach_equilibria").set_index("dissolved")
    r = df.loc["Fe+3"]
    return float(r["log10_K__1"]), float(r["dH__kJ_mol"])


def hematite_solubility_coeff(T_C: float) -> float:
    r""":math:`K_T^{1/2}` of Fe2O3 + 6 H+ = 2 Fe3+ + 3 H2O at ``T_C`` [(mol/L)^-2]: dissolved
    Fe(III) in equilibrium is this times :math:`[\mathrm{H^+}]^3`."""
    logK, dH = _hematite()
    T = T_C + 273.15
    return 10.0 ** (0.5 * (logK - dH / (R * math.log(10.0)) * (1.0 / T - 1.0 / 298.15)))


