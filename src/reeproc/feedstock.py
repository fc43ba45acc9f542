"""Feedstock from decommissioned assets: magnets per year, their composition, the oxide a long
loop recovers from them and the magnets that oxide could make again.

The chain, per year of decommissioned assets:

1. magnet content: assets x NdFeB per asset (per MW for wind turbines, per unit for vehicles,
   drives and motors) from ``property_data/asset_magnet_content.csv``, or given by the user;
2. collection and dismantling yields from ``property_data/magnet_collection_yields.csv``; a
   missing yield is not applied (the figure is then an upper bound) and is listed as a data gap;
3. composition: each asset's magnet grade (``property_data/feeds.csv``), blended by magnet mass;
   an element a grade does not report is not counted for that grade (never taken as zero
   silently: listed as a gap);
4. recoverable oxide: each rare earth through the long loop's recovery (from a flowsheet result,
   or given), on its reporting oxide (Nd2O3, Pr6O11, Dy2O3, ...);
5. magnets made again: the recovered rare-earth metal over the rare-earth content of the blend,
   limited by the scarcest element (oxide-to-metal and alloy-to-magnet yields are not applied:
   no data; listed as a gap).

>>> est = estimate([asset("HDD_desktop", 1000)], recoveries={"Nd": 0.9, "Pr": 0.9, "Dy": 0.9})
>>> round(est.magnet_kg, 3)        # 1000 drives x 0.020 kg x 42.5 % collected
8.5
>>> round(est.composition_wt_pct["Nd"], 1)
22.8
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .data import MissingDataError, load_table
from .feeds import feed_composition
from .species import element_to_oxide_kg, get_species, rare_earths, reporting_oxide
from .stream import Stream

__all__ = ["Asset", "FeedstockEstimate", "asset", "custom_asset", "asset_table", "estimate",
           "assets_from_counts", "flowsheet_recoveries", "uk_context", "HOURS_PER_YEAR",
           "REFERENCE_FLOWSHEET"]

#: The reference long-loop flowsheet script (repository checkout), whose recoveries are the
#: default of ``reeproc feedstock``.
REFERENCE_FLOWSHEET = "flowsheets/ndfeb_long_loop.py"

#: Hours in a calendar year [h/yr]: converts a yearly magnet mass to an average feed rate.
HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class Asset:
    """A number of decommissioned assets of one kind, per year.

    Attributes
    ----------
    name : str
        Asset kind ('wind_DD_PMSG', 'EV_PMSM', 'HDD_desktop', or a user name).
    asset_class : str
        Class for collection and dismantling yields ('wind', 'EV', 'HDD', 'industrial_motor',
        or a user class without tabulated yields).
    amount : float
        Installed MW (basis 'MW') or number of units (basis 'unit') decommissioned per year.
    basis : str
        'MW' or 'unit'.
    ndfeb_kg : float
        NdFeB magnet per MW [kg/MW] or per unit [kg].
    grade : str or None
        Magnet grade in ``property_data/feeds.csv`` (None with ``composition``).
    composition : dict or None
        User composition [wt% by element] in place of a grade.
    source : str
        Where ``ndfeb_kg`` comes from.
    """

    name: str
    asset_class: str
    amount: float
    basis: str
    ndfeb_kg: float
    grade: str | None = None
    composition: dict | None = None
    source: str = ""

    @property
    def magnet_kg(self) -> float:
        """Magnet mass in the assets [kg/yr], before collection and dismantling."""
        return self.amount * self.ndfeb_kg


def asset_table() -> pd.DataFrame:
    """The asset magnet-content table (``property_data/asset_magnet_content.csv``)."""
    return load_table("asset_magnet_content")


def _check_amount(name: str, amount) -> float:
    if not isinstance(amount, (int, float)) or isinstance(amount, bool) or not math.isfinite(amount) \
            or amount < 0:
        raise ValueError(f"amount of '{name}' must be a finite number >= 0 (MW or units per "
                         f"year), got {amount!r}")
    return float(amount)


def asset(name: str, amount: float, ndfeb_kg: float | None = None, grade: str | None = None) -> Asset:
    """An asset kind of the table, ``amount`` MW or units decommissioned per year.

    ``ndfeb_kg`` and ``grade`` replace the table's content and grade (required where the table
    has none, e.g. 'industrial_PM_motor').
    """
    t = asset_table().set_index("asset")
    if name not in t.index:
        raise ValueError(f"unknown asset '{name}'; assets are {list(t.index)} (or use custom_asset)")
    row = t.loc[name]
    amount = _check_amount(name, amount)
    col = "ndfeb_per_MW__kg_MW" if row["basis"] == "MW" else "ndfeb_per_unit__kg"
    kg = row[col] if ndfeb_kg is None else ndfeb_kg
    if kg is None or (isinstance(kg, float) and math.isnan(kg)):
        raise MissingDataError(f"NdFeB content of asset '{name}' ({col}) is missing in "
                               "property_data/asset_magnet_content.csv; no default is assumed. "
                               "Give it (reeproc feedstock --motor-kg, or ndfeb_kg=...).")
    if not float(kg) >= 0:
        raise ValueError(f"ndfeb_kg of '{name}' must be >= 0, got {kg!r}")
    g = grade or row["feed_grade"] or None
    if g is None and float(kg) > 0:
        raise MissingDataError(f"magnet grade of asset '{name}' is missing in "
                               "property_data/asset_magnet_content.csv; give a feeds.csv grade "
                               "(reeproc feedstock --motor-grade, or grade=...).")
    src = row["source"] if ndfeb_kg is None else "given by the user"
    return Asset(name, row["asset_class"], amount, row["basis"], float(kg), g, None, src)


def custom_asset(name: str, count: float, ndfeb_kg_per_unit: float, grade: str | None = None,
                 composition: dict | None = None, asset_class: str = "user") -> Asset:
    """A user-defined asset (defence platform, appliance, ...): ``count`` units per year with
    ``ndfeb_kg_per_unit`` [kg] of magnet of a feeds.csv ``grade`` or a ``composition`` [wt%]."""
    count = _check_amount(name, count)
    if not (isinstance(ndfeb_kg_per_unit, (int, float)) and ndfeb_kg_per_unit >= 0):
        raise ValueError(f"ndfeb_kg_per_unit of '{name}' must be >= 0 kg, got {ndfeb_kg_per_unit!r}")
    if (grade is None) == (composition is None):
        raise ValueError(f"asset '{name}': give exactly one of grade (feeds.csv) or composition")
    if composition is not None:
        bad = {k: v for k, v in composition.items() if not (0 <= float(v) <= 100)}
        if bad or sum(composition.values()) > 100 + 1e-9:
            raise ValueError(f"composition of '{name}' must hold wt% in [0, 100] summing to at "
                             f"most 100, got {composition}")
    return Asset(name, asset_class, count, "unit", float(ndfeb_kg_per_unit), grade,
                 dict(composition) if composition else None, "given by the user")


def _yields() -> dict:
    t = load_table("magnet_collection_yields")
    return {(r.asset_class, r.stage): (float(r.yield__1), r.source)
            for r in t.itertuples(index=False)}


def _grade_wt(a: Asset) -> dict:
    if a.composition is not None:
        return {k: float(v) for k, v in a.composition.items()}
    rows = feed_composition(a.grade)
    return {r.element: float(r.wt_pct__pct) for r in rows.itertuples(index=False)
            if not math.isnan(r.wt_pct__pct)}


@dataclass
class FeedstockEstimate:
    """Result of :func:`estimate`; all masses per year of decommissioned assets.

    Attributes
    ----------
    magnet_kg : float
        Magnet reaching the recycler [kg/yr] (content x collection x dismantling yields).
    composition_wt_pct : dict
        Blended composition [wt% by element]; what no grade reports is ``unreported_wt_pct``.
    reo_kg : float
        Rare-earth oxide recovered through the long loop [kg/yr].
    reo_kg_by_oxide : dict
        The same by reporting oxide [kg/yr].
    magnets_remade_kg : float
        Magnets of the blend's rare-earth content that oxide could make again [kg/yr].
    assets : pandas.DataFrame
        Per asset: amount, basis, content, yields and magnet mass [kg/yr].
    recoveries : dict
        Recovery of each rare earth used [-] and ``recovery_source``.
    data_gaps : list of str
    """

    magnet_kg: float
    composition_wt_pct: dict
    unreported_wt_pct: float
    reo_kg: float
    reo_kg_by_oxide: dict
    magnets_remade_kg: float
    content_kg: float
    assets: pd.DataFrame
    recoveries: dict
    recovery_source: str
    data_gaps: list = field(default_factory=list)

    def stream(self, kg_h: float | None = None, name: str = "magnet scrap") -> Stream:
        """The blend as a solid feed Stream [kg/h] of the reported elements (metal basis).

        ``kg_h`` defaults to the yearly magnet mass averaged over a calendar year (8,760 h).
        Elements that are not solid species in reeproc (O, C) are left out, as in
        :func:`reeproc.magnet_feed`.
        """
        rate = self.magnet_kg / HOURS_PER_YEAR if kg_h is None else float(kg_h)
        if not rate > 0:
            raise ValueError(f"feed rate must be > 0 kg/h, got {rate} (no magnet collected?)")
        kg = {}
        for el, w in self.composition_wt_pct.items():
            try:
                get_species(el, "solid")
            except ValueError:
                continue
            kg[el] = rate * w / 100.0
        return Stream.solid(kg, name=name)

    def to_dict(self) -> dict:
        """JSON-ready dict (``reeproc feedstock --json``)."""
        return {"per": "year", "magnet_kg": self.magnet_kg,
                "magnet_content_before_yields_kg": self.content_kg,
                "composition_wt_pct": self.composition_wt_pct,
                "unreported_wt_pct": self.unreported_wt_pct, "reo_kg": self.reo_kg,
                "reo_kg_by_oxide": self.reo_kg_by_oxide,
                "magnets_remade_kg": self.magnets_remade_kg,
                "recoveries": self.recoveries, "recovery_source": self.recovery_source,
                "assets": [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                            for k, v in r.items()}  # a missing yield is null, not NaN
                           for r in self.assets.reset_index().to_dict(orient="records")],
                "data_gaps": list(self.data_gaps)}

    def to_json(self, path) -> Path:
        p = Path(path)
        p.write_text(json.dumps(self.to_dict(), indent=2, default=float, allow_nan=False))
        return p

    def report(self) -> str:
        """Plain-text summary with the UK context (:func:`uk_context`)."""
        a = self.assets
        lines = ["Decommissioned assets per year -> magnets, composition, recoverable oxide",
                 f"{'asset':20s} {'amount':>16s} {'NdFeB':>14s} {'collected':>9s} "
                 f"{'freed':>7s} {'magnet [t/yr]':>13s}"]
        for name, r in a.iterrows():
            amt = f"{r['amount']:,.0f} {'MW' if r['basis'] == 'MW' else 'units'}"
            per = f"{r['NdFeB per basis [kg]']:g} kg/{'MW' if r['basis'] == 'MW' else 'unit'}"
            lines.append(f"{name:20s} {amt:>16s} {per:>14s} {_pct(r['collection [-]']):>9s} "
                         f"{_pct(r['dismantling [-]']):>7s} {r['magnet [kg/yr]'] / 1e3:13.1f}")
        lines += [f"magnet reaching the recycler: {self.magnet_kg / 1e3:,.1f} t/yr "
                  f"(of {self.content_kg / 1e3:,.1f} t/yr in the assets)",
                  "blend [wt%]: " + ", ".join(f"{k} {v:.2f}" for k, v in
                                              sorted(self.composition_wt_pct.items(),
                                                     key=lambda kv: -kv[1]))
                  + f"; not reported {self.unreported_wt_pct:.2f}",
                  "long-loop recovery [%]: " + ", ".join(
                      f"{k} {100 * v:.2f}" for k, v in self.recoveries.items()),
                  f"  (recoveries from: {self.recovery_source})",
                  f"recoverable oxide: {self.reo_kg / 1e3:,.1f} t/yr ("
                  + ", ".join(f"{k} {v / 1e3:,.1f}" for k, v in self.reo_kg_by_oxide.items()) + ")",
                  f"magnets that oxide could make again: {self.magnets_remade_kg / 1e3:,.1f} t/yr"]
        try:
            ctx = uk_context()
            demand, share = ctx["UK NdFeB magnet demand"], ctx["UK recycling target share"]
            goal = demand * share
            lines.append(f"UK context: demand > {demand:,.0f} t/yr; {100 * share:.0f} % from "
                         f"recycling = {goal:,.0f} t/yr; this feedstock covers "
                         f"{100 * self.magnets_remade_kg / 1e3 / goal:.0f} % of that")
        except (LookupError, KeyError):
            lines.append("UK context: property_data/uk_magnet_context.csv not available")
        lines += [f"data gap: {g}" for g in self.data_gaps]
        return "\n".join(lines)


def _pct(v) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"


def uk_context() -> dict:
    """UK magnet demand [t/yr] and the recycling target share [-] (``uk_magnet_context.csv``)."""
    t = load_table("uk_magnet_context")
    return {r.quantity: float(r.value__1) for r in t.itertuples(index=False)}


def _recoveries(recoveries):
    if recoveries is None:
        raise ValueError("recoveries are needed: a dict {element: fraction} or a solved "
                         "FlowsheetResult (its recovery())")
    if hasattr(recoveries, "recovery") and callable(recoveries.recovery):
        return dict(recoveries.recovery()), f"flowsheet '{recoveries.flowsheet.name}'"
    rec = {}
    for k, v in dict(recoveries).items():
        if not (isinstance(v, (int, float)) and 0 <= v <= 1):
            raise ValueError(f"recovery of {k} must be a fraction in [0, 1], got {v!r}")
        rec[k] = float(v)
    return rec, "given"


def estimate(assets, *, recoveries=None, collection: dict | None = None,
             dismantling: dict | None = None) -> FeedstockEstimate:
    """Magnets, composition and recoverable oxide per year from decommissioned assets.

    Parameters
    ----------
    assets : list of Asset
        From :func:`asset` or :func:`custom_asset`.
    recoveries : dict or FlowsheetResult
        Long-loop recovery of each rare earth into its product [-], or a solved flowsheet whose
        :meth:`~reeproc.flowsheet.FlowsheetResult.recovery` is used.
    collection, dismantling : dict, optional
        Yields [-] by asset class replacing the table's (scenario values).
    """
    assets = list(assets)
    if not assets:
        raise ValueError("give at least one asset")
    rec, rec_src = _recoveries(recoveries)
    tab = _yields()
    given = {"collection": dict(collection or {}), "dismantling": dict(dismantling or {})}
    for stage, d in given.items():
        for k, v in d.items():
            if not (isinstance(v, (int, float)) and 0 <= v <= 1):
                raise ValueError(f"{stage} yield of '{k}' must be a fraction in [0, 1], got {v!r}")
    gaps, rows, wt_kg, reported_kg = [], [], {}, {}
    for a in assets:
        ys = {}
        for stage in ("collection", "dismantling"):
            if a.asset_class in given[stage]:
                ys[stage] = given[stage][a.asset_class]
                continue
            y, _ = tab.get((a.asset_class, stage), (math.nan, ""))
            ys[stage] = y
            if math.isnan(y) and a.magnet_kg > 0:
                gaps.append(f"{stage} yield of {a.asset_class} ({a.name}) missing: not applied "
                            "(upper bound)")
        m = a.magnet_kg * _or1(ys["collection"]) * _or1(ys["dismantling"])
        rows.append({"asset": a.name, "class": a.asset_class, "amount": a.amount, "basis": a.basis,
                     "NdFeB per basis [kg]": a.ndfeb_kg, "grade": a.grade or "user composition",
                     "content [kg/yr]": a.magnet_kg, "collection [-]": ys["collection"],
                     "dismantling [-]": ys["dismantling"], "magnet [kg/yr]": m,
                     "content source": a.source})
        if m > 0:
            wt = _grade_wt(a)
            for el, w in wt.items():
                wt_kg[el] = wt_kg.get(el, 0.0) + m * w / 100.0
                reported_kg[el] = reported_kg.get(el, 0.0) + m
    total = sum(r["magnet [kg/yr]"] for r in rows)
    comp = {el: 100.0 * kg / total for el, kg in sorted(wt_kg.items())} if total > 0 else {}
    for el, covered in reported_kg.items():
        if covered < total * (1 - 1e-12):
            gaps.append(f"{el} is not reported for {100 * (1 - covered / total):.3g} % of the "
                        "magnet mass (grades without it): the blend under-counts it")
    res_oxide, remade = {}, math.inf
    for el in [e for e in comp if e in set(rare_earths())]:
        metal = total * comp[el] / 100.0
        if el not in rec:
            gaps.append(f"no long-loop recovery for {el} ({rec_src}): its oxide is not counted")
            continue
        res_oxide[reporting_oxide(el)] = element_to_oxide_kg(el, metal * rec[el])
        remade = min(remade, metal * rec[el] / (comp[el] / 100.0))
    if total > 0 and res_oxide:
        gaps.append("oxide-to-metal and alloy-to-magnet yields not applied (no data): the "
                    "magnets made again are an upper bound")
    return FeedstockEstimate(
        magnet_kg=total, composition_wt_pct=comp,
        unreported_wt_pct=max(0.0, 100.0 - sum(comp.values())) if comp else 0.0,
        reo_kg=sum(res_oxide.values()), reo_kg_by_oxide=res_oxide,
        magnets_remade_kg=0.0 if remade is math.inf else remade,
        content_kg=sum(a.magnet_kg for a in assets),
        assets=pd.DataFrame(rows).set_index("asset"), recoveries=rec, recovery_source=rec_src,
        data_gaps=list(dict.fromkeys(gaps)))


def _or1(y: float) -> float:
    return 1.0 if math.isnan(y) else y


def assets_from_counts(*, wind_MW=None, wind_drive: str = "DD_PMSG", ev_count=None,
                       ev_motor: str = "PMSM", hdd_count=None, hdd_type: str = "desktop",
                       motor_count=None, motor_kg=None, motor_grade=None, custom=()) -> list:
    """Assets from the counts the command line takes.

    Parameters
    ----------
    wind_MW : float or dict, optional
        Wind capacity decommissioned per year [MW] of drive train ``wind_drive`` ('DD_PMSG',
        'MS_PMSG', 'HS_PMSG', 'DFIG', 'EESG'), or a dict {drive: MW}.
    ev_count : float or dict, optional
        Electric cars per year with motor ``ev_motor`` ('PMSM', 'induction', 'EESM'), or
        {motor: count}.
    hdd_count : float or dict, optional
        Hard-disk drives per year of ``hdd_type`` ('desktop', 'laptop'), or {type: count}.
    motor_count, motor_kg, motor_grade : optional
        Industrial PM motors per year, NdFeB per motor [kg] and its feeds.csv grade (no sourced
        defaults: both must be given with a count).
    custom : iterable of Asset
        User-defined assets (:func:`custom_asset`).
    """
    out = []
    for prefix, value, default in (("wind", wind_MW, wind_drive), ("EV", ev_count, ev_motor),
                                   ("HDD", hdd_count, hdd_type)):
        if value is None:
            continue
        items = value.items() if isinstance(value, dict) else [(default, value)]
        for kind, amount in items:
            out.append(asset(f"{prefix}_{kind}", amount))
    if motor_count is not None:
        out.append(asset("industrial_PM_motor", motor_count, ndfeb_kg=motor_kg, grade=motor_grade))
    out += list(custom)
    return out


def flowsheet_recoveries(script=None):
    """Solve a flowsheet script (default: the reference long loop, looked for in the working
    directory and the repository checkout) and return its result, whose ``recovery()`` feeds
    :func:`estimate`."""
    from .flowsheet.script import run

    if script is None:
        here = Path(__file__).resolve().parents[2] / REFERENCE_FLOWSHEET
        for cand in (Path.cwd() / REFERENCE_FLOWSHEET, here):
            if cand.is_file():
                script = cand
                break
        else:
            raise ValueError(f"the reference flowsheet {REFERENCE_FLOWSHEET} was not found here; "
                             "give the recoveries (--recovery Nd=0.91 ...) or a flowsheet "
                             "(--flowsheet PATH)")
    res = run(script)
    if not res.converged:
        raise RuntimeError(f"flowsheet {script} did not converge; its recoveries are not used")
    return res
