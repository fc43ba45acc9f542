"""Solvent-extraction (SX) cascade core.

Counter-current mixer-settler cascades (extraction, scrub and strip sections in one organic
train) solved by Newton's method with an analytical Jacobian and a block-tridiagonal solve in
numba kernels; pluggable equilibrium models (constant D, pH/dosage correlations, loading-aware
mass action); a scipy reference solver; and design tools (Kremser, Fenske, Xu minimum reflux,
McCabe-Thiele, stage-count design). See ``docs/sx.md``.
"""
from .batch import solve_batch
from .cascade import Cascade
from .results import (CascadeResult, ConvergenceError, ExtractantCapacityError,
                      NoAcidicSteadyStateError)
from .design import (DesignResult, design, design_balanced, fenske, fenske_sections, kremser,
                     kremser_stages, mccabe_thiele, xu_minimum_reflux, xu_stages)
from .models import (ConstantD, EquilibriumModel, Extractant, MassAction, PhCorrelation,
                     load_extractant)

__all__ = ["Cascade", "CascadeResult", "ConvergenceError", "NoAcidicSteadyStateError",
           "ExtractantCapacityError",
           "solve_batch", "ConstantD",
           "PhCorrelation", "MassAction", "EquilibriumModel", "Extractant", "load_extractant",
           "kremser", "kremser_stages", "fenske", "fenske_sections", "xu_minimum_reflux",
           "xu_stages", "mccabe_thiele", "design", "design_balanced", "DesignResult"]
