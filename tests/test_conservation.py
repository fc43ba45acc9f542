"""Charge conserved like every element; saponification consumes a reagent; an audit failure is a
failure (status, JSON, exit codes)."""
import json

import pytest

from reeproc import Stream, sx
from reeproc.cli import main
from reeproc.flowsheet import Flowsheet, Mixer
from reeproc.flowsheet.report import (AUDIT_RTOL, EXIT_CODES, FlowsheetAuditError,
                                      exit_code_for)
from reeproc.flowsheet.sx_units import SXCircuit, Saponifier
from reeproc.species import molar_mass
from reeproc.stream import charge_closure
from reeproc.units import Calciner, SolidLiquidSeparator
from reeproc.units._balance import ConservationError, assert_closed, charge_balance

FEED = {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61}


# ------------------------------------------------------------------ charge closure
def test_charge_closure_literal():
    brine = Stream.aqueous(2.0, {"Na": 0.5, "Cl-": 0.5})
    half = brine.scaled(0.5)
    c = charge_closure([brine], [half, half])
    assert c.loc["charge", "relative error"] == 0.0
    assert c.loc["charge", "ionic [eq/h]"] == pytest.approx(1.0, rel=1e-15)
    # losing the chloride of one half: 0.5 eq/h out of 1 eq/h of ions
    lost = Stream.aqueous(1.0, {"Na": 0.5})
    c = charge_closure([brine], [half, lost])
    assert c.loc["charge", "out - in [eq/h]"] == pytest.approx(0.5, rel=1e-15)
    assert c.loc["charge", "relative error"] == pytest.approx(0.5, rel=1e-15)


def test_loaded_organic_is_neutral():
    org = Stream.organic(1.0, {"PC88A": 0.4, "PC88A-": 0.6, "Nd": 0.2})
    assert org.charge_eq_h() == pytest.approx(0.0, abs=1e-15)
    assert Stream.organic(1.0, {"PC88A": 1.0, "Nd": 0.2}).charge_eq_h() == pytest.approx(0.6)


def test_assert_closed_covers_charge():
    a = Stream.aqueous(1.0, {"H+": 0.1, "Cl-": 0.1})
    b = Stream.aqueous(1.0, {"H+": 0.1, "Cl-": 0.1 * (1 + 1e-6)})
    with pytest.raises(ConservationError, match="charge"):
        assert_closed(None, "test unit", charge=charge_balance([a], [b]))


def test_calciner_trace_product_closes_every_balance(capfd):
    # issue 10: a 1e-9 kg/h oxalate with its liquor raised "element balance does not close"
    res = Calciner(T_C=900).run(Stream.solid({"Dy2(C2O4)3.10H2O": 1e-9}),
                                liquor=Stream.aqueous(0.01, {"H+": 0.1, "Cl-": 0.1}))
    assert res.balance["relative closure [-]"].max() <= 1e-12
    assert res.charge_balance["relative closure [-]"].max() <= 1e-12
    assert res.product.mol_h["Dy2O3"] == pytest.approx(
        0.5 * 2 * 1e-6 / molar_mass("Dy2(C2O4)3.10H2O"), rel=1e-12)
    assert "vcs" not in capfd.readouterr().out


@pytest.mark.parametrize("scale", [1e-12, 1e-6, 1.0, 1e4])
def test_calciner_is_scale_invariant(scale):
    cake = Stream.solid({"Nd2(C2O4)3.10H2O": 1.0, "Dy2(C2O4)3.10H2O": 0.01})
    liq = Stream.aqueous(0.5, {"Na": 0.2, "H+": 0.1, "Cl-": 0.3})
    ref = Calciner(900).run(cake, liq)
    res = Calciner(900).run(cake.scaled(scale), liq.scaled(scale))
    assert res.charge_balance["relative closure [-]"].max() <= 1e-10
    for sp, n in ref.product.mol_h.items():
        assert res.product.mol_h[sp] == pytest.approx(n * scale, rel=1e-7)


def test_units_refuse_a_liquor_whose_ions_do_not_balance():
    with pytest.raises(ValueError, match="inlet 'liquor'.*not electroneutral.*anions"):
        Calciner(900).run(Stream.solid({"Nd2(C2O4)3.10H2O": 1.0}),
                          Stream.aqueous(1.0, {"Na": 0.1, "H2O": 55.0}))


def test_unit_tables_report_charge_closure():
    res = SolidLiquidSeparator(0.3, wash_ratio=2.0).run(
        Stream.solid({"Nd2(C2O4)3.10H2O": 1.0}), Stream.aqueous(10.0, {"H+": 0.2, "Cl-": 0.2}))
    tab = res.table().set_index("quantity")
    assert tab.loc["charge closure", "value"] <= 1e-12


# ------------------------------------------------------------------ saponification
def _sapo_flowsheet(s=0.4):
    fs = Flowsheet("saponified Pr/Nd")
    fs.add_feed("feed", Stream.aqueous(1.0, FEED))
    fs.add_feed("organic", Stream.organic(5.0, {"PC88A": 1.0}))
    fs.add_feed("scrub", Stream.aqueous(0.4595, {"H+": 3.4, "Cl-": 3.4}), reagent="HCl")
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=s)
    circ = SXCircuit(sx.Cascade(model, extraction=34, scrub=34))
    fs.add_unit("SX", circ, {"feed": "feed", "organic": "organic", "scrub": "scrub"},
                {"raffinate": "Pr raffinate", "loaded_organic": "loaded organic",
                 "saponification_water": "saponification water"})
    return fs


def test_saponified_circuit_doses_naoh_and_closes_every_balance():
    res = _sapo_flowsheet(0.4).solve()
    assert res.status == "solved"
    unit = res.unit_results["SX"]
    # Na = s * C_HA * O = 0.4 * 1 mol/L * 5 L/h, all of it from the NaOH solution
    (base,) = unit.reagent_streams
    assert base.mol_h["Na"] == pytest.approx(2.0, rel=1e-14)
    assert base.mol_h["OH-"] == pytest.approx(2.0, rel=1e-14)
    assert res.reagents_kg_h()["NaOH"] == pytest.approx(2.0 * molar_mass("NaOH") / 1000, rel=1e-12)
    assert unit.balance["relative closure [-]"].max() <= 1e-10
    assert unit.charge_balance["relative closure [-]"].max() <= 1e-10
    assert res.max_balance_error <= AUDIT_RTOL and res.charge_balance_error <= AUDIT_RTOL
    # the Na goes where the cascade sends it: it is exchanged for the loaded rare earths
    na_out = sum(s.mol_h.get("Na", 0.0) for s in res.streams.values()
                 if s.name in ("Pr raffinate", "loaded organic"))
    assert na_out == pytest.approx(2.0, rel=1e-10)
    # water of neutralisation leaves: HA + NaOH -> NaA + H2O
    w = res.streams["saponification water"].mol_h["H2O"] - base.mol_h["H2O"]
    assert w == pytest.approx(2.0, rel=1e-10)


def test_saponifying_circuit_declares_its_water_outlet():
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4)
    assert "saponification_water" in SXCircuit(sx.Cascade(model, extraction=3)).outlets
    plain = sx.MassAction("PC88A", species=["Pr", "Nd"])
    assert "saponification_water" not in SXCircuit(sx.Cascade(plain, extraction=3)).outlets


def test_saponifier_upstream_gives_the_same_cascade():
    org = Stream.organic(5.0, {"PC88A": 1.0})
    sap = Saponifier(0.4).run(org)
    assert sap.charge_balance["relative closure [-]"].max() == 0.0
    assert sap.reagents_kg_h["NaOH"] == pytest.approx(2.0 * molar_mass("NaOH") / 1000, rel=1e-14)
    model = sx.MassAction("PC88A", species=["Pr", "Nd", "Na"])
    circ = SXCircuit(sx.Cascade(model, extraction=34, scrub=34))
    a = circ.run(Stream.aqueous(1.0, FEED), sap.organic, Stream.aqueous(0.4595, {"H+": 3.4, "Cl-": 3.4}))
    b = _sapo_flowsheet(0.4).solve().streams["Pr raffinate"]
    assert a.raffinate.mol_h["Pr"] == pytest.approx(b.mol_h["Pr"], rel=1e-8)
    # the same organic into a saponifying model would be saponified twice: refused
    twice = SXCircuit(sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4),
                                 extraction=3))
    with pytest.raises(ValueError, match="already carries"):
        twice.run(Stream.aqueous(1.0, FEED), sap.organic)


def test_saponifier_with_ammonia_leaves_nh4_on_the_organic():
    sap = Saponifier(0.3, base="NH3").run(Stream.organic(2.0, {"D2EHPA": 1.0}))
    assert sap.organic.mol_h["NH4+"] == pytest.approx(0.6, rel=1e-14)
    assert sap.organic.mol_h["D2EHPA-"] == pytest.approx(0.6, rel=1e-14)
    assert sap.reagents_kg_h == {"NH3": pytest.approx(0.6 * molar_mass("NH3") / 1000, rel=1e-14)}
    assert sap.balance["relative closure [-]"].max() <= 1e-15


def test_circuit_refuses_an_organic_without_its_anions():
    circ = SXCircuit(sx.Cascade(sx.MassAction("PC88A", species=["Pr", "Nd"]), extraction=5))
    with pytest.raises(ValueError, match="not electroneutral.*PC88A-"):
        circ.run(Stream.aqueous(1.0, FEED), Stream.organic(5.0, {"PC88A": 0.1, "Nd": 1.0}))


# ------------------------------------------------------------------ audit failure is a failure
class _NaFromNothing:
    """A unit that creates sodium (elements do not close)."""

    inlets = ("feed",)
    outlets = ("out",)

    def run(self, feed):
        mol = feed.mol_h
        mol["Na"] = 0.5
        mol["Cl-"] = mol.get("Cl-", 0.0) + 0.5
        return type("R", (), {"out": Stream.from_mol_h("aqueous", mol, feed.flow_L_h)})()


class _ChargeFromNothing:
    """A unit that turns organic H (neutral) into aqueous H+ (elements close, charge does not)."""

    inlets = ("feed",)
    outlets = ("out",)

    def run(self, feed):
        return type("R", (), {"out": Stream.from_mol_h("aqueous", {"H+": feed.mol_h["H+"]}, 1.0)})()


def _bad(unit, feed):
    fs = Flowsheet("bad")
    fs.add_feed("in", feed)
    fs.add_unit("bad unit", unit, {"feed": "in"}, {"out": "out"})
    return fs


@pytest.mark.parametrize("unit, feed, which", [
    (_NaFromNothing(), Stream.aqueous(1.0, {"H+": 0.1, "Cl-": 0.1}), "element balance"),
    (_ChargeFromNothing(), Stream.organic(1.0, {"H+": 0.1}), "charge balance"),
])
def test_audit_failure_is_a_failure(unit, feed, which, tmp_path):
    with pytest.raises(FlowsheetAuditError, match="audit fails"):
        _bad(unit, feed).solve()
    res = _bad(unit, feed).solve(raise_on_failure=False)
    assert res.status == "audit failed" and res.exit_code == 3
    k = res.kpis()
    assert k["status"] == "audit failed"
    key = "mass_balance" if which == "element balance" else "charge_balance"
    assert k[key]["closed"] is False
    rep = res.report()
    assert "FAILED" in rep and "CONVERGED" not in rep and "NOT CLOSED" in rep
    json.loads(json.dumps(k, default=float))


_SCRIPT = '''
from reeproc import Stream
from reeproc.flowsheet import Flowsheet, Mixer, Param, Splitter
import sys
sys.path.insert(0, {here!r})
from test_conservation import _NaFromNothing

PARAMETERS = {{"bad": Param(0, "1: a unit creates Na [-]", 0, 1, integer=True),
              "maxiter": Param(100, "recycle iterations [-]", 1, 100, integer=True)}}
SOLVE_OPTIONS = {{"method": "wegstein", "tol": 1e-12}}


def build(bad, maxiter):
    SOLVE_OPTIONS["maxiter"] = maxiter
    fs = Flowsheet("cli exit codes")
    fs.add_feed("fresh", Stream.aqueous(10.0, {{"Nd": 0.1, "Cl-": 0.3}}))
    fs.add_unit("mix", Mixer(2), {{"in1": "fresh", "in2": "recycle"}}, {{"out": "mixed"}})
    fs.add_unit("split", Splitter({{"recycle": 0.9}}), {{"feed": "mixed"}},
                {{"recycle": "recycle", "rest": "product"}})
    fs.set_tear_guess("recycle", Stream.aqueous(1.0, {{"Nd": 0.0}}))
    if bad:
        fs.add_unit("bad", _NaFromNothing(), {{"feed": "product"}}, {{"out": "out"}})
    return fs
'''


@pytest.fixture
def exit_script(tmp_path):
    import os
    p = tmp_path / "exit_codes.py"
    p.write_text(_SCRIPT.format(here=os.path.dirname(__file__)))
    return str(p)


def test_run_exit_codes(exit_script, tmp_path, capsys):
    out = tmp_path / "k.json"
    assert main(["run", exit_script, "--json", str(out)]) == EXIT_CODES["solved"] == 0
    assert json.loads(out.read_text())["status"] == "solved"
    assert "status: SOLVED" in capsys.readouterr().out
    assert main(["run", exit_script, "--set", "bad=1", "--json", str(out)]) == 3
    k = json.loads(out.read_text())
    assert (k["status"], k["converged"], k["mass_balance"]["closed"]) == ("audit failed", True, False)
    assert "CONVERGED" not in capsys.readouterr().out
    assert main(["run", exit_script, "--set", "maxiter=2", "--json", str(out)]) == 3
    assert json.loads(out.read_text())["status"] == "not converged"
    assert main(["run", exit_script, "--set", "bad=7"]) == 2
    assert "bad" in capsys.readouterr().err


def test_exit_code_of_errors():
    from reeproc.flowsheet import RecycleConvergenceError, UnitFailure

    assert exit_code_for(ValueError("x")) == 2
    assert exit_code_for(RecycleConvergenceError("x", [1.0])) == 3
    try:
        try:
            raise sx.ConvergenceError("cascade")
        except sx.ConvergenceError as exc:
            raise UnitFailure("unit 'SX' failed") from exc
    except UnitFailure as wrapped:
        assert exit_code_for(wrapped) == 3


def test_mixer_reports_charge():
    a = Stream.aqueous(1.0, {"H+": 0.1, "Cl-": 0.1})
    r = Mixer(2).run(in1=a, in2=a)
    assert r.charge_balance["relative error"].iloc[0] == 0.0


def test_circuit_refuses_an_alkaline_steady_state():
    # issue 10: saponification 0.99 at O/A 20 converged at pH 13 with OH- carried nowhere
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.99)
    circ = SXCircuit(sx.Cascade(model, extraction=5))
    with pytest.raises((ValueError, RuntimeError)) as ei:
        circ.run(Stream.aqueous(1.0, FEED), Stream.organic(20.0, {"PC88A": 1.0}))
    assert not isinstance(ei.value, ConservationError)
    assert "alkaline" in str(ei.value) or "base" in str(ei.value)


def test_element_closure_floors_vanishing_traces():
    from reeproc.stream import element_closure

    bulk = {"H+": 1.0, "Cl-": 1.0, "H2O": 55.0}
    a = Stream.from_mol_h("aqueous", {**bulk, "Dy": 3.6e-72}, 1.0)
    b = Stream.from_mol_h("aqueous", {**bulk, "Dy": 4.1e-57}, 1.0)  # solver noise, 1e-57 mol/h
    assert element_closure([a], [b]).loc["Dy", "relative error"] < 1e-30
    # a real trace loss (1e-12 mol/h of Dy gone) still fails outright
    c = Stream.from_mol_h("aqueous", {**bulk, "Dy": 1e-12}, 1.0)
    assert element_closure([c], [Stream.from_mol_h("aqueous", bulk, 1.0)]).loc[
        "Dy", "relative error"] == 1.0


def test_accelerated_iterate_outside_the_domain_falls_back_to_substitution():
    import numpy as np

    from reeproc.flowsheet import solve_fixed_point

    outputs = [0.0]

    def g(x):  # defined only on its own outputs (the physical states)
        if not any(abs(x[0] - o) <= 1e-15 for o in outputs):
            raise ValueError("iterate outside the unit's domain")
        y = 0.5 * x[0] + 1.0
        outputs.append(y)
        return np.array([y])

    for method in ("anderson", "wegstein"):
        outputs[:] = [0.0]
        res = solve_fixed_point(g, np.array([0.0]), method=method, tol=1e-12, maxiter=100)
        assert res.converged and res.x[0] == pytest.approx(2.0, rel=1e-11)


def test_solve_options_reach_the_accelerator():
    from reeproc.flowsheet import FlowsheetError, Splitter

    def loop():
        fs = Flowsheet("loop")
        fs.add_feed("fresh", Stream.aqueous(10.0, {"Nd": 0.1, "Cl-": 0.3}))
        fs.add_unit("mix", Mixer(2), {"in1": "fresh", "in2": "recycle"}, {"out": "mixed"})
        fs.add_unit("split", Splitter({"recycle": 0.95}), {"feed": "mixed"},
                    {"recycle": "recycle", "rest": "product"})
        fs.set_tear_guess("recycle", Stream.aqueous(1.0, {"Nd": 0.0}))
        return fs

    res = loop().solve(method="anderson", anderson_memory=3, anderson_restart=2.0)
    assert res.status == "solved"
    assert res.streams["product"].mol_h["Nd"] == pytest.approx(1.0, rel=1e-9)
    with pytest.raises(FlowsheetError, match="anderson_mem"):
        loop().solve(method="anderson", anderson_mem=3)


def test_cascade_mass_tolerance_is_the_unit_audits():
    """A cascade result refused above MASS_TOL is the one a unit's conservation audit (the SX
    circuit's) would fail (reeproc.units._balance.BALANCE_RTOL): the two stay one number."""
    from reeproc.sx.results import MASS_TOL
    from reeproc.units import BALANCE_RTOL

    assert MASS_TOL == BALANCE_RTOL
