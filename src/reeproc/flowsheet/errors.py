"""Errors of the flowsheet layer that several of its modules raise or catch (kept apart so that
the engine and the spec solver need not import each other)."""

__all__ = ["FlowsheetError", "UnitFailure"]


class FlowsheetError(ValueError):
    """The flowsheet is wired wrongly (unknown port, stream with two sources, ...)."""


class UnitFailure(RuntimeError):
    """A unit raised while the flowsheet was solving; names the unit and keeps the cause."""
