"""In range means it works: every Param of every shipped flowsheet, at its bounds, either solves
with every element and charge balanced (<= 1e-8 relative) or is refused with an error that names
the parameter; never an internal conservation failure, never solver chatter.

The enumeration is generic: whatever PARAMETERS the scripts in flowsheets/ define, each is moved
alone (the others at their defaults) to its low and high bound and, for a range over more than
two decades, its geometric midpoint; one test per value, so that pytest-xdist spreads them. A
parameter without bounds (a name, a choice) is tried at its default and at each of its
``choices``. ``REEPROC_RANGE_POINTS=quarters`` adds the quarter points of every range (the full
campaign: about four times the cases and the time).
"""
import os
from pathlib import Path

import pytest

from reeproc.flowsheet.report import AUDIT_RTOL
from reeproc.flowsheet.script import run, script_parameters
from reeproc.units._balance import ConservationError

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "flowsheets").glob("*.py"))
QUARTERS = os.environ.get("REEPROC_RANGE_POINTS", "bounds") == "quarters"


def range_points(p, quarters: bool = False) -> list:
    """Values a Param is tried at: its bounds, the geometric midpoint of a range over more than
    two decades and, with ``quarters``, the quarter points."""
    if isinstance(p.default, str) or p.low is None or p.high is None:
        return list(dict.fromkeys([p.default, *(getattr(p, "choices", None) or ())]))
    lo, hi = float(p.low), float(p.high)
    vals = [lo, hi]
    if quarters:
        vals += [lo + f * (hi - lo) for f in (0.25, 0.5, 0.75)]
    if lo > 0 and hi / lo > 100:
        vals.append((lo * hi) ** 0.5)
    if p.integer:
        vals = [int(round(v)) for v in vals]
    return list(dict.fromkeys(vals))


CASES = [(script, name, value) for script in SCRIPTS
         for name, p in script_parameters(script).items()
         for value in range_points(p, QUARTERS)]


def _chain(exc):
    out = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


@pytest.mark.parametrize("script, name, value", CASES,
                         ids=[f"{s.stem}:{n}={v:.4g}" if not isinstance(v, str) else
                              f"{s.stem}:{n}={v}" for s, n, v in CASES])
def test_every_advertised_value_solves_balanced_or_is_refused_by_name(script, name, value, capfd):
    _solves_or_is_refused_by_name(script, name, value, capfd)


def _solves_or_is_refused_by_name(script, name, value, capfd, **others):
    """Run ``script`` with ``name=value`` (and ``others``): solved and balanced, or refused by
    an error that names the parameter and is neither a conservation failure nor a bug."""
    try:
        res = run(script, raise_on_failure=False, **{name: value}, **others)
    except Exception as exc:  # a refusal: it must name the parameter and not be a model bug
        chain = _chain(exc)
        text = " | ".join(str(e) for e in chain)
        assert not any(isinstance(e, ConservationError) for e in chain), \
            f"{name}={value}: internal conservation failure: {text[:500]}"
        assert "bug" not in text.lower(), f"{name}={value}: internal failure: {text[:500]}"
        assert name in text, f"{name}={value}: refusal does not name the parameter: {text[:500]}"
    else:
        assert res.status == "solved", f"{name}={value}: status {res.status!r} ({res.error})"
        assert res.max_balance_error <= AUDIT_RTOL and res.charge_balance_error <= AUDIT_RTOL, \
            f"{name}={value}: {res.audit_summary()}"
    out = capfd.readouterr().out
    assert "vcs" not in out and "Bailing" not in out, out[:500]


REFERENCE = ROOT / "flowsheets" / "ndfeb_long_loop.py"
#: the SX5/SX6 scrub parameters act only on a feed with La, Ce, Sm and Gd: their bounds (the
#: scrub ranges narrowed to where they solve or refuse quickly) at the e_bike feed
EBIKE = [(name, v) for name in ("sx5_scrub_HCl_mol_L", "sx5_scrub_ratio", "sx6_scrub_HCl_mol_L",
                                "sx6_scrub_ratio")
         for v in range_points(script_parameters(REFERENCE)[name])]


@pytest.mark.parametrize("name, value", EBIKE, ids=[f"e_bike:{n}={v:.4g}" for n, v in EBIKE])
def test_reject_circuit_scrubs_at_their_bounds_on_the_e_bike_feed(name, value, capfd):
    _solves_or_is_refused_by_name(REFERENCE, name, value, capfd, feed="e_bike")


def test_range_points_are_the_bounds_and_inside():
    from reeproc.flowsheet import Param

    assert range_points(Param(3, "stages [-]", 0, 60, integer=True)) == [0, 60]
    assert range_points(Param(3, "stages [-]", 0, 60, integer=True), quarters=True) == \
        [0, 60, 15, 30, 45]
    pts = range_points(Param(1.0, "feed [kg/h]", 0.1, 1e5))
    assert min(pts) == 0.1 and max(pts) == 1e5 and any(abs(v - 100.0) < 1e-9 for v in pts)
    assert range_points(Param("EV_traction", "feed grade")) == ["EV_traction"]
