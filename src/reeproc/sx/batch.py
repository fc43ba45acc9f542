"""Fast batch path for SX-only sweeps: assemble the kernel arrays once per cascade *template* and
return lightweight results.

:func:`reeproc.sx.solve_batch` assembles every job with :meth:`Cascade._assemble` (Python loops
over stages and species, a few hundred microseconds) and builds a full :class:`CascadeResult`
(pandas frames and Streams, milliseconds) for every case. For a sweep of thousands of small
cascades that Python work, not the numba kernel, sets the speed.

:func:`solve_many` groups jobs that differ only in their *flows* [L/h] (same cascade shape,
model, efficiencies and inlet compositions [mol/L]): each group is assembled once with
``Cascade._assemble`` and the flow-dependent arrays (section flows, inlet molar flows, the
chloride / sulfate / proton-invariant tracers) are rebuilt for the whole group with numpy. The
arrays equal those of ``_assemble`` to rounding (checked in tests/test_sx_batch.py). The same
numba batch kernel as ``solve_batch`` (``_kernels.solve_batch_kernel``) then solves all cascades
in a ``prange`` loop, and :class:`BatchItem` gives recoveries and purities straight from the
arrays; ``BatchItem.full()`` builds the full :class:`CascadeResult` when needed.
"""
from __future__ import annotations

import math

import numpy as np

from . import _fallback as FB
from . import _kernels as K
from .results import ConvergenceError, NoAcidicSteadyStateError, PH_MAX, molar_purity

__all__ = ["solve_many", "solve_batch", "BatchItem", "assemble_many", "pack_batch"]


def _conc_sig(st):
    if st is None:
        return None
    return (st.phase, st.T_K, tuple(sorted(st.conc_mol_L.items())))


def _flow(st):
    return 0.0 if st is None else float(st.flow_L_h)


class BatchItem:
    """Result of one cascade of :func:`solve_many` (arrays only; no DataFrames, no Streams).

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

    __slots__ = ("cascade", "job", "converged", "iterations", "residual", "x", "y", "h", "f",
                 "species", "basis_species", "_outs", "_inflow", "_asm")

    def __init__(self, cascade, job, converged, iterations, residual, x, y, h, f, species,
                 outs, inflow, asm):
        self.cascade, self.job = cascade, job
        self.converged, self.iterations, self.residual = converged, iterations, residual
        self.x, self.y, self.h, self.f = x, y, h, f
        self.species = species
        self.basis_species = tuple(sp for sp in species if sp not in ("Na", "NH4+"))
        self._outs, self._inflow, self._asm = outs, inflow, asm

    @property
    def outlets(self) -> tuple:
        return tuple(self._outs)

    @property
    def failure_note(self) -> str:
        """Why a cascade that did not converge cannot have converged, where that is known
        (a saponified organic bringing more base than the aqueous brings acid + metal); ''
        otherwise or when converged."""
        if self.converged:
            return ""
        if self._asm["arrays"]["use_h"]:
            why = self.cascade._acidic_failure(self._asm, self.h)[0]
            if why:
                return why
        return self.cascade._base_excess_note(self._asm).lstrip("; ")

    def outlet_mol_h(self, outlet: str) -> dict:
        """Molar flows [mol/h] of the active species in ``outlet``."""
        if not self.converged:
            raise ValueError(f"the cascade did not converge (scaled residual "
                             f"{self.residual:.3e}): it has no outlet flows")
        if outlet not in self._outs:
            raise ValueError(f"outlet={outlet!r} is not an outlet of this cascade; "
                             f"allowed: {list(self._outs)}")
        return dict(zip(self.species, self._outs[outlet]))

    def recovery(self, species: str, outlet: str) -> float:
        """Fraction [-] of the species' total inflow [mol/h] leaving in ``outlet``."""
        if species not in self.species:
            raise ValueError(f"species={species!r} is not an active species {self.species}")
        i = self.species.index(species)
        tot = self._inflow[i]
        return float(self.outlet_mol_h(outlet)[species] / tot) if tot > 0 else math.nan

    def purity(self, species, outlet: str, basis=None) -> float:
        """Molar purity [-] of ``species`` (str or list) among ``basis`` species in ``outlet``
        (default basis: the extracted metals, saponification Na excluded)."""
        return molar_purity(self.outlet_mol_h(outlet), species,
                            tuple(basis) if basis is not None else self.basis_species)

    def full(self):
        """The full :class:`~reeproc.sx.CascadeResult` (re-assembles this job exactly)."""
        cas, kw = self.cascade, self.job
        asm = cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"), kw.get("strip"))
        return cas._result(asm, self.x, self.y, self.h, self.f, self.converged, self.iterations,
                           self.residual, "numba-batch")


def _tracer_many(e, Lup, Lout):
    """Vectorised ``Cascade._assemble`` tracer: c_j = (e_j + Lup_j c_{j+1}) / Lout_j, (g, nst[, S])."""
    c = np.zeros_like(e)
    nst = e.shape[1]
    extra = (slice(None),) + (None,) * (e.ndim - 2)
    for j in range(nst - 1, -1, -1):
        v = e[:, j]
        if j + 1 < nst:
            v = v + Lup[:, j][extra] * c[:, j + 1]
        c[:, j] = v / Lout[:, j][extra]
    return c


def assemble_many(jobs):
    """Kernel arrays for many jobs, each group of flow-only variants assembled once.

    Returns
    -------
    list of dict
        Per job: the ``arrays`` dict of ``Cascade._assemble`` plus ``active``, ``inert``,
        ``flows`` (F, Sc, St, O) and ``ext_inert``.
    """
    groups: dict = {}
    for idx, (cas, kw) in enumerate(jobs):
        key = (id(cas.model), cas.extraction, cas.scrub, cas.strip, cas.efficiency.tobytes(),
               _conc_sig(kw.get("feed")), _conc_sig(kw.get("organic")),
               _conc_sig(kw.get("scrub")), _conc_sig(kw.get("strip")))
        groups.setdefault(key, []).append(idx)
    out = [None] * len(jobs)
    for key, idxs in groups.items():
        cas0, kw0 = jobs[idxs[0]]
        asm0 = cas0._assemble(kw0.get("feed"), kw0.get("organic"), kw0.get("scrub"),
                              kw0.get("strip"))
        a0 = asm0["arrays"]
        n, m, k = cas0.extraction, cas0.scrub, cas0.strip
        nst = n + m + k
        fl0 = asm0["flows"]
        g = len(idxs)
        F = np.array([_flow(jobs[i][1].get("feed")) for i in idxs])
        Sc = np.array([_flow(jobs[i][1].get("scrub")) for i in idxs])
        St = np.array([_flow(jobs[i][1].get("strip")) for i in idxs])
        O = np.array([_flow(jobs[i][1].get("organic")) for i in idxs])
        for name, v in (("feed", F), ("organic", O)):
            if not np.all(v > 0):
                raise ValueError(f"{name} flow_L_h must be > 0 L/h in every job")
        Lout = np.empty((g, nst))
        Lout[:, :n] = (F + Sc)[:, None]
        Lout[:, n:n + m] = Sc[:, None]
        Lout[:, n + m:] = St[:, None]
        Lup = np.zeros((g, nst))
        Lup[:, :n - 1] = (F + Sc)[:, None]
        if m > 0:
            Lup[:, n - 1] = Sc
            Lup[:, n:n + m - 1] = Sc[:, None]
        if k > 0:
            Lup[:, n + m:nst - 1] = St[:, None]
        # inlet rows scale with their own flow: feed at n-1, scrub at n+m-1, strip at nst-1
        scale = np.ones((g, nst))
        scale[:, n - 1] = F / fl0["F"]
        if m > 0 and fl0["Sc"] > 0:
            scale[:, n + m - 1] = Sc / fl0["Sc"]
        if k > 0 and fl0["St"] > 0:
            scale[:, nst - 1] = St / fl0["St"]
        ext = a0["ext"][None] * scale[:, :, None]
        ext_inert = asm0["ext_inert"][None] * scale[:, :, None]
        ext_h = asm0["ext_h"][None] * scale
        ext_cl, ext_t = _inlet_cl_t(kw0, n, m, nst)
        chloride = _tracer_many(ext_cl[None] * scale, Lup, Lout)
        Ts = _tracer_many(ext_t[None] * scale, Lup, Lout)
        z = a0["z"]
        G = _tracer_many(ext_h + ext @ z, Lup, Lout) if a0["use_h"] else np.zeros((g, nst))
        model = cas0.model
        active = asm0["active"]
        k0_dep = _k0_depends_on_chloride(model, active, asm0["chloride"], a0["k0"])
        inert_conc = _tracer_many(ext_inert, Lup, Lout) if ext_inert.shape[2] else \
            np.zeros((g, nst, 0))
        for gi, i in enumerate(idxs):
            k0 = (model.coefficients(active, chloride[gi])["k0"] if k0_dep else a0["k0"])
            arrays = dict(a0, Lout=Lout[gi], Lup=Lup[gi], O=float(O[gi]), ext=ext[gi], G=G[gi],
                          Ts=Ts[gi], k0=k0)
            out[i] = dict(arrays=arrays, active=active, inert=asm0["inert"],
                          flows=dict(F=F[gi], Sc=Sc[gi], St=St[gi], O=O[gi]),
                          ext_inert=ext_inert[gi], inert_conc=inert_conc[gi],
                          chloride=chloride[gi], ext_h=ext_h[gi])
    return out


def _inlet_cl_t(kw, n, m, nst):
    """Chloride and total sulfate inlet flows [mol/h] per stage (as in ``Cascade._assemble``)."""
    ext_cl, ext_t = np.zeros(nst), np.zeros(nst)
    for name, j in (("feed", n - 1), ("scrub", n + m - 1), ("strip", nst - 1)):
        st = kw.get(name)
        if st is None:
            continue
        mol = st.mol_h
        ext_cl[j] += mol.get("Cl-", 0.0)
        ext_t[j] += mol.get("SO4-2", 0.0) + mol.get("HSO4-", 0.0)
    return ext_cl, ext_t


def _k0_depends_on_chloride(model, active, chloride, k0):
    probe = model.coefficients(active, chloride * 2.0 + 0.1)["k0"]
    return not np.array_equal(probe, k0)


def solve_many(jobs, tol: float = 1e-12, max_iter: int = 3000,
               chunksize: int | str | None = "auto", warm_start: bool = True):
    """Solve many cascades with the numba batch kernel; fast Python side (see module doc).

    Parameters
    ----------
    jobs : list of (Cascade, dict)
        As for :func:`reeproc.sx.solve_batch`; all jobs must extract the same ordered species.
    tol, max_iter
        As for :meth:`Cascade.solve`.
    chunksize : int, 'auto' or None
        Numba parallel chunk size for the ``prange`` over cascades. 'auto' (default) hands out
        about eight chunks per thread, which balances cascades whose iteration counts differ a
        lot without paying numba's per-chunk scheduling cost for every single cascade. None
        keeps numba's static schedule.
    warm_start : bool
        Solve each run of ``chunksize`` consecutive jobs in order, starting every cascade from
        the solution of the one before it when their stage counts match (default). Sweeps
        that change one parameter at a time then need a few Newton steps per case instead of a
        cold start (``benchmarks/test_bench_sweep.py`` measures both on saponified PC88A
        Pr/Nd cascades). A warm start that fails falls back to a cold start; results agree
        with cold-started ones to the solver tolerance.

    Returns
    -------
    list of BatchItem
        In job order; non-converged cascades are returned with ``converged=False``.
    """
    if not jobs:
        raise ValueError("jobs must be a non-empty list of (Cascade, kwargs)")
    for jb in jobs:
        if not (isinstance(jb, tuple) and len(jb) == 2 and isinstance(jb[1], dict)):
            raise ValueError(f"each job must be a (Cascade, dict) pair, got {jb!r}")
    asms = assemble_many(jobs)
    species = asms[0]["active"]
    for asm in asms:
        if asm["active"] != species:
            raise ValueError(f"all jobs must extract the same species; got {asm['active']} "
                             f"and {species}")
    nst = np.array([c.n_stages for c, _ in jobs], dtype=np.int64)
    args = pack_batch([asm["arrays"] for asm in asms], nst)
    import numba

    if chunksize == "auto":
        chunksize = max(1, len(jobs) // (8 * numba.get_num_threads()))
    chain = 0
    if warm_start and chunksize is not None and int(chunksize) > 1:
        # runs of `chunksize` jobs become the parallel work items, under numba's default
        # schedule (a forced chunk size would also apply to the array copies in the loop body)
        chain, chunksize = int(chunksize), None
    old = numba.get_parallel_chunksize() if chunksize is not None else None
    if chunksize is not None:
        numba.set_parallel_chunksize(int(chunksize))
    try:
        status, iters, resid, X, Y, H, Fr = FB.solve_batch_kernel(
            *args, float(tol), int(max_iter), 1, chain)
    finally:
        if chunksize is not None:
            numba.set_parallel_chunksize(old)
    # outlet molar flows [mol/h] and inflows, vectorised
    out = []
    for b, (cas, kw) in enumerate(jobs):
        n_, m_, k_ = cas.extraction, cas.scrub, cas.strip
        N = n_ + m_ + k_
        x, y = X[b, :N], Y[b, :N]
        a = asms[b]["arrays"]
        outs = {"raffinate": a["Lout"][0] * x[0], "loaded_organic": a["O"] * y[n_ + m_ - 1]}
        if k_ > 0:
            outs["strip_liquor"] = a["Lout"][n_ + m_] * x[n_ + m_]
            outs["stripped_organic"] = a["O"] * y[N - 1]
        inflow = a["ext"].sum(axis=0) + a["O"] * a["yin"]
        ok = bool(status[b] == K.OK)
        if ok and a["use_h"] and float(H[b, :N].min()) < 10.0 ** -PH_MAX:
            ok = False   # alkaline: refused like Cascade.solve (BatchItem.failure_note says why)
        out.append(BatchItem(cas, kw, ok, int(iters[b]), float(resid[b]),
                             x, y, H[b, :N], Fr[b, :N], tuple(species), outs, inflow, asms[b]))
    return out


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
    status, iters, resid, X, Y, H, Fr = FB.solve_batch_kernel(
        *pack_batch([asm["arrays"] for _, asm in asms], nst), float(tol), int(max_iter), 1, 0)
    out = []
    for b, (cas, asm) in enumerate(asms):
        n = cas.n_stages
        ok = status[b] == K.OK
        why = ""
        if ok and asm["arrays"]["use_h"]:
            why = cas._acidic_failure(asm, H[b, :n])[0]
            ok = not why
        if why and raise_on_failure:
            raise NoAcidicSteadyStateError(f"batch item {b} ({cas!r}): {why}",
                                           residual=float(resid[b]), iterations=int(iters[b]))
        if not ok and raise_on_failure:
            raise ConvergenceError(
                f"batch item {b} ({cas!r}) did not converge: scaled residual {resid[b]:.3e}, "
                f"{iters[b]} iterations (re-solve it alone with Cascade.solve for the worst "
                "stage and species)", residual=float(resid[b]), iterations=int(iters[b]))
        out.append(cas._result(asm, X[b, :n].copy(), Y[b, :n].copy(), H[b, :n].copy(),
                               Fr[b, :n].copy(), bool(ok), int(iters[b]), float(resid[b]),
                               "numba-batch"))
    return out
