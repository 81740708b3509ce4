"""One Cols block made into one table's columns by pyarrow.compute and numpy (vector.vblock)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servicekpi.connectors.csv_mapping.arrays import (
    BAD,
    DAY_US,
    EXCEL_US,
    MAX_US,
    MIN_US,
    NAIVE,
    NONE,
    NULL,
    NUM,
    NUMBER,
    TIMES,
    UNSET_K,
    US,
    UTC,
    ZONED,
    Cols,
    IVec,
    _ints,
    _match,
    _strict,
    _strptime_safe,
    _valid,
    stripped,
)
from servicekpi.connectors.csv_mapping.rows import TEMPLATE, Maker, _norm
from servicekpi.connectors.csv_mapping.spec import ColumnSpec
from servicekpi.connectors.csv_mapping.values import DURATIONS, Invalid, localize, number_text, parse_time


class Block:
    """One Cols block being made into one table's rows (vector.vblock)."""

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
