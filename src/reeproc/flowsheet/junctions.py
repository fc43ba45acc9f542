"""Stream junctions: mixer and splitter (the plumbing of recycles and bleeds)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..stream import Stream, charge_closure, element_closure, mix

__all__ = ["Mixer", "Splitter", "JunctionResult"]


@dataclass
class JunctionResult:
    """Outlets of a junction (``outlets``: port -> Stream), its element balance [mol/h] and its
    charge balance [eq/h]."""

    outlets: dict
    balance: object = field(repr=False, default=None)
    charge_balance: object = field(repr=False, default=None)

    def __getattr__(self, item):
        try:
            return self.__dict__["outlets"][item]
        except KeyError:
            raise AttributeError(item) from None


class Mixer:
    """Mix ``n`` streams of one phase (inlets ``in1`` .. ``in<n>``, outlet ``out``).

    Parameters
    ----------
    n : int
        Number of inlet ports (>= 1). Unconnected ports are allowed.
    """

    def __init__(self, n: int = 2):
        if int(n) < 1:
            raise ValueError(f"Mixer n (number of inlets) must be >= 1, got {n}")
        self.n = int(n)

    @property
    def inlets(self):
        return tuple(f"in{i + 1}" for i in range(self.n))

    outlets = ("out",)

    def run(self, **inlets: Stream) -> JunctionResult:
        streams = [s for s in inlets.values() if s is not None]
        if not streams:
            raise ValueError("Mixer.run: no inlet stream connected")
        out = mix(*streams, name="out")
        return JunctionResult({"out": out}, element_closure(streams, [out]),
                              charge_closure(streams, [out]))


class Splitter:
    """Split one stream into fixed fractions (same composition in every outlet).

    Parameters
    ----------
    fractions : dict
        Outlet port -> fraction of the inlet [-], each in [0, 1], summing to <= 1. The remainder
        leaves through the port ``rest``.

    Examples
    --------
    A 10 % bleed of a barren-liquor recycle: ``Splitter({"bleed": 0.10})`` gives ports
    ``bleed`` and ``rest``.
    """

    inlets = ("feed",)

    def __init__(self, fractions: dict):
        if not fractions:
            raise ValueError("Splitter fractions must name at least one outlet")
        for k, f in fractions.items():
            if k == "rest":
                raise ValueError("Splitter outlet name 'rest' is reserved for the remainder")
            if not (0.0 <= float(f) <= 1.0):
                raise ValueError(f"Splitter fraction for '{k}' must lie in [0, 1], got {f}")
        total = sum(float(f) for f in fractions.values())
        if total > 1.0 + 1e-12:
            raise ValueError(f"Splitter fractions sum to {total} > 1")
        self.fractions = {k: float(f) for k, f in fractions.items()}

    @property
    def outlets(self):
        return (*self.fractions, "rest")

    def run(self, feed: Stream) -> JunctionResult:
        outs = {k: feed.scaled(f, name=k) for k, f in self.fractions.items()}
        rest = 1.0 - sum(self.fractions.values())
        outs["rest"] = feed.scaled(max(rest, 0.0), name="rest")
        return JunctionResult(outs, element_closure([feed], list(outs.values())),
                              charge_closure([feed], list(outs.values())))
