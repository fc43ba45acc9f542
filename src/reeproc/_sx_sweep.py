"""SX-only sweeps over per-case jobs (:func:`sx_sweep`, re-exported by :mod:`reeproc.sweep`):
the user's ``make_job`` and ``evaluate`` per case around the batch solver, in chunks, with a
pipeline on two or more cores (this thread and a worker each carry chunks through packing,
solving and evaluation; one's kernel overlaps the other's Python) and each chunk's rows built
column by column.

The numba solver is imported on the first call only (this module is imported with
:mod:`reeproc.sweep`, by the command line among others).
"""
from __future__ import annotations

import gc
import itertools
import sys
from operator import itemgetter

import numpy as np
import pandas as pd

__all__ = ["sx_sweep"]


def sx_sweep(make_job, cases: list, evaluate, *, threads: int | None = None,
             chunk: int = 1024, tol: float = 1e-10, max_iter: int = 3000,
             warm_start: bool = True) -> pd.DataFrame:
    """Sweep SX cascades alone with the batch solver (numba ``prange`` over cascades).

    Far cheaper than a flowsheet sweep: no unit operations, no recycle loop, no Python work per
    stage; jobs that differ only in flows are assembled once per cascade template for the
    whole sweep (:func:`reeproc.sx.batch.solve_many`). ``make_job`` may return the same Cascade
    and Stream objects for many cases (cache them), which keeps job construction cheap. Cases
    that do not converge are kept with ``converged=False`` and an ``error`` text. For
    constant-D sweeps given as arrays, :func:`reeproc.sx.sweep_arrays.sx_sweep_arrays` skips
    the per-case Python objects altogether.

    Parameters
    ----------
    make_job : callable
        ``make_job(case) -> (Cascade, dict of solve kwargs)`` (feed, organic, scrub, strip).
    cases : list of dict
        Parameter sets.
    evaluate : callable
        ``evaluate(case, result) -> dict`` of figures to record (purities, recoveries);
        ``result`` is a :class:`reeproc.sx.batch.BatchItem` (``recovery``, ``purity``,
        ``outlet_mol_h``, arrays; ``result.full()`` gives the full CascadeResult). Its
        ``recovery`` and ``purity`` are computed for the whole chunk at the first call.
    threads : int, optional
        Numba threads (default: numba's current setting). With two or more, this thread and
        a worker each take the next chunk, build its jobs, solve it and evaluate it; the
        Python steps (``make_job``, ``evaluate``) run one at a time, never concurrently, and
        a thread's constant-D kernel (which releases the GIL) runs on half the numba threads
        while the other thread does its Python. ``make_job`` and ``evaluate`` may thus be
        called from the worker thread. The cyclic garbage collector is paused during the
        sweep.
    chunk : int
        Cascades per batch call; with two or more threads the first chunk is a quarter of
        it and the last two a half and a quarter (the pipeline fills and drains sooner).
    warm_start : bool
        Start each case from a solved case before it with its stage counts, the nearest in
        flows and inlets and its predecessor (see :func:`reeproc.sx.batch.solve_many`);
        order the cases so that neighbours are close (``grid_cases`` does: its last
        parameter varies fastest).

    Returns
    -------
    pandas.DataFrame
        One row per case: the case, ``converged``, ``iterations`` and the evaluated figures.
    """
    import numba

    from .sx._pack import pack_jobs
    from .sx.batch import numba_threads, solve_packed

    templates: dict = {}   # assembled cascade templates, shared by the chunks

    def prep(q):
        return pack_jobs([make_job(c) for c in parts[q]], templates)

    def solve(packed, threads):
        # (thread-local in numba); a kernel that holds the GIL (not constant-D) takes all
        numba.set_num_threads(threads if packed.linear else nth)
        return solve_packed(packed, tol, max_iter, "auto", warm_start)

    frames: dict = {}   # one DataFrame per chunk

    def post(q, batch):
        frames[q] = _sx_frame(parts[q], batch, evaluate)

    # the cyclic garbage collector pauses for the sweep: its full collections, set off by
    # the chunks' objects, stop both threads now and then (benchmarks/test_bench_sweep.py::
    # test_bench_sx_sweep_gc_paused: the median 2-thread sweep 1.18-1.76x slower with it)
    gc_on = gc.isenabled()
    gc.disable()
    try:
        with numba_threads(threads) as nth:
            bounds = np.cumsum([0] + _chunk_sizes(len(cases), chunk, nth >= 2))
            parts = [cases[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
            if nth < 2 or len(parts) < 2:
                for q in range(len(parts)):
                    post(q, solve(prep(q), nth))
            else:
                # a thread back from its kernel takes the GIL from the other at once
                si = sys.getswitchinterval()
                sys.setswitchinterval(min(si, 2e-4))
                try:
                    _pipeline(len(parts), prep, solve, post, nth)
                finally:
                    sys.setswitchinterval(si)
                    numba.set_num_threads(nth)
    finally:
        if gc_on:
            gc.enable()
    frames = [frames[q] for q in range(len(parts))]
    df = (pd.DataFrame() if not frames else frames[0] if len(frames) == 1
          else pd.concat(frames, ignore_index=True))
    df.index.name = "case"
    return df


def _chunk_sizes(n, chunk, taper) -> list:
    """Cases per chunk: ``chunk`` each; with ``taper`` (the 2-core pipeline) the first is a
    quarter of it and the last two a half and a quarter, so that the first kernel starts and
    the last frame ends sooner (the 10,000-case benchmark's sweep, 3 paired runs, best of 7
    each: 1.66-1.71x against 1.54-1.61x on 2 threads)."""
    if not taper or n <= 2 * chunk or chunk < 4:
        return [min(chunk, n - i) for i in range(0, n, chunk)]
    head, tail = [chunk // 4], [chunk // 2, chunk // 4]
    mid = n - head[0] - sum(tail)
    return head + [min(chunk, mid - i) for i in range(0, mid, chunk)] + tail


def _threadsafe_layer() -> bool:
    """Numba's threading layer takes parallel kernels launched from two threads at once
    (omp, tbb; not workqueue, which aborts the process). False before any parallel kernel
    has run (no layer chosen yet)."""
    import numba

    try:
        return numba.threading_layer() in ("omp", "tbb")
    except ValueError:
        return False


def _pipeline(n_parts, prep, solve, post, nth):
    """Chunks 0..n_parts-1 through prep(q) -> packed, solve(packed, threads) -> batch and
    post(q, batch) on ``nth`` >= 2 cores, in two threads (this one and a worker) that each
    take the next chunk and carry it through all three steps.

    The Python steps (prep and post: the user's ``make_job`` and ``evaluate``) run one at a
    time, under a lock, the chunks prepared in order; a thread solving its chunk (a kernel
    that releases the GIL) overlaps the other's Python. Each thread's kernels get half the
    numba threads (this one the odd one over). Under a threading layer that does not take
    kernels from two threads at once (workqueue) the solves also run one at a time, each on
    nth - 1 numba threads. An error in either thread stops both after their current step
    and is raised here.

    (Until the fourth session of 2026-12-03 this thread prepared and posted every chunk and
    solved one only when
    it had nothing else to do, and a worker solved the rest: the last chunks' posts then
    queued behind this thread's own solve while the worker idled, about 7 ms of a 10,000-case
    sweep's 60.)
    """
    import threading

    both = _threadsafe_layer()
    py_lock = threading.Lock()
    kernel_lock = None if both else threading.Lock()
    counter = iter(range(n_parts))
    errors: list = []

    def run(threads):
        try:
            while not errors:
                with py_lock:
                    q = next(counter, None)
                    if q is None or errors:
                        return
                    packed = prep(q)
                if kernel_lock is None:
                    batch = solve(packed, threads)
                else:
                    with kernel_lock:
                        batch = solve(packed, threads)
                with py_lock:
                    post(q, batch)
        except BaseException as exc:   # (raised below, in this thread)
            errors.append(exc)

    own, other = (nth - nth // 2, nth // 2) if both else (nth - 1, nth - 1)
    th = threading.Thread(target=run, args=(other,), name="reeproc-sx-sweep", daemon=True)
    th.start()
    try:
        run(own)
    finally:
        th.join()
    if errors:
        raise errors[0]


def _sx_frame(part, batch, evaluate) -> pd.DataFrame:
    """One row per case of a solved chunk: the case, ``converged``, ``iterations``, ``error``
    and the evaluated figures (evaluation errors recorded in ``error``, never raised; a figure
    of the same name as a case key replaces it). Built column by column when every case has
    the keys of the first and every evaluation the keys of the first (a grid's chunk), row by
    row otherwise; both give the same frame."""
    n = len(part)
    conv = batch.converged.tolist()
    errors = [""] * n
    if all(conv):
        evals = _evaluate_all(part, batch.items(), evaluate, errors)
    else:
        evals = [None] * n
        for k, (c, r) in enumerate(zip(part, batch.items())):
            if not conv[k]:
                errors[k] = batch.error(k)
                continue
            try:
                evals[k] = evaluate(c, r)
            except Exception as exc:  # recorded, never dropped
                errors[k] = f"{type(exc).__name__}: {exc}"
    meta = {"converged": conv, "iterations": batch.iterations.tolist(), "error": errors}
    got = [ev for ev in evals if ev is not None]
    kc = part[0].keys() if part else {}
    ke = got[0].keys() if got else {}
    ckeys, ekeys = list(kc), list(ke)
    # (equal key sets suffice: the row-by-row frame orders its columns as its first row)
    uniform = (all(type(c) is dict and c.keys() == kc for c in part)
               and all(type(ev) is dict and ev.keys() == ke for ev in got)
               and not set(meta) & (set(ckeys) | set(ekeys)))
    if not uniform:
        rows = []
        for c, ev, k in zip(part, evals, range(n)):
            row = dict(c)
            row.update({key: col[k] for key, col in meta.items()})
            if ev is not None:
                row.update(ev)
            rows.append(row)
        return pd.DataFrame(rows)
    cols = {key: col for key, col in zip(ckeys, _transpose(part, ckeys))
            if key not in ke}
    cols.update(meta)
    if len(got) == n:
        cols.update(zip(ekeys, _transpose(evals, ekeys)))
    else:   # (no figures for a case: NaN, or the case's own value of that key)
        nan = float("nan")
        for key in ekeys:
            cols[key] = ([c[key] if ev is None else ev[key] for c, ev in zip(part, evals)]
                         if key in kc else [nan if ev is None else ev[key] for ev in evals])
    # (a case key that an evaluated figure replaces keeps its first position, as dict.update)
    order = ckeys + [k for k in cols if k not in kc]
    return pd.DataFrame({k: _column(cols[k]) for k in order}, copy=False)


def _evaluate_all(part, items, evaluate, errors) -> list:
    """``evaluate(case, item)`` for every case in order, each called once; a case whose
    evaluation raises gets None and its error text in ``errors`` (the others go on). The
    evaluations run in one C-level map between failures."""
    evals: list = []
    pairs = zip(part, items)
    while len(evals) < len(part):
        try:
            evals.extend(itertools.starmap(evaluate, pairs))
        except Exception as exc:  # recorded, never dropped
            errors[len(evals)] = f"{type(exc).__name__}: {exc}"
            evals.append(None)
    return evals


def _transpose(dicts, keys) -> list:
    """The values of ``keys`` in every dict, one list per key (C-level loops)."""
    if len(keys) == 1:
        return [list(map(itemgetter(keys[0]), dicts))]
    return [list(col) for col in zip(*map(itemgetter(*keys), dicts))] if keys else []


# the sets of element types whose numpy dtype kind is the one pandas infers from the list
_NUMERIC = {frozenset({float}): "f", frozenset({np.float64}): "f",
            frozenset({float, np.float64}): "f", frozenset({int, float}): "f",
            frozenset({int}): "i", frozenset({np.int64}): "i",
            frozenset({bool}): "b", frozenset({np.bool_}): "b"}


def _column(values):
    """A column as a numpy array where the list holds one kind of number whose numpy dtype is
    the one pandas infers from the list (float64, int64, bool: the common figure), else the
    list itself, inferred by pandas as before."""
    kind = _NUMERIC.get(frozenset(map(type, values))) if values else None
    if kind is None:
        return values
    arr = np.array(values)
    return arr if arr.dtype.kind == kind and arr.dtype.itemsize == 8 ** (kind != "b") else values
