"""Business time (issue 3, section 2) against a slow, obviously correct reference.

The reference lives here and shares nothing with servicekpi.business: it walks the UTC minutes of
a duration one by one (and the seconds one by one in a ragged first or last minute), converts each
to the calendar's local wall time with zoneinfo, and counts it when the local date is not a holiday
and one of that weekday's ranges contains the wall time. Thousands of generated tickets, replies
and calls go through the real CLI path (import, then `kpi ... --option hours=business --dim ID`),
one row per ticket or call, and each value must equal the reference to 1e-6.
"""
from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import holidays as holidays_pkg

from business_paths import ws  # noqa: F401  (each test on stored and looked-up business seconds)

EPOCH = dt.datetime(1970, 1, 1)
UTC = dt.timezone.utc
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
YEAR = ("--from", "2026-01-01", "--to", "2026-12-31")
BUSINESS = ("--option", "hours=business")
TOL = 1e-6


# --------------------------------------------------------------------------------------
# the reference
# --------------------------------------------------------------------------------------

def secs(t: dt.datetime) -> int:
    """Naive UTC instant -> whole seconds since the epoch."""
    return int((t - EPOCH).total_seconds())


def minutes_of(text: str) -> int:
    h, m = text.strip().split(":")
    return int(h) * 60 + int(m)


class RefCal:
    """A calendar as the reference sees it, and the TOML that declares it."""

    def __init__(self, name, tz, week, holidays=(), country=None, teams=(), channels=(), queues=(),
                 write_tz=True):
        self.name, self.tz, self.week = name, tz, dict(week)
        self.holidays, self.country = list(holidays), country
        self.teams, self.channels, self.queues = list(teams), list(channels), list(queues)
        self.write_tz = write_tz  # False: the TOML leaves timezone out (inherits the workspace's)
        self.zone = ZoneInfo(tz)
        self.ranges = {}
        for i, d in enumerate(DAYS):
            if d in self.week:
                self.ranges[i] = [(minutes_of(p.split("-")[0]), minutes_of(p.split("-")[1]))
                                  for p in self.week[d].split(",")]
        self.closed_dates = {dt.date.fromisoformat(h) for h in self.holidays}
        self.country_days = holidays_pkg.country_holidays(country, years=range(2025, 2028)) if country else None
        self._days: dict[int, bytes] = {}

    def toml(self, header: str) -> str:
        lines = [f"[{header}]"]
        if self.write_tz:
            lines.append(f'timezone = "{self.tz}"')
        lines += [f'{d} = "{r}"' for d, r in self.week.items()]
        if self.holidays:
            lines.append("holidays = [" + ", ".join(f'"{h}"' for h in self.holidays) + "]")
        if self.country:
            lines.append(f'holiday_country = "{self.country}"')
        for key in ("teams", "channels", "queues"):
            if getattr(self, key):
                lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in getattr(self, key)) + "]")
        return "\n".join(lines) + "\n"

    def local(self, s: int) -> dt.datetime:
        return (EPOCH + dt.timedelta(seconds=s)).replace(tzinfo=UTC).astimezone(self.zone)

    def closed_day(self, day: dt.date) -> bool:
        return day in self.closed_dates or (self.country_days is not None and day in self.country_days)

    def open_at(self, s: int) -> bool:
        """Is the UTC second s open: local date not a holiday, wall time inside a range of its weekday."""
        local = self.local(s)
        if self.closed_day(local.date()):
            return False
        wall = local.hour * 3600 + local.minute * 60 + local.second
        return any(a * 60 <= wall < b * 60 for a, b in self.ranges.get(local.weekday(), ()))

    def _utc_day(self, d: int) -> bytes:
        """1 per open minute of UTC day d (each minute judged at its first second), memoised."""
        if d not in self._days:
            self._days[d] = bytes(self.open_at((d * 1440 + m) * 60) for m in range(1440))
        return self._days[d]

    def open_minutes(self, m0: int, m1: int) -> int:
        """Open UTC minutes m0 .. m1-1, walked one by one."""
        total, m = 0, m0
        while m < m1:
            d = m // 1440
            upto = min(m1, (d + 1) * 1440)
            total += sum(self._utc_day(d)[m - d * 1440:upto - d * 1440])
            m = upto
        return total

    def seconds(self, a: dt.datetime, b: dt.datetime) -> int:
        """Open seconds in [a, b): whole minutes one by one, ragged ends second by second."""
        sa, sb = secs(a), secs(b)
        if sb <= sa:
            return 0
        ma, mb = -(-sa // 60), sb // 60
        if ma >= mb:
            return sum(self.open_at(s) for s in range(sa, sb))
        return (sum(self.open_at(s) for s in range(sa, ma * 60))
                + 60 * self.open_minutes(ma, mb)
                + sum(self.open_at(s) for s in range(mb * 60, sb)))

    def closed_at(self, t: dt.datetime) -> bool:
        """The local day of t is a weekend day (no ranges) or a holiday."""
        local = self.local(secs(t))
        return self.closed_day(local.date()) or local.weekday() not in self.ranges

    def offset(self, t: dt.datetime):
        return self.local(secs(t)).utcoffset()


def route(default: RefCal, named: list[RefCal], queue=None, team=None, channel=None) -> RefCal:
    """queue beats team, team beats channel, channel beats the default; first calendar in config order."""
    for attr, value in (("queues", queue), ("teams", team), ("channels", channel)):
        if value is None:
            continue
        for cal in named:
            if value in getattr(cal, attr):
                return cal
    return default


def write_config(ws, tz: str | None, default: RefCal | None, named: list[RefCal], name="bh.toml") -> str:
    text = (f'timezone = "{tz}"\n\n' if tz else "")
    if default is not None:
        text += default.toml("business_hours") + "\n"
    for cal in named:
        text += cal.toml(f"calendars.{cal.name}") + "\n"
    path = ws.root / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def by_id(rows: list[dict], kpi: str, key: str) -> dict:
    out = {}
    for r in rows:
        if r["kpi"] == kpi:
            assert r[key] not in out, (kpi, r)
            out[r[key]] = r["value"]
    return out


class Checker:
    """Collects expected vs actual; fails with the first differences, described."""

    def __init__(self):
        self.n = 0
        self.bad: list[str] = []

    def check(self, what: str, expected, actual, detail: str = ""):
        self.n += 1
        if expected is None or not isinstance(actual, (int, float)):
            ok = expected is None and actual is None
        else:
            ok = abs(expected - actual) <= TOL
        if not ok:
            self.bad.append(f"{what}: expected {expected!r}, got {actual!r} {detail}")

    def done(self, at_least: int):
        assert self.n >= at_least, f"only {self.n} checks"
        assert not self.bad, f"{len(self.bad)} of {self.n} differ from the reference:\n" + "\n".join(self.bad[:20])


# --------------------------------------------------------------------------------------
# calendars used by the generated cases
# --------------------------------------------------------------------------------------

WEEK_SPLIT = {d: "08:00-12:00,13:00-17:00" for d in DAYS[:4]}
WEEK_SPLIT.update(fri="08:00-12:00,13:00-16:30", sat="10:00-14:00")

# workspace Europe/Bucharest
RO_DEFAULT = RefCal("default", "Europe/Bucharest", WEEK_SPLIT,
                    holidays=["2026-03-30", "2026-10-23", "2026-10-26"], country="RO", write_tz=False)
NEW_YORK = RefCal("newyork", "America/New_York", {d: "09:00-17:00" for d in DAYS[:5]},
                  holidays=["2026-03-09", "2026-11-02"], country="US", teams=["ny", "ny-2"], queues=["q-ny"])
ALL_DAY_NY = RefCal("allday", "America/New_York", {d: "00:00-24:00" for d in DAYS},
                    holidays=["2026-11-03"], channels=["chat"])
INDIA = RefCal("india", "Asia/Kolkata",
               {**{d: "09:30-13:00,14:00-18:30" for d in DAYS[:5]}, "sat": "10:00-13:00"},
               channels=["email"], queues=["q-in"])
# same zone as the workspace (inherited: no timezone key); ranges meeting the DST hours at their ends
NIGHT = RefCal("night", "Europe/Bucharest",
               {"sat": "00:00-03:00,04:00-24:00", "sun": "00:00-03:00,04:00-24:00", "mon": "00:00-06:00"},
               teams=["night"], write_tz=False)
RO_NAMED = [NEW_YORK, ALL_DAY_NY, INDIA, NIGHT]

# workspace America/New_York
NY_DEFAULT = RefCal("default", "America/New_York",
                    {**{d: "09:00-17:00" for d in DAYS[:5]}, "sun": "00:00-24:00"},
                    country="US", write_tz=False)
BUCHAREST = RefCal("ro", "Europe/Bucharest", WEEK_SPLIT, holidays=["2026-12-24"], country="RO",
                   teams=["ro"])
LONDON = RefCal("london", "Europe/London", {d: "00:00-02:00,07:30-23:59" for d in DAYS[:6]},
                holidays=["2026-03-30"], channels=["email"])
NY_NAMED = [BUCHAREST, LONDON, ALL_DAY_NY]

# DST changes and holidays of the calendars above, and a few ordinary weeks
ANCHORS = [dt.datetime(2026, 3, 29), dt.datetime(2026, 10, 25),       # Europe DST (Sundays)
           dt.datetime(2026, 3, 8), dt.datetime(2026, 11, 1),         # America/New_York DST (Sundays)
           dt.datetime(2026, 4, 11),                                  # RO Good Friday .. Easter Monday
           dt.datetime(2026, 11, 29),                                 # RO Nov 30, Dec 1
           dt.datetime(2026, 11, 26),                                 # US Thanksgiving
           dt.datetime(2026, 12, 22),                                 # Christmas (RO 25-26, US 25)
           dt.datetime(2026, 1, 23),                                  # RO Jan 24 (a Saturday)
           dt.datetime(2026, 6, 1), dt.datetime(2026, 2, 11), dt.datetime(2026, 7, 15)]
MSG_ANCHORS = [a for a in ANCHORS if a.month != 12]  # conversations run longer: stay clear of the year end


# --------------------------------------------------------------------------------------
# generators
# --------------------------------------------------------------------------------------

def boundary(rng: random.Random, cal: RefCal, near: dt.datetime) -> dt.datetime:
    """An instant at (or a minute or a few seconds around) an opening or closing of cal near `near`."""
    day = (near.replace(tzinfo=UTC).astimezone(cal.zone) + dt.timedelta(days=rng.randint(-1, 1))).date()
    ranges = cal.ranges.get(day.weekday()) or [(540, 1020)]
    a, b = rng.choice(ranges)
    minute = min(max(rng.choice([a, b, a - 1, b - 1, a + 1]), 0), 1439)
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute, seconds=rng.choice([0, 0, rng.randint(1, 59)]))
    return wall.replace(tzinfo=cal.zone).astimezone(UTC).replace(tzinfo=None)


def start_instant(rng: random.Random, cal: RefCal, anchors=ANCHORS) -> dt.datetime:
    anchor = rng.choice(anchors)
    k = rng.random()
    if k < 0.25:
        return boundary(rng, cal, anchor + dt.timedelta(hours=rng.randint(-48, 48)))
    if rng.random() < 0.3:  # shortly before a DST change, so that many durations cross it
        anchor = rng.choice(anchors[:4])
        t = anchor + dt.timedelta(seconds=rng.randint(-2 * 86400, 6 * 3600))
    else:
        t = anchor + dt.timedelta(seconds=rng.randint(-3 * 86400, 3 * 86400))
    return t.replace(second=0) if k < 0.55 else t  # whole minutes, or seconds that are not


def later(rng: random.Random, cal: RefCal, start: dt.datetime, long=True) -> dt.datetime:
    """An instant after start: 0 s, seconds, minutes, hours or days later, or at a later boundary."""
    k = rng.random()
    if k < 0.15:
        b = boundary(rng, cal, start + dt.timedelta(hours=rng.randint(0, 60 if long else 20)))
        if b >= start:
            return b
    if k < 0.22:
        return start
    if k < 0.35:
        return start + dt.timedelta(seconds=rng.randint(1, 59))
    if k < 0.55:
        return start + dt.timedelta(seconds=rng.randint(60, 3 * 3600))
    if k < 0.8 or not long:
        return start + dt.timedelta(seconds=rng.randint(3 * 3600, 30 * 3600))
    return start + dt.timedelta(seconds=rng.randint(30 * 3600, 4 * 86400))


def gen_tickets(rng, default, named, n, teams, channels, queues):
    """Ticket rows plus, per ticket, its calendar and expected durations (seconds)."""
    rows, cases = [], []
    for i in range(n):
        team, channel = rng.choice(teams), rng.choice(channels)
        queue = rng.choice(queues) if queues else None
        cal = route(default, named, queue, team, channel)
        created = start_instant(rng, cal)
        resolved = later(rng, cal, created)
        frt = later(rng, cal, created, long=False) if rng.random() < 0.85 else None
        complaint = rng.random() < 0.3
        escalated = (created + (resolved - created) * rng.random()).replace(microsecond=0) \
            if rng.random() < 0.3 else None
        row = {"ticket_id": f"T{i:05d}", "created_at": iso(created), "resolved_at": iso(resolved),
               "first_response_at": iso(frt) if frt else None, "team": team, "channel": channel,
               "category": "complaint" if complaint else rng.choice(["billing", None]),
               "escalated_at": iso(escalated) if escalated else None}
        if queues:
            row["queue"] = queue
        rows.append(row)
        cases.append({
            "id": row["ticket_id"], "cal": cal, "created": created,
            "avg_resolution_time": cal.seconds(created, resolved) / 3600,
            "first_response_time": cal.seconds(created, frt) / 60 if frt else None,
            "complaint_resolution_time": (cal.seconds(escalated or created, resolved) / 3600
                                          if complaint or escalated else "absent"),
            "ends": [x for x in (resolved, frt) if x]})
    return rows, cases


def coverage(cases) -> dict:
    """How many generated cases hit the situations the quality bar names."""
    c = {"closed_start": 0, "closed_end": 0, "dst": 0, "seconds": 0, "out_of_hours_start": 0}
    for k in cases:
        cal = k["cal"]
        c["closed_start"] += cal.closed_at(k["created"])
        c["closed_end"] += any(cal.closed_at(e) for e in k["ends"])
        c["dst"] += any(cal.offset(e) != cal.offset(k["created"]) for e in k["ends"])
        c["seconds"] += k["created"].second != 0
        c["out_of_hours_start"] += not cal.open_at(secs(k["created"]))
    return c


def check_ticket_kpis(ws, cfg, cases, at_least):
    rows = ws.kpi("avg_resolution_time", "first_response_time", "complaint_resolution_time",
                  *BUSINESS, "--dim", "ticket_id", *YEAR, "--config", cfg)
    chk = Checker()
    for kpi in ("avg_resolution_time", "first_response_time", "complaint_resolution_time"):
        got = by_id(rows, kpi, "ticket_id")
        for k in cases:
            want = k[kpi]
            if want == "absent":  # not a complaint: no value (or no row)
                assert got.get(k["id"]) is None, (kpi, k["id"], got.get(k["id"]))
                continue
            chk.check(f"{kpi} {k['id']}", want, got.get(k["id"], "missing"),
                      f"(calendar {k['cal'].name}, created {iso(k['created'])}, ends {[iso(e) for e in k['ends']]})")
    chk.done(at_least)
    return chk.n


# --------------------------------------------------------------------------------------
# generated cases through the CLI
# --------------------------------------------------------------------------------------

def test_reference_self_check():
    """The reference on hand-worked cases (so a failure below is the implementation's)."""
    t = dt.datetime
    # Fri 2026-10-23 is a holiday of RO_DEFAULT; Sat 10:00-14:00 EEST; Sun closed; Mon 26 holiday;
    # Tue 27 08:00 EET = 06:00Z. From Thu 22 16:00 EEST (13:00Z) to Tue 27 08:30 EET (06:30Z):
    # Thu 16:00-17:00 (1 h) + Sat 10:00-14:00 (4 h) + Tue 08:00-08:30 (0.5 h) = 5.5 h
    assert RO_DEFAULT.seconds(t(2026, 10, 22, 13), t(2026, 10, 27, 6, 30)) == 5.5 * 3600
    # 24 h every day in New York: Sun 2026-03-08 has 23 h, Sun 2026-11-01 has 25 h
    assert ALL_DAY_NY.seconds(t(2026, 3, 8, 5), t(2026, 3, 9, 4)) == 23 * 3600
    assert ALL_DAY_NY.seconds(t(2026, 11, 1, 4), t(2026, 11, 2, 5)) == 25 * 3600
    # India +05:30: Mon 2026-06-01 09:30 IST = 04:00Z; 04:00:30Z .. 04:01:10Z = 40 s, all open
    assert INDIA.seconds(t(2026, 6, 1, 4, 0, 30), t(2026, 6, 1, 4, 1, 10)) == 40
    # 03:59:50Z .. 04:00:10Z: 10 s closed (09:29:50 IST), 10 s open
    assert INDIA.seconds(t(2026, 6, 1, 3, 59, 50), t(2026, 6, 1, 4, 0, 10)) == 10
    assert route(RO_DEFAULT, RO_NAMED, "q-ny", "night", "chat") is NEW_YORK
    assert route(RO_DEFAULT, RO_NAMED, None, "night", "chat") is NIGHT
    assert route(RO_DEFAULT, RO_NAMED, "q-x", "x", "chat") is ALL_DAY_NY
    assert route(RO_DEFAULT, RO_NAMED, None, None, "phone") is RO_DEFAULT


def test_ticket_durations_bucharest_workspace_match_reference(ws):
    """~3000 tickets, workspace Europe/Bucharest, 5 calendars in 4 zones assigned by queue/team/channel."""
    rng = random.Random(20260329)
    cfg = write_config(ws, "Europe/Bucharest", RO_DEFAULT, RO_NAMED)
    rows, cases = gen_tickets(rng, RO_DEFAULT, RO_NAMED, 3000,
                              teams=["core", "ny", "ny-2", "night", None],
                              channels=["phone", "email", "chat", "web", None],
                              queues=[None, None, None, "q-ny", "q-in", "q-none"])
    used = {k["cal"].name for k in cases}
    assert used == {"default", "newyork", "allday", "india", "night"}
    cov = coverage(cases)
    assert min(cov.values()) >= 100, cov
    ws.write("tickets", rows)
    ws.load(None, "--config", cfg)
    check_ticket_kpis(ws, cfg, cases, at_least=7000)


def test_ticket_durations_new_york_workspace_match_reference(ws):
    """~1500 tickets, workspace America/New_York: default calendar with a 24 h Sunday across NY DST,
    calendars in Bucharest (split day, RO holidays) and London (a range ending at the DST hour)."""
    rng = random.Random(20261101)
    cfg = write_config(ws, "America/New_York", NY_DEFAULT, NY_NAMED)
    rows, cases = gen_tickets(rng, NY_DEFAULT, NY_NAMED, 1500,
                              teams=["ro", "us", None], channels=["email", "chat", "phone", None], queues=None)
    assert {k["cal"].name for k in cases} == {"default", "ro", "london", "allday"}
    cov = coverage(cases)
    assert min(cov.values()) >= 50, cov
    ws.write("tickets", rows)
    ws.load(None, "--config", cfg)
    check_ticket_kpis(ws, cfg, cases, at_least=3500)


def test_response_times_from_messages_match_reference(ws):
    """avg_response_time (per reply: wait start -> reply) and first_response_time derived from
    messages, one ticket per row, calendars by team and channel."""
    rng = random.Random(11057)
    cfg = write_config(ws, "Europe/Bucharest", RO_DEFAULT, RO_NAMED)
    tickets, messages, cases = [], [], []
    for i in range(800):
        tid = f"M{i:04d}"
        team, channel = rng.choice(["core", "ny", "night", None]), rng.choice(["phone", "email", "chat", None])
        cal = route(RO_DEFAULT, RO_NAMED, None, team, channel)
        created = start_instant(rng, cal, MSG_ANCHORS)
        tickets.append({"ticket_id": tid, "created_at": iso(created), "team": team, "channel": channel})
        seq = [("customer", created)]
        waits = []  # (start, reply) per counted reply
        start, now = created, created
        for _ in range(rng.randint(1, 3)):
            reply = max(later(rng, cal, now, long=False), now + dt.timedelta(seconds=1))
            seq.append(("agent", reply))
            waits.append((start, reply))
            now = reply
            if rng.random() < 0.25:  # a follow-up without a customer message in between: not a reply wait
                now = now + dt.timedelta(seconds=rng.randint(1, 7200))
                seq.append(("agent", now))
            # the customer writes again (maybe twice): the next wait starts at the first of these
            now = now + dt.timedelta(seconds=rng.randint(1, 20 * 3600))
            if rng.random() < 0.3:
                now = boundary(rng, cal, now) if rng.random() < 0.5 else now
            if now <= seq[-1][1]:
                now = seq[-1][1] + dt.timedelta(seconds=1)
            seq.append(("customer", now))
            start = now
            if rng.random() < 0.3:
                now = now + dt.timedelta(seconds=rng.randint(1, 3600))
                seq.append(("customer", now))
        for j, (author, t) in enumerate(seq):
            messages.append({"message_id": f"{tid}-{j}", "ticket_id": tid, "sent_at": iso(t), "author": author,
                             "agent_id": "a1" if author == "agent" else None})
        per_reply = [cal.seconds(a, b) / 60 for a, b in waits]
        cases.append({"id": tid, "cal": cal, "created": created, "ends": [b for _, b in waits],
                      "avg_response_time": sum(per_reply) / len(per_reply),
                      "first_response_time": per_reply[0]})
    assert min(coverage(cases).values()) >= 30, coverage(cases)
    ws.write("tickets", tickets)
    ws.write("messages", messages)
    ws.load(None, "--config", cfg)
    rows = ws.kpi("avg_response_time", "first_response_time", *BUSINESS, "--dim", "ticket_id", *YEAR,
                  "--config", cfg)
    chk = Checker()
    for kpi in ("avg_response_time", "first_response_time"):
        got = by_id(rows, kpi, "ticket_id")
        for k in cases:
            chk.check(f"{kpi} {k['id']}", k[kpi], got.get(k["id"], "missing"),
                      f"(calendar {k['cal'].name}, created {iso(k['created'])})")
    chk.done(1600)


def test_call_wait_times_match_reference(ws):
    """avg_wait_time per call: a queue calendar beats the channel calendar, which beats the default."""
    rng = random.Random(4307)
    cfg = write_config(ws, "Europe/Bucharest", RO_DEFAULT, RO_NAMED)
    rows, cases = [], []
    for i in range(2000):
        queue, channel = rng.choice(["q-ny", "q-in", "q-other", None]), rng.choice(["phone", "chat"])
        cal = route(RO_DEFAULT, RO_NAMED, queue, None, channel)
        entered = start_instant(rng, cal)
        answered = later(rng, cal, entered, long=False) if rng.random() < 0.9 else None
        ended = (answered or entered) + dt.timedelta(seconds=rng.randint(1, 900))
        rows.append({"call_id": f"C{i:05d}", "entered_at": iso(entered),
                     "answered_at": iso(answered) if answered else None, "ended_at": iso(ended),
                     "queue": queue, "channel": channel})
        cases.append({"id": f"C{i:05d}", "cal": cal, "created": entered, "ends": [answered] if answered else [],
                      "value": cal.seconds(entered, answered) if answered else None})
    assert {k["cal"].name for k in cases} == {"default", "newyork", "allday", "india"}
    ws.write("calls", rows)
    ws.load(None, "--config", cfg)
    got = by_id(ws.kpi("avg_wait_time", *BUSINESS, "--dim", "call_id", *YEAR, "--config", cfg), "avg_wait_time",
                "call_id")
    chk = Checker()
    for k in cases:
        chk.check(f"avg_wait_time {k['id']}", k["value"], got.get(k["id"]),
                  f"(calendar {k['cal'].name}, entered {iso(k['created'])}, answered {[iso(e) for e in k['ends']]})")
    chk.done(2000)


# --------------------------------------------------------------------------------------
# hand-worked cases
# --------------------------------------------------------------------------------------

def test_issue_example_friday_evening_to_monday_morning(ws):
    """The issue's example: an email at 18:00 Friday answered at 09:05 Monday is 5 business minutes."""
    cfg = write_config(ws, "Europe/Bucharest", None, [])  # default calendar: Mon-Fri 09:00-17:00 local
    # Fri 2026-10-16 18:00 EEST = 15:00Z; Mon 2026-10-19 09:05 EEST = 06:05Z
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-16T15:00:00Z",
                          "first_response_at": "2026-10-19T06:05:00Z", "resolved_at": "2026-10-19T06:05:00Z"}])
    ws.load(None, "--config", cfg)
    assert ws.value("first_response_time", *BUSINESS, *YEAR, "--config", cfg) == 5
    assert abs(ws.value("first_response_time", *YEAR, "--config", cfg) - (63 * 60 + 5)) < TOL  # calendar time


def test_all_day_range_across_dst_counts_23_and_25_hours(ws):
    """sun = "00:00-24:00" in Bucharest: the spring-forward Sunday has 23 open hours, the fall-back one 25."""
    cal = RefCal("default", "Europe/Bucharest", {"sun": "00:00-24:00"}, write_tz=False)
    cfg = write_config(ws, "Europe/Bucharest", cal, [])
    ws.write("tickets", [
        # Sun 2026-03-29 00:00 EET = Sat 22:00Z .. Mon 00:00 EEST = Sun 21:00Z
        {"ticket_id": "S", "created_at": "2026-03-28T22:00:00Z", "resolved_at": "2026-03-29T21:00:00Z"},
        # Sun 2026-10-25 00:00 EEST = Sat 21:00Z .. Mon 00:00 EET = Sun 22:00Z
        {"ticket_id": "F", "created_at": "2026-10-24T21:00:00Z", "resolved_at": "2026-10-25T22:00:00Z"},
        # the whole weekend around each change, from Friday noon to Monday noon UTC
        {"ticket_id": "S2", "created_at": "2026-03-27T12:00:00Z", "resolved_at": "2026-03-30T12:00:00Z"},
        {"ticket_id": "F2", "created_at": "2026-10-23T12:00:00Z", "resolved_at": "2026-10-26T12:00:00Z"},
    ])
    ws.load(None, "--config", cfg)
    got = by_id(ws.kpi("avg_resolution_time", *BUSINESS, "--dim", "ticket_id", *YEAR, "--config", cfg),
                "avg_resolution_time", "ticket_id")
    want = {"S": 23, "F": 25, "S2": 23, "F2": 25}
    for tid, hours in want.items():
        assert abs(got[tid] - hours) < TOL, (tid, got[tid], hours)
    t = dt.datetime
    assert cal.seconds(t(2026, 3, 27, 12), t(2026, 3, 30, 12)) == 23 * 3600
    assert cal.seconds(t(2026, 10, 23, 12), t(2026, 10, 26, 12)) == 25 * 3600


def test_precedence_on_tickets_queue_beats_team_beats_channel_beats_default(ws):
    """Same span, four calendars with different hours: the value tells which calendar applied."""
    default = RefCal("default", "UTC", {d: "09:00-17:00" for d in DAYS}, write_tz=False)        # 8 h
    by_queue = RefCal("byqueue", "UTC", {d: "10:00-11:00" for d in DAYS}, queues=["vip"])      # 1 h
    by_team = RefCal("byteam", "UTC", {d: "10:00-12:00" for d in DAYS}, teams=["t1"])          # 2 h
    by_channel = RefCal("bychannel", "UTC", {d: "00:00-24:00" for d in DAYS}, channels=["chat"])  # 24 h
    # listed so that config order would pick the wrong one if precedence were by order
    named = [by_channel, by_team, by_queue]
    cfg = write_config(ws, "UTC", default, named)
    span = {"created_at": "2026-06-02T00:00:00Z", "resolved_at": "2026-06-03T00:00:00Z"}
    ws.write("tickets", [
        {"ticket_id": "Q", **span, "queue": "vip", "team": "t1", "channel": "chat"},
        {"ticket_id": "T", **span, "queue": "other", "team": "t1", "channel": "Chat"},
        {"ticket_id": "C", **span, "queue": None, "team": "t9", "channel": "chat"},
        {"ticket_id": "D", **span, "queue": None, "team": None, "channel": "phone"},
    ])
    ws.load(None, "--config", cfg)
    got = by_id(ws.kpi("avg_resolution_time", *BUSINESS, "--dim", "ticket_id", *YEAR, "--config", cfg),
                "avg_resolution_time", "ticket_id")
    assert got == {"Q": 1, "T": 2, "C": 24, "D": 8}


def test_precedence_on_calls_queue_beats_channel_beats_default(ws):
    default = RefCal("default", "UTC", {d: "09:00-17:00" for d in DAYS}, write_tz=False)
    by_queue = RefCal("byqueue", "UTC", {d: "10:00-11:00" for d in DAYS}, queues=["vip"])
    by_channel = RefCal("bychannel", "UTC", {d: "00:00-24:00" for d in DAYS}, channels=["chat"])
    cfg = write_config(ws, "UTC", default, [by_channel, by_queue])
    span = {"entered_at": "2026-06-02T00:00:00Z", "answered_at": "2026-06-03T00:00:00Z"}
    ws.write("calls", [
        {"call_id": "Q", **span, "queue": "vip", "channel": "chat"},
        {"call_id": "C", **span, "queue": "other", "channel": "chat"},
        {"call_id": "D", **span, "queue": "other", "channel": "phone"},
    ])
    ws.load(None, "--config", cfg)
    got = by_id(ws.kpi("avg_wait_time", *BUSINESS, "--dim", "call_id", *YEAR, "--config", cfg),
                "avg_wait_time", "call_id")
    assert got == {"Q": 3600, "C": 86400, "D": 8 * 3600}


def test_range_edge_inside_the_spring_forward_gap(ws):
    """A range whose end or start falls in the skipped hour (Bucharest, Sun 2026-03-29, 03:00 -> 04:00).

    "02:30-03:30": wall times 02:30..02:59 EET exist (00:30Z..01:00Z), then the clock reads 04:00:
    30 open minutes. "03:30-05:00": the first wall time in range is 04:00 EEST (01:00Z) until
    05:00 EEST (02:00Z): 60 open minutes."""
    end_in_gap = RefCal("default", "Europe/Bucharest", {"sun": "02:30-03:30"}, write_tz=False)
    start_in_gap = RefCal("late", "Europe/Bucharest", {"sun": "03:30-05:00"}, teams=["late"])
    cfg = write_config(ws, "Europe/Bucharest", end_in_gap, [start_in_gap])
    span = {"created_at": "2026-03-28T20:00:00Z", "resolved_at": "2026-03-29T20:00:00Z"}
    ws.write("tickets", [{"ticket_id": "E", **span, "team": None}, {"ticket_id": "S", **span, "team": "late"}])
    ws.load(None, "--config", cfg)
    got = by_id(ws.kpi("avg_resolution_time", *BUSINESS, "--dim", "ticket_id", *YEAR, "--config", cfg),
                "avg_resolution_time", "ticket_id")
    a, b = dt.datetime(2026, 3, 28, 20), dt.datetime(2026, 3, 29, 20)
    assert end_in_gap.seconds(a, b) == 30 * 60 and start_in_gap.seconds(a, b) == 60 * 60
    assert {k: round(v * 60, 6) for k, v in got.items()} == {"E": 30, "S": 60}


def test_range_edge_inside_the_fall_back_hour(ws):
    """A range starting inside the repeated hour (Bucharest, Sun 2026-10-25, 04:00 EEST -> 03:00 EET).

    "03:30-05:00": wall time 03:30..03:59 EEST (00:30Z..01:00Z) is open, 03:00..03:29 EET
    (01:00Z..01:30Z) is before 03:30 and closed, 03:30 EET .. 05:00 EET (01:30Z..03:00Z) is open:
    30 + 90 = 120 open minutes (the wall clock reads a time in range for exactly that long)."""
    cal = RefCal("default", "Europe/Bucharest", {"sun": "03:30-05:00"}, write_tz=False)
    cfg = write_config(ws, "Europe/Bucharest", cal, [])
    ws.write("tickets", [{"ticket_id": "F", "created_at": "2026-10-24T20:00:00Z",
                          "resolved_at": "2026-10-25T20:00:00Z"}])
    ws.load(None, "--config", cfg)
    assert cal.seconds(dt.datetime(2026, 10, 24, 20), dt.datetime(2026, 10, 25, 20)) == 120 * 60
    assert abs(ws.value("avg_resolution_time", *BUSINESS, *YEAR, "--config", cfg) - 2.0) < TOL


def test_queue_calendar_of_a_ticket_applies_to_its_replies_too(ws):
    """A ticket routed by a queue column (an extra column of tickets) keeps that calendar for its
    replies: with one reply, avg_response_time equals first_response_time (both created -> reply)."""
    default = RefCal("default", "UTC", {d: "09:00-17:00" for d in DAYS}, write_tz=False)       # 8 h
    by_queue = RefCal("byqueue", "UTC", {d: "10:00-11:00" for d in DAYS}, queues=["vip"])     # 1 h
    by_team = RefCal("byteam", "UTC", {d: "10:00-12:00" for d in DAYS}, teams=["t1"])         # 2 h
    cfg = write_config(ws, "UTC", default, [by_team, by_queue])
    ws.write("tickets", [{"ticket_id": "Q", "created_at": "2026-06-02T00:00:00Z", "queue": "vip", "team": "t1"}])
    ws.write("messages", [
        {"message_id": "m1", "ticket_id": "Q", "sent_at": "2026-06-02T00:00:00Z", "author": "customer"},
        {"message_id": "m2", "ticket_id": "Q", "sent_at": "2026-06-03T00:00:00Z", "author": "agent"},
    ])
    ws.load(None, "--config", cfg)
    frt = ws.value("first_response_time", *BUSINESS, *YEAR, "--config", cfg)
    art = ws.value("avg_response_time", *BUSINESS, *YEAR, "--config", cfg)
    assert frt == 60  # the queue calendar: 10:00-11:00
    assert art == frt, (art, frt)
