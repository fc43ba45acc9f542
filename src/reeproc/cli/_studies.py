"""Commands over many cases: ``sweep``, ``optimise``, ``montecarlo``, ``window``."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from ._base import (EXIT_INTERRUPTED, EXIT_OK, EXIT_TARGET_MISSED, CommandError, _add_specs_flag,
                    _assignments, _check_outputs, _flowsheet_arg, _number, _parallel_args,
                    _progress, _set_arg, command)


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
    from ..flowsheet.script import load_script
    from ..sweep import SweepInterrupted, sweep

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
            from .._validate import as_number

            lhs[name] = (as_number(f"--param {name} low", parts[0]),
                         as_number(f"--param {name} high", parts[1]))
    else:
        from ..sweep import parse_param_spec

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
    from ..sweep import summary_table

    print(summary_table(df, width=shutil.get_terminal_size((120, 24)).columns))
    print(f"\n{len(df)} cases, {n_fail} failed or not converged; wrote {out}")
    if plot_dir is not None:
        for path in _sweep_plots(df, plot_dir, script=args.flowsheet):
            print(f"wrote {path}")
    return EXIT_OK


def _sweep_plots(df, directory, script=None) -> list:
    """Sweep maps and Pareto fronts as PNG (reeproc.flowsheet.plots.maps.save_sweep_plots)."""
    from ..flowsheet.plots.maps import save_sweep_plots

    return save_sweep_plots(df, directory, script=script)
def _check_values(script, grid: dict, lhs: dict | None) -> None:
    """Every swept value (LHS: both bounds) within its parameter's range, before any case runs."""
    from ..flowsheet.script import check_params, script_parameters

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
    from ..sweep import _DATA_KEY

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
    from .._validate import as_number
    from ..flowsheet.script import script_parameters

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
    from .._validate import as_number
    from ..flowsheet.script import load_script
    from ..optimise import optimise
    from ..sweep import SweepInterrupted

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
    from ..flowsheet.script import load_script
    from ..optimise import monte_carlo
    from ..sweep import SweepInterrupted

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
        from ..sweep import save

        save(res.samples, args.out)
        print(f"wrote {args.out}")
    return EXIT_OK


def _vary_specs(items) -> dict:
    """--vary NAME=low:high (uniform) for monte_carlo's ``uncertain``."""
    from .._validate import as_number

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
    from ..flowsheet.script import load_script
    from ..window import operating_window, plot_window

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
