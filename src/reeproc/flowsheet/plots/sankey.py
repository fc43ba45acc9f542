"""Element Sankey: the flow of each element [kg/h] from the inlets through the units to the
streams leaving the flowsheet, as an interactive plotly figure (one element at a time).

:func:`element_flows` is the table behind it: one row per (element, stream) with its source and
sink node; the inflows and outflows of each element equal the flowsheet's element balance
(:meth:`FlowsheetResult.audit`). plotly is imported only when a figure is built.
"""
from __future__ import annotations

import pandas as pd

from .diagram_layout import inlets
from .distribution import default_elements
from .style import species_color

__all__ = ["element_flows", "sankey_figure"]

_NODE_COLOR = {"unit": "#24548f", "feed": "#1e8449", "reagent feed": "#1e8449",
               "dosed": "#1f7a99", "leaving": "#7d3c98", "product": "#b9770e"}


def _element_kg_h(stream) -> dict:
    try:
        return stream.element_kg_h()
    except LookupError:  # pseudo-components have no molar mass: nothing to draw in kg
        return {}


def element_flows(res, elements=None) -> pd.DataFrame:
    """Flow of each element through every stream of a solved flowsheet.

    Returns
    -------
    pandas.DataFrame
        Columns ``element``, ``stream``, ``kind`` ('feed', 'reagent feed', 'dosed', 'internal',
        'recycle', 'leaving', 'product'), ``source`` and ``target`` (node names: unit names,
        'in: <inlet>' and 'out: <stream>') and ``flow [kg/h]``. Streams that leave a unit and
        re-enter the same unit (an SX organic loop) are internal to it and not listed.
    """
    elements = list(elements) if elements is not None else default_elements(res)
    fs = res.flowsheet
    conn = list(fs.connections())
    products = {p.stream for p in fs.products.values()}
    tears = set(res.tears)
    rows = []

    def add(stream, name, kind, src, dst):
        kg = _element_kg_h(stream)
        for e in elements:
            v = float(kg.get(e, 0.0))
            if v > 0:
                rows.append({"element": e, "stream": name, "kind": kind, "source": src,
                             "target": dst, "flow [kg/h]": v})

    for i in inlets(res):
        if i.stream is not None:
            add(i.stream, i.key, i.kind, f"in: {i.label}", i.unit)
    for a, s, b in conn:
        if a is None or a == b:
            continue
        st = res.streams[s]
        if b is None:
            add(st, s, "product" if s in products else "leaving", a, f"out: {s}")
        else:
            add(st, s, "recycle" if s in tears else "internal", a, b)
    return pd.DataFrame(rows, columns=["element", "stream", "kind", "source", "target",
                                       "flow [kg/h]"])


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[k:k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def sankey_figure(res, elements=None, flows: pd.DataFrame | None = None):
    """Interactive Sankey of each element's flows [kg/h]; a menu picks the element.

    Node colours: units blue, feeds green, reagents dosed in units teal, products gold, other
    leaving streams purple; links take the element's colour (the same in every reeproc figure).
    Recycle links are drawn as loops. Returns a ``plotly.graph_objects.Figure``.
    """
    import plotly.graph_objects as go

    df = element_flows(res, elements) if flows is None else flows
    els = list(dict.fromkeys(df["element"]))
    units = list(res.order) + [u for u in res.flowsheet.units if u not in res.order]
    kind_of = {u: "unit" for u in units}
    for r in df.itertuples(index=False):
        if r.source.startswith("in: "):
            kind_of.setdefault(r.source, r.kind)
        if r.target.startswith("out: "):
            kind_of.setdefault(r.target, "product" if r.kind == "product" else "leaving")
    nodes = list(kind_of)
    idx = {n: i for i, n in enumerate(nodes)}
    fig = go.Figure()
    for k, e in enumerate(els):
        d = df[df["element"] == e]
        fig.add_trace(go.Sankey(
            name=e, visible=(k == 0), arrangement="snap", valueformat=".4g", valuesuffix=" kg/h",
            node=dict(label=nodes, pad=12, thickness=14,
                      color=[_NODE_COLOR[kind_of[n]] for n in nodes]),
            link=dict(source=[idx[s] for s in d["source"]], target=[idx[t] for t in d["target"]],
                      value=d["flow [kg/h]"].tolist(), customdata=d["stream"].tolist(),
                      hovertemplate="%{customdata}: %{value}<extra></extra>",
                      color=[_rgba(species_color(e), 0.55 if kd != "recycle" else 0.3)
                             for kd in d["kind"]])))
    buttons = [dict(label=e, method="update",
                    args=[{"visible": [j == k for j in range(len(els))]},
                          {"annotations[0].text": f"{e} flows [kg/h]"}])
               for k, e in enumerate(els)]
    fig.update_layout(
        updatemenus=[dict(buttons=buttons, direction="right", type="buttons", x=0, y=1.0,
                          xanchor="left", yanchor="bottom", showactive=True, pad=dict(b=6))]
        if els else [],
        annotations=[dict(text=f"{els[0]} flows [kg/h]" if els else "no element flows",
                          x=1, y=1.0, xref="paper", yref="paper", xanchor="right",
                          yanchor="bottom", showarrow=False, font=dict(size=14))],
        height=560, margin=dict(l=10, r=10, t=60, b=10), font=dict(size=11))
    return fig
