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
