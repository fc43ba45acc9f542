"""Flowsheet scripts: the convention behind ``reeproc run``, ``reeproc params`` and sweeps.

A flowsheet script is a Python file that defines

* ``PARAMETERS``: a dict name -> :class:`Param` (default, description with units, bounds,
  integer flag), the knobs a sweep or an optimiser may turn;
* ``build(**params) -> Flowsheet``: builds the flowsheet for a parameter set;
* optionally ``SOLVE_OPTIONS``: keyword arguments for :meth:`Flowsheet.solve`.

and usually ``if __name__ == "__main__": print(run(__file__).report())``.

Flowsheet scripts are Python and run as such: loading one executes its code with the rights of
the user, like ``python script.py``. Run only scripts you trust.

A script that cannot be used raises :class:`ScriptError` (a ``ValueError``) naming the file and,
where there is one, the line: a syntax error, an import that fails, a file that is not Python
(``.csv``, ``.txt``), ``PARAMETERS`` that is not a dict of :class:`Param`, ``build`` whose
arguments do not match ``PARAMETERS``, or ``build`` returning something other than a Flowsheet.
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import math
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from .._validate import InputError, as_number

__all__ = ["Param", "ScriptError", "load_script", "script_parameters", "check_params", "run"]


class ScriptError(InputError):
    """A flowsheet script cannot be loaded or used; names the file and, if known, the line."""


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
    choices : tuple of str, optional
        The values a text parameter may take (a choice); any text when None.
    """

    default: object
    description: str
    low: float | None = None
    high: float | None = None
    integer: bool = False
    choices: tuple | None = None

    def check(self, name: str, value):
        """The value converted and checked (a number within ``[low, high]``, an integer if
        ``integer``, one of ``choices``; booleans are refused); raises :class:`InputError`
        naming the parameter."""
        if isinstance(self.default, str):
            if self.choices is not None and str(value) not in self.choices:
                raise InputError(f"parameter '{name}' ({self.description}) = {value!r}; "
                                 f"allowed: {', '.join(map(repr, self.choices))}")
            return str(value)
        label = f"parameter '{name}' ({self.description})"
        if self.integer and not isinstance(value, bool):
            try:  # 4.0 and "4" are the integer 4; 4.5 is refused below
                f = float(value)
                if math.isfinite(f) and abs(f - round(f)) <= 1e-9:
                    value = round(f)
            except (TypeError, ValueError):
                pass
        return as_number(label, value, low=self.low, high=self.high, integer=self.integer)


_MODULES: dict = {}


_HINT = "flowsheet scripts are Python files run as such; see reeproc.flowsheet.script"


def _script_line(exc, path: Path) -> str:
    """' line N' of the deepest traceback frame inside the script, or ''."""
    line = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path:
            line = f" line {frame.lineno}"
    return line


def load_script(path):
    """Import a flowsheet script (cached per resolved path and content).

    Raises
    ------
    ScriptError
        The file is missing, not a ``.py`` file, fails to compile or import, or does not define
        ``build`` and ``PARAMETERS`` (a dict of :class:`Param`).
    """
    p = Path(path).resolve()
    if p.is_dir():
        raise ScriptError(f"flowsheet script '{path}' is a folder; give a .py file")
    if not p.is_file():
        raise ScriptError(f"flowsheet script '{path}' does not exist")
    if p.suffix != ".py":
        raise ScriptError(f"flowsheet script '{path}' is not a Python file (.py); {_HINT}")
    try:
        code = p.read_bytes()
    except OSError as exc:
        raise ScriptError(f"flowsheet script '{path}' cannot be read: {exc.strerror}") from None
    key = (str(p), hashlib.sha1(code).hexdigest())
    mod = _MODULES.get(key)
    if mod is None:
        name = f"reeproc_flowsheet_{p.stem}_{key[1][:8]}"
        spec = importlib.util.spec_from_file_location(name, p)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except SyntaxError as exc:
            sys.modules.pop(name, None)
            raise ScriptError(f"flowsheet script '{path}' line {exc.lineno}: {exc.msg} "
                              f"({_HINT})") from None
        except SystemExit as exc:
            sys.modules.pop(name, None)
            raise ScriptError(f"flowsheet script '{path}'{_script_line(exc, p)} called "
                              f"sys.exit({exc.code!r}) while loading; guard it with "
                              "if __name__ == '__main__'") from None
        except Exception as exc:  # anything the script's own code raises while loading
            sys.modules.pop(name, None)
            raise ScriptError(f"flowsheet script '{path}'{_script_line(exc, p)} failed to load: "
                              f"{type(exc).__name__}: {exc}") from exc
        _check_script(mod, path)
        _MODULES[key] = mod
    return mod


def _check_script(mod, path) -> None:
    for attr in ("build", "PARAMETERS"):
        if not hasattr(mod, attr):
            raise ScriptError(f"flowsheet script '{path}' defines no '{attr}' ({_HINT})")
    params = mod.PARAMETERS
    if not isinstance(params, dict) or not all(isinstance(v, Param) for v in params.values()):
        raise ScriptError(f"flowsheet script '{path}': PARAMETERS must be a dict name -> "
                          f"Param(default, description, low, high), got {type(params).__name__}")
    if not callable(mod.build):
        raise ScriptError(f"flowsheet script '{path}': build must be a function")
    try:
        sig = inspect.signature(mod.build)
        sig.bind(**{k: p.default for k, p in params.items()})
    except (TypeError, ValueError) as exc:
        raise ScriptError(f"flowsheet script '{path}': build{_signature(mod.build)} cannot take "
                          f"the PARAMETERS {sorted(params)} as keywords ({exc})") from None
    opts = getattr(mod, "SOLVE_OPTIONS", {})
    if not isinstance(opts, dict):
        raise ScriptError(f"flowsheet script '{path}': SOLVE_OPTIONS must be a dict of "
                          f"Flowsheet.solve keywords, got {type(opts).__name__}")


def _signature(fn) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"


def script_parameters(path) -> dict:
    """The ``PARAMETERS`` of a flowsheet script (name -> Param)."""
    return dict(load_script(path).PARAMETERS)


def check_params(parameters: dict, given: dict) -> dict:
    """Validate ``given`` against ``parameters`` and fill defaults; unknown names raise."""
    unknown = set(given) - set(parameters)
    if unknown:
        raise InputError(f"unknown parameter(s) {sorted(unknown)}; known: {sorted(parameters)}")
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
    from .engine import Flowsheet

    mod = load_script(path)
    values = check_params(mod.PARAMETERS, params)
    try:
        fs = mod.build(**values)
    except (ValueError, LookupError, RuntimeError):
        raise  # refusals of parameter values and failures that name themselves
    except Exception as exc:
        raise ScriptError(f"flowsheet script '{path}'{_script_line(exc, Path(path).resolve())}: "
                          f"build() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(fs, Flowsheet):
        raise ScriptError(f"flowsheet script '{path}': build() must return a Flowsheet, "
                          f"got {type(fs).__name__}")
    opts = dict(getattr(mod, "SOLVE_OPTIONS", {}))
    opts["raise_on_failure"] = raise_on_failure
    try:
        res = fs.solve(specs=specs, **opts)
    except RuntimeError as exc:
        named = _named_refusal(exc, params)
        if named is exc:
            raise
        raise named from exc
    res.parameters = values
    return res


def _named_refusal(exc, params):
    """A design spec that cannot be met, or a unit that refuses what reaches it, at the
    parameters given: the refusal names them (the cause stays chained)."""
    from .errors import UnitFailure
    from .specs import SpecError

    if not params or not isinstance(exc, (SpecError, UnitFailure)):
        return exc
    given = ", ".join(f"{k}={v!r}" for k, v in params.items())
    if isinstance(exc, SpecError):
        return exc.with_context(f"at the parameters given: {given}")
    return UnitFailure(f"{exc}; at the parameters given: {given}")
