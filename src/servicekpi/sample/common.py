"""Shared helpers of the sample-data generator (see :mod:`servicekpi.generate`).

Columns are described as light "specs" over numpy arrays (ids as integers,
timestamps as epoch seconds, enumerations as integer codes) and only turned
into Arrow arrays, slice by slice, when written. That keeps every table
fully vectorised and lets the same data go to Parquet or CSV.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

DAY = 86_400
HOUR = 3_600
TS = pa.timestamp("us", tz="UTC")
STR, I64, F64, BOOL, DATE = pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.date32()

SCHEMAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "customers": [("customer_id", STR), ("acquired_at", TS), ("churned_at", TS), ("tier", STR),
                  ("persona", STR), ("acquisition_channel", STR), ("referred_by", STR)],
    "tickets": [("ticket_id", STR), ("created_at", TS), ("channel", STR), ("category", STR),
                ("priority", STR), ("status", STR), ("customer_id", STR), ("customer_tier", STR),
                ("agent_id", STR), ("team", STR), ("first_response_at", TS), ("resolved_at", TS),
                ("reopen_count", I64), ("agent_replies", I64), ("agents_involved", I64),
                ("fcr_eligible", BOOL), ("escalated_at", TS), ("excluded", BOOL)],
    "messages": [("message_id", STR), ("ticket_id", STR), ("sent_at", TS), ("author", STR),
                 ("agent_id", STR), ("public", BOOL)],
    "calls": [("call_id", STR), ("entered_at", TS), ("answered_at", TS), ("ended_at", TS),
              ("outcome", STR), ("queue", STR), ("channel", STR), ("customer_id", STR),
              ("agent_id", STR), ("talk_seconds", I64), ("hold_seconds", I64),
              ("wrap_seconds", I64), ("resolved", BOOL), ("ticket_id", STR)],
    "agent_sessions": [("agent_id", STR), ("login_at", TS), ("logout_at", TS), ("queue", STR)],
    "surveys": [("response_id", STR), ("survey", STR), ("score", I64), ("scale_min", I64),
                ("scale_max", I64), ("responded_at", TS), ("ticket_id", STR),
                ("customer_id", STR), ("agent_id", STR), ("channel", STR), ("comment", STR)],
    "orders": [("order_id", STR), ("customer_id", STR), ("ordered_at", TS), ("amount", F64),
               ("gross_margin", F64)],
    "spend": [("period_start", DATE), ("period_end", DATE), ("amount", F64), ("kind", STR)],
    "self_service": [("event_id", STR), ("occurred_at", TS), ("kind", STR),
                     ("customer_id", STR), ("channel", STR)],
    "feedback": [("feedback_id", STR), ("received_at", TS), ("source", STR), ("text", STR),
                 ("customer_id", STR), ("replied_at", TS)],
    "quality_reviews": [("review_id", STR), ("ticket_id", STR), ("agent_id", STR),
                        ("reviewed_at", TS), ("criterion", STR), ("score", I64),
                        ("max_score", I64)],
    "activity": [("customer_id", STR), ("occurred_at", TS), ("kind", STR), ("value", I64)],
}
# low-cardinality columns worth dictionary-encoding in Parquet (ids are not)
_DICT_COLS = {"channel", "category", "priority", "status", "customer_tier", "team", "author",
              "outcome", "queue", "tier", "persona", "acquisition_channel", "survey", "kind",
              "source", "criterion", "comment", "text", "agent_id"}


# ----------------------------------------------------------------------------- column specs
def c_id(prefix: str, num, width: int, valid=None):
    """String ids `prefix + zero-padded num` (num is 1-based)."""
    return ("id", prefix, np.asarray(num), width, valid)


def c_ts(sec, valid=None):
    """Timestamps from epoch seconds."""
    return ("ts", np.asarray(sec, dtype=np.int64), valid)


def c_cat(labels, codes, valid=None):
    """Enumeration: labels[codes]."""
    return ("cat", labels, np.asarray(codes), valid)


def c_val(arr, valid=None):
    """Numbers or booleans (type from the schema)."""
    return ("val", np.asarray(arr), valid)


def c_arrow(arr: pa.Array):
    return ("arrow", arr)


def _sl(a, s):
    return None if a is None else a[s]


def _validity(valid):
    if valid is None or valid.all():
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), int(len(valid) - valid.sum())


def _fixed_strings(buf: np.ndarray, valid) -> pa.Array:
    """(n, w) uint8 matrix -> Arrow string array (zero-copy over the matrix)."""
    n, w = buf.shape
    if n * w >= 2**31:
        raise ValueError("slice too large for one string array")
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    vbuf, nulls = _validity(valid)
    return pa.Array.from_buffers(STR, n, [vbuf, pa.py_buffer(offsets),
                                          pa.py_buffer(np.ascontiguousarray(buf))], nulls)


_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], np.uint8)


def _put_digits(buf, col, val, width):
    """Write val zero-padded to `width` digits into buf[:, col:col+width], two at a time."""
    val = val.astype(np.int32 if width <= 9 else np.int64)
    k = col + width
    while k - col >= 2:
        val, rem = np.divmod(val, 100)
        buf[:, k - 2:k] = _PAIRS[rem]
        k -= 2
    if k > col:
        buf[:, col] = 48 + val % 10


def id_array(prefix: str, num, width: int, valid=None) -> pa.Array:
    num = np.asarray(num, dtype=np.int64)
    p = prefix.encode()
    buf = np.empty((len(num), len(p) + width), np.uint8)
    buf[:, : len(p)] = np.frombuffer(p, np.uint8)
    _put_digits(buf, len(p), np.where(num >= 0, num, 0), width)
    return _fixed_strings(buf, valid)


_TOD: np.ndarray | None = None


def iso_z_array(sec, valid=None) -> pa.Array:
    """Epoch seconds -> `YYYY-MM-DDTHH:MM:SSZ` strings (gathers from date / time-of-day tables)."""
    global _TOD
    if _TOD is None:
        s = np.arange(DAY)
        _TOD = np.empty((DAY, 8), np.uint8)
        for col, val in ((0, s // HOUR), (3, (s // 60) % 60), (6, s % 60)):
            _TOD[:, col:col + 2] = _PAIRS[val]
        _TOD[:, 2] = _TOD[:, 5] = ord(":")
    sec = np.asarray(sec, dtype=np.int64)
    if valid is not None:
        sec = np.where(valid, sec, sec[valid][0] if valid.any() else 0)
    days = sec // DAY
    d0 = int(days.min(initial=0))
    span = int(days.max(initial=0)) - d0 + 1
    first = dt.date(1970, 1, 1) + dt.timedelta(days=d0)
    dates = np.frombuffer("".join((first + dt.timedelta(days=i)).isoformat()
                                  for i in range(span)).encode(), np.uint8).reshape(span, 10)
    buf = np.empty((len(sec), 20), np.uint8)
    buf[:, :10] = dates[days - d0]
    buf[:, 10] = ord("T")
    buf[:, 11:19] = _TOD[sec - days * DAY]
    buf[:, 19] = ord("Z")
    return _fixed_strings(buf, valid)


def _to_arrow(spec, s: slice, typ: pa.DataType, csv: bool) -> pa.Array:
    kind = spec[0]
    if kind == "id":
        _, prefix, num, width, valid = spec
        return id_array(prefix, num[s], width, _sl(valid, s))
    if kind == "ts":
        _, sec, valid = spec
        sec, valid = sec[s], _sl(valid, s)
        if csv:
            return iso_z_array(sec, valid)
        vbuf, nulls = _validity(valid)
        data = np.ascontiguousarray(sec * 1_000_000)
        return pa.Array.from_buffers(TS, len(sec), [vbuf, pa.py_buffer(data)], nulls)
    if kind == "cat":
        _, labels, codes, valid = spec
        valid = _sl(valid, s)
        idx = pa.array(codes[s].astype(np.int32), mask=None if valid is None else ~valid)
        return pc.take(pa.array(labels, STR), idx)
    if kind == "val":
        _, arr, valid = spec
        valid = _sl(valid, s)
        return pa.array(arr[s], type=typ, mask=None if valid is None else ~valid)
    if kind == "arrow":
        return spec[1].slice(s.start, s.stop - s.start).cast(typ)
    raise ValueError(kind)


class Writer:
    """Writes tables chunk by chunk to `<table>.parquet` or `<table>.csv`."""

    def __init__(self, folder: Path, fmt: str, progress: Callable[[str, int], None] | None):
        self.folder, self.fmt, self.progress = folder, fmt, progress
        self.rows: dict[str, int] = {}
        self._writers: dict[str, object] = {}

    def schema(self, name: str) -> pa.Schema:
        fields = [(c, STR if (t == TS and self.fmt == "csv") else t) for c, t in SCHEMAS[name]]
        return pa.schema(fields)

    def _writer(self, name: str):
        w = self._writers.get(name)
        if w is None:
            path = self.folder / f"{name}.{self.fmt}"
            if self.fmt == "parquet":
                dict_cols = [c for c, _ in SCHEMAS[name] if c in _DICT_COLS]
                w = pq.ParquetWriter(path, self.schema(name), compression="snappy",
                                     use_dictionary=dict_cols or False)
            else:
                w = pacsv.CSVWriter(path, self.schema(name))
            self._writers[name] = w
            self.rows.setdefault(name, 0)
        return w

    def write(self, name: str, cols: dict, n: int, chunk: int | None = None) -> None:
        """Write n rows given as column specs; `chunk` rows per row group / progress step."""
        w = self._writer(name)
        schema = self.schema(name)
        step = max(1, chunk or n)
        for a in range(0, n, step):
            s = slice(a, min(n, a + step))
            arrays = [_to_arrow(cols[f.name], s, f.type, self.fmt == "csv") for f in schema]
            table = pa.Table.from_arrays(arrays, schema=schema)
            if self.fmt == "parquet":
                w.write_table(table, row_group_size=max(1, s.stop - s.start))
            else:
                w.write_table(table)
            self.rows[name] += s.stop - s.start
            if self.progress is not None:
                self.progress(name, s.stop - s.start)

    def close(self) -> None:
        for name in SCHEMAS:          # every table gets a file, even when empty
            self._writer(name)
        for w in self._writers.values():
            w.close()


# ----------------------------------------------------------------------------- random helpers
def pick(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    """n draws of indices with the given (unnormalised) weights."""
    cum = np.cumsum(np.asarray(weights, dtype=float))
    return np.searchsorted(cum, rng.random(n) * cum[-1], side="right").astype(np.int16)


def pick_rows(rng: np.random.Generator, table, rows) -> np.ndarray:
    """One draw per element of rows, from the weights table[row]."""
    cum = np.cumsum(np.asarray(table, dtype=float), axis=1)[rows]
    u = rng.random(len(rows)) * cum[:, -1]
    return (u[:, None] >= cum[:, :-1]).sum(axis=1).astype(np.int16)


def lognorm(rng: np.random.Generator, median, sigma, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(np.asarray(sigma) * rng.standard_normal(n))


def width(n: int, minimum: int) -> int:
    return max(minimum, len(str(max(int(n), 1))))


def epoch(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days * DAY


def add_months(d: dt.date, k: int) -> dt.date:
    import calendar
    y, m = divmod(d.year * 12 + d.month - 1 + k, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def weekday(sec) -> np.ndarray:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (np.asarray(sec) // DAY + 3) % 7
