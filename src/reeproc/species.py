"""Chemical species: formulas, molar masses, the species registry and reporting oxides.

Molar masses are computed from formulas and the IUPAC atomic weights in
``property_data/elements.csv``; none is typed in by hand. The species a stream may carry are listed
per phase in ``property_data/species.csv``.

>>> round(molar_mass("Nd2O3"), 3)
336.481
>>> round(oxide_factor("Nd"), 4)
1.1664
"""
from __future__ import annotations

import difflib
import functools
import math
import re
from dataclasses import dataclass, field

from .data import MissingDataError, load_table

__all__ = [
    "PHASES",
    "Species",
    "parse_formula",
    "molar_mass",
    "atomic_weight",
    "get_species",
    "species_names",
    "rare_earths",
    "reporting_oxide",
    "oxide_factor",
    "element_to_oxide_kg",
    "oxide_to_element_kg",
    "element_of_oxide",
]

#: Phases a stream can be in.
PHASES = ("aqueous", "organic", "solid", "gas")

_TOKEN = re.compile(r"([A-Z][a-z]?|\(|\)|\d+(?:\.\d+)?)")


@functools.cache
def _elements() -> dict[str, dict]:
    df = load_table("elements")
    return {r.symbol: r._asdict() for r in df.itertuples(index=False)}


def atomic_weight(symbol: str) -> float:
    """Standard atomic weight of an element [g/mol] (IUPAC CIAAW 2021)."""
    try:
        return float(_elements()[symbol]["atomic_weight__g_mol"])
    except KeyError:
        raise ValueError(
            f"unknown element '{symbol}'; known elements: {sorted(_elements())}"
        ) from None


def _parse_part(part: str, formula: str) -> dict[str, float]:
    tokens = _TOKEN.findall(part)
    if "".join(tokens) != part:
        raise ValueError(f"cannot parse formula '{formula}' (bad characters in '{part}')")
    stack: list[dict[str, float]] = [{}]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "(":
            stack.append({})
            i += 1
            continue
        if tok == ")":
            if len(stack) == 1:
                raise ValueError(f"unbalanced ')' in formula '{formula}'")
            group = stack.pop()
            mult = 1.0
            if i + 1 < len(tokens) and tokens[i + 1][0].isdigit():
                mult = float(tokens[i + 1])
                i += 1
            for el, n in group.items():
                stack[-1][el] = stack[-1].get(el, 0.0) + n * mult
            i += 1
            continue
        if tok[0].isdigit():
            raise ValueError(f"unexpected number '{tok}' in formula '{formula}'")
        atomic_weight(tok)  # validates the symbol
        n = 1.0
        if i + 1 < len(tokens) and tokens[i + 1][0].isdigit():
            n = float(tokens[i + 1])
            i += 1
        stack[-1][tok] = stack[-1].get(tok, 0.0) + n
        i += 1
    if len(stack) != 1:
        raise ValueError(f"unbalanced '(' in formula '{formula}'")
    return stack[0]


@functools.lru_cache(maxsize=4096)
def _parse_cached(formula: str) -> tuple[tuple[str, float], ...]:
    if not formula or not isinstance(formula, str):
        raise ValueError(f"empty or invalid formula {formula!r}")
    total: dict[str, float] = {}
    for k, part in enumerate(formula.split(".")):
        m = re.match(r"^(\d+(?:\.\d+)?)(.*)$", part)
        mult = 1.0
        if m and k > 0:
            mult, part = float(m.group(1)), m.group(2)
        for el, n in _parse_part(part, formula).items():
            total[el] = total.get(el, 0.0) + n * mult
    return tuple(total.items())


def parse_formula(formula: str) -> dict[str, float]:
    """Elemental composition of a formula [mol element / mol formula].

    Parentheses and hydrate dots are understood: ``"Nd2(C2O4)3.10H2O"`` gives
    ``{"Nd": 2, "C": 6, "O": 22, "H": 20}``.
    """
    return dict(_parse_cached(formula))


def molar_mass(formula: str) -> float:
    """Molar mass of a formula [g/mol], from IUPAC atomic weights."""
    return sum(n * atomic_weight(el) for el, n in _parse_cached(formula))


@dataclass(frozen=True)
class Species:
    """One entry of the species registry.

    Attributes
    ----------
    name : str
        Name used as a key in streams (unique within its phase).
    phase : str
        'aqueous', 'organic', 'solid', 'gas' or 'any' (pseudo-components).
    formula : str
        Elemental formula ('' for pseudo-components).
    charge : int
        Formal charge of the dissolved species [e]; 0 outside the aqueous phase.
    description : str
        What the species stands for.
    """

    name: str
    phase: str
    formula: str
    charge: int
    description: str
    elements: dict = field(compare=False, hash=False, repr=False, default_factory=dict)

    @property
    def is_pseudo(self) -> bool:
        """True for a pseudo-component (no formula, no molar mass)."""
        return not self.formula

    @property
    def molar_mass(self) -> float:
        """Molar mass [g/mol]; raises MissingDataError for a pseudo-component."""
        if self.is_pseudo:
            raise MissingDataError(
                f"pseudo-component '{self.name}' has no formula, so no molar mass: mass and "
                "oxide conversions are not defined for it"
            )
        return molar_mass(self.formula)


@functools.cache
def _registry() -> dict[str, dict[str, Species]]:
    df = load_table("species")
    reg: dict[str, dict[str, Species]] = {p: {} for p in (*PHASES, "any")}
    for row in df.itertuples(index=False):
        if row.phase not in reg:
            raise ValueError(f"species.csv: unknown phase '{row.phase}' for '{row.name}'")
        charge = 0 if math.isnan(row.charge__1) else int(row.charge__1)
        elements = parse_formula(row.formula) if row.formula else {}
        sp = Species(row.name, row.phase, row.formula, charge, row.description, elements)
        if row.name in reg[row.phase]:
            raise ValueError(f"species.csv: '{row.name}' listed twice in phase '{row.phase}'")
        reg[row.phase][row.name] = sp
    return reg


def species_names(phase: str) -> list[str]:
    """Names of the species allowed in a phase (pseudo-components included)."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase '{phase}'; allowed: {PHASES}")
    reg = _registry()
    return sorted(reg[phase]) + sorted(reg["any"])


def get_species(name: str, phase: str) -> Species:
    """Look up a species by name in a phase.

    Raises
    ------
    ValueError
        If the phase is unknown or the species is not registered for it (the message suggests
        close matches).
    """
    if phase not in PHASES:
        raise ValueError(f"unknown phase '{phase}'; allowed: {PHASES}")
    reg = _registry()
    if name in reg[phase]:
        return reg[phase][name]
    if name in reg["any"]:
        return reg["any"][name]
    close = difflib.get_close_matches(str(name), species_names(phase), n=4)
    elsewhere = [p for p in PHASES if name in reg[p]]
    hint = f"; did you mean {close}?" if close else ""
    if elsewhere:
        hint += f" ('{name}' exists in phase(s) {elsewhere})"
    raise ValueError(
        f"unknown species '{name}' for phase '{phase}'{hint} "
        "(species are listed in property_data/species.csv)"
    )


def rare_earths() -> list[str]:
    """Symbols of the rare-earth elements (lanthanides, Y, Sc) known to reeproc."""
    return [s for s, r in _elements().items() if int(r["is_rare_earth"]) == 1]


def reporting_oxide(element: str) -> str:
    """Formula of the oxide an element is reported as (e.g. 'Pr' -> 'Pr6O11').

    Raises
    ------
    ValueError
        If the element is unknown or has no reporting oxide (non-metals such as Cl, S, C).
    """
    if element not in _elements():
        raise ValueError(f"unknown element '{element}'; known: {sorted(_elements())}")
    oxide = _elements()[element]["reporting_oxide"]
    if not oxide:
        raise ValueError(
            f"element '{element}' has no reporting oxide (non-metals are not counted on the "
            "oxide basis)"
        )
    return oxide


def _oxide_count(element: str) -> tuple[str, float]:
    oxide = reporting_oxide(element)
    return oxide, parse_formula(oxide)[element]


def oxide_factor(element: str) -> float:
    """Mass of reporting oxide per mass of element [kg/kg], e.g. Nd -> Nd2O3: 1.1664."""
    oxide, n = _oxide_count(element)
    return molar_mass(oxide) / (n * atomic_weight(element))


def element_to_oxide_kg(element: str, kg: float) -> float:
    """Convert a mass of element [kg] to the mass of its reporting oxide [kg]."""
    return kg * oxide_factor(element)


@functools.cache
def _oxide_to_element() -> dict[str, str]:
    return {r["reporting_oxide"]: s for s, r in _elements().items() if r["reporting_oxide"]}


def element_of_oxide(oxide: str) -> str:
    """The element whose reporting oxide is ``oxide`` ('Dy2O3' -> 'Dy')."""
    try:
        return _oxide_to_element()[oxide]
    except KeyError:
        raise ValueError(
            f"'{oxide}' is not a reporting oxide; known: {sorted(_oxide_to_element())}"
        ) from None


def oxide_to_element_kg(oxide: str, kg: float) -> float:
    """Convert a mass of reporting oxide [kg] to the mass of its element [kg]."""
    return kg / oxide_factor(element_of_oxide(oxide))
