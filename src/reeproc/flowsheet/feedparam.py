"""The magnet feed as a flowsheet parameter: a library grade or a user composition.

A script declares ``"feed": FeedParam("EV_traction")`` in its ``PARAMETERS`` and builds its feed
stream with :func:`feed_from_param`. The value is either

* the name of a grade in ``property_data/feeds.csv`` (the list is read from the table each time,
  so grades added there appear without a code change), e.g. ``--set feed=HDD``; or
* a composition in wt%, ``ELEMENT=WT`` pairs separated by commas, one element may be ``bal``
  (the balance to 100 wt%): ``--set feed="Nd=22,Pr=6,Dy=4,B=1,Fe=bal"``. What a user composition
  does not assign to any element (when no ``bal`` is given) is reported as uncharacterised, as
  for a library grade.

>>> p = FeedParam("HDD")
>>> p.check("feed", "Nd=22,Pr=6,Dy=4,B=1,Fe=bal")
'Nd=22,Pr=6,Dy=4,B=1,Fe=bal'
>>> f = feed_from_param("Nd=22,Pr=6,Dy=4,B=1,Fe=bal", 10.0)
>>> round(f.stream.element_kg_h()["Fe"], 3), f.unreported_wt_pct
(6.7, 0.0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import feeds as _feeds
from ..feeds import MagnetFeed, feed_composition, feed_grades, magnet_feed
from ..species import get_species
from .script import Param

__all__ = ["FeedParam", "feed_from_param", "parse_composition", "feed_with"]


def parse_composition(text: str) -> dict:
    """Parse ``"Nd=22,Pr=6,Fe=bal"`` into {element: wt% [%]} (``bal`` filled to 100 wt%).

    Raises
    ------
    ValueError
        Naming the offending entry: not ``EL=WT``, an element reeproc cannot carry as a solid,
        a negative or non-finite wt%, two ``bal`` entries, or a total above 100 wt%.
    """
    comp, bal = {}, None
    for item in str(text).split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise ValueError(f"feed composition entry '{item}' must look like ELEMENT=wt% "
                             "(e.g. 'Nd=22,Pr=6,Dy=4,B=1,Fe=bal')")
        el, wt = (s.strip() for s in item.split("=", 1))
        if el != "O":  # oxygen of partly oxidised scrap: the feed builder decides its form
            try:
                get_species(el, "solid")
            except ValueError:
                raise ValueError(f"feed composition: '{el}' is not an element reeproc carries in "
                                 "a magnet feed (solid species in property_data/species.csv)") from None
        if el in comp or el == bal:
            raise ValueError(f"feed composition: element '{el}' is given twice")
        if wt.lower() == "bal":
            if bal is not None:
                raise ValueError(f"feed composition: only one element may be 'bal' ('{bal}' and '{el}')")
            bal = el
            continue
        try:
            v = float(wt)
        except ValueError:
            raise ValueError(f"feed composition: wt% of '{el}' must be a number or 'bal', "
                             f"got '{wt}'") from None
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"feed composition: wt% of '{el}' must be finite and >= 0, got {v}")
        comp[el] = v
    total = sum(comp.values())
    if total > 100.0 + 1e-9:
        raise ValueError(f"feed composition sums to {total:g} wt% (> 100 wt%)")
    if bal is not None:
        comp[bal] = 100.0 - total
    if not comp or sum(comp.values()) <= 0:
        raise ValueError(f"feed composition '{text}' has no element with a positive wt%")
    return comp


@dataclass(frozen=True)
class FeedParam(Param):
    """Flowsheet parameter naming the magnet feed: a grade of ``property_data/feeds.csv`` or a
    user composition ``"EL=wt%,...,Fe=bal"`` (see the module docstring)."""

    description: str = ("magnet feed: a grade in property_data/feeds.csv or a composition "
                        "'Nd=22,Pr=6,Dy=4,B=1,Fe=bal' [wt%]")

    def check(self, name: str, value):
        text = str(value).strip()
        if "=" in text:
            try:
                parse_composition(text)
            except ValueError as exc:
                raise ValueError(f"parameter '{name}': {exc}") from None
            return text
        grades = feed_grades()
        if text not in grades:
            raise ValueError(f"parameter '{name}' = {value!r} is not a feed grade; grades in "
                             f"property_data/feeds.csv: {grades}, or give a composition "
                             "'Nd=22,Pr=6,Dy=4,B=1,Fe=bal' [wt%]")
        return text


def feed_from_param(value: str, kg_h: float, name: str = "magnet feed") -> MagnetFeed:
    """The :class:`~reeproc.feeds.MagnetFeed` a :class:`FeedParam` value stands for.

    Parameters
    ----------
    value : str
        Grade name or composition ``"EL=wt%,...,Fe=bal"``.
    kg_h : float
        Feed rate of as-received magnet [kg/h].
    """
    if "=" not in str(value):
        return magnet_feed(str(value), kg_h, name=name)
    comp = parse_composition(value)
    label = f"user composition ({value})"
    return _feeds.custom_feed(comp, kg_h, name=name, grade=label)


def feed_with(value: str, wt_pct: dict, balance: str | None = None) -> str:
    """A feed value (grade or composition) with some elements' wt% replaced: a composition
    string for :class:`FeedParam` (Monte Carlo over feed composition).

    Parameters
    ----------
    value : str
        Grade name or composition.
    wt_pct : dict
        {element: new wt% [%]}.
    balance : str, optional
        Element whose wt% takes up the change so that the characterised total stays the same
        (``"Fe"``: more rare earth, less iron). Without it, and without a ``bal`` element in
        ``value``, the uncharacterised share takes it up (an error if the total passes 100 %).

    >>> feed_with("Nd=22,Dy=6.5,B=1,Fe=68", {"Dy": 7.15})
    'Nd=22,Dy=7.15,B=1,Fe=68'
    >>> feed_with("Nd=22,Dy=6.5,B=1,Fe=68", {"Dy": 7.15}, balance="Fe")
    'Nd=22,Dy=7.15,B=1,Fe=67.35'
    """
    bal = None
    if "=" in str(value):
        comp = parse_composition(value)
        bal = next((it.split("=")[0].strip() for it in str(value).split(",")
                    if it.split("=")[-1].strip().lower() == "bal"), None)
    else:
        rows = feed_composition(str(value))
        comp = {}
        for r in rows.itertuples(index=False):
            if r.element != "O":
                try:
                    get_species(r.element, "solid")
                except ValueError:
                    continue  # reported but not carried: it stays uncharacterised
            comp[r.element] = comp.get(r.element, 0.0) + float(r.wt_pct__pct)
    total = sum(comp.values())
    for el, v in wt_pct.items():
        comp[el] = float(v)
    if balance is not None and bal is None:
        if balance not in comp or balance in wt_pct:
            raise ValueError(f"feed_with: balance element '{balance}' must be in the feed and "
                             f"not among the replaced elements {sorted(wt_pct)}")
        comp[balance] -= sum(comp.values()) - total
        if comp[balance] < 0:
            raise ValueError(f"feed_with: {balance} cannot balance {wt_pct}: it would go negative")
    text = ",".join(f"{el}={'bal' if el == bal else format(v, '.6g')}" for el, v in comp.items())
    parse_composition(text)  # validates the total and the elements
    return text
