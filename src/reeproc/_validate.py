"""Checks of user input shared by the API and the command line: numbers and output paths.

Every refusal is an :class:`InputError` (a ``ValueError``) whose message names the parameter, the
value given and what is allowed, on one line.

>>> as_number("saponification", "0.4", low=0.0, high=1.0, high_open=True)
0.4
>>> as_number("max_iter", 200, low=1, integer=True)
200
>>> as_number("saponification", "abc", low=0.0, high=1.0)
Traceback (most recent call last):
...
reeproc._validate.InputError: saponification must be a number in [0, 1], got 'abc'
>>> as_number("D", True)
Traceback (most recent call last):
...
reeproc._validate.InputError: D must be a number, got True (a boolean is not a number)
"""
from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

__all__ = ["InputError", "as_number", "describe_range", "check_output_file", "check_output_dir"]


class InputError(ValueError):
    """A user-given value is refused; the message names the parameter, the value and what is
    allowed."""


def describe_range(low=None, high=None, low_open=False, high_open=False, integer=False) -> str:
    """'a number in [0, 1)', 'an integer >= 1', 'a number > 0', ... for messages."""
    kind = "an integer" if integer else "a number"
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high:g}"
    return kind


def as_number(name: str, value, *, low=None, high=None, low_open: bool = False,
              high_open: bool = False, integer: bool = False):
    """Return ``value`` as a float (an int when ``integer``), or raise :class:`InputError`.

    Parameters
    ----------
    name : str
        Parameter name used in the message ('saponification', '--purity', 'ConstantD D[Nd]').
    value : number or str
        A real number or its text ('0.4'); booleans, None, NaN and infinities are refused.
    low, high : float, optional
        Bounds; closed unless ``low_open`` / ``high_open``.
    integer : bool
        Require a whole number.

    Raises
    ------
    InputError
        Naming ``name``, the value and the allowed range.
    """
    allowed = describe_range(low, high, low_open, high_open, integer)
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise InputError(f"{name} must be {allowed}, got {value!r} (a boolean is not a number)")
    if isinstance(value, str):
        try:
            v = float(value.strip())
        except ValueError:
            raise InputError(f"{name} must be {allowed}, got {value!r}") from None
    elif isinstance(value, numbers.Real):
        v = float(value)
    else:
        raise InputError(f"{name} must be {allowed}, got {value!r}")
    if not math.isfinite(v):
        raise InputError(f"{name} must be {allowed}, got {value!r} (not finite)")
    if integer:
        if v != round(v):
            raise InputError(f"{name} must be {allowed}, got {value!r}")
        v = int(round(v))
    below = low is not None and (v <= low if low_open else v < low)
    above = high is not None and (v >= high if high_open else v > high)
    if below or above:
        raise InputError(f"{name} must be {allowed}, got {value!r}")
    return v


def _nearest_existing(p: Path) -> Path:
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _probe(option: str, path, folder: Path) -> None:
    """Create and remove a probe file in ``folder``: permission bits alone miss read-only and
    virtual file systems (nothing is left behind)."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".reeproc-probe-"):
            pass
    except OSError as exc:
        raise InputError(f"{option} '{path}': cannot write in '{folder}' "
                         f"({exc.strerror or exc})") from None


def check_output_dir(option: str, path) -> Path:
    """Check, before any work, that ``path`` is or can be made a writable directory.

    Nothing is created. Raises :class:`InputError` naming ``option`` when ``path`` is an
    existing file or lies where the user cannot write.
    """
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise InputError(f"{option} '{path}' is an existing file, not a directory")
    base = _nearest_existing(p.absolute())
    if not base.is_dir():
        raise InputError(f"{option} '{path}': '{base}' is a file, not a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{option} '{path}': no permission to write in '{base}'")
    _probe(option, path, base)
    return p


def check_output_file(option: str, path, suffixes=None, create_parent: bool = False) -> Path:
    """Check, before any work, that the file ``path`` can be written.

    Parameters
    ----------
    option : str
        Option name for the message ('--json').
    path : str or Path
    suffixes : tuple of str, optional
        Allowed endings ('.csv', '.parquet').
    create_parent : bool
        Whether a missing parent folder will be created (else it must exist).
    """
    p = Path(path).expanduser()
    if suffixes and p.suffix not in suffixes:
        raise InputError(f"{option} '{path}' must end in {' or '.join(suffixes)}")
    if p.is_dir():
        raise InputError(f"{option} '{path}' is a directory; give a file name")
    parent = p.absolute().parent
    if not parent.exists() and not create_parent:
        raise InputError(f"{option} '{path}': folder '{p.parent}' does not exist")
    base = _nearest_existing(parent)
    if not base.is_dir():
        raise InputError(f"{option} '{path}': '{base}' is a file, not a directory")
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"{option} '{path}': no permission to overwrite the file")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{option} '{path}': no permission to write in '{base}'")
    _probe(option, path, base)
    return p
