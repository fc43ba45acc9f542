"""CLI benchmark: ``reeproc run flowsheets/ndfeb_long_loop.py --out DIR --json FILE`` (solve,
report, every table and the JSON; plots only on request) against the bare solve in the same
process (``reeproc.flowsheet.run`` + KPIs): the ratio is what the command adds on top of the
physics. A second test times the whole command in a fresh process with a warm numba cache
(imports included, the figure a user waits for) against ``python -c "import reeproc.cli"`` and
against a fresh process that only imports the flowsheet layer.

Run: python -m pytest benchmarks/test_bench_cli.py --benchmark-only -s
"""
import contextlib
import io
import subprocess
import sys
import time
from pathlib import Path

from reeproc.cli import main
from reeproc.flowsheet import run

REFERENCE = Path(__file__).resolve().parents[1] / "flowsheets" / "ndfeb_long_loop.py"


def _bare():
    res = run(REFERENCE)
    res.kpis()
    return res


def test_bench_cli_run_vs_bare_solve(benchmark, tmp_path):
    _bare()  # warm-up: numba cache, Cantera phases, imports
    bare = []
    for _ in range(5):
        t0 = time.perf_counter()
        _bare()
        bare.append(time.perf_counter() - t0)

    def command():
        with contextlib.redirect_stdout(io.StringIO()):
            rc = main(["run", str(REFERENCE), "--out", str(tmp_path / "o"),
                       "--json", str(tmp_path / "o" / "kpis.json")])
        assert rc == 0

    benchmark.pedantic(command, rounds=5, iterations=1, warmup_rounds=1)
    t_cli, t_bare = benchmark.stats.stats.min, min(bare)
    ratio = t_cli / t_bare
    benchmark.extra_info.update(cli_s=t_cli, bare_solve_s=t_bare, ratio=ratio)
    print(f"\nreeproc run --out --json (in process, warm): {t_cli:.3f} s best of 5; bare solve + "
          f"KPIs {t_bare:.3f} s; ratio {ratio:.2f}")
    assert ratio < 2.0


def _wall(args, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def test_bench_cli_fresh_process(benchmark, tmp_path):
    py = sys.executable
    cmd = [py, "-m", "reeproc.cli", "run", str(REFERENCE), "--out", str(tmp_path / "o"),
           "--json", str(tmp_path / "o" / "kpis.json")]
    subprocess.run(cmd, check=True, capture_output=True)  # warm numba cache
    t_help = _wall([py, "-m", "reeproc.cli", "--help"])
    t_import = _wall([py, "-c", "import reeproc.flowsheet.trains, reeproc.sx"])
    t_run = benchmark.pedantic(lambda: _wall(cmd, repeat=1), rounds=3, iterations=1)
    t_run = benchmark.stats.stats.min
    benchmark.extra_info.update(run_s=t_run, help_s=t_help, import_flowsheet_layer_s=t_import)
    print(f"\nfresh process, warm numba cache: reeproc run --out --json {t_run:.2f} s; "
          f"reeproc --help {t_help:.2f} s; importing the flowsheet layer alone {t_import:.2f} s "
          f"(ratio run / import {t_run / t_import:.2f})")
