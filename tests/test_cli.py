"""The command line never shows a traceback: every user mistake gets one line naming the problem
and a non-zero exit code (2 input, 3 solver failure), before any work starts where it can be."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from reeproc.cli import EXIT_BUG, EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED, main

TOY = Path(__file__).parent / "data" / "toy_flowsheet.py"
TOY_HEAD = TOY.read_text().split("def build(")[0]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # default outputs (out/) land in the test's folder


def cli(capsys, *argv):
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def refused(result, code=EXIT_INPUT, *fragments):
    rc, out, err = result
    assert rc == code, (rc, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def script(tmp_path, body, name="fs.py"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body))
    return p


BAD_SCRIPTS = {
    "syntax": ("PARAMETERS = {}\ndef build(:\n    pass\n", ["line 2", "Python"]),
    "import": ("import reeproc_no_such_module\nPARAMETERS = {}\ndef build():\n    pass\n",
               ["line 1", "ModuleNotFoundError", "reeproc_no_such_module"]),
    "raises on load": ("PARAMETERS = {}\nx = 1 / 0\n", ["line 2", "ZeroDivisionError"]),
    "no build": ("PARAMETERS = {}\n", ["defines no 'build'"]),
    "parameters list": ("from reeproc.flowsheet import Param\nPARAMETERS = [Param(1, 'x')]\n"
                        "def build(x):\n    pass\n", ["PARAMETERS must be a dict"]),
    "signature": (TOY_HEAD + "def build(recycle_fraction):\n    pass\n",
                  ["cannot take the PARAMETERS", "feed_L_h"]),
    "returns None": (TOY_HEAD + "def build(recycle_fraction, feed_L_h, fail):\n    return None\n",
                     ["build() must return a Flowsheet, got NoneType"]),
    "build TypeError": (TOY_HEAD + "def build(recycle_fraction, feed_L_h, fail):\n"
                        "    return len(3)\n", ["line", "build() raised TypeError"]),
    "solve options": (TOY.read_text() + "\nSOLVE_OPTIONS = [1]\n", ["SOLVE_OPTIONS must be a dict"]),
    "exits": ("import sys\nsys.exit(3)\n", ["line 2", "called sys.exit(3)"]),
    "null bytes": ("PARAMETERS = {}\x00\n", ["fs.py"]),
}


@pytest.mark.parametrize("case", sorted(BAD_SCRIPTS))
def test_bad_flowsheet_scripts(tmp_path, capsys, case):
    body, fragments = BAD_SCRIPTS[case]
    p = script(tmp_path, body)
    refused(cli(capsys, "run", p), EXIT_INPUT, "fs.py", *fragments)
    if case not in ("returns None", "build TypeError"):  # those show only when building
        refused(cli(capsys, "params", p), EXIT_INPUT, "fs.py", *fragments)


@pytest.mark.parametrize("suffix", [".csv", ".txt", ""])
def test_non_python_flowsheet_file(tmp_path, capsys, suffix):
    p = tmp_path / f"feed{suffix}"
    p.write_text("a,b\n1,2\n")
    refused(cli(capsys, "run", p), EXIT_INPUT, "not a Python file", "run as such")
    refused(cli(capsys, "sweep", p, "--param", "a=1,2"), EXIT_INPUT, "not a Python file")
    refused(cli(capsys, "run", tmp_path / "missing.py"), EXIT_INPUT, "does not exist")


def test_output_paths_checked_before_the_solve(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for argv, what in [
        (["--out", afile], "is an existing file"),
        (["--out", afile / "sub"], "is a file, not a directory"),
        (["--json", tmp_path / "missing" / "k.json"], "does not exist"),
        (["--json", tmp_path], "is a directory"),
        (["--plots"], "--plots needs --out"),
    ]:
        rc, out, err = cli(capsys, "run", TOY, *argv)
        refused((rc, out, err), EXIT_INPUT, what)
        assert out == "", "nothing may be solved before the outputs are checked"
    # --json into the --out folder is fine: the folder is created
    rc, out, err = cli(capsys, "run", TOY, "--out", tmp_path / "o", "--json", tmp_path / "o" / "k.json")
    assert rc == 0, err
    assert (tmp_path / "o" / "k.json").is_file() and (tmp_path / "o" / "streams.csv").is_file()
    assert not list((tmp_path / "o").glob("*.png")), "plots only on request (--plots)"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        refused(cli(capsys, "run", TOY, "--out", ro / "o"), EXIT_INPUT, "no permission")
        refused(cli(capsys, "sweep", TOY, "--param", "feed_L_h=1,2", "--out", ro / "s.csv"),
                EXIT_INPUT, "no permission")
    finally:
        ro.chmod(0o700)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_folder_that_takes_no_files_is_refused_even_for_root(capsys, monkeypatch):
    """/proc passes the permission bits for root but takes no new file: the probe file tells."""
    import reeproc.sweep as sw

    monkeypatch.setattr(sw, "run_case", lambda *a, **k: pytest.fail("a case ran"))
    refused(cli(capsys, "sweep", TOY, "--param", "feed_L_h=1,2", "--out", "/proc/s.csv"),
            EXIT_INPUT, "--out", "cannot write in '/proc'")
    refused(cli(capsys, "run", TOY, "--json", "/proc/k.json"), EXIT_INPUT, "--json")


def test_sweep_outputs_checked_before_any_case(tmp_path, capsys, monkeypatch):
    import reeproc.optimise  # noqa: F401 - binds the real run_case before it is patched here
    import reeproc.sweep as sw

    def never(*a, **k):
        raise AssertionError("a case ran before the outputs were checked")

    monkeypatch.setattr(sw, "run_case", never)
    afile = tmp_path / "afile"
    afile.write_text("x")
    base = ["sweep", TOY, "--param", "feed_L_h=1,2", "--executor", "serial", "--quiet"]
    refused(cli(capsys, *base, "--out", afile / "s.csv"), EXIT_INPUT, "--out", "not a directory")
    refused(cli(capsys, *base, "--out", tmp_path / "s.txt"), EXIT_INPUT, ".csv or .parquet")
    refused(cli(capsys, *base, "--out", tmp_path / "s.csv", "--plot", afile), EXIT_INPUT,
            "--plot", "existing file")
    refused(cli(capsys, *base, "--param", "recycle_fraction=0:0.99999:0.00001",
                "--param", "feed_L_h=0:99999:1"), EXIT_INPUT, "cases, more than")
    refused(cli(capsys, "optimise", TOY, "--var", "recycle_fraction", "--out", afile / "h.csv"),
            EXIT_INPUT, "--out")


def test_grid_of_1e10_cases_refused_before_allocation():
    from reeproc.sweep import sweep

    grid = {"recycle_fraction": range(100_000), "feed_L_h": range(100_000)}
    with pytest.raises(ValueError, match="10,000,000,000 cases"):
        sweep(TOY, grid, executor="serial")


@pytest.mark.parametrize("argv, fragments", [
    (["sweep", TOY, "--param", "recycle_fraction=a:b:c"], ["start of 'recycle_fraction'", "'a'"]),
    (["sweep", TOY, "--param", "recycle_fraction=0:1"], ["start:stop:step"]),
    (["sweep", TOY, "--param", "recycle_fraction=0:1:0"], ["step 0"]),
    (["sweep", TOY, "--param", "recycle_fraction"], ["NAME=start:stop:step"]),
    (["sweep", TOY, "--param", "nope=1,2", "--executor", "serial"], ["unknown parameter", "nope"]),
    (["sweep", TOY, "--param", "recycle_fraction=0.1,abc", "--executor", "serial", "--quiet"],
     ["'recycle_fraction'", "'abc'"]),
    (["sweep", TOY, "--param", "recycle_fraction=0.5:1.5:0.5"], ["'recycle_fraction'", "1.5"]),
    (["sweep", TOY, "--lhs", "4", "--param", "recycle_fraction=-1:0.5"], ["'recycle_fraction'"]),
    (["sweep", TOY, "--lhs", "5", "--param", "recycle_fraction=0.1,0.2"], ["with --lhs"]),
    (["sweep", TOY, "--lhs", "5", "--param", "recycle_fraction=0:1:0.1"], ["with --lhs"]),
    (["sweep", TOY, "--lhs", "0", "--param", "recycle_fraction=0:1"], ["--lhs", ">= 1"]),
    (["sweep", TOY, "--param", "feed_L_h=1,2", "--workers", "0"], ["--workers", "in [1, "]),
    (["sweep", TOY, "--param", "feed_L_h=1,2", "--workers", "two"], ["--workers", "'two'"]),
    (["sweep", TOY, "--param", "data:mul:nope[a=b]:x__1=1,x"], ["must be a number", "'x'"]),
    (["optimise", TOY, "--var", "recycle_fraction=0.1:"], ["--var recycle_fraction high", "''"]),
    (["optimise", TOY, "--var", "recycle_fraction=a:1"], ["--var recycle_fraction low", "'a'"]),
    (["optimise", TOY, "--var", "recycle_fraction=0.1"], ["NAME=low:high"]),
    (["optimise", TOY, "--var", "nope"], ["unknown parameter"]),
    (["optimise", TOY], ["at least one --var"]),
    (["optimise", TOY, "--var", "recycle_fraction", "--purity", "5"], ["--purity", "[0, 1]"]),
    (["optimise", TOY, "--var", "recycle_fraction", "--purity", "True"], ["--purity", "'True'"]),
    (["optimise", TOY, "--var", "recycle_fraction", "--recovery", "Nd=abc"], ["--recovery Nd"]),
    (["optimise", TOY, "--var", "recycle_fraction", "--recovery", "Nd=1.5"], ["[0, 1]"]),
    (["optimise", TOY, "--var", "recycle_fraction", "--maxiter", "-5"], ["--maxiter", "in [1, 100000]"]),
    (["montecarlo", TOY, "--purity", "-1"], ["--purity", "[0, 1]"]),
    (["montecarlo", TOY, "--workers", "1000000"], ["--workers", "[1, "]),
    (["montecarlo", TOY, "--scheduler", "tcp://127.0.0.1:9"], ["needs executor 'dask'"]),
    (["optimise", TOY, "--var", "recycle_fraction", "--popsize", "1e9"], ["--popsize", "1000"]),
    (["sweep", TOY, "--param", "recycle_fraction=0:1:1e-320"], ["more than 100,000 values"]),
    (["sweep", TOY, "--param", "recycle_fraction=1e400:2:1"], ["start of", "not finite"]),
    (["run", TOY, "--set", "recycle_fraction=nan"], ["recycle_fraction", "not finite"]),
    (["run", "."], ["is a folder"]),
    (["montecarlo", TOY, "-n", "0"], ["-n", ">= 1"]),
    (["montecarlo", TOY, "-n", "2.5"], ["-n", "integer"]),
    (["montecarlo", TOY, "--set", "recycle_fraction=abc"], ["recycle_fraction", "'abc'"]),
    (["run", TOY, "--set", "recycle_fraction=abc"], ["recycle_fraction", "'abc'"]),
    (["run", TOY, "--set", "recycle_fraction=True"], ["recycle_fraction", "'True'"]),
    (["run", TOY, "--set", "recycle_fraction=2"], ["recycle_fraction", "in [0, 1]", "got 2"]),
    (["run", TOY, "--set", "fail=0.5"], ["'fail'", "integer"]),
    (["run", TOY, "--set", "nope=1"], ["unknown parameter", "nope"]),
    (["run", TOY, "--set", "recycle_fraction"], ["NAME=VALUE"]),
    (["run", TOY, "--bogus"], ["unrecognized arguments"]),
    (["demo", "--kg-h", "-3"], ["--kg-h", "> 0"]),
    (["demo", "--grade", "NOPE"], ["NOPE"]),
    (["data", "../pyproject"], ["table name"]),
    (["data", "nope"], ["no property-data table 'nope'"]),
    (["nosuchcommand"], ["invalid choice"]),
])
def test_bad_values_named_in_one_line(capsys, argv, fragments):
    refused(cli(capsys, *argv), EXIT_INPUT, *fragments)


def test_api_refuses_booleans_and_names_parameters():
    from reeproc._validate import as_number
    from reeproc.flowsheet import Param
    from reeproc.optimise import monte_carlo, optimise

    with pytest.raises(ValueError, match=r"parameter 'x' \(a \[-\]\) must be a number in \[0, 1\], "
                                         r"got True \(a boolean"):
        Param(0.5, "a [-]", 0, 1).check("x", True)
    assert Param(2, "stages", 1, 9, integer=True).check("n", 4.0) == 4
    assert isinstance(Param(2, "stages", 1, 9, integer=True).check("n", "4"), int)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1, got -5"):
        as_number("max_iter", -5, low=1, integer=True)
    with pytest.raises(ValueError, match=r"purity_min must be a number in \[0, 1\], got 5"):
        optimise(TOY, ["recycle_fraction"], purity_min=5)
    with pytest.raises(ValueError, match=r"purity_min must be a number in \[0, 1\], got -1"):
        monte_carlo(TOY, {}, uncertain={"feed_L_h": ("uniform", 1, 2)}, purity_min=-1)
    with pytest.raises(ValueError, match="got True"):
        monte_carlo(TOY, {}, uncertain={"feed_L_h": ("uniform", 1, 2)}, n=True)


def test_solver_failure_exits_3(tmp_path, capsys):
    p = script(tmp_path, TOY.read_text() + "\nSOLVE_OPTIONS = {'maxiter': 1}\n")
    line = refused(cli(capsys, "run", p), EXIT_FAILED, "recycle did not converge")
    assert line.startswith("reeproc: error:")


def test_internal_error_is_one_line_with_code_70(capsys, monkeypatch):
    import reeproc.flowsheet.script as sc

    def broken(path):
        return {}["x"] if False else 1 / 0

    monkeypatch.setattr(sc, "script_parameters", broken)
    line = refused(cli(capsys, "params", TOY), EXIT_BUG, "internal error", "ZeroDivisionError")
    assert "--traceback" in line


def test_sweep_data_keys_with_equals_and_default_output_folder(tmp_path, capsys, monkeypatch):
    from reeproc.sweep import parse_param_spec

    key = "data:mul:sx_kex[extractant=PC88A;medium=chloride;species=Nd]:log10_Kex__1"
    assert parse_param_spec(f"{key}=0.9,1.1") == {key: [0.9, 1.1]}
    assert parse_param_spec(f"{key}=0.9:1.1:0.1")[key] == pytest.approx([0.9, 1.0, 1.1])
    rc, out, err = cli(capsys, "sweep", TOY, "--param", "recycle_fraction=0.2,0.4",
                       "--param", "data:mul:elements[symbol=Nd]:atomic_weight__g_mol=1.0,1.01",
                       "--executor", "serial", "--quiet", "--plot")
    assert rc == 0, err
    df = pd.read_csv(tmp_path / "out" / "sweep_toy_flowsheet.csv")
    assert len(df) == 4 and df["converged"].all(), df
    assert "purity Nd product [-]" in out  # the summary shows purities, not a truncated table
    assert (tmp_path / "out" / "sweep_toy_flowsheet_plots").is_dir()


def test_interrupted_sweep_keeps_the_cases_done(tmp_path, capsys, monkeypatch):
    import reeproc.sweep as sw

    real, calls = sw.run_case, []

    def run_then_interrupt(script, params):
        calls.append(params)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(script, params)

    monkeypatch.setattr(sw, "run_case", run_then_interrupt)
    out = tmp_path / "s.csv"
    rc, _, err = cli(capsys, "sweep", TOY, "--param", "recycle_fraction=0:0.9:0.1",
                     "--executor", "serial", "--quiet", "--out", out)
    assert rc == EXIT_INTERRUPTED and "Traceback" not in err
    assert "interrupted after 3 of 10 cases; kept in" in err
    df = pd.read_csv(out, index_col="case")
    assert list(df.index) == [0, 1, 2] and df["converged"].all()


def test_optimise_in_parallel_matches_serial_feasibility(tmp_path, capsys):
    from reeproc.optimise import optimise

    kw = dict(objective="mass Nd product [kg/h]", purity_min=0.0, maxiter=2, popsize=3, seed=0,
              local_maxfev=0)
    a = optimise(TOY, {"recycle_fraction": (0.0, 0.9)}, **kw)
    b = optimise(TOY, {"recycle_fraction": (0.0, 0.9)}, workers=2, **kw)
    assert a.feasible and b.feasible
    assert b.objective == pytest.approx(a.objective, rel=0.05)
    rc, out, err = cli(capsys, "optimise", TOY, "--var", "recycle_fraction", "--purity", "0",
                       "--maxiter", "2", "--popsize", "3", "--quiet", "--out", tmp_path / "h.csv")
    assert rc == 0, err
    assert (tmp_path / "h.csv").is_file()


def test_data_is_readable_and_csv_is_the_file(capsys):
    from reeproc.data import table_path

    rc, out, _ = cli(capsys, "data", "feeds")
    assert rc == 0
    assert max(len(ln) for ln in out.splitlines()) <= 100  # capsys: no terminal, 100 columns
    assert "line " in out and "wt_pct__pct" in out
    rc, out, _ = cli(capsys, "data", "feeds", "--csv")
    assert out == table_path("feeds").read_text(encoding="utf-8")
    rc, out, _ = cli(capsys, "data")
    assert "reagents" in out and max(len(ln) for ln in out.splitlines()) <= 100


def test_help_shows_defaults_and_says_scripts_are_python(capsys):
    for cmd in ("sweep", "optimise", "montecarlo"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        text = capsys.readouterr().out
        assert "--workers" in text and "--quiet" in text and "(default: 1)" in text
        assert "run as such" in text
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "Python files and run as such" in capsys.readouterr().out


# ---------------------------------------------------------------- a few real processes
def _reeproc(*argv, **kw):
    return subprocess.run([sys.executable, "-m", "reeproc.cli", *map(str, argv)],
                          capture_output=True, text=True, **kw)


def test_subprocess_syntax_error_and_scheduler(tmp_path):
    p = script(tmp_path, "def build(:\n")
    r = _reeproc("params", p)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "line 1" in r.stderr
    pytest.importorskip("dask.distributed")
    t0 = time.perf_counter()
    r = _reeproc("sweep", TOY, "--param", "feed_L_h=1,2", "--executor", "dask",
                 "--scheduler", "tcp://127.0.0.1:9", "--out", tmp_path / "s.csv")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert time.perf_counter() - t0 < 60


def test_subprocess_run_writes_every_output_before_it_exits(tmp_path):
    """The installed command ends with ``os._exit`` after flushing (it skips the interpreter's
    teardown): the JSON, the tables and stdout are complete, and the exit code is main's."""
    r = _reeproc("run", TOY, "--out", tmp_path / "o", "--json", tmp_path / "k.json")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "k.json").read_text())
    assert list((tmp_path / "o").glob("*.csv")) and r.stdout.strip()
    r = _reeproc("run", TOY, "--set", "feed_L_h=-1")
    assert r.returncode == 2 and "feed_L_h" in r.stderr and "Traceback" not in r.stderr


def test_subprocess_broken_pipe():
    """``reeproc params ... | head``: the reader goes away; no BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "reeproc.cli", "params", str(TOY)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode != 0


def test_subprocess_ctrl_c_keeps_the_cases_done(tmp_path):
    out = tmp_path / "s.csv"
    # the child starts with Ctrl-C's default action even when this suite runs as a background
    # job, whose shell leaves SIGINT ignored (an ignored signal stays ignored across exec)
    proc = subprocess.Popen([sys.executable, "-m", "reeproc.cli", "sweep", str(TOY), "--param",
                             "recycle_fraction=0:0.9:0.00001", "--executor", "serial",
                             "--quiet", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.time() + 180
        while not out.exists() and time.time() < deadline:  # first checkpoint after ~5 s
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # never leave the 90,000-case sweep running
            proc.kill()
            proc.communicate()
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert "Traceback" not in err and "interrupted after" in err
    df = pd.read_csv(out, index_col="case")
    n = int(err.split("interrupted after ")[1].split()[0])
    assert len(df) == n > 0 and list(df.index) == list(range(n))


def test_subprocess_exit_code_after_an_interrupt_caught_inside_an_eval(tmp_path):
    """The Ctrl-C of the test above can land inside a string eval of a library
    (collections.namedtuple, called by pandas' itertuples in the economics); CPython then
    marks the process for death by SIGINT even though the sweep caught the interrupt. The
    command still ends with its own exit code (130), on the path that keeps worker shutdown
    hooks (multiprocessing imported) too."""
    script = tmp_path / "interrupt_in_eval.py"
    script.write_text(textwrap.dedent("""
        import multiprocessing  # the command's 'spawned' exit path
        import reeproc.cli as cli

        def main():
            try:
                eval("(_ for _ in ()).throw(KeyboardInterrupt)")
            except KeyboardInterrupt:
                return cli.EXIT_INTERRUPTED
            return 0

        cli.main = main
        cli.console()
    """))
    r = subprocess.run([sys.executable, "-m", script.stem], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)   # (as ``python -m reeproc.cli`` runs)
    assert r.returncode == EXIT_INTERRUPTED, (r.returncode, r.stderr)


def test_progress_bars_on_long_commands_and_quiet(capsys):
    from reeproc.optimise import monte_carlo, optimise
    from reeproc.sweep import sweep

    sweep(TOY, {"recycle_fraction": [0.1, 0.2, 0.3]}, executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "3/3" in err
    optimise(TOY, {"recycle_fraction": (0.0, 0.9)}, objective="mass Nd product [kg/h]",
             purity_min=0.0, maxiter=1, popsize=2, local_maxfev=0, progress=True)
    err = capsys.readouterr().err
    assert "optimise" in err and "solve" in err and "best" in err
    monte_carlo(TOY, {}, uncertain={"feed_L_h": ("uniform", 1, 2)}, property_data=False, n=3,
                executor="serial", progress=True)
    assert "3/3" in capsys.readouterr().err
    rc, out, err = cli(capsys, "sweep", TOY, "--param", "recycle_fraction=0.1,0.2", "--quiet")
    assert rc == 0 and err == ""


def test_subprocess_dask_sweep_shuts_down_quietly(tmp_path):
    pytest.importorskip("dask.distributed")
    r = _reeproc("sweep", TOY, "--param", "feed_L_h=1,2,3", "--executor", "dask", "--workers",
                 "2", "--quiet", "--out", tmp_path / "s.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr  # no nanny 'killing' warnings, no port warnings
    assert len(pd.read_csv(tmp_path / "s.csv")) == 3


def test_help_imports_nothing_heavy():
    """`reeproc --help` (and importing reeproc) loads no numpy, pandas, numba or scipy."""
    code = ("import sys, reeproc, reeproc.cli; reeproc.cli.build_parser(); "
            "print([m for m in ('numpy', 'pandas', 'numba', 'scipy', 'matplotlib') "
            "if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
