"""Process streams.

A :class:`Stream` is one phase (aqueous, organic, solid or gas) at one temperature, described by
the molar flow of each species [mol/h] and, for liquids, the volumetric flow [L/h]. Concentrations,
mass flows, element flows and the oxide basis are derived from that state.

Conventions
-----------
* Default units: volumetric flow [L/h], concentration [mol/L], molar flow [mol/h], mass flow
  [kg/h], temperature [°C] in constructors (kept internally in [K]).
* Oxide basis: every metal element (and B, Si) is counted as its reporting oxide
  (``property_data/elements.csv``: Nd2O3, Pr6O11, Tb4O7, CeO2, Fe2O3, Co3O4, ...). Non-metals (H, C,
  N, O, Cl, S, ...) do not enter the oxide basis. TREO is the sum over rare-earth oxides. The purity
  of a product is the mass fraction of the target oxide(s) in the total oxide mass: the figure
  judged against the 99.5 % target.
* Mixing assumes additive volumes and a flow-weighted temperature (no heat of mixing, equal
  volumetric heat capacity); both are stated approximations for dilute process liquors.

>>> s = Stream.aqueous(100.0, {"Nd": 0.2, "Pr": 0.05, "H+": 0.1, "Cl-": 0.85})
>>> round(s.treo_kg_h, 4)
4.216
>>> round(s.purity("Nd"), 4)
0.7981
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .data import MissingDataError
from .species import (
    PHASES,
    get_species,
    rare_earths,
    reporting_oxide,
    molar_mass,
    parse_formula,
    element_of_oxide,
)

__all__ = ["Stream", "mix", "element_closure", "charge_closure"]

ZERO_C_IN_K = 273.15
#: Concentration above which a dissolved species [mol/L] is taken as a unit mistake (g/L passed
#: as mol/L). The most soluble species handled (HCl, LiCl-type brines) stay below ~20 mol/L;
#: only water itself (55.5 mol/L) is above it.
_MAX_CONC_MOL_L = 20.0


def _check_number(value, name: str, *, allow_zero: bool = True) -> float:
    if isinstance(value, (bool, np.bool_, str, bytes)):
        kind = "a boolean" if isinstance(value, (bool, np.bool_)) else "text"
        raise ValueError(f"{name} must be a number, got {value!r} ({kind} is not a number)")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(v) or math.isinf(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if v < 0 or (v == 0 and not allow_zero):
        allowed = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {allowed}, got {v}")
    return v


def _check_T(T_C) -> float:
    try:
        t = float(T_C)
    except (TypeError, ValueError):
        raise ValueError(f"T_C must be a number [°C], got {T_C!r}") from None
    if not math.isfinite(t) or t <= -ZERO_C_IN_K:
        raise ValueError(f"T_C must be a finite temperature above -273.15 °C, got {T_C}")
    if t > 3000:
        raise ValueError(
            f"T_C = {t} °C is above 3000 °C; temperatures are in degrees Celsius (did you pass K?)"
        )
    return t + ZERO_C_IN_K


class Stream:
    """A single-phase process stream.

    Use the named constructors :meth:`aqueous`, :meth:`organic`, :meth:`solid`, :meth:`gas` or
    :meth:`from_mol_h` rather than the initialiser.

    Parameters
    ----------
    phase : {'aqueous', 'organic', 'solid', 'gas'}
    mol_h : mapping of str to float
        Molar flow of each species [mol/h].
    flow_L_h : float or None
        Volumetric flow [L/h]; required for liquids, None for solids and gases.
    T_C : float
        Temperature [°C].
    name : str
        Label used in reports.
    """

    __slots__ = ("phase", "name", "T_K", "_flow", "_mol")

    def __init__(self, phase: str, mol_h: Mapping[str, float], flow_L_h=None, T_C=25.0, name=""):
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
        liquid = phase in ("aqueous", "organic")
        if liquid:
            if flow_L_h is None:
                raise ValueError(f"flow_L_h [L/h] is required for an {phase} stream")
            flow = _check_number(flow_L_h, f"flow_L_h [L/h] of {phase} stream {name!r}")
        else:
            if flow_L_h is not None:
                raise ValueError(
                    f"a {phase} stream has no volumetric flow; pass flow_L_h=None (got {flow_L_h})"
                )
            flow = None
        mol: dict[str, float] = {}
        if not isinstance(mol_h, Mapping):
            raise ValueError(f"mol_h must be a mapping species -> mol/h, got {type(mol_h).__name__}")
        for sp, n in mol_h.items():
            get_species(sp, phase)  # raises for unknown species
            mol[sp] = _check_number(n, f"molar flow of '{sp}' [mol/h] in stream {name!r}")
        if liquid and flow == 0.0 and any(v > 0 for v in mol.values()):
            raise ValueError(
                f"{phase} stream {name!r} has zero flow_L_h but non-zero species flows"
            )
        self.phase = phase
        self.name = str(name)
        self.T_K = _check_T(T_C)
        self._flow = flow
        self._mol = mol

    # ----------------------------------------------------------------- constructors
    @classmethod
    def aqueous(cls, flow_L_h: float, conc_mol_L: Mapping[str, float], T_C: float = 25.0,
                name: str = "") -> "Stream":
        """Aqueous stream from a flow [L/h] and concentrations [mol/L].

        Species names follow ``property_data/species.csv`` (``Nd`` for Nd(III), ``Fe+3``,
        ``H+``, ``Cl-``, ...). A concentration above 20 mol/L is rejected as a likely unit
        mistake (g/L passed as mol/L), except for water.
        """
        return cls._liquid("aqueous", flow_L_h, conc_mol_L, T_C, name)

    @classmethod
    def organic(cls, flow_L_h: float, conc_mol_L: Mapping[str, float], T_C: float = 25.0,
                name: str = "") -> "Stream":
        """Organic (solvent) stream from a flow [L/h] and concentrations [mol/L]."""
        return cls._liquid("organic", flow_L_h, conc_mol_L, T_C, name)

    @classmethod
    def _liquid(cls, phase, flow_L_h, conc, T_C, name):
        flow = _check_number(flow_L_h, f"flow_L_h [L/h] of {phase} stream {name!r}")
        if not isinstance(conc, Mapping):
            raise ValueError(
                f"concentrations must be a mapping species -> mol/L, got {type(conc).__name__}"
            )
        mol = {}
        for sp, c in conc.items():
            c = _check_number(c, f"concentration of '{sp}' [mol/L] in {phase} stream {name!r}")
            if c > _MAX_CONC_MOL_L and sp != "H2O":
                raise ValueError(
                    f"concentration of '{sp}' = {c} mol/L exceeds {_MAX_CONC_MOL_L} mol/L, more "
                    "than any salt or acid dissolves: concentrations are in mol/L (was g/L passed?)"
                )
            mol[sp] = c * flow
        return cls(phase, mol, flow_L_h=flow, T_C=T_C, name=name)

    @classmethod
    def from_conc_array(cls, phase: str, flow_L_h: float, species, conc_mol_L, T_C: float = 25.0,
                        name: str = "") -> "Stream":
        """Liquid stream from a flow [L/h], a sequence of species names and an array of their
        concentrations [mol/L] (a solver's profile row): the same checks as :meth:`aqueous`,
        made once over the array.

        >>> Stream.from_conc_array("aqueous", 2.0, ["Nd", "Cl-"], [0.1, 0.3]).mol_h
        {'Nd': 0.2, 'Cl-': 0.6}
        """
        if phase not in ("aqueous", "organic"):
            raise ValueError(f"phase must be 'aqueous' or 'organic' for concentrations, got "
                             f"{phase!r}")
        flow = _check_number(flow_L_h, f"flow_L_h [L/h] of {phase} stream {name!r}")
        names = [str(sp) for sp in species]
        vals = (conc_mol_L.tolist() if isinstance(conc_mol_L, np.ndarray)
                else [float(v) for v in conc_mol_L])
        if len(vals) != len(names) or len(set(names)) != len(names):
            raise ValueError(f"conc_mol_L has {len(vals)} values for the species {names}: give "
                             "one value per species, each species once")
        mol = {}
        for sp, v in zip(names, vals):
            if not (0.0 <= v <= _MAX_CONC_MOL_L or (sp == "H2O" and 0.0 <= v < math.inf)):
                # (also NaN) the per-value checks of Stream.aqueous raise, with their messages
                cls._liquid(phase, flow, dict(zip(names, vals)), T_C, name)
            get_species(sp, phase)  # raises for unknown species
            mol[sp] = v * flow
        if flow == 0.0 and any(vals):
            raise ValueError(f"{phase} stream {name!r} has zero flow_L_h but non-zero species "
                             "flows")
        out = cls.__new__(cls)
        out.phase = phase
        out.name = str(name)
        out.T_K = _check_T(T_C)
        out._flow = flow
        out._mol = mol
        return out

    @classmethod
    def solid(cls, kg_h: Mapping[str, float], T_C: float = 25.0, name: str = "") -> "Stream":
        """Solid stream from mass flows [kg/h] of solid species (``Nd2O3``, ``Fe2O3``, ...)."""
        if not isinstance(kg_h, Mapping):
            raise ValueError(f"kg_h must be a mapping species -> kg/h, got {type(kg_h).__name__}")
        mol = {}
        for sp, m in kg_h.items():
            m = _check_number(m, f"mass flow of '{sp}' [kg/h] in solid stream {name!r}")
            mol[sp] = m * 1000.0 / get_species(sp, "solid").molar_mass
        return cls("solid", mol, None, T_C, name)

    @classmethod
    def gas(cls, mol_h: Mapping[str, float], T_C: float = 25.0, name: str = "") -> "Stream":
        """Gas stream from molar flows [mol/h]."""
        return cls("gas", mol_h, None, T_C, name)

    @classmethod
    def from_mol_h(cls, phase: str, mol_h: Mapping[str, float], flow_L_h=None, T_C: float = 25.0,
                   name: str = "") -> "Stream":
        """Stream from molar flows [mol/h] (and flow [L/h] for liquids)."""
        return cls(phase, mol_h, flow_L_h, T_C, name)

    # ----------------------------------------------------------------- state
    @property
    def T_C(self) -> float:
        """Temperature [°C]."""
        return self.T_K - ZERO_C_IN_K

    @property
    def flow_L_h(self):
        """Volumetric flow [L/h] (None for solid and gas streams)."""
        return self._flow

    @property
    def mol_h(self) -> dict[str, float]:
        """Molar flow of each species [mol/h] (a copy)."""
        return dict(self._mol)

    @property
    def species(self) -> tuple[str, ...]:
        """Species present (including any with zero flow)."""
        return tuple(self._mol)

    def n(self, species: str) -> float:
        """Molar flow of one species [mol/h] (0 if absent; unknown names raise)."""
        get_species(species, self.phase)
        return self._mol.get(species, 0.0)

    @property
    def conc_mol_L(self) -> dict[str, float]:
        """Concentration of each species [mol/L] (liquids only)."""
        if self._flow is None:
            raise ValueError(f"a {self.phase} stream has no concentrations")
        if self._flow == 0:
            return {sp: 0.0 for sp in self._mol}
        return {sp: n / self._flow for sp, n in self._mol.items()}

    def conc(self, species: str) -> float:
        """Concentration of one species [mol/L] (0 if absent)."""
        if self._flow is None:
            raise ValueError(f"a {self.phase} stream has no concentrations")
        return self.n(species) / self._flow if self._flow else 0.0

    # ----------------------------------------------------------------- mass concentrations
    # Liquid concentrations in mg/L or g/L, as SX papers and plants report them. Each value is
    # the mass of the species *as named* per litre (``Nd``: mg of Nd per L; ``SO4-2``: mg of
    # sulfate per L), converted with the species' molar mass from its formula in
    # property_data/species.csv and the IUPAC CIAAW 2021 atomic weights of
    # property_data/elements.csv (Pm: mass of 145Pm). Pseudo-components (A..F) have no molar
    # mass and raise MissingDataError.
    @classmethod
    def _liquid_mass(cls, phase, flow_L_h, conc, factor, unit, T_C, name):
        if not isinstance(conc, Mapping):
            raise ValueError(
                f"concentrations must be a mapping species -> {unit}, got {type(conc).__name__}")
        mol_L = {}
        for sp, c in conc.items():
            c = _check_number(c, f"concentration of '{sp}' [{unit}] in {phase} stream {name!r}")
            mol_L[sp] = c * factor / get_species(sp, phase).molar_mass
        return cls._liquid(phase, flow_L_h, mol_L, T_C, name)

    @classmethod
    def aqueous_mg_L(cls, flow_L_h: float, conc_mg_L: Mapping[str, float], T_C: float = 25.0,
                     name: str = "") -> "Stream":
        """Aqueous stream from a flow [L/h] and concentrations [mg/L] of each species as named
        (molar masses from species.csv formulas and IUPAC atomic weights, see above).

        >>> round(Stream.aqueous_mg_L(1.0, {"Nd": 144.242}).conc_mol_L["Nd"], 12)
        0.001
        """
        return cls._liquid_mass("aqueous", flow_L_h, conc_mg_L, 1e-3, "mg/L", T_C, name)

    @classmethod
    def aqueous_g_L(cls, flow_L_h: float, conc_g_L: Mapping[str, float], T_C: float = 25.0,
                    name: str = "") -> "Stream":
        """Aqueous stream from a flow [L/h] and concentrations [g/L] (as :meth:`aqueous_mg_L`)."""
        return cls._liquid_mass("aqueous", flow_L_h, conc_g_L, 1.0, "g/L", T_C, name)

    @classmethod
    def organic_mg_L(cls, flow_L_h: float, conc_mg_L: Mapping[str, float], T_C: float = 25.0,
                     name: str = "") -> "Stream":
        """Organic stream from a flow [L/h] and concentrations [mg/L] (metals on the metal
        basis; the extractant by its formula)."""
        return cls._liquid_mass("organic", flow_L_h, conc_mg_L, 1e-3, "mg/L", T_C, name)

    @classmethod
    def organic_g_L(cls, flow_L_h: float, conc_g_L: Mapping[str, float], T_C: float = 25.0,
                    name: str = "") -> "Stream":
        """Organic stream from a flow [L/h] and concentrations [g/L]."""
        return cls._liquid_mass("organic", flow_L_h, conc_g_L, 1.0, "g/L", T_C, name)

    @property
    def conc_mg_L(self) -> dict[str, float]:
        """Mass concentration of each species [mg/L] (liquids only; molar masses as above)."""
        return {sp: c * get_species(sp, self.phase).molar_mass * 1e3
                for sp, c in self.conc_mol_L.items()}

    @property
    def conc_g_L(self) -> dict[str, float]:
        """Mass concentration of each species [g/L] (liquids only; molar masses as above)."""
        return {sp: c * get_species(sp, self.phase).molar_mass
                for sp, c in self.conc_mol_L.items()}

    @property
    def kg_h(self) -> dict[str, float]:
        """Mass flow of each species [kg/h]; raises for pseudo-components."""
        return {sp: n * get_species(sp, self.phase).molar_mass / 1000.0
                for sp, n in self._mol.items()}

    @property
    def total_kg_h(self) -> float:
        """Total mass flow of the tracked species [kg/h] (solvent water and diluent excluded
        unless tracked as species)."""
        return sum(self.kg_h.values())

    @property
    def total_mol_h(self) -> float:
        """Total molar flow of the tracked species [mol/h]."""
        return sum(self._mol.values())

    def element_mol_h(self) -> dict[str, float]:
        """Flow of each element [mol/h]. A pseudo-component counts as its own 'element'."""
        out: dict[str, float] = {}
        for sp, n in self._mol.items():
            s = get_species(sp, self.phase)
            if s.is_pseudo:
                out[sp] = out.get(sp, 0.0) + n
                continue
            for el, k in s.elements.items():
                out[el] = out.get(el, 0.0) + k * n
        return out

    def charge_eq_h(self) -> float:
        """Net charge flow [eq/h]: sum of (charge x molar flow) over the species, with the charges
        of ``property_data/species.csv`` (0 for an electroneutral stream)."""
        return sum(get_species(sp, self.phase).charge * n for sp, n in self._mol.items())

    def ionic_eq_h(self) -> float:
        """Ionic charge flow [eq/h]: half the sum of |charge| x molar flow (the cation charge of a
        neutral stream), the scale a charge imbalance is measured against."""
        return 0.5 * sum(abs(get_species(sp, self.phase).charge) * n
                         for sp, n in self._mol.items())

    def element_kg_h(self) -> dict[str, float]:
        """Flow of each element [kg/h]; raises for pseudo-components."""
        out = {}
        for el, n in self.element_mol_h().items():
            if el in self._mol and get_species(el, self.phase).is_pseudo:
                get_species(el, self.phase).molar_mass  # raises MissingDataError
            out[el] = n * molar_mass(el) / 1000.0
        return out

    def oxide_kg_h(self) -> dict[str, float]:
        """Mass flow of each element expressed as its reporting oxide [kg/h].

        Every element with a reporting oxide (metals, B, Si) appears; non-metals are left out.
        Raises MissingDataError if the stream holds a pseudo-component.
        """
        out = {}
        for el, n in self.element_mol_h().items():
            sp = self._mol.get(el)
            if sp is not None and get_species(el, self.phase).is_pseudo:
                raise MissingDataError(
                    f"stream {self.name!r} holds pseudo-component '{el}', which has no oxide"
                )
            try:
                oxide = reporting_oxide(el)
            except ValueError:
                continue
            k = parse_formula(oxide)[el]
            out[oxide] = out.get(oxide, 0.0) + n / k * molar_mass(oxide) / 1000.0
        return out

    @property
    def total_oxide_kg_h(self) -> float:
        """Total mass on the oxide basis [kg/h]."""
        return sum(self.oxide_kg_h().values())

    @property
    def treo_kg_h(self) -> float:
        """Total rare-earth oxide flow, TREO [kg/h]."""
        re_ = set(rare_earths())
        return sum(m for ox, m in self.oxide_kg_h().items() if element_of_oxide(ox) in re_)

    def purity(self, target) -> float:
        """Purity of the stream on the oxide basis [kg/kg], 0..1.

        Parameters
        ----------
        target : str or iterable of str
            Element(s) or reporting oxide(s) that make up the product, e.g. ``"Nd"``,
            ``"Dy2O3"`` or ``["Nd", "Pr"]`` for NdPr oxide.
        """
        targets = [target] if isinstance(target, str) else list(target)
        if not targets:
            raise ValueError("purity target must name at least one element or oxide")
        oxides = set()
        for t in targets:
            try:
                oxides.add(reporting_oxide(t))
            except ValueError:
                element_of_oxide(t)  # raises a clear error if it is neither
                oxides.add(t)
        ox = self.oxide_kg_h()
        total = sum(ox.values())
        if total <= 0:
            raise ValueError(f"stream {self.name!r} carries no oxide-forming element: purity undefined")
        return sum(ox.get(o, 0.0) for o in oxides) / total

    # ----------------------------------------------------------------- derived streams
    def scaled(self, factor: float, name: str | None = None) -> "Stream":
        """Copy with every flow multiplied by ``factor`` (>= 0)."""
        f = _check_number(factor, "scale factor")
        return Stream(self.phase, {k: v * f for k, v in self._mol.items()},
                      None if self._flow is None else self._flow * f, self.T_C,
                      self.name if name is None else name)

    def copy(self, name: str | None = None, T_C: float | None = None) -> "Stream":
        """Copy, optionally renamed or at another temperature [°C]."""
        return Stream(self.phase, dict(self._mol), self._flow,
                      self.T_C if T_C is None else T_C, self.name if name is None else name)

    def to_series(self) -> pd.Series:
        """One column of a stream table: flow, temperature and species flows with units."""
        data = {"phase": self.phase, "T [°C]": round(self.T_C, 6)}
        if self._flow is not None:
            data["flow [L/h]"] = self._flow
        for sp, n in sorted(self._mol.items()):
            data[f"{sp} [mol/h]"] = n
            if self._flow:
                data[f"{sp} [mol/L]"] = n / self._flow
        return pd.Series(data, name=self.name or "stream")

    def __repr__(self) -> str:
        flow = f", {self._flow:.6g} L/h" if self._flow is not None else ""
        top = sorted(self._mol.items(), key=lambda kv: -kv[1])[:6]
        comp = ", ".join(f"{k}: {v:.4g}" for k, v in top)
        more = ", ..." if len(self._mol) > 6 else ""
        return f"<Stream {self.name!r} {self.phase}{flow}, {self.T_C:.1f} °C, mol/h {{{comp}{more}}}>"


#: Floor of the element-closure denominator, as a fraction of the total atom flow through the
#: boundary [-]: an element whose flows are below it (1e-72 mol/h of Dy in a 1e3 mol/h liquor) is
#: judged against that floor, not against its own vanishing flow, so a difference that no
#: solver tolerance can resolve is not reported as a 100 % error. A real loss of a trace above
#: ~1e-25 of the throughput still fails a 1e-10 closure.
CLOSURE_FLOOR = 1e-15


def element_closure(inlets: Iterable[Stream], outlets: Iterable[Stream]) -> pd.DataFrame:
    """Element balance over a set of inlet and outlet streams.

    Returns
    -------
    pandas.DataFrame
        Index = element; columns ``in [mol/h]``, ``out [mol/h]``, ``out - in [mol/h]`` and
        ``relative error`` = ``|out - in| / max(in, out, CLOSURE_FLOOR x total atom flow)``
        (0 where nothing flows).
    """
    tot_in: dict[str, float] = {}
    tot_out: dict[str, float] = {}
    for s in inlets:
        for el, n in s.element_mol_h().items():
            tot_in[el] = tot_in.get(el, 0.0) + n
    for s in outlets:
        for el, n in s.element_mol_h().items():
            tot_out[el] = tot_out.get(el, 0.0) + n
    floor = CLOSURE_FLOOR * max(sum(abs(v) for v in tot_in.values()),
                                sum(abs(v) for v in tot_out.values()))
    rows = {}
    for el in sorted(set(tot_in) | set(tot_out)):
        a, b = tot_in.get(el, 0.0), tot_out.get(el, 0.0)
        scale = max(abs(a), abs(b), floor)
        rows[el] = {"in [mol/h]": a, "out [mol/h]": b, "out - in [mol/h]": b - a,
                    "relative error": abs(b - a) / scale if scale > 0 else 0.0}
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["in [mol/h]", "out [mol/h]", "out - in [mol/h]",
                                           "relative error"])


def charge_closure(inlets: Iterable[Stream], outlets: Iterable[Stream]) -> pd.DataFrame:
    """Charge balance over a set of inlet and outlet streams, the companion of
    :func:`element_closure`.

    Charges are those of ``property_data/species.csv``: ions in solution carry their formal
    charge; in a loaded organic a bound metal carries its cation charge and the extractant anion
    (``PC88A-``, ...) balances it. Charge is conserved like an element: what the inlets carry
    (net, [eq/h]) leaves with the outlets.

    Returns
    -------
    pandas.DataFrame
        One row, index ``charge``; columns ``in [eq/h]``, ``out [eq/h]`` (net charge of all
        inlets and all outlets), ``out - in [eq/h]``, ``ionic [eq/h]`` (the larger of the inlets'
        and outlets' ionic flow, half the sum of |z| n: the cation charge of a neutral liquor) and
        ``relative error`` = ``|out - in| / ionic`` (0 where nothing is charged).

    >>> a = Stream.aqueous(1.0, {"Nd": 0.1, "Cl-": 0.3})
    >>> float(charge_closure([a], [a.scaled(0.5), a.scaled(0.5)])["relative error"].iloc[0])
    0.0
    """
    ins, outs = list(inlets), list(outlets)
    q_in = sum(s.charge_eq_h() for s in ins)
    q_out = sum(s.charge_eq_h() for s in outs)
    scale = max(sum(s.ionic_eq_h() for s in ins), sum(s.ionic_eq_h() for s in outs))
    err = abs(q_out - q_in)
    rel = err / scale if scale > 0 else 0.0
    return pd.DataFrame({"in [eq/h]": [q_in], "out [eq/h]": [q_out], "out - in [eq/h]": [q_out - q_in],
                         "ionic [eq/h]": [scale], "relative error": [rel]}, index=["charge"])


def mix(*streams: Stream, name: str = "") -> Stream:
    """Mix streams of one phase.

    Volumes add (ideal mixing) and the temperature is the flow-weighted mean (volume-weighted for
    liquids, mole-weighted for solids and gases); both are approximations without heat or volume of
    mixing. The element balance of the mix is checked to 1e-12 relative.

    Raises
    ------
    ValueError
        If no stream is given or the phases differ.
    """
    if not streams:
        raise ValueError("mix() needs at least one stream")
    phase = streams[0].phase
    for s in streams:
        if not isinstance(s, Stream):
            raise ValueError(f"mix() takes Streams, got {type(s).__name__}")
        if s.phase != phase:
            raise ValueError(
                f"cannot mix a {s.phase} stream ({s.name!r}) with a {phase} stream "
                f"({streams[0].name!r}): phases must match"
            )
    mol: dict[str, float] = {}
    for s in streams:
        for sp, n in s._mol.items():
            mol[sp] = mol.get(sp, 0.0) + n
    if phase in ("aqueous", "organic"):
        flow = sum(s._flow for s in streams)
        w = [s._flow for s in streams]
    else:
        flow = None
        w = [s.total_mol_h for s in streams]
    wsum = sum(w)
    T_K = sum(wi * s.T_K for wi, s in zip(w, streams)) / wsum if wsum > 0 else streams[0].T_K
    out = Stream(phase, mol, flow, T_K - ZERO_C_IN_K, name)
    bal = element_closure(streams, [out])
    worst = float(bal["relative error"].max()) if len(bal) else 0.0
    if worst > 1e-12:
        raise RuntimeError(f"mix(): element balance does not close (worst relative error {worst:.3e})")
    return out
