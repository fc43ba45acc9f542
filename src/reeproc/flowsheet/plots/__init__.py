"""Figures of a solved flowsheet and of sweep tables.

One module per figure: :mod:`.diagram` (block diagram with every inlet and product),
:mod:`.profiles` (SX stage profiles), :mod:`.distribution` (where each element leaves),
:mod:`.sankey` (interactive element Sankey, plotly) and :mod:`.maps` (sweep maps and Pareto
fronts); :mod:`.style` holds the shared colours (one per species) and labels. matplotlib runs on
the non-interactive Agg backend when no display is present.

:func:`save_all` writes the static figures; ``which`` picks them (the names of :data:`FIGURES`),
so callers that need speed write only what they ask for.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from .diagram import flowsheet_diagram
from .distribution import element_distribution
from .profiles import sx_profiles

__all__ = ["flowsheet_diagram", "element_distribution", "sx_profiles", "save_all", "FIGURES",
           "select_figures"]

#: Static figures :func:`save_all` can write: name -> (file name, function).
FIGURES = {"flowsheet": ("flowsheet.png", flowsheet_diagram),
           "distribution": ("element_distribution.png", element_distribution),
           "profiles": ("sx_profiles.png", sx_profiles)}


def select_figures(which) -> list:
    """Names of the figures selected by ``which``: True/'all'/None -> all, False/() -> none,
    or an iterable of names from :data:`FIGURES`."""
    if which is None or which is True or which == "all":
        return list(FIGURES)
    if which is False:
        return []
    names = [which] if isinstance(which, str) else list(which)
    bad = [n for n in names if n not in FIGURES]
    if bad:
        raise ValueError(f"unknown figure(s) {bad}; figures are {list(FIGURES)} (or True/False)")
    return names


def save_all(res, directory, which=None, dpi: int = 120) -> list:
    """Save the selected figures (default: all) as PNG in ``directory``; returns the paths.

    A figure with nothing to show (no SX cascade for the profiles) is not written.
    """
    d = Path(directory)
    out = []
    for name in select_figures(which):
        fname, fn = FIGURES[name]
        fig = fn(res)
        if fig is None:
            continue
        p = d / fname
        fig.savefig(p, dpi=dpi)
        plt.close(fig)
        out.append(p)
    return out
