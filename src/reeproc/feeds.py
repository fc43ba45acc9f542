"""Magnet feed grades from ``property_data/feeds.csv`` and user compositions.

Every element a grade reports is carried into the feed stream: metals and B, C and Si as their
elements; oxygen (analysed in partly oxidised scrap) as the sesquioxides of the rare
earths (RE2O3, in proportion), the form it takes in the magnet's RE-rich grain-boundary phase
(Belfqueh et al. 2023: 'the REEs-rich phase containing Nd and Pr oxides'), and any oxygen left as
Fe2O3 (surface oxidation). Nothing is excluded; what the source does not
characterise (analytical remainder) is reported, never spread over the other elements.

>>> f = magnet_feed("HDD", 10.0)
>>> round(f.stream.element_kg_h()["Nd"], 3)
2.28
>>> round(f.unreported_wt_pct, 1)
7.1
>>> u = custom_feed({"Nd": 22.0, "Pr": 7.0, "Dy": 1.0, "Fe": 68.0, "B": 1.0, "Co": 1.0}, kg_h=5.0)
>>> round(u.stream.element_kg_h()["Co"], 3)
0.05
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .data import load_table
from .species import get_species, molar_mass, rare_earths
from .stream import Stream

__all__ = ["MagnetFeed", "magnet_feed", "custom_feed", "feed_grades", "feed_composition"]


def feed_grades() -> list[str]:
    """Names of the magnet grades in ``property_data/feeds.csv``."""
    return sorted(load_table("feeds")["feed"].unique())


def feed_composition(grade: str) -> pd.DataFrame:
    """Composition rows of one grade (element, wt% [%], source, confidence, note)."""
    df = load_table("feeds")
    rows = df[df["feed"] == grade]
    if rows.empty:
        raise ValueError(f"unknown magnet feed grade '{grade}'; known grades: {feed_grades()}")
    return rows.reset_index(drop=True)


@dataclass(frozen=True)
class MagnetFeed:
    """A magnet feed as a solid stream plus what its source does not characterise.

    Attributes
    ----------
    grade : str
    stream : Stream
        Solid stream of every reported element [kg/h] (O bound as RE2O3, see module docstring).
    unreported_wt_pct : float
        Share of the feed mass the source does not assign to any element [wt%]; it is left out of
        the stream and reported, never spread over the other elements.
    excluded_elements : dict
        Kept for compatibility: always empty (every reported element is carried).
    composition_wt_pct : dict
        The composition the stream was built from [wt%].
    """

    grade: str
    stream: Stream
    unreported_wt_pct: float
    excluded_elements: dict = field(default_factory=dict)
    composition_wt_pct: dict = field(default_factory=dict)

    def describe(self) -> str:
        """One-line statement of the characterisation gap, for reports."""
        parts = [f"feed '{self.grade}': {100 - self.unreported_wt_pct:.2f} wt% carried "
                 f"({', '.join(sorted(self.composition_wt_pct))})"]
        if self.unreported_wt_pct > 1e-9:
            parts.append(f"{self.unreported_wt_pct:.2f} wt% not characterised by the source (not carried)")
        return "; ".join(parts)


def _build(name: str, wt: dict, kg_h: float, T_C: float, stream_name: str) -> MagnetFeed:
    if not isinstance(kg_h, (int, float)) or isinstance(kg_h, bool) or not kg_h > 0:
        raise ValueError(f"kg_h (magnet feed rate) must be > 0 kg/h, got {kg_h!r}")
    total = float(sum(wt.values()))
    if total > 100.0 + 1e-9:
        raise ValueError(f"feed '{name}' sums to {total:.6g} wt% (> 100 %)")
    kg: dict[str, float] = {}
    o_kg = 0.0
    for el, w in wt.items():
        if el == "O":
            o_kg += kg_h * w / 100.0
            continue
        kg[el] = kg.get(el, 0.0) + kg_h * w / 100.0
    if o_kg > 0:
        _bind_oxygen(name, kg, o_kg)
    return MagnetFeed(name, Stream.solid(kg, T_C=T_C, name=stream_name), 100.0 - total, {},
                      dict(wt))


def _bind_oxygen(name: str, kg: dict, o_kg: float) -> None:
    """Bind analysed oxygen as RE2O3 (all rare earths in proportion to their moles), and what the
    rare earths cannot take as Fe2O3 (surface oxidation); in place on ``kg`` [kg/h]."""
    n_o = o_kg / molar_mass("O") * 1000.0  # mol O/h
    for hosts, ratio in (([el for el in kg if el in rare_earths()], 1.5), (["Fe"] if "Fe" in kg else [], 1.5)):
        if n_o <= 0 or not hosts:
            continue
        mol = {el: kg[el] / molar_mass(el) * 1000.0 for el in hosts}
        take = min(n_o, ratio * sum(mol.values()))
        f = take / (ratio * sum(mol.values()))
        for el, n in mol.items():
            ox = f"{el}2O3"
            kg[el] -= f * n * molar_mass(el) / 1000.0
            kg[ox] = kg.get(ox, 0.0) + 0.5 * f * n * molar_mass(ox) / 1000.0
        n_o -= take
    if n_o > 1e-12:
        raise ValueError(f"feed '{name}': its oxygen ({o_kg:.4g} kg/h) exceeds what its rare earths "
                         "and iron can bind as RE2O3 and Fe2O3")


def _check_elements(wt: dict, name: str) -> dict:
    out = {}
    for el, v in wt.items():
        if el != "O":
            try:
                get_species(el, "solid")
            except ValueError:
                raise ValueError(f"feed '{name}': element {el!r} has no solid species in "
                                 "property_data/species.csv; allowed: elements with a solid row, and O") from None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 100.0:
            raise ValueError(f"feed '{name}': {el} = {v!r} wt% is outside the allowed range [0, 100]")
        out[el] = float(v)
    return out


def magnet_feed(grade, kg_h: float, T_C: float = 25.0, name: str = "magnet feed") -> MagnetFeed:
    """Build a magnet feed stream from a named grade or a composition.

    Parameters
    ----------
    grade : str or dict
        Grade in ``property_data/feeds.csv`` ('HDD', 'EV_traction', 'wind_turbine', 'e_bike',
        'industrial_motor_NiCuNi'), or a composition {element: wt%} (see :func:`custom_feed`).
    kg_h : float
        Feed rate of as-received magnet [kg/h].
    T_C : float
        Temperature [°C].
    """
    if isinstance(grade, dict):
        return custom_feed(grade, kg_h, T_C=T_C, name=name)
    rows = feed_composition(grade)
    wt = {}
    for r in rows.itertuples(index=False):
        wt[r.element] = wt.get(r.element, 0.0) + float(r.wt_pct__pct)
    return _build(grade, _check_elements(wt, grade), kg_h, T_C, name)


def custom_feed(wt_pct: dict, kg_h: float, T_C: float = 25.0, name: str = "magnet feed",
                grade: str = "user composition") -> MagnetFeed:
    """A magnet feed from a user composition.

    Parameters
    ----------
    wt_pct : dict
        {element: mass %} of the as-received magnet, each in [0, 100], summing to <= 100 (the
        remainder is reported as not characterised, not spread). 'O' is carried as RE2O3.
    kg_h : float
        Feed rate [kg/h].
    """
    if not isinstance(wt_pct, dict) or not wt_pct:
        raise ValueError("custom_feed wt_pct must be a non-empty {element: wt%} mapping")
    return _build(grade, _check_elements(wt_pct, grade), kg_h, T_C, name)
