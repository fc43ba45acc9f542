"""Property-data tables: every table validates; malformed tables are rejected precisely."""
import math
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
    with pytest.raises(DataError, match=r"bad.csv: line 2, column 'molar_mass__g_mol'.*> 0"):
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


def test_cli_help_from_any_directory(tmp_path):
    out = subprocess.run([sys.executable, "-m", "reeproc.cli", "--help"], cwd=tmp_path,
                         capture_output=True, text=True, check=True)
    assert "reeproc" in out.stdout
    out = subprocess.run([sys.executable, "-m", "reeproc.cli", "data", "elements"], cwd=tmp_path,
                         capture_output=True, text=True, check=True)
    assert "Prohaska" in out.stdout
