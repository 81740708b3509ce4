"""The database-table export of queue_log (CSV with a header): its rows as events, in file order."""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Iterator

from .. import ConnectorError
from .events import Event, _event


def _is_table_export(first: str) -> bool:
    names = {n.strip().strip('"').lower() for n in next(csv.reader([first]), [])}
    return {"time", "event"} <= names and ("queuename" in names or "queue" in names)


def _table_rows(path: Path) -> Iterator[Event]:
    """The DB export's rows as events, in file order."""
    src = str(path)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f)
        header = [h.strip().lower() for h in next(reader)]
        col = {h: i for i, h in enumerate(header)}
        q = "queuename" if "queuename" in col else "queue"
        missing = [c for c in ("callid", "agent") if c not in col]
        if missing:
            raise ConnectorError(f"{src} line 1: column(s) {', '.join(missing)} missing (expected time, callid, "
                                 f"queuename, agent, event, data1..data5 or data)")
        datacols = sorted((h for h in col if re.fullmatch(r"data\d+", h)), key=lambda h: int(h[4:]))
        last = reader.line_num
        for row in reader:
            n, last = last + 1, reader.line_num
            if not any(c.strip() for c in row):
                continue

            def get(name):
                i = col.get(name)
                return row[i].strip() if i is not None and i < len(row) else ""
            if datacols:
                data = [get(h) for h in datacols]
                joined = "|".join(data).split("|")  # a data5 may hold the rest, pipes included
                while joined and joined[-1] == "":
                    joined.pop()
                data = joined
            else:
                data = get("data").split("|") if get("data") else []
            yield _event(src, n, get("time"), [get("callid"), get(q), get("agent"), get("event")], data,
                         ",".join(row))
