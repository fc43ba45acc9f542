"""Element balances and shared helpers for the unit operations.

Every unit reports ``balance``: a table of element flows in and out [mol/h] and the relative
closure ``|out - in| / max(in, out)``, and next to it ``charge_balance``: the net charge in and out
[eq/h] and its closure relative to the ionic flow. Units call :func:`element_balance` and
:func:`charge_balance` on *all* streams that cross their boundary (feeds, reagents dosed inside
the unit, products) and :func:`assert_closed` to stop on a conservation failure rather than
return a wrong answer.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from ..stream import Stream, charge_closure, element_closure

__all__ = [
    "element_balance",
    "charge_balance",
    "assert_closed",
    "ConservationError",
    "BALANCE_RTOL",
    "check_number",
    "check_in_range",
    "check_stream",
    "check_neutral",
]

#: Relative closure every unit must meet on every element and on charge.
BALANCE_RTOL = 1e-10


def element_balance(inlets: Iterable[Stream], outlets: Iterable[Stream]) -> pd.DataFrame:
    """Element balance over a unit.

    Parameters
    ----------
    inlets, outlets : iterables of Stream
        Everything that enters (feeds and reagents) and everything that leaves.

    Returns
    -------
    pandas.DataFrame
        Index = element; columns ``in [mol/h]``, ``out [mol/h]``, ``out - in [mol/h]`` and
        ``relative closure [-]`` = ``|out - in| / max(|in|, |out|)`` (0 where both are 0).
    """
    # the same sums as the stream-level closure, under the unit-table column name
    return element_closure(inlets, outlets).rename(
        columns={"relative error": "relative closure [-]"})


class ConservationError(RuntimeError):
    """A unit model lost or created matter or charge (closure above ``BALANCE_RTOL``)."""


def charge_balance(inlets: Iterable[Stream], outlets: Iterable[Stream]) -> pd.DataFrame:
    """Charge balance over a unit (companion of :func:`element_balance`).

    Returns
    -------
    pandas.DataFrame
        Index ``charge``; columns ``in [eq/h]``, ``out [eq/h]``, ``out - in [eq/h]``,
        ``ionic [eq/h]`` and ``relative closure [-]`` = ``|out - in| / ionic``
        (see :func:`reeproc.stream.charge_closure`).
    """
    return charge_closure(inlets, outlets).rename(
        columns={"relative error": "relative closure [-]"})


def assert_closed(balance: pd.DataFrame, unit: str, rtol: float = BALANCE_RTOL,
                  charge: pd.DataFrame | None = None) -> None:
    """Raise ConservationError if any element balance (or the charge balance, when given) misses
    ``rtol``: a conservation failure of the unit model, never a property of the input, so the
    message gives the closure to report."""
    bad: dict = {}
    for table, what in ((balance, "element"), (charge, "charge")):
        if table is None or len(table) == 0:
            continue
        worst = table["relative closure [-]"].astype(float)
        for k, v in worst[~(worst <= rtol)].items():
            bad[k] = float(v)
    if bad:
        raise ConservationError(
            f"{unit}: conservation fails: relative closure above {rtol:g} for "
            f"{ {k: float(f'{v:.3e}') for k, v in bad.items()} } (element and charge flows in "
            "the unit's balance and charge_balance tables); the unit model lost or created "
            "matter: please report it with the inputs")


def check_number(value, name: str, lo=None, hi=None, *, lo_open=False, hi_open=False,
                 unit: str = "") -> float:
    """Validate a scalar parameter; raise ValueError naming it, its value and the allowed range.

    Nothing is clipped: a value outside ``[lo, hi]`` (or the open interval where requested)
    raises.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number{(' ' + unit) if unit else ''}, "
                         f"got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    lo_bad = lo is not None and (v <= lo if lo_open else v < lo)
    hi_bad = hi is not None and (v >= hi if hi_open else v > hi)
    if lo_bad or hi_bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        rng = f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
        raise ValueError(f"{name} = {v} {unit}".rstrip() + f" is outside the allowed range {rng}"
                         + (f" {unit}" if unit else ""))
    return v


def check_in_range(value, name, lo, hi, unit=""):
    """Shorthand for :func:`check_number` with a closed range."""
    return check_number(value, name, lo, hi, unit=unit)


def check_stream(stream, port: str, phase: str | tuple, unit: str) -> Stream:
    """Check that an inlet is a Stream of the expected phase."""
    phases = (phase,) if isinstance(phase, str) else tuple(phase)
    if not isinstance(stream, Stream):
        raise ValueError(f"{unit}: inlet '{port}' must be a reeproc Stream, got "
                         f"{type(stream).__name__}")
    if stream.phase not in phases:
        raise ValueError(f"{unit}: inlet '{port}' must be a {' or '.join(phases)} stream, "
                         f"got a {stream.phase} stream ({stream.name!r})")
    return stream


def check_neutral(stream: Stream, port: str, unit: str, rtol: float = BALANCE_RTOL) -> Stream:
    """Raise ValueError if an inlet is not electroneutral (net charge above ``rtol`` of its ionic
    flow): a liquor whose ions do not balance cannot be calcined, precipitated or neutralised
    with charge conserved, so the unit refuses it and names the missing charge."""
    q, ionic = stream.charge_eq_h(), stream.ionic_eq_h()
    if abs(q) > rtol * ionic:
        sign = "anions (e.g. Cl-)" if q > 0 else "cations (e.g. H+)"
        raise ValueError(
            f"{unit}: inlet '{port}' ({stream.name!r}) is not electroneutral: net charge "
            f"{q:+.6g} eq/h against {ionic:.6g} eq/h of ions; add {abs(q):.6g} eq/h of {sign} "
            "so that its ions balance")
    return stream


def nonzero(d: Mapping[str, float], floor: float = 0.0) -> dict:
    """Entries of a mapping with value > floor."""
    return {k: v for k, v in d.items() if v > floor}
