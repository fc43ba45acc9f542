"""Optimiser (feasible, no worse than a grid over the same variables; integer parameters stay
integers) and Monte Carlo over property-data confidence ranges."""
from pathlib import Path

import numpy as np
import pytest

from reeproc import sx
from reeproc.data import load_table, parse_perturbation_key, perturbed
from reeproc.optimise import monte_carlo, optimise, property_uncertainty
from reeproc.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "flowsheets" / "ndfeb_long_loop.py"
TOY = Path(__file__).parent / "data" / "toy_flowsheet.py"
COST = "cost [USD/kg oxide]"


def test_optimiser_beats_grid_on_reference():
    """Cheap variant (each reference run 1-2 s): oxalate dose (reagent cost, recovery) and
    calcination temperature (gas) on a 3 x 2 grid against a small differential evolution."""
    variables = {"oxalate_dose": (1.0, 2.0), "calcine_T_C": (900.0, 1100.0)}
    rec = {"Nd": 0.85}
    grid = sweep(REF, {"oxalate_dose": list(np.linspace(1.0, 2.0, 3)),
                       "calcine_T_C": [900.0, 1100.0]},
                 executor="serial", progress=False)
    ok = grid["all products meet 99.5 %"].astype(bool) & (grid["recovery Nd [-]"] >= rec["Nd"])
    assert ok.any(), "the grid holds no feasible design; the test needs one"
    best_grid = grid.loc[ok, COST].min()
    res = optimise(REF, variables, objective="cost", recovery_min=rec, maxiter=2, popsize=3,
                   seed=1)
    assert res.feasible, res.message
    assert all(v >= 0.995 for k, v in res.kpis.items() if k.startswith("purity "))
    assert res.kpis["recovery Nd [-]"] >= rec["Nd"]
    assert res.objective <= best_grid * (1 + 1e-9), (res.objective, best_grid, res.x)
    print(f"\noptimiser: {res.objective:.4f} USD/kg at {res.x} ({res.evaluations} solves); "
          f"best of 6 grid points {best_grid:.4f} USD/kg")


def test_optimiser_integer_parameters_stay_integer():
    res = optimise(TOY, {"recycle_fraction": (0.0, 0.9), "fail": (0, 1)},
                   objective="mass Nd product [kg/h]", purity_min=0.0, maxiter=3, popsize=4,
                   seed=0)
    assert res.feasible and res.x["fail"] == 0
    assert set(res.history["fail"].unique()) <= {0, 1}
    assert all(float(v).is_integer() for v in res.history["fail"])


def test_property_uncertainty_table_and_perturbation():
    ranges = property_uncertainty()
    assert ranges and all(d[0] == "uniform" and d[1] <= d[2] for d in ranges.values())
    key = "data:add:sx_kex[extractant=PC88A;medium=chloride;species=Dy]:log10_Kex__1"
    assert key in ranges
    from reeproc.sx.models import load_extractant

    base = load_extractant("PC88A").kex["Dy"][0]
    with perturbed({key: 0.2}):
        assert load_extractant("PC88A").kex["Dy"][0] == pytest.approx(base + 0.2)
    assert load_extractant("PC88A").kex["Dy"][0] == base
    kin = "data:mul:leach_kinetics[acid=H2SO4;phase_class=RE_oxide]:Ea__kJ_mol"
    from reeproc.units import leaching

    before = leaching._kinetics()[("H2SO4", "RE_oxide")]["Ea__kJ_mol"]
    with perturbed({kin: 0.9}):
        assert leaching._kinetics()[("H2SO4", "RE_oxide")]["Ea__kJ_mol"] == pytest.approx(0.9 * before)
    assert leaching._kinetics()[("H2SO4", "RE_oxide")]["Ea__kJ_mol"] == before
    with pytest.raises(ValueError, match="must look like"):
        parse_perturbation_key("sx_kex:Dy")
    with pytest.raises(ValueError, match="no row"):
        with perturbed({"data:add:sx_kex[species=Xx]:log10_Kex__1": 1.0}):
            pass
    assert load_table("sx_kex").equals(load_table("sx_kex"))


def test_a_ladder_rung_moves_the_rungs_built_on_it():
    """sx_kex.csv ladder_parent: +0.1 on the PC88A Sm rung moves Sm and the Gd, Tb and Dy rungs
    built on it by 0.1 and leaves Nd, Pr and the D2EHPA ladder alone; beta Dy/Tb is unchanged."""
    key = "data:add:sx_kex[extractant=PC88A;medium=chloride;species=Sm]:log10_Kex__1"
    base = load_table("sx_kex").set_index(["extractant", "species"])["log10_Kex__1"]
    with perturbed({key: 0.1}):
        moved = load_table("sx_kex").set_index(["extractant", "species"])["log10_Kex__1"] - base
        beta = sx.load_extractant("PC88A").separation_factor("Dy", "Tb")
    assert sorted(moved[moved != 0].index) == [("PC88A", e) for e in ("Dy", "Gd", "Sm", "Tb")]
    np.testing.assert_allclose(moved[moved != 0].to_numpy(), 0.1, rtol=1e-12)
    assert beta == pytest.approx(sx.load_extractant("PC88A").separation_factor("Dy", "Tb"),
                                 rel=1e-12, abs=0)


def test_monte_carlo_over_property_data():
    """The reference plant with its specs over the property-data ranges: the Kex ladder is
    sampled rung by rung (a rung's shift carries to the rungs built on it), so every sampled
    beta Dy/Tb stays in its quoted 2.0-2.5 and every sample solves and holds 99.5 %."""
    a = monte_carlo(REF, {}, n=6, seed=3, executor="serial")
    pur = [c for c in a.samples.columns if c.startswith("purity ")]
    data_cols = [c for c in a.samples.columns if c.startswith("data:")]
    assert data_cols and a.samples[data_cols].std().min() > 0
    assert a.samples["converged"].all() and a.samples["error"].fillna("").eq("").all()
    assert a.probability_meeting_target == 1.0
    assert a.samples[pur].std().max() > 0  # the sampled data really move the purities
    for _, row in a.samples.iterrows():
        with perturbed({k: row[k] for k in data_cols}):
            pc = sx.load_extractant("PC88A")
            assert 2.0 * (1 - 1e-9) <= pc.separation_factor("Dy", "Tb") <= 2.5 * (1 + 1e-9)
    print(f"\nMonte Carlo (6 samples): P(meet 99.5 %) = {a.probability_meeting_target:.2f}; "
          f"purity ranges {a.samples[pur].min().to_dict()} .. {a.samples[pur].max().to_dict()}")
