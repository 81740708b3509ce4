"""Tests of the sample-data generator (servicekpi.generate).

A small dataset is generated once per format; every table is checked
against the rules of the data contract (docs: data-format), and the
tickets' derived reply fields are recomputed from the messages with a
plain, independent Python implementation of the "Order and replies" rule.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import re

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from servicekpi.sample.generate import generate

gen_module = importlib.import_module("servicekpi.sample.generate")   # the module, not the function

END = dt.date(2026, 1, 1)
START = dt.date(2025, 7, 1)
END_TS = pd.Timestamp(END, tz="UTC")
START_TS = pd.Timestamp(START, tz="UTC")
N_TICKETS = 2000
TABLES = ["customers", "tickets", "messages", "calls", "agent_sessions", "surveys", "orders",
          "spend", "self_service", "feedback", "quality_reviews", "activity"]
KEYS = {"customers": ["customer_id"], "tickets": ["ticket_id"], "messages": ["message_id"],
        "calls": ["call_id"], "agent_sessions": ["agent_id", "login_at"],
        "surveys": ["response_id"], "orders": ["order_id"],
        "spend": ["period_start", "period_end", "kind"], "self_service": ["event_id"],
        "feedback": ["feedback_id"], "quality_reviews": ["review_id", "criterion"],
        "activity": ["customer_id", "occurred_at", "kind"]}
TS_COLS = {"customers": ["acquired_at", "churned_at"],
           "tickets": ["created_at", "first_response_at", "resolved_at", "escalated_at"],
           "messages": ["sent_at"], "calls": ["entered_at", "answered_at", "ended_at"],
           "agent_sessions": ["login_at", "logout_at"], "surveys": ["responded_at"],
           "orders": ["ordered_at"], "spend": [], "self_service": ["occurred_at"],
           "feedback": ["received_at", "replied_at"], "quality_reviews": ["reviewed_at"],
           "activity": ["occurred_at"]}


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("parquet")
    calls = []
    old = gen_module.CHUNK_TICKETS
    gen_module.CHUNK_TICKETS = 700                   # exercise the chunked writing
    try:
        counts = generate(out, tickets=N_TICKETS, seed=7, end=END,
                          progress=lambda t, n: calls.append((t, n)))
    finally:
        gen_module.CHUNK_TICKETS = old
    return out, counts, calls


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("csv")
    old = gen_module.CHUNK_TICKETS
    gen_module.CHUNK_TICKETS = 700
    try:
        counts = generate(out, tickets=N_TICKETS, seed=7, end=END, fmt="csv")
    finally:
        gen_module.CHUNK_TICKETS = old
    return out, counts


@pytest.fixture(scope="module")
def data(parquet_dir):
    out = parquet_dir[0]
    return {t: pq.read_table(out / f"{t}.parquet").to_pandas() for t in TABLES}


def test_every_table_written_with_reported_counts(parquet_dir, csv_dir):
    out, counts, progress = parquet_dir
    assert set(counts) == set(TABLES)
    for t in TABLES:
        assert (out / f"{t}.parquet").is_file()
        assert pq.read_metadata(out / f"{t}.parquet").num_rows == counts[t]
        assert counts[t] > 0, t
    assert counts["tickets"] == N_TICKETS
    assert counts["calls"] == N_TICKETS // 5 and counts["surveys"] == N_TICKETS // 5
    assert 3.5 <= counts["messages"] / N_TICKETS <= 5.5
    # progress is called per chunk and adds up to the counts
    by_table: dict[str, int] = {}
    for t, n in progress:
        by_table[t] = by_table.get(t, 0) + n
    assert by_table == counts
    assert sum(1 for t, _ in progress if t == "tickets") == 3     # 2000 tickets in chunks of 700
    cout, ccounts = csv_dir
    assert ccounts == counts
    for t in TABLES:
        assert (cout / f"{t}.csv").is_file()


def test_schema_types(parquet_dir):
    out = parquet_dir[0]
    tickets = pq.read_schema(out / "tickets.parquet")
    assert tickets.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert tickets.field("excluded").type == pa.bool_()
    assert tickets.field("ticket_id").type == pa.string()
    spend = pq.read_schema(out / "spend.parquet")
    assert spend.field("period_start").type == pa.date32()


def test_keys_unique(data):
    for t, key in KEYS.items():
        df = data[t]
        assert df[key].notna().all().all(), t
        assert not df.duplicated(key).any(), t


def test_id_formats(data):
    assert data["tickets"].ticket_id.str.fullmatch(r"T\d{7}").all()
    assert data["messages"].message_id.str.fullmatch(r"M\d{8}").all()
    assert data["customers"].customer_id.str.fullmatch(r"CU\d{6}").all()
    assert data["calls"].call_id.str.fullmatch(r"C\d{7}").all()
    agents = set(data["tickets"].agent_id)
    assert all(re.fullmatch(r"A\d\d", a) for a in agents)
    assert 20 <= len(agents) <= 30
    # every agent is in exactly one team
    assert (data["tickets"].groupby("agent_id").team.nunique() == 1).all()
    assert 3 <= data["tickets"].team.nunique() <= 4


def test_references_exist(data):
    customers = set(data["customers"].customer_id)
    tickets = set(data["tickets"].ticket_id)
    agents = set(data["tickets"].agent_id) | set(data["agent_sessions"].agent_id)
    for t, col in [("tickets", "customer_id"), ("calls", "customer_id"),
                   ("surveys", "customer_id"), ("orders", "customer_id"),
                   ("self_service", "customer_id"), ("feedback", "customer_id"),
                   ("activity", "customer_id"), ("customers", "referred_by")]:
        assert set(data[t][col].dropna()) <= customers, (t, col)
    for t in ["messages", "calls", "surveys", "quality_reviews"]:
        assert set(data[t].ticket_id.dropna()) <= tickets, t
    for t in ["messages", "calls", "surveys", "quality_reviews"]:
        assert set(data[t].agent_id.dropna()) <= agents, t
    c = data["customers"].set_index("customer_id")
    ref = c[c.referred_by.notna()]
    assert len(ref) > 0
    assert (c.loc[ref.referred_by, "acquired_at"].to_numpy() <= ref.acquired_at.to_numpy()).all()


def test_timestamps_in_window(data):
    for t, cols in TS_COLS.items():
        for col in cols:
            s = data[t][col].dropna()
            assert (s < END_TS).all(), (t, col)
            if t != "customers":
                assert (s >= START_TS).all(), (t, col)
    c = data["customers"]
    assert (c.acquired_at < START_TS).any() and (c.acquired_at >= START_TS).any()
    assert (c.acquired_at >= START_TS - pd.Timedelta(days=800)).all()
    churned = c[c.churned_at.notna()]
    assert 0 < len(churned) < len(c)
    assert (churned.churned_at >= churned.acquired_at).all()


def test_ticket_rules(data):
    tk = data["tickets"]
    assert tk.created_at.is_monotonic_increasing            # ids follow creation time
    for col in ["first_response_at", "resolved_at", "escalated_at"]:
        s = tk[tk[col].notna()]
        assert (s[col] >= s.created_at).all(), col
    resolved = tk.resolved_at.notna()
    assert set(tk.status[resolved]) <= {"resolved", "closed"}
    assert set(tk.status[~resolved]) <= {"open", "pending", "on_hold"}
    assert 0.9 < resolved.mean() and (~resolved).sum() >= 10
    assert (tk.reopen_count >= 0).all() and (tk.agent_replies >= 0).all()
    assert (tk.agents_involved.dropna() >= 1).all()
    assert set(tk.channel) == {"email", "chat", "phone", "social", "web_form", "sms"}
    assert set(tk.category) == {"sales_question", "technical", "cancellation", "return",
                                "shipping", "product_availability", "complaint"}
    assert set(tk.priority) == {"low", "normal", "high", "urgent"}
    assert set(tk.customer_tier) == {"enterprise", "business", "freemium"}
    assert 0.002 < tk.excluded.mean() < 0.03
    assert 0.8 < tk.fcr_eligible.mean() < 0.99
    # reopened tickets, some of them open again now (no resolved_at, status open)
    reopened = tk[tk.reopen_count > 0]
    assert len(reopened) > 10
    assert ((reopened.status == "open") & reopened.resolved_at.isna()).sum() >= 2
    assert reopened.resolved_at.notna().sum() > 3
    # complaints are escalated; some other tickets too
    comp = tk[tk.category == "complaint"]
    assert comp[~comp.excluded].escalated_at.notna().all()
    assert tk[tk.category != "complaint"].escalated_at.notna().any()
    # unresolved tickets are mostly recent
    recent = tk.created_at >= END_TS - pd.Timedelta(days=14)
    assert (~resolved[recent]).mean() > (~resolved[~recent]).mean()
    # customer_tier is the customer's tier
    tiers = data["customers"].set_index("customer_id").tier
    assert (tiers.loc[tk.customer_id].to_numpy() == tk.customer_tier.to_numpy()).all()


def test_seasonality_trend_and_spike(data):
    tk = data["tickets"]
    hour = tk.created_at.dt.hour
    assert ((hour >= 9) & (hour < 17)).mean() > 0.45
    dow = tk.created_at.dt.day_of_week
    assert (dow < 5).mean() > 0.8
    first = (tk.created_at < START_TS + pd.Timedelta(days=60)).sum()
    last = (tk.created_at >= END_TS - pd.Timedelta(days=60)).sum()
    assert last > first
    # a week in which one category is far above its usual weekly volume
    weekly = tk.groupby([tk.created_at.dt.floor("7D"), "category"]).size().unstack(fill_value=0)
    assert ((weekly.max() / weekly.median()) > 2.5).any()


def _derived_from_messages(messages: pd.DataFrame) -> dict[str, tuple]:
    """Straightforward per-ticket implementation of data-format.md "Order and replies"."""
    rank = {"customer": 0, "agent": 1, "bot": 1, "system": 1}
    out = {}
    rows_by_ticket: dict[str, list] = {}
    for r in messages.itertuples(index=False):
        rows_by_ticket.setdefault(r.ticket_id, []).append(r)
    for tid, rows in rows_by_ticket.items():
        rows.sort(key=lambda r: (r.sent_at, rank[r.author], r.message_id))
        replies = [r for r in rows[1:] if r.author == "agent" and r.public]
        first = replies[0].sent_at if replies else None
        agents = len({r.agent_id for r in replies}) if replies else None
        out[tid] = (first, len(replies), agents)
    return out


def test_ticket_reply_fields_match_messages(data):
    tk, msgs = data["tickets"], data["messages"]
    derived = _derived_from_messages(msgs)
    assert set(derived) == set(tk.ticket_id)          # every ticket has its messages
    for r in tk.itertuples(index=False):
        first, n, agents = derived[r.ticket_id]
        assert r.agent_replies == n, r.ticket_id
        if first is None:
            assert pd.isna(r.first_response_at), r.ticket_id
            assert pd.isna(r.agents_involved), r.ticket_id
        else:
            assert r.first_response_at == first, r.ticket_id
            assert r.agents_involved == agents, r.ticket_id
    assert (tk.agents_involved == 2).sum() > 10         # handoffs


def test_message_rules_and_variety(data):
    tk, msgs = data["tickets"], data["messages"]
    m = msgs.merge(tk[["ticket_id", "created_at", "resolved_at"]], on="ticket_id")
    assert (m.sent_at >= m.created_at).all()
    assert (m.sent_at < END_TS).all()
    assert set(m.author) == {"customer", "agent", "bot", "system"}
    assert (m.agent_id.notna() == (m.author == "agent")).all()
    assert (~m.public[m.author != "agent"]).sum() == 0        # only agents write notes
    notes = m[(m.author == "agent") & ~m.public]
    assert len(notes) > 20
    # no exact ties within a ticket
    assert not m.duplicated(["ticket_id", "sent_at"]).any()
    ordered = m.sort_values(["ticket_id", "sent_at"])
    opening = ordered.groupby("ticket_id").head(1)
    assert (opening.sent_at == opening.created_at).all()
    assert (opening.author == "agent").sum() > 10                # agent-opened tickets
    second = ordered.groupby("ticket_id").nth(1)
    assert (second.author == "bot").sum() > 100                  # bot auto-replies right away
    bots = m[m.author == "bot"]
    assert ((bots.sent_at - bots.created_at) < pd.Timedelta(minutes=1)).all()
    # multi-round: a customer writes after an agent reply
    ordered["prev_author"] = ordered.groupby("ticket_id").author.shift()
    assert ((ordered.author == "customer") & (ordered.prev_author == "agent")).sum() > 200
    # follow-ups: two public agent replies in a row
    ordered["prev_public"] = ordered.groupby("ticket_id").public.shift()
    assert ((ordered.author == "agent") & ordered.public & (ordered.prev_author == "agent")
            & (ordered.prev_public == True)).sum() > 50  # noqa: E712
    assert 3.5 < len(msgs) / len(tk) < 5.5


def test_calls_and_sessions(data):
    c, s = data["calls"], data["agent_sessions"]
    ans = c.answered_at.notna()
    assert 0.6 < ans.mean() < 0.99
    assert (c.answered_at[ans] >= c.entered_at[ans]).all()
    assert (c.ended_at >= c.entered_at).all()
    assert (c.ended_at[ans] >= c.answered_at[ans]).all()
    assert c.agent_id[ans].notna().all() and c.agent_id[~ans].isna().all()
    for col in ["talk_seconds", "hold_seconds", "wrap_seconds"]:
        assert (c[col] >= 0).all()
    assert (c.hold_seconds[ans] > 0).any() and (c.hold_seconds[ans] == 0).any()
    assert set(c.outcome) >= {"answered", "abandoned"}
    assert set(c.outcome) <= {"answered", "abandoned", "timeout", "exit_empty", "transferred"}
    assert set(c["queue"]) == {"sales", "support", "billing"}
    assert set(c.channel) == {"phone", "chat"} and (c.channel == "phone").mean() > 0.6
    assert c.resolved[ans].notna().any() and c.resolved[ans].isna().any()
    assert c.ticket_id.notna().any()
    assert (s.logout_at >= s.login_at).all()
    # no agent is logged in twice at the same time
    s = s.sort_values(["agent_id", "login_at"])
    prev_logout = s.groupby("agent_id").logout_at.shift()
    assert not (s.login_at < prev_logout).any()
    # answered calls are handled by an agent logged in (to that queue) that half hour
    con = duckdb.connect()
    con.register("calls", c)
    con.register("sessions", data["agent_sessions"])
    covered = con.execute("""
        select avg(case when exists (select 1 from sessions s where s.agent_id = c.agent_id
               and s.queue = c.queue and c.answered_at >= s.login_at - interval 30 minute
               and c.answered_at <= s.logout_at + interval 30 minute) then 1 else 0 end)
        from calls c where answered_at is not null""").fetchone()[0]
    assert covered > 0.99


def test_surveys_within_scale(data):
    sv, tk = data["surveys"], data["tickets"]
    assert set(sv.survey) == {"csat", "nps", "ces"}
    assert ((sv.score >= sv.scale_min) & (sv.score <= sv.scale_max)).all()
    scales = set(zip(sv.survey, sv.scale_min, sv.scale_max))
    assert scales == {("csat", 1, 5), ("csat", 0, 1), ("nps", 0, 10), ("ces", 1, 7)}
    linked = sv[sv.ticket_id.notna()].merge(tk[["ticket_id", "resolved_at", "excluded"]],
                                            on="ticket_id")
    assert linked.resolved_at.notna().all() and not linked.excluded.any()
    assert (linked.responded_at > linked.resolved_at).all()
    assert sv.agent_id.isna().any() and sv.agent_id.notna().any()
    assert sv.channel.isna().any() and sv.channel.notna().any()
    comments = sv.comment.dropna()
    assert 0.1 < len(comments) / len(sv) < 0.6 and comments.nunique() > 10
    csat = sv[(sv.survey == "csat") & (sv.scale_max == 5)]
    assert csat.score.nunique() == 5 and 0.4 < (csat.score >= 4).mean() < 0.9


def test_orders_spend_selfservice_feedback_quality_activity(data):
    o = data["orders"]
    assert (o.amount >= 0).all()
    gm = o.gross_margin.dropna()
    assert ((gm >= 0) & (gm <= 1)).all() and o.gross_margin.isna().any()
    assert (o.customer_id.value_counts() > 1).any()                 # repeat buyers
    sp = data["spend"]
    assert not sp.duplicated(["period_start", "period_end", "kind"]).any()
    assert (sp.period_end >= sp.period_start).all() and (sp.amount >= 0).all()
    assert set(sp.kind) == {"sales", "marketing"} and len(sp) == 12
    assert sp.period_start.min() == START and sp.period_end.max() == END - dt.timedelta(days=1)
    ss = data["self_service"]
    assert set(ss.kind) == {"kb_view", "article_helpful", "article_not_helpful", "bot_resolved",
                            "ivr_resolved", "bot_escalated"}
    fb = data["feedback"]
    rep = fb[fb.replied_at.notna()]
    assert 0 < len(rep) < len(fb) and (rep.replied_at >= rep.received_at).all()
    assert fb.text.notna().all()
    q = data["quality_reviews"]
    assert ((q.score >= 0) & (q.score <= q.max_score)).all() and (q.max_score > 0).all()
    assert set(q.criterion) >= {"greeting", "accuracy", "empathy", "resolution"}
    qt = q.merge(data["tickets"][["ticket_id", "resolved_at"]], on="ticket_id")
    assert (qt.reviewed_at > qt.resolved_at).all()
    a = data["activity"]
    assert set(a.kind) >= {"login", "feature_use"} and (a.value >= 1).all()


def test_reproducible(parquet_dir, tmp_path):
    out = parquet_dir[0]
    old = gen_module.CHUNK_TICKETS
    gen_module.CHUNK_TICKETS = 700
    try:
        generate(tmp_path / "same", tickets=N_TICKETS, seed=7, end=END)
    finally:
        gen_module.CHUNK_TICKETS = old
    for t in TABLES:
        assert (out / f"{t}.parquet").read_bytes() == (tmp_path / "same" / f"{t}.parquet").read_bytes(), t
    generate(tmp_path / "other", tickets=N_TICKETS, seed=8, end=END)
    a = pq.read_table(out / "tickets.parquet")
    b = pq.read_table(tmp_path / "other" / "tickets.parquet")
    assert not a.equals(b)
    assert not a.column("created_at").equals(b.column("created_at"))


def test_csv_format_and_same_content(parquet_dir, csv_dir):
    pout, cout = parquet_dir[0], csv_dir[0]
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    for t in TABLES:
        with open(cout / f"{t}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        for col in TS_COLS[t]:
            values = [r[col] for r in rows if r[col] != ""]
            assert values and all(iso.fullmatch(v) for v in values), (t, col)
        if t == "tickets":
            assert {r["excluded"] for r in rows} == {"true", "false"}
        if t == "spend":
            assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", r["period_start"]) for r in rows)
        # parsing the CSV with the Parquet types gives the same table
        expected = pq.read_table(pout / f"{t}.parquet")
        got = pacsv.read_csv(cout / f"{t}.csv", convert_options=pacsv.ConvertOptions(
            column_types=expected.schema, strings_can_be_null=True,
            quoted_strings_can_be_null=False))
        assert got.equals(expected), t


def test_duckdb_reads_everything(parquet_dir):
    out = parquet_dir[0]
    con = duckdb.connect()
    n = con.execute(f"select count(*) from '{out}/messages.parquet' m "
                    f"join '{out}/tickets.parquet' t using (ticket_id)").fetchone()[0]
    assert n == parquet_dir[1]["messages"]


def test_defaults_and_arguments(tmp_path):
    counts = generate(tmp_path / "d", tickets=300, calls=50, surveys=40, months=2)
    assert counts["tickets"] == 300 and counts["calls"] == 50 and counts["surveys"] == 40
    tk = pq.read_table(tmp_path / "d" / "tickets.parquet").to_pandas()
    first_of_month = pd.Timestamp(dt.datetime.now(dt.timezone.utc).date().replace(day=1), tz="UTC")
    assert tk.created_at.max() < first_of_month
    assert tk.created_at.min() >= first_of_month - pd.DateOffset(months=2)
    with pytest.raises(ValueError):
        generate(tmp_path / "x", tickets=10, fmt="xlsx")


def test_empty_and_tiny(tmp_path):
    counts = generate(tmp_path / "e", tickets=0, end=END)
    assert counts["tickets"] == 0 and counts["messages"] == 0 and counts["calls"] == 0
    for t in TABLES:
        assert (tmp_path / "e" / f"{t}.parquet").is_file()
    counts = generate(tmp_path / "t", tickets=5, end=END, months=1, fmt="csv")
    assert counts["tickets"] == 5
    assert np.all([(tmp_path / "t" / f"{t}.csv").stat().st_size > 0 for t in TABLES])


@pytest.mark.parametrize("which", ["parquet", "csv"])
def test_project_importer_rejects_nothing(which, parquet_dir, csv_dir, tmp_path):
    """The generated data passes the project's own validated import with zero rejections."""
    from servicekpi.ingest import load
    from servicekpi.store import db as store
    folder = parquet_dir[0] if which == "parquet" else csv_dir[0]
    con = store.connect(tmp_path / "store.duckdb")
    try:
        result = load.run(con, folder)
    finally:
        con.close()
    assert not result.file_errors, [(f.source, f.error) for f in result.file_errors]
    assert result.total("rejected") == 0, [(f.source, f.reasons) for f in result.files if f.rejected]
    assert result.total("imported") == sum(parquet_dir[1].values())


def test_generate_end_option_fixes_the_data_window(tmp_path):
    import datetime as dt

    import pyarrow.parquet as pq

    from conftest import Workspace, run
    ws = Workspace(tmp_path)
    r = run(ws, "generate", str(tmp_path / "g"), "--tickets", "300", "--months", "2", "--end", "2025-03-01")
    assert r.exit_code == 0, r.stderr
    created = pq.read_table(tmp_path / "g" / "tickets.parquet", columns=["created_at"]).column(0).to_pylist()
    # two months before 2025-03-01: January and February 2025 (UTC instants may start a few hours early)
    assert min(created).date() >= dt.date(2024, 12, 31)
    assert max(created).date() < dt.date(2025, 3, 1)
    bad = run(ws, "generate", str(tmp_path / "h"), "--end", "March")
    assert bad.exit_code == 2 and "--end 'March' is not a date" in bad.stderr


def test_agents_are_busy_on_the_phone_most_of_their_session(data):
    # issue 13 item 12: the demo's occupancy must look like a healthy team (not 7-9 %): talk + hold +
    # wrap of answered calls / logged-in seconds, as the occupancy KPI computes it, is 70-85 %
    calls, sessions = data["calls"], data["agent_sessions"]
    answered = calls[calls.answered_at.notna() & calls.talk_seconds.notna()]
    handle = (answered.talk_seconds + answered.hold_seconds.fillna(0) + answered.wrap_seconds.fillna(0)).sum()
    logged = (sessions.logout_at - sessions.login_at).dt.total_seconds().sum()
    assert 0.70 <= handle / logged <= 0.85, handle / logged
    # every session belongs to an agent who answered calls, and no agent's sessions overlap
    assert set(sessions.agent_id) <= set(answered.agent_id)
    s = sessions.sort_values(["agent_id", "login_at"])
    same = s.agent_id.eq(s.agent_id.shift())
    assert not (same & (s.login_at < s.logout_at.shift())).any()
