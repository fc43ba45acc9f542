"""reeproc: process models for the hydrometallurgical recycling of NdFeB magnets.

Streams and property data live at the top level; the SX core, unit operations and flowsheets are
subpackages loaded on first use (``reeproc.sx``, ``reeproc.units``, ``reeproc.flowsheet``).
"""
from __future__ import annotations

import importlib

from ._version import __version__
from .data import DataError, MissingDataError, load_table
from .feeds import magnet_feed
from .stream import Stream, element_closure, mix

__all__ = ["__version__", "Stream", "mix", "element_closure", "load_table", "magnet_feed",
           "DataError", "MissingDataError"]

_SUBMODULES = {"sx", "units", "flowsheet", "species", "data", "feeds", "sweep", "optimise",
               "feedstock"}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'reeproc' has no attribute {name!r}")
