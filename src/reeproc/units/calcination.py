r"""Calcination of rare-earth oxalates to oxides, by Gibbs-energy minimisation in Cantera.

Model
-----
The calciner is an isothermal, isobaric equilibrium stage at the calciner temperature :math:`T` in air:

.. math::  \min_{n \ge 0} G(T, P, n) = \sum_k n_k \mu_k(T, P)
           \quad\text{s.t.}\quad \sum_k a_{ek} n_k = b_e \;\; \forall e

over an ideal-gas phase (O2, N2, Ar, H2O, CO, CO2, H2, HCl, SO2, NH3, as present; thermo from Cantera's
shipped ``nasa_gas.yaml``) and one fixed-stoichiometry phase per condensed species (rare-earth
oxides Nd2O3, Pr6O11, Dy2O3, Tb4O7, ..., Fe2O3, Co3O4, CoO, B2O3, NaCl, ...), whose thermo is
curated in ``property_data/thermo_solids.csv`` (Cantera ships none for rare earths):
:math:`c_p = a + bT`, :math:`H(T) = \Delta_f H^\circ + \int_{298.15}^T c_p\,dT`,
:math:`S(T) = S^\circ + \int_{298.15}^T c_p/T\,dT` (Shomate form with :math:`A=a`, :math:`B=1000b`).

Species set (a deliberate choice, see implementation notes): condensed species whose tabulated
validity ``T_max`` is below :math:`T` (oxalate hydrates at 900 °C) are left out; praseodymium and
terbium enter only as Pr6O11 and Tb4O7, the oxides reported after calcination in air, because the
PrOx/TbOx phase relations near 900 °C depend on entropies that are not curated (gap). Each condensed
phase is seeded with ~1e-6 of its element budget, and the gas state is reset on every call.

Kinetic gate: thermodynamics decomposes RE oxalates in air far below real calciner temperatures, so
a calciner asked for ``product='oxide'`` raises ``ValueError`` when :math:`T` is below the lowest
temperature at which each rare earth in the feed is reported to reach the oxide
(``property_data/calcination_temperatures.csv``).

Air: :math:`n_{O_2} = \lambda\,n_{O_2}^{stoich}` with the stoichiometric demand
:math:`n_{O_2}^{stoich} = \tfrac12\,[2n_C + \tfrac12(n_H - n_{Cl}) + 2n_S + \sum_M o_M n_M - n_O]`
(products CO2, H2O, HCl, SO2 and each metal M as its reporting oxide with :math:`o_M` O per M).

Heat duty: :math:`Q = H_{out}(T) - H_{in}(T_{in})` [kW], enthalpies including formation, so the
reaction heat (dehydration, oxalate decomposition, CO oxidation) and sensible heat are both in it.
Entrained liquor enters at its own temperature with :math:`\Delta_f H^\circ` of its solutes
(``thermo_aqueous.csv``) and the heat capacity of its water.

Outputs: ``product`` (solid oxide stream) and ``offgas`` (gas stream); the element balance closes to
round-off (1e-10 relative, checked on every call).
"""
from __future__ import annotations

import contextlib
import functools
import io
import math
import threading
from dataclasses import dataclass

import numpy as np

from ..data import MissingDataError, load_table
from ..species import parse_formula, rare_earths, reporting_oxide
from ..stream import Stream
from ._balance import check_number, check_stream
from ._common import UnitResult, air_O2_fraction, with_solvent_water
from .thermo import GAS_NAMES, gas_enthalpy_kJ_mol, nasa_gas_species

__all__ = ["Calciner", "CalcinationResult", "solid_enthalpy_kJ_mol", "residual_mass_fraction",
           "oxide_min_T_C"]

R = 8.314462618  # J/mol/K
T0 = 298.15
#: Cantera reports through Python's sys.stdout; capturing it swaps a process-wide object.
_CANTERA_LOCK = threading.Lock()
#: the gases a calciner's equilibrium may form (those its feed's elements allow)
_GASES = ("O2", "N2", "Ar", "H2O", "CO", "CO2", "H2", "HCl", "SO2", "NH3")


# ------------------------------------------------------------------ thermo data
@functools.cache
def _solid_thermo() -> dict:
    df = load_table("thermo_solids")
    out = {}
    for r in df.itertuples(index=False):
        out[r.species] = {"dHf": r.dHf__kJ_mol, "S": r.S__J_mol_K, "a": r.cp_a__J_mol_K,
                          "b": r.cp_b__J_mol_K_K, "Tmax": r.T_max__K,
                          "confidence": r.confidence}
    return out


def _need(sp: str, key: str, table="thermo_solids") -> float:
    th = _solid_thermo() if table == "thermo_solids" else None
    if sp not in th:
        raise MissingDataError(f"no thermochemical data for solid '{sp}' in "
                               f"property_data/{table}.csv (needed for calcination)")
    v = th[sp][key]
    if v is None or (isinstance(v, float) and math.isnan(v)):
        col = {"dHf": "dHf__kJ_mol", "S": "S__J_mol_K", "a": "cp_a__J_mol_K",
               "b": "cp_b__J_mol_K_K", "Tmax": "T_max__K"}[key]
        raise MissingDataError(f"property_data/{table}.csv: '{sp}' has no value in column "
                               f"'{col}' (needed for calcination); no default is assumed")
    return float(v)


def solid_enthalpy_kJ_mol(species: str, T_K: float) -> float:
    r"""Enthalpy of a condensed species incl. formation [kJ/mol]:
    :math:`\Delta_f H^\circ + a(T - T_0) + \tfrac b2 (T^2 - T_0^2)`."""
    a, b = _need(species, "a"), _need(species, "b")
    return _need(species, "dHf") + (a * (T_K - T0) + 0.5 * b * (T_K ** 2 - T0 ** 2)) / 1000.0


@functools.cache
def _aq_dHf() -> dict:
    df = load_table("thermo_aqueous")
    return {r.species: float(r.dHf__kJ_mol) for r in df.itertuples(index=False)}


def _aqueous_enthalpy_kJ_h(stream: Stream) -> float:
    """Enthalpy of a liquor [kJ/h]: sum of n dHf (infinite dilution) + water Cp (T - 298.15)."""
    tab = _aq_dHf()
    h = 0.0
    for sp, n in stream.mol_h.items():
        if n == 0:
            continue
        if sp not in tab:
            raise MissingDataError(f"property_data/thermo_aqueous.csv has no enthalpy of formation "
                                   f"for dissolved '{sp}' (needed for the calciner heat balance)")
        h += n * tab[sp]
    n_w = stream.mol_h.get("H2O", 0.0)
    h += n_w * _need("H2O", "a") * (stream.T_K - T0) / 1000.0
    return h


def _species_yaml(sp: str) -> str:
    a, b = _need(sp, "a"), _need(sp, "b")
    dHf, S = _need(sp, "dHf"), _need(sp, "S")
    A, B = a, 1000.0 * b
    t0 = T0 / 1000.0
    F = dHf - (A * t0 + B * t0 ** 2 / 2.0)
    G = S - (A * math.log(t0) + B * t0)
    comp = ", ".join(f"{el}: {n:g}" for el, n in parse_formula(sp).items())
    return (f"- name: '{sp}'\n  composition: {{{comp}}}\n  thermo:\n    model: Shomate\n"
            f"    temperature-ranges: [200.0, 6000.0]\n    data:\n"
            f"    - [{A!r}, {B!r}, 0.0, 0.0, 0.0, {F!r}, {G!r}]\n"
            f"  equation-of-state:\n    model: constant-volume\n    molar-volume: 0.05\n")


@functools.lru_cache(maxsize=64)
def _build_phases(gas_species: tuple, solids: tuple):
    """Cantera phases for one species set (cached: built once, reused)."""
    import cantera as ct

    nasa = nasa_gas_species()
    gas = ct.Solution(thermo="ideal-gas", species=[nasa[GAS_NAMES[g]] for g in gas_species])
    phases = []
    for i, sp in enumerate(solids):
        els = sorted(parse_formula(sp))
        yaml = (f"phases:\n- name: s{i}\n  thermo: fixed-stoichiometry\n"
                f"  elements: [{', '.join(els)}]\n  species: ['{sp}']\nspecies:\n" + _species_yaml(sp))
        phases.append(ct.Solution(yaml=yaml, name=f"s{i}"))
    return gas, phases


# ------------------------------------------------------------------ helpers
def residual_mass_fraction(oxalate: str, oxide: str) -> float:
    """Analytic residual mass of calcination [kg oxide / kg oxalate] for one rare earth."""
    from ..species import molar_mass
    el = [e for e in parse_formula(oxide) if e != "O"][0]
    n_ox = parse_formula(oxalate)[el] / parse_formula(oxide)[el]
    return n_ox * molar_mass(oxide) / molar_mass(oxalate)


@functools.cache
def _oxide_min_T() -> dict:
    df = load_table("calcination_temperatures")
    return {r.element: (float(r.oxide_min__C), float(r.dehydration_end__C))
            for r in df.itertuples(index=False)}


def oxide_min_T_C(elements=None) -> float:
    """Lowest calciner temperature [°C] at which the oxalates of all ``elements`` reach the oxide
    in air (``calcination_temperatures.csv``; default: every rare earth in the table).

    >>> oxide_min_T_C(["Nd", "Dy"]), oxide_min_T_C(["Nd", "Pr"])
    (710.0, 800.0)
    """
    table = _oxide_min_T()
    els = sorted(table) if elements is None else list(elements)
    missing = [e for e in els if e not in table]
    if missing:
        raise MissingDataError(f"property_data/calcination_temperatures.csv has no oxide-formation "
                               f"temperature for {missing}")
    return max(table[e][0] for e in els)


@dataclass
class CalcinationResult(UnitResult):
    """Result of :class:`Calciner`.

    Attributes
    ----------
    product : Stream
        Calcined solid [mol/h].
    offgas : Stream
        Off-gas (air N2, excess O2, CO2, H2O, HCl, ...) [mol/h].
    T_C : float
        Calciner temperature [°C].
    residual_mass_fraction : float
        Product mass / mass of solid fed (excluding entrained liquor) [-].
    """

    product: Stream = None
    offgas: Stream = None
    T_C: float = float("nan")
    residual_mass_fraction: float = float("nan")
    heat_duty_complete: bool = True
    _outlet_names: tuple = ("product", "offgas")

    def _summary_rows(self):
        p = self.product
        treo = p.treo_kg_h
        tot = p.total_oxide_kg_h
        return {
            "calciner temperature [°C]": (self.T_C, "°C"),
            "product [kg/h]": (p.total_kg_h, "kg/h"),
            "residual mass [% of solid feed]": (100 * self.residual_mass_fraction, "%"),
            "TREO in product [kg/h]": (treo, "kg/h"),
            "TREO purity, oxide basis [%]": (100 * treo / tot if tot > 0 else float("nan"), "%"),
            "off-gas [mol/h]": (self.offgas.total_mol_h, "mol/h"),
        }


class Calciner:
    r"""Calciner: RE oxalate (plus entrained liquor) to oxide in air, Cantera equilibrium.

    Parameters
    ----------
    T_C : float
        Calciner temperature [°C], 25–1600.
    air_ratio : float
        Air supplied as a multiple λ of the stoichiometric O2 demand [-], >= 1 (default 2.0, a design
        choice, not data). Ignored when ``air_mol_h`` is given.
    air_mol_h : float, optional
        Air flow [mol/h] (overrides ``air_ratio``).
    product : {'oxide', 'equilibrium'}
        'oxide' (default) requires :math:`T` at or above the oxide-formation temperature of every
        rare earth in the feed (``calcination_temperatures.csv``) and raises otherwise;
        'equilibrium' reports the Gibbs minimum whatever the temperature.
    P_bar : float
        Pressure [bar] (default 1.01325).
    air_T_C : float
        Air inlet temperature [°C] (default 25).
    missing_thermo : {'raise', 'report'}
        What to do when an inlet species has no enthalpy (its elements still enter the
        equilibrium): raise MissingDataError (default) or leave it out of the heat duty and say so
        in ``notes`` (``heat_duty_complete = False``).

    Examples
    --------
    >>> from reeproc import Stream
    >>> res = Calciner(900).run(Stream.solid({"Nd2(C2O4)3.10H2O": 1.0}))
    >>> round(100 * res.residual_mass_fraction, 1)
    45.9
    """

    inlets = ("feed", "liquor")
    outlets = ("product", "offgas")

    def __init__(self, T_C: float = 900.0, air_ratio: float = 2.0, air_mol_h=None,
                 product: str = "oxide", P_bar: float = 1.01325, air_T_C: float = 25.0,
                 missing_thermo: str = "raise"):
        self.T_C = check_number(T_C, "Calciner T_C", 25.0, 1600.0, unit="°C")
        self.air_ratio = check_number(air_ratio, "Calciner air_ratio", 1.0, 100.0, unit="-")
        self.air_mol_h = None if air_mol_h is None else check_number(
            air_mol_h, "Calciner air_mol_h", 0.0, None, lo_open=True, unit="mol/h")
        if product not in ("oxide", "equilibrium"):
            raise ValueError(f"Calciner product = {product!r}; allowed: 'oxide', 'equilibrium'")
        self.product = product
        self.P_bar = check_number(P_bar, "Calciner P_bar", 0.01, 100.0, unit="bar")
        self.air_T_C = check_number(air_T_C, "Calciner air_T_C", -50.0, 1000.0, unit="°C")
        if missing_thermo not in ("raise", "report"):
            raise ValueError(f"Calciner missing_thermo = {missing_thermo!r}; allowed: 'raise', 'report'")
        self.missing_thermo = missing_thermo

    # ---------------------------------------------------------------- checks
    def _check_temperature(self, elements: dict) -> None:
        if self.product != "oxide":
            return
        table = _oxide_min_T()
        for el in sorted(set(elements) & set(rare_earths())):
            if elements[el] <= 0:
                continue
            if el not in table:
                raise MissingDataError(
                    f"property_data/calcination_temperatures.csv has no oxide-formation "
                    f"temperature for {el}; cannot check that {self.T_C} °C makes oxide "
                    "(pass product='equilibrium' to skip the check)")
            t_ox, t_dehyd = table[el]
            if self.T_C < t_ox:
                what = ("below the end of dehydration" if self.T_C < t_dehyd
                        else "below oxide formation")
                raise ValueError(
                    f"Calciner T_C = {self.T_C} °C is {what} for {el} oxalate: oxide forms at "
                    f">= {t_ox} °C (dehydration ends near {t_dehyd} °C); allowed range for "
                    f"product='oxide' is [{t_ox}, 1600] °C")

    # ---------------------------------------------------------------- model
    @staticmethod
    def _split_traces(b: dict, rel: float = 1e-7):
        """Take elements below ``rel`` of the total element amount out of the equilibrium (the
        vcs solver does not conserve trace elements to 1e-10) and assign them by fixed
        stoichiometry: metals -> reporting oxide, Cl -> HCl, C -> CO2, N -> N2, S -> SO2."""
        total = sum(v for v in b.values() if v > 0)
        b = dict(b)
        tg: dict = {}
        ts: dict = {}
        for el in sorted(b):
            n = b[el]
            if n <= 0 or n >= rel * total or el in ("O", "H"):
                continue
            if el == "Cl":
                tg["HCl"] = n
                b["H"] -= n
            elif el == "C":
                tg["CO2"] = n
                b["O"] -= 2 * n
            elif el == "N":
                tg["N2"] = n / 2
            elif el == "S":
                tg["SO2"] = n
                b["O"] -= 2 * n
            else:
                try:
                    ox = reporting_oxide(el)
                except ValueError:
                    continue
                f = parse_formula(ox)
                ts[ox] = n / f[el]
                b["O"] -= n * f["O"] / f[el]
            b[el] = 0.0
        if b.get("H", 0.0) < 0 or b.get("O", 0.0) < 0:
            raise ValueError("Calciner: not enough H/O to carry the trace elements")
        return {e: v for e, v in b.items() if v > 0}, tg, ts

    @staticmethod
    def _o2_demand(b: dict) -> float:
        o_req = 2.0 * b.get("C", 0.0) + 0.5 * max(b.get("H", 0.0) - b.get("Cl", 0.0), 0.0) \
            + 2.0 * b.get("S", 0.0)
        for el, n in b.items():
            if el in ("C", "H", "O", "N", "Cl", "S", "Ar"):
                continue
            try:
                ox = reporting_oxide(el)
            except ValueError:
                continue
            f = parse_formula(ox)
            o_req += n * f["O"] / f[el]
        return 0.5 * (o_req - b.get("O", 0.0))

    def _species_sets(self, b: dict):
        els = {e for e, n in b.items() if n > 0}
        T_K = self.T_C + 273.15
        gas = tuple(g for g in _GASES if set(parse_formula(g)) <= els)
        thermo = _solid_thermo()
        solids = []
        for sp, th in thermo.items():
            if sp == "H2O":
                continue
            f = parse_formula(sp)
            if not set(f) <= els:
                continue
            if th["Tmax"] < T_K:
                continue
            if sp in ("Pr2O3", "Tb2O3"):
                continue
            try:
                _species_yaml(sp)
            except MissingDataError:
                continue  # incomplete row: cannot enter the equilibrium (reported below if needed)
            solids.append(sp)
        # every element needs a carrier
        covered = set().union(*(parse_formula(g) for g in gas)) if gas else set()
        for sp in solids:
            covered |= set(parse_formula(sp))
        for el in sorted(els - covered):
            cands = [sp for sp in thermo if el in parse_formula(sp)]
            hint = ""
            for sp in cands:
                try:
                    _species_yaml(sp)
                except MissingDataError as exc:
                    hint = f" ({exc})"
            raise MissingDataError(
                f"Calciner: no gas or condensed species with complete thermo carries element {el} "
                f"at {self.T_C} °C (candidates in thermo_solids.csv: {cands or 'none'}){hint}")
        return gas, tuple(sorted(solids))

    def _initial_moles(self, b, gas, solids):
        """A non-negative species vector with the right element totals (LP feasibility),
        with every condensed phase seeded at ~1e-6 of its element budget."""
        from scipy.optimize import linprog

        names = list(gas) + list(solids)
        els = sorted(e for e, n in b.items() if n > 0)
        A = np.array([[parse_formula(sp).get(e, 0.0) for sp in names] for e in els])
        rhs = np.array([b[e] for e in els])
        lb = np.zeros(len(names))
        for j, sp in enumerate(solids, start=len(gas)):
            f = parse_formula(sp)
            lim = min(b[e] / k for e, k in f.items())
            lb[j] = 1e-6 * lim / max(1, sum(1 for s in solids if set(parse_formula(s)) & set(f)))
        # favour gases: minimise condensed moles -> a vertex with the oxygen left as O2
        c = np.array([0.0] * len(gas) + [1.0] * len(solids))
        for seed in (lb, np.zeros(len(names))):
            res = linprog(c, A_eq=A, b_eq=rhs, bounds=list(zip(seed, [None] * len(names))),
                          method="highs")
            if res.status == 0:
                x = np.maximum(res.x, seed)
                return names, x
        raise ValueError(
            "Calciner: the inlet elements cannot be distributed over the allowed products "
            f"(gas {gas}, solids {solids}); is the air supply sufficient?")

    def _equilibrate(self, b: dict, gas_sp: tuple, solids: tuple) -> np.ndarray:
        """Gibbs minimum [mol/h] of the species ``gas_sp + solids`` for element totals ``b``.

        The problem is solved on a basis of 1 mol of atoms (equilibrium at fixed T and P is
        homogeneous of degree one in the amounts; Cantera's vcs solver has absolute thresholds
        that fail on a trace product of 1e-10 mol/h) and scaled back. vcs conserves elements to
        ~1e-9 only, so the result is projected onto the element totals (a correction weighted by
        each species' amount, which keeps absent species absent). Cantera's solver messages are
        captured and only shown when it fails.
        """
        import cantera as ct

        scale = sum(b.values())
        bs = {e: v / scale for e, v in b.items()}
        gas, phases = _build_phases(gas_sp, solids)
        names, x0 = self._initial_moles(bs, gas_sp, solids)
        T_K = self.T_C + 273.15
        P = self.P_bar * 1e5
        # reset gas state on every call (Mixture writes its result back into the phases)
        ng = len(gas_sp)
        xg = x0[:ng]
        gas.TPX = T_K, P, (xg / xg.sum() if xg.sum() > 0 else np.ones(ng) / ng)
        for ph in phases:
            ph.TP = T_K, P
        mix = ct.Mixture([(gas, max(xg.sum(), 1e-300))] + [(ph, x0[ng + i]) for i, ph in enumerate(phases)])
        mix.T, mix.P = T_K, P
        mix.species_moles = x0
        chatter = io.StringIO()
        with _CANTERA_LOCK, contextlib.redirect_stdout(chatter):
            try:
                mix.equilibrate("TP", solver="vcs", max_steps=5000, estimate_equil=0)
            except ct.CanteraError:
                mix.species_moles = x0
                try:
                    mix.equilibrate("TP", solver="gibbs", max_steps=5000)
                except ct.CanteraError as exc:
                    said = " ".join(chatter.getvalue().split())
                    raise RuntimeError(
                        f"Calciner: Cantera equilibrium failed at {self.T_C} °C (species "
                        f"{names}): {exc}" + (f" (solver said: {said[:300]})" if said else "")
                    ) from None
        n = np.maximum(np.asarray(mix.species_moles), 0.0)
        # project onto the element totals: n' = n + W A^T (A W A^T)^-1 (b - A n), W = diag(n)
        els = sorted(e for e, v in bs.items() if v > 0)
        A = np.array([[parse_formula(sp).get(e, 0.0) for sp in names] for e in els])
        target = np.array([bs[e] for e in els])
        for _ in range(3):
            r = target - A @ n
            if np.max(np.abs(r) / target) <= 1e-14:
                break
            W = n / max(n.max(), 1e-300)
            M = (A * W) @ A.T
            try:
                lam = np.linalg.lstsq(M, r, rcond=None)[0]
            except np.linalg.LinAlgError:  # pragma: no cover - A W A^T of a feasible set
                break
            n = np.maximum(n + W * (A.T @ lam), 0.0)
        return n * scale

    def run(self, feed: Stream, liquor: Stream | None = None) -> CalcinationResult:
        """Calcine a solid feed (and optional entrained liquor).

        Parameters
        ----------
        feed : Stream
            Solid stream (oxalates, hydroxides, oxides, moisture 'H2O') [mol/h].
        liquor : Stream, optional
            Aqueous liquor entrained with the cake [L/h]; its solutes dry and decompose in the
            calciner and its water evaporates.

        Returns
        -------
        CalcinationResult
        """
        check_stream(feed, "feed", "solid", "Calciner")
        inlets = {"feed": feed}
        notes = []
        if liquor is not None:
            check_stream(liquor, "liquor", "aqueous", "Calciner")
            inlets["liquor"] = liquor
            liquor, added = with_solvent_water(liquor)
            if added is not None:
                inlets["liquor solvent water"] = added
                notes.append("entrained liquor carried no 'H2O': solvent water added at "
                             "flow_L_h x 55.3 mol/L (reported as an inlet)")
        b: dict = {}
        for s in inlets.values():
            for el, n in s.element_mol_h().items():
                b[el] = b.get(el, 0.0) + n
        if not any(n > 0 for n in b.values()):
            raise ValueError("Calciner: the feed is empty (no species with a non-zero flow): "
                             "nothing reached it upstream, e.g. no oxalate precipitated")
        self._check_temperature(b)
        # air
        demand = self._o2_demand(b)
        xO2 = air_O2_fraction()
        if self.air_mol_h is not None:
            air = self.air_mol_h
        else:
            n_metal = sum(n for e, n in b.items() if e not in ("C", "H", "O", "N", "Cl", "S"))
            o2 = self.air_ratio * demand if demand > 0 else 1e-3 * max(n_metal, 1e-12)
            air = o2 / xO2
        air_stream = Stream.gas({"O2": air * xO2, "N2": air * (1 - xO2)}, T_C=self.air_T_C,
                                name="calciner air")
        inlets["air"] = air_stream
        for el, n in air_stream.element_mol_h().items():
            b[el] = b.get(el, 0.0) + n
        if demand > 0 and air * xO2 < demand * (1 - 1e-12):
            notes.append(f"air supplies {air * xO2:.4g} mol/h O2, below the stoichiometric "
                         f"{demand:.4g} mol/h: product may be reduced (CO, lower oxides)")

        b, trace_gas, trace_solid = self._split_traces(b)
        if trace_gas or trace_solid:
            notes.append("trace elements (< 1e-7 of the element total) assigned by fixed "
                         "stoichiometry outside the equilibrium: "
                         + ", ".join(sorted(set(trace_gas) | set(trace_solid))))
        gas_sp, solids = self._species_sets(b)
        n = self._equilibrate(b, gas_sp, solids)
        ng = len(gas_sp)
        T_K = self.T_C + 273.15
        # outlets: drop a species only if it is negligible (< 1e-14) for every element it carries
        def keep(sp, nk):
            return nk > 0 and any(nk * k >= 1e-14 * b[e] for e, k in parse_formula(sp).items())
        gas_out = {g: float(n[i]) for i, g in enumerate(gas_sp) if keep(g, n[i])}
        solid_out = {sp: float(n[ng + i]) for i, sp in enumerate(solids) if keep(sp, n[ng + i])}
        for sp, v in trace_gas.items():
            gas_out[sp] = gas_out.get(sp, 0.0) + v
        for sp, v in trace_solid.items():
            solid_out[sp] = solid_out.get(sp, 0.0) + v
        offgas = Stream.gas(gas_out, T_C=self.T_C, name="calciner off-gas")
        product = Stream.from_mol_h("solid", solid_out, T_C=self.T_C, name="calcined oxide")
        # heat duty
        h_out = 0.0
        for g, v in gas_out.items():
            h_out += v * gas_enthalpy_kJ_mol(g, T_K)
        for sp, v in solid_out.items():
            h_out += v * solid_enthalpy_kJ_mol(sp, T_K)
        h_in, missing = 0.0, []
        for g, v in air_stream.mol_h.items():
            h_in += v * gas_enthalpy_kJ_mol(g, air_stream.T_K)
        for key, s in inlets.items():
            if key in ("air", "liquor solvent water"):
                continue
            if key == "liquor":
                s = liquor  # with its solvent water
            if s.phase == "aqueous":
                try:
                    h_in += _aqueous_enthalpy_kJ_h(s)
                except MissingDataError as exc:
                    if self.missing_thermo == "raise":
                        raise
                    missing.append(str(exc))
                continue
            for sp, m in s.mol_h.items():
                if m == 0:
                    continue
                try:
                    h_in += m * solid_enthalpy_kJ_mol(sp, s.T_K)
                except MissingDataError as exc:
                    if self.missing_thermo == "raise":
                        raise MissingDataError(f"Calciner heat duty: {exc}") from None
                    missing.append(f"{sp}: {exc}")
        if missing:
            notes.append("heat duty leaves out inlet species without thermo: " + "; ".join(missing))
        est = sorted({sp for s in inlets.values() if s.phase == "solid" for sp in s.mol_h
                      if _solid_thermo().get(sp, {}).get("confidence") == "estimated"}
                     | {sp for sp in solid_out if _solid_thermo()[sp]["confidence"] == "estimated"})
        if est:
            notes.append("thermo flagged 'estimated' used for: " + ", ".join(est))
        Q_kW = float(h_out - h_in) / 3600.0
        solid_in_kg = feed.total_kg_h
        res = CalcinationResult(
            product=product, offgas=offgas, T_C=self.T_C,
            residual_mass_fraction=product.total_kg_h / solid_in_kg if solid_in_kg > 0 else float("nan"),
            heat_duty_complete=not missing,
            inlet_streams=inlets,
            reagent_streams=[air_stream] + ([inlets["liquor solvent water"]]
                                            if "liquor solvent water" in inlets else []),
            reagents_kg_h={"air": air_stream.total_kg_h},
            energy_kW={"heat": Q_kW}, notes=notes)
        res._close("Calciner")
        return res
