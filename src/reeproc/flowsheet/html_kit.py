"""Building blocks of the self-contained HTML report: page style, sortable tables, rendering of
any KPI value (numbers, dicts, lists, DataFrames, dataclasses) and embedded figures.

Nothing here loads from the network: the CSS and the table-sorting script are inline, matplotlib
figures are inlined as SVG (text kept as text) and plotly figures share one inline copy of
plotly.js (:func:`plotly_js`).
"""
from __future__ import annotations

import dataclasses
import html
import io
import math
import numbers

import pandas as pd

__all__ = ["CSS", "SCRIPT_HEAD", "SCRIPT_TAIL", "esc", "num_cell", "table_html", "frame_html",
           "value_html", "svg_of", "plotly_div", "plotly_js"]

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#222;
 background:#fafafa;line-height:1.4}
header{background:#24548f;color:#fff;padding:14px 28px}
header h1{margin:0;font-size:1.4em} header p{margin:4px 0 0 0;opacity:.9}
nav{background:#eaf1fb;padding:6px 28px;font-size:.9em;position:sticky;top:0;z-index:5}
nav a{margin-right:14px;color:#24548f;text-decoration:none}
main{padding:8px 28px 40px 28px;max-width:1500px}
section{background:#fff;border:1px solid #ddd;border-radius:6px;margin:16px 0;padding:10px 18px}
h2{font-size:1.15em;color:#24548f;border-bottom:1px solid #eee;padding-bottom:4px}
table{border-collapse:collapse;font-size:.82em;margin:6px 0}
th,td{border:1px solid #e2e2e2;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f6fa;position:sticky;top:0}
table.sortable th{cursor:pointer} table.sortable th:after{content:' \\2195';color:#aaa}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{color:#1e8449;font-weight:bold} .bad{color:#c0392b;font-weight:bold}
.scroll{overflow:auto;max-height:640px;border:1px solid #eee}
.figure svg{max-width:100%;height:auto}
.note{color:#555;font-size:.85em} details{margin:8px 0} summary{cursor:pointer;color:#24548f}
#js-errors:empty{display:none} #js-errors{background:#fdecea;color:#c0392b;padding:8px}
"""

# Registered before any other script: page errors are written into #js-errors (the rendering
# test reads it) instead of vanishing into the console.
SCRIPT_HEAD = """
window.__reeprocErrors=[];
window.addEventListener('error',function(e){window.__reeprocErrors.push(String(e.message));
 var d=document.getElementById('js-errors'); if(d){d.textContent+='JS error: '+e.message+'\\n';}});
"""

SCRIPT_TAIL = """
(function(){
 function val(td){var v=td.getAttribute('data-v');if(v!==null&&v!==''){return parseFloat(v);}
  return td.textContent.trim().toLowerCase();}
 document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
   var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
   var asc=th.getAttribute('data-sort')!=='asc';
   t.querySelectorAll('th').forEach(function(h){h.removeAttribute('data-sort');});
   th.setAttribute('data-sort',asc?'asc':'desc');
   rows.sort(function(a,b){var x=val(a.cells[i]),y=val(b.cells[i]);
    if(typeof x!==typeof y){return (typeof x==='number'?-1:1)*(asc?1:-1);}
    return (x<y?-1:x>y?1:0)*(asc?1:-1);});
   rows.forEach(function(r){body.appendChild(r);});});});});
 document.body.setAttribute('data-rendered','yes');
})();
"""


def esc(x) -> str:
    """HTML-escaped text of anything."""
    return html.escape(str(x), quote=True)


def _is_num(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def fmt(v) -> str:
    """Readable number: 4 significant figures in fixed or scientific notation; '–' if missing."""
    if v is None:
        return "–"
    if not _is_num(v):
        return str(v)
    v = float(v)
    if not math.isfinite(v):
        return "–"
    if v == 0:
        return "0"
    a = abs(v)
    return f"{v:.4g}" if 1e-3 <= a < 1e6 else f"{v:.4e}"


def num_cell(v) -> str:
    """A table cell; numbers right-aligned and keeping full precision in ``data-v`` (used for
    sorting and by the tests that compare the report with the CSV tables)."""
    if _is_num(v):
        fv = float(v)
        dv = repr(fv) if math.isfinite(fv) else ""
        return f'<td class="num" data-v="{dv}">{esc(fmt(fv))}</td>'
    if isinstance(v, bool):
        return f'<td class="{"ok" if v else "bad"}">{"yes" if v else "no"}</td>'
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return '<td data-v="">–</td>'
    return f"<td>{esc(v)}</td>"


def table_html(header, rows, *, sortable=True, table_id=None, index_name=None) -> str:
    """A table from a header list and row lists (cells: numbers, bools, text)."""
    ida = f' id="{esc(table_id)}"' if table_id else ""
    cls = ' class="sortable"' if sortable else ""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(num_cell(c) for c in r) + "</tr>" for r in rows)
    return f"<table{ida}{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def frame_html(df: pd.DataFrame, *, table_id=None, index=True, sortable=True) -> str:
    """A DataFrame as a sortable table (index as the first column when ``index``)."""
    if df is None or len(df) == 0:
        return '<p class="note">(empty)</p>'
    header = ([df.index.name or ""] if index else []) + [str(c) for c in df.columns]
    rows = []
    for idx, r in zip(df.index, df.itertuples(index=False)):
        cells = [_plain(v) for v in r]
        rows.append(([idx] if index else []) + cells)
    return table_html(header, rows, sortable=sortable, table_id=table_id)


def _plain(v):
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            return v.item()
        except (ValueError, AttributeError):
            return v
    return v


def _to_plain(obj):
    """Dataclasses, objects with ``to_dict``/``as_dict`` and pandas objects as plain Python."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, pd.Series):
        return obj.to_dict()
    for m in ("to_dict", "as_dict"):
        f = getattr(obj, m, None)
        if callable(f) and not isinstance(obj, pd.DataFrame):
            try:
                return f()
            except TypeError:
                pass
    return obj


def value_html(v, depth: int = 0) -> str:
    """Render any KPI value: a scalar as text, a DataFrame or a list of records as a table, a
    dict as a two-column table (nested values rendered recursively)."""
    v = _to_plain(v)
    if isinstance(v, pd.DataFrame):
        return frame_html(v)
    if isinstance(v, dict):
        if not v:
            return '<span class="note">(none)</span>'
        vals = list(v.values())
        if all(isinstance(x, dict) for x in vals) and depth < 3:
            cols = list(dict.fromkeys(k for x in vals for k in x))
            if all(not isinstance(x.get(c), (dict, list)) for x in vals for c in cols):
                return table_html([""] + cols, [[k] + [_plain(x.get(c)) for c in cols]
                                                 for k, x in v.items()])
        rows = "".join(f"<tr><th>{esc(k)}</th><td>{value_html(x, depth + 1)}</td></tr>"
                       for k, x in v.items())
        return f"<table>{rows}</table>"
    if isinstance(v, (list, tuple)):
        if not v:
            return '<span class="note">(none)</span>'
        items = [_to_plain(x) for x in v]
        if all(isinstance(x, dict) for x in items):
            cols = list(dict.fromkeys(k for x in items for k in x))
            return table_html(cols, [[_plain(x.get(c)) if not isinstance(x.get(c), (dict, list))
                                      else str(x.get(c)) for c in cols] for x in items])
        return "<ul>" + "".join(f"<li>{value_html(x, depth + 1)}</li>" for x in items) + "</ul>"
    if isinstance(v, bool):
        return f'<span class="{"ok" if v else "bad"}">{"yes" if v else "no"}</span>'
    if _is_num(v):
        return esc(fmt(v))
    return esc(v)


def svg_of(fig) -> str:
    """A matplotlib figure as inline SVG with its text kept as text (searchable, testable)."""
    import matplotlib
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    plt.close(fig)
    s = buf.getvalue()
    return s[s.index("<svg"):]


def plotly_div(fig, div_id: str) -> str:
    """A plotly figure as a div and its drawing script (plotly.js itself not included)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def plotly_js() -> str:
    """The plotly.js library shipped with the plotly package, for inlining once per page."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()
