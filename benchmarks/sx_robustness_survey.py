"""Cold-start robustness survey of the SX solver over the domain of issue 11.

The property-based test (``tests/test_sx_robustness.py``) runs 40 fixed examples so that CI is
reproducible; this script draws many more cases from the same domain (feed pH 0-4, O/A
0.05-20 log-uniform, 1-40 extraction and 0-30 scrub stages by default, saponification
0-0.6, 1-12 metals, chloride or sulfate, each model kind) and counts what happens to each
from the default start:

* ``converged``: balances closed and every stage acidic (the test's assertions);
* ``refused``: the documented ``NoAcidicSteadyStateError``, or ``ExtractantCapacityError``
  (a pH correlation without a loading limit, below the organic flow where its steady state
  ends; counted apart);
* ``failed``: any other ``ConvergenceError`` (a gap of the solver, listed case by case).

Run: ``python benchmarks/sx_robustness_survey.py --cases 500 --seed 1 --kind mass_action``
(60 s on one core of the CI machine kind, measured 2026-12-03); ``--max-extraction 250
--max-scrub 250`` draws cascades of up to 500 stages (issue 11's domain; ~1.3 s per case, up to
~30 s for a long over-saponified one); ``--max-strip 10`` adds a strip section of 1-10 stages
(4 M HCl or H2SO4 at 0.2-2 L/h). The figures in ``docs/sx.md`` come from its output.
"""
from __future__ import annotations

import argparse
import math
import pathlib
import random
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

from test_sx_robustness import cold_start_cascade  # noqa: E402  (the test's case builder)

from reeproc import sx  # noqa: E402
from reeproc.sx.results import PH_MAX  # noqa: E402

KINDS = ("mass_action", "constant", "ph")


def draw(rng: random.Random, kind: str | None, max_n: int = 40, max_m: int = 30,
         max_k: int = 0) -> dict:
    """One case of the domain (the test's strategies, O/A log-uniform; at most ``max_n``
    extraction, ``max_m`` scrub and ``max_k`` strip stages; with ``max_k`` 0 no strip, and
    the draws of a seed are those before the strip was added)."""
    case = dict(pH=rng.uniform(0.0, 4.0),
                oa=10.0 ** rng.uniform(math.log10(0.05), math.log10(20.0)),
                n=rng.randint(1, max_n), m=rng.randint(0, max_m), sap=rng.uniform(0.0, 0.6),
                n_sp=rng.randint(1, 12), sulfate=rng.random() < 0.5,
                kind=kind or rng.choice(KINDS))
    if max_k:   # a 4 M HCl or H2SO4 strip at 0.2-2 L/h (log-uniform)
        case.update(k=rng.randint(1, max_k),
                    strip_flow=10.0 ** rng.uniform(math.log10(0.2), math.log10(2.0)),
                    strip_sulfate=rng.random() < 0.5)
    return case


def flagged(case: dict) -> bool:
    """Whether the over-saponification diagnosis (``Cascade._base_excess_note``: more base
    than the inlets' acid and the metal the organic can take up) flags the case."""
    cas, kw = cold_start_cascade(**case)
    asm = cas._assemble(kw.get("feed"), kw.get("organic"), kw.get("scrub"), kw.get("strip"))
    return bool(cas._base_excess_note(asm))


def outcome(case: dict) -> tuple[str, str]:
    """('converged' | 'refused' | 'failed', detail) of one case from the default start."""
    cas, kw = cold_start_cascade(**case)
    try:
        r = cas.solve(**kw)
    except sx.NoAcidicSteadyStateError:
        return "refused", ""
    except sx.ExtractantCapacityError as e:   # (a correlation without a loading limit)
        return "refused", f"capacity: no steady state below {e.organic_flow_min:.4g} L/h"
    except sx.ConvergenceError as e:
        return "failed", (f"residual {e.residual:.3g} at stage {e.stage} ({e.species}) after "
                          f"{e.iterations} iterations")
    ok = (r.converged and r.mass_balance_residual < 1e-9 and r.charge_balance_residual < 1e-9
          and (not cas.model.uses_h or r.pH.max() <= PH_MAX))
    return ("converged", "") if ok else ("failed", "converged=True but a balance is open")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kind", choices=KINDS, default=None,
                    help="one model kind only (default: drawn per case)")
    ap.add_argument("--max-extraction", type=int, default=40,
                    help="most extraction stages drawn (issue 11's domain: up to 500 in all)")
    ap.add_argument("--max-scrub", type=int, default=30, help="most scrub stages drawn")
    ap.add_argument("--max-strip", type=int, default=0,
                    help="most strip stages drawn (default 0: no strip section)")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    counts = {"converged": 0, "refused": 0, "failed": 0}
    flags = dict.fromkeys(counts, 0)   # of those, flagged by the over-saponification diagnosis
    failed = []
    capacity = 0   # refusals by ExtractantCapacityError
    t0 = time.perf_counter()
    for _ in range(args.cases):
        case = draw(rng, args.kind, args.max_extraction, args.max_scrub, args.max_strip)
        what, detail = outcome(case)
        counts[what] += 1
        capacity += what == "refused" and detail.startswith("capacity")
        flags[what] += flagged(case)
        if what == "failed":
            failed.append((case, detail))
    dt = time.perf_counter() - t0
    print(f"SX cold-start survey, seed {args.seed}, {args.cases} cases "
          f"(kind: {args.kind or 'drawn'}, at most {args.max_extraction} + {args.max_scrub} "
          f"+ {args.max_strip} stages), {dt:.0f} s: "
          + ", ".join(f"{k} {v} ({100.0 * v / args.cases:.1f} %)" for k, v in counts.items()))
    print(f"  refused for the extractant's capacity (ExtractantCapacityError): {capacity}")
    print("  flagged as over-saponified: " + ", ".join(f"{flags[k]} of the {k}" for k in counts))
    for case, detail in failed:
        short = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in case.items()}
        print(f"  failed: {short}: {detail}")
    if failed:
        with_scrub = sum(c["m"] >= 10 for c, _ in failed)
        print(f"  {with_scrub} of {len(failed)} failures have a scrub of 10 stages or more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
