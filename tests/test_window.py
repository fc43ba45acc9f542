"""Operating windows (reeproc.window) and Monte Carlo with design specs active.

The bisection is checked on a synthetic pass/fail boundary (exact answer known); the table and
plot on the HDD mixed-REO flowsheet; the reference plant through the CLI (one frozen scan) and a
Monte Carlo over its feed's Dy content.
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
def wash_window():
    """The HDD mixed-REO flowsheet's cake-wash window (its spec holds the REO fraction by the
    wash; cheap: the reference plant's windows are documented by reeproc window, not re-run)."""
    return operating_window(ROOT / "flowsheets" / "hdd_mixed_reo.py", ["oxalate_dose"],
                            rel_tol=0.1)


def test_window_table_brackets_the_default(wash_window):
    r = wash_window.table.iloc[0]
    assert r["parameter"] == "oxalate_dose"
    for mode in ("active", "frozen"):
        assert r["range low"] <= r[f"{mode} low"] <= r["default"] <= r[f"{mode} high"] <= r["range high"]
    assert "oxalate_dose" in wash_window.to_text()


def test_window_plot_has_one_bar_per_parameter_and_mode(wash_window, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    fig = plot_window(wash_window)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["oxalate_dose"]
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
    """The Dy content of the reference feed sampled over +/-10 %: every sample meets 99.5 %
    (the feed-forward flows follow the feed; the specs act only where a bound is missed)."""
    from reeproc.feeds import feed_composition

    dy = float(feed_composition("EV_traction").set_index("element").loc["Dy", "wt_pct__pct"])
    res = monte_carlo(REFERENCE, {}, uncertain={"feed:Dy": ("uniform", 0.9 * dy, 1.1 * dy)},
                      n=3, seed=3, executor="serial", property_data=False)
    assert res.probability_meeting_target == 1.0
    assert res.samples["feed"].str.contains("Dy=").all()


def test_a_spec_that_cannot_reach_its_bound_saturates_in_the_active_window():
    """HDD mixed REO: above leach acid ratio ~3 the cake wash cannot reach 99.7 % any more; the
    active window keeps going while the saturated wash still gives >= 99.5 %."""
    w = operating_window(ROOT / "flowsheets" / "hdd_mixed_reo.py", ["leach_acid_ratio"],
                         rel_tol=0.1)
    r = w.table.iloc[0]
    assert r["active high"] >= r["frozen high"] > r["default"] == 2.0
    assert "saturated at RE filter wash ratio [L/L] = 20" in r["active limit high"]
