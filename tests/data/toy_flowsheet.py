"""A toy recycle flowsheet for engine and sweep tests: a mixer, an Nd/Fe 'separator' (splitter
pair) and a recycle. The product purity rises with the recycle split of the impurity bleed."""
from reeproc import Stream
from reeproc.flowsheet import Flowsheet, Mixer, Param, Splitter

PARAMETERS = {
    "recycle_fraction": Param(0.5, "fraction of the loop stream recycled [-]", 0.0, 1.0),
    "feed_L_h": Param(10.0, "fresh feed [L/h]", 0.0, 1e6),
    "fail": Param(0, "1 makes the build raise (for failure-handling tests) [-]", 0, 1, integer=True),
}


def build(recycle_fraction, feed_L_h, fail):
    if fail:
        raise RuntimeError("forced failure requested by parameter 'fail'")
    fs = Flowsheet("toy loop")
    fs.add_feed("fresh", Stream.aqueous(feed_L_h, {"Nd": 0.1, "Fe+3": 0.001, "Cl-": 0.303}))
    fs.add_unit("mix", Mixer(2), inlets={"in1": "fresh", "in2": "recycle"}, outlets={"out": "mixed"})
    fs.add_unit("split", Splitter({"recycle": recycle_fraction}), inlets={"feed": "mixed"},
                outlets={"recycle": "recycle", "rest": "product"})
    fs.set_tear_guess("recycle", Stream.aqueous(1.0, {"Nd": 0.0}))
    fs.add_product("Nd product", "product", "Nd", "Nd2O3")
    return fs
