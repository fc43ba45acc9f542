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

Feed: parameter ``feed`` (any grade of property_data/feeds.csv or a wt% composition,
``--set feed=wind_turbine``); every rare earth the feed carries counts as product.

Design spec: the mixed REO fraction >= ``purity_spec`` (99.7 %) by the oxalate-cake wash ratio of
the ``RE filter`` [0, 20 L/L] (more wash leaves less Co/Ni/Na/B liquor in the cake; at 80 %
wash efficiency the purity levels off near 99.78 %). HDD at the default wash (3 L/L) gives
99.68 %: the spec raises the wash to 3.6 L/L and holds 99.706 %.

Run it:  ``reeproc run flowsheets/hdd_mixed_reo.py``.
"""
from reeproc.flowsheet import Flowsheet, Param, run
from reeproc.flowsheet.feedparam import FeedParam, feed_from_param
from reeproc.flowsheet.specs import Spec, UnitAttribute, purity
from reeproc.species import rare_earths
from reeproc.flowsheet.trains import (FRONT_END_PARAMETERS, OXIDE_TRAIN_PARAMETERS,
                                      add_front_end, add_oxide_train)

PARAMETERS = {
    "feed": FeedParam("HDD"),
    "feed_kg_h": Param(10.0, "magnet scrap feed [kg/h]", 0.1, 1e5),
    **FRONT_END_PARAMETERS,
    **OXIDE_TRAIN_PARAMETERS,
    "purity_spec": Param(0.997, "design-spec bound on the mixed REO's rare-earth oxide "
                         "fraction [-] (99.5 % + margin)", 0.99, 0.99999),
}

#: Parameters ``reeproc window`` scans by default.
WINDOW_PARAMETERS = ["leach_acid_ratio", "fe_removal_pH", "oxalate_dose", "feed_kg_h", "wash_ratio"]

SOLVE_OPTIONS = {"method": "wegstein", "tol": 1e-10, "maxiter": 50}


def build(feed, feed_kg_h, roast_T_C, leach_acid_ratio, leach_time_h, leach_T_C, particle_d_um,
          fe_removal_pH, oxalate_dose, wash_ratio, calcine_T_C, purity_spec):
    feed = feed_from_param(feed, feed_kg_h)
    fs = Flowsheet(f"{feed.grade} magnets to mixed rare-earth oxide")
    fs.notes.append(feed.describe())
    fs.add_feed("magnet scrap", feed.stream)
    add_front_end(fs, "magnet scrap", "RE liquor", roast_T_C=roast_T_C,
                  leach_acid_ratio=leach_acid_ratio, leach_time_h=leach_time_h,
                  leach_T_C=leach_T_C, particle_d_um=particle_d_um, fe_removal_pH=fe_removal_pH,
                  wash_ratio=wash_ratio)
    add_oxide_train(fs, "RE", "RE liquor", "mixed REO", oxalate_dose=oxalate_dose,
                    wash_ratio=wash_ratio, calcine_T_C=calcine_T_C)
    # sold on total rare-earth oxide: every rare earth the feed carries is product
    res = [el for el in feed.stream.element_mol_h() if el in rare_earths()]
    fs.add_product("mixed REO", "mixed REO", res, "mixed REO")
    # design spec: the oxalate cake wash holds the REO fraction (Co, Ni, Na, B of the entrained
    # liquor are the impurities; at 80 % wash efficiency the purity levels off near 99.78 %)
    fs.add_spec(Spec("mixed REO purity", purity("mixed REO"), purity_spec,
                     UnitAttribute("RE filter", "wash_ratio", name="RE filter wash ratio [L/L]"),
                     0.0, 20.0, kind=">="))
    return fs


if __name__ == "__main__":
    print(run(__file__).report())
