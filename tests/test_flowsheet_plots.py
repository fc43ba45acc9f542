"""Flowsheet diagram: renders for the toy and the reference flowsheet, names every unit and
stream, keeps its labels inside the canvas and apart from each other."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from reeproc.flowsheet.plots import flowsheet_diagram, save_all  # noqa: E402
from reeproc.flowsheet.script import run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = {"toy": ROOT / "tests" / "data" / "toy_flowsheet.py",
         "reference": ROOT / "flowsheets" / "ndfeb_long_loop.py"}


@pytest.fixture(scope="module", params=sorted(CASES))
def diagram(request):
    res = run(CASES[request.param])
    fig = flowsheet_diagram(res)
    yield res, fig
    plt.close(fig)


def _texts(fig):
    return [t for ax in fig.axes for t in ax.texts if t.get_text().strip()]


def _norm(s):
    return " ".join(s.split())


def test_diagram_names_every_unit_and_stream(diagram):
    res, fig = diagram
    assert isinstance(fig, Figure)
    texts = [_norm(t.get_text()) for t in _texts(fig)]
    for unit in res.flowsheet.units:
        assert unit in texts, f"unit {unit!r} not drawn"
    # every stream is listed by name in the stream table
    for s in res.streams:
        assert s in texts, f"stream {s!r} missing from the stream table"
    # products carry their purity from the KPIs
    for name, p in res.kpis()["products"].items():
        assert any(name in t and f"{100 * p['purity']:.3f} %" in t for t in texts)


def test_diagram_labels_inside_and_apart(diagram):
    res, fig = diagram
    renderer = fig.canvas.get_renderer()
    w, h = fig.get_size_inches() * fig.dpi
    assert 6 <= fig.get_size_inches()[0] <= 18.5
    boxes = [t.get_window_extent(renderer) for t in _texts(fig)]
    for b in boxes:
        assert b.x0 >= 0 and b.x1 <= w and b.y0 >= 0 and b.y1 <= h
    clashes = [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
               if boxes[i].x0 < boxes[j].x1 - 1 and boxes[j].x0 < boxes[i].x1 - 1
               and boxes[i].y0 < boxes[j].y1 - 1 and boxes[j].y0 < boxes[i].y1 - 1]
    texts = _texts(fig)
    assert not clashes, [(texts[i].get_text(), texts[j].get_text()) for i, j in clashes]


def test_save_all_writes_the_diagram(diagram, tmp_path):
    res, _ = diagram
    paths = save_all(res, tmp_path)
    assert tmp_path / "flowsheet.png" in paths
    assert (tmp_path / "flowsheet.png").stat().st_size > 10_000
