"""Plots of a solved flowsheet: diagram, element distribution (Sankey-style), SX stage profiles.

All functions take a :class:`~reeproc.flowsheet.report.FlowsheetResult` and return a matplotlib
Figure; :func:`save_all` writes them as PNG. matplotlib is used with the non-interactive Agg
backend when no display is present.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg") and not matplotlib.is_interactive():
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["flowsheet_diagram", "element_distribution", "sx_profiles", "save_all"]


def _layers(res):
    fs = res.flowsheet
    conn = fs.connections()
    tears = set(res.tears)
    depth = {n: 0 for n in fs.units}
    for _ in range(len(depth) + 1):
        for src, s, sink in conn:
            if src is not None and sink is not None and s not in tears:
                depth[sink] = max(depth[sink], depth[src] + 1)
    return depth


def flowsheet_diagram(res):
    """Block diagram: units placed left to right by processing order; recycle (tear) streams
    dashed, feeds and leaving streams labelled at the boundary."""
    fs = res.flowsheet
    depth = _layers(res)
    cols: dict = {}
    for n in res.order:
        cols.setdefault(depth[n], []).append(n)
    pos = {}
    for d, names in cols.items():
        for i, n in enumerate(names):
            pos[n] = (d * 3.0, -i * 1.6)
    width = max(6, 2.4 * (max(cols) + 1) if cols else 6)
    height = max(3, 1.3 * max(len(v) for v in cols.values()) + 1.5) if cols else 3
    fig, ax = plt.subplots(figsize=(width, height))
    for n, (x, y) in pos.items():
        ax.add_patch(plt.Rectangle((x - 0.9, y - 0.35), 1.8, 0.7, fc="#e8f0fb", ec="#24548f"))
        ax.text(x, y, n, ha="center", va="center", fontsize=8)
    tears = set(res.tears)
    for src, s, sink in fs.connections():
        if src is not None and sink is not None:
            (x0, y0), (x1, y1) = pos[src], pos[sink]
            style = dict(arrowstyle="->", color="#c0392b" if s in tears else "#333",
                         ls="--" if s in tears else "-",
                         connectionstyle="arc3,rad=0.3" if s in tears else "arc3,rad=0.0")
            ax.annotate("", xy=(x1 - 0.9, y1), xytext=(x0 + 0.9, y0), arrowprops=style)
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.12, s, fontsize=6, ha="center",
                    color="#c0392b" if s in tears else "#555")
        elif src is None and sink is not None:
            x1, y1 = pos[sink]
            ax.annotate(s, xy=(x1 - 0.9, y1 + 0.2), xytext=(x1 - 2.4, y1 + 0.6), fontsize=6,
                        color="#1e8449", arrowprops=dict(arrowstyle="->", color="#1e8449"))
        elif src is not None and sink is None:
            x0, y0 = pos[src]
            ax.annotate(s, xy=(x0 + 2.3, y0 - 0.6), xytext=(x0 + 0.9, y0 - 0.2), fontsize=6,
                        color="#7d3c98", arrowprops=dict(arrowstyle="<-", color="#7d3c98"))
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    ax.set_xlim(min(xs) - 2.8, max(xs) + 2.8)
    ax.set_ylim(min(ys) - 1.2, max(ys) + 1.2)
    ax.axis("off")
    ax.set_title(f"{fs.name}: units in solve order (recycles dashed red)", fontsize=9)
    fig.tight_layout()
    return fig


def element_distribution(res, elements=None):
    """Where each element of the feed leaves the flowsheet: stacked bars of the fraction of the
    element [% of its total outflow] in each leaving stream (a Sankey diagram folded to bars)."""
    ins, outs = res.boundary_streams()
    if elements is None:
        present = set()
        for s in outs:
            present |= set(s.element_mol_h())
        elements = [e for e in ("Nd", "Pr", "Dy", "Tb", "Fe", "Co", "B", "Al") if e in present]
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
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Element distribution over the streams leaving the flowsheet", fontsize=9)
    fig.tight_layout()
    return fig


def sx_profiles(res):
    """Aqueous stage profiles of every SX cascade in the flowsheet (log scale, mol/L)."""
    sx = [(n, r) for n, r in res.unit_results.items() if hasattr(r, "aqueous_profile")]
    if not sx:
        return None
    fig, axes = plt.subplots(len(sx), 1, figsize=(8, 3.0 * len(sx)), squeeze=False)
    for ax, (n, r) in zip(axes[:, 0], sx):
        prof = r.aqueous_profile
        for col in prof.columns:
            y = prof[col].to_numpy(dtype=float)
            if np.nanmax(y) > 0:
                ax.semilogy(prof.index, np.maximum(y, 1e-12), label=str(col))
        ax.set_ylabel("aqueous [mol/L]")
        ax.set_title(f"SX cascade '{n}': stage profile", fontsize=9)
        ax.legend(fontsize=6, ncol=4)
    axes[-1, 0].set_xlabel("stage")
    fig.tight_layout()
    return fig


def save_all(res, directory) -> list:
    """Save every plot as PNG in ``directory``; returns the paths."""
    d = Path(directory)
    out = []
    for fname, fn in (("flowsheet.png", flowsheet_diagram), ("element_distribution.png",
                                                               element_distribution),
                      ("sx_profiles.png", sx_profiles)):
        fig = fn(res)
        if fig is None:
            continue
        p = d / fname
        fig.savefig(p, dpi=120)
        plt.close(fig)
        out.append(p)
    return out
