"""Flowsheet scripts: the convention behind ``reeproc run``, ``reeproc params`` and sweeps.

A flowsheet script is a Python file that defines

* ``PARAMETERS``: a dict name -> :class:`Param` (default, description with units, bounds,
  integer flag), the knobs a sweep or an optimiser may turn;
* ``build(**params) -> Flowsheet``: builds the flowsheet for a parameter set;
* optionally ``SOLVE_OPTIONS``: keyword arguments for :meth:`Flowsheet.solve`.

and usually ``if __name__ == "__main__": print(run(__file__).report())``.
"""
from __future__ import annotations

import hashlib
import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Param", "load_script", "script_parameters", "check_params", "run"]


@dataclass(frozen=True)
class Param:
    """A flowsheet parameter.

    Attributes
    ----------
    default : float or int or str
    description : str
        What it is, with units in brackets ('HCl strip acid [mol/L]').
    low, high : float, optional
        Bounds a sweep or optimiser may use; values outside raise ValueError.
    integer : bool
        Stage counts and other integers.
    """

    default: object
    description: str
    low: float | None = None
    high: float | None = None
    integer: bool = False

    def check(self, name: str, value):
        if isinstance(self.default, str):
            return str(value)
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"parameter '{name}' must be a number, got {value!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"parameter '{name}' must be finite, got {value!r}")
        if self.integer:
            if abs(v - round(v)) > 1e-9:
                raise ValueError(f"parameter '{name}' ({self.description}) must be an integer, got {value!r}")
            v = int(round(v))
        if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
            raise ValueError(f"parameter '{name}' ({self.description}) = {value!r} is outside "
                             f"[{self.low}, {self.high}]")
        return v


_MODULES: dict = {}


def load_script(path):
    """Import a flowsheet script (cached per resolved path and content)."""
    p = Path(path).resolve()
    if not p.is_file():
        raise ValueError(f"flowsheet script '{path}' does not exist")
    key = (str(p), hashlib.sha1(p.read_bytes()).hexdigest())
    mod = _MODULES.get(key)
    if mod is None:
        name = f"reeproc_flowsheet_{p.stem}_{key[1][:8]}"
        spec = importlib.util.spec_from_file_location(name, p)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        for attr in ("build", "PARAMETERS"):
            if not hasattr(mod, attr):
                raise ValueError(f"flowsheet script '{path}' defines no '{attr}' "
                                 "(see reeproc.flowsheet.script)")
        _MODULES[key] = mod
    return mod


def script_parameters(path) -> dict:
    """The ``PARAMETERS`` of a flowsheet script (name -> Param)."""
    return dict(load_script(path).PARAMETERS)


def check_params(parameters: dict, given: dict) -> dict:
    """Validate ``given`` against ``parameters`` and fill defaults; unknown names raise."""
    unknown = set(given) - set(parameters)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; known: {sorted(parameters)}")
    out = {}
    for name, p in parameters.items():
        out[name] = p.check(name, given[name]) if name in given else p.default
    return out


def run(path, raise_on_failure: bool = True, specs: bool = True, **params):
    """Build and solve a flowsheet script with the given parameters.

    ``specs=False`` solves without the design specs the script attaches (the manipulated
    variables stay at their parameter values).

    Returns
    -------
    reeproc.flowsheet.FlowsheetResult
    """
    mod = load_script(path)
    values = check_params(mod.PARAMETERS, params)
    fs = mod.build(**values)
    opts = dict(getattr(mod, "SOLVE_OPTIONS", {}))
    opts["raise_on_failure"] = raise_on_failure
    try:
        res = fs.solve(specs=specs, **opts)
    except RuntimeError as exc:
        named = _spec_context(exc, params)
        if named is exc:
            raise
        raise named from exc
    res.parameters = values
    return res


def _spec_context(exc, params):
    """A design spec that cannot be met at the parameters given: the refusal names them."""
    from .specs import SpecError

    if not isinstance(exc, SpecError) or not params:
        return exc
    given = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return exc.with_context(f"at the parameters given: {given}")
