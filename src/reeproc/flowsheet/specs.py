"""Design specifications: hold a measured quantity at a target by moving a manipulated variable.

A :class:`Spec` names a *measure* of the solved flowsheet (product purity on the oxide basis,
element recovery, a stream concentration or pH, or any function of the result), a *target* with a
kind (``"="`` hold at the target, ``">="`` keep at or above it, ``"<="`` at or below it) and a
*manipulated variable* with bounds: a unit attribute (:class:`UnitAttribute`, e.g. a splitter's
reflux fraction), an external feed's flow (:class:`FeedFlow`, e.g. a scrub make-up) or the
circulating inventory of a recycle (:class:`RecycleFlow`, e.g. an SX organic flow, i.e. O/A).
Specs attach to a flowsheet with :meth:`Flowsheet.add_spec`; :meth:`Flowsheet.solve` then solves
them together with the recycles.

Specs are solved *nested* around the recycle solve (why, and how the search works:
:mod:`reeproc.flowsheet.spec_solver`).

A spec that cannot be met raises :class:`SpecError` naming the spec, the variable, its bounds and
the values the measure takes at them. A solved spec whose variable ends on a bound is reported
with ``at_bound`` true.

>>> from reeproc import Stream
>>> from reeproc.flowsheet import Flowsheet, Splitter
>>> fs = Flowsheet("bleed")
>>> fs.add_feed("liquor", Stream.aqueous(10.0, {"Nd": 0.1, "Cl-": 0.3}))
>>> fs.add_unit("split", Splitter({"bleed": 0.2}), {"feed": "liquor"},
...             {"bleed": "bleed", "rest": "kept"})
>>> fs.add_spec(Spec("bleed Nd", measure(lambda r: r.streams["bleed"].mol_h["Nd"], "Nd [mol/h]"),
...                  target=0.35, variable=UnitAttribute("split", "fractions", key="bleed"),
...                  low=0.0, high=1.0))
>>> res = fs.solve()
>>> s = res.specs[0]
>>> round(s.value, 6), round(s.achieved, 9), s.at_bound
(0.35, 0.35, False)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Spec", "SpecResult", "SpecError", "UnitAttribute", "FeedFlow", "RecycleFlow",
           "measure", "purity", "recovery", "concentration", "pH"]

KINDS = ("=", ">=", "<=")
SCALES = ("logit", "log", "linear")


class SpecError(RuntimeError):
    """A design spec cannot be met within its variable's bounds (or the search failed).

    Attributes
    ----------
    spec : str
    variable : str
    low, high : float
        Bounds of the variable.
    achievable : dict
        Variable value -> measured value at the bounds (None where the flowsheet did not solve).
    """

    def __init__(self, message, spec="", variable="", low=math.nan, high=math.nan, achievable=None):
        super().__init__(message)
        self.spec, self.variable, self.low, self.high = spec, variable, low, high
        self.achievable = dict(achievable or {})

    def with_context(self, text: str) -> "SpecError":
        """The same error with ``text`` appended (e.g. the parameters a run was given)."""
        return SpecError(f"{self}; {text}", self.spec, self.variable, self.low, self.high,
                         self.achievable)


# ----------------------------------------------------------------------------------- measures
class _Measure:
    def __init__(self, fn, label, scale):
        self.fn, self.label, self.scale = fn, label, scale

    def __call__(self, result) -> float:
        return float(self.fn(result))

    def __repr__(self):
        return self.label


def measure(fn, label: str, scale: str = "linear"):
    """Any function of the :class:`~reeproc.flowsheet.FlowsheetResult` as a measure.

    Parameters
    ----------
    fn : callable
        ``fn(result) -> float``.
    label : str
        What it is, with units ('Nd in the raffinate [mol/L]').
    scale : {'logit', 'log', 'linear'}
        Scale the search works on (logit for fractions in (0, 1), log for positive quantities).
    """
    if scale not in SCALES:
        raise ValueError(f"measure scale must be one of {SCALES}, got {scale!r}")
    return _Measure(fn, label, scale)


def purity(product: str):
    """Purity of a declared product on the oxide basis [-] (as in the product table)."""
    def fn(r):
        p = r.flowsheet.products[product]
        return r.streams[p.stream].purity(list(p.target))
    return _Measure(fn, f"{product} purity (oxide basis) [-]", "logit")


def recovery(element: str):
    """Recovery of an element into its product(s) [-]."""
    return _Measure(lambda r: r.recovery()[element], f"{element} recovery [-]", "logit")


def concentration(stream: str, species: str):
    """Concentration of a species in a stream [mol/L]."""
    return _Measure(lambda r: r.streams[stream].conc_mol_L.get(species, 0.0),
                    f"{species} in '{stream}' [mol/L]", "log")


def pH(stream: str):
    """-log10 [H+] of a stream (concentration basis, activity coefficients not applied) [-]."""
    return _Measure(lambda r: -math.log10(r.streams[stream].conc_mol_L["H+"]),
                    f"pH of '{stream}' (-log10 [H+]) [-]", "linear")


# ----------------------------------------------------------------------------------- variables
class UnitAttribute:
    """A unit attribute as manipulated variable (``unit.attribute`` or ``unit.attribute[key]``).

    Parameters
    ----------
    unit, attribute : str
        Unit name and attribute; a dotted path reaches inside (``"cascade.model.saponification"``).
    key : str, optional
        Item of a dict attribute (a splitter's ``fractions["reflux"]``).
    name : str, optional
        Name in reports; a script uses its parameter's name so a solved value can be frozen.
    """

    def __init__(self, unit: str, attribute: str, key=None, name: str | None = None):
        self.unit, self.attribute, self.key = unit, attribute, key
        self.name = name or f"{unit}.{attribute}" + (f"[{key}]" if key is not None else "")

    def _unit(self, fs):
        units = fs.units
        if self.unit not in units:
            raise ValueError(f"spec variable '{self.name}': no unit '{self.unit}'; units: {sorted(units)}")
        return units[self.unit]

    def _owner(self, fs):
        """The object holding the last attribute of a dotted path, and that attribute's name."""
        obj = self._unit(fs)
        *path, last = self.attribute.split(".")
        for a in path:
            obj = getattr(obj, a)
        return obj, last

    def get(self, fs) -> float:
        obj, attr = self._owner(fs)
        v = getattr(obj, attr)
        return float(v[self.key] if self.key is not None else v)

    def set(self, fs, value: float) -> None:
        obj, attr = self._owner(fs)
        if self.key is not None:
            getattr(obj, attr)[self.key] = float(value)
        else:
            setattr(obj, attr, float(value))
        fs.unit_changed(self.unit)


class FeedFlow:
    """The flow of an external feed [L/h] divided by ``per`` (its composition is kept)."""

    def __init__(self, stream: str, per: float = 1.0, name: str | None = None):
        self.stream, self.per = stream, float(per)
        self.name = name or f"'{stream}' flow [L/h]"

    def get(self, fs) -> float:
        return _flow(fs.feeds[self.stream], self.name) / self.per

    def set(self, fs, value: float) -> None:
        old = fs.feeds[self.stream]
        fs.replace_feed(self.stream, old.scaled(float(value) * self.per / _flow(old, self.name)))


class RecycleFlow:
    """The circulating flow of a recycle loop [L/h] divided by ``per``.

    A closed loop (an SX organic) keeps the inventory it starts with: its flow is set by the tear
    stream's starting guess, which this variable scales (composition kept).
    """

    def __init__(self, stream: str, per: float = 1.0, name: str | None = None):
        self.stream, self.per = stream, float(per)
        self.name = name or f"'{stream}' flow [L/h]"

    def get(self, fs) -> float:
        return _flow(fs.tear_guess(self.stream), self.name) / self.per

    def set(self, fs, value: float) -> None:
        old = fs.tear_guess(self.stream)
        fs.set_tear_guess(self.stream, old.scaled(float(value) * self.per / _flow(old, self.name)))


def _flow(stream, name) -> float:
    """Flow [L/h] of a liquid stream a flow variable scales (it must be > 0 to scale)."""
    if not stream.flow_L_h or stream.flow_L_h <= 0:
        raise ValueError(f"spec variable '{name}': stream '{stream.name}' has no flow to scale "
                         f"(flow {stream.flow_L_h} L/h); give it a positive starting flow")
    return stream.flow_L_h


# ----------------------------------------------------------------------------------- specs
@dataclass
class Spec:
    """A design specification (see the module docstring).

    Attributes
    ----------
    name : str
    measure : callable
        ``measure(result) -> float``; the helpers :func:`purity`, :func:`recovery`,
        :func:`concentration`, :func:`pH`, :func:`measure` carry a label and a search scale.
    target : float
        Target or bound, in the measure's units.
    variable : UnitAttribute or FeedFlow or RecycleFlow
    low, high : float
        Bounds of the variable, in its units.
    kind : {'=', '>=', '<='}
    tol : float, optional
        Tolerance on the residual in the search scale. Default by scale: logit 0.05 (5 % of
        the impurity: 99.70-99.715 % for a 99.7 % bound), log 0.01 (1 %), linear 1e-3 of the
        target (1e-9 for a zero target).
    feasible : callable, optional
        ``feasible()`` raises ValueError (naming the parameter and the physical reason) when
        the spec cannot be met at any value of its variable, e.g. too few stages for the
        purity at any reflux (Fenske); the spec solver calls it before its first solve, so a
        hopeless design is refused at once instead of after a search. Not called when the
        flowsheet is solved without its specs.
    """

    name: str
    measure: object
    target: float
    variable: object
    low: float
    high: float
    kind: str = "="
    tol: float | None = None
    feasible: object = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"spec '{self.name}': kind must be one of {KINDS}, got {self.kind!r}")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"spec '{self.name}': bounds must be finite with low < high, got "
                             f"[{self.low}, {self.high}]")
        if self.scale == "logit" and not 0.0 < self.target < 1.0:
            raise ValueError(f"spec '{self.name}': a fraction target must lie in (0, 1), got {self.target}")
        if self.scale == "log" and not self.target > 0.0:
            raise ValueError(f"spec '{self.name}': a log-scale target must be > 0, got {self.target}")
        if self.tol is None:
            self.tol = {"logit": 0.05, "log": 0.01}.get(self.scale, 1e-3 * abs(self.target) or 1e-9)
        if not self.tol > 0:
            raise ValueError(f"spec '{self.name}': tol must be > 0, got {self.tol}")

    @property
    def scale(self) -> str:
        return getattr(self.measure, "scale", "linear")

    @property
    def label(self) -> str:
        return getattr(self.measure, "label", getattr(self.measure, "__name__", "measure"))

    def transform(self, v: float) -> float:
        if self.scale == "logit":
            v = min(max(v, 1e-15), 1.0 - 1e-15)
            return math.log(v / (1.0 - v))
        if self.scale == "log":
            return math.log(max(v, 1e-300))
        return v

    def residual(self, value: float) -> float:
        """Transformed measured value minus transformed target (0 at the target)."""
        return self.transform(value) - self.transform(self.target)

    def met(self, value: float) -> bool:
        """True when ``value`` satisfies the spec (an inequality exactly; '=' within ``tol``)."""
        r = self.residual(value)
        if self.kind == ">=":
            return r >= 0.0
        if self.kind == "<=":
            return r <= 0.0
        return abs(r) <= self.tol

    @property
    def _aim(self) -> float:
        """Residual the search aims at: mid-band inside an inequality's tolerance."""
        return {">=": 0.55, "<=": -0.55}.get(self.kind, 0.0) * self.tol

    def _done(self, r: float) -> bool:
        """Search stop: within ``tol`` of the target, on the allowed side of a bound (with a
        cushion of tol/10 for the trial solves' looser recycle tolerance)."""
        c = 0.1 * self.tol
        if self.kind == ">=":
            return c <= r <= self.tol
        if self.kind == "<=":
            return -self.tol <= r <= -c
        return abs(r) <= self.tol - c

    def _holds(self, r: float) -> bool:
        """An inequality met with the cushion of :meth:`_done`, however far inside its bound
        (an override whose bound another spec's move has met leaves its variable alone)."""
        c = 0.1 * self.tol
        return (self.kind == ">=" and r >= c) or (self.kind == "<=" and r <= -c)


@dataclass
class SpecResult:
    """A solved spec: ``target``, ``achieved`` (measured value), ``variable``, ``value``,
    ``at_bound`` (the variable ended on a bound), ``active`` (False: an inequality the flowsheet
    met without moving the variable), ``iterations`` (flowsheet solves of the spec search)."""

    name: str
    kind: str
    target: float
    achieved: float
    measure: str
    variable: str
    value: float
    low: float
    high: float
    at_bound: bool
    active: bool
    iterations: int

    def as_dict(self) -> dict:
        return {"target": self.target, "achieved": self.achieved, "variable": self.variable,
                "value": self.value, "at_bound": self.at_bound, "kind": self.kind,
                "measure": self.measure, "bounds": [self.low, self.high],
                "active": self.active, "iterations": self.iterations}
