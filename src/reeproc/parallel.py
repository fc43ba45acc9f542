"""Progress bars and worker pools for long jobs (sweeps, optimisation, Monte Carlo, design scans).

Every long command uses the same two pieces, so that each one shows progress on a terminal, is
quiet with ``progress=False``, runs on ``workers`` processes or a Dask cluster, and hands results
back as they complete (so that a caller can save them as they come):

>>> from reeproc.parallel import WorkerPool, progress_bar
>>> with WorkerPool(workers=1) as pool, progress_bar(3, "squares", enabled=False) as bar:
...     done = {}
...     for i, r in pool.imap_unordered(pow, [(2, 2), (3, 2), (4, 2)]):
...         done[i] = r
...         bar.update(1)
>>> done
{0: 4, 1: 9, 2: 16}
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys

from ._validate import InputError, as_number

__all__ = ["EXECUTORS", "progress_bar", "WorkerPool", "interrupt_flag"]

EXECUTORS = ("processes", "dask", "serial")

#: Most worker processes a pool starts: 8 per CPU core of this machine (at least 16).
MAX_WORKERS = max(16, 8 * (os.cpu_count() or 1))


def progress_bar(total=None, desc: str | None = None, unit: str = "case", enabled=None):
    """A tqdm progress bar on stderr.

    Parameters
    ----------
    total : int, optional
        Number of steps (None: a counter with a rate, for open-ended jobs).
    desc : str, optional
        Label in front of the bar.
    unit : str
        What one step is ('case', 'solve').
    enabled : bool, optional
        Show it; default: when stderr is a terminal. A disabled bar accepts the same calls.
    """
    from tqdm import tqdm

    if enabled is None:
        enabled = sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1, mininterval=0.2)


@contextlib.contextmanager
def interrupt_flag():
    """Within the block, Ctrl-C (SIGINT) raises KeyboardInterrupt as usual and also sets the
    yielded flag's ``hit``.

    CPython raises the KeyboardInterrupt wherever the main thread is when it next checks for
    signals; inside a destructor or a library callback it is printed ("Exception ignored in
    ...") and dropped, and a long loop would run on. A loop that checks ``flag.hit`` between
    its steps stops anyway. Outside the main thread, or where SIGINT is ignored (a worker
    process), nothing is installed and ``hit`` stays False.
    """
    import threading
    from types import SimpleNamespace

    flag = SimpleNamespace(hit=False)
    previous = signal.getsignal(signal.SIGINT)
    if (threading.current_thread() is not threading.main_thread()
            or not callable(previous)):
        yield flag
        return

    def handler(signum, frame):
        flag.hit = True
        previous(signum, frame)   # the default handler raises KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _ignore_sigint():  # worker processes: Ctrl-C is the parent's to handle
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _quiet_dask_logs():
    """Dask's nanny warns 'killing' workers at every orderly shutdown; that is not news."""
    loggers = [logging.getLogger(n) for n in ("distributed", "distributed.nanny",
                                              "distributed.worker", "distributed.scheduler",
                                              "distributed.core", "tornado")]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, saved):
            lg.setLevel(level)


class WorkerPool:
    """Serial, local-process or Dask execution of independent tasks.

    Parameters
    ----------
    workers : int
        Processes (``processes``) or Dask workers of a LocalCluster (``dask``); ``processes``
        with one worker runs in this process.
    executor : {'processes', 'dask', 'serial'}
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); a LocalCluster otherwise.

    Use it as a context manager; :meth:`imap_unordered` yields ``(index, result)`` as tasks
    complete. Processes use the ``spawn`` start method (numba's thread pools are not fork-safe)
    and ignore Ctrl-C, which the parent handles: on an interrupt the pending tasks are cancelled
    and the workers stopped.
    """

    def __init__(self, workers: int = 1, executor: str = "processes", scheduler: str | None = None):
        if executor not in EXECUTORS:
            raise InputError(f"executor must be one of {EXECUTORS}, got {executor!r}")
        self.workers = as_number("workers", workers, low=1, high=MAX_WORKERS, integer=True)
        if scheduler and executor != "dask":
            raise InputError(f"a Dask scheduler address ({scheduler}) needs executor 'dask', "
                             f"not {executor!r}")
        self.executor = executor
        self.scheduler = scheduler
        self._pool = self._client = self._cluster = None
        self._quiet = None

    @property
    def serial(self) -> bool:
        return self.executor == "serial" or (self.executor == "processes" and self.workers == 1)

    def __enter__(self):
        if self.serial:
            return self
        if self.executor == "processes":
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                             mp_context=mp.get_context("spawn"),
                                             initializer=_ignore_sigint)
        else:
            self._start_dask()
        return self

    def _start_dask(self):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise InputError("executor 'dask' needs dask.distributed: "
                             "pip install 'dask[distributed]'") from None
        self._quiet = _quiet_dask_logs()
        self._quiet.__enter__()
        try:
            if self.scheduler:
                try:
                    self._client = Client(self.scheduler, timeout="10s")
                except (OSError, TimeoutError, ValueError) as exc:
                    raise InputError(f"cannot reach the Dask scheduler at '{self.scheduler}' "
                                     f"({type(exc).__name__}: {exc})") from None
            else:
                # the worker processes log only critical events: a heartbeat that meets the
                # orderly shutdown logs an ERROR ("Failed to communicate with scheduler during
                # heartbeat", seen once in CI under load, 2026-12-03); a task's own error
                # reaches this process through its future, so nothing is lost
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                             processes=True, dashboard_address=":0",
                                             host="127.0.0.1", silence_logs=logging.CRITICAL)
                self._client = self._cluster.get_client()
        except BaseException:
            self._quiet.__exit__(None, None, None)
            raise

    def __exit__(self, exc_type, exc, tb):
        if self._pool is not None:
            interrupted = exc_type is not None
            if interrupted:  # stop the workers now; their cases are not waited for
                for p in list((getattr(self._pool, "_processes", None) or {}).values()):
                    p.terminate()
            self._pool.shutdown(wait=not interrupted, cancel_futures=True)
            self._pool = None
        if self._client is not None or self._cluster is not None:
            try:
                if self._client is not None:
                    self._client.close()
                if self._cluster is not None:
                    self._cluster.close()
            finally:
                self._client = self._cluster = None
                self._quiet.__exit__(None, None, None)
        return False

    def imap_unordered(self, func, arg_tuples):
        """Yield ``(i, func(*arg_tuples[i]))`` as the tasks complete (in order when serial).

        An exception raised by a task propagates; tasks that record their own failures (like
        :func:`reeproc.sweep.run_case`) never raise.
        """
        args = list(arg_tuples)
        if self.serial:
            for i, a in enumerate(args):
                yield i, func(*a)
            return
        if self._pool is not None:
            from concurrent.futures import as_completed

            futs = {self._pool.submit(func, *a): i for i, a in enumerate(args)}
            for f in as_completed(futs):
                yield futs[f], f.result()
            return
        if self._client is None:
            raise RuntimeError("WorkerPool used outside its 'with' block")
        from dask.distributed import as_completed

        futs = self._client.map(func, *zip(*args), pure=False) if args else []
        index = {f.key: i for i, f in enumerate(futs)}
        for f in as_completed(futs):
            yield index[f.key], f.result()
