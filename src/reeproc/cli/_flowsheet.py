"""Commands on one flowsheet or on the data: ``demo``, ``data``, ``run``, ``params``."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .._version import __version__
from ._base import (EXIT_INPUT, EXIT_OK, CommandError, _add_specs_flag, _assignments,
                    _check_outputs, _flowsheet_arg, _number, _set_arg, command)


def _demo_args(p):
    p.add_argument("--grade", default="HDD", help="feed grade in property_data/feeds.csv")
    p.add_argument("--kg-h", type=_number("--kg-h", low=0, low_open=True), default=41.67,
                   help="magnet feed rate [kg/h]")


@command("demo", "stream / oxide-purity demo on a magnet feed grade", _demo_args)
def _cmd_demo(args) -> int:
    """Oxide-basis purity of a magnet feed and of an SX-like product, from property data."""
    from ..feeds import magnet_feed
    from ..stream import Stream, mix

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
    from .. import data
    from .._text import clip, paragraphs, readable_table, wrap

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
    from ..flowsheet.script import load_script, run

    params = _assignments(args.set)
    if args.plots and not args.out:
        raise CommandError("--plots needs --out DIR for the PNG files")
    _check_outputs(args.out, [("--json", args.json, None, False),
                              ("--html", args.html, (".html", ".htm"), True)])
    load_script(args.flowsheet)
    from ..flowsheet.report import exit_code_for

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
    from ..economics import Assumptions

    if args.plant_size is None and args.grid is None and args.feed_price is None:
        return
    res.economics(Assumptions(plant_feed_t_y=args.plant_size, grid=args.grid or "UK",
                              feed_price_USD_kg=args.feed_price))


@command("params", "list the parameters of a flowsheet script", _params_args)
def _cmd_params(args) -> int:
    from ..flowsheet.script import script_parameters

    params = script_parameters(args.flowsheet)
    print(f"{'name':32s} {'default':>10s}  {'range':>17s}  description")
    for name, p in params.items():
        rng = ("|".join(p.choices) if p.choices else
               "" if p.low is None and p.high is None else f"[{p.low}, {p.high}]")
        kind = " (integer)" if p.integer else ""
        print(f"{name:32s} {p.default!s:>10s}  {rng:>17s}  {p.description}{kind}")
    return EXIT_OK
