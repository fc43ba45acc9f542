"""Economics and CO2 (reeproc.economics): literal checks of the correlations against their sources,
the assay basis of acid prices, scale laws, and closed cost/energy/CO2 books of a small flowsheet."""
from __future__ import annotations

import doctest
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reeproc import economics
from reeproc.data import load_table
from reeproc.economics import (Assumptions, available_heat_fraction, capital_recovery_factor,
                               escalate, evaluate, fuel_kg_h, installation_factor,
                               labour_hours_per_year, price_per_kg_active, purchased_cost, scale_law)
from reeproc.economics.sizing import ESTIMATED_LABEL

DATA = Path(__file__).parent / "data"
SMALL = str(DATA / "econ_flowsheet.py")


@pytest.fixture(scope="module")
def small():
    from reeproc.flowsheet.script import run

    res = run(SMALL)
    assert res.converged
    return res


# --------------------------------------------------------------------------- literal checks
def test_hcl_price_is_per_kg_100pct_from_the_35_37pct_quote():
    # ChemAnalyst Q2 2024: 168 USD per tonne of 35-37 % acid; mid assay 36 %
    assert price_per_kg_active(168.0, 36.0) == pytest.approx(168.0 / 1000.0 / 0.36, rel=1e-15, abs=0)
    hcl = load_table("reagents").set_index("reagent").loc["HCl"]
    assert hcl["assay__wt_pct"] == 36.0
    assert hcl["price__USD_kg"] == pytest.approx(price_per_kg_active(168.0, hcl["assay__wt_pct"]), abs=5e-4)
    # the old figure (0.25 USD/kg) was per kg of acid as sold at best: per kg 100 % HCl it is larger
    assert price_per_kg_active(250.0, 36.0) > 0.25 / 0.37
    for bad in (0.0, -1.0, 100.5):
        with pytest.raises(ValueError, match="assay_wt_pct"):
            price_per_kg_active(168.0, bad)


def test_uky_mixer_settler_scale_law_reproduces_the_rougher_account():
    # UKy accounts 6.4 (cleaner) and 5.4 (rougher), PrOMMiS REE_costing_parameters.json:
    # 303,516.83 USD at 2,444 gal; 1,285,343 USD at 61,107 gal; both exponent 0.45, USD 2016
    gal = 3.785411784e-3
    predicted = purchased_cost("mixer_settler", 61107 * gal, 2016)
    assert predicted == pytest.approx(1285343.0, rel=0.01)
    # the table stores the converted reference size to 0.1 L: 1e-5 relative
    assert purchased_cost("mixer_settler", 2444 * gal, 2016) == pytest.approx(303516.83, rel=1e-5)
    assert scale_law(100.0, 2.0, 4.0, 0.6) == pytest.approx(100.0 * 2 ** 0.6, rel=1e-15)
    with pytest.raises(ValueError, match="size"):
        scale_law(100.0, 2.0, 0.0, 0.6)


def test_cepci_escalation_and_capital_recovery_factor():
    # CEPCI 2016 = 541.7, 2023 = 797.9 (Chemical Engineering; TEA Handbook)
    assert escalate(541.7, 2016, 2023) == pytest.approx(797.9, rel=1e-12)
    # textbook CRF: 10 %, 20 y -> 0.117460; 0 % -> 1/N
    assert capital_recovery_factor(10.0, 20) == pytest.approx(0.1174596, rel=1e-6)
    assert capital_recovery_factor(0.0, 20) == pytest.approx(0.05, rel=1e-15)
    with pytest.raises(ValueError, match="plant life"):
        capital_recovery_factor(7.5, 0)
    with pytest.raises(Exception, match="CEPCI for 1900"):
        escalate(1.0, 1900, 2024)


def test_installation_factors_match_their_sources():
    assert installation_factor("qgess") == pytest.approx(2.97, rel=1e-12)  # PrOMMiS: 'effective 2.97'
    assert [installation_factor(k) for k in ("lang-solids", "lang-solid-fluid", "lang-fluid")] == [3.10, 3.63, 4.74]
    with pytest.raises(ValueError, match="installation"):
        installation_factor("hand")


def test_available_heat_closes_the_energy_balance_of_the_flue_gas():
    import cantera as ct

    from reeproc.economics.furnace import LHV_MJ_kg

    assert available_heat_fraction(25.0, 10.0) == pytest.approx(1.0, abs=1e-12)
    # independent path: enthalpy of the flue-gas mixture from Cantera's mixture properties
    gas = ct.Solution("gri30.yaml")
    x = 0.10
    from reeproc.units._common import air_O2_fraction

    xo2 = air_O2_fraction()
    flue = {"CO2": 1.0, "H2O": 2.0, "O2": 2 * x, "N2": 2 * (1 + x) * (1 - xo2) / xo2}
    n = sum(flue.values())
    gas.TPX = 298.15, ct.one_atm, flue
    h0 = gas.enthalpy_mole
    gas.TPX = 1173.15, ct.one_atm, flue
    dh = (gas.enthalpy_mole - h0) / 1000.0 * n  # J per mol CH4
    eta = 1 - dh / (LHV_MJ_kg() * 16.043 * 1000.0)
    assert available_heat_fraction(900.0, 10.0) == pytest.approx(eta, rel=1e-9)
    # heat delivered = fuel x LHV x available heat
    assert fuel_kg_h(10.0, 900.0, 10.0) * LHV_MJ_kg() / 3.6 * eta == pytest.approx(10.0, rel=1e-12)
    # hotter processes and more excess air waste more heat
    assert available_heat_fraction(1000.0, 10.0) < available_heat_fraction(500.0, 10.0)
    assert available_heat_fraction(900.0, 30.0) < available_heat_fraction(900.0, 0.0)


def test_wessel_labour_scales_with_the_0_24_power_of_capacity():
    h1 = labour_hours_per_year(10, 1.0, 336.0)
    h8 = labour_hours_per_year(10, 8.0, 336.0)
    assert h1 == pytest.approx(10 * 10 * 336.0, rel=1e-12)  # t = 10 h, 10 steps, 1 t/d
    assert h8 / h1 == pytest.approx(8.0 ** 0.24, rel=1e-12)


def test_docstring_examples():
    mods = [economics, economics.capex, economics.opex, economics.furnace]
    for m in mods:
        r = doctest.testmod(m)
        assert r.failed == 0, m.__name__


# --------------------------------------------------------------------------- a small flowsheet
def test_cost_per_kg_falls_with_plant_size(small):
    sizes = [30.0, 100.0, 365.0, 1200.0, 5000.0]
    es = [evaluate(small, Assumptions(plant_feed_t_y=s)) for s in sizes]
    cop = [e.cost_of_production_USD_per_kg for e in es]
    capex = [e.capex.total_USD for e in es]
    assert all(b < a for a, b in zip(cop, cop[1:])), cop
    assert all(b > a for a, b in zip(capex, capex[1:])), capex
    # capital per unit of capacity falls (economy of scale), variable cost per kg does not move
    assert all(b / s2 < a / s1 for a, b, s1, s2 in zip(capex, capex[1:], sizes, sizes[1:]))
    var = [e.variable_cost_USD_per_kg for e in es]
    assert max(var) == pytest.approx(min(var), rel=1e-9)
    assert es[3].feed_t_y == pytest.approx(1200.0, rel=1e-12)


def test_cost_of_production_is_the_sum_of_its_parts_and_never_the_variable_cost(small):
    e = evaluate(small)
    parts = e.variable_cost_USD_per_kg + e.fixed_cost_USD_per_kg + e.capital_charge_USD_per_kg
    assert e.cost_of_production_USD_per_kg == pytest.approx(parts, rel=1e-12)
    assert e.cost_of_production_USD_per_kg > e.variable_cost_USD_per_kg
    assert e.costs["USD/yr"].sum() == pytest.approx(e.cost_of_production_USD_per_kg * e.product_t_y * 1000, rel=1e-12)
    from reeproc.economics.summary import report_lines

    text = "\n".join(report_lines(e))
    assert "variable cost:" in text and "cost of production:" in text
    # capital charge = CRF x capital at the FS discount rate and life
    crf = capital_recovery_factor(7.5, 20)
    assert e.capital_charge_USD_per_kg * e.product_t_y * 1000 == pytest.approx(crf * e.capex.total_USD, rel=1e-12)


def test_feed_price_adds_exactly_the_feed_cost(small):
    e0 = evaluate(small)
    e1 = evaluate(small, Assumptions(feed_price_USD_kg=10.0))
    feed_kg_per_kg = e0.feed_t_y / e0.product_t_y
    assert e1.variable_cost_USD_per_kg - e0.variable_cost_USD_per_kg == pytest.approx(10.0 * feed_kg_per_kg, rel=1e-9)
    assert any("scrap feed purchase" in m for m in e0.missing_cost)
    assert not any("scrap feed purchase" in m for m in e1.missing_cost)


def test_co2_book_is_closed_and_lists_every_reagent(small):
    e = evaluate(small)
    book = e.co2
    counted = [v for v in book["kg CO2-eq/h"] if v is not None and not math.isnan(v)]
    prod_kg_h = e.product_t_y * 1000 / e.hours
    assert e.co2_kg_per_kg == pytest.approx(sum(counted) / prod_kg_h, rel=1e-12)
    j = e.co2_json()
    for reagent in small.reagents_kg_h():
        assert reagent in j["contributions"], reagent
    assert j["contributions"]["water"] >= 0 and j["contributions"]["air"] == 0.0
    assert j["factors"]["air"]["source"] and j["factors"]["water"]["source"]
    # oxalic acid has no sourced factor: listed as None, named, not added
    assert j["contributions"]["oxalic acid dihydrate"] is None
    assert any(m.startswith("oxalic acid dihydrate") for m in j["missing"])
    assert "Cradle-to-gate" in j["boundary"] and "Excluded" in j["boundary"]
    # carbon balance: carbon dosed as oxalic acid leaves as off-gas CO2, effluent carbon or solids
    from reeproc.economics.boundary import carbon_mol_h, outlets

    c_in = sum(s.element_mol_h().get("C", 0.0) for s in small.boundary_streams()[0])
    c_solid = carbon_mol_h(small, "solid") + sum(small.streams[p.stream].element_mol_h().get("C", 0.0)
                                                 for p in small.flowsheet.products.values())
    c_book = (book.set_index("item").loc["process CO2 (carbon in off-gases)", "amount"]
              + book.set_index("item").loc["effluent carbon (excess oxalate) as CO2", "amount"])
    assert c_book + c_solid == pytest.approx(c_in, rel=1e-9)
    assert outlets(small, "gas")


def test_energy_is_counted_once(small):
    e = evaluate(small)
    el = e.sizing.electricity.set_index("unit")
    # a unit that reports electricity is booked with its own figure, the others are estimated
    for unit, row in el.iterrows():
        reported = (getattr(small.unit_results[unit], "energy_kW", None) or {}).get("electricity")
        if row["basis"] == "reported by unit":
            assert row["kW"] == pytest.approx(reported, rel=1e-12), unit
        else:
            assert row["basis"] == ESTIMATED_LABEL and not reported, unit
    kw0 = el["kW"].sum()
    # a unit that reports its own electricity replaces the sizing estimate, never adds to it
    leach = small.unit_results["leach"]
    saved = dict(leach.energy_kW)
    try:
        leach.energy_kW["electricity"] = 5.0
        e2 = evaluate(small)
    finally:
        leach.energy_kW.clear()
        leach.energy_kW.update(saved)
    el2 = e2.sizing.electricity.set_index("unit")
    assert el2.loc["leach", "kW"] == 5.0 and el2.loc["leach", "basis"] == "reported by unit"
    assert el2["kW"].sum() == pytest.approx(kw0 - el.loc["leach", "kW"] + 5.0, rel=1e-12)
    book = e2.co2.set_index("item")
    assert book.loc["electricity", "amount"] == pytest.approx(el2["kW"].sum(), rel=1e-12)
    # heat: gas burned = each positive duty / available heat at its unit's temperature
    heat = e2.sizing.heat.set_index("unit")
    assert "REO calciner" in heat.index and heat.loc["REO calciner", "T [°C]"] == 900.0
    gas = sum(fuel_kg_h(q, T) for q, T in zip(heat["heat [kW]"], heat["T [°C]"]) if q > 0)
    assert book.loc["natural gas (process heat)", "amount"] == pytest.approx(gas, rel=1e-12)


def test_grid_choice_changes_only_electricity_co2(small):
    uk = evaluate(small, Assumptions(grid="UK"))
    cn = evaluate(small, Assumptions(grid="CN"))
    kwh_per_kg = uk.co2.set_index("item").loc["electricity", "amount"] / (uk.product_t_y * 1000 / uk.hours)
    g = load_table("grid_co2").set_index("grid")["co2__kg_kWh"]
    assert cn.co2_kg_per_kg - uk.co2_kg_per_kg == pytest.approx(kwh_per_kg * (g["CN"] - g["UK"]), rel=1e-9)
    assert cn.cost_of_production_USD_per_kg == pytest.approx(uk.cost_of_production_USD_per_kg, rel=1e-12)


def test_bad_assumptions_are_refused_with_the_parameter_named(small):
    with pytest.raises(ValueError, match="plant_feed_t_y = 5.0"):
        evaluate(small, Assumptions(plant_feed_t_y=5.0))
    with pytest.raises(ValueError, match="grid = 'XX'.*allowed"):
        evaluate(small, Assumptions(grid="XX"))
    with pytest.raises(ValueError, match="feed_price_USD_kg"):
        evaluate(small, Assumptions(feed_price_USD_kg=-1.0))
    with pytest.raises(ValueError, match="installation"):
        evaluate(small, Assumptions(installation="guess"))


def test_kpis_json_contract(small, tmp_path):
    small.economics(Assumptions())
    k = json.loads(json.dumps(small.kpis(), default=float))
    ec, co2 = k["economics"], k["co2"]
    for key in ("capex_USD", "cost_of_production_USD_per_kg", "variable_cost_USD_per_kg"):
        assert isinstance(ec[key], float) and ec[key] > 0
    assert isinstance(co2["kg_per_kg_oxide"], float) and isinstance(co2["boundary"], str)
    assert set(small.reagents_kg_h()) <= set(co2["contributions"])
    assert k["cost_per_kg_oxide"] == ec["variable_cost_USD_per_kg"]
    assert "VARIABLE" in k["cost_basis"]
    for name, p in ec["prices"].items():
        assert p["basis"], name
    assert any("mixed REO" in m for m in k["missing_data"])


def test_cli_run_with_plant_size_and_grid(tmp_path, capsys):
    from reeproc.cli import main

    out = tmp_path / "k.json"
    rc = main(["run", SMALL, "--json", str(out), "--plant-size", "1200", "--grid", "FR"])
    assert rc == 0
    k = json.loads(out.read_text())
    assert k["economics"]["plant_feed_t_per_y"] == pytest.approx(1200.0, rel=1e-9)
    assert k["co2"]["grid"] == "FR"
    assert "cost of production:" in capsys.readouterr().out
    rc = main(["run", SMALL, "--plant-size", "1"])
    assert rc == 2
    assert "plant_feed_t_y = 1.0" in capsys.readouterr().err


def test_scale_table_and_plots(small, tmp_path):
    from reeproc.economics import plots

    e = evaluate(small)
    paths = plots.save_all(e, small, tmp_path, sizes_t_y=(100.0, 1000.0))
    assert [p.name for p in paths] == ["cost_waterfall.png", "co2_breakdown.png", "cost_vs_plant_size.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    t = plots.scale_table(small, [100.0, 1000.0], replace(e.assumptions, grid="DE"))
    assert t["cost of production [USD/kg oxide]"].is_monotonic_decreasing
    assert t["CO2 [kg/kg oxide]"].notna().all()


def test_sweeps_carry_cost_of_production_and_the_optimiser_can_minimise_it(small):
    from reeproc.optimise import _objective_value
    from reeproc.sweep import run_case

    row = run_case(SMALL, {"feed_kg_h": 10.0})
    e = evaluate(small)
    assert row["cost of production [USD/kg oxide]"] == pytest.approx(e.cost_of_production_USD_per_kg, rel=1e-9)
    assert row["variable cost [USD/kg oxide]"] == pytest.approx(e.variable_cost_USD_per_kg, rel=1e-9)
    assert row["cost [USD/kg oxide]"] == row["variable cost [USD/kg oxide]"]
    assert _objective_value(row, "cost_of_production", []) == row["cost of production [USD/kg oxide]"]


def test_revenue_only_for_priced_products_that_meet_the_purity_of_their_price():
    from reeproc.flowsheet.script import run

    res = run(SMALL)
    # the same oxide sold as Nd2O3 (priced at 99.5 % min) is only ~80 % Nd2O3: no revenue
    res.flowsheet.add_product("as Nd2O3", "REO product", ["Nd"], "Nd2O3")
    e = evaluate(res)
    assert math.isnan(e.revenue_USD_per_kg)
    assert any("'as Nd2O3'" in m and "below the 99.5 %" in m for m in e.missing_cost)
    assert any("'mixed REO'" in m and "price missing" in m for m in e.missing_cost)



@settings(max_examples=25, deadline=None)
@given(st.floats(10.0, 9000.0), st.floats(1.01, 20.0))
def test_bigger_plant_never_costs_more_per_kg(small, s, f):
    s2 = min(s * f, 10000.0)
    a, b = evaluate(small, Assumptions(plant_feed_t_y=s)), evaluate(small, Assumptions(plant_feed_t_y=s2))
    if s2 > s:
        assert b.cost_of_production_USD_per_kg < a.cost_of_production_USD_per_kg
        assert b.capex.total_USD > a.capex.total_USD
    assert b.co2_kg_per_kg == pytest.approx(a.co2_kg_per_kg, rel=1e-9)


def test_recoverable_heat_is_named_not_credited(small):
    roaster = small.unit_results["roaster"]
    saved = dict(roaster.energy_kW)
    try:
        roaster.energy_kW["heat"] = -50.0
        e = evaluate(small)
    finally:
        roaster.energy_kW.clear()
        roaster.energy_kW.update(saved)
    base = evaluate(small)
    assert any("roaster: 50 kW of recoverable heat" in m for m in e.missing_cost)
    gas = e.co2.set_index("item").loc["natural gas (process heat)", "amount"]
    assert gas == pytest.approx(base.co2.set_index("item").loc["natural gas (process heat)", "amount"], rel=1e-12)
    # the roaster is now sized on its reported duty
    r = e.capex.equipment.set_index("unit").loc["roaster"]
    assert r["size each"] == 50.0 and "reported heat duty" in r["basis"]
