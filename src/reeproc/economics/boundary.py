"""What crosses the flowsheet boundary, as economics and CO2 need it: the scrap fed, the products,
the solid residues to landfill, the acidity and carbon of the aqueous effluents, the carbon of the
off-gases and the SX organic make-up. All flows are at the flowsheet's own scale [per hour]."""
from __future__ import annotations

import math

from ..species import molar_mass

__all__ = ["feed_kg_h", "product_oxide_kg_h", "outlets", "residue_kg_h", "effluent_acidity_mol_h",
           "carbon_mol_h", "ACIDITY"]

#: Acidity per mol of species a base has to neutralise (mol H+ per mol): free acid, bisulfate,
#: oxalic acid and hydrogen oxalate.
ACIDITY = {"H+": 1.0, "HSO4-": 1.0, "H2C2O4": 2.0, "HC2O4-": 1.0}


def feed_kg_h(result) -> float:
    """Mass of the external feeds that are not purchased reagents (the scrap) [kg/h]."""
    reag = result.flowsheet.reagent_feeds
    return float(sum(s.total_kg_h for n, s in result.flowsheet.feeds.items() if n not in reag))


def product_oxide_kg_h(result) -> dict:
    """Product name -> (oxide label, oxide-basis mass [kg/h])."""
    return {n: (p.oxide, float(result.streams[p.stream].total_oxide_kg_h))
            for n, p in result.flowsheet.products.items()}


def outlets(result, phase: str) -> dict:
    """Streams leaving the flowsheet in ``phase`` that are not products: name -> Stream."""
    prod = {p.stream for p in result.flowsheet.products.values()}
    return {s: result.streams[s] for _, s, sink in result.flowsheet.connections()
            if sink is None and s not in prod and result.streams[s].phase == phase}


def residue_kg_h(result) -> float:
    """Solid residues leaving the plant (filter cakes other than products) [kg/h]."""
    return float(sum(s.total_kg_h for s in outlets(result, "solid").values()))


def effluent_acidity_mol_h(result) -> float:
    """Acidity of the aqueous effluents a base must neutralise [mol H+/h] (:data:`ACIDITY`)."""
    tot = 0.0
    for s in outlets(result, "aqueous").values():
        mol = s.mol_h
        tot += sum(f * mol.get(sp, 0.0) for sp, f in ACIDITY.items())
    return tot


def carbon_mol_h(result, phase: str) -> float:
    """Carbon leaving in non-product outlets of ``phase`` [mol C/h]."""
    return float(sum(s.element_mol_h().get("C", 0.0) for s in outlets(result, phase).values()))


def kg_per_mol(formula: str) -> float:
    """Molar mass [kg/mol]."""
    m = molar_mass(formula) / 1000.0
    if not (m > 0 and math.isfinite(m)):  # pragma: no cover - molar_mass raises first
        raise ValueError(f"no molar mass for {formula}")
    return m
