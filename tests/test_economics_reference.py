"""The economics and CO2 figures that docs/economics.md and docs/validation_economics.md print are
the figures the code computes for the reference flowsheet (one reference solve, then arithmetic)."""
from __future__ import annotations

from pathlib import Path

import pytest

from reeproc.data import perturbed
from reeproc.economics import Assumptions, evaluate
from reeproc.economics.plots import scale_table

ROOT = Path(__file__).parents[1]
DOCS = (ROOT / "docs" / "economics.md").read_text() + (ROOT / "docs" / "validation_economics.md").read_text()


@pytest.fixture(scope="module")
def ref():
    from reeproc.flowsheet.script import run

    res = run(str(ROOT / "flowsheets" / "ndfeb_long_loop.py"))
    assert res.converged
    return res


def _in_docs(value: float, fmt: str) -> None:
    text = format(value, fmt)
    assert text in DOCS, f"{text} (computed) not found in the economics docs"


def test_belfast_scale_figures(ref):
    e = evaluate(ref, Assumptions(plant_feed_t_y=1200))
    for v, f in ((e.product_t_y, ".1f"), (e.capex.total_USD / 1e6, ".2f"), (e.capex.purchased_USD / 1e6, ".2f"),
                 (e.capex.organic_fill_USD / 1e6, ".2f"), (e.variable_cost_USD_per_kg, ".2f"),
                 (e.fixed_cost_USD_per_kg, ".2f"), (e.capital_charge_USD_per_kg, ".2f"),
                 (e.cost_of_production_USD_per_kg, ".2f"), (e.revenue_USD_per_kg, ".1f"),
                 (e.co2_kg_per_kg, ".2f")):
        _in_docs(v, f)
    labour = [b for b in e.costs["basis"] if b.startswith("Wessel")][0]
    assert "99147 h/yr" in labour and "99,147 h/y" in DOCS
    lang = evaluate(ref, Assumptions(plant_feed_t_y=1200, installation="lang-solid-fluid"))
    _in_docs(lang.capex.total_USD / 1e6, ".2f")
    earnings = e.revenue_USD_per_kg - e.variable_cost_USD_per_kg - e.fixed_cost_USD_per_kg
    _in_docs(earnings, ".0f")
    for g, txt in (("US", "25.55"), ("CN", "25.60"), ("FR", "25.38")):
        assert format(evaluate(ref, Assumptions(plant_feed_t_y=1200, grid=g)).co2_kg_per_kg, ".2f") == txt
    with perturbed({"data:mul:reagents[reagent=NaOH]:co2__kg_kg": 0.3602 / 2.11}):
        _in_docs(evaluate(ref, Assumptions(plant_feed_t_y=1200)).co2_kg_per_kg, ".2f")
    for q in (146.0, 337.67):
        with perturbed({"data:mul:reagents[reagent=HCl]:price__USD_kg": q / 168.0}):
            _in_docs(evaluate(ref, Assumptions(plant_feed_t_y=1200)).variable_cost_USD_per_kg, ".2f")


def test_reference_scale_figures(ref):
    e = evaluate(ref)
    for v, f in ((e.variable_cost_USD_per_kg, ".2f"), (e.cost_of_production_USD_per_kg, ".2f"),
                 (e.fixed_cost_USD_per_kg, ".2f"), (e.capital_charge_USD_per_kg, ".2f")):
        _in_docs(v, f)
    items = e.costs.set_index("item")["USD/kg oxide"]
    for k in ("reagent: HCl", "reagent: oxalic acid dihydrate", "effluent neutralisation (NaOH)"):
        _in_docs(items[k], ".2f")
    co2 = e.co2.set_index("item")["kg CO2-eq/kg oxide"]
    for k in ("HCl", "effluent neutralisation (NaOH)", "NaOH", "natural gas (process heat)"):
        _in_docs(co2[k], ".2f")


def test_plant_size_table(ref):
    t = scale_table(ref, [30, 100, 365, 1200, 3000, 10000])
    for _, r in t.iterrows():
        row = (f"| {r['plant feed [t/y]']:,.0f} | {r['product oxide [t/y]']:,.1f} | {r['capex [USD]'] / 1e6:.2f} | "
               f"{r['variable cost [USD/kg oxide]']:.2f} | {r['cost of production [USD/kg oxide]']:.1f} |")
        assert row in DOCS, row
