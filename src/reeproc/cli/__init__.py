"""The ``reeproc`` command line.

Flowsheet scripts are Python files and run as such: ``reeproc run script.py`` executes the
script's code with your rights, like ``python script.py``. Run only scripts you trust.

Exit codes: 0 solved and balanced (whatever the purity); 1 an optimisation found no design that
meets its targets; 2 usage or input error (a bad option, value, file or path); 3 no convergence
or a balance audit failure; 70 an internal error (a bug: please report it, with ``--traceback``);
130 interrupted (Ctrl-C; a sweep keeps the cases done). Every error is one line on stderr.

Adding a command: write ``_cmd_NAME(args) -> int`` and its parser setup ``_NAME_args(p)`` in
one of the command modules (``_flowsheet``, ``_studies``, ``_feedstock``), and register both with
``@command("NAME", "help text", _NAME_args)`` (:mod:`reeproc.cli._base`). Raise ``ValueError`` (or
:class:`reeproc._validate.InputError`) for bad input; :func:`main` turns every exception into one
line and an exit code.
"""
from __future__ import annotations

import argparse
import os
import sys

from .._version import __version__
# importing the command modules registers their commands, in this order in --help
from . import _flowsheet  # noqa: F401,I001 - demo, data, run, params
from . import _studies  # noqa: F401 - sweep, optimise, montecarlo, window
from . import _feedstock  # noqa: F401 - feedstock
from ._base import (_COMMANDS, EXIT_BROKEN_PIPE, EXIT_BUG, EXIT_FAILED, EXIT_INPUT,
                    EXIT_INTERRUPTED, EXIT_OK, EXIT_TARGET_MISSED, SCRIPT_NOTE, CommandError,
                    _Formatter, _Parser)

__all__ = ["main", "console", "build_parser", "CommandError", "EXIT_OK", "EXIT_TARGET_MISSED",
           "EXIT_INPUT", "EXIT_FAILED", "EXIT_BUG", "EXIT_INTERRUPTED", "EXIT_BROKEN_PIPE"]


# ------------------------------------------------------------------ parser and error handling
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="reeproc", formatter_class=_Formatter,
                description="Process models for the hydrometallurgical recycling of NdFeB "
                            "magnets.\n\n" + SCRIPT_NOTE,
                epilog="exit codes: 0 solved and balanced; 1 no design meets the targets "
                       "(optimise); 2 usage or input error; 3 no convergence or balance audit "
                       "failure; 70 internal error (a bug); 130 interrupted")
    p.add_argument("--version", action="version", version=f"reeproc {__version__}")
    p.add_argument("--traceback", action="store_true",
                   help="show the Python traceback of an error (for bug reports)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help, setup, fn in _COMMANDS:
        sp = sub.add_parser(name, help=help.replace("%", "%%"), formatter_class=_Formatter,
                            description=help.replace("%", "%%"))
        setup(sp)
        if any(a.dest == "flowsheet" for a in sp._actions):
            sp.description += "\n\n" + SCRIPT_NOTE
        sp.set_defaults(func=fn)
    return p


def _innermost(exc: BaseException) -> BaseException:
    seen = set()
    while exc.__cause__ is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.__cause__
    return exc


def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, CommandError):
        return exc.code
    inner = _innermost(exc)
    for e in (inner, exc):
        if isinstance(e, (ValueError, LookupError, OSError, ImportError)):
            return EXIT_INPUT
        if isinstance(e, RuntimeError):
            return EXIT_FAILED
    return EXIT_BUG


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _silence_stdout():
    """After a broken pipe (``reeproc params ... | head``), send what is left to /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv=None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("reeproc: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # every error becomes one line and an exit code
        if args.traceback:
            import traceback

            traceback.print_exc()
        code = _exit_code(exc)
        kind = "internal error (a bug; rerun with --traceback and report it)" \
            if code == EXIT_BUG else "error"
        prefix = "" if code != EXIT_BUG and not isinstance(exc, MemoryError) else \
            f"{type(exc).__name__}: "
        print(f"reeproc: {kind}: {prefix}{_one_line(exc)}", file=sys.stderr)
        return code


def console() -> None:
    """Entry point of the installed ``reeproc`` command: :func:`main`, then exit.

    Once every output is written and flushed, the process ends with ``os._exit``: the
    interpreter's teardown of scipy, pandas, numba and Cantera (freeing every module and
    object) writes nothing and is a visible part of a short command's wall time
    (benchmarks/test_bench_cli.py). A command that started worker processes
    (``--workers``, Dask) exits normally, so that their shutdown hooks run.
    """
    code = main()
    spawned = any(m in sys.modules for m in ("multiprocessing", "distributed"))
    if spawned:
        # Run as ``python -m reeproc.cli``, CPython remembers a KeyboardInterrupt that passed
        # through an eval/exec of a string (collections.namedtuple, inside pandas'
        # itertuples, is one) even when it was caught, and ends the process by SIGINT
        # instead of with ``code``; every such eval first clears that mark: one here does.
        eval("None")
        sys.exit(code)
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing left to write
            pass
    os._exit(code)
