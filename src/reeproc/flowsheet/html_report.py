"""Self-contained HTML report of a solved flowsheet: one file to send to a colleague.

Sections (each a ``<section id=...>``): ``summary`` (status, products, recoveries, reagents,
headline cost and CO2, parameters), ``specs`` (specifications, when the result carries any),
``diagram`` (the block diagram with every feed, dosed reagent and product), ``sankey`` (the
interactive element Sankey and its table), ``streams`` (the stream table with units, sortable),
``profiles`` (SX stage profiles), ``economics`` (cost and CO2 breakdowns, energy), ``balance``
(the element balance), ``gaps`` (data gaps and notes) and ``sources`` (every property-data table
read, with the rows used where they can be traced and the source and confidence of each row).

The file opens offline: CSS, scripts and plotly.js are inline and matplotlib figures are inline
SVG. Numbers in tables keep their full precision in ``data-v`` attributes, the same values as the
CSV files of :meth:`FlowsheetResult.export`.
"""
from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import pandas as pd

from .html_kit import (CSS, SCRIPT_HEAD, SCRIPT_TAIL, esc, fmt, frame_html, plotly_div,
                       plotly_js, svg_of, table_html, value_html)

__all__ = ["write_html", "html_report", "SECTIONS"]

#: Section ids and titles, in page order.
SECTIONS = {"summary": "Summary", "specs": "Specifications", "diagram": "Flowsheet diagram",
            "sankey": "Element flows (Sankey)", "streams": "Stream table",
            "profiles": "SX stage profiles", "economics": "Economics and CO2",
            "balance": "Element balance", "gaps": "Data gaps and notes",
            "sources": "Property-data sources"}


def write_html(res, path, **options) -> Path:
    """Write the report of a solved flowsheet to ``path``; returns the path.

    Parameters
    ----------
    res : FlowsheetResult
    path : str or Path
        Output file (.html).
    **options
        Passed to :func:`html_report`.
    """
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(html_report(res, **options), encoding="utf-8")
    return p


def html_report(res, *, title: str | None = None) -> str:
    """The report of a solved flowsheet as one HTML document (see the module docstring)."""
    from .. import __version__

    kp = res.kpis()
    used = _tables_read()  # before the report itself reads tables for provenance
    body = {
        "summary": _summary(res, kp),
        "specs": _specs(res, kp),
        "diagram": _diagram(res),
        "sankey": _sankey(res),
        "streams": _streams(res),
        "profiles": _profiles(res),
        "economics": _economics(res, kp),
        "balance": _balance(res),
        "gaps": _gaps(res, kp),
        "sources": _sources(res, kp, used),
    }
    title = title or f"reeproc report: {res.flowsheet.name}"
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#{k}">{esc(v)}</a>' for k, v in SECTIONS.items())
    sections = "".join(f'<section id="{k}"><h2>{esc(SECTIONS[k])}</h2>{body[k]}</section>'
                       for k in SECTIONS)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>{CSS}</style><script>{SCRIPT_HEAD}</script>"
        f"<script>{plotly_js()}</script></head><body>"
        f"<header><h1>{esc(title)}</h1><p>reeproc {esc(__version__)}, written {when}</p></header>"
        f'<nav>{nav}</nav><main><div id="js-errors"></div>{sections}</main>'
        f"<script>{SCRIPT_TAIL}</script></body></html>\n")


# ---------------------------------------------------------------------------- sections
def _status(ok: bool, yes: str, no: str) -> str:
    return f'<span class="{"ok" if ok else "bad"}">{esc(yes if ok else no)}</span>'


def _summary(res, kp) -> str:
    rec = kp.get("recycle", {})
    err = kp.get("mass_balance", {}).get("max_relative_error", float("nan"))
    head = (f"<p>Recycle: {esc(rec.get('method', '–'))}, {rec.get('iterations', '–')} iterations, "
            f"residual {fmt(rec.get('residual'))}, tears {esc(', '.join(rec.get('tears', [])) or 'none')}"
            f" &rarr; status {_status(kp.get('status') == 'solved', 'SOLVED', 'FAILED: ' + str(kp.get('status')))}. "
            f"Element balance: largest relative error {fmt(err)}; charge balance: relative error "
            f"{fmt(kp.get('charge_balance', {}).get('relative_error'))}. "
            f"Solve time {fmt(kp.get('solve_time_s'))} s.</p>")
    target = kp.get("purity_target")
    prods = res.products()
    out = [head, f"<h3>Products (purity on the oxide basis; target {fmt(100 * target)} %)</h3>"
           if target is not None else "<h3>Products</h3>",
           frame_html(prods, table_id="products-table")]
    if kp.get("recovery"):
        out += ["<h3>Recovery into the products [%]</h3>",
                table_html(["element", "recovery [%]"],
                           [[e, 100 * v] for e, v in kp["recovery"].items()])]
    if kp.get("reagents_kg_per_kg_oxide"):
        out += ["<h3>Reagents [kg per kg product oxide]</h3>",
                table_html(["reagent", "kg/kg oxide"],
                           [[k, v] for k, v in kp["reagents_kg_per_kg_oxide"].items()])]
    head_figs = [(k, v) for k, v in kp.items()
                 if k in ("cost_per_kg_oxide", "co2_kg_per_kg_oxide") and v is not None]
    if head_figs:
        names = {"cost_per_kg_oxide": "operating cost [USD/kg oxide]",
                 "co2_kg_per_kg_oxide": "CO2 [kg/kg oxide]"}
        out += ["<h3>Headline figures</h3>",
                table_html(["figure", "value"], [[names[k], v] for k, v in head_figs],
                           sortable=False)]
        if kp.get("cost_basis"):
            out.append(f'<p class="note">Basis: {esc(kp["cost_basis"])}</p>')
    if kp.get("parameters"):
        out += ["<details><summary>Parameters of this run</summary>",
                table_html(["parameter", "value"], [[k, v] for k, v in kp["parameters"].items()]),
                "</details>"]
    return "".join(out)


def _specs(res, kp) -> str:
    specs = kp.get("specs")
    if specs is None:
        specs = getattr(res, "specs", None)
        if callable(specs):
            specs = specs()
    if specs is None or (hasattr(specs, "__len__") and len(specs) == 0):
        return '<p class="note">No specifications are attached to this flowsheet.</p>'
    return value_html(specs)


def _diagram(res) -> str:
    from .plots import flowsheet_diagram

    return (f'<div class="figure">{svg_of(flowsheet_diagram(res))}</div>'
            '<p class="note">Green: feeds; blue-teal: reagents dosed inside units (r1, r2, ...); '
            "purple: streams leaving; gold: products; dashed red: recycles.</p>")


def _sankey(res) -> str:
    from .plots.sankey import element_flows, sankey_figure

    flows = element_flows(res)
    if flows.empty:
        return '<p class="note">No element flows with a known molar mass to draw.</p>'
    fig = sankey_figure(res, flows=flows)
    return (plotly_div(fig, "sankey-figure")
            + '<p class="note">Pick the element with the buttons; hover a link for its stream '
              "and flow. Links that leave and re-enter the same unit (SX organic loops) are "
              "inside that unit and not drawn.</p>"
            "<details><summary>The flows behind the Sankey [kg/h]</summary>"
            + frame_html(flows, table_id="flows-table", index=False) + "</details>")


def _streams(res) -> str:
    full = res.stream_table().T
    full.index.name = "stream"
    compact = []
    for name, s in res.streams.items():
        row = [name, s.phase, s.T_C, s.flow_L_h if s.phase in ("aqueous", "organic") else None]
        for attr in ("total_kg_h", "treo_kg_h"):
            try:
                row.append(getattr(s, attr))
            except LookupError:  # pseudo-components: no molar mass
                row.append(None)
        compact.append(row)
    return ("<p class=\"note\">Click a column header to sort. The full table (every species "
            "[mol/h] and [mol/L], oxide basis [kg/h]) is the same as streams.csv of "
            "<code>reeproc run --out</code>, one row per stream.</p>"
            + table_html(["stream", "phase", "T [°C]", "flow [L/h]", "mass [kg/h]", "TREO [kg/h]"],
                         compact, table_id="streams-compact")
            + "<details><summary>Full stream table</summary><div class=\"scroll\">"
            + frame_html(full, table_id="streams-full") + "</div></details>")


def _profiles(res) -> str:
    from .plots.profiles import sx_profiles

    fig = sx_profiles(res)
    if fig is None:
        return '<p class="note">This flowsheet has no SX cascade.</p>'
    return f'<div class="figure">{svg_of(fig)}</div>'


def _economics(res, kp) -> str:
    out = []
    for key, label in (("economics", "Economics"), ("co2", "CO2")):
        if key in kp:
            out += [f"<h3>{label}</h3>", value_html(kp[key])]
    try:
        from ..economics.summary import tables

        econ = res.economics()
        tabs = tables(econ)
    except Exception as exc:  # noqa: BLE001 - a report shows what failed instead of failing
        econ, tabs = None, {}
        out.append(f'<p class="bad">economics() failed: {esc(exc)}</p>')
    if econ is not None:
        out += [_bar_chart(econ.costs, "USD/kg oxide", "Cost by item [USD/kg oxide]",
                           "economics-figure"),
                _bar_chart(econ.co2, "kg CO2-eq/kg oxide", "CO2 by item [kg CO2-eq/kg oxide]",
                           "co2-figure")]
    for fname, df in tabs.items():
        if len(df):
            out += [f"<h3>{esc(fname)}</h3>",
                    frame_html(df, table_id=re.sub(r"[^a-z0-9]+", "-", fname.lower()))]
    en = res.energy_kW()
    if len(en):
        out += ["<h3>Energy duty by unit [kW]</h3>", frame_html(en, table_id="energy-table")]
    return "".join(out) or '<p class="note">No economics available.</p>'


def _bar_chart(df: pd.DataFrame, column: str, title: str, div_id: str) -> str:
    """One bar per item of a cost or CO2 table; items without a value have no bar."""
    import plotly.graph_objects as go

    if "item" not in df.columns or column not in df.columns:
        return ""
    d = df[["item", column]].copy()
    d[column] = pd.to_numeric(d[column], errors="coerce")
    d = d.dropna()
    if not len(d):
        return ""
    fig = go.Figure(go.Bar(x=d["item"].tolist(), y=d[column].tolist(), showlegend=False))
    fig.update_layout(title=title, height=380, margin=dict(l=10, r=10, t=40, b=10))
    fig.update_yaxes(title_text=column)
    return plotly_div(fig, div_id) + (
        '<p class="note">Items whose price or CO2 factor is missing have no bar (listed under '
        "data gaps); they are not counted as zero.</p>")


def _balance(res) -> str:
    a = res.audit().copy()
    a.index.name = "element"
    return ("<p class=\"note\">Feeds + reagents dosed inside units = streams leaving "
            "(element_balance.csv).</p>" + frame_html(a, table_id="balance-table"))


def _gaps(res, kp) -> str:
    items = [("KPIs", m) for m in kp.get("missing_data", [])]
    for k, v in kp.items():
        if k != "missing_data" and re.search(r"missing|gap", k) and v:
            items += [(k, x) for x in (v if isinstance(v, (list, tuple)) else [v])]
    items += [("flowsheet note", n) for n in kp.get("notes", [])]
    for unit, r in res.unit_results.items():
        items += [(unit, n) for n in (getattr(r, "notes", None) or [])]
    if not items:
        return '<p class="note">No data gaps reported.</p>'
    return table_html(["where", "gap or note"], items, table_id="gaps-table")


def _tables_read() -> list:
    from .. import data

    f = getattr(data, "tables_read", None)
    return f() if callable(f) else []


_KEY_COLS = ("reagent", "feed", "element", "symbol", "species", "extractant", "quantity", "name",
             "unit", "parameter", "solid", "phase")


def _traced_rows(name: str, df: pd.DataFrame, res, kp) -> pd.DataFrame | None:
    """Rows of a table the run can be shown to have used (None: not traceable)."""
    if name == "reagents" and "reagent" in df.columns:
        used = set(res.reagents_kg_h())
        try:
            used |= set(res.economics().co2["item"])
        except Exception:  # noqa: BLE001 - the sources list shows what it can trace
            pass
        used |= {"natural gas"} if any("natural gas" in str(u) for u in used) else set()
        return df[df["reagent"].isin(used)]
    if name == "feeds" and "feed" in df.columns:
        grades = set()
        for n in kp.get("notes", []):
            grades |= set(re.findall(r"feed '([^']+)'", n)) | set(re.findall(r"^(\w+) composition", n))
        return df[df["feed"].isin(grades)] if grades else None
    if name == "elements" and "symbol" in df.columns:
        return df[df["symbol"].isin(set(res.audit().index))]
    sx = _sx_models(res)
    if name == "sx_kex" and {"extractant", "species"} <= set(df.columns) and sx:
        mask = pd.Series(False, index=df.index)
        for extractant, species in sx:
            mask |= (df["extractant"] == extractant) & df["species"].isin(species)
        return df[mask]
    if name == "sx_extractants" and "extractant" in df.columns and sx:
        return df[df["extractant"].isin({e for e, _ in sx})]
    return None


def _sx_models(res) -> list:
    """(extractant name, species) of every SX cascade model in the flowsheet."""
    out = []
    for unit in res.flowsheet.units.values():
        model = getattr(getattr(unit, "cascade", None), "model", None)
        ext = getattr(model, "extractant", None)
        name = getattr(ext, "name", ext)
        if isinstance(name, str):
            out.append((name, set(getattr(model, "species", ()) or ())))
    return out


def _sources(res, kp, used) -> str:
    from ..data import load_table, table_notes

    if not used:
        return ('<p class="bad">The property-data tables read could not be traced in this '
                "process (reeproc.data.tables_read unavailable).</p>")
    out = ['<p class="note">Every property-data table read in this Python process (name, what it '
           "holds, rows, confidence flags), each row's source and confidence, and the rows this "
           "run used where they can be traced. Values used: see each table's rows.</p>"]
    summary_rows = []
    blocks = []
    for name in used:
        df = load_table(name)
        notes = table_notes(name)
        conf = (df["confidence"].replace("", "(no number)").value_counts().to_dict()
                if "confidence" in df.columns else {})
        summary_rows.append([name, notes[0] if notes else "", len(df),
                             ", ".join(f"{k} {v}" for k, v in conf.items())])
        keys = [c for c in df.columns if c in _KEY_COLS or "__" in c]
        show = keys + [c for c in ("source", "confidence") if c in df.columns]
        traced = _traced_rows(name, df, res, kp)
        part = [f'<details id="src-{esc(name)}"><summary>{esc(name)}.csv: {len(df)} rows</summary>',
                "".join(f'<p class="note">{esc(n)}</p>' for n in notes)]
        if traced is not None:
            part += [f"<h4>Rows used by this run ({len(traced)})</h4>",
                     frame_html(traced[show], index=False)]
        part += ["<h4>All rows with their source and confidence</h4>",
                 '<div class="scroll">', frame_html(df[show], index=False), "</div></details>"]
        blocks.append("".join(part))
    out.append(table_html(["table", "description", "rows", "confidence flags"], summary_rows,
                          table_id="sources-table"))
    out += blocks
    return "".join(out)
