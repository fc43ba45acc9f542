"""The ``reeproc`` command line.

Flowsheet scripts are Python files and run as such: ``reeproc run script.py`` executes the
script's code with your rights, like ``python script.py``. Run only scripts you trust.

Exit codes: 0 solved and balanced (whatever the purity); 1 an optimisation found no design that
meets its targets; 2 usage or input error (a bad option, value, file or path); 3 no convergence
or a balance audit failure; 70 an internal error (a bug: please report it, with ``--traceback``);
130 interrupted (Ctrl-C; a sweep keeps the cases done). Every error is one line on stderr.

Adding a command: write ``_cmd_NAME(args) -> int`` and its parser setup ``_NAME_args(p)``, and
register both with ``@command("NAME", "help text", _NAME_args)``. Raise ``ValueError`` (or
:class:`reeproc._validate.InputError`) for bad input; :func:`main` turns every exception into one
line and an exit code.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from ._version import __version__

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
    from ._validate import InputError, as_number

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
    from .parallel import MAX_WORKERS

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
    from ._validate import check_output_dir, check_output_file

    if out_dir:
        check_output_dir("--out", out_dir)
    for option, path, suffixes, create in files:
        if path:
            inside_out = out_dir and Path(path).absolute().parent == Path(out_dir).absolute()
            check_output_file(option, path, suffixes, create_parent=bool(create or inside_out))
    if plot_dir:
        check_output_dir("--plot", plot_dir)


# ------------------------------------------------------------------ commands
def _demo_args(p):
    p.add_argument("--grade", default="HDD", help="feed grade in property_data/feeds.csv")
    p.add_argument("--kg-h", type=_number("--kg-h", low=0, low_open=True), default=41.67,
                   help="magnet feed rate [kg/h]")


@command("demo", "stream / oxide-purity demo on a magnet feed grade", _demo_args)
def _cmd_demo(args) -> int:
    """Oxide-basis purity of a magnet feed and of an SX-like product, from property data."""
    from .feeds import magnet_feed
    from .stream import Stream, mix

    feed = magnet_feed(args.grade, args.kg_h)
    print(f"reeproc {__version__}: stream and oxide-basis demo")
    print(feed.describe())
    ox = feed.stream.oxide_kg_h()
    print("\nFeed on the oxide basis [kg/h]:")
    for k, v in sorted(ox.items(), key=lambda kv: -kv[1]):
        print(f"  {k:8s} {v:10.4f}")
    print(f"  TREO     {feed.stream.treo_kg_h:10.4f}")
    strip = Stream.aqueous(50.0, {"Nd": 0.40, "Pr": 0.0015, "Fe+3": 0.0002, "H+": 0.5,
                                  "Cl-": 1.7045}, name="strip liquor")
    wash = Stream.aqueous(5.0, {"H+": 0.01, "Cl-": 0.01}, name="wash")
    product = mix(strip, wash, name="to oxalate")
    p = product.purity("Nd")
    print(f"\nNd2O3 purity of '{product.name}' on the oxide basis: {100 * p:.3f} % "
          f"({'meets' if p >= 0.995 else 'below'} the 99.5 % target)")
    return EXIT_OK


def _data_args(p):
    p.add_argument("table", nargs="?", help="table name (file stem); none: list the tables")
    p.add_argument("--csv", action="store_true",
                   help="print the table's CSV file as it is (comments, sources and all); "
                        "a starting point for your own table (see REEPROC_DATA_PATH)")


@command("data", "list property-data tables, or print one with its sources", _data_args)
def _cmd_data(args) -> int:
    from . import data
    from ._text import clip, paragraphs, readable_table, wrap

    width = shutil.get_terminal_size((100, 24)).columns
    if not args.table:
        shipped = data.data_dir()
        for name in data.list_tables():
            path = data.table_path(name)
            notes = data.table_notes(name)
            where = "" if path.parent == shipped else f"  [yours: {path}]"
            line = f"{name:26s} {notes[0] if notes else ''}"
            print(clip(line, width - len(where)) + where)
        return EXIT_OK
    df = data.load_table(args.table)
    if args.csv:
        sys.stdout.write(data.table_path(args.table).read_text(encoding="utf-8-sig"))
        return EXIT_OK
    print(f"# {df.attrs['path']}")
    for text in paragraphs(data.table_notes(args.table)):
        print(wrap(text, width, "# ", "#   "))
    print(readable_table(df, width))
    return EXIT_OK


def _run_args(p):
    _flowsheet_arg(p)
    _add_specs_flag(p)
    _set_arg(p)
    p.add_argument("--out", metavar="DIR",
                   help="folder for the tables (CSV) and report.txt (created if missing)")
    p.add_argument("--plots", action="store_true",
                   help="also draw the plots (PNG) into --out: flowsheet diagram, element "
                        "distribution, SX profiles (slower)")
    p.add_argument("--json", metavar="FILE",
                   help="write the KPIs as JSON (its folder must exist, or be --out)")
    p.add_argument("--html", metavar="FILE",
                   help="write a self-contained HTML report (KPIs, diagram, element Sankey, "
                        "streams, SX profiles, economics, data sources); opens offline")
    p.add_argument("--plant-size", type=_number("--plant-size", low=0, low_open=True),
                   metavar="T_PER_Y",
                   help="plant size for economics and CO2 [t/y of magnet feed, 10-10000]; "
                        "default: the flowsheet's own feed rate")
    p.add_argument("--grid", help="electricity grid of property_data/grid_co2.csv for CO2 "
                                  "(default UK)")
    p.add_argument("--feed-price", type=_number("--feed-price", low=0), metavar="USD_PER_KG",
                   help="scrap feed purchase price [USD/kg] (no sourced default: the feed is "
                        "otherwise not costed)")


@command("run", "solve a flowsheet script and print its KPI report", _run_args)
def _cmd_run(args) -> int:
    from .flowsheet.script import load_script, run

    params = _assignments(args.set)
    if args.plots and not args.out:
        raise CommandError("--plots needs --out DIR for the PNG files")
    _check_outputs(args.out, [("--json", args.json, None, False)])
    load_script(args.flowsheet)
    from .flowsheet.report import exit_code_for

    try:
        # a failed recycle or audit still gives a report (status FAILED) and its exit status
        res = run(args.flowsheet, raise_on_failure=False, specs=not args.no_specs, **params)
    except Exception as exc:
        code = exit_code_for(exc)
        if code == EXIT_INPUT:
            raise  # usage or input error: main() prints it and returns 2
        print(f"reeproc: error: {exc}", file=sys.stderr)
        return code
    _set_economics(res, args)
    print(res.report())
    if args.out:
        paths = _export(res, args.out, args.plots)
        print(f"\nwrote {len(paths)} files to {Path(args.out).resolve()}")
    if args.json:
        res.to_json(args.json)
        print(f"wrote KPIs to {args.json}")
    if args.html:
        _write_html_report(res, args.html)
    if res.exit_code != EXIT_OK:
        why = str(res.error).splitlines()[0] if res.error is not None else res.audit_summary()
        print(f"reeproc: error: flowsheet {res.status}: {why}", file=sys.stderr)
    return res.exit_code


def _write_html_report(res, path) -> None:
    """``reeproc run --html FILE``: the self-contained HTML report (reeproc.flowsheet.html_report)."""
    p = res.to_html(path)
    print(f"wrote the HTML report to {p} ({p.stat().st_size / 1e6:.1f} MB, opens offline)")


def _export(res, directory, plots: bool) -> list:
    import inspect

    if "plots" in inspect.signature(res.export).parameters:
        return res.export(directory, plots=plots)
    return res.export(directory)


def _params_args(p):
    _flowsheet_arg(p)


def _set_economics(res, args) -> None:
    """Economic assumptions from the command line (plant size, grid, feed price), if any."""
    from .economics import Assumptions

    if args.plant_size is None and args.grid is None and args.feed_price is None:
        return
    res.economics(Assumptions(plant_feed_t_y=args.plant_size, grid=args.grid or "UK",
                              feed_price_USD_kg=args.feed_price))


@command("params", "list the parameters of a flowsheet script", _params_args)
def _cmd_params(args) -> int:
    from .flowsheet.script import script_parameters

    params = script_parameters(args.flowsheet)
    print(f"{'name':32s} {'default':>10s}  {'range':>17s}  description")
    for name, p in params.items():
        rng = "" if p.low is None and p.high is None else f"[{p.low}, {p.high}]"
        kind = " (integer)" if p.integer else ""
        print(f"{name:32s} {p.default!s:>10s}  {rng:>17s}  {p.description}{kind}")
    return EXIT_OK


def _sweep_args(p):
    _flowsheet_arg(p)
    _add_specs_flag(p)
    p.add_argument("--param", action="append", metavar="NAME=start:stop:step|v1,v2,...",
                   help="swept parameter (repeat); with --lhs give NAME=low:high. NAME may be a "
                        "property-data key data:add|mul:TABLE[col=value;...]:COLUMN")
    p.add_argument("--lhs", type=_number("--lhs", low=1, integer=True), metavar="N",
                   help="Latin-hypercube sample of N cases over the --param ranges")
    p.add_argument("--seed", type=_number("--seed", low=0, integer=True), default=0,
                   help="LHS seed")
    p.add_argument("--out", metavar="FILE",
                   help="results (.csv or .parquet), written as cases complete; "
                        "default out/sweep_<flowsheet>.csv")
    p.add_argument("--plot", metavar="DIR", nargs="?", const="",
                   help="write purity/recovery maps over the first two swept parameters and "
                        "cost-recovery Pareto fronts as PNG (DIR default: next to --out)")
    _parallel_args(p)


@command("sweep", "run a flowsheet over a parameter grid or Latin-hypercube sample", _sweep_args)
def _cmd_sweep(args) -> int:
    from .flowsheet.script import load_script
    from .sweep import SweepInterrupted, sweep

    if not args.param:
        raise CommandError("give at least one --param NAME=start:stop:step or NAME=v1,v2")
    if args.lhs:
        # a 2-part range is not a valid grid spec: parse it here
        grid, lhs = {}, {}
        for spec in args.param:
            name, rhs = _split_spec(spec)
            parts = rhs.split(":")
            if len(parts) != 2:
                raise CommandError(f"--param '{spec}': with --lhs give a range NAME=low:high "
                                   "(a value list or start:stop:step is not sampled)")
            from ._validate import as_number

            lhs[name] = (as_number(f"--param {name} low", parts[0]),
                         as_number(f"--param {name} high", parts[1]))
    else:
        from .sweep import parse_param_spec

        grid, lhs = {}, None
        for spec in args.param:
            grid.update(parse_param_spec(spec))
    _check_values(args.flowsheet, grid, lhs)
    stem = Path(args.flowsheet).stem
    out = args.out or f"out/sweep_{stem}.csv"
    plot_dir = None
    if args.plot is not None:
        plot_dir = args.plot or str(Path(out).with_suffix("")) + "_plots"
    _check_outputs(files=[("--out", out, (".csv", ".parquet"), True)], plot_dir=plot_dir)
    load_script(args.flowsheet)
    try:
        df = sweep(args.flowsheet, grid or None, lhs=lhs or None, n_lhs=args.lhs or 0,
                   workers=args.workers, executor=args.executor, scheduler=args.scheduler,
                   progress=_progress(args), seed=args.seed, out=out,
                   specs=not args.no_specs)
    except SweepInterrupted as exc:
        return _interrupted(exc, "cases")
    n_fail = int((~df["converged"].astype(bool)).sum())
    from .sweep import summary_table

    print(summary_table(df, width=shutil.get_terminal_size((120, 24)).columns))
    print(f"\n{len(df)} cases, {n_fail} failed or not converged; wrote {out}")
    if plot_dir is not None:
        for path in _sweep_plots(df, plot_dir, script=args.flowsheet):
            print(f"wrote {path}")
    return EXIT_OK


def _sweep_plots(df, directory, script=None) -> list:
    """Sweep maps and Pareto fronts as PNG (reeproc.flowsheet.plots.maps.save_sweep_plots)."""
    from .flowsheet.plots.maps import save_sweep_plots

    return save_sweep_plots(df, directory, script=script)
def _check_values(script, grid: dict, lhs: dict | None) -> None:
    """Every swept value (LHS: both bounds) within its parameter's range, before any case runs."""
    from .flowsheet.script import check_params, script_parameters

    params = script_parameters(script)
    for name, values in {**grid, **(lhs or {})}.items():
        if name.startswith("data:") or name not in params:
            continue  # perturbation keys are checked by the sweep; unknown names too
        for v in values:
            check_params({name: params[name]}, {name: v})


def _interrupted(exc, what: str) -> int:
    """One line for a Ctrl-C: how much was done and where it was kept."""
    where = f"; kept in {exc.path}" if exc.path else ""
    of = f" of {exc.total}" if exc.total != len(exc.results) else ""
    print(f"reeproc: interrupted after {len(exc.results)}{of} {what}{where}", file=sys.stderr)
    return EXIT_INTERRUPTED


def _split_spec(spec: str):
    from .sweep import _DATA_KEY

    m = _DATA_KEY.fullmatch(spec.strip())
    if m:
        return m.groups()
    name, sep, rhs = spec.partition("=")
    if not sep or not name.strip():
        raise CommandError(f"--param '{spec}' must look like NAME=low:high")
    return name.strip(), rhs


def _optimise_args(p):
    _flowsheet_arg(p)
    _add_specs_flag(p)
    p.add_argument("--var", action="append", metavar="NAME[=low:high]",
                   help="design variable (repeat); bounds default to the parameter's range")
    p.add_argument("--objective", default="cost", help="'cost', 'stages' or a KPI column")
    p.add_argument("--purity", type=_number("--purity", 0, 1), default=0.995,
                   help="minimum purity of every product [-], 0..1")
    p.add_argument("--recovery", action="append", metavar="EL=MIN",
                   help="minimum recovery of an element [-], 0..1 (repeat)")
    _set_arg(p, help="fixed parameter NAME=VALUE (repeat)")
    p.add_argument("--maxiter", type=_number("--maxiter", low=1, high=100_000, integer=True),
                   default=30,
                   help="differential-evolution generations")
    p.add_argument("--popsize", type=_number("--popsize", low=1, high=1000, integer=True),
                   default=8,
                   help="population per variable")
    p.add_argument("--seed", type=_number("--seed", low=0, integer=True), default=0)
    p.add_argument("--out", metavar="FILE", help="every evaluated case (.csv or .parquet)")
    _parallel_args(p, "the trial points of a generation")


def _variables(args) -> dict:
    """{name: (low, high)} from --var NAME (the parameter's range) or NAME=low:high."""
    from ._validate import as_number
    from .flowsheet.script import script_parameters

    params = script_parameters(args.flowsheet)
    out = {}
    for it in args.var or []:
        name, sep, rhs = it.partition("=")
        name = name.strip()
        if name not in params:
            raise CommandError(f"--var {name}: unknown parameter; known: {sorted(params)}")
        if not sep:
            p = params[name]
            if p.low is None or p.high is None:
                raise CommandError(f"--var {name}: the parameter has no range; give "
                                   f"{name}=low:high")
            out[name] = (float(p.low), float(p.high))
            continue
        parts = rhs.split(":")
        if len(parts) != 2:
            raise CommandError(f"--var '{it}' must be NAME or NAME=low:high")
        out[name] = (as_number(f"--var {name} low", parts[0]),
                     as_number(f"--var {name} high", parts[1]))
    if not out:
        raise CommandError("give at least one --var NAME or NAME=low:high")
    return out


@command("optimise", "minimise cost (or stages) s.t. purity >= 99.5 % and recovery targets "
         "(scipy differential evolution, integer stages)", _optimise_args)
def _cmd_optimise(args) -> int:
    from ._validate import as_number
    from .flowsheet.script import load_script
    from .optimise import optimise
    from .sweep import SweepInterrupted

    load_script(args.flowsheet)
    variables = _variables(args)
    rec = {}
    for it in args.recovery or []:
        el, sep, v = it.partition("=")
        if not sep or not el.strip():
            raise CommandError(f"--recovery expects EL=MIN, got '{it}'")
        rec[el.strip()] = as_number(f"--recovery {el.strip()}", v, low=0.0, high=1.0)
    _check_outputs(files=[("--out", args.out, (".csv", ".parquet"), True)])
    try:
        res = optimise(args.flowsheet, variables, objective=args.objective,
                       purity_min=args.purity, recovery_min=rec or None,
                       fixed=_assignments(args.set), maxiter=args.maxiter,
                       popsize=args.popsize, seed=args.seed, workers=args.workers,
                       executor=args.executor, scheduler=args.scheduler,
                       progress=_progress(args), out=args.out,
                       specs=not args.no_specs)
    except SweepInterrupted as exc:
        return _interrupted(exc, "flowsheet solves")
    print(res.message)
    print(f"{'feasible' if res.feasible else 'NOT feasible'}; objective {res.objective:.6g}")
    for k, v in res.x.items():
        print(f"  {k} = {v}")
    for k, v in res.kpis.items():
        if k.startswith(("purity ", "recovery ", "cost ")):
            print(f"  {k}: {v:.6g}")
    if args.out:
        print(f"wrote every evaluated case to {args.out}")
    return EXIT_OK if res.feasible else EXIT_TARGET_MISSED


def _montecarlo_args(p):
    _flowsheet_arg(p)
    _add_specs_flag(p)
    _set_arg(p, help="design parameter NAME=VALUE (repeat)")
    p.add_argument("-n", type=_number("-n", low=1, integer=True), default=200, help="samples")
    p.add_argument("--seed", type=_number("--seed", low=0, integer=True), default=0)
    p.add_argument("--purity", type=_number("--purity", 0, 1), default=0.995,
                   help="purity target of every product [-], 0..1")
    p.add_argument("--out", metavar="FILE", help="samples (.csv or .parquet), saved as they come")
    p.add_argument("--vary", action="append", metavar="NAME=low:high",
                   help="also sample a parameter uniformly (repeat); 'feed:EL=low:high' samples "
                        "an element's wt%% in the feed")
    _parallel_args(p, "the samples")


@command("montecarlo", "purity distribution and probability of meeting 99.5 % of a design "
         "over the property-data confidence ranges", _montecarlo_args)
def _cmd_montecarlo(args) -> int:
    from .flowsheet.script import load_script
    from .optimise import monte_carlo
    from .sweep import SweepInterrupted

    load_script(args.flowsheet)
    _check_outputs(files=[("--out", args.out, (".csv", ".parquet"), True)])
    try:
        res = monte_carlo(args.flowsheet, _assignments(args.set), n=args.n, seed=args.seed,
                          workers=args.workers, executor=args.executor,
                          scheduler=args.scheduler, purity_min=args.purity,
                          progress=_progress(args), out=args.out,
                          uncertain=_vary_specs(args.vary) or None, specs=not args.no_specs)
    except SweepInterrupted as exc:
        return _interrupted(exc, "samples")
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(res.summary)
    print(f"probability that every product meets {100 * args.purity:.1f} %: "
          f"{res.probability_meeting_target:.3f} ({args.n} samples of the property-data ranges"
          + (" and the --vary parameters" if args.vary else "") + ")")
    if args.out:
        from .sweep import save

        save(res.samples, args.out)
        print(f"wrote {args.out}")
    return EXIT_OK


def _pairs(items, what) -> dict:
    """NAME=NUMBER options of ``feedstock`` (--recovery, --collection, ...) as floats."""
    bad = [it for it in items or [] if "=" not in it]
    if bad:
        raise ValueError(f"{what} expects NAME=VALUE, got '{bad[0]}'")
    out = _assignments(items, what)
    for k, v in out.items():
        if isinstance(v, str):
            raise ValueError(f"{what} {k}: '{v}' is not a number")
    return out


def _feedstock_args(f):
    f.add_argument("--wind-MW", dest="wind_MW", type=float, help="wind capacity decommissioned "
                   "per year [MW]")
    f.add_argument("--wind-drive", default="DD_PMSG",
                   choices=["DD_PMSG", "MS_PMSG", "HS_PMSG", "DFIG", "EESG"], help="drive train")
    f.add_argument("--ev-count", type=float, help="electric cars scrapped per year")
    f.add_argument("--ev-motor", default="PMSM", choices=["PMSM", "induction", "EESM"],
                   help="traction motor type")
    f.add_argument("--hdd-count", type=float, help="hard-disk drives per year")
    f.add_argument("--hdd-type", default="desktop", choices=["desktop", "laptop"])
    f.add_argument("--motor-count", type=float, help="industrial PM motors per year")
    f.add_argument("--motor-kg", type=float, help="NdFeB per industrial motor [kg] (no default)")
    f.add_argument("--motor-grade", help="feeds.csv grade of the industrial motors' magnets")
    f.add_argument("--asset", action="append", metavar="NAME=COUNT,KG_PER_UNIT,GRADE",
                   help="user-defined asset per year (repeat)")
    f.add_argument("--collection", action="append", metavar="CLASS=YIELD",
                   help="collection yield [-] of an asset class (wind, EV, HDD, "
                   "industrial_motor, user) replacing the table's")
    f.add_argument("--dismantling", action="append", metavar="CLASS=YIELD",
                   help="dismantling yield [-] of an asset class")
    f.add_argument("--recovery", action="append", metavar="EL=FRACTION",
                   help="long-loop recovery of an element [-] (default: solve --flowsheet)")
    f.add_argument("--flowsheet", help="flowsheet whose recoveries are used (default: "
                   "flowsheets/ndfeb_long_loop.py)")
    f.add_argument("--json", metavar="FILE", help="write the estimate as JSON")


@command("feedstock", "magnets, composition and recoverable oxide per year from "
         "decommissioned wind turbines, EVs, hard drives, motors", _feedstock_args)
def _cmd_feedstock(args) -> int:
    """Magnets, composition and recoverable oxide per year from decommissioned assets."""
    from . import feedstock as fsk

    custom = []
    for it in args.asset or []:
        name, _, rhs = it.partition("=")
        parts = rhs.split(",")
        if not name or len(parts) != 3:
            raise ValueError(f"--asset expects NAME=COUNT,KG_PER_UNIT,GRADE, got '{it}'")
        from ._validate import as_number

        custom.append(fsk.custom_asset(name.strip(), as_number(f"--asset {name} count", parts[0]),
                                       as_number(f"--asset {name} kg per unit", parts[1]),
                                       grade=parts[2].strip()))
    assets = fsk.assets_from_counts(
        wind_MW=args.wind_MW, wind_drive=args.wind_drive, ev_count=args.ev_count,
        ev_motor=args.ev_motor, hdd_count=args.hdd_count, hdd_type=args.hdd_type,
        motor_count=args.motor_count, motor_kg=args.motor_kg, motor_grade=args.motor_grade,
        custom=custom)
    if not assets:
        raise ValueError("give at least one asset: --wind-MW, --ev-count, --hdd-count, "
                         "--motor-count or --asset")
    rec = _pairs(args.recovery, "--recovery") or fsk.flowsheet_recoveries(args.flowsheet)
    est = fsk.estimate(assets, recoveries=rec, collection=_pairs(args.collection, "--collection"),
                       dismantling=_pairs(args.dismantling, "--dismantling"))
    print(est.report())
    if args.json:
        est.to_json(args.json)
        print(f"wrote {args.json}")
    return 0


# ---------------------------------------------------------------- design specs and windows
def _vary_specs(items) -> dict:
    """--vary NAME=low:high (uniform) for monte_carlo's ``uncertain``."""
    from ._validate import as_number

    out = {}
    for it in items or []:
        name, _, rhs = it.partition("=")
        parts = rhs.split(":")
        if not name.strip() or len(parts) != 2:
            raise CommandError(f"--vary '{it}' must look like NAME=low:high")
        lo = as_number(f"--vary {name.strip()} low", parts[0])
        hi = as_number(f"--vary {name.strip()} high", parts[1])
        if not lo < hi:
            raise CommandError(f"--vary {name.strip()}: low {lo} must be below high {hi}")
        out[name.strip()] = ("uniform", lo, hi)
    return out


def _window_args(w):
    _flowsheet_arg(w)
    w.add_argument("--param", action="append", metavar="NAME",
                   help="parameter to scan (repeat); default: the script's WINDOW_PARAMETERS")
    _set_arg(w, help="base-point parameter NAME=VALUE (repeat)")
    w.add_argument("--modes", default="active,frozen", choices=["active,frozen", "active", "frozen",
                                                                "frozen,active"],
                   help="specs 'active' (the controllers act), 'frozen' at their solved values, "
                        "or both")
    w.add_argument("--tol", type=_number("--tol", low=0, high=0.5, low_open=True), default=0.02,
                   help="bisection tolerance as a fraction of each range [-]")
    w.add_argument("--purity", type=_number("--purity", 0, 1), default=0.995,
                   help="minimum purity of every product [-], 0..1")
    w.add_argument("--out", metavar="FILE", help="window table (.csv)")
    w.add_argument("--plot", metavar="FILE", help="bar chart (.png)")


@command("window", "operating window of each parameter: the interval over which every product "
         "meets its purity, specs active and frozen", _window_args)
def _cmd_window(args) -> int:
    from .flowsheet.script import load_script
    from .window import operating_window, plot_window

    load_script(args.flowsheet)
    _check_outputs(files=[("--out", args.out, (".csv",), True),
                          ("--plot", args.plot, (".png",), True)])
    res = operating_window(args.flowsheet, args.param or None, base=_assignments(args.set),
                           modes=tuple(args.modes.split(",")), rel_tol=args.tol,
                           purity_min=args.purity)
    print(res.to_text())
    if args.out:
        res.table.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        fig = plot_window(res)
        fig.savefig(args.plot, dpi=110, bbox_inches="tight")
        print(f"wrote {args.plot}")
    return EXIT_OK



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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
