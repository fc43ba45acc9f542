"""Reference plant: EV traction-motor NdFeB scrap to Nd2O3, Pr6O11, Dy2O3 and Tb4O7 (long loop).

DOCSTRING-PLACEHOLDER
"""
from reeproc import Stream, sx
from reeproc.species import get_species
from reeproc.flowsheet import Flowsheet, Param, run
from reeproc.flowsheet.feedparam import FeedParam, feed_from_param
from reeproc.flowsheet.specs import FeedFlow, RecycleFlow, Spec, UnitAttribute, measure, purity
from reeproc.flowsheet.sx_units import Saponifier, SXCircuit
from reeproc.flowsheet.trains import (FRONT_END_PARAMETERS, OXIDE_TRAIN_PARAMETERS,
                                      add_acid_trim, add_front_end, add_oxide_train, hcl_stream)


def _sx_params(tag, what, n, m, k, oa, scrub_c, scrub_r, strip_c, strip_r, ext, basis):
    """Stage counts and flows of one SX circuit (flows per litre of its aqueous feed)."""
    return {
        f"{tag}_extraction_stages": Param(n, f"{what}: extraction stages [-]", 1, 120, integer=True),
        f"{tag}_scrub_stages": Param(m, f"{what}: scrub stages [-]", 1, 120, integer=True),
        f"{tag}_strip_stages": Param(k, f"{what}: strip stages [-]", 1, 30, integer=True),
        f"{tag}_OA": Param(oa, f"{what}: organic ({ext}) flow per {basis} flow [L/L]", 0.05, 20.0),
        f"{tag}_scrub_HCl_mol_L": Param(scrub_c, f"{what}: scrub acid [mol/L HCl]", 0.01, 6.0),
        f"{tag}_scrub_ratio": Param(scrub_r, f"{what}: scrub flow per {basis} flow [L/L]", 0.005, 2.0),
        f"{tag}_strip_HCl_mol_L": Param(strip_c, f"{what}: strip acid [mol/L HCl]", 0.5, 8.0),
        f"{tag}_strip_ratio": Param(strip_r, f"{what}: strip flow per {basis} flow [L/L]", 0.01, 2.0),
    }


PARAMETERS = {
    "feed": FeedParam("EV_traction"),
    "feed_kg_h": Param(41.67, "magnet scrap feed [kg/h] (41.67 kg/h = 1 t/day)", 0.1, 1e5),
    **FRONT_END_PARAMETERS,
    **_sx_params("sx1", "SX1 heavy/light (PC88A)", 8, 8, 4, 0.3, 1.0, 0.1, 4.0, 0.1, "PC88A",
                 "SX feed"),
    **_sx_params("sx2", "SX2 Pr/Nd (saponified PC88A)", 40, 40, 6, 3.5, 3.0, 0.3, 3.0, 0.1,
                 "PC88A", "SX2 feed (SX1 raffinate)"),
    "sx2_saponification": Param(0.3559, "SX2: fraction of the PC88A in the Na form entering "
                                "stage 1 (NaOH dosed) [-]", 0.05, 0.6),
    **_sx_params("sx3", "SX3 Pr transfer (D2EHPA load-strip)", 5, 3, 5, 0.5, 0.5, 0.03, 4.0,
                 0.06, "D2EHPA", "SX3 feed (SX2 raffinate)"),
    **_sx_params("sx4", "SX4 Tb/Dy (PC88A)", 24, 24, 4, 2.53, 1.625, 0.506, 4.0, 0.84, "PC88A",
                 "SX4 feed (trimmed SX1 strip liquor)"),
    "trim_pH": Param(1.0, "pH to which NH3 trims the strip liquors (SX4 feed, oxalate feeds) "
                     "[-]", 0.5, 2.0),
    **OXIDE_TRAIN_PARAMETERS,
    "purity_spec": Param(0.997, "design-spec bound on each product's purity, oxide basis [-] "
                         "(99.5 % contract + margin)", 0.99, 0.99999),
    "sx1_cut_spec": Param(0.99995, "design-spec bound on the SX1 cuts: heavy (Dy+Tb) share of "
                          "the rare earths in the SX1 strip liquor and light (Nd+Pr) share in "
                          "its raffinate [-]", 0.99, 0.999999),
}

SOLVE_OPTIONS = {"method": "anderson", "tol": 1e-10, "maxiter": 400, "anderson_memory": 3,
                 "anderson_restart": 2.0}

#: Parameters ``reeproc window`` scans by default (the upstream ones the specs must ride out).
WINDOW_PARAMETERS = ["leach_acid_ratio", "fe_removal_pH", "oxalate_dose", "feed_kg_h"]

#: SX circuits route metals below this share of their inlet metal flow around the cascade
#: (SXCircuit trace_floor): deep traces (1e-13 mol/h of Dy in the Pr/Nd circuit) stall cold starts.
TRACE_FLOOR = 1e-9
RARE_EARTHS = ("La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Y")
#: Products: oxide label -> element
OXIDES = {"Pr": "Pr6O11", "Nd": "Nd2O3", "Dy": "Dy2O3", "Tb": "Tb4O7"}


def _metals(liquor, extractant):
    """Every metal cation of ``liquor`` (the SX model must know each, or it refuses); Na and
    NH4+ are left out (Na enters a saponified model by itself; NH4+ is carried as an inert)."""
    return sorted(sp for sp in liquor.species if sp not in ("H+", "Na", "NH4+")
                  and get_species(sp, "aqueous").charge > 0)


def _cut(stream, elements):
    """Share of ``elements`` among the rare earths of ``stream`` [mol/mol] (a measure)."""
    def fn(r):
        mol = r.streams[stream].element_mol_h()
        tot = sum(mol.get(e, 0.0) for e in RARE_EARTHS)
        return sum(mol.get(e, 0.0) for e in elements) / tot
    return measure(fn, f"{'+'.join(elements)} share of the rare earths in '{stream}' [mol/mol]",
                   "logit")


def _circuit(fs, name, extractant, conc, species, stages, ins, outs, organic_L_h, tear=None):
    """An SX circuit on ``fs`` with its organic recycle (tear ``tear``, default its organic
    inlet) started as fresh extractant at ``organic_L_h`` [L/h]."""
    model = sx.MassAction(extractant, concentration_mol_L=conc, species=species)
    fs.add_unit(name, SXCircuit(sx.Cascade(model, *stages), trace_floor=TRACE_FLOOR), ins, outs)
    fs.set_tear_guess(tear or ins["organic"], Stream.organic(organic_L_h, {extractant: conc}))


def build(feed, feed_kg_h, roast_T_C, leach_acid_ratio, leach_time_h, leach_T_C, particle_d_um,
          fe_removal_pH, oxalate_dose, wash_ratio, calcine_T_C, purity_spec, sx1_cut_spec,
          trim_pH, sx2_saponification, **cfg):
    grade = feed
    feed = feed_from_param(grade, feed_kg_h)
    fs = Flowsheet(f"NdFeB long loop: {feed.grade} magnets to Nd2O3, Pr6O11, Dy2O3, Tb4O7")
    fs.notes.append(feed.describe())
    fs.add_feed("magnet scrap", feed.stream)
    add_front_end(fs, "magnet scrap", "SX feed", roast_T_C=roast_T_C,
                  leach_acid_ratio=leach_acid_ratio, leach_time_h=leach_time_h,
                  leach_T_C=leach_T_C, particle_d_um=particle_d_um, fe_removal_pH=fe_removal_pH,
                  wash_ratio=wash_ratio)
    sized = fs.solve().streams["SX feed"]
    F = sized.flow_L_h
    present = {e for e, n in sized.element_mol_h().items() if n > 1e-9 * F}
    heavies = [e for e in ("Dy", "Tb") if e in present]
    p = lambda tag, key: cfg[f"{tag}_{key}"]  # noqa: E731
    stages = lambda tag: (p(tag, "extraction_stages"), p(tag, "scrub_stages"),  # noqa: E731
                          p(tag, "strip_stages"))

    def acids(tag, basis_L_h):
        for what in ("scrub", "strip"):
            fs.add_feed(f"{tag.upper()} {what} acid",
                        hcl_stream(p(tag, f"{what}_ratio") * basis_L_h, p(tag, f"{what}_HCl_mol_L"),
                                   f"{tag.upper()} {what} acid"), reagent="HCl")

    products = {}  # element -> liquor
    # --- SX1: heavy (Dy, Tb) from light (Nd, Pr), unsaponified PC88A
    light_liquor = "SX feed"
    if heavies:
        acids("sx1", F)
        _circuit(fs, "SX1 heavy/light", "PC88A", 1.0, _metals(sized, "PC88A"), stages("sx1"),
                 {"feed": "SX feed", "organic": "SX1 organic", "scrub": "SX1 scrub acid",
                  "strip": "SX1 strip acid"},
                 {"raffinate": "SX1 raffinate (Nd, Pr)", "strip_liquor": "SX1 strip liquor (Dy, Tb)",
                  "stripped_organic": "SX1 organic"}, p("sx1", "OA") * F)
        light_liquor = "SX1 raffinate (Nd, Pr)"
        F2 = F * (1.0 + p("sx1", "scrub_ratio"))
        if len(heavies) == 2:
            # --- SX4: Tb from Dy, PC88A, on the NH3-trimmed SX1 strip liquor
            add_acid_trim(fs, "SX4 feed", "SX1 strip liquor (Dy, Tb)", "SX4 feed", pH=trim_pH)
            F4 = F * p("sx1", "strip_ratio")  # sizing basis: the untrimmed strip liquor
            acids("sx4", F4)
            _circuit(fs, "SX4 Tb/Dy", "PC88A", 1.0, _metals(sized, "PC88A"), stages("sx4"),
                     {"feed": "SX4 feed", "organic": "SX4 organic", "scrub": "SX4 scrub acid",
                      "strip": "SX4 strip acid"},
                     {"raffinate": "SX4 raffinate (Tb)", "strip_liquor": "SX4 strip liquor (Dy)",
                      "stripped_organic": "SX4 organic"}, p("sx4", "OA") * F4)
            products["Tb"] = "SX4 raffinate (Tb)"
            products["Dy"] = "SX4 strip liquor (Dy)"
        else:
            products[heavies[0]] = "SX1 strip liquor (Dy, Tb)"
    else:
        F2 = F
    # --- SX2: Pr from Nd, Na-saponified PC88A (Nd extracted, Pr in the raffinate); the
    # saponifier tops the returning organic up to the Na-form fraction sx2_saponification
    acids("sx2", F2)
    fs.add_unit("SX2 saponifier", Saponifier(sx2_saponification, base="NaOH"),
                {"organic": "SX2 organic"},
                {"organic": "SX2 saponified organic", "water": "SX2 saponification water"})
    # extraction + scrub and the strip are two circuits: a 92-stage cascade with a strip section
    # does not start reliably cold from a fresh organic; each half does
    sp2 = _metals(sized, "PC88A") + ["Na"]
    _circuit(fs, "SX2 Pr/Nd", "PC88A", 1.0, sp2, stages("sx2")[:2],
             {"feed": light_liquor, "organic": "SX2 saponified organic",
              "scrub": "SX2 scrub acid"},
             {"raffinate": "SX2 raffinate (Pr, Na)", "loaded_organic": "SX2 loaded organic (Nd)"},
             p("sx2", "OA") * F2, tear="SX2 organic")
    fs.add_unit("SX2 strip", SXCircuit(sx.Cascade(sx.MassAction("PC88A", concentration_mol_L=1.0,
                                                                species=sp2),
                                                  p("sx2", "strip_stages")),
                                       trace_floor=TRACE_FLOOR),
                {"feed": "SX2 strip acid", "organic": "SX2 loaded organic (Nd)"},
                {"raffinate": "SX2 strip liquor (Nd)", "loaded_organic": "SX2 organic"})
    products["Nd"] = "SX2 strip liquor (Nd)"
    # --- SX3: Pr transfer, unsaponified D2EHPA: Pr loaded, Na/B/Co/Al left in the bleed
    F3 = F2 * (1.0 + p("sx2", "scrub_ratio"))
    acids("sx3", F3)
    _circuit(fs, "SX3 Pr transfer", "D2EHPA", 1.0, _metals(sized, "D2EHPA") + ["Na"],
             stages("sx3"),
             {"feed": "SX2 raffinate (Pr, Na)", "organic": "SX3 organic",
              "scrub": "SX3 scrub acid", "strip": "SX3 strip acid"},
             {"raffinate": "SX3 raffinate (Na/B bleed)", "strip_liquor": "SX3 strip liquor (Pr)",
              "stripped_organic": "SX3 organic"}, p("sx3", "OA") * F3)
    products["Pr"] = "SX3 strip liquor (Pr)"

    # --- products: NH3 trim of strip liquors, oxalate, filter, calcine
    for el in ("Pr", "Nd", "Dy", "Tb"):
        if el not in products:
            continue
        liquor = products[el]
        liquor = add_acid_trim(fs, f"{el} oxalate feed", liquor, f"{el} oxalate feed", pH=trim_pH)
        ox = OXIDES[el]
        add_oxide_train(fs, el, liquor, f"{ox} product", oxalate_dose=oxalate_dose,
                        wash_ratio=wash_ratio, calcine_T_C=calcine_T_C)
        fs.add_product(ox, f"{ox} product", [el], ox)

    # --- design specs: override controllers, each acting only when its bound is missed
    if heavies:
        fs.add_spec(Spec("SX1 heavy cut", _cut("SX1 strip liquor (Dy, Tb)", heavies), sx1_cut_spec,
                         FeedFlow("SX1 scrub acid", per=F, name="sx1_scrub_ratio"), 0.02, 0.4,
                         kind=">="))
        fs.add_spec(Spec("SX1 light cut", _cut("SX1 raffinate (Nd, Pr)", ["Nd", "Pr"]),
                         sx1_cut_spec, RecycleFlow("SX1 organic", per=F, name="sx1_OA"), 0.1, 1.0,
                         kind=">="))
    fs.add_spec(Spec("Pr6O11 purity", purity("Pr6O11"), purity_spec,
                     UnitAttribute("SX2 saponifier", "degree", name="sx2_saponification"), 0.2, 0.6, kind=">="))
    fs.add_spec(Spec("Nd2O3 purity", purity("Nd2O3"), purity_spec,
                     FeedFlow("SX2 scrub acid", per=F2, name="sx2_scrub_ratio"), 0.05, 1.0,
                     kind=">="))
    if len(heavies) == 2:
        fs.add_spec(Spec("Dy2O3 purity", purity("Dy2O3"), purity_spec,
                         FeedFlow("SX4 scrub acid", per=F4, name="sx4_scrub_ratio"), 0.05, 1.5,
                         kind=">="))
        fs.add_spec(Spec("Tb4O7 purity", purity("Tb4O7"), purity_spec,
                         RecycleFlow("SX4 organic", per=F4, name="sx4_OA"), 0.3, 6.0, kind=">="))
    return fs


if __name__ == "__main__":
    print(run(__file__).report())
