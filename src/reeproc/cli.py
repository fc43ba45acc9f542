"""The ``reeproc`` command line."""
from __future__ import annotations

import argparse
import sys

from ._version import __version__


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
    strip = Stream.aqueous(50.0, {"Nd": 0.40, "Pr": 0.0015, "Fe+3": 0.0002, "H+": 0.5, "Cl-": 1.7045},
                           name="strip liquor")
    wash = Stream.aqueous(5.0, {"H+": 0.01, "Cl-": 0.01}, name="wash")
    product = mix(strip, wash, name="to oxalate")
    p = product.purity("Nd")
    print(f"\nNd2O3 purity of '{product.name}' on the oxide basis: {100 * p:.3f} % "
          f"({'meets' if p >= 0.995 else 'below'} the 99.5 % target)")
    return 0


def _cmd_data(args) -> int:
    from .data import list_tables, load_table, table_notes

    if not args.table:
        for name in list_tables():
            print(name)
        return 0
    df = load_table(args.table)
    for line in table_notes(args.table):
        print("#", line)
    import pandas as pd

    with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200):
        print(df.to_string(index=False))
    return 0


def _parse_assignments(items) -> dict:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise ValueError(f"--set expects NAME=VALUE, got '{it}'")
        k, v = it.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            out[k.strip()] = v
    return out


def _cmd_run(args) -> int:
    from pathlib import Path

    from .flowsheet.script import run

    res = run(args.flowsheet, specs=not args.no_specs, **_parse_assignments(args.set))
    print(res.report())
    if args.out:
        paths = res.export(args.out)
        print(f"\nwrote {len(paths)} files to {Path(args.out).resolve()}")
    if args.json:
        res.to_json(args.json)
        print(f"wrote KPIs to {args.json}")
    return 0 if res.converged else 1


def _cmd_params(args) -> int:
    from .flowsheet.script import script_parameters

    params = script_parameters(args.flowsheet)
    print(f"{'name':32s} {'default':>10s}  {'range':>17s}  description")
    for name, p in params.items():
        rng = "" if p.low is None and p.high is None else f"[{p.low}, {p.high}]"
        kind = " (integer)" if p.integer else ""
        print(f"{name:32s} {p.default!s:>10s}  {rng:>17s}  {p.description}{kind}")
    return 0


def _cmd_sweep(args) -> int:
    from .sweep import parse_param_spec, save, sweep

    grid, lhs = {}, {}
    for spec in args.param or []:
        name, rhs = spec.split("=", 1) if "=" in spec else (spec, "")
        if args.lhs and ":" in rhs:
            parts = [float(x) for x in rhs.split(":")]
            lhs[name.strip()] = (parts[0], parts[1])
        else:
            grid.update(parse_param_spec(spec))
    if not grid and not lhs:
        raise ValueError("give at least one --param NAME=start:stop:step or NAME=v1,v2")
    df = sweep(args.flowsheet, grid or None, lhs=lhs or None, n_lhs=args.lhs or 0,
               workers=args.workers, executor=args.executor, scheduler=args.scheduler,
               progress=not args.quiet, seed=args.seed, specs=not args.no_specs)
    n_fail = int((~df["converged"].astype(bool)).sum())
    print(f"{len(df)} cases, {n_fail} failed or not converged")
    if args.out:
        save(df, args.out)
        print(f"wrote {args.out}")
    if args.plot:
        for path in _sweep_plots(df, args.plot):
            print(f"wrote {path}")
    if not args.out:
        import pandas as pd

        with pd.option_context("display.max_rows", 50, "display.width", 200):
            print(df.drop(columns=[c for c in df.columns if c == "traceback tail"]))
    return 0


def _sweep_plots(df, directory) -> list:
    """Purity/recovery maps over the first two swept parameters (99.5 % contour) and the Pareto
    front cost vs recovery among cases meeting 99.5 % purity, as PNG files in ``directory``."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .sweep import plot_map, plot_pareto

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    first = list(df.columns).index("converged")
    swept = [c for c in df.columns[:first] if df[c].nunique() > 1]
    paths = []
    if len(swept) >= 2:
        x, y = swept[:2]
        for z in [c for c in df.columns if c.startswith(("purity ", "recovery "))]:
            if df[z].notna().sum() == 0:
                continue
            fig = plot_map(df, x, y, z)
            p = out / f"map_{_slug(z)}.png"
            fig.savefig(p, dpi=110, bbox_inches="tight")
            plt.close(fig)
            paths.append(p)
    cost = "cost [USD/kg oxide]"
    if cost in df.columns and "all products meet 99.5 %" in df.columns:
        feas = df["all products meet 99.5 %"].fillna(False).astype(bool)
        for rec in [c for c in df.columns if c.startswith("recovery ")]:
            fig = plot_pareto(df, cost, rec, feasible=feas)
            p = out / f"pareto_{_slug(rec)}.png"
            fig.savefig(p, dpi=110, bbox_inches="tight")
            plt.close(fig)
            paths.append(p)
    return paths


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9]+", "_", text.split("[")[0]).strip("_")


def _bounds_specs(items) -> dict:
    out = {}
    for it in items or []:
        if "=" not in it or ":" not in it:
            raise ValueError(f"--var expects NAME or NAME=low:high, got '{it}'")
        k, rhs = it.split("=", 1)
        lo, hi = (float(v) for v in rhs.split(":")[:2])
        out[k.strip()] = (lo, hi)
    return out


def _cmd_optimise(args) -> int:
    from .optimise import optimise

    names = [v for v in args.var or [] if "=" not in v]
    bounds = _bounds_specs([v for v in args.var or [] if "=" in v])
    if names and bounds:
        from .flowsheet.script import script_parameters

        ps = script_parameters(args.flowsheet)
        for k in names:
            if k not in ps or ps[k].low is None or ps[k].high is None:
                raise ValueError(f"parameter '{k}' unknown or without bounds; give NAME=low:high")
            bounds[k] = (float(ps[k].low), float(ps[k].high))
    variables = bounds or names
    if not variables:
        raise ValueError("give at least one --var NAME or NAME=low:high")
    rec = {}
    for it in args.recovery or []:
        k, v = it.split("=", 1)
        rec[k.strip()] = float(v)
    res = optimise(args.flowsheet, variables, objective=args.objective, purity_min=args.purity,
                   recovery_min=rec or None, fixed=_parse_assignments(args.set),
                   maxiter=args.maxiter, popsize=args.popsize, seed=args.seed,
                   specs=not args.no_specs)
    print(res.message)
    print(f"{'feasible' if res.feasible else 'NOT feasible'}; objective {res.objective:.6g}")
    for k, v in res.x.items():
        print(f"  {k} = {v}")
    for k, v in res.kpis.items():
        if k.startswith(("purity ", "recovery ", "cost ")):
            print(f"  {k}: {v:.6g}")
    if args.out:
        from .sweep import save

        save(res.history, args.out)
        print(f"wrote every evaluated case to {args.out}")
    return 0 if res.feasible else 1


def _cmd_montecarlo(args) -> int:
    from .optimise import monte_carlo

    res = monte_carlo(args.flowsheet, _parse_assignments(args.set), n=args.n, seed=args.seed,
                      workers=args.workers, executor=args.executor, purity_min=args.purity,
                      uncertain=_vary_specs(args.vary) or None, specs=not args.no_specs)
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
    return 0


# ---------------------------------------------------------------- design specs and windows
def _add_specs_flag(parser) -> None:
    parser.add_argument("--no-specs", action="store_true",
                        help="solve without the script's design specs (variables at their "
                        "parameter values)")


def _vary_specs(items) -> dict:
    """--vary NAME=low:high (uniform) for monte_carlo's ``uncertain``."""
    out = {}
    for name, (lo, hi) in _bounds_specs(items).items():
        out[name] = ("uniform", lo, hi)
    return out


def _cmd_window(args) -> int:
    from .window import operating_window, plot_window

    res = operating_window(args.flowsheet, args.param or None, base=_parse_assignments(args.set),
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
    return 0


def _add_window_parser(sub) -> None:
    w = sub.add_parser("window", help="operating window of each parameter: the interval over "
                       "which every product meets its purity, specs active and frozen")
    w.add_argument("flowsheet")
    w.add_argument("--param", action="append", metavar="NAME",
                   help="parameter to scan (repeat); default: the script's WINDOW_PARAMETERS")
    w.add_argument("--set", action="append", metavar="NAME=VALUE", help="base-point parameter")
    w.add_argument("--modes", default="active,frozen", help="'active', 'frozen' or both")
    w.add_argument("--tol", type=float, default=0.02,
                   help="bisection tolerance as a fraction of each range [-]")
    w.add_argument("--purity", type=float, default=0.995, help="minimum product purity [-]")
    w.add_argument("--out", help="window table (.csv)")
    w.add_argument("--plot", help="bar chart (.png)")
    w.set_defaults(func=_cmd_window)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="reeproc",
        description="Process models for the hydrometallurgical recycling of NdFeB magnets.",
    )
    p.add_argument("--version", action="version", version=f"reeproc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    d = sub.add_parser("demo", help="stream / oxide-purity demo on a magnet feed grade")
    d.add_argument("--grade", default="HDD", help="feed grade in property_data/feeds.csv")
    d.add_argument("--kg-h", type=float, default=41.67, help="magnet feed rate [kg/h]")
    d.set_defaults(func=_cmd_demo)
    t = sub.add_parser("data", help="list property-data tables, or print one with its sources")
    t.add_argument("table", nargs="?", help="table name (file stem)")
    t.set_defaults(func=_cmd_data)
    r = sub.add_parser("run", help="solve a flowsheet script and print its KPI report")
    r.add_argument("flowsheet", help="flowsheet script, e.g. flowsheets/ndfeb_long_loop.py")
    r.add_argument("--out", help="directory for tables (CSV) and plots (PNG)")
    r.add_argument("--json", help="write the KPIs as JSON to this file")
    r.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="override a flowsheet parameter (see 'reeproc params')")
    _add_specs_flag(r)
    r.set_defaults(func=_cmd_run)
    pa = sub.add_parser("params", help="list the parameters of a flowsheet script")
    pa.add_argument("flowsheet")
    pa.set_defaults(func=_cmd_params)
    sw = sub.add_parser("sweep", help="run a flowsheet over a parameter grid or LHS sample")
    sw.add_argument("flowsheet")
    sw.add_argument("--param", action="append", metavar="NAME=start:stop:step|v1,v2,...",
                    help="swept parameter (repeat); with --lhs a start:stop range sets LHS bounds")
    sw.add_argument("--lhs", type=int, default=0, metavar="N", help="Latin-hypercube sample size")
    sw.add_argument("--workers", type=int, default=1)
    sw.add_argument("--executor", choices=["processes", "dask", "serial"], default="processes")
    sw.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786)")
    sw.add_argument("--seed", type=int, default=0, help="LHS seed")
    sw.add_argument("--out", help="results file (.csv or .parquet)")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.add_argument("--plot", metavar="DIR", help="write purity/recovery maps (99.5 %% contour) "
                    "over the first two swept parameters and cost-recovery Pareto fronts as PNG")
    _add_specs_flag(sw)
    sw.set_defaults(func=_cmd_sweep)
    op = sub.add_parser("optimise", help="minimise cost (or stages) s.t. purity >= 99.5 %% and "
                        "recovery targets (scipy differential evolution, integer stages)")
    op.add_argument("flowsheet")
    op.add_argument("--var", action="append", metavar="NAME[=low:high]",
                    help="design variable (repeat); bounds default to the parameter's range")
    op.add_argument("--objective", default="cost", help="'cost', 'stages' or a KPI column")
    op.add_argument("--purity", type=float, default=0.995, help="minimum product purity [-]")
    op.add_argument("--recovery", action="append", metavar="EL=MIN",
                    help="minimum recovery of an element [-] (repeat)")
    op.add_argument("--set", action="append", metavar="NAME=VALUE", help="fixed parameter")
    op.add_argument("--maxiter", type=int, default=30)
    op.add_argument("--popsize", type=int, default=8)
    op.add_argument("--seed", type=int, default=0)
    op.add_argument("--out", help="every evaluated case (.csv or .parquet)")
    _add_specs_flag(op)
    op.set_defaults(func=_cmd_optimise)
    mc = sub.add_parser("montecarlo", help="purity distribution and probability of meeting "
                        "99.5 %% of a design over the property-data confidence ranges")
    mc.add_argument("flowsheet")
    mc.add_argument("--set", action="append", metavar="NAME=VALUE", help="design parameter")
    mc.add_argument("-n", type=int, default=200, help="samples")
    mc.add_argument("--seed", type=int, default=0)
    mc.add_argument("--purity", type=float, default=0.995)
    mc.add_argument("--workers", type=int, default=1)
    mc.add_argument("--executor", choices=["processes", "dask", "serial"], default="processes")
    mc.add_argument("--out", help="samples (.csv or .parquet)")
    mc.add_argument("--vary", action="append", metavar="NAME=low:high",
                    help="also sample a parameter uniformly (repeat); 'feed:EL=low:high' samples "
                    "an element's wt%% in the feed")
    _add_specs_flag(mc)
    mc.set_defaults(func=_cmd_montecarlo)
    _add_window_parser(sub)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, LookupError, RuntimeError) as exc:
        print(f"reeproc: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
