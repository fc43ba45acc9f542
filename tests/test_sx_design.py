"""SX design tools: Fenske, Xu minimum reflux, McCabe-Thiele, stage-count design."""
import matplotlib

matplotlib.use("Agg")

import math

import pytest  # noqa: E402

from reeproc import Stream, sx  # noqa: E402


def test_fenske_values():
    # process-data.md section 3.4 table: 26.1 stages for beta 1.5 at 99.5/99.5 %
    assert sx.fenske(1.5, 0.995) == pytest.approx(26.1, abs=0.05)
    assert sx.fenske(1.4, 0.999, 0.995) == pytest.approx(36.3, abs=0.05)
    assert sx.fenske(2.0, 0.995) == pytest.approx(15.3, abs=0.05)
    with pytest.raises(ValueError, match="beta"):
        sx.fenske(0.9, 0.995)


def test_xu_minimum_reflux():
    # pure products: W_min -> 1/(beta-1); beta = 1.5, f_Nd = 0.77 gives W_min ~ 2, S_min ~ 2.77
    r = sx.xu_minimum_reflux(1.5, 0.77, purity_a=0.999999)
    assert r["W_min"] == pytest.approx(2.0, rel=1e-3)
    assert r["S_min"] == pytest.approx(2.77, rel=1e-3)
    assert r["E_M"] < 1 < r["E_M_scrub"]


def test_xu_stages_exceed_fenske():
    mr = sx.xu_minimum_reflux(2.0, 0.5, 0.999)
    st = sx.xu_stages(2.0, 0.5, 0.999, 0.9999, S=1.5 * mr["S_min"], W=1.5 * mr["S_min"] - mr["f_org"])
    assert st["n"] + st["m"] + 1 > sx.fenske(2.0, 0.999, 0.9999)
    with pytest.raises(ValueError, match="reflux"):
        sx.xu_stages(2.0, 0.5, 0.999, 0.9999, S=0.6, W=0.1)


def test_mccabe_thiele_counts_at_least_fenske():
    fig, ax, n, m = sx.mccabe_thiele(2.0, 0.5, 0.995, 0.995, S=3.0, W=2.5)
    assert n + m >= sx.fenske(2.0, 0.995)
    assert fig is ax.figure


def test_design_binary_constant_d():
    model = sx.ConstantD({"A": 2.0, "B": 1.0})
    d = sx.design(model, feed=Stream.aqueous(1.0, {"A": 0.1, "B": 0.1}),
                  organic=Stream.organic(1.0, {}), scrub=Stream.aqueous(1.0, {}),
                  split=("B", "A"), purity=0.995, recovery=0.95,
                  organic_flows=[2.0, 3.0], scrub_flows=[2.5, 4.0], max_stages=60)
    assert d.purity_heavy >= 0.995 and d.purity_light >= 0.995
    assert d.recovery_heavy >= 0.95 and d.recovery_light >= 0.95
    assert d.total_stages >= d.fenske_min
    assert d.fenske_min == pytest.approx(sx.fenske(2.0, 0.995), rel=1e-6)
    # one stage fewer in either section misses the target (minimality)
    for n, m in ((d.extraction - 1, d.scrub), (d.extraction, d.scrub - 1)):
        if n < 1 or m < 1:
            continue
        r = sx.Cascade(model, n, m).solve(
            feed=Stream.aqueous(1.0, {"A": 0.1, "B": 0.1}),
            organic=Stream.organic(d.organic_flow, {}), scrub=Stream.aqueous(d.scrub_flow, {}))
        assert (min(r.purity("B", "raffinate"), r.purity("A", "loaded_organic")) < 0.995
                or min(r.recovery("B", "raffinate"), r.recovery("A", "loaded_organic")) < 0.95)


def test_design_infeasible_raises():
    model = sx.ConstantD({"A": 2.0, "B": 1.0})
    with pytest.raises(ValueError, match="infeasible"):
        sx.design(model, feed=Stream.aqueous(1.0, {"A": 0.1, "B": 0.1}),
                  organic=Stream.organic(1.0, {}), scrub=Stream.aqueous(1.0, {}),
                  split=("B", "A"), purity=0.99999, organic_flows=[2.0], scrub_flows=[2.5],
                  max_stages=10)
    with pytest.raises(ValueError, match="split"):
        sx.design(model, feed=Stream.aqueous(1.0, {"A": 0.1, "B": 0.1}),
                  organic=Stream.organic(1.0, {}), scrub=Stream.aqueous(1.0, {}),
                  split=("B", "Nd"))


def test_design_balanced_pr_nd_pc88a_reaches_995_with_at_least_fenske_stages():
    """Pr/Nd with 40 % saponified PC88A (1 mol/L) in chloride: both products >= 99.5 %.

    Flows from Xu's theory: beta(Nd/Pr) = 1.5 and f_Nd = 0.75 give W_min = 1.95 mol RE
    scrubbed per mol fed; at W ~ 1.4 W_min the organic must load ~0.7 mol/h RE (2.1 eq/h of Na
    at 0.4 mol/L -> ~5 L/h) and the scrub acid strip ~0.55 mol/h RE (1.6 eq/h of H+).
    """
    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61})
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4)
    xu = sx.xu_minimum_reflux(1.5, 0.75, purity_a=0.995)
    assert xu["W_min"] == pytest.approx(1.955, abs=1e-3)
    d = sx.design_balanced(model, feed, Stream.organic(1.0, {"PC88A": 1.0}),
                           Stream.aqueous(1.0, {"H+": 3.4, "Cl-": 3.4}), ("Pr", "Nd"),
                           organic_flows=[5.0], scrub_bracket=(0.42, 0.60), max_stages=80)
    assert d.purity_light >= 0.995 and d.purity_heavy >= 0.995
    assert d.recovery_light >= 0.95 and d.recovery_heavy >= 0.95
    assert d.fenske_min == pytest.approx(sx.fenske(1.5, 0.995), rel=0.05)
    assert d.total_stages >= d.fenske_min
    r = d.result
    assert r.converged and r.mass_balance_residual < 1e-10
    # mass action: D_Nd / D_Pr = Kex ratio (1.5) at every stage
    beta = (r.D_profile["Nd"] / r.D_profile["Pr"]).to_numpy()
    assert beta == pytest.approx(1.5, rel=0.01)
    # minimality: two stages fewer, re-balanced, misses a target
    with pytest.raises(ValueError, match="infeasible"):
        sx.design_balanced(model, feed, Stream.organic(1.0, {"PC88A": 1.0}),
                           Stream.aqueous(1.0, {"H+": 3.4, "Cl-": 3.4}), ("Pr", "Nd"),
                           organic_flows=[5.0], scrub_bracket=(0.42, 0.60),
                           max_stages=d.total_stages - 2)


def test_fenske_sections_add_up_to_fenske_and_follow_the_feed():
    from reeproc.sx import fenske, fenske_sections

    n_e, n_s = fenske_sections(1.5, 0.75, 0.995)
    # ln(3 x 199)/ln 1.5 and ln(199/3)/ln 1.5
    assert n_e == pytest.approx(math.log(3 * 199) / math.log(1.5), rel=1e-14, abs=0)
    assert n_s == pytest.approx(math.log(199 / 3) / math.log(1.5), rel=1e-14, abs=0)
    assert n_e + n_s == pytest.approx(fenske(1.5, 0.995), rel=1e-13, abs=0)
    # a feed richer in the extracted metal needs more extraction and fewer scrub stages
    e2, s2 = fenske_sections(1.5, 0.9, 0.995)
    assert e2 > n_e and s2 < n_s
    # a feed already purer than the organic product needs no scrub stage
    assert fenske_sections(2.0, 0.999, 0.99)[1] == 0.0
    with pytest.raises(ValueError, match="f_a"):
        fenske_sections(1.5, 1.0, 0.995)
