def test_ticket_volume_counts_tickets(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T10:00:00Z"},
                         {"ticket_id": "T2", "created_at": "2026-10-02T10:00:00Z"}])
    ws.load()
    # 2 tickets imported -> 2
    assert ws.value("ticket_volume") == 2


def test_demo_imports_a_sample_and_writes_the_report_in_three_formats(tmp_path):
    import openpyxl

    from conftest import Workspace, run
    ws = Workspace(tmp_path)
    r = run(ws, "demo", "--out", str(tmp_path / "demo"), "--tickets", "2000")
    assert r.exit_code == 0, r.stderr + r.exception
    assert "Balanced scorecard" in r.stdout
    out = tmp_path / "demo"
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert book.sheetnames[:4] == ["summary", "tracker", "ticket volume", "formulas"], book.sheetnames
    assert "<svg" in (out / "report.html").read_text(encoding="utf-8")
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
