"""Rows of `--source csv`: the mapping's columns made from a block of source rows (mapped.py reads them).

Row holds the one-row rules. Two ways use them on a block:
- Maker.vblock (the default): the block held by column (Cols), converted with pyarrow.compute and numpy
  where a vectorised conversion reads a value exactly as Row does, else by Row once per distinct
  combination of the column's source cells; expression rows the arrays cannot do are made whole by Row.
  See "the vectorised path" below.
- Maker.block (mapped.VECTOR = False, the reference the tests and bench/mapped_csv.py compare against):
  each distinct combination of a column's cells converted once per block, expressions row by row.
A column's value depends only on the source cells it names (and the file's settings). The notes (a value
not in a map, an unreadable date) are counted per row, with the row's line, in the same order both ways.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pyarrow as pa

from servicekpi.connectors.mapping_config import ColumnSpec, FileSpec, TableSpec
from servicekpi.connectors.mapping_values import (
    Invalid,
    evaluate,
    localize,
    number_text,
    parse_clock,
    parse_duration,
    parse_time,
    show_time,
)
from servicekpi.ingest.load import Batch

TEMPLATE = re.compile(r"\{([^{}]+)\}")
UNSET = object()


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.casefold()).strip("_")


class Maker:
    """Makes one table's rows from blocks of one file's rows."""

    def __init__(self, run, f, spec: FileSpec, tz: str | None, t: TableSpec, index: dict, by_norm: dict):
        self.run, self.f, self.file, self.spec, self.tz, self.t = run, f, f.name, spec, tz, t
        self.index, self.by_norm = index, by_norm
        self.columns = sorted(t.columns, key=lambda c: c.kind == "expr")  # expressions after what they use
        self.present = [index.get(w) for w in t.when_present]

    @staticmethod
    def inputs(c: ColumnSpec) -> list[str]:
        """The source cells a (non-expression) column reads; "_line" = the row's line number."""
        names = []
        if c.kind == "column":
            names.append(c.source)
        elif c.kind == "date":
            names += [c.source] + ([c.time] if c.time else [])
        elif c.kind == "template":
            names += TEMPLATE.findall(c.source)
        if c.when:
            names.append(c.when.column)
        return list(dict.fromkeys(names))

    def cells(self, block: list, name: str) -> list:
        i = self.index.get(name)
        if i is None:
            return [None] * len(block)
        return [(cells[i].strip() or None) if i < len(cells) else None for _, _, cells in block]

    def block(self, block: list):
        present = self.present
        if present:
            keep = [r for r in block if all(i is not None and i < len(r[2]) and r[2][i].strip() for i in present)]
            if len(keep) < len(block):
                self.run.skipped[(self.file, self.t.table, tuple(self.t.when_present))] += len(block) - len(keep)
            block = keep
        if not block:
            return
        lines = [line for line, _, _ in block]
        columns: dict[str, list] = {}
        internal: dict[str, list] = {}
        got: dict[str, list] = {}
        for c in self.columns:
            if c.kind == "expr":
                continue
            names = self.inputs(c)
            if c.kind == "column" and c.map is None and not c.duration and not c.when and \
                    c.type not in ("timestamp", "date", "number", "integer"):
                # a plain copy (ids, names, booleans the import reads): the cells as they are
                raw = got.setdefault(c.source, self.cells(block, c.source))
                columns[c.target] = [c.default if v is None else v for v in raw]
                internal[c.target] = [UNSET if v is not None or c.default is not None else None for v in raw]
                continue
            lists = [lines if n == "_line" else got.setdefault(n, self.cells(block, n)) for n in names]
            memo: dict[tuple, tuple] = {}
            out, ins = [], []
            fast = self.date_parts(c) if c.kind == "date" and not c.when and c.time != c.source else None
            for r, key in enumerate(zip(*lists) if lists else [()] * len(block)):
                hit = memo.get(key)
                if hit is None:
                    hit = memo[key] = (fast and self.fast_date(c, fast, key)) or \
                        self.probe(c, dict(zip(names, key)), lines[r])
                out.append(hit[0])
                ins.append(hit[1])
                for reason, raw in hit[2]:
                    self.run.problem(self.file, c.where, reason,
                                     f"line {lines[r]} '{raw}'" if raw is not None else f"line {lines[r]}")
            columns[c.target], internal[c.target] = out, ins
        exprs = [c for c in self.columns if c.kind == "expr"]
        if exprs:
            for c in exprs:
                columns[c.target] = []
            made = [c.target for c in self.columns if c.kind != "expr"]
            for r, (line, _, cells) in enumerate(block):
                row = Row(self.run, self.file, line, self.spec, self.tz, self.getter(cells))
                row.internal = {k: internal[k][r] for k in made if internal[k][r] is not UNSET}
                vals: dict = {}
                for c in exprs:
                    row.one(c, vals)
                    columns[c.target].append(vals[c.target])
        data = pa.table({c.target: pa.array(columns[c.target], pa.string()) for c in self.t.columns})
        yield Batch(self.t.table, str(self.f), data, pa.array(lines, pa.int64()), block[0][1])

    def date_parts(self, c: ColumnSpec) -> tuple[dict, dict, ZoneInfo | None]:
        """Caches of a date column for the block: date text -> datetime, clock text -> timedelta."""
        return {}, {}, ZoneInfo(self.tz) if self.tz else None

    def fast_date(self, c: ColumnSpec, parts: tuple, key: tuple) -> tuple | None:
        """Row.date without its per-row overhead; None (-> Row.date, with its notes) for an empty or unreadable
        date or clock, an aware date, or a wall time skipped by a DST change."""
        dates, clocks, zone = parts
        d, clock = key[0], key[1] if c.time else None
        if d is None:
            return None
        t = dates.get(d)
        if t is None:
            try:
                t = dates[d] = parse_time(d, c.formats or self.spec.date_format)
            except Invalid:
                return None
        if t.tzinfo is not None:
            return None
        if clock is not None:
            step = clocks.get(clock)
            if step is None:
                try:
                    step = clocks[clock] = parse_clock(clock, c.time_format)
                except Invalid:
                    return None
            t = t.replace(hour=0, minute=0, second=0, microsecond=0) + step
        if zone is not None:  # localize(), without its cache: these wall times are mostly distinct
            aware = t.replace(tzinfo=zone, fold=0)
            if aware.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None) != t:
                return None
            t = aware
        return show_time(t, date_only=c.type == "date"), t, []

    def getter(self, cells: list):
        index, by_norm = self.index, self.by_norm

        def get(name: str, bare: bool = False) -> str | None:
            i = index.get(name)
            if i is None and bare:
                i = by_norm.get(_norm(name))
            v = cells[i].strip() if i is not None and i < len(cells) else ""
            return v or None
        return get

    def probe(self, c: ColumnSpec, values: dict, line: int) -> tuple:
        """(text, internal value or UNSET, [(note reason, raw)]) of column c for these source cells."""
        row = Probe(self.run, self.file, line, self.spec, self.tz, lambda name, bare=False: values.get(name))
        out: dict = {}
        row.one(c, out)
        return out[c.target], row.internal.get(c.target, UNSET), row.notes


class Row:
    """One source row made into one canonical row of one table."""

    def __init__(self, run, file: str, line: int, spec: FileSpec, tz: str | None, get):
        self.run, self.file, self.line, self.spec, self.tz, self.get = run, file, line, spec, tz, get
        self.internal: dict[str, object] = {}

    def one(self, c: ColumnSpec, out: dict) -> None:
        try:
            out[c.target] = self.value(c)
        except Invalid as e:
            raw = self.raw_of(c)
            self.note(c, str(e), raw)
            # passed on as it is: the import quarantines the row, located, with this value
            out[c.target] = raw if raw is not None else f"({c.source}: {e})"
            self.internal[c.target] = e

    def note(self, c: ColumnSpec, reason: str, raw: str | None) -> None:
        self.run.problem(self.file, c.where, reason,
                         f"line {self.line} '{raw}'" if raw is not None else f"line {self.line}")

    def raw_of(self, c: ColumnSpec) -> str | None:
        if c.kind == "column":
            return self.get(c.source)
        if c.kind == "date":
            d, t = self.get(c.source), (self.get(c.time) if c.time else None)
            return f"{d} {t}" if d and t else d
        return None

    def when_ok(self, c: ColumnSpec) -> bool:
        w = c.when
        v = self.get(w.column)
        if w.values is None:
            hit = v is not None
        else:
            hit = (v or "").casefold() in w.values
        return hit != w.negate

    def value(self, c: ColumnSpec) -> str | None:
        if c.when and not self.when_ok(c):
            self.internal[c.target] = None
            return None
        if c.kind == "expr":
            return self.expr(c)
        if c.kind == "date":
            return self.date(c)
        if c.kind == "value":
            raw = c.value
        elif c.kind == "template":
            parts = {name: str(self.line) if name == "_line" else self.get(name)
                     for name in TEMPLATE.findall(c.source)}
            raw = None if any(v is None for v in parts.values()) else \
                TEMPLATE.sub(lambda m: parts[m.group(1)], c.source)
        else:
            raw = self.get(c.source)
        return self.finish(c, raw)

    def finish(self, c: ColumnSpec, raw: str | None) -> str | None:
        """The rest of value() once the source text is known: default, map, type."""
        if raw is None:
            raw = c.default
            if raw is None:
                self.internal[c.target] = None
                return None
        elif c.map is not None:
            key = raw.strip().casefold()
            if key in c.map:
                raw = c.map[key]
            elif c.other is not None:
                raw = c.other
            else:
                self.note(c, "not in the map (passed on as they are)", raw)
            if raw is None:
                self.internal[c.target] = None
                return None
        return self.typed(c, raw)

    def typed(self, c: ColumnSpec, raw: str) -> str:
        if c.type in ("timestamp", "date"):
            formats = c.formats or self.spec.date_format
            try:
                t = localize(parse_time(raw, formats), self.tz)
            except Invalid:
                if formats or self.tz:
                    raise
                self.internal[c.target] = None  # left to the import's own ISO 8601 reading
                return raw
            self.internal[c.target] = t
            return show_time(t, date_only=c.type == "date")
        if c.duration:
            secs = parse_duration(raw, c.duration)
            self.internal[c.target] = secs
            return number_text(secs)
        if c.type in ("number", "integer"):
            try:
                self.internal[c.target] = float(raw)
            except ValueError:
                self.internal[c.target] = None
        return raw

    def date(self, c: ColumnSpec) -> str | None:
        d = self.get(c.source)
        clock = self.get(c.time) if c.time else None
        if d is None:
            self.internal[c.target] = None
            return None
        formats = c.formats or self.spec.date_format
        t = parse_time(d, formats)
        if clock is not None:
            t = t.replace(hour=0, minute=0, second=0, microsecond=0) + parse_clock(clock, c.time_format)
        t = localize(t, self.tz)
        self.internal[c.target] = t
        return show_time(t, date_only=c.type == "date")

    def lookup(self, name: str, bracket: bool):
        if not bracket and name in self.internal:
            v = self.internal[name]
            if isinstance(v, Invalid):
                raise Invalid(f"uses {name}, which is invalid on this line")
            return v
        raw = self.get(name, bare=not bracket)
        if raw is None:
            return None
        try:
            return float(raw)
        except ValueError:
            pass
        try:
            return localize(parse_time(raw, self.spec.date_format), self.tz)
        except Invalid:
            raise Invalid(f"[{name}] '{raw}' is neither a number nor a time") from None

    def expr(self, c: ColumnSpec) -> str | None:
        v = evaluate(c.expr, self.lookup)
        self.internal[c.target] = v
        if v is None:
            return None
        if c.type in ("timestamp", "date"):
            if not isinstance(v, dt.datetime):
                raise Invalid("gives a number, not a time")
            return show_time(v, date_only=c.type == "date")
        if isinstance(v, dt.datetime):
            if c.type in ("number", "integer"):
                raise Invalid("gives a time, not a number")
            return show_time(v)
        return number_text(v)


class Probe(Row):
    """A Row whose notes are kept (to be counted once per source row that has these cells)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.notes: list[tuple[str, str | None]] = []

    def note(self, c: ColumnSpec, reason: str, raw: str | None) -> None:
        self.notes.append((reason, raw))


# ---- the vectorised path ---------------------------------------------------------------------
#
# Maker.vblock converts a block held by column (Cols) with pyarrow.compute and numpy. Each column is
# made by a vectorised fast path where one applies (canonical date and time texts, H:MM:SS durations,
# numbers, plain copies, templates), checked to give what the row-by-row code gives; every other row goes
# through the row-by-row code (Probe) once per distinct combination of its source cells, the result
# broadcast with a take. Expressions are evaluated on arrays; a row whose expression needs anything the
# arrays do not carry (an error, a DST gap, a non-integral microsecond, mixed time kinds) is made again
# whole by the row-by-row code, which also writes its notes. Notes are counted per row, in row order.

import numpy as np  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from servicekpi.connectors.mapping_values import DURATIONS, EXCEL_EPOCH  # noqa: E402

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


class Block:
    """One Cols block being made into one table's rows (Maker.vblock)."""

    def __init__(self, mk: Maker, b: Cols):
        self.mk, self.b, self.n, self.lines = mk, b, b.n, b.lines
        self._cells: dict = {}
        self._src: dict = {}
        self.zone = ZoneInfo(mk.tz) if mk.tz else None

    # source cells
    def col(self, name: str, bare: bool = False) -> int | None:
        i = self.mk.index.get(name)
        if i is None and bare:
            i = self.mk.by_norm.get(_norm(name))
        return i

    def cell(self, name: str, bare: bool = False) -> pa.Array:
        i = self.col(name, bare)
        if i is None:
            return pa.nulls(self.n, pa.string())
        a = self._cells.get(i)
        if a is None:
            a = self._cells[i] = stripped(self.b.raw(i))
        return a

    def getter(self, r: int):
        def get(name: str, bare: bool = False) -> str | None:
            return self.cell(name, bare)[r].as_py() if self.col(name, bare) is not None else None
        return get

    def problem(self, c: ColumnSpec, r: int, reason: str, raw) -> None:
        line = int(self.lines[r])
        self.mk.run.problem(self.mk.file, c.where, reason, f"line {line} '{raw}'" if raw is not None else f"line {line}")

    # distinct combinations of source cells, each made once by the row-by-row code
    def distinct(self, names: list[str], rows: np.ndarray):
        """(inverse (position in rows -> key number), [values dict of each key], [first row of each key])."""
        codes = np.zeros(len(rows), np.int64)
        parts = []
        for name in names:
            if name == "_line":
                dic, idx = np.unique(self.lines[rows], return_inverse=True)
                dic = [int(x) for x in dic]
            else:
                d = pc.dictionary_encode(self.cell(name).take(pa.array(rows, pa.int64())), null_encoding="encode")
                idx = d.indices.to_numpy(zero_copy_only=False).astype(np.int64)
                dic = d.dictionary.to_pylist()
            parts.append((name, dic, idx))
            codes = np.unique(codes * (len(dic) + 1) + idx, return_inverse=True)[1].astype(np.int64)
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        keys = [{name: dic[idx[p]] for name, dic, idx in parts if name != "_line"} for p in first]
        return inverse.reshape(-1), keys, [int(rows[p]) for p in first]

    def probe(self, c: ColumnSpec, rows: np.ndarray, zone_iv: bool):
        """Column c on these rows by the row-by-row code, once per distinct combination of its inputs; the
        notes counted per row. Returns (texts, IVec or None) of len(rows)."""
        inverse, keys, firsts = self.distinct(Maker.inputs(c), rows)
        texts, objs, noted = [], [], []
        for key, r0 in zip(keys, firsts):
            text, obj, notes = self.mk.probe(c, key, int(self.lines[r0]))
            texts.append(text)
            objs.append(obj)
            noted.append(notes)
        if any(noted):
            has = np.array([bool(x) for x in noted])[inverse]
            for p in np.flatnonzero(has):
                for reason, raw in noted[inverse[p]]:
                    self.problem(c, int(rows[p]), reason, raw)
        ind = pa.array(inverse, pa.int64())
        out = pa.array(texts, pa.string()).take(ind)
        return out, (IVec.of(objs, self.zone).take(inverse) if zone_iv else None)

    def when(self, c: ColumnSpec) -> np.ndarray:
        w = c.when
        d = pc.dictionary_encode(self.cell(w.column), null_encoding="encode")
        oks = [((v is not None) if w.values is None else (v or "").casefold() in w.values) != w.negate
               for v in d.dictionary.to_pylist()]
        return np.array(oks, bool)[d.indices.to_numpy(zero_copy_only=False).astype(np.int64)]

    # vectorised conversions: (ok mask, ...) with ok False where the row-by-row code must decide
    def times(self, s: pa.Array, formats: list[str] | None):
        """parse_time(s, formats) where the first format reads s canonically: (ok, kind, us)."""
        n = len(s)
        ok, kind, us = np.zeros(n, bool), np.full(n, NAIVE, np.int8), np.zeros(n, np.int64)
        f = (formats or ["iso"])[0]
        if f == "iso":
            norm = pc.replace_substring_regex(s, r"^(\d{4}-\d\d-\d\d)T", r"\1 ")
            # a time with a Z: fromisoformat reads it with +00:00, an instant in UTC
            zulu = _match(norm, r"^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?[zZ]$")
            if zulu.any():
                norm = pc.if_else(pa.array(zulu), pc.utf8_slice_codeunits(norm, 0, -1), norm)
            for pat, fmt in ((r"^\d{4}-\d\d-\d\d$", "%Y-%m-%d"), (r"^\d{4}-\d\d-\d\d \d\d:\d\d$", "%Y-%m-%d %H:%M"),
                             (r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", "%Y-%m-%d %H:%M:%S")):
                m = _match(norm, pat)
                if m.any():
                    got, secs = self._strptime(pc.if_else(pa.array(m), norm, NULL), fmt)
                    ok |= got
                    us[got] = secs[got] * US
            kind[zulu] = UTC
        elif f in ("excel", "epoch", "epoch_ms"):
            pat = {"excel": r"^\d{1,7}(\.\d{1,15})?$", "epoch": r"^\d{1,10}$", "epoch_ms": r"^\d{1,12}$"}[f]
            m = _match(s, pat)
            if m.any():
                x = pc.cast(pc.if_else(pa.array(m), s, "0"), pa.float64()).to_numpy(zero_copy_only=False)
                if f == "excel":
                    m &= x < 2_958_465
                    us = np.where(m, EXCEL_US + np.rint(x * 86_400_000).astype(np.int64) * 1000, 0)
                elif f == "epoch":
                    us = np.where(m, x.astype(np.int64) * US, 0)
                    kind[:] = UTC
                else:
                    m &= x < 2 ** 31 * 1000
                    us = np.where(m, x.astype(np.int64) * 1000, 0)
                    kind[:] = UTC
                ok = m
        elif _strptime_safe(f):
            ok, secs = self._strptime(s, f)
            us = secs * US
        return ok, kind, us

    @staticmethod
    def _strptime(s: pa.Array, fmt: str):
        """Texts in fmt's canonical form (every field zero-padded, in range, nothing else), which arrow and
        Python's strptime read alike, but for a day past the month's end (31/02): arrow rolls it over into
        the next month, Python rejects it, so the parsed day must be the text's."""
        rx, day_at = _strict(fmt)
        ok = _match(s, rx)
        t = pc.strptime(pc.if_else(pa.array(ok), s, NULL), format=fmt, unit="s", error_is_null=True)
        ok &= _valid(t)
        secs = pc.cast(t, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        if ok.any():
            day = pc.day(t).fill_null(0).to_numpy(zero_copy_only=False)
            ok &= day == _ints(pc.if_else(pa.array(ok), s, "0" * (day_at + 2)), day_at, day_at + 2)
        ok &= secs * US >= MIN_US
        return ok, secs

    def clocks(self, s: pa.Array, fmt: str | None):
        """parse_clock for HH:MM:SS / HH:MM texts: (ok, seconds)."""
        n = len(s)
        ok, secs = np.zeros(n, bool), np.zeros(n, np.int64)
        for pat, f, three in ((r"^\d\d:\d\d:\d\d$", "%H:%M:%S", True), (r"^\d\d:\d\d$", "%H:%M", False)):
            if fmt not in (None, f):
                continue
            m = _match(s, pat)
            if not m.any():
                continue
            a = pc.if_else(pa.array(m), s, "00:00:00")
            h, mi = _ints(a, 0, 2), _ints(a, 3, 5)
            sec = _ints(a, 6, 8) if three else np.zeros(n, np.int64)
            m &= (h < 24) & (mi < 60) & (sec < 60)
            ok |= m
            secs = np.where(m, h * 3600 + mi * 60 + sec, secs)
        return ok, secs

    def localize(self, ok: np.ndarray, kind: np.ndarray, us: np.ndarray):
        """Naive wall times -> ZONED in the file's zone (ok False for a time a DST change skips); also the
        instants (UTC microseconds) of the ZONED rows, for show()."""
        if self.zone is None:
            return ok, None
        m = ok & (kind == NAIVE)
        inst = None
        if m.any():
            wall = pa.array(np.where(m, us, 0), pa.timestamp("us"))
            at = pc.assume_timezone(wall, timezone=self.mk.tz, ambiguous="earliest", nonexistent="earliest")
            same = pc.equal(pc.local_timestamp(at), wall).to_numpy(zero_copy_only=False)
            ok = ok & (~m | same)
            kind[m & same] = ZONED
            inst = pc.cast(pc.cast(at, pa.timestamp("us")), pa.int64()).to_numpy(zero_copy_only=False)
        return ok, inst

    def show(self, kind: np.ndarray, us: np.ndarray, date_only: bool, inst: np.ndarray | None = None):
        """show_time of times: (texts (null for other kinds), bad mask: a ZONED wall time in a DST gap).
        inst: the instants of the ZONED rows when localize() just made them (no gap then)."""
        n = len(kind)
        bad = np.zeros(n, bool)
        z = kind == ZONED
        utc = np.where(kind == UTC, us, 0)
        if z.any() and not date_only and inst is not None:
            utc = np.where(z, inst, utc)
        elif z.any() and not date_only:
            wall = pa.array(np.where(z, us, 0), pa.timestamp("us"))
            inst = pc.assume_timezone(wall, timezone=self.mk.tz, ambiguous="earliest", nonexistent="earliest")
            bad = z & ~pc.equal(pc.local_timestamp(inst), wall).to_numpy(zero_copy_only=False)
            utc = np.where(z, pc.cast(pc.cast(inst, pa.timestamp("us")), pa.int64()).to_numpy(zero_copy_only=False),
                           utc)
        good = np.isin(kind, TIMES) & ~bad
        if date_only:
            at = np.where(kind == UTC, utc, us)
            text = pc.utf8_slice_codeunits(pc.cast(pa.array(np.where(good, at, 0) // US, pa.timestamp("s")),
                                                   pa.string()), 0, 10)
        else:
            aware = np.isin(kind, (ZONED, UTC))
            at = np.where(aware, utc, us)
            at = np.where(good, at, 0)
            secs, frac = np.divmod(at, US)
            naive_t = pc.cast(pa.array(secs, pa.timestamp("s")), pa.string())  # YYYY-MM-DD HH:MM:SS
            text = pc.if_else(pa.array(aware), pc.utf8_replace_slice(naive_t, 10, 11, "T"), naive_t) \
                if aware.any() else naive_t
            if frac.any():
                f = pc.binary_join_element_wise(".", pc.utf8_lpad(pc.cast(pa.array(frac), pa.string()), 6, "0"), "")
                text = pc.if_else(pa.array(frac != 0), pc.binary_join_element_wise(text, f, ""), text)
            text = pc.if_else(pa.array(aware), pc.binary_join_element_wise(text, "Z", ""), text)
        return pc.if_else(pa.array(good), text, NULL), bad

    def numbers(self, x: np.ndarray, m: np.ndarray) -> pa.Array:
        """number_text of x where m (null elsewhere)."""
        whole = m & (x == np.trunc(x)) & (np.abs(x) < 2 ** 53)
        text = pc.cast(pa.array(np.where(whole, x, 0).astype(np.int64)), pa.string())
        rest = m & ~whole
        if rest.any():
            vals, inv = np.unique(x[rest], return_inverse=True)
            shown = pa.array([number_text(float(v)) for v in vals], pa.string()).take(pa.array(inv.reshape(-1)))
            full = np.full(len(x), -1, np.int64)
            full[rest] = np.arange(int(rest.sum()))
            text = pc.if_else(pa.array(rest), shown.take(pa.array(np.where(rest, full, 0))), text)
        return pc.if_else(pa.array(m), text, NULL)

    def floats(self, s: pa.Array):
        """float(text) for plain decimal texts: (ok, values)."""
        m = _match(s, NUMBER)
        x = pc.cast(pc.if_else(pa.array(m), s, "0"), pa.float64()).to_numpy(zero_copy_only=False) if m.any() \
            else np.zeros(len(s))
        return m, x

    # columns
    def column(self, c: ColumnSpec, want_iv: bool):
        """(texts, IVec or None) of a non-expression column."""
        n = self.n
        if c.kind == "column" and c.map is None and not c.duration and not c.when and \
                c.type not in ("timestamp", "date", "number", "integer"):
            raw = self.cell(c.source)
            iv = None
            if want_iv:
                iv = IVec(n)
                iv.kind[:] = UNSET_K
                if c.default is None:
                    iv.kind[~_valid(raw)] = NONE
            return (raw if c.default is None else raw.fill_null(c.default)), iv
        fast = self.fast(c)
        if fast is None:
            return self.probe(c, np.arange(n), want_iv)
        done, text, iv = fast
        if c.when:
            ok = self.when(c)
            done = done & ok
        rest = np.flatnonzero(~done)
        if len(rest):
            t2, iv2 = self.probe(c, rest, want_iv)
            pos = np.zeros(n, np.int64)
            pos[rest] = np.arange(len(rest))
            text = pc.if_else(pa.array(done), text, t2.take(pa.array(pos)))
            if want_iv:
                iv.put(~done, iv2.take(pos))
        return text, (iv if want_iv else None)

    def fast(self, c: ColumnSpec):
        """(done, texts, IVec) of the rows a vectorised conversion makes (when not yet applied), or None."""
        n = self.n
        iv = IVec(n)
        if c.kind == "date" and c.time != c.source:
            d = self.cell(c.source)
            ok, kind, us = self.times(d, c.formats or self.mk.spec.date_format)
            empty = ~_valid(d)
            if c.time:
                t = self.cell(c.time)
                has = _valid(t)
                cok, secs = self.clocks(t, c.time_format)
                ok &= ~has | (cok & (kind == NAIVE))
                us = np.where(has, np.floor_divide(us, DAY_US) * DAY_US + secs * US, us)
            ok, inst = self.localize(ok, kind, us)
            text, bad = self.show(np.where(ok, kind, NONE), us, c.type == "date", inst)
            ok &= ~bad
            iv.kind, iv.us = np.where(ok, kind, NONE).astype(np.int8), us
            return ok | empty, text, iv
        if c.kind != "column" or c.map is not None:
            if c.kind == "template" and c.map is None and not c.duration and c.type not in ("timestamp", "date"):
                return self.template(c)
            return None
        raw = self.cell(c.source)
        empty = ~_valid(raw)
        nodefault = empty & (c.default is None)
        if c.type in ("timestamp", "date") and not c.duration:
            ok, kind, us = self.times(raw, c.formats or self.mk.spec.date_format)
            ok, inst = self.localize(ok, kind, us)
            text, bad = self.show(np.where(ok, kind, NONE), us, c.type == "date", inst)
            ok &= ~bad
            iv.kind, iv.us = np.where(ok, kind, NONE).astype(np.int8), us
            return ok | nodefault, text, iv
        if c.duration:
            if c.duration == "h:mm:ss":
                m = _match(raw, r"^\d{1,9}:\d{1,9}(:\d{1,9})?$")
                a = pc.if_else(pa.array(m), raw, "0:0")
                parts = pc.split_pattern(a, ":")
                flat = pc.cast(pc.list_flatten(parts), pa.float64()).to_numpy(zero_copy_only=False)
                size = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
                start = np.concatenate(([0], np.cumsum(size)[:-1]))
                three = size == 3
                first = flat[start]
                second = flat[np.minimum(start + 1, len(flat) - 1)]
                third = flat[np.minimum(start + 2, len(flat) - 1)]
                x = np.where(three, (first * 60 + second) * 60 + third, first * 60 + second)
            else:
                m, x = self.floats(raw)
                x = x * DURATIONS[c.duration]
            m &= np.isfinite(x)
            text = self.numbers(x, m)
            iv.kind, iv.num = np.where(m, NUM, NONE).astype(np.int8), x
            return m | nodefault, text, iv
        if c.type in ("number", "integer"):
            full = raw if c.default is None else raw.fill_null(c.default)
            m, x = self.floats(full)
            iv.kind, iv.num = np.where(m, NUM, NONE).astype(np.int8), x
            # other texts: float() by the row-by-row code, once per distinct text
            return m | ~_valid(full), full, iv
        return None

    def template(self, c: ColumnSpec):
        pieces = []
        pos = 0
        for m in TEMPLATE.finditer(c.source):
            if m.start() > pos:
                pieces.append(c.source[pos:m.start()])
            name = m.group(1)
            pieces.append(pa.array(self.lines.astype(str), pa.string()) if name == "_line" else self.cell(name))
            pos = m.end()
        if pos < len(c.source):
            pieces.append(c.source[pos:])
        if not any(isinstance(p, pa.Array) for p in pieces):
            return None
        arrays = [p if isinstance(p, pa.Array) else pa.array([p] * self.n, pa.string()) for p in pieces]
        joined = pc.binary_join_element_wise(*arrays, "") if len(arrays) > 1 else arrays[0]
        full = joined if c.default is None else joined.fill_null(c.default)
        iv = IVec(self.n)
        done = np.ones(self.n, bool)
        if c.type in ("number", "integer"):
            m, x = self.floats(full)
            iv.kind, iv.num = np.where(m, NUM, NONE).astype(np.int8), x
            done = m | ~_valid(full)
        else:
            iv.kind = np.where(_valid(full), UNSET_K, NONE).astype(np.int8)
        return done, full, iv

    # expressions
    def source(self, name: str, bare: bool) -> IVec:
        """Row.lookup of a source column: a number, else a time in the file's date_format, else invalid."""
        i = self.col(name, bare)
        if i is None:
            return IVec(self.n)
        hit = self._src.get(i)
        if hit is not None:
            return hit
        s = self.cell(name, bare)
        v = IVec(self.n)
        m, x = self.floats(s)
        v.kind[m], v.num[m] = NUM, x[m]
        rest = _valid(s) & ~m
        if rest.any():
            ok, kind, us = self.times(s, self.mk.spec.date_format)
            ok &= rest
            ok, _ = self.localize(ok, kind, us)
            v.kind[ok], v.us[ok] = kind[ok], us[ok]
            rest &= ~ok
        if rest.any():
            rows = np.flatnonzero(rest)
            d = pc.dictionary_encode(s.take(pa.array(rows)))
            objs = []
            for raw in d.dictionary.to_pylist():
                try:
                    objs.append(float(raw))
                except ValueError:
                    try:
                        objs.append(localize(parse_time(raw, self.mk.spec.date_format), self.mk.tz))
                    except Invalid as e:
                        objs.append(e)  # BAD: the row-by-row code raises it, with its reason
            got = IVec.of(objs, self.zone).take(d.indices.to_numpy(zero_copy_only=False).astype(np.int64))
            v.kind[rows], v.num[rows], v.us[rows] = got.kind, got.num, got.us
        self._src[i] = v
        return v

    def evaluate(self, node, known: dict) -> IVec:
        k = node[0]
        if k == "num":
            return IVec(self.n, np.full(self.n, NUM, np.int8), np.full(self.n, node[1]))
        if k == "ref":
            name, bracket = node[1], node[2]
            if not bracket and name in known:
                iv = known[name]
                unset = iv.kind == UNSET_K
                if unset.any():
                    iv = IVec(self.n, iv.kind.copy(), iv.num.copy(), iv.us.copy())
                    iv.put(unset, self.source(name, True))
                return iv
            return self.source(name, not bracket)
        return self.binary(node[1], self.evaluate(node[2], known), self.evaluate(node[3], known))

    def binary(self, op: str, a: IVec, b: IVec) -> IVec:
        n = self.n
        r = IVec(n, np.full(n, BAD, np.int8))
        bad = (a.kind == BAD) | (b.kind == BAD)
        none = ~bad & ((a.kind == NONE) | (b.kind == NONE))
        r.kind[none] = NONE
        live = ~bad & ~none
        an, bn = live & (a.kind == NUM), live & (b.kind == NUM)
        at, bt = live & np.isin(a.kind, TIMES), live & np.isin(b.kind, TIMES)
        with np.errstate(all="ignore"):
            m = an & bn
            if op == "/":
                m &= b.num != 0  # Python: divides by zero
            x = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[op](a.num, b.num)
            m &= np.isfinite(x)
            r.kind[m], r.num[m] = NUM, x[m]
            if op in "+-":
                m = at & bn
                step, exact = self._micro(b.num)
                m &= exact
                us = a.us + step if op == "+" else a.us - step
                m &= (us >= MIN_US) & (us <= MAX_US)
                r.kind[m], r.us[m] = a.kind[m], us[m]
            if op == "+":
                m = an & bt
                step, exact = self._micro(a.num)
                us = b.us + step
                m &= exact & (us >= MIN_US) & (us <= MAX_US)
                r.kind[m], r.us[m] = b.kind[m], us[m]
            if op == "-":
                m = at & bt & (a.kind == b.kind)
                r.kind[m], r.num[m] = NUM, (a.us[m] - b.us[m]) / US
        return r

    @staticmethod
    def _micro(x: np.ndarray):
        """timedelta(seconds=x) in microseconds where it is exact (no fraction of a microsecond)."""
        with np.errstate(all="ignore"):
            ok = np.isfinite(x) & (np.abs(x) < 1e12)
            xs = np.where(ok, x, 0.0)
            whole = np.trunc(xs)
            frac = (xs - whole) * US
            ok &= frac == np.trunc(frac)
            return whole.astype(np.int64) * US + frac.astype(np.int64), ok

    def expr_text(self, c: ColumnSpec, v: IVec):
        """(texts, kinds with BAD where Python raises or must decide) of an expression's values."""
        kind = v.kind.copy()
        is_time = np.isin(kind, TIMES)
        if c.type in ("timestamp", "date"):
            kind[kind == NUM] = BAD
            text, bad = self.show(kind, v.us, c.type == "date")
        else:
            if c.type in ("number", "integer"):
                kind[is_time] = BAD
            text, bad = self.show(kind, v.us, False)
            text = pc.if_else(pa.array(kind == NUM), self.numbers(v.num, kind == NUM), text)
        kind[bad] = BAD
        return text, kind


def _bare_refs(mk: Maker) -> set[str]:
    """The bare names the table's expressions use (a made column's value, else a source column)."""
    from servicekpi.connectors.mapping_values import refs
    return {name for c in mk.columns if c.kind == "expr" and c.expr is not None
            for name, bracket in refs(c.expr) if not bracket}


def _vblock(self: Maker, b: Cols):
    present = self.present
    if present:
        keep = np.ones(b.n, bool)
        for i in present:
            if i is None:
                keep[:] = False
            else:
                keep &= _valid(stripped(b.raw(i)))
        k = int(keep.sum())
        if k < b.n:
            self.run.skipped[(self.file, self.t.table, tuple(self.t.when_present))] += b.n - k
            b = b.take(np.flatnonzero(keep))
    if not b.n:
        return
    v = Block(self, b)
    refd = _bare_refs(self)
    columns: dict[str, pa.Array] = {}
    known: dict[str, IVec] = {}
    made = [c for c in self.columns if c.kind != "expr"]
    for c in made:
        text, iv = v.column(c, c.target in refd)
        columns[c.target] = text
        if iv is not None:
            known[c.target] = iv
    exprs = [c for c in self.columns if c.kind == "expr"]
    if exprs:
        redo = np.zeros(b.n, bool)
        for c in exprs:
            val = v.evaluate(c.expr, known)
            if c.when:
                off = ~v.when(c)
                val = IVec(b.n, val.kind.copy(), val.num, val.us)
                val.kind[off] = NONE
            text, kind = v.expr_text(c, val)
            redo |= kind == BAD
            known[c.target] = IVec(b.n, kind, val.num, val.us)
            columns[c.target] = text
        rows = np.flatnonzero(redo)
        if len(rows):  # the row-by-row code, whole rows: the exact values and notes
            fixed: dict[str, list] = {c.target: [] for c in exprs}
            for r in rows:
                r = int(r)
                line = int(b.lines[r])
                get = v.getter(r)
                internal = {}
                for c in made:
                    p = Probe(self.run, self.file, line, self.spec, self.tz, get)
                    p.one(c, {})
                    x = p.internal.get(c.target, UNSET)
                    if x is not UNSET:
                        internal[c.target] = x
                row = Row(self.run, self.file, line, self.spec, self.tz, get)
                row.internal = internal
                vals: dict = {}
                for c in exprs:
                    row.one(c, vals)
                    fixed[c.target].append(vals[c.target])
            mask = pa.array(redo)
            for c in exprs:
                columns[c.target] = pc.replace_with_mask(columns[c.target].cast(pa.string()), mask,
                                                         pa.array(fixed[c.target], pa.string()))
    data = pa.table({c.target: columns[c.target].cast(pa.string()) for c in self.t.columns})
    yield Batch(self.t.table, str(self.f), data, pa.array(b.lines, pa.int64()), b.kind)


Maker.vblock = _vblock
