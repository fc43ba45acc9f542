"""Where each element leaves the flowsheet: its share of the outflow in every leaving stream.

A static summary for the PNG export; the flows themselves, unit by unit, are the element Sankey
of the HTML report (:mod:`.sankey`).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["element_distribution", "default_elements"]

_ORDER = ("Nd", "Pr", "Dy", "Tb", "Fe", "Co", "B", "Al", "Ni", "Cu", "Na")


def default_elements(res) -> list:
    """Elements leaving the flowsheet, the rare earths and main impurities first."""
    _, outs = res.boundary_streams()
    present: set = set()
    for s in outs:
        present |= {e for e, v in s.element_mol_h().items() if v > 0}
    first = [e for e in _ORDER if e in present]
    return first or sorted(present - {"H", "O", "Cl", "C"})


def element_distribution(res, elements=None):
    """Stacked bars: the share of each element's outflow [%] carried by each leaving stream.

    Streams carrying less than 0.01 % of every element shown are left out of the legend.
    """
    _, outs = res.boundary_streams()
    elements = list(elements) if elements is not None else default_elements(res)
    names = [s.name for s in outs]
    data = np.zeros((len(elements), len(outs)))
    for j, s in enumerate(outs):
        em = s.element_mol_h()
        for i, e in enumerate(elements):
            data[i, j] = em.get(e, 0.0)
    totals = data.sum(axis=1, keepdims=True)
    frac = np.divide(data, totals, out=np.zeros_like(data), where=totals > 0) * 100
    keep = frac.max(axis=0) >= 0.01
    frac, names = frac[:, keep], [n for n, k in zip(names, keep) if k]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(elements) + 2))
    left = np.zeros(len(elements))
    cmap = plt.get_cmap("tab20")
    for j, n in enumerate(names):
        ax.barh(elements, frac[:, j], left=left, color=cmap(j % 20), label=n)
        left += frac[:, j]
    ax.set_xlabel("share of the element's outflow [%]")
    ax.set_ylabel("element")
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Where each element leaves the flowsheet (share of its outflow)", fontsize=9)
    fig.tight_layout()
    return fig
