"""Flowsheets: units joined by named streams, solved sequentially with recycle convergence.

See :class:`Flowsheet` and :mod:`reeproc.flowsheet.engine` for the unit protocol.
"""
from .convergence import RecycleConvergenceError, solve_fixed_point
from .engine import Flowsheet, FlowsheetError, UnitFailure
from .junctions import Mixer, Splitter
from .report import PURITY_TARGET, FlowsheetResult
from .script import Param, load_script, run, script_parameters

__all__ = ["Flowsheet", "FlowsheetError", "FlowsheetResult", "Mixer", "Splitter",
           "RecycleConvergenceError", "UnitFailure", "solve_fixed_point", "PURITY_TARGET",
           "Param", "load_script", "run", "script_parameters"]
