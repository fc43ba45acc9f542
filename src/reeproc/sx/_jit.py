"""The two numba decorators of the SX kernels (one place for the compile options).

* :func:`kernel` - an entry called from Python: ``@njit(cache=True, error_model="numpy")``.
* :func:`inner` - a helper called only from other kernels: the same, without the CPython and
  C-function wrappers. Every compiled function's wrappers are linked into (and optimised again
  with) each kernel that calls it; a helper with ~40 array arguments has a wrapper larger than
  its body, so leaving them out shortens the first-run compile (``docs/sx.md``, Performance).
* :func:`inlined` - a helper whose code numba inlines into its compiled callers: numba
  optimises and emits each compiled function's whole call tree again in every caller, so
  the batch kernel's drivers, each called from one place, are inlined instead.
* :func:`released` - an entry called from Python that releases the GIL while it runs (the
  arclength of a batch's stage counts, run in threads of their own).
"""
from __future__ import annotations

from numba import njit

_OPTS = dict(cache=True, error_model="numpy")


def kernel(fn):
    """Numba-compile ``fn`` as an entry point callable from Python."""
    return njit(**_OPTS)(fn)


def inner(fn):
    """Numba-compile ``fn`` as a helper callable only from other compiled functions."""
    return njit(no_cpython_wrapper=True, no_cfunc_wrapper=True, **_OPTS)(fn)


def inlined(fn):
    """Numba-compile ``fn`` as a helper whose code numba inlines into each compiled caller
    (no library of its own to optimise and emit again; for the batch path's drivers)."""
    return njit(inline="always", **_OPTS)(fn)


def released(fn):
    """Numba-compile ``fn`` as an entry point that runs without the GIL."""
    return njit(nogil=True, **_OPTS)(fn)
