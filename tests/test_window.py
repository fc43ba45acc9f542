"""Operating windows (reeproc.window) and Monte Carlo with design specs active.

The bisection is checked on a synthetic pass/fail boundary (exact answer known); the reference
flowsheet checks that the specs widen the window of a parameter the frozen design is balanced on
(the SX1 strip acid, which the Dy strip-liquor reflux carries into the scrub).
"""
import math
from pathlib import Path

import pandas as pd
import pytest

from reeproc.cli import main
from reeproc.optimise import monte_carlo
from reeproc.window import _edge, operating_window, plot_window

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "flowsheets" / "ndfeb_long_loop.py"


@pytest.mark.parametrize("logscale", [False, True])
def test_edge_bisection_finds_a_known_boundary_within_tolerance(logscale):
    calls = []

    def evaluate(mode, name, x):
        calls.append(x)
        return (x <= 3.7, "too high" if x > 3.7 else "")

    tol = 1e-3
    edge, why = _edge(evaluate, "active", "p", 1.0, 10.0, False, logscale, tol)
    assert edge <= 3.7
    assert (math.log(3.7 / edge) if logscale else 3.7 - edge) <= tol
    assert why == "too high"
    assert len(calls) <= 2 + math.ceil(math.log2((math.log(10) if logscale else 9.0) / tol))


def test_edge_returns_the_bound_when_it_passes_and_integers_stay_integers():
    assert _edge(lambda m, n, x: (True, ""), "frozen", "p", 2.0, 5.0, False, False, 0.1) == \
        (5.0, "range bound")
    edge, _ = _edge(lambda m, n, x: (x < 13, "no"), "frozen", "n", 4, 40, True, False, 0.5)
    assert edge == 12


@pytest.fixture(scope="module")
def strip_acid_window():
    return operating_window(REFERENCE, ["sx1_strip_HCl_mol_L"], rel_tol=0.1)


def test_specs_widen_the_window_of_a_balanced_parameter(strip_acid_window):
    w = strip_acid_window
    r = w.table.iloc[0]
    assert r["parameter"] == "sx1_strip_HCl_mol_L" and r["default"] == 4.0
    for mode in ("active", "frozen"):
        assert r["range low"] <= r[f"{mode} low"] <= r["default"] <= r[f"{mode} high"] <= r["range high"]
    # frozen: the strip acid feeds the scrub through the reflux, a few tenths of a mol/L
    # either way moves a product below 99.5 %; with the specs the reflux follows it
    assert r["frozen high"] - r["frozen low"] < 1.0
    assert r["active high"] - r["active low"] > 3 * (r["frozen high"] - r["frozen low"])
    assert "%" in r["frozen limit low"] or "%" in r["frozen limit high"]  # a product below target
    assert len(w.spec_values) == 2
    assert "sx1_strip_HCl_mol_L" in w.to_text()


def test_window_plot_has_one_bar_per_parameter_and_mode(strip_acid_window, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    fig = plot_window(strip_acid_window)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sx1_strip_HCl_mol_L"]
    assert len(ax.patches) == 3  # range + active + frozen
    fig.savefig(tmp_path / "w.png")


def test_window_cli_writes_table_and_plot(tmp_path, capsys):
    out, png = tmp_path / "w.csv", tmp_path / "w.png"
    rc = main(["window", str(REFERENCE), "--param", "oxalate_dose", "--modes", "frozen",
               "--tol", "0.25", "--out", str(out), "--plot", str(png)])
    assert rc == 0
    t = pd.read_csv(out)
    assert t.loc[0, "parameter"] == "oxalate_dose"
    assert (t.loc[0, "frozen low"], t.loc[0, "frozen high"]) == (1.0, 2.0)
    assert png.stat().st_size > 0
    assert "Operating windows" in capsys.readouterr().out


def test_window_rejects_unknown_and_non_numeric_parameters():
    with pytest.raises(ValueError, match="unknown parameter 'nope'"):
        operating_window(REFERENCE, ["nope"])
    with pytest.raises(ValueError, match="has no numeric range"):
        operating_window(REFERENCE, ["feed"])
    with pytest.raises(ValueError, match="modes must be"):
        operating_window(REFERENCE, ["oxalate_dose"], modes=("manual",))


def test_monte_carlo_over_feed_composition_with_specs_active():
    """The controller's range: the Dy content of the feed sampled over +/-10 %; every sample
    meets 99.5 % and the SX1 reflux the spec sets differs from sample to sample."""
    from reeproc.feeds import feed_composition

    from reeproc.flowsheet.script import script_parameters

    dy = float(feed_composition("EV_traction").set_index("element").loc["Dy", "wt_pct__pct"])
    # a design whose reflux starts 20 % low, so the controller has to act in every sample
    design = {"sx1_reflux_fraction": 0.8 * script_parameters(REFERENCE)["sx1_reflux_fraction"].default}
    res = monte_carlo(REFERENCE, design, uncertain={"feed:Dy": ("uniform", 0.9 * dy, 1.1 * dy)},
                      n=4, seed=3, executor="serial", property_data=False)
    assert res.probability_meeting_target == 1.0
    s = res.summary
    moved = [i for i in s.index if i.startswith("spec ")]
    assert len(moved) == 2 and any(i.endswith(": sx1_OA") for i in moved)
    reflux = next(i for i in moved if i.endswith(": sx1_reflux_fraction"))
    assert s.loc[reflux, "count"] == 4 and s.loc[reflux, "max"] > s.loc[reflux, "min"]
    assert res.samples["feed"].str.contains("Dy=").all()


def test_a_spec_that_cannot_reach_its_bound_saturates_in_the_active_window():
    """HDD mixed REO: above leach acid ratio ~3 the cake wash cannot reach 99.7 % any more; the
    active window keeps going while the saturated wash still gives >= 99.5 %."""
    w = operating_window(ROOT / "flowsheets" / "hdd_mixed_reo.py", ["leach_acid_ratio"],
                         rel_tol=0.1)
    r = w.table.iloc[0]
    assert r["active high"] >= r["frozen high"] > r["default"] == 2.0
    assert "saturated at RE filter wash ratio [L/L] = 20" in r["active limit high"]
