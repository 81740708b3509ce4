"""The database-table export of queue_log (CSV with a header): its layout found by the header, its rows as events.

Known layouts (the header's names, any case, in any order):
- Asterisk's realtime table: time, callid, queuename (or queue), agent, event, data1..data5;
- the same with one `data` column holding the pipe-joined fields (older realtime schemas);
- reporting tools' tables: date_time and/or time, callid, queue_name, agent (or type), event, param1..param3,
  with the fields by meaning in htime (the queue wait), ttime (the talk time), entpos and expos.
When several time columns are present (an epoch `date_time` beside a local, rounded `time`), a row's epoch
is preferred. Any other layout: name its columns in a TOML file given with --mapping:

    [asterisk.columns]
    time = "ts"            # an epoch or a datetime; a list = the first readable epoch, else the first value
    callid = "uniqueid"
    queue = "q"
    agent = "member"
    event = "verb"
    data = ["d1", "d2", "d3", "d4", "d5"]   # the event's fields in Asterisk's order (or one pipe-joined column)
    hold = "wait"          # optional: the hold time and talk time by meaning, as htime and ttime
    talk = "talk"
"""
from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from servicekpi.connectors import ConnectorError
from servicekpi.connectors.asterisk.events import EPOCH, Event, _event

TIME = ("date_time", "datetime", "time", "timestamp", "eventtime")
CALLID = ("callid", "call_id", "uniqueid")
QUEUE = ("queuename", "queue_name", "queue")
AGENT = ("agent", "membername", "member", "type")
EVENT = ("event", "verb")
ROLES = ("time", "callid", "queue", "agent", "event", "data", "hold", "talk")
KNOWN = ("time, callid, queuename (or queue), agent, event, data1..data5 (Asterisk's realtime table); "
         "the same with one data column; date_time and/or time, callid, queue_name, agent (or type), event, "
         "param1..param3, htime, ttime, entpos, expos (reporting tools' tables)")
HOW = ("name the columns of another layout in a TOML file given with --mapping: [asterisk.columns] time = ..., "
       "callid = ..., queue = ..., agent = ..., event = ..., data = [...] (hold = ..., talk = ... optional); "
       "see docs/connectors/asterisk.md")


@dataclass
class Layout:
    name: str
    time: list[int]
    callid: int
    queue: int
    agent: int
    event: int
    data: list[int] = field(default_factory=list)
    joined: int | None = None  # one column holding the pipe-joined fields
    hold: int | None = None
    talk: int | None = None


def delimiter(first: str) -> str:
    return max((",", ";", "\t"), key=first.count)


def header_cells(first: str) -> list[str]:
    return [n.strip().strip('"') for n in next(csv.reader([first], delimiter=delimiter(first)), [])]


def is_header(first: str) -> bool:
    """A header line (not a raw-log line): three or more names, none a number, no pipe-separated record."""
    cells = header_cells(first)
    return len(cells) >= 3 and "|" not in first and \
        all(re.fullmatch(r"[A-Za-z_][\w .()/-]*", c) for c in cells if c) and sum(1 for c in cells if c) >= 3


def _numbered(names: list[str], prefix: str) -> list[int]:
    found = [(int(n[len(prefix):]), i) for i, n in enumerate(names) if re.fullmatch(prefix + r"\d+", n)]
    return [i for _, i in sorted(found)]


def recognise(names: list[str]) -> Layout | None:
    """The known layout of a header (lower-cased names), or None."""
    col: dict[str, int] = {}
    for i, n in enumerate(names):
        col.setdefault(n, i)

    def one(choices):
        return next((col[c] for c in choices if c in col), None)
    times = [col[c] for c in TIME if c in col]
    callid, queue, agent, event = one(CALLID), one(QUEUE), one(AGENT), one(EVENT)
    if not times or None in (callid, queue, event):
        return None
    data, params = _numbered(names, "data"), _numbered(names, "param")
    hold, talk = col.get("htime"), col.get("ttime")
    if agent is None:
        return None
    if data:
        return Layout("data1..data5", times, callid, queue, agent, event, data=data, hold=hold, talk=talk)
    if params:
        return Layout("param1..param3 + htime/ttime", times, callid, queue, agent, event, data=params,
                      hold=hold, talk=talk)
    if "data" in col:
        return Layout("data", times, callid, queue, agent, event, joined=col["data"])
    return None


def columns_from(mapping: Path | None) -> dict | None:
    """[asterisk.columns] of a --mapping TOML file, checked."""
    if mapping is None:
        return None
    try:
        doc = tomllib.loads(Path(mapping).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConnectorError(f"{mapping}: cannot read the mapping ({e})") from None
    cols = doc.get("asterisk", {}).get("columns") if isinstance(doc.get("asterisk"), dict) else None
    if not isinstance(cols, dict):
        raise ConnectorError(f"{mapping}: --source asterisk reads an [asterisk.columns] section (time, callid, "
                             f"queue, agent, event, data; hold, talk optional) and this file has none")
    unknown = sorted(set(cols) - set(ROLES))
    missing = [r for r in ROLES[:6] if r not in cols]
    if unknown or missing:
        raise ConnectorError(f"{mapping}: [asterisk.columns]: " + "; ".join(
            ([f"unknown key(s) {', '.join(unknown)}"] if unknown else []) +
            ([f"missing {', '.join(missing)}"] if missing else [])) + f" (keys: {', '.join(ROLES)})")
    for k, v in cols.items():
        ok = isinstance(v, str) or (k in ("time", "data") and isinstance(v, list) and v and
                                    all(isinstance(x, str) for x in v))
        if not ok:
            raise ConnectorError(f"{mapping}: [asterisk.columns] {k} must be a column name"
                                 + (" or a list of names" if k in ("time", "data") else ""))
    return cols


def named(names: list[str], cols: dict, src: str) -> Layout:
    """The layout the [asterisk.columns] section names; every name must be in the header."""
    col: dict[str, int] = {}
    for i, n in enumerate(names):
        col.setdefault(n, i)
    absent = []

    def idx(name: str) -> int:
        i = col.get(name.strip().lower())
        if i is None:
            absent.append(name)
            return -1
        return i

    def many(v) -> list[int]:
        return [idx(x) for x in ([v] if isinstance(v, str) else v)]
    lay = Layout("[asterisk.columns]", many(cols["time"]), idx(cols["callid"]), idx(cols["queue"]),
                 idx(cols["agent"]), idx(cols["event"]))
    data = many(cols["data"])
    if isinstance(cols["data"], str):
        lay.joined = data[0]
    else:
        lay.data = data
    lay.hold = idx(cols["hold"]) if "hold" in cols else None
    lay.talk = idx(cols["talk"]) if "talk" in cols else None
    if absent:
        raise ConnectorError(f"{src} line 1: column(s) {', '.join(repr(a) for a in absent)} named by "
                             f"[asterisk.columns] are not in the header (the header has: {', '.join(names)})")
    return lay


def layout(path: Path, first: str, cols: dict | None) -> Layout:
    """The file's layout, or a ConnectorError that rejects the whole file."""
    names = [n.lower() for n in header_cells(first)]
    if cols is not None:
        return named(names, cols, str(path))
    lay = recognise(names)
    if lay is None:
        raise ConnectorError(f"{path} line 1: the header ({', '.join(header_cells(first))}) matches no known "
                             f"queue_log layout, the file is not imported. Known layouts: {KNOWN}. Or {HOW}")
    return lay


def _table_rows(path: Path, cols: dict | None = None) -> Iterator[Event]:
    """The DB export's rows as events, in file order."""
    src = str(path)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        first = f.readline()
        lay = layout(path, first, cols)
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter(first))
        next(reader)
        last = reader.line_num
        for row in reader:
            n, last = last + 1, reader.line_num
            if not any(c.strip() for c in row):
                continue

            def get(i):
                return row[i].strip() if i is not None and i < len(row) else ""
            if lay.joined is None:
                joined = "|".join(get(i) for i in lay.data).split("|")  # a data5 may hold the rest, pipes included
                while joined and joined[-1] == "":
                    joined.pop()
                data = joined
            else:
                data = get(lay.joined).split("|") if get(lay.joined) else []
            times = [get(i) for i in lay.time]
            time = next((t for t in times if EPOCH.match(t)), None) or next((t for t in times if t), "")
            ev = _event(src, n, time, [get(lay.callid), get(lay.queue), get(lay.agent), get(lay.event)], data,
                        ",".join(row))
            ev.hold, ev.talk = get(lay.hold) or None, get(lay.talk) or None
            yield ev
