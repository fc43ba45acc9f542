"""Property-data tables: loading and validation.

Every table lives in ``property_data/`` (shipped inside the package as ``reeproc.property_data``)
as a CSV file with optional leading ``#`` comment lines. The rules every table obeys:

* numeric columns carry their unit after a double underscore in the column name
  (``molar_mass__g_mol``, ``price__USD_kg``, ``log10_K__1`` for dimensionless numbers), and the
  unit is made of tokens reeproc knows (:data:`UNIT_TOKENS`);
* every row that holds a number has a non-empty ``source`` and a ``confidence`` flag, one of
  :data:`CONFIDENCE_FLAGS`;
* an empty numeric cell means *missing*: it loads as NaN, and code that needs it raises
  :class:`MissingDataError` (see :func:`require`). Nothing defaults to zero.

A table that breaks a rule is rejected with a :class:`DataError` naming the file, the line and the
column.
"""
from __future__ import annotations

import contextlib
import functools
import io
import math
import re
import sys
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = [
    "DataError",
    "MissingDataError",
    "CONFIDENCE_FLAGS",
    "UNIT_TOKENS",
    "load_table",
    "tables_read",
    "read_table",
    "table_notes",
    "list_tables",
    "require",
    "data_dir",
    "perturbed",
    "parse_perturbation_key",
]

#: Allowed values of the ``confidence`` column.
CONFIDENCE_FLAGS = ("established", "single-source", "derived", "estimated")

#: Tokens a unit suffix may be built from (joined with ``_``: ``kJ_mol``, ``mol_L_s``,
#: ``J_mol_K``). ``1`` marks a dimensionless number.
UNIT_TOKENS = frozenset(
    """1 pct ppm wt vol mol mmol kmol g kg t mg ug L mL m3 cm3 m m2 cm mm um nm s min h d yr
    K C degC J kJ MJ GJ W kW MW kWh MWh Pa kPa MPa bar atm USD EUR GBP per""".split()
)

#: Columns (by the part of the name before ``__``) whose values must be strictly positive.
_POSITIVE_PREFIXES = ("molar_mass", "atomic_weight", "density", "assay")
#: Columns that hold a percentage and must lie in [0, 100].
_PERCENT_UNITS = ("pct", "wt_pct")


class DataError(ValueError):
    """A property-data table is malformed (names the file, line and column)."""


class MissingDataError(LookupError):
    """A value a calculation needs is not available in ``property_data/``."""


def data_dir() -> Path:
    """Directory holding the installed property-data tables."""
    return Path(str(resources.files("reeproc.property_data")))


def list_tables() -> list[str]:
    """Names (file stems) of every table in ``property_data/``."""
    return sorted(p.stem for p in data_dir().glob("*.csv"))


def _split_unit(column: str) -> tuple[str, str] | None:
    if "__" not in column:
        return None
    quantity, unit = column.rsplit("__", 1)
    return quantity, unit


def _check_unit(path: Path, line: int, column: str, unit: str) -> None:
    tokens = unit.split("_")
    bad = [t for t in tokens if t not in UNIT_TOKENS]
    if not unit or bad:
        raise DataError(
            f"{path.name}: line {line}, column '{column}': unknown unit '{unit}' "
            f"(unknown token(s) {bad}); allowed tokens: {sorted(UNIT_TOKENS)}"
        )


def read_table(path: str | Path) -> pd.DataFrame:
    """Read and validate one property-data CSV file.

    Parameters
    ----------
    path : str or Path
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        Numeric columns as float (NaN where the cell is empty, meaning *missing*), text columns
        as str (empty string where empty). ``df.attrs`` holds ``path``, ``notes`` (the leading
        comment lines) and ``first_data_line`` (file line number of the first row).

    Raises
    ------
    DataError
        If a rule of the table format is broken; the message names file, line and column.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from exc
    lines = text.splitlines()
    notes = []
    header_index = None
    for i, line in enumerate(lines):
        if line.startswith("#"):
            notes.append(line[1:].strip())
        elif line.strip():
            header_index = i
            break
    if header_index is None:
        raise DataError(f"{path.name}: no header row found")
    body = "\n".join(lines[header_index:])
    try:
        raw = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False, skip_blank_lines=True)
    except Exception as exc:  # pandas raises several parser error types
        raise DataError(f"{path.name}: not a valid CSV table ({exc})") from exc
    header_line = header_index + 1
    # file line number of each data row (blank lines are skipped by pandas)
    row_lines = [
        header_index + 1 + j + 1
        for j, line in enumerate(lines[header_index + 1 :])
        if line.strip()
    ]
    numeric_cols = []
    for col in raw.columns:
        if col.startswith("Unnamed"):
            raise DataError(f"{path.name}: line {header_line}: a column has no name")
        split = _split_unit(col)
        if split is not None:
            _check_unit(path, header_line, col, split[1])
            numeric_cols.append(col)
    if numeric_cols:
        for needed in ("source", "confidence"):
            if needed not in raw.columns:
                raise DataError(
                    f"{path.name}: line {header_line}: column '{needed}' is required in a table "
                    f"with numeric columns {numeric_cols}"
                )
    out = raw.copy()
    for col in numeric_cols:
        quantity, unit = _split_unit(col)
        values = []
        for j, cell in enumerate(raw[col]):
            line = row_lines[j] if j < len(row_lines) else header_line + j + 1
            cell = cell.strip()
            if cell == "":
                values.append(math.nan)
                continue
            try:
                v = float(cell)
            except ValueError:
                raise DataError(
                    f"{path.name}: line {line}, column '{col}': '{cell}' is not a number"
                ) from None
            if not math.isfinite(v):
                raise DataError(
                    f"{path.name}: line {line}, column '{col}': {cell} is not finite; "
                    "leave the cell empty for a missing value"
                )
            if quantity.startswith(_POSITIVE_PREFIXES) and v <= 0:
                raise DataError(
                    f"{path.name}: line {line}, column '{col}': {v} must be > 0"
                )
            if unit in _PERCENT_UNITS and not 0.0 <= v <= 100.0:
                raise DataError(
                    f"{path.name}: line {line}, column '{col}': {v} % must lie in [0, 100]"
                )
            values.append(v)
        out[col] = pd.Series(values, index=raw.index, dtype=float)
    if numeric_cols:
        has_number = out[numeric_cols].notna().any(axis=1)
        for j in range(len(out)):
            if not has_number.iloc[j]:
                continue
            line = row_lines[j] if j < len(row_lines) else header_line + j + 1
            if not raw["source"].iloc[j].strip():
                raise DataError(
                    f"{path.name}: line {line}, column 'source': empty source on a row that "
                    "holds a number"
                )
            flag = raw["confidence"].iloc[j].strip()
            if flag not in CONFIDENCE_FLAGS:
                raise DataError(
                    f"{path.name}: line {line}, column 'confidence': '{flag}' is not one of "
                    f"{CONFIDENCE_FLAGS}"
                )
    out.attrs["path"] = str(path)
    out.attrs["notes"] = notes
    out.attrs["first_data_line"] = row_lines[0] if row_lines else None
    return out


@functools.lru_cache(maxsize=None)
def _load_cached(name: str) -> pd.DataFrame:
    path = data_dir() / f"{name}.csv"
    if not path.is_file():
        raise DataError(
            f"no property-data table '{name}' in {data_dir()}; available: {list_tables()}"
        )
    return read_table(path)


#: Tables :func:`load_table` has served in this process, in first-use order (for provenance).
_TABLES_READ: dict = {}


def tables_read() -> list[str]:
    """Names of the property-data tables :func:`load_table` has served in this process, in the
    order first used (the HTML report lists their sources)."""
    return list(_TABLES_READ)


def load_table(name: str) -> pd.DataFrame:
    """Load a validated table from ``property_data/`` by name (the file stem).

    >>> float(load_table("elements").set_index("symbol").loc["Nd", "atomic_weight__g_mol"])
    144.242
    """
    df = _load_cached(name)
    _TABLES_READ.setdefault(name, None)
    out = df.copy()
    out.attrs = dict(df.attrs)
    for match, column, kind, value in _OVERRIDES.get(name, ()):
        out = _apply_override(out, name, match, column, kind, value)
    return out


# ------------------------------------------------------------------ perturbations (Monte Carlo)
#: Active perturbations: table -> list of (match dict, column, kind, value). Set only inside
#: :func:`perturbed`.
_OVERRIDES: dict = {}

_KEY_RE = re.compile(r"^data:(add|mul):([A-Za-z0-9_]+)\[([^\]]*)\]:([A-Za-z0-9_]+)$")


def _apply_override(df, table, match, column, kind, value):
    if column not in df.columns:
        raise DataError(f"perturbation of property_data/{table}.csv: no column '{column}'")
    mask = pd.Series(True, index=df.index)
    for k, v in match.items():
        if k not in df.columns:
            raise DataError(f"perturbation of property_data/{table}.csv: no column '{k}'")
        mask &= df[k].astype(str) == str(v)
    if not mask.any():
        raise DataError(f"perturbation of property_data/{table}.csv: no row with {match}")
    df = df.copy()
    if kind == "add":
        df.loc[mask, column] = df.loc[mask, column] + float(value)
    elif kind == "mul":
        df.loc[mask, column] = df.loc[mask, column] * float(value)
    else:
        raise ValueError(f"perturbation kind must be 'add' or 'mul', got {kind!r}")
    return df


def parse_perturbation_key(key: str):
    """Parse ``data:KIND:TABLE[col=val;col=val]:COLUMN`` into (table, match, column, kind).

    >>> parse_perturbation_key("data:add:sx_kex[extractant=PC88A;species=Dy]:log10_Kex__1")
    ('sx_kex', {'extractant': 'PC88A', 'species': 'Dy'}, 'log10_Kex__1', 'add')
    """
    m = _KEY_RE.match(key)
    if not m:
        raise ValueError(f"property-data perturbation '{key}' must look like "
                         "data:add|mul:TABLE[col=value;...]:COLUMN")
    kind, table, sel, column = m.groups()
    match = {}
    for part in filter(None, sel.split(";")):
        if "=" not in part:
            raise ValueError(f"selector '{part}' in '{key}' must be col=value")
        k, v = part.split("=", 1)
        match[k.strip()] = v.strip()
    return table, match, column, kind


def _clear_derived_caches():
    """Drop functools caches of reeproc functions that derive values from tables."""
    for modname, mod in list(sys.modules.items()):
        if not modname.startswith("reeproc") or mod is None:
            continue
        for obj in list(vars(mod).values()):
            if obj is _load_cached:
                continue
            clear = getattr(obj, "cache_clear", None)
            if callable(clear) and getattr(obj, "__module__", "") == modname:
                clear()


@contextlib.contextmanager
def perturbed(perturbations):
    """Temporarily perturb property data (for Monte Carlo over data uncertainty).

    Parameters
    ----------
    perturbations : dict
        {key: value} with keys ``data:add:TABLE[col=val;...]:COLUMN`` (adds ``value`` to the
        column of the matching rows) or ``data:mul:...`` (multiplies). Every ``load_table`` call
        inside the block sees the perturbed values; caches derived from tables are cleared on
        entry and exit.
    """
    parsed = []
    for key, value in perturbations.items():
        table, match, column, kind = parse_perturbation_key(key)
        _apply_override(_load_cached(table), table, match, column, kind, value)  # validate
        parsed.append((table, (match, column, kind, float(value))))
    saved = {k: list(v) for k, v in _OVERRIDES.items()}
    try:
        for table, ov in parsed:
            _OVERRIDES.setdefault(table, []).append(ov)
        _clear_derived_caches()
        yield
    finally:
        _OVERRIDES.clear()
        _OVERRIDES.update(saved)
        _clear_derived_caches()


def table_notes(name: str) -> list[str]:
    """The leading comment lines of a table (description, conventions, known gaps)."""
    return list(_load_cached(name).attrs["notes"])


def require(value: float, what: str, table: str) -> float:
    """Return ``value`` or raise :class:`MissingDataError` if it is missing (NaN/None).

    Parameters
    ----------
    value : float
        The looked-up number.
    what : str
        Description of the quantity (row and column), used in the message.
    table : str
        Table name, used in the message.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise MissingDataError(
            f"{what} is missing in property_data/{table}.csv; no default is assumed. "
            "Add a sourced value to the table or pass it explicitly."
        )
    return float(value)
