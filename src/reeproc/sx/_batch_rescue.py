"""The batch solver's choices and last attempts in Python (:mod:`.batch` calls them around its
kernel): the jobs' features, by which a warm start is the nearest solved case; the jobs that
the over-saponification diagnosis concerns; and, for the items the kernel leaves unsolved,
Newton or the arclength from their nearest solved neighbour, then the attempts of
:meth:`Cascade.solve` after its kernel (continuations, the base arclength, the fall-back).
"""
from __future__ import annotations

import numba
import numpy as np

from . import _kernels as K
from ._pack import _ARGS
from ._diagnosis import BASE_SPECIES, base_excess
from .results import PH_MAX

WARM_ITER = 100            # Newton iterations of a last attempt's warm start (as the kernel's)


def features(packed) -> np.ndarray:
    """(B, nf) features of the jobs, for choosing a warm start: asinh(v / 1e-12) of the
    flows [L/h], the inlets' molar flows [mol/h] (species, acid, sulfate, chloride) and the
    organic inlet [mol/L] (so a difference is that of ln v where v >> 1e-12, and a present
    or absent inlet is far), and 1e3 times the model's constants (total extractant, the
    coefficients of ln D, each species' mean log10 K over the stages: other models are far;
    equal ones in other Cascade objects are not)."""
    cols = [packed.flows, *packed.inlets, *packed.inlet_sums, packed.template_array("yin")]
    f = np.arcsinh(np.hstack([np.asarray(c, dtype=float).reshape(len(packed.nst), -1)
                              for c in cols]) / 1e-12)
    model = np.array([np.concatenate([[a["arrays"]["fT"]], a["arrays"]["kf"], a["arrays"]["kh"],
                                      a["arrays"]["kfh"], a["arrays"]["sc"],
                                      a["arrays"]["k0"].mean(axis=0)])
                      for a in packed.tpl], dtype=float)[packed.ginv]
    return np.ascontiguousarray(np.hstack([f, 1e3 * model]))


def nearest_acidic(b, n, near, status, H) -> int:
    """The batch item nearest b in features (``near`` = (stage counts, features,
    over-saponified flags): one of b's own kind first) among those with n stages, solved and
    acidic; -1 when none."""
    nst, feat, short = near
    ok = (nst == n) & (status == K.OK)
    ok[b] = False
    idx = np.flatnonzero(ok)
    if idx.size:
        idx = idx[H[idx, :n].min(axis=1) >= 10.0 ** -PH_MAX]
    if not idx.size:
        return -1
    d = np.abs(feat[idx] - feat[b]).sum(axis=1) + 1e6 * (short[idx] != short[b])
    return int(idx[np.argmin(d)])


def over_saponified(packed) -> np.ndarray:
    """(B,) bool: the jobs whose saponified organic brings more base than the feed and scrub
    bring acid and the organic can load metal in exchange: the balance of
    :func:`._diagnosis.base_excess_note` (:func:`._diagnosis.base_excess`), whose message the failed
    ones get, for every job at once from the packed inflows (the acid: the proton invariant
    of the feed and scrub [mol/h])."""
    base_sp = np.array([sp in BASE_SPECIES for sp in packed.species])
    if not base_sp.any():
        return np.zeros(len(packed.nst), dtype=bool)
    feed, scrub, _ = packed.inlets
    z, sc, yin, fT = (packed.template_array(k) for k in ("z", "sc", "yin", "fT"))
    base, _, _, _, taken = base_excess(base_sp, z, sc, yin, packed.O, fT, feed + scrub)
    acid = packed.inlet_sums[0][:, 0] + packed.inlet_sums[1][:, 0]
    return packed.template_array("use_h").astype(bool) & (base > 0) & (base > acid + taken)


def continue_failed(failed, status, iters, resid, X, Y, H, Fr, tol, max_iter,
                     near=None, assemble=None) -> dict:
    """The last attempts of :meth:`Cascade.solve` for the failed cascades ``failed``
    [(b, cascade, assembly)] of a batch: continuations in the sulfate, the saponification,
    the acid and the organic flow; for an over-saponified one (which skipped the fall-back in
    the kernel) the base arclength, then the fall-back. With ``near`` (chained warm starts:
    stage counts, features, over-saponified flags; see :func:`nearest_acidic`), each first
    tries Newton from the nearest acidic solution with its stage count (``WARM_ITER``
    iterations), those solved here included, so a run of over-saponified neighbours needs
    one arclength; where Newton cannot reach it from there, the arclength from that
    neighbour's cascade to its own (``assemble(b)``: the assembly of batch item b). A solved
    one is written into the batch's arrays; returns {b: (diagnosis, refusal, organic
    flow)} for the others (:meth:`Cascade._continue`)."""
    from ._arclength import between, follow, solve_from
    from ._core import _solve_core
    from ._fallback import ARC_CLOSURE, polish, stage_closure

    notes = {}

    def one(b, cas, asm):
        n = cas.n_stages
        prev = nearest_acidic(b, n, near, status, H) if near is not None else -1
        if prev >= 0:
            A = tuple(asm["arrays"][k] for k in _ARGS[1:])
            out = _solve_core(*A, X[prev, :n].copy(), np.log(H[prev, :n]) if A[16] else
                              np.full(n, np.nan), float(tol), WARM_ITER, 1, False)
            iters[b] += out[1]
            if out[0] != K.OK:   # (a neighbour whose traces underflow can stall the kernel)
                arc = solve_from(A, X[prev, :n], H[prev, :n], Fr[prev, :n], float(tol))
                iters[b] += arc.iterations
                if arc.reached and stage_closure(A, arc.x, arc.y) <= ARC_CLOSURE:
                    out = (K.OK, 0, arc.residual, 0, 0, arc.x, arc.y, arc.h, arc.f)
            if out[0] != K.OK and assemble is not None:
                # the neighbour's state is too far for Newton: the arclength from it
                # (lambda = 0) to this cascade (lambda = 1), short in the jobs' parameters
                # though a front may cross every stage on the way
                pa = assemble(prev)["arrays"]
                args_of = between(tuple(pa[k] for k in _ARGS[1:]), A)
                if args_of is not None:
                    arc = follow(args_of, X[prev, :n], H[prev, :n], Fr[prev, :n], 0.0,
                                 tol_end=float(tol), h_min=10.0 ** -PH_MAX,
                                 max_iter=int(max_iter))
                    iters[b] += arc.iterations
                    if arc.reached:
                        pol = polish(A, arc, float(tol))
                        iters[b] += pol[1]
                        out = pol
            if out[0] == K.OK:
                status[b], resid[b] = K.OK, out[2]
                X[b, :n], Y[b, :n], H[b, :n], Fr[b, :n] = out[5], out[6], out[7], out[8]
                return
        excess = cas._base_excess_note(asm)
        out, note, refusal, o_min = cas._continue(asm, tol, max_iter, excess)
        if out is not None:
            iters[b] += out[1]
        if excess and (out is None or out[0] != K.OK):
            from ._fallback import solve_fallback
            a = asm["arrays"]
            out = solve_fallback(*(a[k] for k in _ARGS[1:]), np.zeros(a["ext"].shape),
                                 float(tol), int(max_iter - min(iters[b], K.N_PRE)))
            iters[b] += out[1]
        if out is None:
            return
        if out[0] == K.OK:
            status[b], resid[b] = K.OK, out[2]
            X[b, :n], Y[b, :n], H[b, :n], Fr[b, :n] = out[5], out[6], out[7], out[8]
        elif note:
            notes[b] = (note, refusal, o_min)

    # items of different stage counts never start from each other: with warm starts, each
    # stage count's items run in a thread of their own (the compiled arclength and its Newton
    # release the GIL), each in the batch's order
    groups: dict = {}
    for item in failed:
        groups.setdefault(item[1].n_stages, []).append(item)
    threads = numba.get_num_threads()
    if near is None or len(groups) < 2 or threads < 2:
        for item in failed:
            one(*item)
        return notes
    from concurrent.futures import ThreadPoolExecutor

    def run(items):
        for item in items:
            one(*item)
    with ThreadPoolExecutor(min(threads, len(groups))) as pool:
        for fut in [pool.submit(run, items) for items in groups.values()]:
            fut.result()   # (an error in a thread is raised here)
    return notes
