"""In range means it works: every Param of every shipped flowsheet, at its bounds and interior
points, either solves with every element and charge balanced (<= 1e-8 relative) or is refused with
an error that names the parameter; never an internal conservation failure, never solver chatter.

The enumeration is generic: whatever PARAMETERS the scripts in flowsheets/ define, each is moved
alone (the others at their defaults) to its low bound, high bound, the quarter points and, for a
range over more than two decades, its geometric midpoint. A parameter without bounds (a name, a
choice) is tried at its default and at each of its ``choices`` when the Param has them.
"""
from pathlib import Path

import pytest

from reeproc.flowsheet.report import AUDIT_RTOL
from reeproc.flowsheet.script import run, script_parameters
from reeproc.units._balance import ConservationError

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "flowsheets").glob("*.py"))


def range_points(p) -> list:
    """Values a Param is tried at: bounds, quarter points, geometric midpoint of wide ranges."""
    if isinstance(p.default, str) or p.low is None or p.high is None:
        return list(dict.fromkeys([p.default, *(getattr(p, "choices", None) or ())]))
    lo, hi = float(p.low), float(p.high)
    vals = [lo, hi] + [lo + f * (hi - lo) for f in (0.25, 0.5, 0.75)]
    if lo > 0 and hi / lo > 100:
        vals.append((lo * hi) ** 0.5)
    if p.integer:
        vals = [int(round(v)) for v in vals]
    return list(dict.fromkeys(vals))


CASES = [(script, name) for script in SCRIPTS for name in script_parameters(script)]


def _chain(exc):
    out = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


@pytest.mark.parametrize("script, name", CASES, ids=[f"{s.stem}:{n}" for s, n in CASES])
def test_every_advertised_value_solves_balanced_or_is_refused_by_name(script, name, capfd):
    p = script_parameters(script)[name]
    failures = []
    for value in range_points(p):
        try:
            res = run(script, raise_on_failure=False, **{name: value})
        except Exception as exc:  # a refusal: it must name the parameter and not be a model bug
            chain = _chain(exc)
            text = " | ".join(str(e) for e in chain)
            if any(isinstance(e, ConservationError) for e in chain) or "bug" in text.lower():
                failures.append(f"{name}={value}: internal failure: {text[:300]}")
            elif name not in text:
                failures.append(f"{name}={value}: refusal does not name the parameter: {text[:300]}")
            continue
        if res.status != "solved":
            failures.append(f"{name}={value}: status {res.status!r} ({res.error})")
        elif not (res.max_balance_error <= AUDIT_RTOL and res.charge_balance_error <= AUDIT_RTOL):
            failures.append(f"{name}={value}: {res.audit_summary()}")
    out = capfd.readouterr().out
    assert "vcs" not in out and "Bailing" not in out, out[:500]
    assert not failures, "\n".join(failures)


def test_range_points_are_the_bounds_and_inside():
    from reeproc.flowsheet import Param

    assert range_points(Param(3, "stages [-]", 0, 60, integer=True)) == [0, 60, 15, 30, 45]
    pts = range_points(Param(1.0, "feed [kg/h]", 0.1, 1e5))
    assert min(pts) == 0.1 and max(pts) == 1e5 and any(abs(v - 100.0) < 1e-9 for v in pts)
    assert range_points(Param("EV_traction", "feed grade")) == ["EV_traction"]
