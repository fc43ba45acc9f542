"""Equilibrium models for the SX cascade.

Every model maps the aqueous composition of a stage to the organic composition in equilibrium
with it, through a distribution ratio ``D_i = y_i / x_i`` ([mol/L org] / [mol/L aq]) that may
depend on the stage's pH and on its *free* (not yet loaded) extractant. The numba kernel uses a
single generic form::

    log10 D_i = k0_i + kf_i*log10(f) + kh_i*pH + kfh_i*f*pH

with ``f`` the local free extractant, found from the extractant balance of the equilibrium organic
``f + sum_i sc_i*D_i*x_i = fT``. Each model below documents its own equations and fills these
coefficients. Species that a model does not list are *inert*: they stay in the aqueous phase
(D = 0) and the cascade result names them.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from ..data import MissingDataError, load_table
from ..species import get_species, molar_mass

__all__ = ["EquilibriumModel", "ConstantD", "PhCorrelation", "MassAction", "Extractant",
           "load_extractant", "KA2_HSO4"]


@functools.cache
def _ka2() -> float:
    df = load_table("sx_constants").set_index("name")
    return 10.0 ** float(df.loc["Ka2_HSO4", "log10_value__1"])


#: HSO4- = H+ + SO4 2- dissociation constant [mol/L] (sx_constants.csv, Dickson et al. 1990).
KA2_HSO4 = None  # filled lazily by _ka2() to avoid reading tables at import


# Metals that an acidic extractant takes up: a MassAction model without parameters for one of
# them refuses to treat it as inert.
_EXTRACTABLE = {"La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm",
                "Yb", "Lu", "Y", "Sc", "Fe+3", "Al", "Co", "Ni", "Cu", "Zn", "Mn", "Ca"}


@dataclass(frozen=True)
class Extractant:
    """An acidic extractant and its data (from ``sx_extractants.csv`` and ``sx_kex.csv``).

    Attributes
    ----------
    name : str
        'D2EHPA', 'PC88A' or 'Cyanex272'.
    molar_mass : float
        [g/mol], from the species formula.
    density : float
        Neat extractant density [g/mL].
    kex : dict
        species -> (log10 Kex [-], dimers bound n [-], H+ released z [-]).
    sources : dict
        species -> (source, confidence).
    """

    name: str
    molar_mass: float
    density: float
    kex: dict = field(repr=False)
    sources: dict = field(repr=False)

    def mol_L_per_vol_pct(self) -> float:
        """Monomer concentration [mol/L] given by 1 vol% of neat extractant in the diluent."""
        return 10.0 * self.density / self.molar_mass

    def separation_factor(self, heavier: str, lighter: str) -> float:
        """beta = Kex(heavier)/Kex(lighter) [-] at equal conditions."""
        for sp in (heavier, lighter):
            if sp not in self.kex:
                raise MissingDataError(
                    f"sx_kex: no Kex for species '{sp}' with extractant {self.name}; "
                    f"available: {sorted(self.kex)}")
        return 10.0 ** (self.kex[heavier][0] - self.kex[lighter][0])


_ALIASES = {"P507": "PC88A", "HEHEHP": "PC88A", "EHEHPA": "PC88A", "HDEHP": "D2EHPA",
            "DEHPA": "D2EHPA", "CYANEX272": "Cyanex272", "CYANEX 272": "Cyanex272",
            "PC-88A": "PC88A"}


def load_extractant(name: str, medium: str = "chloride") -> Extractant:
    """Read an extractant and its extraction constants from property_data.

    Parameters
    ----------
    name : str
        'PC88A' (alias 'P507'), 'D2EHPA' or 'Cyanex272'.
    medium : str
        Aqueous medium of the constants ('chloride').
    """
    key = _ALIASES.get(str(name).upper(), _ALIASES.get(str(name), str(name)))
    ext = load_table("sx_extractants").set_index("extractant")
    if key not in ext.index:
        raise ValueError(f"extractant={name!r} is unknown; allowed: {sorted(ext.index)} "
                         f"(aliases {sorted(_ALIASES)})")
    row = ext.loc[key]
    dens = float(row["density__g_mL"])
    if not math.isfinite(dens):
        raise MissingDataError(f"sx_extractants: density__g_mL of {key} is missing")
    mm = molar_mass(get_species(row["species"], "organic").formula)
    kt = load_table("sx_kex")
    kt = kt[(kt["extractant"] == key) & (kt["medium"] == medium)]
    if kt.empty:
        raise MissingDataError(f"sx_kex: no constants for extractant {key} in medium {medium!r}")
    kex, src = {}, {}
    for r in kt.itertuples(index=False):
        vals = (r.log10_Kex__1, r.n_dimer__1, r.n_H__1)
        if not all(math.isfinite(v) for v in vals):
            continue  # a missing value: the species is simply not available
        kex[r.species] = (float(r.log10_Kex__1), float(r.n_dimer__1), float(r.n_H__1))
        src[r.species] = (r.source, r.confidence)
    return Extractant(key, mm, dens, kex, src)


def _check_species(name: str) -> None:
    """An extractable species: a metal (or saponification) cation of species.csv; H+ and anions
    are the cascade's own bookkeeping, never 'metals'."""
    try:
        sp = get_species(name, "aqueous")
    except ValueError as exc:
        raise ValueError(f"species {name!r} is not an aqueous species known to reeproc: {exc}") \
            from None
    if sp.phase != "any" and (name == "H+" or sp.charge <= 0):
        raise ValueError(f"species {name!r} (charge {sp.charge:+d}) is not an extractable cation: "
                         "H+ and anions are balanced by the cascade itself")


def _check_eff(value, what="value"):
    """A finite number (booleans and text refused, the argument named)."""
    from .._validate import as_number

    return as_number(what, value)


class EquilibriumModel:
    """Base class: subclasses fill the generic kernel coefficients.

    Attributes
    ----------
    species : tuple of str
        Aqueous species the model extracts (others are inert).
    """

    uses_h = False
    uses_f = False
    extractant_species: str | None = None

    @property
    def species(self) -> tuple:
        raise NotImplementedError

    def check_inlet_species(self, names) -> None:
        """Raise if an inlet carries a species the model should know but does not."""

    def coefficients(self, species, chloride):
        """Kernel coefficients for ``species`` (ordered) given per-stage [Cl-] [mol/L].

        Returns dict with k0 (nst, S), kf, kh, kfh, sc, z (S,), fT (float).
        """
        raise NotImplementedError

    def organic_additions(self, organic_flow_conc: dict) -> dict:
        """Species [mol/L] added to the organic entering stage 1 (e.g. saponification)."""
        return {}

    def total_extractant(self, organic_conc: dict):
        """Total extractant in the model's ``f`` units, or None."""
        return None


class ConstantD(EquilibriumModel):
    """Constant distribution ratio per species.

    ``y_i = D_i x_i`` with ``D_i`` [-] (mol/L organic per mol/L aqueous) independent of pH and
    loading; no extractant balance.

    Parameters
    ----------
    D : dict
        species -> D_i >= 0 [-].
    """

    def __init__(self, D: dict):
        if not isinstance(D, dict) or not D:
            raise ValueError(f"D must be a non-empty dict species -> distribution ratio, got {D!r}")
        for sp, v in D.items():
            _check_species(sp)
            v = _check_eff(v, f"D[{sp!r}]")
            if v < 0:
                raise ValueError(f"D[{sp!r}]={v} is negative; a distribution ratio must be >= 0")
        self.D = {k: float(v) for k, v in D.items()}

    @property
    def species(self):
        return tuple(self.D)

    def coefficients(self, species, chloride):
        nst = len(chloride)
        S = len(species)
        with np.errstate(divide="ignore"):
            k0 = np.log10(np.array([self.D[s] for s in species], dtype=float))
        return dict(k0=np.tile(k0, (nst, 1)), kf=np.zeros(S), kh=np.zeros(S), kfh=np.zeros(S),
                    sc=np.zeros(S), z=np.zeros(S), fT=1.0)

    def __repr__(self):
        return f"ConstantD({self.D})"


class PhCorrelation(EquilibriumModel):
    """Empirical pH/dosage correlation (the form used by PrOMMiS for DEHPA + TBP, sulfate media).

    For correlated species::

        log10 D_i = (m0_i + m1_i*dos)*pH + B0_i + B1_i*log10(dos)

    with ``dos`` the LOCAL free-extractant dosage [vol%] of the stage's organic,
    ``dos = dos0 - (1/c1) * sum_i n_i y_i``, where ``c1`` [mol/L per vol%] converts a dosage to
    a monomer concentration and ``n_i`` is the number of extractant molecules bound per metal
    (3 for RE3+, 2 for Ca2+). Impurities have a constant D (still consuming extractant).
    Each metal releases ``z_i`` H+ to the aqueous phase; pH per stage follows from the proton
    balance including HSO4- = H+ + SO4 2- (Ka2 = 10^-1.99 mol/L) in sulfate media.

    The correlation has no loading limit: with the DEHPA rows, D of La and Pr does not depend
    on the dosage (B1 = 0) and D of Ce and Nd rises as it falls (B1 < 0), so nothing stops a
    loaded organic from binding more than its extractant. A cascade whose organic flow is
    too small for its feed therefore has no steady state in this model; the solver refuses
    it with ``ExtractantCapacityError``, which gives the organic flow [L/h] where the steady
    state ends (``docs/sx.md``, Refusals). ``MassAction`` saturates instead.

    Parameters
    ----------
    dosage_vol_pct : float
        Extractant dosage of the fresh organic [vol%], 0 < dos <= 100.
    species : iterable of str, optional
        Species to include (default: all rows of ``sx_ph_correlations`` for the extractant).
    extractant : str
        Table key ('D2EHPA').
    dosage_basis : {'total', 'free'}
        'total' (default): ``dosage_vol_pct`` is all the extractant of the organic inlet.
        'free': it is the *free* extractant of the organic inlet, whose metals bind more
        (n_i y_i / c1 vol% each), as published cases that recycle a loaded organic state it.
    extractant_density_g_mL : float, optional
        Neat extractant density [g/mL] for the vol% -> mol/L conversion (default: the
        ``sx_extractants`` value).
    extractant_molar_mass_g_mol : float, optional
        Extractant molar mass [g/mol] (default: from the species formula).
    """

    uses_h = True
    uses_f = True

    def __init__(self, dosage_vol_pct: float, species=None, extractant: str = "D2EHPA",
                 dosage_basis: str = "total", extractant_density_g_mL: float | None = None,
                 extractant_molar_mass_g_mol: float | None = None):
        dos = _check_eff(dosage_vol_pct, "dosage_vol_pct")
        if not 0.0 < dos <= 100.0:
            raise ValueError(f"dosage_vol_pct={dos} must lie in (0, 100] vol%")
        if dosage_basis not in ("total", "free"):
            raise ValueError(f"dosage_basis={dosage_basis!r}; allowed: 'total', 'free'")
        self.dosage = dos
        self.dosage_basis = dosage_basis
        ext = load_extractant(extractant)
        if extractant_density_g_mL is not None:
            d = _check_eff(extractant_density_g_mL, "extractant_density_g_mL")
            if not 0.5 <= d <= 2.0:
                raise ValueError(f"extractant_density_g_mL={d} must lie in [0.5, 2.0] g/mL "
                                 "(organophosphorus extractants are 0.9-1.0 g/mL)")
            ext = Extractant(ext.name, ext.molar_mass, d, ext.kex, ext.sources)
        if extractant_molar_mass_g_mol is not None:
            mm = _check_eff(extractant_molar_mass_g_mol, "extractant_molar_mass_g_mol")
            if not 50.0 <= mm <= 2000.0:
                raise ValueError(f"extractant_molar_mass_g_mol={mm} must lie in [50, 2000] "
                                 "g/mol")
            ext = Extractant(ext.name, mm, ext.density, ext.kex, ext.sources)
        self.extractant = ext
        tab = load_table("sx_ph_correlations")
        tab = tab[tab["extractant"] == self.extractant.name].set_index("species")
        if species is None:
            species = list(tab.index)
        self.params = {}
        for sp in species:
            _check_species(sp)
            if sp not in tab.index:
                raise MissingDataError(
                    f"sx_ph_correlations: no correlation for species {sp!r} with "
                    f"{self.extractant.name}; available: {sorted(tab.index)}")
            r = tab.loc[sp]
            n_ext, n_h = float(r["n_ext__1"]), float(r["n_H__1"])
            if math.isfinite(r["D_const__1"]):
                self.params[sp] = ("const", float(r["D_const__1"]), n_ext, n_h)
            else:
                vals = [float(r[c]) for c in ("m0__1", "m1__per_vol_pct", "B0__1", "B1__1")]
                if not all(math.isfinite(v) for v in vals):
                    raise MissingDataError(f"sx_ph_correlations: incomplete row for {sp!r}")
                self.params[sp] = ("corr", vals, n_ext, n_h)

    @property
    def species(self):
        return tuple(self.params)

    def coefficients(self, species, chloride):
        nst, S = len(chloride), len(species)
        k0 = np.zeros(S); kf = np.zeros(S); kh = np.zeros(S); kfh = np.zeros(S)
        sc = np.zeros(S); z = np.zeros(S)
        c1 = self.extractant.mol_L_per_vol_pct()
        for i, sp in enumerate(species):
            kind, vals, n_ext, n_h = self.params[sp]
            if kind == "const":
                k0[i] = math.log10(vals) if vals > 0 else -np.inf
            else:
                m0, m1, b0, b1 = vals
                k0[i], kf[i], kh[i], kfh[i] = b0, b1, m0, m1
            sc[i] = n_ext / c1
            z[i] = n_h
        return dict(k0=np.tile(k0, (nst, 1)), kf=kf, kh=kh, kfh=kfh, sc=sc, z=z,
                    fT=self.dosage if self.dosage_basis == "total" else None)

    def total_extractant(self, organic_conc):
        """Total extractant of the organic inlet [vol%]: the dosage, plus (basis 'free') what
        the inlet's metals bind."""
        if self.dosage_basis == "total":
            return self.dosage
        c1 = self.extractant.mol_L_per_vol_pct()
        return self.dosage + sum(self.params[sp][2] * c / c1
                                 for sp, c in organic_conc.items() if sp in self.params)

    def __repr__(self):
        return (f"PhCorrelation({self.extractant.name}, {self.dosage} vol% "
                f"({self.dosage_basis}), {list(self.params)})")


class MassAction(EquilibriumModel):
    """Mass-action cation exchange with an acidic extractant dimer, loading-aware.

    For each metal ``M^z+ + n (HA)2(org) = M(A)z(HA)(2n-z)(org) + z H+`` (n = z = 3 for RE3+)::

        D_i = Kex_i * [(HA)2]free^n_i / ([H+]^z_i * alpha_i),
        alpha_i = 1 + beta1_i [Cl-] + beta2_i [Cl-]^2     (optional chloride complexation)
        [(HA)2]free + sum_i n_i y_i = C_HA / 2            (extractant balance, each stage)

    so the free extractant falls as the organic loads and all metals compete for it; D_i/D_j =
    Kex_i/Kex_j at every stage when alpha is species-independent. Each extracted metal releases
    z_i H+ into that stage's aqueous phase (proton balance per stage, HSO4- included if sulfate
    is present). Concentrations are used in place of activities.

    Pre-saponification: a fraction ``s`` of the extractant enters stage 1 in the Na form
    (``Na = s * C_HA`` in the organic), modelled as the exchange ``Na+ + 0.5 (HA)2 = NaA + H+``
    with its own (estimated) constant, so RE loading releases Na+ instead of H+.

    Parameters
    ----------
    extractant : str or Extractant
        'PC88A' (P507), 'D2EHPA' or 'Cyanex272'.
    concentration_mol_L : float, optional
        Total extractant as monomer HA [mol/L] in the organic. If None, it is read from the
        extractant species of the organic inlet stream (e.g. ``{"PC88A": 1.0}``).
    species : iterable of str, optional
        Metals to model (default: every species with a Kex for this extractant).
    saponification : float
        Fraction of HA neutralised (0 <= s < 1) in the organic entering stage 1.
    chloride_complexation : bool
        Divide D by the chloride complexation factor alpha (sx_chloride_complexes.csv).
    kex_override : dict, optional
        species -> log10 Kex to replace table values (e.g. for fitting); recorded in ``repr``.
    """

    uses_h = True
    uses_f = True

    def __init__(self, extractant="PC88A", concentration_mol_L=None, species=None,
                 saponification: float = 0.0, chloride_complexation: bool = False,
                 kex_override: dict | None = None):
        self.extractant = (extractant if isinstance(extractant, Extractant)
                           else load_extractant(extractant))
        self.extractant_species = self.extractant.name
        if concentration_mol_L is not None:
            c = _check_eff(concentration_mol_L, "concentration_mol_L")
            if not 0.0 < c <= 4.0:
                raise ValueError(f"concentration_mol_L={c} must lie in (0, 4] mol/L of "
                                 "monomer extractant")
            concentration_mol_L = c
        self.concentration = concentration_mol_L
        s = _check_eff(saponification, "saponification")
        if not 0.0 <= s < 1.0:
            raise ValueError(f"saponification={s} must lie in [0, 1) (fraction of HA "
                             "neutralised)")
        self.saponification = s
        self.chloride_complexation = bool(chloride_complexation)
        kex = dict(self.extractant.kex)
        for sp, v in (kex_override or {}).items():
            _check_species(sp)
            if sp not in kex:
                raise ValueError(
                    f"kex_override[{sp!r}]: {self.extractant.name} has no extraction row for "
                    f"{sp!r} in sx_kex.csv, so its stoichiometry (dimers bound, protons "
                    f"released) is unknown; species with a row: {sorted(kex)}")
            base = kex[sp]
            kex[sp] = (_check_eff(v, f"kex_override[{sp!r}]"), base[1], base[2])
        self.kex_override = dict(kex_override or {})
        if species is None:
            species = [sp for sp in kex if sp != "Na"]
        species = list(species)
        for sp in species:
            _check_species(sp)
            if sp not in kex:
                raise MissingDataError(
                    f"sx_kex: no Kex for species {sp!r} with extractant "
                    f"{self.extractant.name}; available: {sorted(kex)}")
        if s > 0.0 and "Na" not in species:
            if "Na" not in kex:
                raise MissingDataError(f"sx_kex: no Na (saponification) constant for "
                                       f"{self.extractant.name}")
            species.append("Na")
        self._species = tuple(species)
        self.kex = {sp: kex[sp] for sp in species}
        self._beta_cl = None
        if self.chloride_complexation:
            tab = load_table("sx_chloride_complexes").set_index("species")
            self._beta_cl = {}
            for sp in species:
                if sp == "Na":
                    continue
                if sp not in tab.index:
                    raise MissingDataError(
                        f"sx_chloride_complexes: no chloride constants for {sp!r}; use "
                        "chloride_complexation=False or drop the species")
                self._beta_cl[sp] = (10 ** float(tab.loc[sp, "log10_beta1__1"]),
                                     10 ** float(tab.loc[sp, "log10_beta2__1"]))

    @property
    def species(self):
        return self._species

    def check_inlet_species(self, names):
        missing = sorted(n for n in names if n in _EXTRACTABLE and n not in self._species)
        if missing:
            raise MissingDataError(
                f"MassAction({self.extractant.name}): inlet species {missing} are extracted by "
                f"acidic extractants but have no Kex in this model (species={list(self._species)})"
                "; add them (species=...) or remove them from the feed")

    def coefficients(self, species, chloride):
        nst, S = len(chloride), len(species)
        k0 = np.zeros((nst, S)); kf = np.zeros(S); kh = np.zeros(S)
        sc = np.zeros(S); z = np.zeros(S)
        for i, sp in enumerate(species):
            lk, n, zz = self.kex[sp]
            k0[:, i] = lk
            if self._beta_cl is not None and sp in self._beta_cl:
                b1, b2 = self._beta_cl[sp]
                k0[:, i] -= np.log10(1.0 + b1 * chloride + b2 * chloride ** 2)
            kf[i], kh[i], sc[i], z[i] = n, zz, n, zz
        return dict(k0=k0, kf=kf, kh=kh, kfh=np.zeros(S), sc=sc, z=z, fT=None)

    def total_extractant(self, organic_conc):
        """Total dimer (HA)2 [mol/L] = C_HA / 2."""
        c = self.concentration
        if c is None:
            c = organic_conc.get(self.extractant.name, 0.0)
            if not c > 0:
                raise ValueError(
                    f"MassAction({self.extractant.name}): concentration_mol_L not given and the "
                    f"organic inlet carries no '{self.extractant.name}' species")
        return 0.5 * c

    def organic_additions(self, organic_conc):
        if self.saponification > 0.0:
            return {"Na": self.saponification * 2.0 * self.total_extractant(organic_conc)}
        return {}

    def __repr__(self):
        return (f"MassAction({self.extractant.name}, C={self.concentration} mol/L, "
                f"species={list(self._species)}, saponification={self.saponification}, "
                f"chloride_complexation={self.chloride_complexation}"
                + (f", kex_override={self.kex_override}" if self.kex_override else "") + ")")
