"""SX-only sweeps over per-case jobs (:func:`sx_sweep`, re-exported by :mod:`reeproc.sweep`):
the user's ``make_job`` and ``evaluate`` per case around the batch solver, in chunks, with a
2-core pipeline (a worker thread solves prepared chunks while this thread prepares and
evaluates the others, and solves a waiting chunk itself when it has nothing else to do) and
each chunk's rows built column by column.

The numba solver is imported on the first call only (this module is imported with
:mod:`reeproc.sweep`, by the command line among others).
"""
from __future__ import annotations

import itertools
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
        Numba threads (default: numba's current setting). With two or more, a worker thread
        solves the prepared chunks on threads - 1 numba threads (GIL released for constant-D
        cascades) while this thread builds the next chunks' jobs and evaluates the solved
        ones; when it has nothing of that left to do, it solves a waiting chunk itself.
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
        numba.set_num_threads(threads)   # (thread-local in numba)
        return solve_packed(packed, tol, max_iter, "auto", warm_start)

    frames: dict = {}   # one DataFrame per chunk

    def post(q, batch):
        frames[q] = _sx_frame(parts[q], batch, evaluate)

    with numba_threads(threads) as nth:
        bounds = np.cumsum([0] + _chunk_sizes(len(cases), chunk, nth >= 2))
        parts = [cases[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        if nth < 2 or len(parts) < 2:
            for q in range(len(parts)):
                post(q, solve(prep(q), nth))
        else:
            import sys

            # the worker needs the GIL briefly to launch each kernel and to return from it;
            # a short switch interval lets it take the GIL from the busy main thread at once
            si = sys.getswitchinterval()
            sys.setswitchinterval(min(si, 2e-4))
            try:
                _pipeline(len(parts), prep, solve, post, nth)
            finally:
                sys.setswitchinterval(si)
                numba.set_num_threads(nth)
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
    post(q, batch) on ``nth`` >= 2 cores. Python (prep, post) runs in this thread; a worker
    thread solves the prepared chunks with nth - 1 numba threads and is fed first. When this
    thread has no Python work left to do (nothing to post, enough chunks prepared) it solves
    a waiting chunk itself on one thread, where the worker keeps another to go on with (or,
    every chunk prepared, would not reach it sooner) and the threading layer allows it: on
    two cores both then solve, and the Python work is no longer the critical path."""
    import queue
    import threading

    tasks, results = queue.Queue(), queue.Queue()

    def worker():
        while (item := tasks.get()) is not None:
            try:
                results.put((item[0], solve(item[1], nth - 1), None))
            except BaseException as exc:   # (raised in this thread by the loop below)
                results.put((item[0], None, exc))

    def finish(q, batch, exc):
        if exc is not None:
            raise exc
        post(q, batch)

    ahead = nth + 1   # prepared chunks waiting at most
    th = threading.Thread(target=worker, name="reeproc-sx-sweep", daemon=True)
    th.start()
    try:
        nxt = posted = 0
        while posted < n_parts:
            # keep the worker fed, then post what is solved, then prepare ahead
            if nxt < n_parts and tasks.qsize() < 1:
                tasks.put((nxt, prep(nxt)))
                nxt += 1
                continue
            try:
                finish(*results.get_nowait())
                posted += 1
                continue
            except queue.Empty:
                pass
            if nxt < n_parts and tasks.qsize() < ahead:
                tasks.put((nxt, prep(nxt)))
                nxt += 1
                continue
            # solve a waiting chunk here (on one thread) where the worker keeps one to go on
            # with, or, with every chunk prepared, would not reach it sooner; only under a
            # threading layer that takes parallel kernels from two threads at once
            if (tasks.qsize() >= (nth - 1 if nxt == n_parts else nth)
                    and _threadsafe_layer()):
                try:
                    q, packed = tasks.get_nowait()
                except queue.Empty:
                    pass
                else:
                    results.put((q, solve(packed, 1), None))
                    continue
            finish(*results.get())
            posted += 1
    finally:
        while True:   # (on an error: the waiting chunks are dropped, the worker stops)
            try:
                tasks.get_nowait()
            except queue.Empty:
                break
        tasks.put(None)
        th.join()


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
