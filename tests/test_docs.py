"""Documentation is executed: every ```python block of README.md and docs/*.md runs, and prints
exactly the ```text block that follows it; every docstring example runs (doctest); the README's
figures in prose are the figures the code computes; its `reeproc` command lines parse, and the
cheap ones run."""
import contextlib
import doctest
import importlib
import io
import pkgutil
import re
import shlex
from pathlib import Path

import pytest

import reeproc

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def blocks(path):
    """[(line, code, expected output or None)] for the ```python blocks of a Markdown file; the
    expected output is a ```text block that directly follows."""
    text = path.read_text(encoding="utf-8")
    found = list(BLOCK.finditer(text))
    out = []
    for i, m in enumerate(found):
        if m.group(1) != "python":
            continue
        expected = None
        nxt = found[i + 1] if i + 1 < len(found) else None
        if nxt is not None and nxt.group(1) == "text" and not text[m.end():nxt.start()].strip():
            expected = nxt.group(2)
        out.append((text[:m.start()].count("\n") + 2, m.group(2), expected))
    return out


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_markdown_python_blocks_run_and_print_what_the_text_shows(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples run as from the repository root, writing into tmp
    (tmp_path / "flowsheets").symlink_to(ROOT / "flowsheets")
    ns = {"__name__": "__doc_example__"}
    for line, code, expected in blocks(path):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{path.name}:{line}", "exec"), ns)
        if expected is not None:
            got = [ln.rstrip() for ln in out.getvalue().strip().splitlines()]
            want = [ln.rstrip() for ln in expected.strip().splitlines()]
            assert got == want, f"{path.name} block at line {line} prints\n{out.getvalue()}"


def test_every_markdown_file_has_its_examples_checked():
    assert len(blocks(ROOT / "README.md")) >= 3
    assert all(e is not None for _, _, e in blocks(ROOT / "README.md")), \
        "every README example shows what it prints"


def _modules():
    names = ["reeproc"]
    for m in pkgutil.walk_packages(reeproc.__path__, "reeproc."):
        if not m.name.endswith(".__main__"):  # importing it runs the CLI
            names.append(m.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = io.StringIO()
    for test in finder.find(mod, name):
        runner.run(test, out=out.write)
    assert runner.failures == 0, out.getvalue()


def test_readme_operating_window_is_what_the_solver_gives():
    """'both products meet 99.5 % only for scrub flows from 0.4586 to 0.4595 L/h here
    (-0.16 % / +0.04 % of the balanced flow)'."""
    from scipy.optimize import brentq

    from reeproc import Stream, sx

    text = " ".join((ROOT / "README.md").read_text().split())
    m = re.search(r"scrub flows from ([\d.]+) to ([\d.]+) L/h here \(([-+\d.]+) % / ([-+\d.]+) %",
                  text)
    assert m, "the README states the scrub-flow window"
    model = sx.MassAction("PC88A", species=["Pr", "Nd"], saponification=0.4)
    feed = Stream.aqueous(1.0, {"Pr": 0.05, "Nd": 0.15, "H+": 0.01, "Cl-": 0.61})
    cas = sx.Cascade(model, extraction=44, scrub=45)

    def purities(q):
        r = cas.solve(feed=feed, organic=Stream.organic(5.0, {"PC88A": 1.0}),
                      scrub=Stream.aqueous(q, {"H+": 3.4, "Cl-": 3.4}))
        return r.purity("Pr", "raffinate"), r.purity("Nd", "loaded_organic")

    balanced = 0.459339  # design_balanced(..., purity=0.999), printed 0.4593 in the README
    lo = brentq(lambda q: purities(q)[1] - 0.995, 0.455, balanced, xtol=1e-8)
    hi = brentq(lambda q: purities(q)[0] - 0.995, balanced, 0.465, xtol=1e-8)
    assert f"{lo:.4f}" == m.group(1) and f"{hi:.4f}" == m.group(2)
    assert f"{100 * (lo / balanced - 1):+.2f}" == m.group(3)
    assert f"{100 * (hi / balanced - 1):+.2f}" == m.group(4)


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    cmds = []
    for m in BLOCK.finditer(text):
        if m.group(1) != "bash":
            continue
        for line in m.group(2).splitlines():
            line = line.split(" #")[0].split(">")[0].strip()
            if line.startswith("reeproc "):
                cmds.append(shlex.split(line)[1:])
    return cmds


def test_readme_commands_parse():
    from reeproc.cli import build_parser

    cmds = _readme_commands()
    assert {c[0] for c in cmds} >= {"params", "run", "sweep", "optimise", "montecarlo", "data"}
    for argv in cmds:
        build_parser().parse_args(argv)  # an unknown option exits 2


CHEAP = ("params", "data", "run")


@pytest.mark.parametrize("argv", [c for c in _readme_commands() if c[0] in CHEAP],
                         ids=lambda c: " ".join(c[:2]))
def test_cheap_readme_commands_run(argv, tmp_path, monkeypatch, capsys):
    from reeproc.cli import main

    monkeypatch.chdir(tmp_path)
    argv = [str(ROOT / a) if a.startswith("flowsheets/") else a for a in argv]
    assert main(argv) == 0, capsys.readouterr().err
    assert "Traceback" not in capsys.readouterr().err
