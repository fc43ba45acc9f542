r"""Solid–liquid separation (filter or thickener) with cake washing.

A slurry arrives as its two phases (``solids`` and ``liquor``, as the precipitation and leaching
units produce them). The cake (filter cake or thickener underflow) keeps liquor in its pores:

.. math::  m_{liq,cake} = m_{s}\,\frac{w}{1 - w}, \qquad V_{e} = m_{liq,cake} / \rho_{liq}

with :math:`w` the cake moisture (mass fraction of liquor in the wet cake) and :math:`\rho_{liq}`
the liquor density from its tracked species [kg/L]. Solids are fully retained (cloth or overflow
losses of solids are not modelled).

Washing with :math:`W` cake-liquor volumes of water (wash ratio) and wash efficiency :math:`E`
(fraction of the entrained liquor the wash reaches; the rest sits in dead pores):

.. math::  \phi = (1 - E) + E\,e^{-W}

is the fraction of every dissolved species that stays in the washed cake (the reached liquor is
diluted as a stirred volume: :math:`e^{-W}` is the continuous-dilution limit). The cake keeps its
liquor volume :math:`V_e`; displaced solutes leave in the wash filtrate with the wash water. The
entrained liquor that stays is a real purity loss: its dissolved impurities report to the solid
product (the calciner takes it as its ``liquor`` inlet).

Outlets: ``cake`` (solid), ``cake_liquor`` (liquor entrained in the cake, aqueous),
``filtrate`` and ``wash_filtrate`` (aqueous).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..stream import Stream
from ._balance import check_number, check_stream
from ._common import UnitResult, water_mol_per_L, with_solvent_water

__all__ = ["SolidLiquidSeparator", "SeparationResult"]


@dataclass
class SeparationResult(UnitResult):
    """Result of :class:`SolidLiquidSeparator`.

    Attributes
    ----------
    cake, cake_liquor, filtrate, wash_filtrate : Stream
        Outlets (cake_liquor = liquor entrained in the washed cake).
    entrained_fraction : float
        Fraction of the liquor volume entrained in the cake before washing [-].
    retained_fraction : float
        Fraction :math:`\\phi` of the entrained solutes left after washing [-].
    """

    cake: Stream = None
    cake_liquor: Stream = None
    filtrate: Stream = None
    wash_filtrate: Stream = None
    entrained_fraction: float = 0.0
    retained_fraction: float = 1.0
    wash_water_L_h: float = 0.0
    _outlet_names: tuple = ("cake", "cake_liquor", "filtrate", "wash_filtrate")

    def _summary_rows(self):
        return {
            "cake solids [kg/h]": (self.cake.total_kg_h, "kg/h"),
            "entrained liquor [L/h]": (self.cake_liquor.flow_L_h, "L/h"),
            "liquor entrained before wash [%]": (100 * self.entrained_fraction, "%"),
            "solutes left in washed cake [%]": (100 * self.retained_fraction, "%"),
            "wash water [L/h]": (self.wash_water_L_h, "L/h"),
        }


class SolidLiquidSeparator:
    """Filter or thickener with optional cake wash.

    Parameters
    ----------
    cake_moisture : float
        Mass fraction of liquor in the wet cake [kg/kg], 0–0.95 (filter cakes of RE oxalate are
        typically 0.2–0.4, thickener underflows 0.4–0.7: design values, set them from test work).
    wash_ratio : float
        Wash water per entrained liquor volume [L/L], 0–20.
    wash_efficiency : float
        Fraction of the entrained liquor reached by the wash [-], 0–1.
    kind : {'filter', 'thickener'}
        Label only (same equations).
    """

    inlets = ("solids", "liquor", "wash")
    outlets = ("cake", "cake_liquor", "filtrate", "wash_filtrate")

    def __init__(self, cake_moisture: float = 0.3, wash_ratio: float = 0.0,
                 wash_efficiency: float = 0.8, kind: str = "filter"):
        self.cake_moisture = check_number(cake_moisture, "SolidLiquidSeparator cake_moisture",
                                          0.0, 0.95, unit="kg/kg")
        self.wash_ratio = check_number(wash_ratio, "SolidLiquidSeparator wash_ratio", 0.0, 20.0,
                                       unit="L/L")
        self.wash_efficiency = check_number(wash_efficiency, "SolidLiquidSeparator wash_efficiency",
                                            0.0, 1.0, unit="-")
        if kind not in ("filter", "thickener"):
            raise ValueError(f"SolidLiquidSeparator kind = {kind!r}; allowed: 'filter', 'thickener'")
        self.kind = kind

    def run(self, solids: Stream, liquor: Stream, wash: Stream | None = None) -> SeparationResult:
        """Separate a slurry given as its solid [mol/h] and liquor [L/h] phases.

        ``wash`` (aqueous) is the wash water; when omitted and ``wash_ratio`` > 0, fresh water is
        dosed (reagent 'water').
        """
        check_stream(solids, "solids", "solid", "SolidLiquidSeparator")
        check_stream(liquor, "liquor", "aqueous", "SolidLiquidSeparator")
        inlets = {"solids": solids, "liquor": liquor}
        notes, reagents, reagent_kg = [], [], {}
        liq, added = with_solvent_water(liquor)
        if added is not None:
            inlets["liquor solvent water"] = added
            reagents.append(added)
            notes.append("liquor carried no 'H2O': solvent water added (flow_L_h x 55.3 mol/L)")
        cake = solids.copy(name="cake")
        m_s = cake.total_kg_h
        V = liq.flow_L_h
        rho = liq.total_kg_h / V if V > 0 else float("nan")
        w = self.cake_moisture
        V_e = m_s * w / (1.0 - w) / rho if (V > 0 and w > 0) else 0.0
        if V_e > V:
            raise ValueError(
                f"SolidLiquidSeparator: cake_moisture {w} needs {V_e:.4g} L/h of liquor in the cake "
                f"but only {V:.4g} L/h arrive; lower cake_moisture (allowed here: <= "
                f"{V * rho / (m_s + V * rho):.4g}) or add liquor")
        f_e = V_e / V if V > 0 else 0.0
        ent = liq.scaled(f_e)
        filtrate_mol = {k: v * (1.0 - f_e) for k, v in liq.mol_h.items()}
        filtrate = Stream.from_mol_h("aqueous", filtrate_mol, V - V_e, liq.T_C, "filtrate")
        # washing
        W = self.wash_ratio
        V_w = W * V_e
        wash_filtrate = Stream.from_mol_h("aqueous", {}, 0.0, liq.T_C, "wash filtrate")
        cake_liquor = ent.copy(name="cake liquor")
        phi = 1.0
        if V_w > 0:
            if wash is None:
                wash = Stream.from_mol_h("aqueous", {"H2O": V_w * water_mol_per_L()}, V_w, liq.T_C,
                                         "wash water")
                reagents.append(wash)
                reagent_kg["water"] = wash.total_kg_h
            else:
                check_stream(wash, "wash", "aqueous", "SolidLiquidSeparator")
                notes.append("wash stream supplied: its flow sets the wash ratio")
                V_w = wash.flow_L_h
                W = V_w / V_e
            inlets["wash"] = wash
            wash_full, wadd = with_solvent_water(wash)
            if wadd is not None:
                inlets["wash solvent water"] = wadd
                reagents.append(wadd)
            phi = (1.0 - self.wash_efficiency) + self.wash_efficiency * math.exp(-W)
            # solutes: a fraction phi of the entrained ones stays in the cake; solutes the wash
            # itself carries leave with the wash filtrate (stated simplification)
            ent_mol = ent.mol_h
            wash_mol = wash_full.mol_h
            n_w_e = ent_mol.get("H2O", 0.0)
            cake_mol, wf_mol = {}, dict(wash_mol)
            for sp, n in ent_mol.items():
                if sp == "H2O":
                    continue
                cake_mol[sp] = phi * n
                wf_mol[sp] = wf_mol.get(sp, 0.0) + (1.0 - phi) * n
            # water: the cake keeps its liquor volume; its water = entrained water (solute
            # displacement at constant water content, stated approximation)
            cake_mol["H2O"] = n_w_e
            cake_liquor = Stream.from_mol_h("aqueous", cake_mol, V_e, liq.T_C, "cake liquor")
            wash_filtrate = Stream.from_mol_h("aqueous", wf_mol, wash_full.flow_L_h, liq.T_C,
                                              "wash filtrate")
        res = SeparationResult(
            cake=cake, cake_liquor=cake_liquor, filtrate=filtrate, wash_filtrate=wash_filtrate,
            entrained_fraction=f_e, retained_fraction=phi, wash_water_L_h=V_w,
            inlet_streams=inlets, reagent_streams=reagents, reagents_kg_h=reagent_kg, notes=notes)
        res._close("SolidLiquidSeparator")
        return res
