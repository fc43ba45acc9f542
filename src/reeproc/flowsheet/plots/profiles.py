"""SX stage profiles: aqueous and organic concentrations over the stages of every cascade.

Each species keeps its colour (:func:`~.style.species_color`) in every panel and every figure,
so Nd is the same blue in the aqueous and organic panels of SX1 and SX3.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import SPECIAL_STYLE, species_color

__all__ = ["sx_profiles", "sx_units", "PROFILE_FLOOR"]

_SECTION_SHADE = {"extraction": "#e8f0fb", "scrub": "#fdf2e0", "strip": "#e9f6ec"}
#: Concentrations below this [mol/L] are left out of the log plot (said on the axis).
PROFILE_FLOOR = 1e-12
_SPECTATORS = {"H2O", "Cl-", "SO4-2", "HSO4-", "NO3-"}


def sx_units(res) -> list:
    """(unit name, result) of every SX cascade in a solved flowsheet, in solve order."""
    return [(n, r) for n, r in res.unit_results.items() if hasattr(r, "aqueous_profile")]


def _shade_sections(ax, sections):
    for name, span in (sections or {}).items():
        if not span:
            continue
        lo, hi = span
        ax.axvspan(lo - 0.5, hi + 0.5, color=_SECTION_SHADE.get(name, "#f2f2f2"), zorder=0)
        ax.text((lo + hi) / 2, 1.0, name, transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontsize=7, color="#555")


def _log_lines(ax, prof, columns):
    for col in columns:
        y = prof[col].to_numpy(dtype=float)
        if not np.nanmax(y, initial=0.0) > PROFILE_FLOOR:
            continue
        style = SPECIAL_STYLE.get(col, {"color": species_color(str(col))})
        ax.semilogy(prof.index, np.where(y > PROFILE_FLOOR, y, np.nan), marker=".", ms=3,
                    lw=1.2, label=str(col), **style)


def sx_profiles(res):
    """Stage profiles of every SX cascade in the flowsheet.

    Aqueous (left) and organic (right) concentrations [mol/L] on a log scale over the stages,
    extraction / scrub / strip sections shaded, [H+] and the free extractant dashed black.
    Solvent water and spectator anions are left out; concentrations below 1e-12 mol/L are not
    drawn (said on the axis). Returns None when the flowsheet has no SX cascade.
    """
    sx = sx_units(res)
    if not sx:
        return None
    fig, axes = plt.subplots(len(sx), 2, figsize=(12, 3.4 * len(sx)), squeeze=False)
    for (ax_a, ax_o), (n, r) in zip(axes, sx):
        aq, org = r.aqueous_profile, r.organic_profile
        metals = [c for c in aq.columns if c not in _SPECTATORS and c != "H+"]
        _log_lines(ax_a, aq, metals + (["H+"] if "H+" in aq.columns else []))
        _log_lines(ax_o, org, list(org.columns))
        fe = getattr(r, "free_extractant", None)
        if fe is not None and np.isfinite(fe.to_numpy(dtype=float)).any():
            _log_lines(ax_o, fe.to_frame("free extractant"), ["free extractant"])
        for ax, what in ((ax_a, "aqueous"), (ax_o, "organic")):
            _shade_sections(ax, getattr(r, "sections", None))
            ax.set_ylabel(f"{what} concentration [mol/L]\n(< {PROFILE_FLOOR:g} not drawn)",
                          fontsize=8)
            ax.set_xlabel("stage [-] (organic enters at 1)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=6, ncol=3, loc="lower left")
        ax_a.set_title(f"{n}: aqueous", fontsize=9, pad=12)
        ax_o.set_title(f"{n}: organic", fontsize=9, pad=12)
    fig.tight_layout()
    return fig
