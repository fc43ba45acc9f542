"""Plots of sweep tables: maps of a KPI over two swept parameters and cost-benefit Pareto fronts.

The 99.5 % contour is drawn (and named in the title) only on purity maps that cross it; recovery
maps claim no contour. Axis labels carry units: KPI columns hold theirs in brackets, and swept
parameters take the bracketed unit of their description in the flowsheet script
(:func:`save_sweep_plots` reads them). Colour bars show plain numbers (no offset text that could
collide with the title).
"""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import ScalarFormatter

from .style import param_label

__all__ = ["plot_map", "plot_pareto", "save_sweep_plots"]

_TARGET = 0.995  # 99.5 % product purity (Belfast demonstration plant; Ionic Technologies)


def _label(col: str, labels: dict | None) -> str:
    return (labels or {}).get(col, col)


def _plain(axis_or_cbar) -> None:
    fmt = ScalarFormatter(useOffset=False)
    fmt.set_scientific(False)
    axis_or_cbar.set_major_formatter(fmt)


def plot_map(df: pd.DataFrame, x: str, y: str, z: str, target: float = _TARGET, ax=None,
             labels: dict | None = None):
    """Filled map of column ``z`` over two swept parameters ``x`` and ``y``.

    Non-converged cases are left blank (NaN), never interpolated. On a purity map (``z`` starts
    with 'purity') the ``target`` contour (99.5 %) is drawn in white when the map crosses it, and
    the title says whether it is drawn, or that every case meets (or misses) the target.
    ``labels`` maps column names to axis labels (with units).
    """
    for col in (x, y, z):
        if col not in df.columns:
            raise ValueError(f"column '{col}' not in the sweep table; columns: {list(df.columns)}")
    piv = df.assign(_z=np.where(df.get("converged", True), df[z], np.nan)).pivot_table(
        index=y, columns=x, values="_z", aggfunc="mean")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.8))
    else:
        fig = ax.figure
    X, Y = np.meshgrid(piv.columns.to_numpy(float), piv.index.to_numpy(float))
    Z = piv.to_numpy(float)
    cs = ax.pcolormesh(X, Y, Z, shading="nearest", cmap="viridis")
    cb = fig.colorbar(cs, ax=ax, label=_label(z, labels))
    _plain(cb.ax.yaxis)
    title = z
    if z.startswith("purity") and np.isfinite(Z).any():
        lo, hi = np.nanmin(Z), np.nanmax(Z)
        if lo < target < hi and min(Z.shape) > 1:
            c = ax.contour(X, Y, Z, levels=[target], colors="w", linewidths=1.5)
            ax.clabel(c, fmt={target: f"{100 * target:.1f} %"}, fontsize=8)
            title += f"\n(white line: {100 * target:.1f} % contour)"
        elif lo >= target:
            title += f"\n(every converged case meets {100 * target:.1f} %)"
        else:
            title += f"\n(no case reaches {100 * target:.1f} %)"
    ax.set_xlabel(_label(x, labels))
    ax.set_ylabel(_label(y, labels))
    _plain(ax.xaxis)
    _plain(ax.yaxis)
    ax.set_title(title, fontsize=9, pad=8)
    return fig


def plot_pareto(df: pd.DataFrame, cost: str, benefit: str, feasible=None, ax=None,
                labels: dict | None = None):
    """Scatter of the cases and the Pareto front (lowest ``cost`` for each ``benefit``) of the
    feasible ones; the legend lists only the markers drawn."""
    from ...sweep import pareto_front

    front = pareto_front(df, cost, benefit, feasible)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.8))
    else:
        fig = ax.figure
    mask = pd.Series(False, index=df.index)
    if feasible is not None:
        mask = (df[feasible] if isinstance(feasible, str) else feasible).fillna(False).astype(bool)
    other = df[~mask].dropna(subset=[cost, benefit])
    ok = df[mask].dropna(subset=[cost, benefit])
    if len(other):
        ax.scatter(other[cost], other[benefit], s=8, c="#bbbbbb",
                   label="cases below 99.5 % purity" if feasible is not None else "cases")
    if len(ok):
        ax.scatter(ok[cost], ok[benefit], s=10, c="#3b75af", label="cases meeting 99.5 % purity")
    if len(front):
        ax.plot(front[cost], front[benefit], "o-", c="#c0392b", mfc="none", ms=7,
                label="Pareto front")
    ax.set_xlabel(_label(cost, labels))
    ax.set_ylabel(_label(benefit, labels))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no case with both figures", transform=ax.transAxes, ha="center")
    return fig


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text.split("[")[0]).strip("_")


def save_sweep_plots(df: pd.DataFrame, directory, script=None) -> list:
    """Purity and recovery maps over the first two swept parameters and cost-recovery Pareto
    fronts among the cases meeting 99.5 % purity, as PNG files in ``directory``.

    ``script`` (the flowsheet script swept) supplies the units of the swept parameters for the
    axis labels. Returns the paths written.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    first = list(df.columns).index("converged")
    swept = [c for c in df.columns[:first] if df[c].nunique() > 1]
    desc = {}
    if script is not None:
        from ..script import script_parameters

        desc = {k: p.description for k, p in script_parameters(script).items()}
    labels = {c: param_label(c, desc.get(c)) for c in df.columns}
    paths = []
    if len(swept) >= 2:
        x, y = swept[:2]
        for z in [c for c in df.columns if c.startswith(("purity ", "recovery "))]:
            if df[z].notna().sum() == 0:
                continue
            fig = plot_map(df, x, y, z, labels=labels)
            p = out / f"map_{_slug(z)}.png"
            fig.savefig(p, dpi=110, bbox_inches="tight")
            plt.close(fig)
            paths.append(p)
    cost = "cost [USD/kg oxide]"
    if cost in df.columns and "all products meet 99.5 %" in df.columns:
        feas = df["all products meet 99.5 %"].fillna(False).astype(bool)
        for rec in [c for c in df.columns if c.startswith("recovery ")]:
            fig = plot_pareto(df, cost, rec, feasible=feas, labels=labels)
            p = out / f"pareto_{_slug(rec)}.png"
            fig.savefig(p, dpi=110, bbox_inches="tight")
            plt.close(fig)
            paths.append(p)
    return paths
