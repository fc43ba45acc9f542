"""Element balances and shared helpers for the unit operations.

Every unit reports ``balance``: a table of element flows in and out [mol/h] and the relative
closure ``|out - in| / max(in, out)``. Units call :func:`element_balance` on *all* streams that
cross their boundary (feeds, reagents dosed inside the unit, products) and :func:`assert_closed`
to stop on a conservation bug rather than return a wrong answer.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from ..stream import Stream, element_closure

__all__ = [
    "element_balance",
    "assert_closed",
    "BALANCE_RTOL",
    "check_number",
    "check_in_range",
    "check_stream",
]

#: Relative closure every unit must meet on every element.
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


def assert_closed(balance: pd.DataFrame, unit: str, rtol: float = BALANCE_RTOL) -> None:
    """Raise RuntimeError if any element balance misses ``rtol`` (a modelling bug, not bad input)."""
    if len(balance) == 0:
        return
    worst = balance["relative closure [-]"].astype(float)
    bad = worst[worst > rtol]
    if len(bad):
        raise RuntimeError(
            f"{unit}: element balance does not close to {rtol:g} relative for "
            f"{dict(bad.round(16))}; this is a bug in the unit model")


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


def nonzero(d: Mapping[str, float], floor: float = 0.0) -> dict:
    """Entries of a mapping with value > floor."""
    return {k: v for k, v in d.items() if v > floor}
