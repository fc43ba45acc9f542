"""Feedstock estimator: magnet mass, blended composition and recoverable oxide from counts of
decommissioned assets; sourced tables; missing data refused or reported, never zero; the CLI
contract and the executed docs example."""
import json
import math
import re
import shlex
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reeproc import feedstock as fsk
from reeproc.data import MissingDataError, load_table
from reeproc.feeds import feed_composition
from reeproc.species import atomic_weight, molar_mass

ROOT = Path(__file__).resolve().parents[1]
REC = {"Nd": 0.9, "Pr": 0.8, "Dy": 0.7}


def test_every_number_in_the_new_tables_is_sourced():
    for name in ("asset_magnet_content", "magnet_collection_yields", "uk_magnet_context"):
        df = load_table(name)
        num = [c for c in df.columns if "__" in c]
        has = df[num].notna().any(axis=1)
        assert has.any(), name
        assert (df.loc[has, "source"].str.len() > 20).all(), name
        assert set(df.loc[has, "confidence"]) <= {"established", "single-source", "derived",
                                                  "estimated"}


def test_single_asset_by_hand():
    """1000 desktop drives: 1000 x 0.020 kg x 42.5 % collected; composition = the HDD grade;
    oxide = metal x recovery x (M_oxide / n M_metal)."""
    est = fsk.estimate([fsk.asset("HDD_desktop", 1000)], recoveries=REC)
    assert est.magnet_kg == pytest.approx(1000 * 0.020 * 0.425, rel=1e-12)
    grade = {r.element: r.wt_pct__pct for r in feed_composition("HDD").itertuples()}
    assert est.composition_wt_pct == pytest.approx(grade, rel=1e-12)
    nd2o3 = est.magnet_kg * grade["Nd"] / 100 * 0.9 * molar_mass("Nd2O3") / (2 * atomic_weight("Nd"))
    assert est.reo_kg_by_oxide["Nd2O3"] == pytest.approx(nd2o3, rel=1e-12)
    pr6o11 = est.magnet_kg * grade["Pr"] / 100 * 0.8 * molar_mass("Pr6O11") / (6 * atomic_weight("Pr"))
    assert est.reo_kg_by_oxide["Pr6O11"] == pytest.approx(pr6o11, rel=1e-12)
    assert est.reo_kg == pytest.approx(sum(est.reo_kg_by_oxide.values()), rel=1e-12)
    # magnets made again are limited by the worst-recovered rare earth (Dy, 0.7)
    assert est.magnets_remade_kg == pytest.approx(0.7 * est.magnet_kg, rel=1e-12)
    assert any("dismantling yield of HDD" in g for g in est.data_gaps)


def test_blend_conserves_every_element():
    assets = [fsk.asset("wind_DD_PMSG", 12.5), fsk.asset("EV_PMSM", 300),
              fsk.asset("HDD_laptop", 5000)]
    est = fsk.estimate(assets, recoveries=REC)
    for el, w in est.composition_wt_pct.items():
        want = 0.0
        for a, row in zip(assets, est.assets.itertuples()):
            g = {r.element: r.wt_pct__pct for r in feed_composition(a.grade).itertuples()}
            want += row._9 * g.get(el, 0.0) / 100  # magnet [kg/yr]
        assert est.magnet_kg * w / 100 == pytest.approx(want, rel=1e-12), el
    assert est.content_kg == pytest.approx(12.5 * 650 + 300 * 1.72 + 5000 * 0.005, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.1, 1e4), st.floats(1, 1e6), st.floats(1.5, 20))
def test_magnet_mass_is_linear_in_the_counts_and_the_blend_is_not(mw, evs, k):
    a = fsk.estimate([fsk.asset("wind_MS_PMSG", mw), fsk.asset("EV_PMSM", evs)], recoveries=REC)
    b = fsk.estimate([fsk.asset("wind_MS_PMSG", k * mw), fsk.asset("EV_PMSM", k * evs)],
                     recoveries=REC)
    assert b.magnet_kg == pytest.approx(k * a.magnet_kg, rel=1e-12)
    assert b.reo_kg == pytest.approx(k * a.reo_kg, rel=1e-12)
    assert b.composition_wt_pct == pytest.approx(a.composition_wt_pct, rel=1e-10)


def test_machines_without_magnets_give_none():
    est = fsk.estimate([fsk.asset("wind_DFIG", 500), fsk.asset("EV_induction", 1000)],
                       recoveries=REC)
    assert est.magnet_kg == 0 and est.reo_kg == 0 and est.composition_wt_pct == {}
    with pytest.raises(ValueError, match="no magnet collected"):
        est.stream()


def test_missing_content_is_refused_not_zero():
    with pytest.raises(MissingDataError, match="--motor-kg"):
        fsk.asset("industrial_PM_motor", 10)
    with pytest.raises(MissingDataError, match="grade"):
        fsk.asset("industrial_PM_motor", 10, ndfeb_kg=2.0)
    a = fsk.asset("industrial_PM_motor", 10, ndfeb_kg=2.0, grade="EV_traction")
    est = fsk.estimate([a], recoveries=REC)
    assert est.magnet_kg == pytest.approx(20.0)
    assert any("collection yield of industrial_motor" in g for g in est.data_gaps)


@pytest.mark.parametrize("call, match", [
    (lambda: fsk.asset("HDD_desktop", -1), "HDD_desktop.*>= 0"),
    (lambda: fsk.asset("nope", 1), "unknown asset 'nope'"),
    (lambda: fsk.estimate([fsk.asset("HDD_desktop", 1)], recoveries={"Nd": 1.5}),
     "recovery of Nd"),
    (lambda: fsk.estimate([fsk.asset("HDD_desktop", 1)], recoveries=REC,
                          collection={"HDD": 2}), "collection yield of 'HDD'"),
    (lambda: fsk.custom_asset("tank", 1, 5.0), "exactly one of grade"),
    (lambda: fsk.custom_asset("tank", 1, 5.0, composition={"Nd": 120}), "wt%"),
    (lambda: fsk.estimate([], recoveries=REC), "at least one asset"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_scenario_yields_replace_gaps_and_recoveries_from_a_result():
    class Result:  # the part of FlowsheetResult the estimator reads
        class flowsheet:  # noqa: N801
            name = "a flowsheet"

        @staticmethod
        def recovery():
            return {"Nd": 0.5, "Pr": 0.5, "Dy": 0.5}

    est = fsk.estimate([fsk.asset("wind_DD_PMSG", 10)], recoveries=Result(),
                       collection={"wind": 0.9}, dismantling={"wind": 0.8})
    assert est.magnet_kg == pytest.approx(10 * 650 * 0.9 * 0.8, rel=1e-12)
    assert not [g for g in est.data_gaps if "collection yield" in g or "dismantling yield" in g]
    assert est.recovery_source == "flowsheet 'a flowsheet'"
    assert est.magnets_remade_kg == pytest.approx(0.5 * est.magnet_kg, rel=1e-12)


def test_user_composition_and_stream():
    tank = fsk.custom_asset("tank", 4, 25.0, composition={"Nd": 24.0, "Dy": 6.0, "Fe": 69.0,
                                                          "B": 1.0})
    est = fsk.estimate([tank], recoveries=REC, collection={"user": 1.0},
                       dismantling={"user": 1.0})
    assert est.magnet_kg == 100.0 and est.unreported_wt_pct == pytest.approx(0, abs=1e-12)
    s = est.stream(kg_h=10.0)
    assert s.total_kg_h == pytest.approx(10.0, rel=1e-12)
    assert s.element_kg_h()["Dy"] == pytest.approx(0.6, rel=1e-12)
    assert est.stream().total_kg_h == pytest.approx(100.0 / 8760.0, rel=1e-12)


def test_cli_contract(tmp_path, capsys):
    from reeproc.cli import main

    out = tmp_path / "f.json"
    rc = main(["feedstock", "--wind-MW", "20", "--ev-count", "500", "--hdd-count", "10000",
               "--recovery", "Nd=0.9", "--recovery", "Pr=0.9", "--recovery", "Dy=0.9",
               "--json", str(out)])
    assert rc == 0
    d = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert isinstance(d["magnet_kg"], float) and isinstance(d["reo_kg"], float)
    assert d["magnet_kg"] == pytest.approx(20 * 650 + 500 * 1.72 + 10000 * 0.02 * 0.425)
    assert sum(d["composition_wt_pct"].values()) <= 100 and d["composition_wt_pct"]["Nd"] > 15
    assert "UK context" in capsys.readouterr().out


def test_cli_errors_are_messages(capsys):
    from reeproc.cli import main

    assert main(["feedstock", "--motor-count", "5", "--recovery", "Nd=0.9"]) == 2
    assert "--motor-kg" in capsys.readouterr().err
    assert main(["feedstock", "--asset", "tank=1,2", "--recovery", "Nd=0.9"]) == 2
    assert "NAME=COUNT,KG_PER_UNIT,GRADE" in capsys.readouterr().err
    assert main(["feedstock", "--hdd-count", "5", "--recovery", "Nd=most"]) == 2
    assert "--recovery Nd: 'most' is not a number" in capsys.readouterr().err
    assert main(["feedstock"]) == 2
    assert "at least one asset" in capsys.readouterr().err
    assert main(["feedstock", "--ev-count", "-3", "--recovery", "Nd=0.9"]) == 2
    assert "EV_PMSM" in capsys.readouterr().err


def _blocks(text):
    return re.findall(r"```(\w+)\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("doc", ["docs/feedstock.md", "README.md"])
def test_docs_example_prints_what_the_doc_says(doc, tmp_path, monkeypatch, capsys):
    """The command in the doc, run as written (recoveries from the reference flowsheet), prints
    exactly the doc's output block; the Python example prints its output block too."""
    from reeproc.cli import main

    blocks = _blocks((ROOT / doc).read_text())
    i = next(k for k, (lang, body) in enumerate(blocks)
             if lang == "bash" and body.strip().startswith("reeproc feedstock"))
    cmd, want = blocks[i][1].strip(), blocks[i + 1][1]
    monkeypatch.chdir(tmp_path)  # as from the repository root (the package may be installed
    (tmp_path / "flowsheets").symlink_to(ROOT / "flowsheets")  # outside it, as in CI)
    assert main(shlex.split(cmd)[1:]) == 0
    assert capsys.readouterr().out == want
    assert (tmp_path / "feedstock.json").is_file()
    py = [(k, b) for k, (lang, b) in enumerate(blocks) if lang == "python" and "feedstock" in b]
    for k, body in py:
        exec(compile(body, doc, "exec"), {})
        assert capsys.readouterr().out == blocks[k + 1][1]


def test_uk_context_from_the_seeds():
    ctx = fsk.uk_context()
    assert ctx["UK NdFeB magnet demand"] == 2000 and ctx["UK recycling target share"] == 0.2
    assert math.isclose(ctx["UK NdFeB magnet demand"] * ctx["UK recycling target share"], 400)
