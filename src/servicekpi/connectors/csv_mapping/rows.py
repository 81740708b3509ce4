"""Rows of `--source csv`: the mapping's columns made from a block of source rows (run.py reads them).

Row holds the one-row rules. Two ways use them on a block:
- vector.vblock (the default): the block held by column (Cols), converted with pyarrow.compute and numpy
  where a vectorised conversion reads a value exactly as Row does, else by Row once per distinct
  combination of the column's source cells; expression rows the arrays cannot do are made whole by Row.
  See "the vectorised path" below.
- Maker.block (files.VECTOR = False, the reference the tests and bench/mapped_csv.py compare against):
  each distinct combination of a column's cells converted once per block, expressions row by row.
A column's value depends only on the source cells it names (and the file's settings). The notes (a value
not in a map, an unreadable date) are counted per row, with the row's line, in the same order both ways.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pyarrow as pa

from servicekpi.connectors.csv_mapping.spec import ColumnSpec, FileSpec, TableSpec
from servicekpi.connectors.csv_mapping.values import (
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


def _cell(cells: list, i: int | None) -> str | None:
    return (cells[i].strip() or None) if i is not None and i < len(cells) else None


def _number(v: str | None) -> float | None:
    try:
        return float(v) if v is not None else None
    except ValueError:
        return None


def row_filters(t: TableSpec, index: dict) -> list[tuple]:
    """(source column index, test of its stripped cell -> keep the row, reason for the notes) of the table's
    row filters: the table-level `when`, and each column's `no_answer` scores."""
    out = []
    w = t.when
    if w is not None:
        if w.values is None:
            def test(v, w=w):
                return (v is not None) != w.negate
            what = f"'{w.column}' " + ("empty" if not w.negate else "not empty")
        else:
            def test(v, w=w):
                return ((v or "").casefold() in w.values) != w.negate
            what = f"'{w.column}' " + ("not in" if not w.negate else "in") + f" ({', '.join(w.given)})"
        out.append((index.get(w.column), test, f"{what} (when)"))
    for c in t.columns:
        if c.no_answer:
            def test(v, c=c):
                return _number(v) not in c.no_answer
            shown = ", ".join(number_text(x) for x in sorted(c.no_answer))
            out.append((index.get(c.source), test, f"'{c.source}' is a no-answer score ({shown}) (no_answer)"))
    return out


class Maker:
    """Makes one table's rows from blocks of one file's rows."""

    def __init__(self, run, f, spec: FileSpec, tz: str | None, t: TableSpec, index: dict, by_norm: dict):
        self.run, self.f, self.file, self.spec, self.tz, self.t = run, f, f.name, spec, tz, t
        self.index, self.by_norm = index, by_norm
        self.columns = sorted(t.columns, key=lambda c: c.kind == "expr")  # expressions after what they use
        self.present = [index.get(w) for w in t.when_present]
        self.filters = row_filters(t, index)

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
        for i, test, reason in self.filters:
            keep = [r for r in block if test(_cell(r[2], i))]
            if len(keep) < len(block):
                self.run.filtered[(self.file, self.t.table, reason)] += len(block) - len(keep)
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
            elif not c.keep:
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
