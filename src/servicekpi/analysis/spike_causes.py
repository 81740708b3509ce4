"""What spiked: for a spike of one value (e.g. category=shipping in October), the categories,
channels and words whose share of that value's tickets grew the most against the baseline.

- Period tickets: the value's tickets created in the spiking period; baseline tickets: those of
  the `window` whole periods before it (the spike rule's history). Same rules as ticket_volume:
  created_at in the local period, not after the as-of instant, excluded tickets left out, the
  same --where filters.
- For each other dimension (category, channel; not the spike's own) and for words:
  share = tickets with the value / tickets x 100 in each span; change_pp = share - baseline share.
  The TOP (3) values with the largest positive change and at least MIN_COUNT (3) tickets in the
  period are listed with their counts. With no baseline
  tickets the baseline share is null (never 0) and values rank by their share in the period.
- Words: a ticket's `subject` (a column kept from the import when the source has one) and the
  comments of survey answers on it, lower-cased, split on non-word characters, numbers, one-letter
  tokens and a short stopword list per language left out; a word counts once per ticket.
  Chinese and Thai are written without spaces, so a run of characters is one token (weak there).
"""
from __future__ import annotations

import datetime as dt
import re

from servicekpi.core import periods as P
from servicekpi.store.db import quote, table_columns

TOP = 3
MIN_COUNT = 3  # a value needs this many tickets in the spiking period to be listed (1-2 are noise)
DIMS = ("category", "channel")
WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = {
    "en": "a an and are as at be but by can did do does for from had has have i if in is it its me my no not "
          "of on or our so that the this to was we were what when why will with you your please hi hello thanks "
          "thank help",
    "ro": "a ai al ale am ar are as au ca că ce cu de din după e este eu fi iar in în la le lor mai mea meu mi "
          "ne nu o pe pentru sa să se si și sunt te un una unei unui va vă buna bună mulțumesc multumesc",
    "zh": "的 了 是 我 你 在 和 有 吗 呢 吧 啊 也 就 都 很 请 谢谢 您好 你好",
    "th": "ที่ และ ของ ใน เป็น ได้ ไม่ มี ครับ ค่ะ คะ นะ จะ ให้ กับ การ ว่า ผม ฉัน ขอบคุณ สวัสดี",
}
STOP = {w for words in STOPWORDS.values() for w in words.split()}


def tokens(text: str | None) -> set[str]:
    if not text:
        return set()
    return {w for w in WORD.findall(text.lower()) if len(w) > 1 and not w.isdigit() and w not in STOP}


def grown(now: list[set[str]], base: list[set[str]], top: int = TOP, min_count: int = MIN_COUNT) -> list[dict]:
    """The values whose share of tickets grew most; each ticket holds a set of values."""
    n, m = len(now), len(base)
    if not n:
        return []
    count: dict[str, int] = {}
    before: dict[str, int] = {}
    for values in now:
        for v in values:
            count[v] = count.get(v, 0) + 1
    for values in base:
        for v in values:
            before[v] = before.get(v, 0) + 1
    out = []
    for v, c in count.items():
        if c < min_count:
            continue
        share = 100 * c / n
        base_share = 100 * before.get(v, 0) / m if m else None
        change = None if base_share is None else share - base_share
        if change is not None and change <= 0:
            continue
        out.append({"value": v, "count": c, "share": round(share, 2), "baseline_count": before.get(v, 0),
                    "baseline_share": None if base_share is None else round(base_share, 2),
                    "change_pp": None if change is None else round(change, 2)})
    out.sort(key=lambda r: (-(r["change_pp"] if r["change_pp"] is not None else r["share"]), -r["count"],
                            r["value"]))
    return out[:top]


def _tickets(con, lo, hi, asof, dim, value, where, text_cols) -> list[dict]:
    cols = table_columns(con, "tickets")
    conds, params = ["t.created_at >= ?", "t.created_at < ?", "t.created_at <= ?",
                     "NOT coalesce(t.excluded, FALSE)"], [lo, hi, asof]
    for col, values in [(dim, [value]), *((where or {}).items())]:
        if col not in cols:
            raise ValueError(f"unknown ticket column '{col}'")
        if values == ["(none)"]:
            conds.append(f"t.{quote(col)} IS NULL")
        else:
            conds.append(f"CAST(t.{quote(col)} AS VARCHAR) IN ({', '.join('?' * len(values))})")
            params += [str(v) for v in values]
    picked = [f"t.{quote(d)}" if d in cols else "NULL" for d in DIMS]
    subject = "t.subject" if "subject" in cols else "NULL"
    comments = ("(SELECT string_agg(s.comment, ' ') FROM surveys s WHERE s.ticket_id = t.ticket_id "
                "AND s.responded_at <= ?)") if text_cols else "NULL"
    sql = (f"SELECT {', '.join(picked)}, {subject}, {comments} FROM tickets t WHERE {' AND '.join(conds)}")
    rows = con.execute(sql, ([asof] if text_cols else []) + params).fetchall()
    return [{"category": r[0], "channel": r[1], "text": " ".join(x for x in r[2:] if x)} for r in rows]


def causes(con, lo, hi, base_lo, asof, dim, value, where=None, top: int = TOP) -> dict:
    """The causes of one spike: the period [lo, hi) against the baseline [base_lo, lo) (naive UTC)."""
    now = _tickets(con, lo, hi, asof, dim, value, where, True)
    base = _tickets(con, base_lo, lo, asof, dim, value, where, True)
    out: dict = {"tickets": len(now), "baseline_tickets": len(base)}
    for d in DIMS:
        if d != dim:
            out[d] = grown([{str(t[d])} if t[d] is not None else set() for t in now],
                           [{str(t[d])} if t[d] is not None else set() for t in base], top)
    out["words"] = grown([tokens(t["text"]) for t in now], [tokens(t["text"]) for t in base], top)
    return out


def attach(engine, found: list, start: dt.date, end: dt.date, by: str, window: int,
           asof: dt.datetime | None = None, where: dict | None = None) -> None:
    """Set .causes on each Spike of found (Spike.period indexes the periods of [start, end])."""
    from servicekpi.engine.query import now_utc
    tz = engine.config.timezone
    periods = P.build(start, end, by, tz)
    asof = asof or now_utc()
    for s in found:
        p = periods[s.period]
        base_lo = P.utc(P.history_start(p.start, by, window), tz)
        s.causes = causes(engine.con, p.lo, p.hi, base_lo, asof, s.dim, s.value, where)


ITEM = "{value} {share} (was {baseline}, {count} of {total})"


def summary(c: dict | None, labels: dict | None = None, item: str = ITEM, value=str, number=None) -> str:
    """One line, e.g. 'channel chat 80% (was 0%, 8 of 10); words delayed 80% (was 0%, 8 of 10)'.

    The reports pass translated labels ({"category", "channel", "words"}), item template, a value
    label function and a locale number format."""
    if not c:
        return ""
    labels = labels or {}
    number = number or (lambda x: f"{x:g}")
    parts = []
    for key in (*DIMS, "words"):
        items = c.get(key) or []
        if items:
            name = value if key != "words" else str
            parts.append(f"{labels.get(key, key)} " + ", ".join(item.format(
                value=name(i["value"]), share=number(i["share"]) + "%",
                baseline="–" if i["baseline_share"] is None else number(i["baseline_share"]) + "%",
                count=i["count"], total=c["tickets"]) for i in items))
    return "; ".join(parts)
