"""Magnet feed grades from ``property_data/feeds.csv``.

>>> f = magnet_feed("HDD", 10.0)
>>> round(f.stream.element_kg_h()["Nd"], 3)
2.28
>>> round(f.unreported_wt_pct, 1)
7.1
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .data import load_table
from .species import get_species
from .stream import Stream

__all__ = ["MagnetFeed", "magnet_feed", "feed_grades", "feed_composition"]


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
        Solid stream of the characterised elements (metal basis) [kg/h].
    unreported_wt_pct : float
        Share of the feed mass the source does not assign to any element [wt%]; it is excluded
        from the stream and reported, never spread over the other elements.
    excluded_elements : dict
        Elements the source reports but reeproc cannot carry as a solid species (e.g. O, C)
        [wt%]; excluded from the stream and reported.
    """

    grade: str
    stream: Stream
    unreported_wt_pct: float
    excluded_elements: dict

    def describe(self) -> str:
        """One-line statement of the characterisation gap, for reports."""
        parts = [f"feed '{self.grade}': {100 - self.unreported_wt_pct - sum(self.excluded_elements.values()):.2f} wt% carried"]
        if self.unreported_wt_pct > 0:
            parts.append(f"{self.unreported_wt_pct:.2f} wt% not characterised by the source (excluded)")
        if self.excluded_elements:
            parts.append("excluded elements: " + ", ".join(f"{k} {v:.2f} wt%" for k, v in self.excluded_elements.items()))
        return "; ".join(parts)


def magnet_feed(grade: str, kg_h: float, T_C: float = 25.0, name: str = "magnet feed") -> MagnetFeed:
    """Build a magnet feed stream from a named grade.

    Parameters
    ----------
    grade : str
        Grade in ``property_data/feeds.csv`` ('HDD', 'EV_traction', ...).
    kg_h : float
        Feed rate of as-received magnet [kg/h].
    T_C : float
        Temperature [°C].
    """
    if not isinstance(kg_h, (int, float)) or not kg_h > 0:
        raise ValueError(f"kg_h (magnet feed rate) must be > 0 kg/h, got {kg_h!r}")
    rows = feed_composition(grade)
    total = float(rows["wt_pct__pct"].sum())
    if total > 100.0 + 1e-9:
        raise ValueError(f"feed grade '{grade}' sums to {total} wt% (> 100 %) in feeds.csv")
    kg, excluded = {}, {}
    for r in rows.itertuples(index=False):
        try:
            get_species(r.element, "solid")
        except ValueError:
            excluded[r.element] = float(r.wt_pct__pct)
            continue
        kg[r.element] = kg_h * r.wt_pct__pct / 100.0
    return MagnetFeed(grade, Stream.solid(kg, T_C=T_C, name=name), 100.0 - total, excluded)
