"""Block diagram of a solved flowsheet: units, every stream that enters or leaves, products.

:func:`flowsheet_diagram` draws units left to right by processing depth with numbered streams,
a stream table under the diagram, and every inlet: external feeds, purchased reagent feeds and
the reagents units dose inside themselves (acid, NaOH, oxalic acid, air, wash water), so that no
unit appears to run without its reagents (:mod:`.diagram_layout` finds them).
"""
from __future__ import annotations

import matplotlib.pyplot as plt

from .diagram_layout import inlets, number_streams, place_units
from .style import fmt_number as _fmt
from .style import text_width as _text_w
from .style import wrap as _wrap

__all__ = ["flowsheet_diagram"]


# --------------------------------------------------------------------------- flowsheet diagram
# Geometry is laid out in inches (1 data unit = 1 inch, the axes fill the figure), so text sizes in
# points and box sizes stay in proportion whatever the flowsheet size.
_MAX_COLS = 6          # unit columns per row band before the chain wraps to the next band
_PITCH = 2.7           # column pitch [in]
_BOX_W, _BOX_H = 1.6, 0.62
_TRACK = 0.13          # spacing of parallel routing tracks [in]
_FS_UNIT, _FS_LABEL, _FS_TAG, _FS_TABLE = 8.5, 7.5, 7.0, 7.0
_COL = {"unit_fc": "#eaf1fb", "unit_ec": "#24548f", "prod_fc": "#fff4d6", "prod_ec": "#b9770e",
        "line": "#34495e", "feed": "#1e8449", "out": "#7d3c98", "tear": "#c0392b",
        "dosed": "#1f7a99"}


def flowsheet_diagram(res):
    """Block diagram of a solved flowsheet.

    Units are placed left to right by processing depth (longest path from the feeds, recycles
    ignored) and the chain wraps into row bands of at most six units; parallel branches get lanes
    within a band. Every stream carries a number; internal streams between the same two units share
    one arrow labelled with their numbers, and a table under the diagram lists each number with the
    stream name, phase and flows [L/h, kg/h, TREO kg/h] from ``res.streams``. Feeds (green) enter
    from above (or from the left into the first unit), streams leaving the flowsheet (purple) leave
    below, recycle (tear) streams are dashed red, products are gold with their oxide flow and purity
    from :meth:`FlowsheetResult.kpis`. Reagents dosed inside units (``reagent_streams`` of their
    results: acid, NaOH, oxalic acid, air, wash water) enter from above in teal, numbered r1, r2,
    ... and listed in the table with their flows.
    """
    from matplotlib.patches import FancyBboxPatch

    fs = res.flowsheet
    conn = list(fs.connections())
    tears = set(res.tears)
    units, depth, lane = place_units(res, conn, tears)

    # ------------------------------------------------------------------ stream numbers
    # reagents dosed inside units are drawn as inlets too, numbered r1, r2, ...
    inlet_of = {i.key: i for i in inlets(res)}
    dosed = [k for k, i in inlet_of.items() if i.kind == "dosed" and i.unit in units]
    num = number_streams(units, conn, dosed)

    prod_of = {p.stream: (pname, p) for pname, p in fs.products.items()}
    try:
        kp = res.kpis()
    except Exception:  # noqa: BLE001 - the diagram must draw even when costing data are missing
        kp = {}
    kprod = kp.get("products", {})
    target = kp.get("purity_target", float("nan"))

    # ------------------------------------------------------------------ bands, columns, lanes
    ncols = (max(depth.values()) + 1) if depth else 1
    nb = -(-ncols // _MAX_COLS)
    per = -(-ncols // nb)
    band = {n: depth[n] // per for n in units}
    bcol = {n: depth[n] % per for n in units}
    lanes_b = {}
    for b in range(nb):
        used = sorted({lane[n] for n in units if band[n] == b})
        lanes_b[b] = {l: i for i, l in enumerate(used)}
    blane = {n: lanes_b[band[n]][lane[n]] for n in units}
    ncol_b = {b: max([bcol[n] for n in units if band[n] == b], default=0) + 1 for b in range(nb)}

    feeds_of = {n: [s for a, s, b in conn if a is None and b == n]
                + [k for k in dosed if inlet_of[k].unit == n] for n in units}
    outs_of = {n: [s for a, s, b in conn if a == n and b is None] for n in units}
    # products first among the leaving streams (they get the top, most visible label)
    for n in units:
        outs_of[n].sort(key=lambda s: s not in prod_of)
    selfs_of = {n: [s for a, s, b in conn if a == n and b == n] for n in units}

    # internal edges, grouped by (source, sink, recycle?)
    groups: dict = {}
    for a, s, b in conn:
        if a is not None and b is not None and a != b:
            groups.setdefault((a, b, s in tears), []).append(s)

    # symbolic routes: ("adj", gap) or ("chan", ...) ; track requests
    gap_req: dict = {}     # (band, gap index) -> list of edge ids
    chan_req: dict = {}    # ("above"|"below", band) -> edge ids routed along that channel
    edges = []
    for (a, b, is_tear), ss in groups.items():
        e = {"src": a, "dst": b, "tear": is_tear, "streams": ss, "id": len(edges)}
        same = band[a] == band[b]
        if same and bcol[b] == bcol[a] + 1:
            e["kind"] = "adj"
            e["g_out"] = (band[a], bcol[a])
            gap_req.setdefault(e["g_out"], []).append(e["id"])
        else:
            e["kind"] = "route"
            e["g_out"] = (band[a], bcol[a])
            e["g_in"] = (band[b], bcol[b] - 1)
            last = len(lanes_b[band[a]]) - 1
            if same and last > 0 and blane[a] == last and blane[b] == last:
                e["chans"] = [("below", band[a])]   # recycle along the bottom lane: route under it
                e["margin"] = False
            elif same:
                e["chans"] = [("above", band[a])]
                e["margin"] = False
            elif band[b] == band[a] + 1:
                e["chans"] = [("above", band[b])]
                e["margin"] = False
            else:
                e["chans"] = [("above", band[a] + 1 if band[b] > band[a] else band[a]),
                              ("above", band[b])]
                e["margin"] = True
            gap_req.setdefault(e["g_out"], []).append(e["id"])
            gap_req.setdefault(e["g_in"], []).append(e["id"])
            for c in e["chans"]:
                chan_req.setdefault(c, []).append(e["id"])
            if e["margin"]:
                gap_req.setdefault(("margin", 0), []).append(e["id"])
        edges.append(e)

    # left-side inputs of each unit, right-side outputs
    left_in = {n: [] for n in units}
    right_out = {n: [] for n in units}
    for e in edges:
        left_in[e["dst"]].append(e)
        right_out[e["src"]].append(e)
    left_feed = {n: (feeds_of[n][:1] if not left_in[n] and bcol[n] == 0 and blane[n] == 0 else [])
                 for n in units}
    top_feeds = {n: [s for s in feeds_of[n] if s not in left_feed[n]] for n in units}

    # ------------------------------------------------------------------ label texts
    def out_label(s):
        if s in prod_of:
            pname, p = prod_of[s]
            k = kprod.get(pname, {})
            head = f"PRODUCT  {pname}  [{num[s]}]"
            if k:
                ok = "meets" if k.get("meets_target") else "BELOW"
                return (head + f"\n{_fmt(k.get('mass_kg_h', float('nan')))} kg/h oxide, purity "
                        f"{100 * k.get('purity', float('nan')):.3f} %\n({ok} "
                        f"{100 * target:.1f} % target)")
            return head
        return _wrap(f"{s} [{num[s]}]", 32)

    def feed_label(s):
        return _wrap(f"{inlet_of[s].label if s in inlet_of else s} [{num[s]}]", 20)

    def feed_color(s):
        return _COL["dosed"] if s in dosed else _COL["feed"]

    LH = _FS_LABEL * 1.4 / 72.0  # line height [in]

    def nlines(t):
        return t.count("\n") + 1

    # ------------------------------------------------------------------ vertical layout
    def top_space(n):
        h = 0.0
        if top_feeds[n]:
            h = 0.3 + sum(nlines(feed_label(s)) * LH + 0.06 for s in top_feeds[n])
        if selfs_of[n]:
            h = max(h, 0.42)
        return h

    def bottom_space(n):
        if not outs_of[n]:
            return 0.0
        return 0.3 + sum(nlines(out_label(s)) * LH + 0.07 + 0.1 * (s in prod_of) for s in outs_of[n])

    # horizontal layout
    lf_w = max([_text_w(feed_label(s), _FS_LABEL) for n in units for s in left_feed[n]], default=0)
    x0 = 0.3 + max(0.0, lf_w - 0.35) + (0.15 if ("margin", 0) in gap_req else 0)
    xcen = {n: x0 + bcol[n] * _PITCH + _PITCH / 2 for n in units}
    width = max(8.0, x0 + per * _PITCH + 0.35)

    # key under the title (wraps to more rows on narrow diagrams)
    key_items = [("feed", _COL["feed"], False),
                 ("reagent dosed in a unit (r)", _COL["dosed"], False),
                 ("internal stream", _COL["line"], False),
                 ("recycle (tear)", _COL["tear"], True), ("leaving the flowsheet", _COL["out"], False),
                 ("product", _COL["prod_ec"], False),
                 ("[n] and boxed numbers: stream numbers of the table below", "#555", None)]
    key_pos = []
    kx, ky = 0.3, -0.55
    for label, col, dashed in key_items:
        w_ = _text_w(label, 7.5) + (0.48 if dashed is not None else 0)
        if kx + w_ > width - 0.2 and kx > 0.3:
            kx, ky = 0.3, ky - 0.2
        key_pos.append((kx, ky))
        kx += w_ + 0.35

    # ------------------------------------------------------------------ vertical layout
    TITLE_H = 0.85 - ky - 0.55
    y = -TITLE_H
    ycen: dict = {}
    chan_y: dict = {}
    for b in range(nb):
        nt = len(chan_req.get(("above", b), []))
        top = y
        y -= (0.2 + nt * _TRACK) if nt else (0.1 if b == 0 else 0.35)
        chan_y[("above", b)] = [top - 0.12 - k * _TRACK for k in range(nt)]
        grid = {(blane[n], bcol[n]): n for n in units if band[n] == b}
        nl = len(lanes_b[b])
        ts0 = max([top_space(n) for (ln, c), n in grid.items() if ln == 0], default=0.0)
        y -= max(ts0, 0.1) + _BOX_H / 2
        for ln in range(nl):
            for (l_, c), n in grid.items():
                if l_ == ln:
                    ycen[n] = y
            if ln + 1 < nl:
                # room between two lanes, column by column: leaving labels of the upper unit
                # plus feed labels of the lower one
                need = max((bottom_space(grid[(ln, c)]) if (ln, c) in grid else 0.0)
                           + (top_space(grid[(ln + 1, c)]) if (ln + 1, c) in grid else 0.0)
                           for c in range(ncol_b[b]))
                y -= _BOX_H + max(need, 0.55)
        bs = max([bottom_space(n) for (ln, c), n in grid.items() if ln == nl - 1], default=0.0)
        y -= _BOX_H / 2 + max(bs, 0.3)
        nt = len(chan_req.get(("below", b), []))
        if nt:
            chan_y[("below", b)] = [y - 0.05 - k * _TRACK for k in range(nt)]
            y -= 0.1 + nt * _TRACK
    diagram_bottom = y

    def box_l(b, c):
        return x0 + c * _PITCH + (_PITCH - _BOX_W) / 2

    def box_r(b, c):
        return x0 + c * _PITCH + (_PITCH + _BOX_W) / 2

    gap_x: dict = {}
    for key, ids in gap_req.items():
        if key == ("margin", 0):
            for k, i in enumerate(ids):
                gap_x[(key, i)] = 0.12 + k * _TRACK
            continue
        b, g = key
        if g < 0:
            for k, i in enumerate(ids):
                gap_x[(key, i)] = box_l(b, 0) - 0.3 - k * _TRACK
        elif g >= ncol_b[b] - 1:
            for k, i in enumerate(ids):
                gap_x[(key, i)] = box_r(b, g) + 0.3 + k * _TRACK
        else:
            lo, hi = box_r(b, g) + 0.28, box_l(b, g + 1) - 0.28
            n_ = len(ids)
            step = min(_TRACK * 1.6, (hi - lo) / max(n_ - 1, 1))
            mid = (lo + hi) / 2
            for k, i in enumerate(ids):
                gap_x[(key, i)] = mid + (k - (n_ - 1) / 2) * step
    chan_of = {}
    for key, ids in chan_req.items():
        for k, i in enumerate(ids):
            chan_of[(key, i)] = chan_y[key][k]

    # ports on the left/right sides: each as near the height of its other end as the box allows,
    # kept apart by a minimum spacing
    def far_y(e, end):
        if e["kind"] == "adj":
            return ycen[e["dst"] if end == "src" else e["src"]]
        return -1e9 if e["chans"][0][0] == "below" else 1e9

    def spread(items, lo, hi, gap=0.13):
        """items: (key, wanted y); returns key -> y within [lo, hi], order kept, >= gap apart."""
        items = sorted(items, key=lambda t: -t[1])
        ys = [min(hi, max(lo, w)) for _, w in items]
        for k in range(1, len(ys)):
            ys[k] = min(ys[k], ys[k - 1] - gap)
        if ys and ys[-1] < lo:      # pushed out at the bottom: shift up as a block
            ys = [v + (lo - ys[-1]) for v in ys]
            for k in range(len(ys) - 2, -1, -1):
                ys[k] = max(ys[k], ys[k + 1] + gap)
        return {k_: v for (k_, _), v in zip(items, ys)}

    port_l: dict = {}
    port_r: dict = {}
    for n in units:
        items = [(("feed", None), ycen[n])] * len(left_feed[n]) + \
            [(("e", e["id"]), far_y(e, "dst")) for e in left_in[n]]
        hi_ = ycen[n] + (0.02 if selfs_of[n] else _BOX_H * 0.32)
        for k_, v in spread(items, ycen[n] - _BOX_H * 0.32, hi_).items():
            port_l[(n, k_)] = v
        items = [(e["id"], far_y(e, "src")) for e in right_out[n]]
        for k_, v in spread(items, ycen[n] - _BOX_H * 0.32, ycen[n] + _BOX_H * 0.32).items():
            port_r[(n, k_)] = v

    # ------------------------------------------------------------------ table geometry
    rows = list(num)  # numbered in insertion order
    tab_fs = _FS_TABLE
    RH = tab_fs * 1.35 / 72.0
    name_w = max(_text_w(s, tab_fs) for s in rows) if rows else 1.0
    col_w = [0.32, name_w + 0.15, 0.62, 0.62, 0.62, 0.72]
    block_w = sum(col_w) + 0.35
    nblk = max(1, min(4, int((width - 0.3) // block_w), -(-len(rows) // 8)))
    nrow = -(-len(rows) // nblk) if rows else 0
    table_top = diagram_bottom - 0.35
    height = -(table_top - 0.3 - (nrow + 1) * RH) + 0.1
    ybase = -height  # shift: data y runs from -height (bottom) to 0 (top)

    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(ybase, 0)
    ax.axis("off")

    def poly(pts, color, dashed, lw=1.2, z=2):
        xs, ys = zip(*pts)
        ax.plot(xs, ys, color=color, lw=lw, ls=(0, (4, 2.5)) if dashed else "-", zorder=z,
                solid_capstyle="butt")
        ax.annotate("", xy=pts[-1], xytext=pts[-2], zorder=z + 0.5,
                    arrowprops=dict(arrowstyle="-|>,head_length=0.5,head_width=0.22", color=color,
                                    lw=lw, shrinkA=0, shrinkB=0))

    def tag(x, y_, text, color):
        ax.text(x, y_, text, fontsize=_FS_TAG, ha="center", va="center", color=color, zorder=6,
                bbox=dict(boxstyle="round,pad=0.18", fc="white", ec=color, lw=0.7))

    # ------------------------------------------------------------------ units
    prod_units = {a for a, s, b in conn if s in prod_of and a is not None}
    for n in units:
        x, yy = xcen[n], ycen[n]
        isp = n in prod_units
        ax.add_patch(FancyBboxPatch((x - _BOX_W / 2, yy - _BOX_H / 2), _BOX_W, _BOX_H,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    fc=_COL["prod_fc"] if isp else _COL["unit_fc"],
                                    ec=_COL["prod_ec"] if isp else _COL["unit_ec"],
                                    lw=2.0 if isp else 1.1, zorder=4))
        label = n if _text_w(n, _FS_UNIT) < _BOX_W - 0.12 else _wrap(n, 16)
        ax.text(x, yy, label, ha="center", va="center", fontsize=_FS_UNIT, zorder=5,
                fontweight="bold" if isp else "normal", linespacing=1.1)

    # ------------------------------------------------------------------ internal streams
    for e in edges:
        a, b = e["src"], e["dst"]
        color = _COL["tear"] if e["tear"] else _COL["line"]
        xs_ = xcen[a] + _BOX_W / 2
        ys_ = port_r[(a, e["id"])]
        xd = xcen[b] - _BOX_W / 2
        yd = port_l[(b, ("e", e["id"]))]
        if e["kind"] == "adj":
            gx = gap_x[(e["g_out"], e["id"])]
            pts = [(xs_, ys_), (xd, ys_)] if abs(ys_ - yd) < 1e-9 else \
                [(xs_, ys_), (gx, ys_), (gx, yd), (xd, yd)]
        else:
            gxo = gap_x[(e["g_out"], e["id"])]
            gxi = gap_x[(e["g_in"], e["id"])]
            pts = [(xs_, ys_), (gxo, ys_)]
            if not e["margin"]:
                cy = chan_of[(e["chans"][0], e["id"])]
                pts += [(gxo, cy), (gxi, cy)]
            else:
                c1, c2 = (chan_of[(c, e["id"])] for c in e["chans"])
                mx = gap_x[(("margin", 0), e["id"])]
                pts += [(gxo, c1), (mx, c1), (mx, c2), (gxi, c2)]
            pts += [(gxi, yd), (xd, yd)]
        poly(pts, color, e["tear"])
        # number tag on the longest segment
        segs = list(zip(pts[:-1], pts[1:]))
        (p, q) = max(segs, key=lambda pq: abs(pq[0][0] - pq[1][0]) + abs(pq[0][1] - pq[1][1]))
        tag((p[0] + q[0]) / 2, (p[1] + q[1]) / 2, ", ".join(str(num[s]) for s in e["streams"]),
            color)

    # self recycles (e.g. the loaded/stripped organic of an SX cascade): loop over the top-left
    for n in units:
        for k, s in enumerate(selfs_of[n]):
            xl, yt = xcen[n] - _BOX_W / 2, ycen[n] + _BOX_H / 2
            h = 0.2 + 0.08 * k
            pts = [(xl + 0.18, yt), (xl + 0.18, yt + h), (xl - 0.16 - 0.06 * k, yt + h),
                   (xl - 0.16 - 0.06 * k, ycen[n] + _BOX_H * 0.18),
                   (xl, ycen[n] + _BOX_H * 0.18)]
            poly(pts, _COL["tear"], True)
            tag(xl + 0.01, yt + h, str(num[s]), _COL["tear"])

    # ------------------------------------------------------------------ feeds
    for n in units:
        for s in left_feed[n]:
            yy = port_l[(n, ("feed", None))]
            xl = xcen[n] - _BOX_W / 2
            poly([(xl - max(lf_w, 0.6) - 0.05, yy), (xl, yy)], feed_color(s), False, lw=1.4)
            ax.text(xl - 0.08, yy + 0.06, feed_label(s), ha="right", va="bottom",
                    fontsize=_FS_LABEL, color=feed_color(s), zorder=6)
        tf = top_feeds[n]
        if not tf:
            continue
        yt = ycen[n] + _BOX_H / 2
        # nested elbows: the i-th feed comes in one level higher and one track further right
        xr = xcen[n] + _BOX_W / 2 - 0.14
        lvl = yt + 0.3
        for i, s in enumerate(tf):
            t = feed_label(s)
            h = nlines(t) * LH
            ly = lvl + h / 2
            xp = xr - (len(tf) - 1 - i) * _TRACK
            xt = xr - (len(tf) - 1) * _TRACK - 0.12
            poly([(xt, ly), (xp, ly), (xp, yt)], feed_color(s), False, lw=1.1)
            ax.text(xt - 0.03, ly, t, ha="right", va="center", fontsize=_FS_LABEL,
                    color=feed_color(s), zorder=6, linespacing=1.1,
                    bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none"))
            lvl += h + 0.06

    # ------------------------------------------------------------------ streams leaving
    for n in units:
        os_ = outs_of[n]
        if not os_:
            continue
        yb = ycen[n] - _BOX_H / 2
        xl = xcen[n] - _BOX_W / 2 + 0.16
        nout = len(os_)
        xt = xl + (nout - 1) * _TRACK + 0.14
        lvl = yb - 0.22
        for i, s in enumerate(os_):
            t = out_label(s)
            h = nlines(t) * LH
            ly = lvl - h / 2 if s not in prod_of else lvl - LH / 2
            xp = xl + (nout - 1 - i) * _TRACK
            isp = s in prod_of
            col = _COL["prod_ec"] if isp else _COL["out"]
            poly([(xp, yb), (xp, ly), (xt, ly)], col, False, lw=1.8 if isp else 1.1)
            ax.text(xt + 0.04, ly if not isp else ly + LH / 2, t, ha="left",
                    va="center" if not isp else "top", fontsize=_FS_LABEL, color=col,
                    zorder=6, linespacing=1.1, fontweight="bold" if isp else "normal",
                    bbox=dict(boxstyle="round,pad=0.2", fc=_COL["prod_fc"], ec=col, lw=1.0)
                    if isp else dict(boxstyle="square,pad=0.05", fc="white", ec="none"))
            lvl -= h + 0.07 + (0.08 if isp else 0)

    # ------------------------------------------------------------------ title and key
    status = "converged" if res.converged else "NOT converged"
    rec = (f"{len(res.tears)} recycle (tear) stream{'s' if len(res.tears) != 1 else ''}, {status}"
           if res.tears else "no recycles")
    ax.text(0.3, -0.22, fs.name, fontsize=11, fontweight="bold", va="center")
    ax.text(0.3 + _text_w(fs.name, 11) * 1.05 + 0.3, -0.22, f"({len(units)} units, {rec})",
            fontsize=8.5, va="center", color="#555")
    for (label, col, dashed), (kx, ky) in zip(key_items, key_pos):
        if dashed is not None:
            ax.plot([kx, kx + 0.4], [ky, ky], color=col, lw=1.5, ls=(0, (4, 2.5)) if dashed else "-")
            kx += 0.48
        ax.text(kx, ky, label, fontsize=7.5, va="center", color=col)

    # ------------------------------------------------------------------ stream table
    ax.plot([0.3, width - 0.3], [table_top + 0.12] * 2, color="#bbb", lw=0.8)
    heads = ["#", "stream", "phase", "L/h", "kg/h", "TREO kg/h"]
    src_of = {s: a for a, s, b in conn}
    sink_of = {s: b for a, s, b in conn}
    for bi in range(nblk):
        bx = 0.3 + bi * block_w
        cx = [bx + sum(col_w[:j]) for j in range(len(col_w))]
        ty = table_top - 0.1
        for j, hd in enumerate(heads):
            right = j >= 3
            ax.text(cx[j] + (col_w[j] - 0.08 if right else 0), ty, hd, fontsize=tab_fs,
                    fontweight="bold", ha="right" if right else "left", va="center")
        for r, s in enumerate(rows[bi * nrow:(bi + 1) * nrow]):
            yy = ty - (r + 1) * RH
            st = inlet_of[s].stream if s in dosed else res.streams.get(s)
            if s in dosed:
                col = _COL["dosed"]
            elif s in prod_of:
                col = _COL["prod_ec"]
            elif s in tears:
                col = _COL["tear"]
            elif src_of.get(s) is None:
                col = _COL["feed"]
            elif sink_of.get(s) is None:
                col = _COL["out"]
            else:
                col = "#222"
            if st is None:
                vals = ["–"] * 4
            else:
                try:
                    treo = st.treo_kg_h
                except Exception:  # noqa: BLE001 - pseudo-components have no oxide
                    treo = None
                try:
                    kg = st.total_kg_h
                except Exception:  # noqa: BLE001
                    kg = None
                vals = [st.phase, _fmt(st.flow_L_h), _fmt(kg), _fmt(treo)]
            cells = [str(num[s]), s] + vals
            for j, v in enumerate(cells):
                right = j >= 3
                ax.text(cx[j] + (col_w[j] - 0.08 if right else 0), yy, v, fontsize=tab_fs,
                        ha="right" if right else "left", va="center",
                        color=col if j < 2 else "#222",
                        fontweight="bold" if (j == 0 or s in prod_of) else "normal")

    # widen the canvas to whatever text runs past the right edge (1 data unit = 1 inch)
    renderer = fig.canvas.get_renderer()
    right = max((t.get_window_extent(renderer).x1 / fig.dpi for t in ax.texts), default=width)
    if right > width - 0.3:
        width = right + 0.35
        fig.set_size_inches(width, height)
        ax.set_xlim(0, width)
    return fig


