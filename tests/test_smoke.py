def test_ticket_volume_counts_tickets(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T10:00:00Z"},
                         {"ticket_id": "T2", "created_at": "2026-10-02T10:00:00Z"}])
    ws.load()
    # 2 tickets imported -> 2
    assert ws.value("ticket_volume") == 2
