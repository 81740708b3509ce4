"""The XLSX report: golden cells/formulas/formats, the calculator recalculated by LibreOffice,
and tracker cells equal to `servicekpi kpi`.

Regenerate the golden file on purpose only, and review its diff:
    SERVICEKPI_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/report/test_xlsx.py -k golden
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from test_data import ASOF, LAST, same, sample_store

from servicekpi.analysis.calc import run as calc

GOLDEN = Path(__file__).parent / "golden" / "report_en.json"
REGENERATE = os.environ.get("SERVICEKPI_REGENERATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The sample store's report for October 2026 (and the 11 months before), written by the CLI."""
    root = tmp_path_factory.mktemp("xlsx")
    ws = sample_store(root)
    path = root / "report.xlsx"
    r = ws.cli("report", "--month", "2026-10", "--as-of", ASOF, "--out", str(path))
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "wrote" in r.stdout
    return ws, path


# -- golden -------------------------------------------------------------------------------------

def _plain(v):
    if isinstance(v, float):
        return float(f"{v:.10g}")  # DuckDB's parallel float sums vary in the last bits
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):  # a duration cell (openpyxl reads [h]/[m]/[s] formats as timedelta)
        return float(f"{_days(v):.10g}")
    return v


def _days(v):
    """A duration cell as its stored number of days (openpyxl reads [h]/[m]/[s] formats as timedelta)."""
    return v.total_seconds() / 86400 if isinstance(v, dt.timedelta) else v


def _charts(z: zipfile.ZipFile, sheet_xml: str) -> list[dict]:
    """The charts drawn on a sheet: type and number of series, read from the package."""
    rels = sheet_xml.replace("worksheets/", "worksheets/_rels/") + ".rels"
    if rels not in z.namelist():
        return []
    out = []
    for drawing in re.findall(r'Target="\.\./drawings/(drawing\d+\.xml)"', z.read(rels).decode()):
        drels = f"xl/drawings/_rels/{drawing}.rels"
        for chart in re.findall(r'Target="\.\./charts/(chart\d+\.xml)"', z.read(drels).decode()):
            xml = z.read(f"xl/charts/{chart}").decode()
            out.append({"type": re.search(r"<c:(\w+Chart)>", xml).group(1), "series": xml.count("<c:ser>")})
    return out


def extract(path: Path) -> dict:
    """Cell values (formulas as text), number formats, freeze panes, conditional formats,
    sparklines, charts and workbook names, as plain JSON."""
    wb = openpyxl.load_workbook(path)
    z = zipfile.ZipFile(path)
    sheets = []
    for i, ws in enumerate(wb.worksheets, 1):
        sheet_xml = f"xl/worksheets/sheet{i}.xml"
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and c.number_format == "General":
                    continue
                cells[c.coordinate] = f"{json.dumps(_plain(c.value), ensure_ascii=False)} | {c.number_format}"
        rules = [f"{cf.sqref}: " + "; ".join(f"{r.type} {'/'.join(r.formula)}" for r in cf.rules)
                 for cf in ws.conditional_formatting]
        sheets.append({"name": ws.title, "freeze": ws.freeze_panes, "cells": cells, "conditional": sorted(rules),
                       "sparklines": z.read(sheet_xml).decode().count("<x14:sparkline>"),
                       "charts": _charts(z, sheet_xml)})
    names = {n: d.attr_text for n, d in wb.defined_names.items()}
    return {"sheets": sheets, "names": names}


def test_golden(book):
    _, path = book
    got = extract(path)
    if REGENERATE:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert [s["name"] for s in got["sheets"]] == [s["name"] for s in want["sheets"]]
    for g, w in zip(got["sheets"], want["sheets"]):
        for key in ("freeze", "conditional", "sparklines", "charts"):
            assert g[key] == w[key], (g["name"], key)
        changed = {c: (g["cells"].get(c), w["cells"].get(c)) for c in set(g["cells"]) | set(w["cells"])
                   if g["cells"].get(c) != w["cells"].get(c)}
        assert not changed, (g["name"], dict(sorted(changed.items())[:10]))
    assert got["names"] == want["names"]


def test_native_objects(book):
    """Sheets, frozen headers, a trend chart per tracker row, line charts, colouring rules."""
    _, path = book
    got = {s["name"]: s for s in extract(path)["sheets"]}
    assert list(got) == ["summary", "tracker", "ticket volume", "formulas", "by channel", "by team", "SLA"]
    tracker = got["tracker"]
    sheet = openpyxl.load_workbook(path)["tracker"]
    head = next(r for r in sheet.iter_rows() if r[0].value == "KPI")
    id_col = next(c.column for c in head if c.value == "KPI id")
    # a small line chart per row with two values or more (LibreOffice draws no line of an Excel sparkline)
    values = [[c.value for c in r[6:18]] for r in sheet.iter_rows(min_row=head[0].row + 1) if r[id_col - 1].value]
    lines = sum(sum(v is not None for v in vs) > 1 for vs in values)
    assert tracker["sparklines"] == 0 and len(tracker["charts"]) == lines > 30
    assert all(c == {"type": "lineChart", "series": 1} for c in tracker["charts"])
    assert tracker["freeze"] == f"B{head[0].row + 1}"  # the header row and the KPI column stay put
    assert any("ISNUMBER" in r for r in tracker["conditional"])
    assert [c["type"] for c in got["ticket volume"]["charts"]] == ["lineChart", "lineChart"]
    assert got["ticket volume"]["charts"][0]["series"] == 7  # the generator's seven categories


# -- tracker values ------------------------------------------------------------------------------

def test_tracker_cells_equal_the_kpi_command(book):
    ws, path = book
    sheet = openpyxl.load_workbook(path)["tracker"]
    head = next(r for r in sheet.iter_rows() if r[0].value == "KPI")
    cols = {c.value: c.column for c in head}
    id_col, first = cols["KPI id"], cols["at-risk band"] + 1
    # the months up to October 2026 that hold data (the report starts at the data: issue 13 item 2)
    n = cols["trend"] - first
    start = dt.date(2026, 10 - n + 1, 1)
    units = {}
    cells = {}
    for row in sheet.iter_rows(min_row=head[0].row + 1):
        kid = row[id_col - 1].value
        if kid:
            cells[kid] = [_days(row[first - 1 + i].value) for i in range(n)]
            units[kid] = row[first - 1].number_format
    rows = ws.kpi(*cells, "--by", "month", "--from", start.isoformat(), "--to", LAST, asof=ASOF)
    for r in rows:
        i = dt.date.fromisoformat(r["period_start"]).month - start.month
        # percentages as fractions, durations as spreadsheet durations (days): cells still compute
        scale = {"percent": 1 / 100, "seconds": 1 / 86400, "minutes": 1 / 1440, "hours": 1 / 24}.get(r["unit"], 1)
        want = r["value"] * scale if r["value"] is not None else None
        if r["unit"] in ("seconds", "minutes", "hours") and want is not None:
            # openpyxl reads a duration cell as a timedelta rounded to the millisecond
            assert abs(cells[r["kpi"]][i] - want) <= 0.0011 / 86400, (r["kpi"], r["period_start"])
        else:
            assert same(cells[r["kpi"]][i], want), (r["kpi"], r["period_start"])
        if r["unit"] == "percent":
            assert units[r["kpi"]] == "0.0%"  # a fraction shown as a percentage
    # durations read as a person reads them: FRT in hours and minutes, AHT in minutes and seconds
    assert units["first_response_time"] == '[h]" hr "mm" min"' and units["aht"] == '[m]" min "ss" sec"'
    assert units["nps"] == '+0.0;"−"0.0;0.0'  # signed points


# -- the calculator, recalculated by LibreOffice ---------------------------------------------------

RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def recalculated(path: Path, tmp: Path) -> openpyxl.Workbook:
    """The workbook after LibreOffice opened it, recalculating every formula (own profile set to
    'always recalculate' Excel files), and saved it again with the values it computed."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (soffice) is needed: make sysdeps"
    profile = tmp / "lo_profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC, encoding="utf-8")
    out = tmp / "recalculated"
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "xlsx",
                    "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=180)
    return openpyxl.load_workbook(out / path.name, data_only=True)


def cell(wb, name: str):
    sheet, coord = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][coord.replace("$", "")].value


# docs/kpi-contract.md worked examples, as written into the calculator
EXAMPLES = {
    "nps": 40,  # 50% promoters, 40% passives, 10% detractors
    "csat": 0.60,  # 30 positive of 50
    "crr": 0.75,  # S=100, E=90, N=15
    "churn_rate": 0.08,  # 20 lost of 250
    "fcr_rate": 0.80,  # 80 of 100 solved on first contact
    "aht": 600,  # 1,000 minutes over 100 calls = 600 s
    "avg_wait_time": 150,  # 500 minutes over 200 answered calls = 150 s
    "abandonment_rate": 0.20,  # 20 of 100
    "cac": 0.50,  # 10,000 / 20,000
    "clv": 750,  # 50 x 5 x 3
    "complaint_resolution_time": 48,  # filed Monday, resolved Wednesday: 48 h
}
# the other worked examples, typed into the input cells
TYPED = {
    "nps": ({"promoters": 80, "passives": 5, "detractors": 15}, 65),  # 80% / 15% -> 65
    "csat": ({"satisfied": 72, "total": 100}, 0.72),  # 43 + 29 of 100 answered -> 72
    "crr": ({"start": 200, "end": 200, "new": 20}, 0.90),  # (200 - 20) / 200
    "churn_rate": ({"lost": 50, "start": 100}, 0.50),  # 50 of 100 left
    "abandonment_rate": ({"abandoned": 0, "offered": 0}, None),  # empty denominator: blank, not 0
}


@pytest.fixture(scope="module")
def recalc(book, tmp_path_factory):
    _, path = book
    tmp = tmp_path_factory.mktemp("lo")
    original = recalculated(path, tmp / "a")
    wb = openpyxl.load_workbook(path)
    for kid, (inputs, _) in TYPED.items():
        for name, value in inputs.items():
            sheet, coord = next(iter(wb.defined_names[f"calc_{kid}_{name}"].destinations))
            wb[sheet][coord.replace("$", "")].value = value
    typed = tmp / "typed.xlsx"
    wb.save(typed)  # openpyxl keeps the formulas and drops every cached value
    return original, recalculated(typed, tmp / "b")


@pytest.mark.parametrize("kid", list(EXAMPLES))
def test_calculator_worked_examples(recalc, kid):
    original, _ = recalc
    assert cell(original, f"calc_{kid}") == pytest.approx(EXAMPLES[kid], rel=1e-12)


@pytest.mark.parametrize("kid", list(TYPED))
def test_calculator_recalculates_typed_inputs(recalc, kid):
    _, typed = recalc
    inputs, want = TYPED[kid]
    got = cell(typed, f"calc_{kid}")
    if want is None:
        assert got in (None, "")
        return
    assert got == pytest.approx(want, rel=1e-12)
    # and the catalog's own formula (servicekpi calc) agrees: percent as a fraction in the sheet
    value = calc(kid, {k: float(v) for k, v in inputs.items()}, {})["value"]
    assert got == pytest.approx(value / 100 if kid != "nps" else value, rel=1e-12)


def test_calculator_agrees_with_servicekpi_calc(recalc):
    original, _ = recalc
    for kid in EXAMPLES:
        if kid == "complaint_resolution_time":
            continue  # its inputs are dates; 48 h is checked above
        prefix = f"calc_{kid}_"
        inputs = {n[len(prefix):]: float(cell(original, n)) for n in original.defined_names if n.startswith(prefix)}
        value = calc(kid, inputs, {})["value"]
        unit = calc(kid, inputs, {})["unit"]
        assert cell(original, f"calc_{kid}") == pytest.approx(value / 100 if unit == "percent" else value, rel=1e-12)


# -- the command line ------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--month", "2026-10", "--from", "2026-01-01", "--to", "2026-02-01"],
     "Error: give either --month or --from/--to, not both"),
    (["--month", "2026-13"], "Error: --month '2026-13' is not a month (expected YYYY-MM, e.g. 2026-10)"),
    (["--from", "2026-01-01"], "Error: give both --from and --to (inclusive local dates), or --month YYYY-MM"),
    (["--from", "2026-03-01", "--to", "2026-02-01"], "Error: --to 2026-02-01 is before --from 2026-03-01"),
    (["--month", "2026-10", "--by", "week"], "Error: --month gives twelve months; leave out --by week "
                                             "(or give --from/--to)"),
    (["--lang", "fr"], "Error: --lang 'fr' is not one of: en, zh, ro, th"),
    (["--by", "day"], "Error: --by 'day' is not one of: month, week"),
])
def test_report_usage_errors(ws, args, message):
    ws.write("tickets", [{"ticket_id": "t1", "created_at": "2026-10-01T10:00:00Z"}])
    ws.load()
    r = ws.cli("report", *args, "--out", str(ws.root / "r.xlsx"))
    assert r.exit_code == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert not (ws.root / "r.xlsx").exists()


def test_report_needs_a_known_extension(ws):
    r = ws.cli("report", "--out", str(ws.root / "r.doc"))
    assert r.exit_code == 2
    assert f"Error: --out '{ws.root / 'r.doc'}': the extension must be one of .xlsx, .html, .pdf" in r.stderr


def test_report_without_a_store_says_how_to_make_one(ws):
    r = ws.cli("report", "--out", str(ws.root / "r.xlsx"))
    assert r.exit_code == 1
    assert f"Error: no store at {ws.db} (import data first: servicekpi import DIR --db {ws.db})" in r.stderr


def test_report_with_tickets_only(ws):
    """Only tickets imported: the calls, survey and customer KPIs are absent, the workbook is whole."""
    ws.write("tickets", [{"ticket_id": f"t{i}", "created_at": f"2026-{m:02d}-10T10:00:00Z", "category": "return",
                          "channel": "email"} for i, m in enumerate((8, 9, 10, 10))])
    ws.load()
    path = ws.root / "r.xlsx"
    r = ws.cli("report", "--month", "2026-10", "--as-of", "2026-11-01T00:00:00Z", "--out", str(path))
    assert r.exit_code == 0, r.stdout + r.stderr
    wb = openpyxl.load_workbook(path)
    # no team; the SLA sheet with the default policy (24 h first response, 72 h resolution), as the README says
    assert wb.sheetnames == ["summary", "tracker", "ticket volume", "formulas", "by channel", "SLA"]
    volume = wb["ticket volume"]
    row = next(r for r in volume.iter_rows() if r[0].value == "Return")  # the category id "return", prettified
    # the report starts at the data (issue 13 item 2): August 1, September 1, October 2; total by formula
    assert [c.value for c in row[1:4]] == [1, 1, 2]
    assert row[4].value == "=SUM(B12:D12)".replace("12", str(row[0].row))
    assert "unavailable: table calls was never imported" in r.stderr


# -- languages --------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh", "ro", "th"])
def test_workbook_in_each_language(ws, lang):
    """Sheet names and headings through gettext, KPI labels from the catalog, months from CLDR."""
    from servicekpi.catalog import text
    from servicekpi.report.i18n import period_label, translator
    ws.write("tickets", [{"ticket_id": "t1", "created_at": "2026-10-10T10:00:00Z", "channel": "email",
                          "team": "billing"}])
    ws.write("surveys", [{"response_id": "s1", "survey": "nps", "score": 10, "responded_at": "2026-10-11T10:00:00Z"}])
    ws.load()
    path = ws.root / f"{lang}.xlsx"
    r = ws.cli("report", "--month", "2026-10", "--lang", lang, "--as-of", "2026-11-01T00:00:00Z", "--out", str(path))
    assert r.exit_code == 0, r.stdout + r.stderr
    _ = translator(lang)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [_("summary"), _("tracker"), _("ticket volume"), _("formulas"), _("by channel"),
                             _("by team"), _("SLA")]
    tracker = wb[_("tracker")]
    head = next(row for row in tracker.iter_rows() if row[0].value == _("KPI"))
    assert head[6].value == period_label(dt.date(2026, 10, 1), "month", lang)  # the data's only month
    labels = [row[0].value for row in tracker.iter_rows(min_row=head[0].row + 1)]
    assert text("kpi", "nps", "label", lang) in labels
    if lang != "en":
        assert _("tracker") != "tracker" and text("kpi", "nps", "label", lang) != text("kpi", "nps", "label", "en")


def test_translations_keep_the_placeholders():
    """A translated heading with a missing or renamed {placeholder} would break str.format."""
    import string

    from servicekpi.report.i18n import translator
    report_dir = Path(__file__).parents[2] / "src" / "servicekpi" / "report"
    source = "".join(p.read_text(encoding="utf-8") for p in sorted(report_dir.glob("xlsx*.py")))
    messages = set(re.findall(r'_\("((?:[^"\\]|\\.)*)"\)', source))
    with_fields = [m for m in messages if "{" in m]
    assert len(with_fields) >= 4
    names = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    for lang in ("zh", "ro", "th"):
        _ = translator(lang)
        for m in with_fields:
            assert names(_(m)) == names(m), (lang, m, _(m))


def test_currency_labels_and_summary_in_the_workbook(tmp_path):
    """The config's currency (ISO 4217, never the word), prettified labels and the summary sheet."""
    from report_sample import sample_report, series

    from servicekpi.report import xlsx
    report = sample_report("en")
    report.currency = "EUR"
    report.labels = {"channel": {"email": "E-mail inbox"}}
    report.series.append(series("cac", "en", [None] * 11 + [175.466]))
    path = tmp_path / "r.xlsx"
    xlsx.write(report, path)
    wb = openpyxl.load_workbook(path)
    tracker = wb["tracker"]
    cac = next(r for r in tracker.iter_rows() if r[0].value == "Customer acquisition cost (CAC)")
    assert cac[2].value == "EUR" and cac[17].value == 175.466 and cac[17].number_format == '#,##0.00" EUR"'
    assert not any(c.value == "currency" for r in tracker.iter_rows() for c in r)
    channels = [r[0].value for r in wb["by channel"].iter_rows() if r[0].value]
    assert "E-mail inbox" in channels and "Phone" in channels  # the config's name; a well-known id
    volume = [r[0].value for r in wb["ticket volume"].iter_rows()]
    assert "Technical issue" in volume and "technical" not in volume
    summary = [r[0].value for r in wb["summary"].iter_rows() if r[0].value]
    # Sep -> Oct 2026: backlog 158 -> 1,234 is the biggest headline mover (+681.0%)
    assert "• Backlog worsened from 158 to 1,234 (+1,076, +681.0%)." in summary
    assert any(line.startswith("• Targets missed in Oct 2026: First response time 1 hr 12 min") for line in summary)


def test_the_by_team_sheet_lists_the_agents_as_the_leaderboard_does(book):
    """Issue 13 item 7: the agents of the last month under the team blocks, each value with its sample
    size and team average, equal to `servicekpi leaderboard` for October 2026."""
    ws, path = book
    sheet = openpyxl.load_workbook(path)["by team"]
    cells = [[c.value for c in r] for r in sheet.iter_rows()]
    top = next(i for i, r in enumerate(cells) if isinstance(r[0], str) and r[0].startswith("Agents, 2026-10-01"))
    head = cells[top + 2]
    assert head[:5] == ["agent", "team", "Tickets handled", "n", "team average"]
    r = ws.cli("leaderboard", "--from", "2026-10-01", "--to", "2026-10-31", "--as-of", ASOF, "--format", "json")
    assert r.exit_code == 0, r.stderr
    board = json.loads(r.stdout)
    body = {row[0]: row for row in cells[top + 3:top + 3 + len(board["rows"])]}
    assert len(body) == len(board["rows"]) > 1
    for agent in board["rows"]:
        label = f"{agent['name']} ({agent['agent_id']})" if agent.get("name") not in (None, agent["agent_id"]) \
            else agent["agent_id"]
        row = body[label]
        tickets = agent["values"]["tickets"]
        # tickets handled: the count, its n (the count again) and the team's average per agent
        assert (row[2], row[3]) == (tickets["value"], tickets["n"])
        assert same(row[4], tickets["team_avg"])
        csat = agent["values"].get("csat")
        if csat and csat["value"] is not None:  # a percentage is stored as a fraction
            assert same(row[2 + 3 * head[2::3].index("CSAT")], csat["value"] / 100)


def _widths(sheet) -> dict[int, float]:
    """Column index (0-based) -> width in characters; a column the file does not size is Excel's 8.43."""
    out = {}
    for dim in sheet.column_dimensions.values():
        if dim.min and dim.customWidth:
            for c in range(dim.min, dim.max + 1):
                out[c - 1] = dim.width
    return out


def test_the_agent_tables_headers_are_not_cut(book):
    """Issue 13: the agents' head ("team average", "Tickets handled") was cut by narrow columns and a
    one-line row. Each head word must fit its column, and a head that wraps must have two lines."""
    _, path = book
    sheet = openpyxl.load_workbook(path)["by team"]
    at = next(r[0].row for r in sheet.iter_rows() if isinstance(r[0].value, str) and r[0].value.startswith("Agents, "))
    head_row = at + 2
    heads = [c.value for c in sheet[head_row] if c.value]
    assert heads[:5] == ["agent", "team", "Tickets handled", "n", "team average"]
    widths = _widths(sheet)
    two_lines = (sheet.row_dimensions[head_row].height or 15) >= 2 * 15  # 11 pt font: 15 pt a line
    for i, h in enumerate(heads):
        width = widths.get(i, 8.43)
        # bold characters are ~10% wider than the width unit (a normal digit); a head that does not fit
        # on one line wraps at spaces, so needs two lines and each word must fit
        if len(h) * 1.1 > width:
            assert two_lines and max(len(w) for w in h.split()) * 1.1 <= width, (h, width)
