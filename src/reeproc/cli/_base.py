"""Shared pieces of the ``reeproc`` command line: exit codes, the command registry, argument
helpers (numbers parsed with the option named, ``--set`` pairs, output paths checked before any
work starts)."""
from __future__ import annotations

import argparse
from pathlib import Path

EXIT_OK, EXIT_TARGET_MISSED, EXIT_INPUT, EXIT_FAILED, EXIT_BUG = 0, 1, 2, 3, 70
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141

SCRIPT_NOTE = ("Flowsheet scripts are Python files and run as such (like 'python script.py'):\n"
               "run only scripts you trust.")

_COMMANDS: list = []


class CommandError(Exception):
    """A refusal by a command, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_INPUT):
        super().__init__(message)
        self.code = code


def command(name: str, help: str, setup):
    """Register ``fn(args) -> int`` as subcommand ``name``; ``setup(parser)`` adds its options."""
    def deco(fn):
        _COMMANDS.append((name, help, setup, fn))
        return fn
    return deco


# ------------------------------------------------------------------ parser pieces
class _Parser(argparse.ArgumentParser):
    """Usage errors as one line: 'reeproc run: error: ... (see reeproc run --help)'."""

    def error(self, message):
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Shows '(default: X)' after every option that has a default worth showing."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if ("%(default)" not in text and action.option_strings and default is not None
                and default is not False and default is not argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


def _number(option: str, low=None, high=None, integer=False, low_open=False):
    """argparse ``type=`` that parses a number and names the option in the refusal."""
    from .._validate import InputError, as_number

    def parse(text):
        try:
            return as_number(option, text, low=low, high=high, integer=integer,
                             low_open=low_open)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc).replace(f"{option} ", "", 1)) from None
    parse.__name__ = "number"
    return parse


def _flowsheet_arg(p):
    p.add_argument("flowsheet", help="flowsheet script (Python), e.g. flowsheets/ndfeb_long_loop.py")


def _set_arg(p, help="override a flowsheet parameter (see 'reeproc params'); repeat"):
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help=help)


def _add_specs_flag(parser) -> None:
    parser.add_argument("--no-specs", action="store_true",
                        help="solve without the script's design specs (variables at their "
                        "parameter values)")


def _parallel_args(p, what="cases"):
    from ..parallel import MAX_WORKERS

    p.add_argument("--workers", type=_number("--workers", low=1, high=MAX_WORKERS, integer=True),
                   default=1,
                   help=f"worker processes (or Dask workers) solving {what} in parallel")
    p.add_argument("--executor", choices=["processes", "dask", "serial"], default="processes")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of a running Dask scheduler (tcp://host:8786); "
                        "a local cluster without it")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _progress(args):
    """Progress bar: off with --quiet, else when stderr is a terminal."""
    return False if args.quiet else None


def _assignments(items, option="--set") -> dict:
    """NAME=VALUE pairs; numbers as float, other text kept for text parameters (the flowsheet's
    Param check names the parameter when a number is needed)."""
    out = {}
    for it in items or []:
        name, sep, value = it.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"{option} expects NAME=VALUE, got '{it}'")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            out[name.strip()] = value.strip()
    return out


def _check_outputs(out_dir=None, files=(), plot_dir=None):
    """Check every output path before any work starts (nothing is created here).

    ``files``: (option, path, suffixes, create_parent) tuples; a file directly inside
    ``out_dir`` may have its folder created.
    """
    from .._validate import check_output_dir, check_output_file

    if out_dir:
        check_output_dir("--out", out_dir)
    for option, path, suffixes, create in files:
        if path:
            inside_out = out_dir and Path(path).absolute().parent == Path(out_dir).absolute()
            check_output_file(option, path, suffixes, create_parent=bool(create or inside_out))
    if plot_dir:
        check_output_dir("--plot", plot_dir)


# ------------------------------------------------------------------ commands
