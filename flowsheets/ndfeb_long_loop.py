"""Reference plant: EV traction-motor NdFeB scrap to Nd2O3, Pr6O11, Dy2O3 and Tb4O7 (long loop).

1 t/day of EV traction-magnet scrap (grade ``EV_traction`` in property_data/feeds.csv: didymium
Nd/Pr with Dy, Tb, Co, Cu, Al, Ga, B, Fe) -> oxidative roasting -> selective HCl leach (iron
stays as hematite) -> filtration -> iron removal by NaOH to pH 3.5 -> four solvent-extraction
circuits -> NH3 acid trim -> oxalate precipitation -> calcination at 900 degC in air: four
separated oxides. ``--set feed=NAME`` takes any grade of feeds.csv or a wt% composition; a feed
without Tb (HDD, wind_turbine) has no SX4 and its Dy2O3 comes straight from SX1; a feed with La,
Ce (they follow Pr) gets SX5 and one with Sm, Gd (they follow Dy) gets SX6, which reject them
as byproduct liquors (e_bike); a feed with both Tb and Sm/Gd, or with other rare earths, is
refused naming the missing circuit. ``--set product_slate=NdPr`` sells one NdPr oxide instead
of Pr6O11 and Nd2O3: no SX2, and SX3 transfers Nd and Pr together from the SX1 raffinate
(leaving Na, B, Co, Cu, Al in its bleed; SX5, for La and Ce, then works on the NdPr liquor).

Circuits (1 M extractant in kerosene, mass action with loading, sx_kex.csv). Every flow is set
feed-forward from the measured SX feed (one pass of the front end at build time): the organic
per mol of the circuit's key rare earth, scrub and strip per organic flow (A/O), SX1's scrub
plus an allowance per mol of light RE, SX2's strip per mol of Nd and SX2's NaOH from its
acid/base balance. Defaults (EV feed) in brackets:

* **SX1 heavy/light** (PC88A, unsaponified; 8 extraction + 8 scrub + 4 strip; 22.3 L organic per
  mol/h of Dy+Tb = O/A 0.30; scrub 1 M HCl at A/O 0.33 + 0.036 mol H+ per mol Nd+Pr; strip 4 M
  HCl at A/O 0.33): Dy, Tb (beta Tb/Nd ~140) loaded and stripped; Nd, Pr, base metals, Na, B
  stay in the raffinate. Window at the EV feed: scrub A/O 0.32-0.37, both cuts >= 99.99 %.
* **SX2 Pr/Nd** (PC88A, Na-saponified in a separate saponifier to 0.357; 40 extraction + 40
  scrub, 32.3 L organic per mol/h Nd+Pr = O/A 3.5, scrub 3 M HCl at A/O 0.086; a separate
  6-stage strip, 3 M HCl, 4.5 mol H+ per mol Nd): Nd extracted (beta Nd/Pr 1.5), Pr, Na, B, Co,
  Cu, Al in the raffinate. Fenske's minimum at 99.8 % is 31 stages, Xu's minimum reflux 2.7 mol
  RE loaded per mol fed; the design runs ~1.3x that with 80 stages. The cut is set by the
  acid/base balance (the net Nd loaded must match the Nd fed to ~0.1 %): the saponification
  window with both products >= 99.7 % is ~0.005 wide, so the NaOH is computed from the balance
  (feed acid + SX1 scrub acid + 3 H+ per heavy RE loaded in SX1 + SX2 scrub acid + 3 H+ per Nd -
  raffinate acid at ``sx2_raffinate_H_mol_L``) and trimmed by a spec. The strip is its own
  circuit: an 86-stage cascade with a strip section does not start reliably cold.
* **SX3 Pr transfer** (D2EHPA, unsaponified; 5 + 3 + 5; O/A 0.5; scrub 0.5 M, strip 4 M HCl):
  loads the Pr from the SX2 raffinate and strips a clean Pr chloride; the ~1.2 M Na
  (saponification + iron-removal NaOH), B, Co, Al, Cu stay in its raffinate (bleed).
* **SX4 Tb/Dy** (PC88A, unsaponified; 24 + 24 + 4; 22.0 L organic per mol/h Dy = O/A 2.5 on the
  SX1 strip liquor; scrub 1.625 M HCl at A/O 0.196; strip 4 M at A/O 0.33) on the SX1 strip
  liquor trimmed with NH3 to pH 1: Dy extracted (beta Dy/Tb 2.1), Tb in the raffinate.
* **SX5 Pr/La-Ce** (D2EHPA, unsaponified; 24 + 30 + 5; 60 L organic per mol/h Pr; scrub 1 M
  HCl at A/O 0.22; strip 4 M at A/O 0.05; only for feeds with La, Ce) on the NH3-trimmed SX3
  strip liquor: Pr extracted (beta Pr/Ce 2.04, Ce/La 3.24), La and Ce in the raffinate, a
  byproduct liquor. Fenske's per-section minimum at 99.98 % is 14 + 10 stages (e_bike).
* **SX6 Dy/Sm-Gd** (PC88A, unsaponified; 12 + 12 + 4; 22 L organic per mol/h Dy; scrub 1.5 M
  at A/O 0.205; strip 4 M at A/O 0.33; only for feeds with Sm, Gd and no Tb) on the
  NH3-trimmed SX1 strip liquor: Dy extracted (beta Dy/Gd 5.2), Sm and Gd in the raffinate, a
  byproduct liquor (Fenske minimum at 99.98 %: 5 + 6). SX1 then loads Sm and Gd with Dy: its
  cut moves to Nd|Sm (beta 8.9; Fenske minimum at 99.995 %: 4 + 6 of its 8 + 8).
* **Acid trims** (HydroxidePrecipitator, 25 wt% aqueous NH3, to ``trim_pH`` 1.0) before SX4 and
  before every oxalate train: the strip liquors leave at 1-3.6 M HCl, where the oxalate loses
  most of the rare earth (Tb recovery 32 % untrimmed, 93 % trimmed). NH3 enters as a reagent
  stream; NH4+ passes SX4 as an inert (no NH4+ Kex in sx_kex.csv) and leaves in the barren
  liquors (ammonium oxalate is soluble).

Design specs (``--no-specs`` switches them off): SX1 heavy cut (Dy+Tb share of the strip liquor
rare earths) >= ``sx1_cut_spec`` by the SX1 scrub; SX1 light cut by the SX1 organic. Each binary
split (SX2 Pr/Nd, SX4 Tb/Dy) is a balance: an "=" spec keeps logit(raffinate product purity) -
logit(extract product purity) within +/-1 (``BALANCE_TOL``: impurities within a factor e =
2.7) by the cut lever (SX2 saponification, SX4 scrub), and a ">=" spec keeps the pair's
mean-logit purity >= logit(``purity_spec``) + 0.5 (99.82 % for 99.7 %) by the reflux (SX2
scrub, SX4 organic): the cut lever leaves the mean nearly unchanged (the two specs decouple),
and inside the balance band both products are then >= ``purity_spec``. At the default feed none
acts (the balance specs start inside their band). Before any search, the specs refuse stage
counts below Fenske's per-section minimum for their purity (``sx.fenske_sections``, feed-stage
composition = feed: at the EV feed SX1 >= 2 + 3, SX2 >= 17 + 12, SX4 >= 10 + 6 for the
defaults), naming the parameter; the scrub ratios are advertised over the specs' bounds.
SX5 and SX6 (reject circuits) each hold the key element's share of the strip liquor
among key + rejects >= ``reject_cut_spec`` (99.98 %) by their scrub and its recovery to the
strip liquor >= ``reject_recovery_spec`` (98 %) by their organic.
Margin: the design purities (>= 99.96 %) leave ~0.4 points to the 99.5 % contract for what the
model leaves out (entrainment, crud, per-RE oxalate solubility).

SX circuits route metals below 1e-7 of their inlet metal flow around the cascade
(``TRACE_FLOOR``, SXCircuit ``trace_floor``) to the raffinate: 1e-13 mol/h of Dy in SX2 stalls
cold starts, and so does 2.4e-7 mol/h of Tb (3e-9 of the SX2 metal) at sx1_scrub_ratio 0.35; a
routed trace is at most 0.1 ppm of the circuit's metal and is counted as an impurity.

Measured (``reeproc run``, specs inactive): Pr6O11 99.990 %, Nd2O3 99.988 %, Dy2O3 99.9986 %,
Tb4O7 99.9985 %; recoveries Pr 95.9, Nd 96.0, Dy 95.9, Tb 93.1 % (leach residue, oxalate
solubility); balances closed to ~1e-14. A +/-10 % move of leach_acid_ratio, fe_removal_pH,
oxalate_dose or feed_kg_h keeps every product >= 99.97 % (the SX2 balance spec acts for
leach_acid_ratio 2.2 and fe_removal_pH 3.85). Grades: wind_turbine (no Tb) held by the SX2
balance spec (Pr6O11 99.98 %); e_bike (La 5.0, Ce 0.7, Sm 0.4, Gd 13 % of its Nd+Pr+Dy, no
Tb) held with SX5 and SX6 (Pr6O11 99.978 %, Nd2O3 99.982 %, Dy2O3 99.9999 %; recoveries Pr
94.9, Nd 95.8, Dy 95.8 %; the SX1 light-cut and SX2 specs act, 35 solves; on this feed the
SX2 specs measure the Pr/Nd split alone, Pr/(Pr+Nd), as SX5 takes out the La and Ce);
industrial_motor_NiCuNi
held (Pr6O11 99.95 %, the others >= 99.98 %; SX1, SX2 and SX4 specs act, 37 solves, ~60 s);
HDD (Pr/(Nd+Pr) 13 %, no Tb) held by the SX2 balance and reflux specs (Pr6O11 99.973 %, Nd2O3
99.983 %, Dy2O3 100.0 %; 22 solves, 7 s). Every parameter at its bounds
either solves or is refused naming it (tests/test_param_ranges.py).

Run it:  ``reeproc run flowsheets/ndfeb_long_loop.py``; parameters: ``reeproc params ...``.
"""
import dataclasses
import math

from reeproc import Stream, sx
from reeproc.species import get_species
from reeproc.flowsheet import Flowsheet, Param, run
from reeproc.flowsheet.feedparam import FeedParam, feed_from_param
from reeproc.flowsheet.specs import FeedFlow, RecycleFlow, Spec, UnitAttribute, measure
from reeproc.flowsheet.sx_units import Saponifier, SXCircuit
from reeproc.flowsheet.trains import (FRONT_END_PARAMETERS, OXIDE_TRAIN_PARAMETERS,
                                      add_acid_trim, add_front_end, add_oxide_train, hcl_stream)


def _sx_params(tag, what, n, m, k, key, per_mol, scrub_c, scrub_r, strip_c, strip_r, ext,
               scrub_range=(0.005, 2.0)):
    """Stage counts and flows of one SX circuit: its organic flow is set feed-forward from the
    flow of its key metal(s) in the measured feed, its scrub and strip per organic flow (a
    scrub that a design spec moves is advertised over the spec's bounds, ``scrub_range``)."""
    return {
        f"{tag}_extraction_stages": Param(n, f"{what}: extraction stages [-]", 1, 120, integer=True),
        f"{tag}_scrub_stages": Param(m, f"{what}: scrub stages [-]", 1, 120, integer=True),
        f"{tag}_strip_stages": Param(k, f"{what}: strip stages [-]", 1, 30, integer=True),
        f"{tag}_organic_L_per_mol": Param(per_mol, f"{what}: organic (1 M {ext}) flow per mol of "
                                          f"{key} fed [L/mol]", 2.0, 200.0),
        f"{tag}_scrub_HCl_mol_L": Param(scrub_c, f"{what}: scrub acid [mol/L HCl]", 0.01, 6.0),
        f"{tag}_scrub_ratio": Param(scrub_r, f"{what}: scrub flow per organic flow (A/O) [L/L]",
                                    *scrub_range),
        f"{tag}_strip_HCl_mol_L": Param(strip_c, f"{what}: strip acid [mol/L HCl]", 0.5, 8.0),
        f"{tag}_strip_ratio": Param(strip_r, f"{what}: strip flow per organic flow (A/O) [L/L]",
                                    0.005, 2.0),
    }


#: scrub A/O [L/L] the design specs may use (SX1 heavy cut; SX2 and SX4 reflux/balance specs):
#: the scrub parameters are advertised over the same ranges (SX1's spec variable also carries
#: the allowance per mol of light RE, hence its wider spec bound)
SX1_SCRUB_RANGE, SX2_SCRUB_RANGE, SX4_SCRUB_RANGE = (0.02, 2.0), (0.01, 0.5), (0.02, 1.0)
SX5_SCRUB_RANGE, SX6_SCRUB_RANGE = (0.1, 0.4), (0.1, 0.3)
#: product slates of the light rare earths (parameter product_slate)
SLATES = ("separate", "NdPr")

PARAMETERS = {
    "feed": FeedParam("EV_traction"),
    "feed_kg_h": Param(41.67, "magnet scrap feed [kg/h] (41.67 kg/h = 1 t/day)", 0.1, 1e5),
    **FRONT_END_PARAMETERS,
    **_sx_params("sx1", "SX1 heavy/light (PC88A)", 8, 8, 4, "Dy+Tb (+Gd+Sm)", 22.31, 1.0, 0.33, 4.0,
                 1 / 3, "PC88A", SX1_SCRUB_RANGE),
    "sx1_scrub_H_per_light": Param(0.0357, "SX1: scrub acid added per mol of Nd+Pr fed (it "
                                   "scrubs the co-loaded light RE) [mol H+/mol]", 0.0, 0.5),
    **{k: v for k, v in _sx_params("sx2", "SX2 Pr/Nd (saponified PC88A)", 40, 40, 6, "Nd+Pr",
                                   32.26, 3.0, 0.6 / 7, 3.0, 0.2 / 7, "PC88A",
                                   SX2_SCRUB_RANGE).items()
       if k != "sx2_strip_ratio"},
    "sx2_strip_H_per_Nd": Param(4.5, "SX2: strip acid per mol of Nd fed (3 consumed per Nd "
                                "stripped; the excess keeps the returning organic Nd-free) "
                                "[mol H+/mol]", 3.3, 12.0),
    "sx2_raffinate_H_mol_L": Param(0.01913, "SX2: raffinate acidity the NaOH saponification is "
                                   "set for (feed-forward base balance) [mol/L H+]", 0.001, 0.2),
    **_sx_params("sx3", "SX3 Pr transfer (D2EHPA load-strip)", 5, 3, 5, "Pr", 23.55, 0.5, 0.06,
                 4.0, 0.12, "D2EHPA"),
    **_sx_params("sx4", "SX4 Tb/Dy (PC88A)", 24, 24, 4, "Dy", 22.02, 1.625, 0.1958, 4.0, 0.332,
                 "PC88A", SX4_SCRUB_RANGE),
    # circuits only feeds with La/Ce (SX5) or Sm/Gd (SX6) get (e_bike)
    **_sx_params("sx5", "SX5 Pr/La-Ce (D2EHPA; feeds with La, Ce)", 24, 30, 5, "Pr", 60.0, 1.0,
                 0.22, 4.0, 0.05, "D2EHPA", SX5_SCRUB_RANGE),
    **_sx_params("sx6", "SX6 Dy/Sm-Gd (PC88A; feeds with Sm, Gd)", 12, 12, 4, "Dy", 22.0, 1.5,
                 0.205, 4.0, 0.33, "PC88A", SX6_SCRUB_RANGE),
    "reject_cut_spec": Param(0.9998, "design-spec bound on the share of Pr among Pr+La+Ce in the "
                             "SX5 strip liquor and of Dy among Dy+Gd+Sm in the SX6 strip liquor "
                             "[-]", 0.99, 0.99999),
    "reject_recovery_spec": Param(0.98, "design-spec bound on the recovery of Pr (SX5) and Dy "
                                  "(SX6) to the strip liquor of the circuit that rejects La, Ce "
                                  "or Sm, Gd [-]", 0.5, 0.999),
    "product_slate": Param("separate", "what the light rare earths are sold as: 'separate' "
                           "(Pr6O11 and Nd2O3 from the SX2 Pr/Nd split) or 'NdPr' (one NdPr "
                           "oxide: no SX2; SX3 transfers Nd and Pr together) [-]",
                           choices=SLATES),
    "trim_pH": Param(1.0, "pH to which NH3 trims the strip liquors (SX4 feed, oxalate feeds) "
                     "[-]", 0.5, 2.0),
    **OXIDE_TRAIN_PARAMETERS,
    "purity_spec": Param(0.997, "design-spec bound on each product's purity, oxide basis [-] "
                         "(99.5 % contract + margin; up to 99.95 %: at 99.99 % the SX2 reflux "
                         "spec finds no scrub flow within its bounds)", 0.99, 0.9995),
    "sx1_cut_spec": Param(0.99995, "design-spec bound on the SX1 cuts: heavy (Dy+Tb) share of "
                          "the rare earths in the SX1 strip liquor and light (Nd+Pr) share in "
                          "its raffinate [-]", 0.99, 0.999999),
}

# SX2's own ranges where the generic ones are wider than the circuit works (measured by
# tests/test_param_ranges.py at the EV feed): one strip stage, strip acid below 1 M or at
# 3.3 H+ per Nd leave Nd on the returning organic, and more than 100 L organic per mol (O/A
# > 11) over-extracts: the specs then search 1-10 min before refusing
PARAMETERS.update({
    "sx2_strip_stages": dataclasses.replace(PARAMETERS["sx2_strip_stages"], low=2),
    "sx2_strip_HCl_mol_L": dataclasses.replace(PARAMETERS["sx2_strip_HCl_mol_L"], low=1.0),
    "sx2_organic_L_per_mol": dataclasses.replace(PARAMETERS["sx2_organic_L_per_mol"], high=100.0),
    "sx2_strip_H_per_Nd": dataclasses.replace(PARAMETERS["sx2_strip_H_per_Nd"], low=3.6),
    # SX5/SX6 scrub (measured at the e_bike feed): a weak scrub (0.3 M, A/O 0.02) lets the
    # rejects load and the specs search for more than 5 min; a strong one (3 M, A/O 2) strips
    # the key metal too and leaves its oxide train empty before a spec can act
    "sx5_scrub_HCl_mol_L": dataclasses.replace(PARAMETERS["sx5_scrub_HCl_mol_L"], low=0.7,
                                               high=1.5),
    "sx6_scrub_HCl_mol_L": dataclasses.replace(PARAMETERS["sx6_scrub_HCl_mol_L"], low=1.0,
                                               high=2.0),
})

SOLVE_OPTIONS = {"method": "anderson", "tol": 1e-10, "maxiter": 400, "anderson_memory": 3,
                 "anderson_restart": 2.0}

#: Parameters ``reeproc window`` scans by default (the upstream ones the specs must ride out).
WINDOW_PARAMETERS = ["leach_acid_ratio", "fe_removal_pH", "oxalate_dose", "feed_kg_h"]

#: SX circuits route metals below this share of their inlet metal flow around the cascade
#: (SXCircuit trace_floor): deep traces (1e-13 mol/h of Dy, 2.4e-7 mol/h of Tb in the Pr/Nd
#: circuit) stall cold starts.
TRACE_FLOOR = 1e-7
#: SX cascade tolerance (scaled stage residual, every species row relative to its own flows)
SX_TOL = 1e-11
RARE_EARTHS = ("La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Y")
#: rare earths the plant rejects rather than sells: La, Ce follow Pr (SX5 Pr/La-Ce takes them
#: out), Sm, Gd follow Dy (SX6 Dy/Sm-Gd); in decreasing extraction order (PC88A, D2EHPA)
LIGHT_REJECT, MIDDLE_REJECT = ("Ce", "La"), ("Gd", "Sm")
#: Products: key -> (oxide label, elements); "NdPr" with product_slate='NdPr'
OXIDES = {"Pr": "Pr6O11", "Nd": "Nd2O3", "Dy": "Dy2O3", "Tb": "Tb4O7", "NdPr": "NdPr oxide"}
TARGETS = {"NdPr": ("Nd", "Pr")}


def _metals(liquor, extractant):
    """Every metal cation of ``liquor`` (the SX model must know each, or it refuses); Na and
    NH4+ are left out (Na enters a saponified model by itself; NH4+ is carried as an inert)."""
    return sorted(sp for sp in liquor.species if sp not in ("H+", "Na", "NH4+")
                  and get_species(sp, "aqueous").charge > 0)


def _cut(stream, elements, among=RARE_EARTHS):
    """Share of ``elements`` among the rare earths (or the elements ``among``) of ``stream``
    [mol/mol] (a measure)."""
    def fn(r):
        mol = r.streams[stream].element_mol_h()
        tot = sum(mol.get(e, 0.0) for e in among)
        return sum(mol.get(e, 0.0) for e in elements) / tot
    what = "the rare earths" if among is RARE_EARTHS else "+".join(among)
    return measure(fn, f"{'+'.join(elements)} share of {what} in '{stream}' [mol/mol]", "logit")


def _recovery(element, product, reject):
    """Share of ``element`` leaving a circuit in ``product`` rather than ``reject`` [mol/mol]."""
    def fn(r):
        a, b = (r.streams[s].element_mol_h().get(element, 0.0) for s in (product, reject))
        return a / (a + b)
    return measure(fn, f"{element} recovery to '{product}' (against '{reject}') [mol/mol]", "logit")


#: half-width of the balance band of a binary split [logit units]: the two impurity fractions
#: within a factor e = 2.7 of each other
BALANCE_TOL = 1.0


def _binary_specs(fs, tag, raffinate_product, extract_product, cut, cut_range, reflux,
                  reflux_range, bound, sign=1.0, feasible=None, among=None):
    """The two specs of a binary split (see build): ``cut`` raises the extract's share loaded
    (``sign`` -1 when it lowers it), ``reflux`` raises both purities. With ``among`` (the
    pair's elements) each product's purity is its target's molar share of them: the split's
    own impurity, when another circuit (SX5) takes out the product's other impurities."""
    def pur(r, p):
        prod = fs.products[p]
        if among is None:
            return r.streams[prod.stream].purity(list(prod.target))
        mol = r.streams[prod.stream].element_mol_h()
        return sum(mol.get(e, 0.0) for e in prod.target) / sum(mol.get(e, 0.0) for e in among)

    basis = "oxide basis" if among is None else f"molar share of {'+'.join(among)}"

    def balance(r):
        a, b = (pur(r, p) for p in (raffinate_product, extract_product))
        lg = lambda v: math.log(max(v, 1e-15) / max(1.0 - v, 1e-15))  # noqa: E731
        return sign * (lg(a) - lg(b))
    fs.add_spec(Spec(f"{tag} balance", measure(balance, f"{tag}: logit purity {raffinate_product}"
                                               f" - logit purity {extract_product} [-]"),
                     0.0, cut, *cut_range, kind="=", tol=BALANCE_TOL))

    # the reflux spec measures the mean logit purity of the pair: the cut lever trades impurity
    # between the two products and leaves it nearly unchanged, so the two specs decouple; its
    # bound sits BALANCE_TOL/2 above purity_spec, so a pair inside the balance band has both
    # products >= purity_spec
    def mean_logit(r):
        lg = [math.log(max(v, 1e-15) / max(1.0 - v, 1e-15)) for v in
              (pur(r, p) for p in (raffinate_product, extract_product))]
        return 1.0 / (1.0 + math.exp(-0.5 * (lg[0] + lg[1])))
    target = 1.0 / (1.0 + math.exp(-(math.log(bound / (1.0 - bound)) + 0.5 * BALANCE_TOL)))
    fs.add_spec(Spec(f"{tag} products purity",
                     measure(mean_logit, f"mean-logit purity of {raffinate_product} and "
                             f"{extract_product} ({basis}) [-]", "logit"),
                     target, reflux, *reflux_range, kind=">=", feasible=feasible))


def _check_stages(cfg, tag, a, b, n_a, n_b, purity, extractant="PC88A"):
    """Refuse a stage count below Fenske's per-section minimum (total reflux, Xu's feed-stage
    hypothesis; sx.fenske_sections) for the split of ``a`` (extracted) from ``b``: no organic
    or scrub flow can then make ``purity``, and the specs would search in vain (the check of
    the circuit's specs, ``Spec.feasible``; a solve without specs runs such a design and
    reports its purities)."""
    beta = sx.load_extractant(extractant).separation_factor(a[-1], b[0])
    if beta <= 1.0:
        raise ValueError(f"{tag}_extraction_stages, {tag}_scrub_stages: beta {a[-1]}/{b[0]} = "
                         f"{beta:.3g} <= 1 with the {extractant} constants in use (sx_kex.csv): "
                         f"{a[-1]} is not extracted ahead of {b[0]}, no stage count splits them")
    mins = sx.fenske_sections(beta, n_a / (n_a + n_b), purity)
    for section, n_min in zip(("extraction", "scrub"), mins):
        n = cfg[f"{tag}_{section}_stages"]
        if n < n_min:
            raise ValueError(
                f"{tag}_{section}_stages={n} is below the {n_min:.1f} stages its section needs "
                f"at total reflux to make {100 * purity:.5g} % (Fenske per section, feed-stage "
                f"composition = feed: beta {a[-1]}/{b[0]} {beta:.3g}, {'+'.join(a)} "
                f"{100 * n_a / (n_a + n_b):.3g} % of the {'+'.join(a + b)} fed); allowed: "
                f">= {math.ceil(n_min)}")


def build(feed, feed_kg_h, roast_T_C, leach_acid_ratio, leach_time_h, leach_T_C, particle_d_um,
          fe_removal_pH, oxalate_dose, wash_ratio, calcine_T_C, purity_spec, sx1_cut_spec,
          trim_pH, sx2_raffinate_H_mol_L, sx1_scrub_H_per_light, sx2_strip_H_per_Nd,
          reject_cut_spec, reject_recovery_spec, product_slate, **cfg):
    # SX warm starts across builds only for the same parameters (a re-run, a benchmark): a sweep
    # case then starts as it would alone, and its result does not depend on the case before it
    warm = "ndfeb_long_loop/" + repr(sorted({k: v for k, v in locals().items()
                                             if k != "cfg"}.items()) + sorted(cfg.items()))
    grade = feed
    feed = feed_from_param(grade, feed_kg_h)
    # (a build() called directly, without check_params, is checked all the same)
    product_slate = PARAMETERS["product_slate"].check("product_slate", product_slate)
    light_oxides = "NdPr oxide" if product_slate == "NdPr" else "Nd2O3, Pr6O11"
    fs = Flowsheet(f"NdFeB long loop: {feed.grade} magnets to {light_oxides}, Dy2O3, Tb4O7")
    fs.notes.append(feed.describe())
    fs.add_feed("magnet scrap", feed.stream)
    add_front_end(fs, "magnet scrap", "SX feed", roast_T_C=roast_T_C,
                  leach_acid_ratio=leach_acid_ratio, leach_time_h=leach_time_h,
                  leach_T_C=leach_T_C, particle_d_um=particle_d_um, fe_removal_pH=fe_removal_pH,
                  wash_ratio=wash_ratio)
    # feed-forward basis: the clarified SX feed of one pass of the front end
    sized = fs.solve().streams["SX feed"]
    F, mol = sized.flow_L_h, sized.element_mol_h()
    n = {e: mol.get(e, 0.0) for e in ("Nd", "Pr", "Dy", "Tb")}
    heavies = [e for e in ("Dy", "Tb") if n[e] > 1e-6 * sum(n.values())]
    for e in ("Nd", "Pr"):
        if n[e] <= 0:
            raise ValueError(f"feed={grade!r} carries no {e}: this plant splits Pr from Nd")
    RE = sum(n.values())
    minor = {e: mol[e] for e in LIGHT_REJECT + MIDDLE_REJECT if mol.get(e, 0.0) > 1e-6 * RE}
    others = {e: mol[e] for e in RARE_EARTHS
              if e not in n and e not in minor and mol.get(e, 0.0) > 1e-6 * RE}
    if others:
        raise ValueError(
            f"feed={grade!r} carries " + ", ".join(f"{e} {100 * v / RE:.3g} %" for e, v in
                                                  others.items())
            + " of its Nd+Pr+Dy+Tb (mol): this plant has no circuit for them; it separates "
            "Nd, Pr, Dy and Tb, rejects La and Ce (SX5) and Sm and Gd (SX6), with base metals")
    lights = [e for e in LIGHT_REJECT if e in minor]     # follow Pr: SX5 takes them out
    middle = [e for e in MIDDLE_REJECT if e in minor]    # follow Dy: SX6 takes them out
    if middle and len(heavies) == 2:
        raise ValueError(
            f"feed={grade!r} carries Tb and " + ", ".join(middle) + ": Tb lies between Gd and "
            "Dy in extraction order, and this plant has no Tb/Gd circuit (SX6 splits Dy from "
            "Sm and Gd only in feeds without Tb)")
    if middle and heavies != ["Dy"]:
        raise ValueError(f"feed={grade!r} carries " + ", ".join(middle) + " but no Dy: SX6 "
                         "(Dy from Sm, Gd) has no product to make")
    # SX1 loads every rare earth heavier than Nd: its cut moves to Nd|Sm when Sm, Gd come in
    sx1_heavy = heavies + middle
    cfg = {k: float(v) if not k.endswith("stages") else v for k, v in cfg.items()}
    p = lambda tag, key: cfg[f"{tag}_{key}"]  # noqa: E731
    stages = lambda tag: (p(tag, "extraction_stages"), p(tag, "scrub_stages"),  # noqa: E731
                          p(tag, "strip_stages"))
    flows = {}

    def circuit(tag, name, extractant, key_mol_h, ins, outs, *, strip=True, tear=None):
        """Acids, organic guess and unit of one circuit; flows from its key metal [L/h]."""
        O = p(tag, "organic_L_per_mol") * key_mol_h
        flows[tag] = O
        T = tag.upper()
        for what in ("scrub", "strip"):
            L = (extra_L[(tag, what)] if (tag, what) in fixed_L
                 else p(tag, f"{what}_ratio") * O + extra_L.get((tag, what), 0.0))
            flows[(tag, what)] = L
            fs.add_feed(f"{T} {what} acid", hcl_stream(L, p(tag, f"{what}_HCl_mol_L"),
                                                       f"{T} {what} acid"), reagent="HCl")
        species = _metals(sized, extractant) + (["Na"] if tag in ("sx2", "sx3") else [])
        model = sx.MassAction(extractant, concentration_mol_L=1.0, species=species)
        st = stages(tag) if strip else stages(tag)[:2]
        fs.add_unit(name, SXCircuit(sx.Cascade(model, *st), trace_floor=TRACE_FLOOR, tol=SX_TOL,
                                    warm_key=f"{warm}/{name}"), ins, outs)
        fs.set_tear_guess(tear or ins["organic"], Stream.organic(O, {extractant: 1.0}))
        fs.notes.append(f"{name}: {'+'.join(str(x) for x in st)} stages, organic {O:.4g} L/h "
                        f"(O/A {O / ins_flow[tag]:.3g} on its feed), scrub "
                        f"{flows[(tag, 'scrub')]:.4g} L/h of {p(tag, 'scrub_HCl_mol_L'):g} M "
                        f"HCl, strip {flows[(tag, 'strip')]:.4g} L/h of "
                        f"{p(tag, 'strip_HCl_mol_L'):g} M HCl")
        return O

    products = {}  # element -> liquor
    # SX1 scrub: the co-loaded Nd+Pr it must scrub grows with the light RE fed (feed-forward)
    extra_L = {("sx1", "scrub"): sx1_scrub_H_per_light * (n["Nd"] + n["Pr"])
               / p("sx1", "scrub_HCl_mol_L"),
               ("sx2", "strip"): sx2_strip_H_per_Nd * n["Nd"] / p("sx2", "strip_HCl_mol_L")}
    fixed_L = {("sx2", "strip")}
    light_liquor, H_sx2_feed = "SX feed", sized.n("H+")
    ins_flow = {"sx1": F}
    O1 = 0.0
    if sx1_heavy:
        # --- SX1: heavy (Dy, Tb; Gd, Sm) from light (Nd, Pr), unsaponified PC88A
        O1 = circuit("sx1", "SX1 heavy/light", "PC88A", sum(mol[e] for e in sx1_heavy),
                     {"feed": "SX feed", "organic": "SX1 organic", "scrub": "SX1 scrub acid",
                      "strip": "SX1 strip acid"},
                     {"raffinate": "SX1 raffinate (Nd, Pr)",
                      "strip_liquor": "SX1 strip liquor (Dy, Tb)", "stripped_organic": "SX1 organic"})
        light_liquor = "SX1 raffinate (Nd, Pr)"
        # its raffinate carries the feed acid, the scrub acid and 3 H+ per heavy RE loaded
        H_sx2_feed += (flows[("sx1", "scrub")] * p("sx1", "scrub_HCl_mol_L")
                       + 3.0 * sum(mol[e] for e in sx1_heavy))
        if len(heavies) == 2:
            # --- SX4: Tb from Dy, PC88A, on the NH3-trimmed SX1 strip liquor
            add_acid_trim(fs, "SX4 feed", "SX1 strip liquor (Dy, Tb)", "SX4 feed", pH=trim_pH)
            ins_flow["sx4"] = p("sx1", "strip_ratio") * O1
            circuit("sx4", "SX4 Tb/Dy", "PC88A", n["Dy"],
                    {"feed": "SX4 feed", "organic": "SX4 organic", "scrub": "SX4 scrub acid",
                     "strip": "SX4 strip acid"},
                    {"raffinate": "SX4 raffinate (Tb)", "strip_liquor": "SX4 strip liquor (Dy)",
                     "stripped_organic": "SX4 organic"})
            products["Tb"] = "SX4 raffinate (Tb)"
            products["Dy"] = "SX4 strip liquor (Dy)"
        elif middle:
            # --- SX6: Dy from Sm, Gd, PC88A, on the NH3-trimmed SX1 strip liquor (Dy extracted,
            # beta Dy/Gd ~5; Sm and Gd leave in the raffinate, a mixed Sm-Gd chloride byproduct)
            add_acid_trim(fs, "SX6 feed", "SX1 strip liquor (Dy, Tb)", "SX6 feed", pH=trim_pH)
            ins_flow["sx6"] = p("sx1", "strip_ratio") * O1
            circuit("sx6", "SX6 Dy/Sm-Gd", "PC88A", n["Dy"],
                    {"feed": "SX6 feed", "organic": "SX6 organic", "scrub": "SX6 scrub acid",
                     "strip": "SX6 strip acid"},
                    {"raffinate": "SX6 raffinate (Sm, Gd byproduct)",
                     "strip_liquor": "SX6 strip liquor (Dy)", "stripped_organic": "SX6 organic"})
            products["Dy"] = "SX6 strip liquor (Dy)"
        else:
            products[heavies[0]] = "SX1 strip liquor (Dy, Tb)"
    F2 = F + flows.get(("sx1", "scrub"), 0.0)
    ins_flow["sx2"] = F2
    ndpr = product_slate == "NdPr"
    O2 = scrub2 = 0.0
    if not ndpr:
        # --- SX2: Pr from Nd, Na-saponified PC88A (Nd extracted, Pr in the raffinate). The
        # extraction + scrub and the strip are two circuits (an 86-stage cascade with a strip
        # section does not start reliably cold from fresh organic; each half does)
        O2 = p("sx2", "organic_L_per_mol") * (n["Nd"] + n["Pr"])
        scrub2 = p("sx2", "scrub_ratio") * O2
        # feed-forward base balance: NaOH = feed acid + scrub acid + 3 H+ per Nd loaded -
        # raffinate acid
        base = (H_sx2_feed + scrub2 * p("sx2", "scrub_HCl_mol_L") + 3.0 * n["Nd"]
                - sx2_raffinate_H_mol_L * (F2 + scrub2))
        degree = base / (1.0 * O2)
        if not 0.05 <= degree <= 0.6:
            raise ValueError(
                f"SX2 saponification {degree:.4g} from the base balance lies outside 0.05-0.6 "
                "(PC88A practice 0.3-0.5): NaOH = feed acid (leach_acid_ratio, fe_removal_pH) "
                "+ SX1 scrub acid (sx1_scrub_HCl_mol_L, sx1_scrub_ratio, sx1_scrub_H_per_light) "
                "+ 3 H+ per heavy RE + SX2 scrub acid (sx2_scrub_HCl_mol_L x sx2_scrub_ratio) "
                "+ 3 H+ per Nd - raffinate acid (sx2_raffinate_H_mol_L), over the organic "
                "(sx2_organic_L_per_mol); "
                + ("lower the acid terms or raise sx2_organic_L_per_mol" if degree > 0.6 else
                   "raise the acid terms or lower sx2_organic_L_per_mol"))
        fs.add_unit("SX2 saponifier", Saponifier(degree, base="NaOH"), {"organic": "SX2 organic"},
                    {"organic": "SX2 saponified organic", "water": "SX2 saponification water"})
        circuit("sx2", "SX2 Pr/Nd", "PC88A", n["Nd"] + n["Pr"],
                {"feed": light_liquor, "organic": "SX2 saponified organic",
                 "scrub": "SX2 scrub acid"},
                {"raffinate": "SX2 raffinate (Pr, Na)",
                 "loaded_organic": "SX2 loaded organic (Nd)"},
                strip=False, tear="SX2 organic")
        fs.notes.append(f"SX2 saponification {degree:.5f} (NaOH {base:.4g} mol/h) from the base "
                        "balance; SX2 strip is a separate circuit")
        model2 = sx.MassAction("PC88A", concentration_mol_L=1.0,
                               species=_metals(sized, "PC88A") + ["Na"])
        fs.add_unit("SX2 strip", SXCircuit(sx.Cascade(model2, p("sx2", "strip_stages")),
                                           trace_floor=TRACE_FLOOR, tol=SX_TOL,
                                           warm_key=f"{warm}/SX2 strip"),
                    {"feed": "SX2 strip acid", "organic": "SX2 loaded organic (Nd)"},
                    {"raffinate": "SX2 strip liquor (Nd)", "loaded_organic": "SX2 organic"})
        products["Nd"] = "SX2 strip liquor (Nd)"
    # --- SX3: transfer, unsaponified D2EHPA: Pr (or, for the NdPr slate, Nd and Pr from the
    # SX1 raffinate) loaded, Na/B/Co/Al left in the bleed
    light = "NdPr" if ndpr else "Pr"
    key_mol = n["Nd"] + n["Pr"] if ndpr else n["Pr"]
    ins_flow["sx3"] = F2 + scrub2
    circuit("sx3", f"SX3 {light} transfer", "D2EHPA", key_mol,
            {"feed": light_liquor if ndpr else "SX2 raffinate (Pr, Na)", "organic": "SX3 organic",
             "scrub": "SX3 scrub acid", "strip": "SX3 strip acid"},
            {"raffinate": "SX3 raffinate (Na/B bleed)",
             "strip_liquor": f"SX3 strip liquor ({light})", "stripped_organic": "SX3 organic"})
    products[light] = f"SX3 strip liquor ({light})"
    if lights:
        # --- SX5: Pr (NdPr) from La, Ce, unsaponified D2EHPA on the NH3-trimmed SX3 strip
        # liquor (extracted, beta Pr/Ce ~2, Ce/La ~3; La and Ce leave in the raffinate, a
        # byproduct)
        add_acid_trim(fs, "SX5 feed", products[light], "SX5 feed", pH=trim_pH)
        ins_flow["sx5"] = flows[("sx3", "strip")]
        circuit("sx5", f"SX5 {light}/La-Ce", "D2EHPA", key_mol,
                {"feed": "SX5 feed", "organic": "SX5 organic", "scrub": "SX5 scrub acid",
                 "strip": "SX5 strip acid"},
                {"raffinate": "SX5 raffinate (La, Ce byproduct)",
                 "strip_liquor": f"SX5 strip liquor ({light})", "stripped_organic": "SX5 organic"})
        products[light] = f"SX5 strip liquor ({light})"

    # --- products: NH3 trim, oxalate, filter, calcine
    for el in ("Pr", "Nd", "NdPr", "Dy", "Tb"):
        if el not in products:
            continue
        liquor = add_acid_trim(fs, f"{el} oxalate feed", products[el], f"{el} oxalate feed",
                               pH=trim_pH)
        ox = OXIDES[el]
        add_oxide_train(fs, el, liquor, f"{ox} product", oxalate_dose=oxalate_dose,
                        wash_ratio=wash_ratio, calcine_T_C=calcine_T_C)
        fs.add_product(ox, f"{ox} product", list(TARGETS.get(el, (el,))), ox)

    # --- design specs: override controllers, each acting only when its bound is missed
    if sx1_heavy:
        fs.add_spec(Spec("SX1 heavy cut", _cut("SX1 strip liquor (Dy, Tb)", sx1_heavy),
                         sx1_cut_spec,
                         FeedFlow("SX1 scrub acid", per=O1, name="sx1_scrub_ratio"),
                         SX1_SCRUB_RANGE[0], 3.0, kind=">=", feasible=lambda: _check_stages(
                             cfg, "sx1", sx1_heavy, ["Nd", "Pr"], sum(mol[e] for e in sx1_heavy),
                             n["Nd"] + n["Pr"], sx1_cut_spec)))
        fs.add_spec(Spec("SX1 light cut", _cut("SX1 raffinate (Nd, Pr)", ["Nd", "Pr"] + lights),
                         sx1_cut_spec, RecycleFlow("SX1 organic", per=O1, name="sx1_organic_factor"),
                         0.5, 4.0, kind=">="))
    # a binary split is a balance: one "=" spec keeps the two impurities comparable (logit
    # difference within +/-BALANCE_TOL) by the lever that moves the cut; one ">=" spec keeps the
    # poorer of the two products at purity_spec by the reflux
    if not ndpr:
        _binary_specs(fs, "SX2", "Pr6O11", "Nd2O3",
                      UnitAttribute("SX2 saponifier", "degree", name="sx2_saponification"),
                      (0.05, 0.6), FeedFlow("SX2 scrub acid", per=O2, name="sx2_scrub_ratio"),
                      SX2_SCRUB_RANGE, purity_spec, feasible=lambda: _check_stages(
                          cfg, "sx2", ["Nd"], ["Pr"], n["Nd"], n["Pr"], purity_spec),
                      among=("Pr", "Nd") if lights else None)
    # a reject circuit (SX5 La, Ce; SX6 Sm, Gd): the scrub holds the key element's share of the
    # strip liquor, the organic holds its recovery (the rejects leave as byproduct liquors)
    for tag, key, rejects, strip, raff, rng, ext in (
            ("sx5", "Pr", lights, f"SX5 strip liquor ({light})",
             "SX5 raffinate (La, Ce byproduct)", SX5_SCRUB_RANGE, "D2EHPA"),
            ("sx6", "Dy", middle, "SX6 strip liquor (Dy)", "SX6 raffinate (Sm, Gd byproduct)",
             SX6_SCRUB_RANGE, "PC88A")):
        if not rejects:
            continue
        O, T = flows[tag], tag.upper()
        fs.add_spec(Spec(f"{T} {key} cut", _cut(strip, [key], [key] + rejects), reject_cut_spec,
                         FeedFlow(f"{T} scrub acid", per=O, name=f"{tag}_scrub_ratio"), *rng,
                         kind=">=", feasible=lambda tag=tag, key=key, rejects=rejects, ext=ext:
                         _check_stages(cfg, tag, [key], rejects, mol[key],
                                       sum(mol[e] for e in rejects), reject_cut_spec, ext)))
        fs.add_spec(Spec(f"{T} {key} recovery", _recovery(key, strip, raff), reject_recovery_spec,
                         RecycleFlow(f"{T} organic", per=O, name=f"{tag}_organic_factor"), 0.5,
                         4.0, kind=">="))
    if len(heavies) == 2:
        O4 = flows["sx4"]
        _binary_specs(fs, "SX4", "Tb4O7", "Dy2O3",
                      FeedFlow("SX4 scrub acid", per=O4, name="sx4_scrub_ratio"), SX4_SCRUB_RANGE,
                      RecycleFlow("SX4 organic", per=O4, name="sx4_organic_factor"), (0.5, 3.0),
                      purity_spec, sign=-1.0, feasible=lambda: _check_stages(
                          cfg, "sx4", ["Dy"], ["Tb"], n["Dy"], n["Tb"], purity_spec))
    return fs


if __name__ == "__main__":
    print(run(__file__).report())
