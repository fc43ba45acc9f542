"""Smaller flowsheet: HDD magnet scrap to a mixed rare-earth oxide (no SX).

Hard-disk-drive voice-coil magnets (grade ``HDD`` in property_data/feeds.csv, Belfqueh et al.
2023 analysis: Nd 22.8, Pr 3.3, Dy 1.2, Fe 62.6, Co 1.5, B 0.9, Ni 0.6 wt%) ->
oxidative roasting -> selective HCl leach (iron stays as hematite) -> filtration and wash ->
iron removal by NaOH -> filtration -> oxalate precipitation of all rare earths together ->
filtration and wash -> calcination at 900 °C in air -> mixed REO (Nd2O3 + Pr6O11 + Dy2O3).

The product is sold on its total rare-earth oxide content: purity is the RE-oxide fraction of the
calcined product (Co, Ni, Na, B carried in by the entrained cake liquor are the impurities; the
oxalate data give no Co/Ni co-precipitation, property_data/oxalate.csv). No recycle: the
flowsheet is solved in one sequential pass.

Run it:  ``reeproc run flowsheets/hdd_mixed_reo.py``.
"""
from reeproc import magnet_feed
from reeproc.flowsheet import Flowsheet, Mixer, Param, run
from reeproc.units import (AcidLeach, Calciner, HydroxidePrecipitator, OxalatePrecipitator,
                           Roaster, SolidLiquidSeparator)

PARAMETERS = {
    "feed_kg_h": Param(10.0, "HDD magnet scrap feed [kg/h]", 0.1, 1e5),
    "roast_T_C": Param(800.0, "roasting temperature [°C]", 500.0, 1000.0),
    "leach_acid_ratio": Param(2.0, "HCl supplied per H+ the rare earths need (3 per RE) [-]", 1.0, 5.0),
    "leach_time_h": Param(12.0, "leach residence time, 3 CSTRs [h]", 0.5, 48.0),
    "leach_T_C": Param(80.0, "leach temperature [°C]", 25.0, 95.0),
    "particle_d_um": Param(40.0, "roasted particle diameter [µm]", 5.0, 500.0),
    "fe_removal_pH": Param(3.5, "iron-removal target pH [-]", 2.5, 4.5),
    "oxalate_dose": Param(1.4, "oxalic acid dose [x stoichiometric 1.5 mol/mol RE]", 1.0, 2.0),
    "wash_ratio": Param(3.0, "cake wash water per entrained liquor [L/L]", 0.0, 20.0),
    "calcine_T_C": Param(900.0, "calcination temperature [°C]", 700.0, 1100.0),
}

SOLVE_OPTIONS = {"method": "wegstein", "tol": 1e-10, "maxiter": 50}


def build(feed_kg_h, roast_T_C, leach_acid_ratio, leach_time_h, leach_T_C, particle_d_um,
          fe_removal_pH, oxalate_dose, wash_ratio, calcine_T_C):
    feed = magnet_feed("HDD", feed_kg_h)
    fs = Flowsheet("HDD magnets to mixed rare-earth oxide")
    fs.notes.append(feed.describe())
    fs.add_feed("magnet scrap", feed.stream)
    fs.add_unit("roaster", Roaster(T_C=roast_T_C), {"feed": "magnet scrap"},
                {"calcine": "calcine", "offgas": "roaster off-gas"})
    fs.add_unit("leach", AcidLeach("HCl", acid_ratio=leach_acid_ratio, T_C=leach_T_C,
                                   residence_time_h=leach_time_h, particle_d_um=particle_d_um),
                {"feed": "calcine"},
                {"liquor": "leach slurry liquor", "residue": "leach solids", "offgas": "leach off-gas"})
    fs.add_unit("leach filter", SolidLiquidSeparator(cake_moisture=0.3, wash_ratio=wash_ratio),
                {"solids": "leach solids", "liquor": "leach slurry liquor"},
                {"cake": "leach residue (hematite)", "cake_liquor": "leach residue liquor",
                 "filtrate": "pregnant leach liquor", "wash_filtrate": "leach wash filtrate"})
    fs.add_unit("PLS mixer", Mixer(2), {"in1": "pregnant leach liquor", "in2": "leach wash filtrate"},
                {"out": "PLS"})
    fs.add_unit("iron removal", HydroxidePrecipitator(pH=fe_removal_pH, base="NaOH"), {"liquor": "PLS"},
                {"liquor": "neutralised slurry liquor", "precipitate": "iron hydroxide",
                 "offgas": "iron removal off-gas"})
    fs.add_unit("iron filter", SolidLiquidSeparator(cake_moisture=0.5, wash_ratio=wash_ratio),
                {"solids": "iron hydroxide", "liquor": "neutralised slurry liquor"},
                {"cake": "iron cake", "cake_liquor": "iron cake liquor", "filtrate": "iron filtrate",
                 "wash_filtrate": "iron wash filtrate"})
    fs.add_unit("RE liquor mixer", Mixer(2), {"in1": "iron filtrate", "in2": "iron wash filtrate"},
                {"out": "RE liquor"})
    fs.add_unit("oxalate", OxalatePrecipitator(dose_factor=oxalate_dose), {"liquor": "RE liquor"},
                {"liquor": "oxalate slurry liquor", "precipitate": "RE oxalate"})
    fs.add_unit("oxalate filter", SolidLiquidSeparator(cake_moisture=0.3, wash_ratio=wash_ratio),
                {"solids": "RE oxalate", "liquor": "oxalate slurry liquor"},
                {"cake": "RE oxalate cake", "cake_liquor": "RE cake liquor",
                 "filtrate": "barren liquor", "wash_filtrate": "oxalate wash filtrate"})
    fs.add_unit("calciner", Calciner(T_C=calcine_T_C),
                {"feed": "RE oxalate cake", "liquor": "RE cake liquor"},
                {"product": "mixed REO", "offgas": "calciner off-gas"})
    fs.add_product("mixed REO", "mixed REO", ["Nd", "Pr", "Dy"], "mixed REO")
    return fs


if __name__ == "__main__":
    print(run(__file__).report())
