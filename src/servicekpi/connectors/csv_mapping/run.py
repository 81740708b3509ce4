"""`--source csv --mapping FILE`: any CSV (or XLSX) export turned into canonical tables by a mapping.

The mapping (spec.py, docs/connectors/csv-mapping.md) says which table(s) each file feeds and how
each canonical column is made: a source column, a constant, a template, a date (+ time) column, or an
expression; then a value map, a date format and time zone, or a duration unit.

Nothing is dropped silently: a value that a map or a format cannot read is passed on as it is, so the
import quarantines its row with the file, line and column (and the notes count and list them); a row left
out on purpose (`when_present`) is counted in the notes.

Times: a format with an offset (%z, epoch, ISO with Z/+hh:mm) is absolute. A naive time is read in the
file's `timezone`, else the mapping's `timezone` (written out as UTC); with neither it stays naive and the
import reads it in --source-tz, else the workspace time zone.

Streaming: convert() checks the mapping, each file's header and (for a CSV) that the whole file decodes,
then returns; rows are read and converted a block of CHUNK rows at a time as the import consumes the
batches (rows.py, vector.py). An undecodable file is thus still rejected whole, before any of its rows; a
CSV syntax error found half-way (a field over the csv module's limit) cannot recall the chunks already
imported: the rows before it go in and an Error note says where the file stopped (--strict rolls back).

Speed: a CSV of FAST_MIN_BYTES or more is parsed by pyarrow (_fast_rows), block by block, with the csv
module's line numbers (the csv module reads any block pyarrow cannot map line for line), and blocks are
converted by column (vector.vblock). VECTOR = False keeps the row-by-row reference (the csv module, and
Maker.block) that tests/connectors/test_mapped_vector.py and bench/mapped_csv.py compare against.
"""
from __future__ import annotations

import fnmatch
import re
from collections import Counter
from pathlib import Path
from typing import Iterator

from servicekpi.connectors import ConnectorError, Converted, SourceUsageError
from servicekpi.connectors.csv_mapping import files
from servicekpi.connectors.csv_mapping.arrays import Cols
from servicekpi.connectors.csv_mapping.files import POSITION, _position, _read
from servicekpi.connectors.csv_mapping.rows import TEMPLATE, Maker
from servicekpi.connectors.csv_mapping.spec import FileSpec, Mapping, load
from servicekpi.connectors.csv_mapping.values import refs
from servicekpi.connectors.csv_mapping.vector import vblock
from servicekpi.core.model import TABLES
from servicekpi.ingest.load import Batch

DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
CHUNK = 100_000
SHOW = 5


def convert(path: Path | None, *, mapping: Path | None = None, dsn: str | None = None,
            chunk: int | None = None) -> Converted:
    """Checks the mapping, and each file's header and encoding, now; the rows are read and converted as the
    returned batches are consumed (chunks of `chunk` rows per table). The notes are complete once the
    stream is exhausted."""
    if mapping is None:
        raise SourceUsageError("--source csv needs --mapping FILE (TOML or YAML; see docs/connectors/csv-mapping.md)")
    if path is None or dsn:
        raise SourceUsageError("--source csv reads files: give a PATH (a file or a folder), no --dsn")
    m = load(Path(mapping))
    path = Path(path)
    if not path.exists():
        raise ConnectorError(f"{path}: no such file or folder")
    files = [path] if path.is_file() else sorted(
        p for p in path.iterdir() if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith(".")
        and p.resolve() != Path(mapping).resolve())
    notes: list[str] = []
    plan = []
    for f in files:
        spec = _pick(m, f)
        if spec is None:
            notes.append(f"{f.name}: matches no [[files]] entry of {m.path.name} (match: "
                         f"{', '.join(repr(s.match) for s in m.files)}), not imported")
        else:
            plan.append((f, spec))
    if not plan:
        raise ConnectorError(f"{path}: no file to import" + (f" ({notes[0]})" if notes else ""))
    # files feeding tickets before those feeding messages (the tables' dependency order), else by name
    order = list(TABLES)
    plan.sort(key=lambda p: min(order.index(t.table) if t.table in TABLES else len(order) for t in p[1].tables))
    run = Run(m, chunk)
    readers = []
    errors = []  # file-level problems: that file is rejected whole, the other files still go in
    for f, spec in plan:
        try:
            rows = _read(f, spec)  # a CSV is decoded whole first: an undecodable file is rejected before any row
            header = next(rows)
        except ConnectorError as e:
            errors.append(str(e))
            continue
        problems = run.check(f, spec, header)
        if problems:
            errors += problems
            rows.close()
            continue
        readers.append((f, spec, header, rows))
    if errors and not readers:
        raise ConnectorError("\n".join(errors))
    out = [f"Error: {e}" for e in errors] + notes
    tz = m.timezone  # None: --source-tz or the workspace time zone
    total = sum(f.stat().st_size for f, _, _, _ in readers)
    return Converted(batches=_stream(run, readers, out, total), notes=out, source_tz=tz)


def _stream(run: Run, readers: list, notes: list[str], total: int) -> Iterator[Batch]:
    done = 0
    for f, spec, header, rows in readers:
        size = f.stat().st_size
        try:
            for b in run.file(f, spec, header, rows):
                b.done_bytes, b.total_bytes = done + min(run.read, size), total
                yield b
        except ConnectorError as e:
            # found half-way (a CSV syntax error): the chunks already imported cannot be recalled; the rows
            # read so far go in, the rest of the file does not, and the Error note makes --strict roll back
            notes.append(f"Error: {e} (the rows before it are imported, the rest of the file is not)")
        done += size
    notes += run.notes()


def _pick(m: Mapping, f: Path) -> FileSpec | None:
    for spec in m.files:
        if spec.match is None or fnmatch.fnmatch(f.name.lower(), spec.match.lower()):
            return spec
    return None



def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.casefold()).strip("_")


# ---- converting ------------------------------------------------------------------------------

class Run:
    def __init__(self, m: Mapping, chunk: int | None = None):
        self.m = m
        self.chunk = chunk or CHUNK
        self.read = 0  # bytes of the current file read (progress)
        self.problems: dict[tuple, list] = {}  # (file, where, reason) -> [count, examples]
        self.skipped: Counter = Counter()
        self.filtered: Counter = Counter()  # (file, table, reason) -> rows a row filter left out
        self.count: Counter = Counter()

    # header checks: every source column the mapping names must be in the file
    def check(self, f: Path, spec: FileSpec, header: list[str]) -> list[str]:
        have = set(header)
        norm = {_norm(h) for h in header}
        errors = []

        def need(name: str, where: str, bare: bool = False):
            if name in have or (bare and _norm(name) in norm):
                return
            errors.append(f"{f.name}: column '{name}' named by {self.m.path.name} {where} is not in the header "
                          f"(the header has: {', '.join(h for h in header if h)})")
        for t in spec.tables:
            targets = {c.target for c in t.columns}
            for w in t.when_present:
                need(w, f"{t.where}.when_present")
            if t.when is not None:
                need(t.when.column, f"{t.where}.when.column")
            for c in t.columns:
                if c.kind in ("column", "date"):
                    need(c.source, f"{c.where}.{c.kind}")
                if c.time:
                    need(c.time, f"{c.where}.time")
                if c.kind == "template":
                    for name in TEMPLATE.findall(c.source):
                        if name != "_line":
                            need(name, f"{c.where}.template")
                if c.kind == "expr" and c.expr is not None:
                    for name, bracket in refs(c.expr):
                        if bracket or name not in targets:
                            need(name, f"{c.where}.expr", bare=not bracket)
                if c.when:
                    need(c.when.column, f"{c.where}.when.column")
        dups = [h for h, n in Counter(header).items() if n > 1 and h]
        if dups:
            self.problem(f.name, "header", f"column(s) {', '.join(dups)} appear more than once: the first is read")
        return errors

    def problem(self, file: str, where: str, reason: str, example: str | None = None) -> None:
        entry = self.problems.setdefault((file, where, reason), [0, []])
        entry[0] += 1
        if example and len(entry[1]) < SHOW:
            entry[1].append(example)

    def file(self, f: Path, spec: FileSpec, header: list[str], rows: Iterator) -> Iterator[Batch]:
        """Converts the file's rows a block of `chunk` rows at a time: one Batch per table and block, in the
        tables' dependency order (a message never goes in before the ticket made from the same row)."""
        index: dict[str, int] = {}
        for i, h in enumerate(header):
            index.setdefault(h, i)
        by_norm: dict[str, int] = {}
        for i, h in enumerate(header):
            by_norm.setdefault(_norm(h), i)
        tz = spec.timezone or self.m.timezone
        order = list(TABLES)
        makers = sorted((Maker(self, f, spec, tz, t, index, by_norm) for t in spec.tables),
                        key=lambda mk: order.index(mk.t.table) if mk.t.table in TABLES else -1)
        for mk in makers:
            mk.width = len(header)
        block: list = []  # rows (the csv module's, or openpyxl's)
        pieces: list[Cols] = []  # Cols the arrow reader parsed, and rows before them
        size = 0
        stop = None
        width = len(header)
        try:
            for item in rows:
                if isinstance(item, Cols):  # from _fast_rows (only when VECTOR)
                    if block:
                        pieces.append(Cols.rows(block, width))
                        block = []
                    pieces.append(item)
                    size += item.n
                else:
                    block.append(item)
                    size += 1
                while size >= self.chunk:  # blocks of exactly `chunk` rows, whichever reader read them
                    self.read = _position(rows)
                    if pieces:
                        if block:
                            pieces.append(Cols.rows(block, width))
                            block = []
                        cols = Cols.concat(pieces)
                        pieces = [cols.slice(self.chunk, cols.n).materialize()] if cols.n > self.chunk else []
                        yield from self.convert(f, makers, cols.slice(0, self.chunk) if cols.n > self.chunk else cols)
                    else:
                        yield from self.convert(f, makers, block)
                        block = []
                    size -= self.chunk
        except ConnectorError as e:  # a CSV syntax error half-way: the rows before it still go in
            stop = e
        finally:
            POSITION.pop(id(rows), None)
        if pieces:
            if block:
                pieces.append(Cols.rows(block, width))
            yield from self.convert(f, makers, Cols.concat(pieces))
        elif block:
            yield from self.convert(f, makers, block)
        if stop is not None:
            raise stop

    def convert(self, f: Path, makers: list, block) -> Iterator[Batch]:
        """One block (a list of rows, or Cols) through every table's Maker: by column (vector.vblock) unless
        VECTOR is off (the row-by-row reference, Maker.block)."""
        if files.VECTOR:
            cols = block if isinstance(block, Cols) else Cols.rows(block, makers[0].width)
            self.count[f.name] += cols.n
            for mk in makers:
                yield from vblock(mk, cols)
        else:
            self.count[f.name] += len(block)
            for mk in makers:
                yield from mk.block(block)

    def notes(self) -> list[str]:
        out = []
        for (file, table, cols), n in self.skipped.items():
            out.append(f"{file}: {n} row(s) without {' / '.join(repr(c) for c in cols)} make no {table} row "
                       f"(when_present)")
        for (file, table, reason), n in self.filtered.items():
            out.append(f"{file}: {n} row(s) make no {table} row: {reason}")
        for (file, where, reason), (n, examples) in self.problems.items():
            ex = f": {'; '.join(examples)}" + (f" (+{n - len(examples)} more)" if n > len(examples) else "") \
                if examples else ""
            out.append(f"{file}: {where}: {reason} -- {n} value(s){ex}" if examples else f"{file}: {reason}")
        return out
