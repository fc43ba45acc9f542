"""HTML report: one self-contained file with every section, whose numbers are the CSV numbers of
``export``, whose diagram shows every dosed reagent, whose Sankey closes each element's balance,
and which renders without script errors in headless Chromium (skipped where there is none)."""
import math
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from reeproc.flowsheet.html_report import SECTIONS, html_report
from reeproc.flowsheet.script import run

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "tests" / "data" / "toy_flowsheet.py"
REFERENCE = ROOT / "flowsheets" / "ndfeb_long_loop.py"


class _Page(HTMLParser):
    """Section ids, tables by id (cells as text and data-v), SVG text, scripts and links."""

    def __init__(self):
        super().__init__()
        self.sections, self.tables, self.svg_text, self.script_src, self.links = [], {}, [], [], []
        self._table = None
        self._row = None
        self._cell = None
        self._in_svg_text = 0
        self.errors_div = None
        self._in_errors = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        elif tag == "table" and a.get("id"):
            self._table = self.tables.setdefault(a["id"], {"head": [], "rows": []})
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"tag": tag, "text": "", "v": a.get("data-v")}
        elif tag == "text":
            self._in_svg_text += 1
            self.svg_text.append("")
        elif tag == "script" and a.get("src"):
            self.script_src.append(a["src"])
        elif tag in ("link", "img", "iframe"):
            self.links.append(a.get("href") or a.get("src"))
        elif tag == "div" and a.get("id") == "js-errors":
            self._in_errors, self.errors_div = True, ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if all(c["tag"] == "th" for c in self._row) and not self._table["head"]:
                self._table["head"] = [c["text"] for c in self._row]
            else:
                self._table["rows"].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "text":
            self._in_svg_text -= 1
        elif tag == "div" and self._in_errors:
            self._in_errors = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        if self._in_svg_text:
            self.svg_text[-1] += data
        if self._in_errors:
            self.errors_div += data


def _parse(text):
    p = _Page()
    p.feed(text)
    return p


def _frame(table):
    """A parsed table as a DataFrame of full-precision numbers (text where not a number)."""
    rows = []
    for r in table["rows"]:
        rows.append([float(c["v"]) if c["v"] not in (None, "") else
                     (math.nan if c["text"].strip() == "–" else c["text"]) for c in r])
    df = pd.DataFrame(rows, columns=table["head"])
    return df.set_index(table["head"][0])


@pytest.fixture(scope="module", params=["toy", "reference"])
def report(request, tmp_path_factory):
    res = run(TOY if request.param == "toy" else REFERENCE)
    out = tmp_path_factory.mktemp(request.param)
    res.export(out, plots=False)
    path = res.to_html(out / "report.html")
    return res, out, path, _parse(path.read_text(encoding="utf-8"))


def test_every_section_present_and_self_contained(report):
    res, _, path, page = report
    assert page.sections == list(SECTIONS)
    text = path.read_text(encoding="utf-8")
    assert not page.script_src and not [x for x in page.links if x]
    assert "http" not in text.split("<script>")[0]  # head: no stylesheet or font from the web
    assert "Plotly.newPlot" in text and "sankey-figure" in text


def test_tables_match_the_csv_files(report):
    res, out, _, page = report
    pairs = {"products-table": "products.csv", "balance-table": "element_balance.csv",
             "streams-full": "streams.csv"}
    for tid, csv in pairs.items():
        got = _frame(page.tables[tid])
        want = pd.read_csv(out / csv, index_col=0)
        if csv == "streams.csv":
            want = want.T
        want = want.loc[:, list(got.columns)]
        assert list(got.index) == [str(i) for i in want.index], tid
        for col in want.columns:
            if want[col].dtype == bool:
                assert list(got[col]) == ["yes" if v else "no" for v in want[col]], (tid, col)
                continue
            if want[col].dtype == object:
                assert list(got[col]) == list(want[col]), (tid, col)
                continue
            w = pd.to_numeric(want[col], errors="coerce").to_numpy(float)
            g = pd.to_numeric(got[col], errors="coerce").to_numpy(float)
            both = ~(pd.isna(w) | pd.isna(g))
            assert (pd.isna(w) == pd.isna(g)).all(), (tid, col)
            assert g[both] == pytest.approx(w[both], rel=1e-12, abs=0), (tid, col)


@pytest.mark.parametrize("fname", ["economics_costs.csv", "co2_book.csv"])
def test_economics_tables_match_csv(report, fname):
    res, out, _, page = report
    want = pd.read_csv(out / fname, index_col=0)
    if want.empty:
        pytest.skip("this flowsheet has no costed items")
    got = _frame(page.tables[fname.replace(".", "-").replace("_", "-")])
    numeric = [c for c in want.columns if pd.api.types.is_numeric_dtype(want[c])]
    assert numeric
    for col in numeric:
        assert got[col].to_numpy(float) == pytest.approx(want[col].to_numpy(float), rel=1e-12,
                                                         abs=0, nan_ok=True), col


def test_sankey_flows_close_every_element(report):
    res, _, _, page = report
    flows = _frame(page.tables["flows-table"]).reset_index()
    assert len(flows) > 0
    for el, d in flows.groupby("element"):
        fin = d.loc[d["source"].str.startswith("in: "), "flow [kg/h]"].sum()
        fout = d.loc[d["target"].str.startswith("out: "), "flow [kg/h]"].sum()
        assert fout == pytest.approx(fin, rel=1e-9, abs=0), el
        # every stream leaving the flowsheet carries what the stream object says
        for r in d[d["target"].str.startswith("out: ")].itertuples():
            assert r[6] == pytest.approx(res.streams[r.stream].element_kg_h()[el], rel=1e-12)


def test_diagram_shows_every_reagent_and_product(report):
    res, _, _, page = report
    svg = " ".join(" ".join(t.split()) for t in page.svg_text)
    dosed = [st.name for r in res.unit_results.values()
             for st in (getattr(r, "reagent_streams", None) or [])]
    for name in dosed + list(res.flowsheet.reagent_feeds) + list(res.flowsheet.feeds):
        assert name in svg, f"inlet {name!r} not drawn"
    for name in res.flowsheet.products:
        assert f"PRODUCT {name}" in svg


def test_sources_list_every_table_read(report):
    import re

    from reeproc.data import load_table, tables_read

    res, _, path, page = report
    text = path.read_text(encoding="utf-8")
    if "SX1 Dy/NdPr" in res.unit_results:  # the reference: the SX constants it used are traced
        seg = text[text.index('id="src-sx_kex"'):]
        n = int(re.search(r"Rows used by this run \((\d+)\)", seg).group(1))
        assert n >= 5  # PC88A and D2EHPA constants of Nd, Pr, Dy, ...
        seg = text[text.index('id="src-reagents"'):]
        assert int(re.search(r"Rows used by this run \((\d+)\)", seg).group(1)) >= 4
    listed = [r[0]["text"] for r in page.tables["sources-table"]["rows"]]
    assert set(listed) <= set(tables_read())
    assert "elements" in listed
    for name in listed:
        df = load_table(name)
        if "source" in df.columns:
            numeric = [c for c in df.columns if "__" in c]
            has_num = df[numeric].notna().any(axis=1) if numeric else df.index.isin([])
            assert (df.loc[has_num, "source"].str.len() > 0).all(), name


def test_specs_and_new_economics_keys_are_shown():
    res = run(TOY)
    base = res.kpis()
    res.kpis = lambda: {**base,
                        "specs": {"Nd purity": {"target": 0.995, "value": 0.9991, "met": True}},
                        "economics": {"capex_USD": 1.5e6, "cost_of_production_USD_kg": 12.5},
                        "co2": {"contributions": {"HCl": 0.4, "electricity": 0.1}}}
    page_text = html_report(res)
    page = _parse(page_text)
    assert "Nd purity" in page_text and "capex_USD" in page_text and "electricity" in page_text
    assert page.sections == list(SECTIONS)


def test_cli_run_html(tmp_path, capsys):
    from reeproc.cli import main

    out = tmp_path / "r.html"
    assert main(["run", str(TOY), "--html", str(out)]) == 0
    assert out.stat().st_size > 1e6  # plotly.js is inline
    assert "wrote the HTML report" in capsys.readouterr().out


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chromium-headless-shell"):
        p = shutil.which(name)
        if p:
            return p
    return None


@pytest.mark.skipif(_chromium() is None, reason="no headless Chromium on this machine")
def test_renders_without_script_errors_in_chromium(report, tmp_path):
    _, _, path, _ = report
    proc = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                           "--virtual-time-budget=10000", "--host-resolver-rules=MAP * ~NOTFOUND",
                           "--dump-dom", path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    assert 'data-rendered="yes"' in dom, proc.stderr[-2000:]
    page = _parse(dom)
    assert page.errors_div == "", page.errors_div
    assert dom.count('class="main-svg"') >= 2  # the Sankey (and the cost chart) were drawn
