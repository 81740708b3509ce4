"""The vectorised path: vblock(maker, cols) makes a table's rows from a block held by column."""
#
# vblock converts a block held by column (Cols) with pyarrow.compute and numpy. Each column is
# made by a vectorised fast path where one applies (canonical date and time texts, H:MM:SS durations,
# numbers, plain copies, templates), checked to give what the row-by-row code gives; every other row goes
# through the row-by-row code (Probe) once per distinct combination of its source cells, the result
# broadcast with a take. Expressions are evaluated on arrays; a row whose expression needs anything the
# arrays do not carry (an error, a DST gap, a non-integral microsecond, mixed time kinds) is made again
# whole by the row-by-row code, which also writes its notes. Notes are counted per row, in row order.

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servicekpi.connectors.csv_mapping.arrays import BAD, NONE, Cols, IVec, _valid, stripped
from servicekpi.connectors.csv_mapping.block import Block
from servicekpi.connectors.csv_mapping.rows import UNSET, Maker, Probe, Row
from servicekpi.connectors.csv_mapping.values import refs
from servicekpi.ingest.load import Batch


def _bare_refs(mk: Maker) -> set[str]:
    """The bare names the table's expressions use (a made column's value, else a source column)."""
    return {name for c in mk.columns if c.kind == "expr" and c.expr is not None
            for name, bracket in refs(c.expr) if not bracket}


def vblock(self: Maker, b: Cols):
    """The Batch of maker's table made from the block b (by column; the same rows and notes as Maker.block)."""
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
    for i, test, reason in self.filters:
        cells = [None] * b.n if i is None else stripped(b.raw(i)).to_pylist()
        keep = np.fromiter((test(x) for x in cells), bool, b.n)
        k = int(keep.sum())
        if k < b.n:
            self.run.filtered[(self.file, self.t.table, reason)] += b.n - k
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
