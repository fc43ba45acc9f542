"""Shared look of every reeproc figure: one colour per species, number and label formatting.

A species (or element) keeps its colour in every figure: the SX profile panels, the element
Sankey of the HTML report and the sweep maps all call :func:`species_color`. Axis labels of swept
parameters carry the unit the flowsheet script gives in brackets in the parameter description
(:func:`param_label`).
"""
from __future__ import annotations

import hashlib
import math
import re
import textwrap

import matplotlib

if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg") and not matplotlib.is_interactive():
    matplotlib.use("Agg")

__all__ = ["species_color", "fmt_number", "param_label", "unit_of", "text_width", "wrap",
           "SPECIAL_STYLE"]

# Fixed colours (matplotlib's tab10/tab20 hues) for the species and elements reeproc meets in
# NdFeB recycling; anything else gets a stable colour from _FALLBACK chosen by its name.
_FIXED = {
    "Nd": "#1f77b4", "Pr": "#ff7f0e", "Dy": "#2ca02c", "Tb": "#9467bd", "Fe": "#d62728",
    "Fe+3": "#d62728", "Fe+2": "#ff9896", "Co": "#17becf", "B": "#8c564b", "H3BO3": "#8c564b",
    "Na": "#e377c2", "Al": "#7f7f7f", "Ni": "#bcbd22", "Cu": "#c49c94", "Ga": "#dbdb8d",
    "La": "#aec7e8", "Ce": "#ffbb78", "Gd": "#98df8a", "Sm": "#c5b0d5", "Mn": "#f7b6d2",
    "Cl": "#9edae5", "Cl-": "#9edae5", "C": "#393b79", "O": "#637939",
}
_FALLBACK = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
             "#31a354", "#756bb1", "#636363")
#: Line styles of the non-species curves drawn on profiles ([H+], free extractant).
SPECIAL_STYLE = {"H+": dict(color="k", ls="--"), "free extractant": dict(color="k", ls="--")}


def _element_of(species: str) -> str:
    m = re.match(r"[A-Z][a-z]?", species)
    return m.group(0) if m else species


def species_color(name: str) -> str:
    """Colour of a species or element, the same in every reeproc figure.

    >>> species_color("Nd") == species_color("Nd")
    True
    >>> species_color("Nd") != species_color("Pr")
    True
    """
    if name in _FIXED:
        return _FIXED[name]
    el = _element_of(name)
    if el in _FIXED and el == name.rstrip("+-0123456789"):
        return _FIXED[el]
    h = int(hashlib.md5(name.encode()).hexdigest(), 16)
    return _FALLBACK[h % len(_FALLBACK)]


def fmt_number(v) -> str:
    """Short, readable number: 3 significant figures, '–' for missing."""
    if v is None:
        return "–"
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(v):
        return "–"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    if a >= 1e-3:
        return f"{v:.3f}"
    return f"{v:.1e}"


def unit_of(text: str) -> str | None:
    """The last bracketed unit in a description or column name ('oxalate dose [mol/mol]' ->
    'mol/mol'); None when there is none."""
    m = re.findall(r"\[([^\]]+)\]", text or "")
    return m[-1] if m else None


def param_label(name: str, description: str | None = None) -> str:
    """Axis label of a swept parameter or table column, with its unit.

    ``name`` is used as is when it already carries a bracketed unit (KPI columns such as
    'purity Dy2O3 [-]'); otherwise the unit comes from the parameter ``description``
    ('fraction of the loop stream recycled [-]' -> 'recycle_fraction [-]'). A name without any
    known unit is labelled '[unit not given]' so that a missing unit shows.
    """
    if unit_of(name):
        return name
    u = unit_of(description or "")
    return f"{name} [{u}]" if u else f"{name} [unit not given]"


def text_width(s: str, fontsize: float) -> float:
    """Rough width of a text [in] (DejaVu Sans averages about 0.56 em per character)."""
    return max((len(line) for line in s.split("\n")), default=0) * fontsize * 0.56 / 72.0


def wrap(s: str, width: int) -> str:
    """Wrap a label on word boundaries to lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(s, width, break_long_words=False)) or s
