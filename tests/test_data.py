"""Property-data tables: every table validates; malformed tables are rejected precisely."""
import math
import re
import subprocess
import sys
import textwrap

import pytest

from reeproc.data import (
    CONFIDENCE_FLAGS,
    DataError,
    MissingDataError,
    list_tables,
    load_table,
    read_table,
    require,
)


def test_required_tables_present():
    names = list_tables()
    for t in ("elements", "species", "feeds", "reagents"):
        assert t in names


@pytest.mark.parametrize("name", list_tables())
def test_every_numeric_row_has_source_and_flag(name):
    df = load_table(name)
    numeric = [c for c in df.columns if "__" in c]
    if not numeric:
        return
    has_number = df[numeric].notna().any(axis=1)
    assert (df.loc[has_number, "source"].str.strip() != "").all()
    assert df.loc[has_number, "confidence"].isin(CONFIDENCE_FLAGS).all()


def _write(tmp_path, body):
    p = tmp_path / "bad.csv"
    p.write_text(textwrap.dedent(body).lstrip())
    return p


def test_missing_source_rejected_with_file_line_column(tmp_path):
    p = _write(tmp_path, """
        # a table
        name,molar_mass__g_mol,source,confidence
        X,10.0,Somebody 2020,established
        Y,12.0,,established
        """)
    with pytest.raises(DataError, match=r"bad.csv: line 4, column 'source'"):
        read_table(p)


def test_negative_molar_mass_rejected(tmp_path):
    p = _write(tmp_path, """
        name,molar_mass__g_mol,source,confidence
        X,-10.0,Somebody 2020,established
        """)
    with pytest.raises(DataError, match=r"bad.csv: line 2, column 'molar_mass__g_mol'.*molar mass"):
        read_table(p)


def test_unknown_unit_rejected(tmp_path):
    p = _write(tmp_path, """
        name,length__furlong,source,confidence
        X,1.0,Somebody 2020,established
        """)
    with pytest.raises(DataError, match=r"bad.csv: line 1, column 'length__furlong': unknown unit"):
        read_table(p)


def test_bad_confidence_and_non_number_rejected(tmp_path):
    p = _write(tmp_path, """
        name,value__1,source,confidence
        X,1.0,Somebody 2020,pretty sure
        """)
    with pytest.raises(DataError, match=r"line 2, column 'confidence'"):
        read_table(p)
    p = _write(tmp_path, """
        name,value__1,source,confidence
        X,one,Somebody 2020,established
        """)
    with pytest.raises(DataError, match=r"line 2, column 'value__1': 'one' is not a number"):
        read_table(p)


def test_missing_value_is_nan_and_require_raises(tmp_path):
    p = _write(tmp_path, """
        name,value__1,source,confidence,note
        X,,,,no source found
        """)
    df = read_table(p)
    assert math.isnan(df["value__1"].iloc[0])
    with pytest.raises(MissingDataError, match="X value is missing"):
        require(df["value__1"].iloc[0], "X value", "bad")


def test_unknown_table():
    with pytest.raises(DataError, match="no property-data table 'nope'"):
        load_table("nope")


@pytest.mark.parametrize("name", ["../pyproject", "..", "sub/elements", "a\\b", "", "x.csv", 3])
def test_table_names_stay_inside_the_data_directories(name):
    with pytest.raises(DataError, match="table name"):
        load_table(name)


def test_errors_name_the_real_file_line(tmp_path):
    """Comment and blank lines count: the error names the line an editor shows."""
    p = _write(tmp_path, """
        # title
        # notes

        name,value__1,source,confidence
        X,1.0,Somebody 2020,established

        Y,2.0,Somebody 2020,established,extra
        """)
    with pytest.raises(DataError, match=r"bad.csv: line 7: 5 fields, but the header \(line 4\)"):
        read_table(p)
    p = _write(tmp_path, """
        # title
        name,value__1,source,confidence
        X,1.0,Somebody 2020,established
        # a comment between rows
        Y,abc,Somebody 2020,established
        """)
    with pytest.raises(DataError, match=r"line 5, column 'value__1': 'abc' is not a number"):
        read_table(p)
    p = _write(tmp_path, """
        name,value__1,source,confidence
        X,1.0,Somebody 2020
        """)
    with pytest.raises(DataError, match=r"line 2: 3 fields"):
        read_table(p)


def test_encoding_bom_and_non_utf8(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeff# title\nname,value__1,source,confidence\nX,1.5,S 2020,established\n"
                  .encode("utf-8"))
    df = read_table(p)
    assert list(df.columns) == ["name", "value__1", "source", "confidence"]
    assert df.attrs["notes"] == ["title"] and df["value__1"].iloc[0] == 1.5
    p = tmp_path / "latin.csv"
    p.write_bytes("name,value__1,source,confidence\nX,1.5,M\xfcller 2020,established\n"
                  .encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.csv: line 2, character 8: byte 0xfc is not UTF-8"):
        read_table(p)


@pytest.mark.parametrize("column, value, what", [
    ("price__USD_kg", "-0.25", "a price"),
    ("k_ref__1_h", "-1.0", "a rate constant"),
    ("Ea__kJ_mol", "-41", "an activation energy"),
    ("atomic_weight__g_mol", "0", "a molar mass"),
    ("density__kg_L", "997", "a density in kg/L"),
    ("density__g_mL", "0", "a density"),
    ("wt_pct__pct", "101", "a percentage"),
    ("T_max__K", "-5", "an absolute temperature"),
    ("T_ref__C", "-300", "a temperature"),
])
def test_impossible_values_rejected(tmp_path, column, value, what):
    p = _write(tmp_path, f"""
        # header comment
        name,{column},source,confidence
        X,{value},Somebody 2020,established
        """)
    with pytest.raises(DataError, match=rf"bad.csv: line 3, column '{column}': .*{what}.*allowed"):
        read_table(p)


def test_possible_values_accepted(tmp_path):
    p = _write(tmp_path, """
        name,price__USD_kg,density__kg_L,dHf__kJ_mol,log10_K__1,source,confidence
        water,0.001,0.997,-285.8,-14,S 2020,established
        air,0,0.0012,0,3,S 2020,established
        """)
    df = read_table(p)
    assert df["density__kg_L"].tolist() == [0.997, 0.0012]


def _reagents_copy(tmp_path, hcl_price):
    from reeproc.data import table_path

    src = table_path("reagents").read_text(encoding="utf-8")
    lines = [(re.sub(r"^(HCl,HCl,[0-9.]*,[^,]*,)[0-9.]+,", rf"\g<1>{hcl_price},", ln, count=1)
              if ln.startswith("HCl,") else ln) for ln in src.splitlines()]
    assert sum(bool(re.match(rf"HCl,HCl,[0-9.]*,[^,]*,{hcl_price},", ln)) for ln in lines) == 1
    d = tmp_path / "mydata"
    d.mkdir(exist_ok=True)
    (d / "reagents.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return d


def test_user_tables_overlay_with_use(tmp_path):
    from reeproc import data

    base = load_table("reagents").set_index("reagent").loc["HCl", "price__USD_kg"]
    d = _reagents_copy(tmp_path, repr(2 * float(base)))
    base = load_table("reagents").set_index("reagent").loc["HCl", "price__USD_kg"]
    with data.use(d):
        t = load_table("reagents")
        assert t.set_index("reagent").loc["HCl", "price__USD_kg"] == 2 * base
        assert t.attrs["path"] == str(d.resolve() / "reagents.csv")
        assert load_table("elements").attrs["path"].startswith(str(data.data_dir()))
    assert load_table("reagents").set_index("reagent").loc["HCl", "price__USD_kg"] == base
    # a user table changes what a flowsheet computes: HCl at twice the shipped price
    from pathlib import Path

    from reeproc.flowsheet import run

    ref = Path(__file__).resolve().parents[1] / "flowsheets" / "ndfeb_long_loop.py"
    cost = run(ref).economics()
    with data.use(d):
        dearer = run(ref).economics()
    def hcl(e):
        return float(e.costs.set_index("item").loc["reagent: HCl", "USD/yr"])

    assert hcl(dearer) == pytest.approx(2 * hcl(cost), rel=1e-9)
    assert dearer.costs["USD/yr"].sum() == pytest.approx(cost.costs["USD/yr"].sum() + hcl(cost),
                                                         rel=1e-9)
    # the same rules hold for user tables
    (d / "reagents.csv").write_text("reagent,price__USD_kg,source,confidence\nHCl,-1,me,estimated\n")
    with data.use(d):
        with pytest.raises(DataError, match=r"reagents.csv: line 2, column 'price__USD_kg'"):
            load_table("reagents")
    with pytest.raises(DataError, match="is not a directory"):
        data.use(tmp_path / "nope")


def test_user_tables_through_environment_variable(tmp_path):
    """REEPROC_DATA_PATH is read by the package itself (from any directory, as with an installed
    package), and a folder that is not there is refused in one line."""
    d = _reagents_copy(tmp_path, "2.5")
    code = ("from reeproc.data import load_table;"
            "t = load_table('reagents');"
            "print(t.set_index('reagent').loc['HCl', 'price__USD_kg'], t.attrs['path'])")
    import os

    env = {**os.environ, "REEPROC_DATA_PATH": str(d)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == "2.5" and out.stdout.split()[1].startswith(str(d))
    env[ "REEPROC_DATA_PATH"] = str(tmp_path / "missing")
    out = subprocess.run([sys.executable, "-m", "reeproc.cli", "data", "reagents"], cwd=tmp_path,
                         env=env, capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "REEPROC_DATA_PATH" in out.stderr and "is not a directory" in out.stderr


def test_cli_help_from_any_directory(tmp_path):
    out = subprocess.run([sys.executable, "-m", "reeproc.cli", "--help"], cwd=tmp_path,
                         capture_output=True, text=True, check=True)
    assert "reeproc" in out.stdout
    out = subprocess.run([sys.executable, "-m", "reeproc.cli", "data", "elements"], cwd=tmp_path,
                         capture_output=True, text=True, check=True)
    assert "Prohaska" in out.stdout
