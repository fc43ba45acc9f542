"""Property-data tables: loading, validation and user overlays.

Every table lives in ``property_data/`` (shipped inside the package as ``reeproc.property_data``)
as a CSV file with optional leading ``#`` comment lines. The rules every table obeys:

* numeric columns carry their unit after a double underscore in the column name
  (``molar_mass__g_mol``, ``price__USD_kg``, ``log10_K__1`` for dimensionless numbers), and the
  unit is made of tokens reeproc knows (:data:`UNIT_TOKENS`);
* every value lies within the physical bounds declared for its column family
  (:data:`COLUMN_BOUNDS`: prices and rate constants non-negative, molar masses positive, densities
  in kg/L between 0 and 25, ...);
* every row that holds a number has a non-empty ``source`` and a ``confidence`` flag, one of
  :data:`CONFIDENCE_FLAGS`;
* an empty numeric cell means *missing*: it loads as NaN, and code that needs it raises
  :class:`MissingDataError` (see :func:`require`). Nothing defaults to zero.

A table that breaks a rule is rejected with a :class:`DataError` naming the file, the line of the
file (comment lines counted) and the column.

Your own tables: a directory given to :func:`use` (or listed in the environment variable
``REEPROC_DATA_PATH``, directories separated by ``os.pathsep``) is searched before the shipped
tables; a file ``reagents.csv`` there replaces the shipped ``reagents`` table, whole, and obeys the
same rules (units, bounds, sources, confidence flags). ``reeproc data reagents --csv`` prints the
shipped file to start from. This works the same with an installed (non-editable) package.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "reagents.csv").write_text(
...     "reagent,price__USD_kg,source,confidence\\nHCl,0.30,my supplier quote 2026,single-source\\n")
>>> with use(d):
...     float(load_table("reagents").set_index("reagent").loc["HCl", "price__USD_kg"])
0.3
>>> float(load_table("reagents").set_index("reagent").loc["HCl", "price__USD_kg"])
0.467
"""
from __future__ import annotations

import contextlib
import csv
import functools
import math
import os
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from ._validate import as_number

__all__ = [
    "DataError",
    "MissingDataError",
    "CONFIDENCE_FLAGS",
    "UNIT_TOKENS",
    "COLUMN_BOUNDS",
    "ENV_VAR",
    "load_table",
    "tables_read",
    "read_table",
    "table_notes",
    "table_path",
    "list_tables",
    "require",
    "data_dir",
    "search_path",
    "use",
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

#: Environment variable listing directories of user tables (``os.pathsep``-separated).
ENV_VAR = "REEPROC_DATA_PATH"


@dataclass(frozen=True)
class Bound:
    """Physical bounds of a column family: columns whose quantity (the name before ``__``)
    matches ``quantity`` and whose unit matches ``unit`` (regular expressions, full match)."""

    quantity: str
    unit: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    what: str = ""

    def applies(self, quantity: str, unit: str) -> bool:
        return re.fullmatch(self.quantity, quantity) is not None and \
            re.fullmatch(self.unit, unit) is not None

    def allowed(self) -> str:
        lo = "(" if self.low_open else "["
        return f"{lo}{self.low:g}, {self.high:g}]"

    def holds(self, v: float) -> bool:
        above = v > self.low if self.low_open else v >= self.low
        return above and v <= self.high


#: Bounds per column family, checked on every value (first matching rule wins). Families not
#: listed (log10 constants, enthalpies, fitted coefficients) may take any finite value.
COLUMN_BOUNDS = (
    Bound(r"(molar_mass|atomic_weight)", r"g_mol|kg_kmol", 0.0, 1000.0, True, "a molar mass"),
    Bound(r"density", r"kg_L|g_mL|g_cm3|t_m3", 0.0, 25.0, True,
          "a density in kg/L (water is 0.997; no solid or liquid is above 23)"),
    Bound(r"density", r"kg_m3", 0.0, 25000.0, True, "a density in kg/m3"),
    Bound(r"assay", r".*", 0.0, 100.0, True, "an assay"),
    Bound(r".*", r"pct|wt_pct|vol_pct", 0.0, 100.0, False, "a percentage"),
    Bound(r"price.*", r".*", 0.0, math.inf, False, "a price"),
    Bound(r"co2.*", r".*", 0.0, math.inf, False, "an emission factor"),
    Bound(r"k_ref|k|rate.*", r".*", 0.0, math.inf, False, "a rate constant"),
    Bound(r"Ea", r".*", 0.0, math.inf, False, "an activation energy"),
    Bound(r"(C|c)_ref|conc.*", r"mol_L|g_L|mol_m3", 0.0, math.inf, True,
          "a reference concentration"),
    Bound(r"d_ref|d|diameter", r"um|mm|m|nm", 0.0, math.inf, True, "a particle size"),
    Bound(r".*", r"K", 0.0, math.inf, True, "an absolute temperature"),
    Bound(r".*", r"C|degC", -273.15, math.inf, True, "a temperature"),
    Bound(r"S", r"J_mol_K", 0.0, math.inf, False, "a third-law entropy of a solid"),
    Bound(r"beta", r"1", 0.0, math.inf, True, "a separation factor"),
    Bound(r"n_dimer|n_H|n_ext|order", r"1", 0.0, math.inf, False, "a stoichiometric number"),
    Bound(r"value", r"MJ_kg", 0.0, math.inf, True, "a heating value"),
)


class DataError(ValueError):
    """A property-data table is malformed (names the file, line and column)."""


class MissingDataError(LookupError):
    """A value a calculation needs is not available in ``property_data/``."""


# ------------------------------------------------------------------ where tables are found
_USER_DIRS: list[Path] = []
_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")


def data_dir() -> Path:
    """Directory holding the shipped (installed) property-data tables."""
    return Path(str(resources.files("reeproc.property_data")))


def _env_dirs() -> list[Path]:
    raw = os.environ.get(ENV_VAR, "")
    out = []
    for part in filter(None, (p.strip() for p in raw.split(os.pathsep))):
        d = Path(part).expanduser()
        if not d.is_dir():
            raise DataError(f"{ENV_VAR}: '{part}' is not a directory")
        out.append(d)
    return out


def search_path() -> list[Path]:
    """Directories searched for tables, first match wins: :func:`use` directories, then
    ``REEPROC_DATA_PATH``, then the shipped tables."""
    return [*_USER_DIRS, *_env_dirs(), data_dir()]


class use:  # noqa: N801 - used like a function
    """Search the user directories ``paths`` for tables before the shipped ones.

    ``use(path)`` takes effect at once and lasts for the process; ``use()`` removes every
    user directory. Used as a context manager (``with use(path): ...``) the previous search path
    is restored at the end of the block. A user table replaces the shipped table of the same
    name and obeys the same rules (units, bounds, sources, confidence flags).
    """

    def __init__(self, *paths):
        dirs = []
        for p in paths:
            if not isinstance(p, (str, os.PathLike)):
                raise DataError(f"reeproc.data.use: {p!r} is not a folder path")
            d = Path(p).expanduser()
            if not d.is_dir():
                raise DataError(f"reeproc.data.use: '{p}' is not a directory")
            dirs.append(d.resolve())
        self._saved = list(_USER_DIRS)
        _USER_DIRS[:] = dirs
        _search_changed()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _USER_DIRS[:] = self._saved
        _search_changed()
        return False


_SEEN_PATH: list = [None]


def _search_changed() -> None:
    _SEEN_PATH[0] = None
    _read_cached.cache_clear()
    _clear_derived_caches()


def _check_search_path() -> list[Path]:
    """The search path; drops derived caches when it changed (e.g. the environment variable)."""
    dirs = search_path()
    key = tuple(str(d) for d in dirs)
    if _SEEN_PATH[0] is not None and _SEEN_PATH[0] != key:
        _clear_derived_caches()
    _SEEN_PATH[0] = key
    return dirs


def _check_name(name) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise DataError(f"table name {name!r} must be a file stem of letters, digits, '_' or "
                        "'-' (no path separators, no '..')")
    return name


def table_path(name: str) -> Path:
    """The file a table is read from (the first directory of :func:`search_path` holding it)."""
    _check_name(name)
    dirs = _check_search_path()
    for d in dirs:
        p = d / f"{name}.csv"
        if p.is_file():
            return p
    raise DataError(f"no property-data table '{name}' in {[str(d) for d in dirs]}; "
                    f"available: {list_tables()}")


def list_tables() -> list[str]:
    """Names (file stems) of every table on the search path (user and shipped)."""
    return sorted({p.stem for d in search_path() for p in d.glob("*.csv")
                   if _NAME_RE.fullmatch(p.stem)})


# ------------------------------------------------------------------ reading and validation
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


def _bound_for(column: str) -> Bound | None:
    quantity, unit = _split_unit(column)
    for b in COLUMN_BOUNDS:
        if b.applies(quantity, unit):
            return b
    return None


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")  # a UTF-8 byte-order mark is dropped
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(f"{path.name}: line {line}, character {col}: byte "
                        f"0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8") from None


def _records(path: Path, text: str):
    """(notes, header, header line, [(file line, fields)]) with real file line numbers."""
    lines = text.splitlines()
    notes, header, header_line, rows = [], None, None, []
    reader = csv.reader(lines)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(f"{path.name}: line {reader.line_num}: not valid CSV ({exc})") from None
        stripped = lines[start - 1].lstrip() if start <= len(lines) else ""
        if stripped.startswith("#"):
            if header is None:
                notes.append(stripped[1:].strip())
            continue
        if not fields or all(not f.strip() for f in fields):
            continue
        if header is None:
            header, header_line = fields, start
            continue
        if len(fields) != len(header):
            raise DataError(f"{path.name}: line {start}: {len(fields)} fields, but the header "
                            f"(line {header_line}) has {len(header)} columns")
        rows.append((start, fields))
    if header is None:
        raise DataError(f"{path.name}: no header row found")
    return notes, header, header_line, rows


def read_table(path: str | Path) -> pd.DataFrame:
    """Read and validate one property-data CSV file.

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8; a byte-order mark is accepted).

    Returns
    -------
    pandas.DataFrame
        Numeric columns as float (NaN where the cell is empty, meaning *missing*), text columns
        as str (empty string where empty). ``df.attrs`` holds ``path``, ``notes`` (the leading
        comment lines), ``first_data_line`` and ``lines`` (the file line of every row).

    Raises
    ------
    DataError
        If a rule of the table format is broken; the message names file, line and column.
    """
    path = Path(path)
    notes, header, header_line, rows = _records(path, _decode(path))
    seen = set()
    for i, col in enumerate(header):
        if not col.strip():
            raise DataError(f"{path.name}: line {header_line}: column {i + 1} has no name")
        if col in seen:
            raise DataError(f"{path.name}: line {header_line}: column '{col}' appears twice")
        seen.add(col)
    numeric_cols = []
    for col in header:
        split = _split_unit(col)
        if split is not None:
            _check_unit(path, header_line, col, split[1])
            numeric_cols.append(col)
    if numeric_cols:
        for needed in ("source", "confidence"):
            if needed not in header:
                raise DataError(
                    f"{path.name}: line {header_line}: column '{needed}' is required in a table "
                    f"with numeric columns {numeric_cols}"
                )
    row_lines = [line for line, _ in rows]
    out = pd.DataFrame([fields for _, fields in rows], columns=header, dtype=object)
    if not rows:
        out = pd.DataFrame({c: pd.Series([], dtype=object) for c in header})
    for col in header:
        if col not in numeric_cols:
            out[col] = out[col].astype(str)
    for col in numeric_cols:
        bound = _bound_for(col)
        values = []
        for line, cell in zip(row_lines, out[col]):
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
            if bound is not None and not bound.holds(v):
                raise DataError(
                    f"{path.name}: line {line}, column '{col}': {cell} is impossible for "
                    f"{bound.what}; allowed {bound.allowed()}"
                )
            values.append(v)
        out[col] = pd.Series(values, index=out.index, dtype=float)
    if numeric_cols:
        has_number = out[numeric_cols].notna().any(axis=1).to_numpy()
        for j, line in enumerate(row_lines):
            if not has_number[j]:
                continue
            if not out["source"].iloc[j].strip():
                raise DataError(
                    f"{path.name}: line {line}, column 'source': empty source on a row that "
                    "holds a number"
                )
            flag = out["confidence"].iloc[j].strip()
            if flag not in CONFIDENCE_FLAGS:
                raise DataError(
                    f"{path.name}: line {line}, column 'confidence': '{flag}' is not one of "
                    f"{CONFIDENCE_FLAGS}"
                )
    out.attrs["path"] = str(path)
    out.attrs["notes"] = notes
    out.attrs["first_data_line"] = row_lines[0] if row_lines else None
    out.attrs["lines"] = row_lines
    return out


@functools.lru_cache(maxsize=None)
def _read_cached(path: str, mtime_ns: int) -> pd.DataFrame:
    return read_table(path)


def _load_cached(name: str) -> pd.DataFrame:
    path = table_path(name)
    return _read_cached(str(path), path.stat().st_mtime_ns)
#: Tables :func:`load_table` has served in this process, in first-use order (for provenance).
_TABLES_READ: dict = {}


def tables_read() -> list[str]:
    """Names of the property-data tables :func:`load_table` has served in this process, in the
    order first used (the HTML report lists their sources)."""
    return list(_TABLES_READ)


def load_table(name: str) -> pd.DataFrame:
    """Load a validated table by name (the file stem), from a user directory (:func:`use`,
    ``REEPROC_DATA_PATH``) or ``property_data/``.

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
    mask = _with_ladder_children(df, mask)
    df = df.copy()
    if kind == "add":
        df.loc[mask, column] = df.loc[mask, column] + float(value)
    elif kind == "mul":
        df.loc[mask, column] = df.loc[mask, column] * float(value)
    else:
        raise ValueError(f"perturbation kind must be 'add' or 'mul', got {kind!r}")
    return df


def _with_ladder_children(df, mask):
    """Extend ``mask`` to every row built on a masked row (column ``ladder_parent``: the
    ``species`` of the same extractant and medium whose value the row adds a log10 beta to),
    transitively: moving a rung of a separation-factor ladder moves the rungs above it."""
    if "ladder_parent" not in df.columns or "species" not in df.columns:
        return mask
    group = [c for c in ("extractant", "medium") if c in df.columns]
    own = df[group + ["species"]].astype(str).apply(tuple, axis=1)
    parent = df[group + ["ladder_parent"]].astype(str).apply(tuple, axis=1)
    mask = mask.copy()
    while True:
        grow = parent.isin(set(own[mask])) & ~mask
        if not grow.any():
            return mask
        mask |= grow


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
            if obj is _read_cached:
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
        value = as_number(f"perturbation {key}", value)
        _apply_override(_load_cached(table), table, match, column, kind, value)  # validate
        parsed.append((table, (match, column, kind, value)))
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
