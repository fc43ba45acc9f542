"""SX sweeps given as arrays of parameters: no Python object per case.

:func:`reeproc.sweep.sx_sweep` calls the user's ``make_job`` and ``evaluate`` once per case and
builds a row dict per case; for small constant-D cascades that Python work costs more than the
kernel. :func:`sx_sweep_arrays` takes fixed inlet compositions [mol/L] and arrays of stage
counts and flows [L/h], packs each chunk with numpy (one ``Cascade._assemble`` per cascade
shape), solves it in one kernel call (:func:`reeproc.sx.batch.solve_packed`) and computes the
purities and recoveries of all cases at once. The results equal those of :meth:`Cascade.solve`
on ``Stream.aqueous(flow, composition)`` inlets (the inlet molar flows are formed the same way,
``concentration * flow``).

>>> from reeproc import sx
>>> df = sx_sweep_arrays(sx.ConstantD({"Pr": 1.0, "Nd": 1.5}), {"Pr": 0.05, "Nd": 0.15}, {},
...                      extraction=[20, 30], scrub=20, scrub_solution={"Cl-": 0.1},
...                      feed_flow=1.0, organic_flow=[4.0, 5.0], scrub_flow=5.0, threads=1)
>>> list(df.columns[:4])
['extraction', 'scrub', 'strip', 'feed flow [L/h]']
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..stream import Stream
from . import _pack
from .cascade import Cascade

__all__ = ["sx_sweep_arrays"]

_FLOWS = ("feed flow [L/h]", "organic flow [L/h]", "scrub flow [L/h]", "strip flow [L/h]")


def _broadcast(named: dict) -> int:
    """Length B of the sweep: every array parameter has the same length (scalars repeat)."""
    sizes = {k: np.size(v) for k, v in named.items() if np.ndim(v) > 0}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"array parameters must have the same length, got {sizes}")
    return next(iter(sizes.values()), 1)


def _stages(name, v, B, low):
    a = np.broadcast_to(np.asarray(v), (B,))
    if a.dtype.kind not in "iu" or np.any(a < low):
        raise ValueError(f"{name} must hold integers >= {low}, got {v!r}")
    return a.astype(np.int64)


def _flow(name, v, B, needed):
    a = np.broadcast_to(np.asarray(v, dtype=float), (B,)) if v is not None else np.zeros(B)
    bad = needed & ~(np.isfinite(a) & (a > 0))
    if bad.any():
        raise ValueError(f"{name} must be > 0 L/h for every case that has the stream; case "
                         f"{int(np.flatnonzero(bad)[0])} has {a[bad][0]}")
    return np.where(needed, a, 0.0)


class _Jobs:
    """The (Cascade, solve kwargs) of each case, built only when asked for (failure notes,
    ``BatchItem.full``)."""

    def __init__(self, cascades, shape, comp, flows):
        self.cascades, self.shape, self.comp, self.flows = cascades, shape, comp, flows

    def __len__(self):
        return len(self.shape)

    def __getitem__(self, b):
        F, O, Sc, St = self.flows[b]
        kw = dict(feed=Stream.aqueous(F, self.comp[0]), organic=Stream.organic(O, self.comp[1]))
        if Sc > 0:
            kw["scrub"] = Stream.aqueous(Sc, self.comp[2])
        if St > 0:
            kw["strip"] = Stream.aqueous(St, self.comp[3])
        return self.cascades[self.shape[b]], kw


def _inflows(comp, flow, species, present):
    """(B, S) molar flows [mol/h] of ``species`` and (B, 3) proton-invariant, total-sulfate and
    chloride sums of one inlet role, formed as ``Stream`` forms them (conc * flow)."""
    def mol(sp):
        return float(comp[sp]) * flow if sp in comp else np.zeros(len(flow))

    rows = np.column_stack([mol(sp) for sp in species]) if species else np.zeros((len(flow), 0))
    sca = np.column_stack([mol("H+") + mol("HSO4-") - mol("OH-"), mol("SO4-2") + mol("HSO4-"),
                           mol("Cl-")])
    rows[~present] = 0.0
    sca[~present] = 0.0
    return rows, sca


def sx_sweep_arrays(model, feed: dict, organic: dict, *, extraction, scrub=0, strip=0,
                    scrub_solution: dict | None = None, strip_solution: dict | None = None,
                    feed_flow=1.0, organic_flow=1.0, scrub_flow=None, strip_flow=None,
                    efficiency=1.0, figures=None, threads: int | None = None,
                    chunk: int = 16384, tol: float = 1e-10, max_iter: int = 3000,
                    warm_start: bool = True) -> pd.DataFrame:
    """Sweep SX cascades of fixed inlet compositions over arrays of stage counts and flows.

    Parameters
    ----------
    model : EquilibriumModel
        The equilibrium model of every case.
    feed, organic : dict
        Compositions [mol/L] of the aqueous feed and the organic inlet.
    extraction, scrub, strip : int or array of int
        Stage counts per case; a case has a scrub (strip) inlet when its scrub (strip) stage
        count is > 0.
    scrub_solution, strip_solution : dict, optional
        Compositions [mol/L] of the scrub and strip inlets (required when a case has them).
    feed_flow, organic_flow, scrub_flow, strip_flow : float or array
        Flows [L/h] per case.
    efficiency : float
        Murphree efficiency of every stage (0, 1].
    figures : list of (kind, species, outlet), optional
        ``kind`` 'purity' or 'recovery', ``species`` a name (or, for purity, a list), outlet as
        :meth:`BatchItem.purity`. Default: purity and recovery of each extracted metal in the
        raffinate and the loaded organic (and the strip liquor when a case has a strip section).
    threads : int, optional
        Numba threads (default: numba's current setting).
    chunk : int
        Cases per kernel call (memory: about 60 bytes per stage and species per case).
    tol, max_iter, warm_start
        As for :func:`reeproc.sx.batch.solve_many`.

    Returns
    -------
    pandas.DataFrame
        One row per case: the stage counts and flows, ``converged``, ``iterations``, ``error``
        and one column ``'<species> <kind> <outlet> [-]'`` per figure.
    """
    from .batch import numba_threads, solve_packed

    B = _broadcast(dict(extraction=extraction, scrub=scrub, strip=strip, feed_flow=feed_flow,
                        organic_flow=organic_flow, scrub_flow=scrub_flow, strip_flow=strip_flow))
    nmk = np.column_stack([_stages("extraction", extraction, B, 1), _stages("scrub", scrub, B, 0),
                           _stages("strip", strip, B, 0)])
    has = [np.ones(B, bool), np.ones(B, bool), nmk[:, 1] > 0, nmk[:, 2] > 0]
    flows = np.column_stack([_flow(name, v, B, h) for name, v, h in zip(
        ("feed_flow", "organic_flow", "scrub_flow", "strip_flow"),
        (feed_flow, organic_flow, scrub_flow, strip_flow), has)])
    comp = (dict(feed), dict(organic), dict(scrub_solution or {}), dict(strip_solution or {}))
    # distinct (n, m, k): np.unique on one int64 key per case (a row-wise unique sorts
    # structured rows, ~10x slower)
    base = int(nmk.max()) + 1
    keys, shape = np.unique((nmk[:, 0] * base + nmk[:, 1]) * base + nmk[:, 2],
                            return_inverse=True)
    shapes = np.column_stack([keys // (base * base), keys // base % base, keys % base])
    shape = shape.reshape(-1)
    cascades = [Cascade(model, *map(int, s), efficiency=efficiency) for s in shapes]
    jobs = _Jobs(cascades, shape, comp, flows)
    nmax = int(nmk.sum(axis=1).max())
    eta = np.array([_pack._padded(c.efficiency, nmax, 1.0) for c in cascades])
    tpl = [_pack.template(*jobs[int(np.flatnonzero(shape == g)[0])])
           for g in range(len(shapes))]
    species = _pack.common_species(tpl)
    parts = []
    with numba_threads(threads):
        for i in range(0, B, chunk):
            sl = slice(i, min(B, i + chunk))
            parts.append(_solve_chunk(jobs, sl, tpl, shape, nmk, flows, has, comp, species, eta,
                                      solve_packed, tol, max_iter, warm_start))
    cols = {"extraction": nmk[:, 0], "scrub": nmk[:, 1], "strip": nmk[:, 2]}
    for j, name in enumerate(_FLOWS):
        if has[j].any():
            cols[name] = flows[:, j]
    cols["converged"] = np.concatenate([b.converged for _, b in parts])
    cols["iterations"] = np.concatenate([b.iterations for _, b in parts])
    errors = []
    for _, b in parts:
        e = np.full(len(b), "", dtype=object)
        for i in np.flatnonzero(~np.asarray(b.converged)):
            e[i] = b.error(int(i))
        errors.append(e)
    cols["error"] = np.concatenate(errors)
    if figures is None:
        outlets = ["raffinate", "loaded_organic"] + (["strip_liquor"] if has[3].any() else [])
        figures = [(kind, sp, o) for o in outlets for sp in parts[0][1].basis_species
                   for kind in ("purity", "recovery")]
    for kind, sp, o in figures:
        if kind not in ("purity", "recovery"):
            raise ValueError(f"figure kind {kind!r}; allowed: 'purity', 'recovery'")
        name = sp if isinstance(sp, str) else "+".join(sp)
        cols[f"{name} {kind} {o} [-]"] = np.concatenate(
            [getattr(b, kind)(sp, o) for _, b in parts])
    df = pd.DataFrame(cols)
    df.index.name = "case"
    return df


def _solve_chunk(jobs, sl, tpl, shape, nmk, flows, has, comp, species, eta, solve_packed, tol,
                 max_iter, warm_start):
    """Pack and solve cases ``sl``: returns (slice, Batch)."""
    g = shape[sl]
    n, m, k = (np.ascontiguousarray(nmk[sl, c]) for c in range(3))
    fl = np.ascontiguousarray(flows[sl])
    inl, sca = [], []
    for role in (0, 2, 3):
        rows, s = _inflows(comp[role], fl[:, role], species, has[role][sl])
        inl.append(rows)
        sca.append(s)
    packed = _pack.finish(_SubJobs(jobs, sl.start), tpl, g, inl, sca, fl, n, m, k, eta, g)
    return sl, solve_packed(packed, tol, max_iter, "auto", warm_start)


class _SubJobs:
    """Jobs of one chunk (offset into the sweep's :class:`_Jobs`)."""

    def __init__(self, jobs, start):
        self.jobs, self.start = jobs, start

    def __getitem__(self, b):
        return self.jobs[self.start + b]
