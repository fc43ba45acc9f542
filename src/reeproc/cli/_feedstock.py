"""The ``feedstock`` command: magnets and recoverable oxide from decommissioned assets."""
from __future__ import annotations

from ._base import _assignments, command


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
    from .. import feedstock as fsk

    custom = []
    for it in args.asset or []:
        name, _, rhs = it.partition("=")
        parts = rhs.split(",")
        if not name or len(parts) != 3:
            raise ValueError(f"--asset expects NAME=COUNT,KG_PER_UNIT,GRADE, got '{it}'")
        from .._validate import as_number

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
