"""Standard trains of the NdFeB long loop, for flowsheet scripts to build on.

* :func:`add_front_end`: magnet scrap -> oxidative roasting -> selective HCl leach -> filtration
  and wash -> iron removal by NaOH -> filtration and wash: a clarified rare-earth chloride liquor.
* :func:`add_oxide_train`: a rare-earth liquor -> oxalate precipitation -> filtration and wash ->
  calcination in air: an oxide product.

Both only wire units of :mod:`reeproc.units` into a :class:`~reeproc.flowsheet.Flowsheet` under
fixed stream names (listed in each docstring); the physics lives in the units.
"""
from __future__ import annotations

from ..units import (AcidLeach, Calciner, HydroxidePrecipitator, OxalatePrecipitator, Roaster,
                     SolidLiquidSeparator)
from ..units.calcination import oxide_min_T_C
from .junctions import Mixer
from .script import Param

__all__ = ["add_front_end", "add_oxide_train", "add_acid_trim", "hcl_stream", "FRONT_END_PARAMETERS", "OXIDE_TRAIN_PARAMETERS"]

#: Parameters of :func:`add_front_end` with defaults and ranges, for a script's PARAMETERS.
FRONT_END_PARAMETERS = {
    "roast_T_C": Param(800.0, "roasting temperature [°C]", 500.0, 1000.0),
    "leach_acid_ratio": Param(2.0, "HCl supplied per H+ the rare earths need (3 per RE) [-]", 1.0, 5.0),
    "leach_time_h": Param(12.0, "leach residence time, 3 CSTRs [h]", 0.5, 48.0),
    "leach_T_C": Param(80.0, "leach temperature [°C]", 25.0, 95.0),
    "particle_d_um": Param(40.0, "roasted particle diameter [µm]", 5.0, 500.0),
    "fe_removal_pH": Param(3.5, "iron-removal target pH [-]", 2.5, 4.5),
}

#: Parameters of :func:`add_oxide_train` (and the shared filter-cake wash ratio).
OXIDE_TRAIN_PARAMETERS = {
    "oxalate_dose": Param(1.4, "oxalic acid dose [x stoichiometric 1.5 mol/mol RE]", 1.0, 2.0),
    "wash_ratio": Param(3.0, "cake wash water per entrained liquor [L/L]", 0.0, 20.0),
    "calcine_T_C": Param(900.0, f"calcination temperature [°C] (from {oxide_min_T_C():g} °C, "
                         "where the last rare-earth oxalate (Pr) reaches its oxide in air: "
                         "calcination_temperatures.csv)", oxide_min_T_C(), 1100.0),
}


def add_front_end(fs, feed: str, out: str, *, roast_T_C: float, leach_acid_ratio: float,
                  leach_time_h: float, leach_T_C: float, particle_d_um: float,
                  fe_removal_pH: float, wash_ratio: float, leach_cake_moisture: float = 0.3,
                  iron_cake_moisture: float = 0.5) -> None:
    """Roast, leach in HCl, filter, remove iron with NaOH and filter again.

    Parameters
    ----------
    fs : Flowsheet
    feed : str
        Name of the magnet-scrap solid stream (already added as a feed).
    out : str
        Name given to the clarified liquor (iron filtrate + wash filtrate) [L/h].
    roast_T_C : float
        Roasting temperature [°C].
    leach_acid_ratio : float
        HCl supplied per H+ the rare earths need [-].
    leach_time_h, leach_T_C, particle_d_um : float
        Leach residence time over 3 CSTRs [h], temperature [°C], particle diameter [µm].
    fe_removal_pH : float
        Iron-removal target pH [-].
    wash_ratio : float
        Cake wash water per entrained liquor [L/L].
    leach_cake_moisture, iron_cake_moisture : float
        Liquor fraction of each filter cake [kg/kg].

    Streams made: calcine, leach residue (hematite), leach residue liquor, PLS,
    iron cake, iron cake liquor, ``out``, and the off-gases of the roaster, leach and iron removal.
    """
    fs.add_unit("roaster", Roaster(T_C=roast_T_C), {"feed": feed},
                {"calcine": "calcine", "offgas": "roaster off-gas"})
    fs.add_unit("leach", AcidLeach("HCl", acid_ratio=leach_acid_ratio, T_C=leach_T_C,
                                   residence_time_h=leach_time_h, particle_d_um=particle_d_um),
                {"feed": "calcine"},
                {"liquor": "leach slurry liquor", "residue": "leach solids",
                 "offgas": "leach off-gas"})
    fs.add_unit("leach filter",
                SolidLiquidSeparator(cake_moisture=leach_cake_moisture, wash_ratio=wash_ratio),
                {"solids": "leach solids", "liquor": "leach slurry liquor"},
                {"cake": "leach residue (hematite)", "cake_liquor": "leach residue liquor",
                 "filtrate": "pregnant leach liquor", "wash_filtrate": "leach wash filtrate"})
    fs.add_unit("PLS mixer", Mixer(2),
                {"in1": "pregnant leach liquor", "in2": "leach wash filtrate"}, {"out": "PLS"})
    fs.add_unit("iron removal", HydroxidePrecipitator(pH=fe_removal_pH, base="NaOH"),
                {"liquor": "PLS"},
                {"liquor": "neutralised slurry liquor", "precipitate": "iron hydroxide",
                 "offgas": "iron removal off-gas"})
    fs.add_unit("iron filter",
                SolidLiquidSeparator(cake_moisture=iron_cake_moisture, wash_ratio=wash_ratio),
                {"solids": "iron hydroxide", "liquor": "neutralised slurry liquor"},
                {"cake": "iron cake", "cake_liquor": "iron cake liquor",
                 "filtrate": "iron filtrate", "wash_filtrate": "iron wash filtrate"})
    fs.add_unit(f"{out} mixer", Mixer(2), {"in1": "iron filtrate", "in2": "iron wash filtrate"},
                {"out": out})


def add_oxide_train(fs, tag: str, liquor: str, product: str, *, oxalate_dose: float,
                    wash_ratio: float, calcine_T_C: float, cake_moisture: float = 0.3) -> str:
    """Precipitate oxalates from ``liquor``, filter and wash, calcine: returns the product stream.

    Parameters
    ----------
    fs : Flowsheet
    tag : str
        Prefix of the unit and stream names (``"{tag} oxalate"``, ``"{tag} filter"``,
        ``"{tag} calciner"``, ``"{tag} barren liquor"``, ``"{tag} wash filtrate"``, ...).
    liquor : str
        Rare-earth liquor to precipitate [L/h].
    product : str
        Name of the calcined oxide stream.
    oxalate_dose : float
        Oxalic acid dose [x stoichiometric 1.5 mol/mol RE].
    wash_ratio : float
        Cake wash water per entrained liquor [L/L].
    calcine_T_C : float
        Calcination temperature [°C].
    cake_moisture : float
        Liquor fraction of the oxalate cake [kg/kg]; its solutes end in the oxide.
    """
    fs.add_unit(f"{tag} oxalate", OxalatePrecipitator(dose_factor=oxalate_dose),
                {"liquor": liquor},
                {"liquor": f"{tag} oxalate slurry liquor", "precipitate": f"{tag} oxalate"})
    fs.add_unit(f"{tag} filter",
                SolidLiquidSeparator(cake_moisture=cake_moisture, wash_ratio=wash_ratio),
                {"solids": f"{tag} oxalate", "liquor": f"{tag} oxalate slurry liquor"},
                {"cake": f"{tag} oxalate cake", "cake_liquor": f"{tag} cake liquor",
                 "filtrate": f"{tag} barren liquor", "wash_filtrate": f"{tag} wash filtrate"})
    fs.add_unit(f"{tag} calciner", Calciner(T_C=calcine_T_C),
                {"feed": f"{tag} oxalate cake", "liquor": f"{tag} cake liquor"},
                {"product": product, "offgas": f"{tag} calciner off-gas"})
    return product


def hcl_stream(flow_L_h: float, conc_mol_L: float, name: str):
    """Hydrochloric acid make-up [L/h] at ``conc_mol_L`` [mol/L] in water (a reagent stream)."""
    from ..stream import Stream
    from ..units._common import water_mol_per_L

    return Stream.aqueous(flow_L_h, {"H+": conc_mol_L, "Cl-": conc_mol_L, "H2O": water_mol_per_L()},
                          name=name)


def add_acid_trim(fs, tag: str, liquor: str, out: str, *, pH: float,
                  base_conc_mol_L: float = 13.0) -> str:
    """Neutralise the free acid of a strip liquor with aqueous NH3 to ``pH`` (a liquor already
    above it passes with no NH3; no metal hydroxide forms below pH ~5 for the rare earths; the
    unit checks each metal's hydroxide solubility and precipitates what exceeds it, normally
    nothing).

    Parameters
    ----------
    fs : Flowsheet
    tag : str
        Prefix of the unit and stream names (``"{tag} acid trim"``, ``"{tag} trim solids"``).
    liquor : str
        Acidic liquor [L/h].
    out : str
        Name of the trimmed liquor [L/h].
    pH : float
        Target pH [-] (concentration basis, as the unit computes it).
    base_conc_mol_L : float
        NH3 concentration of the dosing solution [mol/L] (13 mol/L: 25 wt% aqueous ammonia, a
        commercial grade); its volume adds to the liquor.

    The NH3 enters as a reagent stream (``reagents_kg_h`` of the unit); the NH4+ it forms stays
    in the liquor (the SX models list no NH4+ constant, so a downstream cascade carries it as an
    inert; ammonium oxalate is soluble, so an oxalate train leaves it in the barren liquor and
    the cake liquor).
    """
    fs.add_unit(f"{tag} acid trim", HydroxidePrecipitator(pH=pH, base="NH3",
                                                          base_conc_mol_L=base_conc_mol_L,
                                                          above_target="pass"),
                {"liquor": liquor},
                {"liquor": out, "precipitate": f"{tag} trim solids",
                 "offgas": f"{tag} trim off-gas"})
    return out
