"""Fast batch path for SX-only sweeps: vectorised assembly, one parallel kernel call, results
kept as arrays.

:func:`reeproc.sx.solve_batch` assembles every job with :meth:`Cascade._assemble` (Python loops
over stages and species, a few hundred microseconds) and builds a full :class:`CascadeResult`
(pandas frames and Streams, milliseconds) for every case. For a sweep of thousands of small
cascades that Python work, not the numba kernel, sets the speed.

:func:`solve_many` packs the jobs with :func:`._pack.pack_jobs` (each cascade *template* - same
shape, model, efficiencies and inlet compositions [mol/L] - assembled once, the flow-dependent
arrays of all its jobs built with numpy straight into the padded kernel inputs), solves the
whole batch in one ``prange`` kernel call - constant-D cascades with equilibrium stages in the
direct tridiagonal kernel :func:`._linear_batch.solve_linear_batch` (GIL released), every other
batch in ``_fallback.solve_batch_kernel`` - and returns :class:`BatchItem` views of one
:class:`Batch`, whose outlet flows, recoveries and purities are computed for all cases at once
on first use. ``BatchItem.full()`` builds the full :class:`CascadeResult` when needed.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from . import _kernels as K
from ._batch_rescue import continue_failed, features, over_saponified
from ._pack import _padded, pack_jobs
from .results import (MASS_TOL, ConvergenceError, ExtractantCapacityError,
                      NoAcidicSteadyStateError, PH_MAX)

__all__ = ["solve_many", "solve_batch", "Batch", "BatchItem", "assemble_many", "pack_batch"]

_OUTLETS = ("raffinate", "loaded_organic", "strip_liquor", "stripped_organic")
_ALWAYS = _OUTLETS[:2]     # outlets of every cascade (the strip ones need a strip section)


class Batch:
    """Solutions of a packed batch of cascades, as arrays (B cascades, padded to nmax stages).

    Attributes
    ----------
    packed : reeproc.sx._pack.Packed
        The kernel inputs (``packed.jobs``: the jobs).
    status, iterations : ndarray (B,) of int
    residual : ndarray (B,)
        Largest scaled stage residual [-].
    converged : ndarray (B,) of bool
        Solved, and acidic in every stage where the model follows [H+].
    X, Y : ndarray (B, nmax, S)
        Aqueous and organic concentrations [mol/L] of the active species.
    species : tuple
        The active species (columns of X and Y).
    """

    def __init__(self, packed, status, iters, resid, X, Y, H=None, Fr=None):
        self.packed, self.species = packed, packed.species
        self.status, self.iterations, self.residual = status, iters, resid
        self.X, self.Y, self._H, self._Fr = X, Y, H, Fr
        ok = status == K.OK
        if H is not None:
            use_h = packed.template_array("use_h").astype(bool)
            if use_h.any():   # alkaline: refused like Cascade.solve (failure_note says why)
                hmin = np.where(np.arange(H.shape[1])[None] < packed.nst[:, None], H, np.inf)
                ok &= ~(use_h & (hmin.min(axis=1) < 10.0 ** -PH_MAX))
        self._cache = {}
        # a species held inside the cascade at many times its inflow: the overall balance
        # cannot close to MASS_TOL in double precision; refused like Cascade.solve
        self._unbalanced = ok & (self._overall_imbalance() > MASS_TOL)
        ok &= ~self._unbalanced
        self.converged = ok
        self.basis_species = tuple(sp for sp in self.species if sp not in ("Na", "NH4+"))
        self._ok = ok.tolist()               # per-item look-ups (BatchItem) in plain Python
        self._strip = (packed.k > 0).tolist()
        self._cols = {}                      # (kind, species, outlet, basis) -> list
        self._notes = {}                     # b -> (the last attempt's diagnosis, refusal, O)

    @property
    def H(self):
        """[H+] per stage [mol/L] (B, nmax); 1 where the model does not follow it."""
        if self._H is None:
            self._H = np.ones(self.X.shape[:2])
        return self._H

    @property
    def F(self):
        """Free extractant per stage (B, nmax), in the model's units."""
        if self._Fr is None:
            fT = self.packed.template_array("fT").astype(float)
            self._Fr = np.repeat(fT[:, None], self.X.shape[1], axis=1)
        return self._Fr

    def __len__(self):
        return len(self.status)

    def _overall_imbalance(self) -> np.ndarray:
        """(B,) largest |in - out| / in [-] over the species with an inflow, of each
        cascade's overall balance (out: raffinate, organic leaving the last stage, strip
        liquor), as ``CascadeResult.mass_balance_residual``."""
        p = self.packed
        r = np.arange(len(self.status))
        fl = p.flows
        out = ((fl[:, 0] + fl[:, 2])[:, None] * self.X[:, 0]
               + fl[:, 1, None] * self.Y[r, p.nst - 1]
               + np.where((p.k > 0)[:, None],
                          fl[:, 3, None] * self.X[r, np.minimum(p.n + p.m, p.nst - 1)], 0.0))
        tot = self.inflow
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(tot > 0, np.abs(tot - out) / np.where(tot > 0, tot, 1.0), 0.0)
        return rel.max(axis=1) if rel.size else np.zeros(len(self.status))

    def items(self) -> list:
        """One :class:`BatchItem` per cascade, in job order."""
        return [BatchItem(self, b) for b in range(len(self.status))]

    def outlet(self, outlet: str) -> np.ndarray:
        """Molar flows [mol/h] of the active species in ``outlet`` (B, S); NaN rows for the
        cascades without that outlet (no strip section) and for those that did not converge."""
        key = ("outlet", outlet)
        if key not in self._cache:
            if outlet not in _OUTLETS:
                raise ValueError(f"outlet={outlet!r}; allowed: {list(_OUTLETS)}")
            p = self.packed
            r = np.arange(len(self.status))
            nm = p.n + p.m
            fl = p.flows
            if outlet == "raffinate":    # aqueous flows as Cascade._assemble forms them
                v = (fl[:, 0] + fl[:, 2])[:, None] * self.X[:, 0]
            elif outlet == "loaded_organic":
                v = fl[:, 1, None] * self.Y[r, nm - 1]
            elif outlet == "strip_liquor":
                v = fl[:, 3, None] * self.X[r, np.minimum(nm, p.nst - 1)]
            else:
                v = fl[:, 1, None] * self.Y[r, p.nst - 1]
            bad = ~self.converged
            if outlet in ("strip_liquor", "stripped_organic"):
                bad = bad | (p.k == 0)
            v[bad] = np.nan
            self._cache[key] = v
        return self._cache[key]

    @property
    def inflow(self) -> np.ndarray:
        """Total inflow [mol/h] of each active species (B, S)."""
        if "inflow" not in self._cache:
            p = self.packed   # the stage inflows summed in stage order, then the organic's
            feed, scrub, strip = p.inlets
            self._cache["inflow"] = (feed + scrub + strip
                                     + p.flows[:, 1, None] * p.template_array("yin"))
        return self._cache["inflow"]

    def recovery(self, species: str, outlet: str) -> np.ndarray:
        """Fraction [-] of the species' total inflow [mol/h] leaving in ``outlet`` (B,); NaN
        where it has no inflow, no such outlet or did not converge."""
        key = ("recovery", species, outlet)
        if key not in self._cache:
            if species not in self.species:
                raise ValueError(f"species={species!r} is not an active species "
                                 f"{self.species}")
            i = self.species.index(species)
            tot = self.inflow[:, i]
            with np.errstate(divide="ignore", invalid="ignore"):
                self._cache[key] = np.where(tot > 0, self.outlet(outlet)[:, i] / tot, np.nan)
        return self._cache[key]

    def purity(self, species, outlet: str, basis=None) -> np.ndarray:
        """Molar purity [-] of ``species`` (str or list) among ``basis`` species in ``outlet``
        (B,) (default basis: the extracted metals, saponification Na excluded); NaN where the
        basis flows sum to zero, no such outlet or not converged."""
        targets = (species,) if isinstance(species, str) else tuple(species)
        basis = self.basis_species if basis is None else tuple(basis)
        key = ("purity", targets, outlet, basis)
        if key not in self._cache:
            for t in targets:
                if t not in basis:
                    raise ValueError(f"species={t!r} is not in the purity basis {basis}")
            v = self.outlet(outlet)
            zero = np.zeros(len(v))

            def total(names):   # summed in order from 0, as reeproc.sx.results.molar_purity
                s = zero
                for sp in names:
                    if sp in self.species:
                        s = s + v[:, self.species.index(sp)]
                return s

            tot = total(basis)
            with np.errstate(divide="ignore", invalid="ignore"):
                self._cache[key] = np.where(tot > 0, total(targets) / tot, np.nan)
        return self._cache[key]

    def failure_note(self, b: int) -> str:
        """Why cascade ``b`` cannot have converged, where that is known (see
        :attr:`BatchItem.failure_note`)."""
        if self.converged[b]:
            return ""
        if b in self._notes:   # the last attempt's own diagnosis
            return self._notes[b][0].lstrip("; ")
        cas, kw = self.packed.jobs[b]
        asm = cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"), kw.get("strip"))
        if self._unbalanced[b]:
            n = cas.n_stages
            return cas._accumulation_note(asm, self.X[b, :n], self.Y[b, :n])[0]
        if asm["arrays"]["use_h"]:
            why = cas._acidic_failure(asm, self.H[b, :cas.n_stages])[0]
            if why:
                return why
        return cas._base_excess_note(asm).lstrip("; ")


    def error(self, b: int) -> str:
        """'' for a converged cascade ``b``, else its ConvergenceError text (residual,
        iterations and :meth:`failure_note`), as a sweep records it."""
        if self.converged[b]:
            return ""
        note = self.failure_note(b)
        return (f"ConvergenceError: scaled residual {self.residual[b]:.3e} after "
                f"{self.iterations[b]} iterations" + (f"; {note}" if note else ""))


@contextmanager
def numba_threads(threads):
    """Run the block with ``threads`` numba threads (None: numba's current setting), restoring
    the setting on exit; a count outside [1, NUMBA_NUM_THREADS] is refused by name."""
    import numba

    old = numba.get_num_threads()
    if threads is not None:
        if not 1 <= int(threads) <= numba.config.NUMBA_NUM_THREADS:
            raise ValueError(f"threads must lie in [1, {numba.config.NUMBA_NUM_THREADS}], "
                             f"got {threads}")
        numba.set_num_threads(int(threads))
    try:
        yield numba.get_num_threads()
    finally:
        numba.set_num_threads(old)


class BatchItem:
    """Result of one cascade of :func:`solve_many`: a view of row ``b`` of a :class:`Batch`
    (arrays only; no DataFrames, no Streams).

    Attributes
    ----------
    converged : bool
    iterations : int
    residual : float
        Largest scaled stage residual [-].
    x, y : ndarray (n_stages, S)
        Aqueous and organic concentrations [mol/L] of the active species.
    h, f : ndarray (n_stages,)
        [H+] [mol/L] and free extractant per stage.
    species : tuple
        Active (modelled) species, the columns of x and y.
    """

    __slots__ = ("batch", "b")

    def __init__(self, batch: Batch, b: int):
        self.batch, self.b = batch, b

    cascade = property(lambda self: self.batch.packed.jobs[self.b][0])
    job = property(lambda self: self.batch.packed.jobs[self.b][1])
    converged = property(lambda self: bool(self.batch.converged[self.b]))
    iterations = property(lambda self: int(self.batch.iterations[self.b]))
    residual = property(lambda self: float(self.batch.residual[self.b]))
    species = property(lambda self: self.batch.species)
    basis_species = property(lambda self: self.batch.basis_species)
    _n = property(lambda self: int(self.batch.packed.nst[self.b]))
    x = property(lambda self: self.batch.X[self.b, :self._n])
    y = property(lambda self: self.batch.Y[self.b, :self._n])
    h = property(lambda self: self.batch.H[self.b, :self._n])
    f = property(lambda self: self.batch.F[self.b, :self._n])

    @property
    def outlets(self) -> tuple:
        return _OUTLETS if self.batch.packed.k[self.b] > 0 else _OUTLETS[:2]

    @property
    def failure_note(self) -> str:
        """Why a cascade that did not converge cannot have converged, where that is known
        (a saponified organic bringing more base than the aqueous brings acid + metal); ''
        otherwise or when converged."""
        return self.batch.failure_note(self.b)

    def _check(self, outlet):
        if not self.batch._ok[self.b]:
            raise ValueError(f"the cascade did not converge (scaled residual "
                             f"{self.residual:.3e}): it has no outlet flows")
        if outlet not in self.outlets:
            raise ValueError(f"outlet={outlet!r} is not an outlet of this cascade; "
                             f"allowed: {list(self.outlets)}")

    def outlet_mol_h(self, outlet: str) -> dict:
        """Molar flows [mol/h] of the active species in ``outlet``."""
        self._check(outlet)
        return dict(zip(self.species, self.batch.outlet(outlet)[self.b]))

    def _column(self, key, outlet, compute):
        """Entry b of a batch-wide column (computed once for all cascades, kept as a list);
        the checks of :meth:`_check` come first."""
        bt, b = self.batch, self.b
        try:
            col = bt._cols[key]
        except (KeyError, TypeError):   # (TypeError: a list argument, not hashable)
            col = None
        if col is None or not bt._ok[b] or (outlet in _OUTLETS[2:] and not bt._strip[b]):
            self._check(outlet)
            col = compute().tolist()
            try:
                bt._cols[key] = col
            except TypeError:
                pass
        return col[b]

    def recovery(self, species: str, outlet: str) -> float:
        """Fraction [-] of the species' total inflow [mol/h] leaving in ``outlet``."""
        try:   # fast path: a column already computed, a converged cascade with that outlet
            bt, b = self.batch, self.b
            if bt._ok[b] and (outlet in _ALWAYS or bt._strip[b]):
                return bt._cols["r", species, outlet][b]
        except (KeyError, TypeError):
            pass
        if species not in self.batch.species:
            raise ValueError(f"species={species!r} is not an active species {self.species}")
        return self._column(("r", species, outlet), outlet,
                            lambda: self.batch.recovery(species, outlet))

    def purity(self, species, outlet: str, basis=None) -> float:
        """Molar purity [-] of ``species`` (str or list) among ``basis`` species in ``outlet``
        (default basis: the extracted metals, saponification Na excluded)."""
        try:   # fast path, as in recovery
            bt, b = self.batch, self.b
            if bt._ok[b] and (outlet in _ALWAYS or bt._strip[b]):
                return bt._cols["p", species, outlet, basis][b]
        except (KeyError, TypeError):
            pass
        return self._column(("p", species, outlet, basis), outlet,
                            lambda: self.batch.purity(species, outlet, basis))

    def full(self):
        """The full :class:`~reeproc.sx.CascadeResult` (re-assembles this job exactly)."""
        cas, kw = self.cascade, self.job
        asm = cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"), kw.get("strip"))
        return cas._result(asm, self.x, self.y, self.h, self.f, self.converged, self.iterations,
                           self.residual, "numba-batch")


def assemble_many(jobs):
    """Kernel arrays for many jobs, each cascade template assembled once (:func:`._pack.pack_jobs`).

    Returns
    -------
    list of dict
        Per job: the ``arrays`` dict of ``Cascade._assemble`` plus ``active``, ``inert``,
        ``flows`` (F, Sc, St, O), ``ext_h``, ``ext_inert``, ``inert_conc`` and ``chloride``.
    """
    p = pack_jobs(jobs, extras=True)
    out = [None] * len(jobs)
    for grp in p.groups:
        asm0 = grp["asm"]
        a0 = asm0["arrays"]
        fl = grp["flows"]
        for gi, i in enumerate(grp["idx"]):
            n = int(p.nst[i])
            arrays = dict(a0, Lout=p.Lout[i, :n], Lup=p.Lup[i, :n], O=float(p.O[i]),
                          ext=p.ext[i, :n], G=p.G[i, :n], Ts=p.Ts[i, :n], k0=p.k0[i, :n])
            out[i] = dict(arrays=arrays, active=asm0["active"], inert=asm0["inert"],
                          flows={key: fl[key][gi] for key in fl},
                          ext_h=grp["ext_h"][gi], ext_inert=grp["ext_inert"][gi],
                          inert_conc=grp["inert_conc"][gi], chloride=grp["chloride"][gi])
    return out


def _chain_and_chunk(B, chunksize, warm_start):
    """(chain, numba chunk size) of the nonlinear batch kernel (see :func:`solve_many`)."""
    import numba

    if chunksize == "auto":
        nth = numba.get_num_threads()
        # chained warm starts: one run per thread (numba's default schedule hands each thread
        # an equal block of runs anyway, and every run starts cold)
        chunksize = -(-B // nth) if warm_start else max(1, B // (8 * nth))
    if warm_start and chunksize is not None and int(chunksize) > 1:
        # runs of `chunksize` jobs become the parallel work items, under numba's default
        # schedule (a forced chunk size would also apply to the array copies in the loop body)
        return int(chunksize), None
    return 0, chunksize


def solve_packed(packed, tol: float = 1e-12, max_iter: int = 3000,
                 chunksize: int | str | None = "auto", warm_start: bool = True) -> Batch:
    """Solve packed jobs (:func:`._pack.pack_jobs`) in one kernel call; see :func:`solve_many`.

    Only numba code runs long here: a sweep may call this from a worker thread while Python
    builds the next chunk (the linear kernel releases the GIL).
    """
    if packed.linear:
        from ._linear_batch import solve_linear_batch

        tpl = packed.tpl
        tmax = max(len(a["arrays"]["k0"]) for a in tpl)
        status, resid, X, Y = solve_linear_batch(
            packed.n, packed.m, packed.k, packed.flows, *packed.inlets, packed.ginv,
            np.array([_padded(a["arrays"]["k0"], tmax) for a in tpl]),
            np.array([a["arrays"]["yin"] for a in tpl]),
            np.array([float(a["arrays"]["fT"]) for a in tpl]), int(packed.nst.max()),
            float(tol))
        return Batch(packed, status, np.ones(len(status), dtype=np.int64), resid, X, Y)
    import numba

    from . import _fallback as FB

    chain, chunksize = _chain_and_chunk(len(packed.nst), chunksize, warm_start)
    old = numba.get_parallel_chunksize() if chunksize is not None else None
    if chunksize is not None:
        numba.set_parallel_chunksize(int(chunksize))
    asms: dict = {}   # (the assemblies of the failed jobs, made when needed)
    short = over_saponified(packed)
    feat = features(packed) if chain > 1 else np.zeros((len(packed.nst), 1))
    try:
        status, iters, resid, X, Y, H, Fr = FB.solve_batch_kernel(
            *packed.args, float(tol), int(max_iter), 1, chain, 10.0 ** -PH_MAX, short, feat)
    finally:
        if chunksize is not None:
            numba.set_parallel_chunksize(old)

    def assemble(b):
        if b not in asms:
            cas, kw = packed.jobs[b]
            asms[b] = cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"),
                                    kw.get("strip"))
        return asms[b]

    failed = [(b, packed.jobs[b][0], assemble(b)) for b in np.flatnonzero(status != K.OK)]
    notes = continue_failed(failed, status, iters, resid, X, Y, H, Fr, tol, max_iter,
                             (packed.nst, feat, short) if chain > 1 else None, assemble)
    batch = Batch(packed, status, iters, resid, X, Y, H, Fr)
    batch._notes = notes
    return batch


def solve_many(jobs, tol: float = 1e-12, max_iter: int = 3000,
               chunksize: int | str | None = "auto", warm_start: bool = True):
    """Solve many cascades with the numba batch kernels; fast Python side (see module doc).

    Parameters
    ----------
    jobs : list of (Cascade, dict)
        As for :func:`reeproc.sx.solve_batch`; all jobs must extract the same ordered species.
    tol, max_iter
        As for :meth:`Cascade.solve`.
    chunksize : int, 'auto' or None
        Numba parallel chunk size for the ``prange`` over nonlinear cascades. 'auto' (default)
        hands out about eight chunks per thread for cold starts, which balances cascades
        whose iteration counts differ a lot without paying numba's per-chunk scheduling cost
        for every single cascade, and one run per thread for warm starts (numba's static
        schedule gives each thread an equal block of runs anyway, and each run starts cold).
        None keeps numba's static schedule.
    warm_start : bool
        Solve each run of ``chunksize`` consecutive jobs in order, starting every cascade from
        the solution of the nearest (in flows and inlets) of the last 32 in its run that
        converged with its stage count, and of the last one (the last first where it is
        within 10x as far; see :func:`._fallback.solve_batch_kernel`) (default). Sweeps
        that change one parameter at a time then need a few Newton steps per case instead
        of a cold start (``benchmarks/test_bench_sweep.py``
        measures both on saponified PC88A Pr/Nd cascades). A warm start that fails falls back
        to a cold start; results agree with cold-started ones to the solver tolerance. A
        batch of constant-D cascades with equilibrium stages needs none: each is solved
        directly (1 iteration).

    Returns
    -------
    list of BatchItem
        In job order; non-converged cascades are returned with ``converged=False``.
    """
    return solve_packed(pack_jobs(jobs), tol, max_iter, chunksize, warm_start).items()


def pack_batch(arrays: list, nst: np.ndarray) -> tuple:
    """Kernel inputs of many assembled cascades, padded along the stage axis to the longest.

    ``arrays`` holds each cascade's ``_assemble(...)["arrays"]``; ``nst`` (B,) their stage
    counts. Returns the leading arguments of :func:`_kernels.solve_batch_kernel` (nst through
    use_f). Padding stages carry unit aqueous flow and no inflow; the kernel never reads them.
    """
    B, nmax = len(arrays), int(nst.max())
    S = arrays[0]["ext"].shape[1]
    Lout = np.ones((B, nmax)); Lup = np.zeros((B, nmax)); G = np.zeros((B, nmax))
    Ts = np.zeros((B, nmax)); eta = np.ones((B, nmax))
    ext = np.zeros((B, nmax, S)); k0 = np.zeros((B, nmax, S))
    O = np.zeros(B); fT = np.zeros(B)
    yin = np.zeros((B, S)); kf = np.zeros((B, S)); kh = np.zeros((B, S)); kfh = np.zeros((B, S))
    sc = np.zeros((B, S)); z = np.zeros((B, S))
    use_h = np.zeros(B, dtype=np.bool_); use_f = np.zeros(B, dtype=np.bool_)
    for b, a in enumerate(arrays):
        n = nst[b]
        Lout[b, :n] = a["Lout"]; Lup[b, :n] = a["Lup"]; G[b, :n] = a["G"]; Ts[b, :n] = a["Ts"]
        eta[b, :n] = a["eta"]; ext[b, :n] = a["ext"]; k0[b, :n] = a["k0"]
        O[b] = a["O"]; fT[b] = a["fT"]; yin[b] = a["yin"]; kf[b] = a["kf"]; kh[b] = a["kh"]
        kfh[b] = a["kfh"]; sc[b] = a["sc"]; z[b] = a["z"]
        use_h[b] = a["use_h"]; use_f[b] = a["use_f"]
    return (nst, Lout, Lup, O, ext, yin, k0, kf, kh, kfh, sc, z, fT, G, Ts, arrays[0]["Ka"],
            eta, use_h, use_f)


def solve_batch(jobs, tol: float = 1e-12, max_iter: int = 3000, raise_on_failure: bool = True):
    """Solve many cascades in one call (numba ``prange`` over cascades).

    Parameters
    ----------
    jobs : list of (Cascade, dict)
        Each dict holds the keyword arguments of :meth:`Cascade.solve` (feed, organic, scrub,
        strip). Cascades may differ in stage counts, flows, feeds and models, but must extract
        the same ordered list of active species.

    Returns
    -------
    list of CascadeResult
    """
    if not jobs:
        raise ValueError("jobs must be a non-empty list of (Cascade, kwargs)")
    asms = []
    for jb in jobs:
        try:
            cas, kw = jb
        except (TypeError, ValueError):
            raise ValueError(f"each job must be a (Cascade, dict) pair, got {jb!r}") from None
        kw = dict(kw)
        asms.append((cas, cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"),
                                        kw.get("strip"))))
    species = asms[0][1]["active"]
    for cas, asm in asms:
        if asm["active"] != species:
            raise ValueError(f"all jobs must extract the same species; got {asm['active']} "
                             f"and {species}")
    nst = np.array([c.n_stages for c, _ in asms], dtype=np.int64)
    from . import _fallback as FB

    short = np.array([bool(cas._base_excess_note(asm)) for cas, asm in asms], dtype=np.bool_)
    status, iters, resid, X, Y, H, Fr = FB.solve_batch_kernel(
        *pack_batch([asm["arrays"] for _, asm in asms], nst), float(tol), int(max_iter), 1, 0,
        10.0 ** -PH_MAX, short, np.zeros((len(nst), 1)))
    notes = continue_failed([(b, c, a) for b, (c, a) in enumerate(asms) if status[b] != K.OK],
                             status, iters, resid, X, Y, H, Fr, tol, max_iter)
    out = []
    for b, (cas, asm) in enumerate(asms):
        n = cas.n_stages
        ok = status[b] == K.OK
        why = ""
        if ok and asm["arrays"]["use_h"]:
            why = cas._acidic_failure(asm, H[b, :n])[0]
            ok = not why
        note, refusal, o_min = notes.get(b, ("", "", float("nan")))
        if refusal:
            why = note.lstrip("; ")
        if why and raise_on_failure:
            if refusal == "capacity":
                raise ExtractantCapacityError(f"batch item {b} ({cas!r}): {why}",
                                              organic_flow_min=o_min,
                                              residual=float(resid[b]),
                                              iterations=int(iters[b]))
            raise NoAcidicSteadyStateError(f"batch item {b} ({cas!r}): {why}",
                                           residual=float(resid[b]), iterations=int(iters[b]))
        if not ok and raise_on_failure:
            raise ConvergenceError(
                f"batch item {b} ({cas!r}) did not converge: scaled residual {resid[b]:.3e}, "
                f"{iters[b]} iterations (re-solve it alone with Cascade.solve for the worst "
                f"stage and species){note}", residual=float(resid[b]),
                iterations=int(iters[b]))
        if not ok and not why:   # (as Cascade.solve)
            why = f"did not converge: residual {resid[b]:.3e}{note}"
        out.append(cas._audited(asm, X[b, :n].copy(), Y[b, :n].copy(), H[b, :n].copy(),
                                Fr[b, :n].copy(), bool(ok), int(iters[b]), float(resid[b]),
                                "numba-batch", raise_on_failure, why,
                                where=f"batch item {b} ({cas!r}): "))
    return out
