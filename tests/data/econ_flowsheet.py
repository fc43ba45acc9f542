"""A small flowsheet for the economics tests: magnet scrap -> roast -> HCl leach -> filter ->
iron removal -> filter -> oxalate precipitation -> filter -> calcination to a mixed rare-earth
oxide. No SX circuit, so it solves in seconds; every sized unit class except SX appears."""
from reeproc import magnet_feed
from reeproc.flowsheet import Flowsheet, Param
from reeproc.flowsheet.trains import add_front_end, add_oxide_train

PARAMETERS = {
    "feed_kg_h": Param(10.0, "magnet scrap feed [kg/h]", 0.1, 1e5),
}


def build(feed_kg_h):
    fs = Flowsheet("economics test: magnet scrap to mixed REO")
    fs.add_feed("magnet scrap", magnet_feed("EV_traction", feed_kg_h).stream)
    add_front_end(fs, "magnet scrap", "RE liquor", roast_T_C=800.0, leach_acid_ratio=2.0,
                  leach_time_h=12.0, leach_T_C=80.0, particle_d_um=40.0, fe_removal_pH=3.5,
                  wash_ratio=3.0)
    add_oxide_train(fs, "REO", "RE liquor", "REO product", oxalate_dose=1.4, wash_ratio=3.0,
                    calcine_T_C=900.0)
    fs.add_product("mixed REO", "REO product", ["Nd", "Pr", "Dy"], "mixed REO")
    return fs
