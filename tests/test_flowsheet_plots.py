"""Flowsheet diagram: renders for the toy and the reference flowsheet, names every unit and
stream, keeps its labels inside the canvas and apart from each other."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from reeproc.flowsheet.plots import flowsheet_diagram, save_all  # noqa: E402
from reeproc.flowsheet.script import run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = {"toy": ROOT / "tests" / "data" / "toy_flowsheet.py",
         "reference": ROOT / "flowsheets" / "ndfeb_long_loop.py"}


@pytest.fixture(scope="module")
def reference():
    return run(CASES["reference"])


@pytest.fixture(scope="module", params=sorted(CASES))
def diagram(request):
    res = run(CASES[request.param])
    fig = flowsheet_diagram(res)
    yield res, fig
    plt.close(fig)


def _texts(fig):
    return [t for ax in fig.axes for t in ax.texts if t.get_text().strip()]


def _norm(s):
    return " ".join(s.split())


def test_diagram_names_every_unit_and_stream(diagram):
    res, fig = diagram
    assert isinstance(fig, Figure)
    texts = [_norm(t.get_text()) for t in _texts(fig)]
    for unit in res.flowsheet.units:
        assert unit in texts, f"unit {unit!r} not drawn"
    # every stream is listed by name in the stream table
    for s in res.streams:
        assert s in texts, f"stream {s!r} missing from the stream table"
    # products carry their purity from the KPIs
    for name, p in res.kpis()["products"].items():
        assert any(name in t and f"{100 * p['purity']:.3f} %" in t for t in texts)


def test_diagram_labels_inside_and_apart(diagram):
    res, fig = diagram
    renderer = fig.canvas.get_renderer()
    w, h = fig.get_size_inches() * fig.dpi
    assert 6 <= fig.get_size_inches()[0] <= 18.5
    boxes = [t.get_window_extent(renderer) for t in _texts(fig)]
    for b in boxes:
        assert b.x0 >= 0 and b.x1 <= w and b.y0 >= 0 and b.y1 <= h
    clashes = [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
               if boxes[i].x0 < boxes[j].x1 - 1 and boxes[j].x0 < boxes[i].x1 - 1
               and boxes[i].y0 < boxes[j].y1 - 1 and boxes[j].y0 < boxes[i].y1 - 1]
    texts = _texts(fig)
    assert not clashes, [(texts[i].get_text(), texts[j].get_text()) for i, j in clashes]


def test_save_all_writes_the_diagram(diagram, tmp_path):
    res, _ = diagram
    paths = save_all(res, tmp_path)
    assert tmp_path / "flowsheet.png" in paths
    assert (tmp_path / "flowsheet.png").stat().st_size > 10_000


# ---------------------------------------------------------------------------- plots that tell the truth
def test_diagram_draws_every_reagent_dosed_inside_units(diagram):
    res, fig = diagram
    texts = " ".join(_norm(t.get_text()) for t in _texts(fig))
    for unit, r in res.unit_results.items():
        for st in getattr(r, "reagent_streams", None) or []:
            assert f"{st.name} -> {unit}" in texts, f"{st.name} dosed in {unit} not in the table"
            assert st.name in texts
    for s, reagent in res.flowsheet.reagent_feeds.items():
        assert s in texts


def test_reference_diagram_shows_the_leach_acid(reference):
    fig = flowsheet_diagram(reference)
    texts = " ".join(_norm(t.get_text()) for t in _texts(fig))
    plt.close(fig)
    for name in ("HCl lixiviant -> leach", "NaOH solution -> iron removal",
                 "oxalic acid dihydrate -> Nd oxalate", "NH3 solution -> Tb oxalate feed acid trim",
                 "roaster air -> roaster",
                 "wash water -> leach filter"):
        assert name in texts


def test_profiles_keep_one_colour_per_species(reference):
    from matplotlib.colors import to_hex

    from reeproc.flowsheet.plots import sx_profiles
    from reeproc.flowsheet.plots.style import species_color

    fig = sx_profiles(reference)
    seen = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            lab = line.get_label()
            if lab.startswith("_"):
                continue
            c = to_hex(line.get_color())
            assert seen.setdefault(lab, c) == c, f"{lab} changes colour between panels"
            if lab not in ("H+", "free extractant"):
                assert c == to_hex(species_color(lab))
    plt.close(fig)
    assert {"Nd", "Pr", "Dy"} <= set(seen)


def _sweep_table(purity_lo, purity_hi):
    import numpy as np
    import pandas as pd

    rows = []
    for x in np.linspace(1.0, 2.0, 4):
        for y in np.linspace(3.0, 4.0, 3):
            f = (x - 1.0) * (y - 2.5)
            rows.append({"oxalate_dose": x, "fe_removal_pH": y, "converged": True,
                         "purity Dy2O3 [-]": purity_lo + (purity_hi - purity_lo) * f / 1.5,
                         "recovery Dy [-]": 0.8 + 0.05 * f,
                         "cost [USD/kg oxide]": 3 + f})
    df = pd.DataFrame(rows)
    df["all products meet 99.5 %"] = df["purity Dy2O3 [-]"] >= 0.995
    return df


def test_contour_only_on_purity_maps_and_units_on_axes(tmp_path):
    from reeproc.flowsheet.plots.maps import plot_map, save_sweep_plots

    df = _sweep_table(0.99, 0.999)
    fig = plot_map(df, "oxalate_dose", "fe_removal_pH", "purity Dy2O3 [-]")
    assert "99.5 % contour" in fig.axes[0].get_title() and len(fig.axes[0].collections) >= 2
    plt.close(fig)
    fig = plot_map(df, "oxalate_dose", "fe_removal_pH", "recovery Dy [-]")
    assert "contour" not in fig.axes[0].get_title() and len(fig.axes[0].collections) == 1
    plt.close(fig)
    # a map that never crosses 99.5 % says so instead of claiming a contour
    fig = plot_map(_sweep_table(0.9999900, 0.9999999), "oxalate_dose", "fe_removal_pH",
                   "purity Dy2O3 [-]")
    ax, cax = fig.axes
    assert "every converged case meets" in ax.get_title()
    fig.canvas.draw()
    assert cax.yaxis.get_offset_text().get_text() == ""  # no offset text to collide
    plt.close(fig)
    paths = save_sweep_plots(df, tmp_path, script=CASES["reference"])
    assert {p.name for p in paths} == {"map_purity_Dy2O3.png", "map_recovery_Dy.png",
                                       "pareto_recovery_Dy.png"}


def test_axis_labels_carry_the_units_of_the_script():
    from reeproc.flowsheet.plots.style import param_label
    from reeproc.flowsheet.script import script_parameters

    ps = script_parameters(CASES["reference"])
    for name, p in ps.items():
        label = param_label(name, p.description)
        assert label.startswith(name) and label.endswith("]")
    assert param_label("recovery Nd [-]") == "recovery Nd [-]"
    assert param_label("x") == "x [unit not given]"


def test_pareto_legend_lists_only_drawn_markers():
    from reeproc.flowsheet.plots.maps import plot_pareto

    df = _sweep_table(0.99, 0.994)  # nothing meets 99.5 %
    fig = plot_pareto(df, "cost [USD/kg oxide]", "recovery Dy [-]",
                      feasible="all products meet 99.5 %")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["cases below 99.5 % purity"]
    plt.close(fig)
    df = _sweep_table(0.99, 0.999)
    fig = plot_pareto(df, "cost [USD/kg oxide]", "recovery Dy [-]",
                      feasible="all products meet 99.5 %")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["cases below 99.5 % purity", "cases meeting 99.5 % purity", "Pareto front"]
    plt.close(fig)


def test_sankey_is_a_sankey_with_element_colours(reference):
    from reeproc.flowsheet.plots.sankey import element_flows, sankey_figure

    res = reference
    fig = sankey_figure(res)
    assert {t.type for t in fig.data} == {"sankey"}
    els = [t.name for t in fig.data]
    assert {"Nd", "Pr", "Dy", "Fe"} <= set(els)
    assert [t.visible for t in fig.data].count(True) == 1
    from reeproc.flowsheet.plots.style import species_color

    for t in fig.data:  # links take their element's colour, the same as in the SX profiles
        h = species_color(t.name).lstrip("#")
        rgb = ",".join(str(int(h[k:k + 2], 16)) for k in (0, 2, 4))
        assert all(c.startswith(f"rgba({rgb},") for c in t.link.color), t.name
    flows = element_flows(res)
    audit = res.audit()
    from reeproc.species import atomic_weight

    for el in els:
        d = flows[flows["element"] == el]
        out = d.loc[d["target"].str.startswith("out: "), "flow [kg/h]"].sum()
        assert out == pytest.approx(audit.loc[el, "out [mol/h]"] * atomic_weight(el) / 1000,
                                    rel=1e-9)


def test_export_plots_option(tmp_path):
    res = run(CASES["toy"])
    names = {p.name for p in res.export(tmp_path / "none", plots=False)}
    assert not [n for n in names if n.endswith(".png")] and "streams.csv" in names
    names = {p.name for p in res.export(tmp_path / "one", plots=["flowsheet"])}
    assert [n for n in names if n.endswith(".png")] == ["flowsheet.png"]
    with pytest.raises(ValueError, match="unknown figure"):
        res.export(tmp_path / "bad", plots=["sankey3d"])


def test_plot_modules_do_not_import_the_report_module():
    src = Path(__file__).resolve().parents[1] / "src" / "reeproc" / "flowsheet" / "plots"
    for f in src.glob("*.py"):
        text = f.read_text()
        assert "from ..report" not in text and "import report" not in text, f.name
