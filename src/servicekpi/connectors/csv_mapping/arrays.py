"""The vectorised path's arrays: per-row expression values (IVec), a block held by column (Cols), and the
pyarrow/numpy helpers the Block conversions share."""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servicekpi.connectors.csv_mapping.rows import UNSET
from servicekpi.connectors.csv_mapping.values import EXCEL_EPOCH

NONE, NUM, NAIVE, ZONED, UTC, UNSET_K, BAD = 0, 1, 2, 3, 4, 5, 7
TIMES = (NAIVE, ZONED, UTC)
US = 1_000_000
DAY_US = 86_400 * US
EPOCH = dt.datetime(1970, 1, 1)
MIN_US = (dt.datetime(1, 1, 1) - EPOCH) // dt.timedelta(microseconds=1)
MAX_US = (dt.datetime(9999, 12, 31, 23, 59, 59, 999999) - EPOCH) // dt.timedelta(microseconds=1)
EXCEL_US = (EXCEL_EPOCH - EPOCH) // dt.timedelta(microseconds=1)
STRPTIME_SAFE = re.compile(r"(?:[^%]|%[dmYHMSIp%])*")
NUMBER = r"^-?\d{1,15}(\.\d{1,15})?$"
NULL = pa.scalar(None, pa.string())


def _strptime_safe(f: str) -> bool:
    """A format whose canonical texts arrow parses as Python does (checked by printing them back)."""
    return f.isascii() and bool(STRPTIME_SAFE.fullmatch(f)) and all(d in f for d in ("%Y", "%m", "%d")) and \
        ("%I" in f) == ("%p" in f) and not ("%I" in f and "%H" in f)


FIELDS = {"d": ("(0[1-9]|[12][0-9]|3[01])", 2), "m": ("(0[1-9]|1[0-2])", 2), "Y": ("[0-9]{4}", 4),
          "H": ("([01][0-9]|2[0-3])", 2), "M": ("[0-5][0-9]", 2), "S": ("[0-5][0-9]", 2),
          "I": ("(0[1-9]|1[0-2])", 2), "p": ("(AM|PM)", 2), "%": ("%", 1)}


def _strict(fmt: str) -> tuple[str, int]:
    """A regex of fmt's canonical texts (a _strptime_safe format), and where its day of month starts."""
    rx, at, day_at, i = "^", 0, -1, 0
    while i < len(fmt):
        if fmt[i] == "%":
            pat, width = FIELDS[fmt[i + 1]]
            if fmt[i + 1] == "d":
                day_at = at
            rx, at, i = rx + pat, at + width, i + 2
        else:
            rx, at, i = rx + re.escape(fmt[i]), at + len(fmt[i].encode()), i + 1
    return rx + "$", day_at


def _match(a: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(a, pattern).fill_null(False).to_numpy(zero_copy_only=False)


def _valid(a: pa.Array) -> np.ndarray:
    return a.is_valid().to_numpy(zero_copy_only=False)


def stripped(a: pa.Array) -> pa.Array:
    """str.strip() or None, as Maker.cells (pyarrow trims the same whitespace as Python)."""
    t = pc.utf8_trim_whitespace(a)
    return pc.if_else(pc.equal(t, ""), NULL, t)


def _ints(a: pa.Array, start: int, stop: int) -> np.ndarray:
    return pc.cast(pc.utf8_slice_codeunits(a, start, stop), pa.int64()).to_numpy(zero_copy_only=False)


def _wall_us(t: dt.datetime) -> int:
    return (t.replace(tzinfo=None) - EPOCH) // dt.timedelta(microseconds=1)


class IVec:
    """Per-row values as the expressions see them: kind (NONE, NUM, a time kind, UNSET_K, BAD), the number,
    the time in microseconds (NAIVE and ZONED: wall time; UTC: the instant)."""

    def __init__(self, n: int, kind=None, num=None, us=None):
        self.kind = np.zeros(n, np.int8) if kind is None else kind
        self.num = np.zeros(n, np.float64) if num is None else num
        self.us = np.zeros(n, np.int64) if us is None else us

    def take(self, idx) -> IVec:
        return IVec(len(idx), self.kind[idx], self.num[idx], self.us[idx])

    def put(self, mask: np.ndarray, other: IVec) -> None:
        """Rows of mask from other (of full length)."""
        self.kind[mask], self.num[mask], self.us[mask] = other.kind[mask], other.num[mask], other.us[mask]

    @staticmethod
    def of(objs: list, zone) -> IVec:
        v = IVec(len(objs))
        for j, o in enumerate(objs):
            if o is UNSET:
                v.kind[j] = UNSET_K
            elif o is None:
                pass
            elif isinstance(o, dt.datetime):
                if o.tzinfo is None:
                    v.kind[j], v.us[j] = NAIVE, _wall_us(o)
                elif zone is not None and o.tzinfo is zone and o.fold == 0:
                    v.kind[j], v.us[j] = ZONED, _wall_us(o)
                elif o.utcoffset() == dt.timedelta(0):
                    v.kind[j], v.us[j] = UTC, _wall_us(o)
                else:
                    v.kind[j] = BAD
            elif isinstance(o, float) and np.isfinite(o):
                v.kind[j], v.num[j] = NUM, o
            else:  # an Invalid, an infinite number: left to the row-by-row code
                v.kind[j] = BAD
        return v


class Cols:
    """A block of source rows held by column: lines (numpy int64) and each source column's raw cells."""

    def __init__(self, lines: np.ndarray, kind: str, raw, width: int):
        self.lines, self.kind, self.n, self.width = lines, kind, len(lines), width
        self._raw, self._cache = raw, {}

    def raw(self, i: int) -> pa.Array:
        a = self._cache.get(i)
        if a is None:
            a = self._cache[i] = self._raw(i)
        return a

    @classmethod
    def rows(cls, block: list, width: int) -> Cols:
        """From (line, kind, cells) rows as the csv module reads them (a short row: missing cells empty);
        width: the header's (no column past it is read)."""
        lines = np.fromiter((r[0] for r in block), np.int64, len(block))
        return cls(lines, block[0][1],
                   lambda i: pa.array([c[i] if i < len(c) else "" for _, _, c in block], pa.string()), width)

    @classmethod
    def table(cls, lines: np.ndarray, t: pa.Table, kind: str = "line") -> Cols:
        def raw(i: int) -> pa.Array:
            return t.column(i).combine_chunks() if i < t.num_columns else pa.array([""] * t.num_rows, pa.string())
        return cls(lines, kind, raw, t.num_columns)

    @classmethod
    def concat(cls, pieces: list[Cols]) -> Cols:
        if len(pieces) == 1:
            return pieces[0]
        return cls(np.concatenate([p.lines for p in pieces]), pieces[0].kind,
                   lambda i: pa.concat_arrays([p.raw(i) for p in pieces]), pieces[0].width)

    def take(self, idx: np.ndarray) -> Cols:
        ind = pa.array(idx, pa.int64())
        return Cols(self.lines[idx], self.kind, lambda i: self.raw(i).take(ind), self.width)

    def materialize(self) -> Cols:
        """The same rows holding their own arrays (a lazy Cols keeps the blocks it was cut from alive)."""
        arrays = [self.raw(i) for i in range(self.width)]
        return Cols(self.lines.copy(), self.kind, lambda i: arrays[i], self.width)

    def slice(self, start: int, stop: int) -> Cols:
        return self.take(np.arange(start, min(stop, self.n)))
