"""reeproc: process models for the hydrometallurgical recycling of NdFeB magnets.

Streams and property data live at the top level; the SX core, unit operations and flowsheets are
subpackages. Everything is imported on first use, so that ``import reeproc`` (and ``reeproc
--help``) does not pay for numpy, pandas, numba or scipy until they are needed.
"""
from __future__ import annotations

import importlib

from ._version import __version__

#: top-level name -> module that defines it
_NAMES = {"Stream": "stream", "mix": "stream", "element_closure": "stream",
          "load_table": "data", "DataError": "data", "MissingDataError": "data",
          "magnet_feed": "feeds"}

__all__ = ["__version__", "Stream", "mix", "element_closure", "load_table", "magnet_feed",
           "DataError", "MissingDataError"]

_SUBMODULES = {"sx", "units", "flowsheet", "species", "data", "feeds", "sweep", "optimise",
               "parallel", "stream", "cli", "feedstock"}


def __getattr__(name):
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'reeproc' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
