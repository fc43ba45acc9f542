"""Topology of a solved flowsheet for drawing: unit placement, stream numbers and every inlet.

:func:`place_units` puts each unit in a column (processing depth) and a lane; :func:`inlets`
lists everything that enters the flowsheet, so that the diagram shows it: external feeds,
purchased reagent feeds (``Flowsheet.reagent_feeds``) and the reagents each unit doses inside
itself (``reagent_streams`` of its result: acid to the leach, NaOH, oxalic acid, air, wash water).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Inlet", "inlets", "number_streams", "place_units"]


@dataclass(frozen=True)
class Inlet:
    """One stream entering the flowsheet.

    Attributes
    ----------
    key : str
        Unique key: the stream name for feeds, ``'<stream> -> <unit>'`` for dosed reagents.
    label : str
        Text drawn at the arrow.
    unit : str
        Unit it enters.
    kind : str
        ``'feed'``, ``'reagent feed'`` (a feed costed as a reagent) or ``'dosed'`` (dosed inside a
        unit, not a flowsheet stream).
    stream : object
        The :class:`~reeproc.stream.Stream`.
    reagent : str or None
        Reagent name in ``property_data/reagents.csv`` where known.
    """

    key: str
    label: str
    unit: str
    kind: str
    stream: object
    reagent: str | None = None


def _reagent_feeds(fs) -> dict:
    acc = getattr(fs, "reagent_feeds", None)
    if isinstance(acc, dict):
        return acc
    return dict(getattr(fs, "_reagent_feeds", {}))


def inlets(res) -> list:
    """Every stream entering a solved flowsheet, feeds first, in unit order."""
    fs = res.flowsheet
    conn = list(fs.connections())
    rfeeds = _reagent_feeds(fs)
    out = []
    for a, s, b in conn:
        if a is None and b is not None:
            r = rfeeds.get(s)
            label = f"{s} ({r})" if r and r.lower() not in s.lower() else s
            out.append(Inlet(s, label, b, "reagent feed" if r else "feed", res.streams.get(s), r))
    for unit, r in res.unit_results.items():
        dosed = list(getattr(r, "reagent_streams", None) or [])
        names = list((getattr(r, "reagents_kg_h", None) or {}))
        for i, st in enumerate(dosed):
            name = st.name or f"reagent {i + 1}"
            reagent = _match_reagent(name, names)
            out.append(Inlet(f"{name} -> {unit}", name, unit, "dosed", st, reagent))
    return out


def _match_reagent(stream_name: str, reagent_names) -> str | None:
    low = stream_name.lower()
    for r in reagent_names:
        if r.lower() in low:
            return r
    return reagent_names[0] if len(reagent_names) == 1 else None


def number_streams(units, conn, extra_keys=()) -> dict:
    """Stream number of every stream: by unit order, each unit's feeds then its outlets; then
    the dosed reagents (``extra_keys``) as 'r1', 'r2', ..."""
    num: dict = {}
    for n in units:
        for a, s, b in conn:
            if a is None and b == n and s not in num:
                num[s] = len(num) + 1
        for a, s, b in conn:
            if a == n and s not in num:
                num[s] = len(num) + 1
    for a, s, b in conn:
        num.setdefault(s, len(num) + 1)
    for i, k in enumerate(extra_keys):
        num[k] = f"r{i + 1}"
    return num


def place_units(res, conn, tears):
    """Column (longest non-recycle path from the feeds) and lane of every unit.

    Returns ``(units, depth, lane)``: the units in solve order, and dicts unit -> column and
    unit -> lane.
    """
    """Column (longest non-recycle path from the feeds) and lane of every unit."""
    units = list(res.order) + [n for n in res.flowsheet.units if n not in res.order]
    rank = {n: i for i, n in enumerate(units)}
    fwd = [(a, b) for a, s, b in conn if a is not None and b is not None and a != b and s not in tears]
    depth = {n: 0 for n in units}
    for _ in range(len(units) + 1):
        changed = False
        for a, b in fwd:
            if depth[b] < depth[a] + 1:
                depth[b] = depth[a] + 1
                changed = True
        if not changed:
            break
    # a unit fed only from the boundary or by recycles sits just before the unit it feeds
    preds = {n: {a for a, b in fwd if b == n} for n in units}
    succs = {n: {b for a, b in fwd if a == n} for n in units}
    for n in units:
        if not preds[n] and succs[n]:
            depth[n] = max(0, min(depth[b] for b in succs[n]) - 1)
    tear_partner = {n: set() for n in units}
    for a, s, b in conn:
        if a is not None and b is not None and a != b and s in tears:
            tear_partner[a].add(b)
            tear_partner[b].add(a)
    lane: dict = {}
    for c in sorted(set(depth.values())):
        col = sorted((n for n in units if depth[n] == c), key=rank.get)
        pref = {n: min((lane[p] for p in preds[n] if p in lane), default=None) for n in col}
        alt = {n: min((lane[p] for p in tear_partner[n] if p in lane and lane[p] != pref[n]),
                      default=None) for n in col}
        taken: set = set()
        # where two units want the lane of their common feeder, the one closing a recycle with
        # a unit in another lane moves there (keeps the recycle short)
        for n in col:
            contested = pref[n] is not None and sum(pref[m] == pref[n] for m in col) > 1
            if contested and alt[n] is not None and alt[n] not in taken:
                lane[n] = alt[n]
                taken.add(alt[n])
        for n in sorted(col, key=lambda m: (pref[m] is None, rank[m])):
            if n in lane:
                continue
            want = pref[n] if pref[n] is not None else (alt[n] if alt[n] is not None else 0)
            k = 0
            while True:
                for cand in (want + k, want - k):
                    if cand >= 0 and cand not in taken:
                        break
                else:
                    k += 1
                    continue
                break
            lane[n] = cand
            taken.add(cand)
    return units, depth, lane


