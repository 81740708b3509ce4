"""`--source csv --mapping FILE`: any CSV (or XLSX) export turned into canonical tables by a mapping.

The mapping (mapping_config.py, docs/connectors/csv-mapping.md) says which table(s) each file feeds and how
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
batches (mapping_rows.py). An undecodable file is thus still rejected whole, before any of its rows; a
CSV syntax error found half-way (a field over the csv module's limit) cannot recall the chunks already
imported: the rows before it go in and an Error note says where the file stopped (--strict rolls back).

Speed: a CSV of FAST_MIN_BYTES or more is parsed by pyarrow (_fast_rows), block by block, with the csv
module's line numbers (the csv module reads any block pyarrow cannot map line for line), and blocks are
converted by column (Maker.vblock). VECTOR = False keeps the row-by-row reference (the csv module, and
Maker.block) that tests/connectors/test_mapped_vector.py and bench/mapped_csv.py compare against.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import fnmatch
import re
from collections import Counter
from pathlib import Path
from typing import Iterator

from servicekpi.connectors import ConnectorError, Converted
from servicekpi.connectors.mapping_config import FileSpec, Mapping, load
from servicekpi.connectors.mapping_rows import TEMPLATE, Cols, Maker
from servicekpi.connectors.mapping_values import refs
from servicekpi.core.model import TABLES
from servicekpi.ingest.load import Batch

DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
CHUNK = 100_000
SHOW = 5
VECTOR = True  # False: the row-by-row reference (csv module reader, Maker.block); bench/mapped_csv.py compares
FAST_MIN_BYTES = 1 << 20  # CSV files from this size are parsed by pyarrow (_fast_rows), smaller ones by csv
BLOCK_BYTES = 8 << 20  # bytes per pyarrow parse
MAX_LINE = 131_072  # the csv module's field size limit: a longer line is left to it (it raises)
ARROW_ENCODINGS = re.compile(r"utf-8(-sig)?|ascii|iso8859-\d+|cp125\d")  # \n, \r, quote, delimiter are bytes


def convert(path: Path | None, *, mapping: Path | None = None, dsn: str | None = None,
            chunk: int | None = None) -> Converted:
    """Checks the mapping, and each file's header and encoding, now; the rows are read and converted as the
    returned batches are consumed (chunks of `chunk` rows per table). The notes are complete once the
    stream is exhausted."""
    if mapping is None:
        raise ConnectorError("--source csv needs --mapping FILE (TOML or YAML; see docs/connectors/csv-mapping.md)")
    if path is None or dsn:
        raise ConnectorError("--source csv reads files: give a PATH (a file or a folder), no --dsn")
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


# ---- reading ---------------------------------------------------------------------------------

def _read(f: Path, spec: FileSpec) -> Iterator:
    """Yields the header (list of names), then (line, kind, cells)."""
    if f.suffix.lower() == ".xlsx":
        return _read_xlsx(f, spec)
    return _read_csv(f, spec)


def _position(rows: Iterator) -> int:
    """Bytes of the file read so far by a reader of _read (0 when unknown: XLSX)."""
    fh = POSITION.get(id(rows))
    try:
        return getattr(fh, "buffer", fh).tell() if fh is not None and not fh.closed else 0
    except (OSError, ValueError):
        return 0


POSITION: dict[int, object] = {}


def _read_csv(f: Path, spec: FileSpec) -> Iterator:
    lone_cr = _check_decodable(f, spec)
    if VECTOR and not lone_cr and f.stat().st_size >= FAST_MIN_BYTES and spec.delimiter.isascii() and \
            spec.delimiter not in '"\r\n' and ARROW_ENCODINGS.fullmatch(codecs.lookup(spec.encoding).name):
        try:
            fh = open(f, "rb")
        except OSError as e:
            raise ConnectorError(f"{f}: cannot read the file ({e.strerror})") from None
        rows = _fast_rows(f, fh, spec)
        POSITION[id(rows)] = fh
        return rows
    try:
        fh = open(f, encoding=spec.encoding, newline="")
    except OSError as e:
        raise ConnectorError(f"{f}: cannot read the file ({e.strerror})") from None
    rows = _csv_rows(f, fh, spec)
    POSITION[id(rows)] = fh
    return rows


def _check_decodable(f: Path, spec: FileSpec) -> bool:
    """Decodes the whole file once before any row is converted (about 1 s per GB): rows already streamed
    into the import cannot be recalled, so an undecodable file must be found out before, and rejected whole.
    Returns whether the file has a carriage return that is not part of a CRLF (a line break for the csv
    module, not for _fast_rows' line count: such a file is read by the csv module)."""
    lone = 0
    cr = False
    try:
        dec = codecs.getincrementaldecoder(spec.encoding)()
    except LookupError:
        raise ConnectorError(f"{f}: unknown encoding '{spec.encoding}' ({spec.where}.encoding)") from None
    offset = 0
    try:
        with open(f, "rb") as fh:
            while block := fh.read(1 << 20):
                try:
                    dec.decode(block)
                except UnicodeDecodeError as e:
                    at = max(offset + e.start, 0)
                    raise ConnectorError(f"{f}: not valid {spec.encoding} at byte {at}; set `encoding` in "
                                         f"{spec.where} (e.g. encoding = \"cp1252\")") from None
                lone += block.count(b"\r") - block.count(b"\r\n") - (cr and block[:1] == b"\n")
                cr = block[-1:] == b"\r"
                offset += len(block)
            try:
                dec.decode(b"", final=True)
            except UnicodeDecodeError:
                raise ConnectorError(f"{f}: not valid {spec.encoding} at byte {offset} (the file ends inside a "
                                     f"character); set `encoding` in {spec.where}") from None
    except OSError as e:
        raise ConnectorError(f"{f}: cannot read the file ({e.strerror})") from None
    return lone > 0


def _header(cells: list[str], spec: FileSpec, skipped: int) -> tuple[list[str] | None, int]:
    """A row before the header: (the header, 0) when it is the header, else (None, rows skipped so far);
    the first `skip_rows` rows are skipped, then blank rows."""
    if skipped < spec.skip_rows:
        return None, skipped + 1
    if not any(c.strip() for c in cells):
        return None, skipped
    return [c.strip() for c in cells], 0


def _csv_rows(f: Path, fh, spec: FileSpec) -> Iterator:
    with fh:
        reader = csv.reader(fh, delimiter=spec.delimiter)
        last = 0
        header = None
        skipped = 0
        try:
            for cells in reader:
                start, last = last + 1, reader.line_num
                if header is None:
                    header, skipped = _header(cells, spec, skipped)
                    if header is not None:
                        yield header
                    continue
                if not cells or not any(c.strip() for c in cells):
                    continue
                if skipped < spec.skip_after_header:
                    skipped += 1
                    continue
                yield start, "line", cells
        except UnicodeDecodeError as e:
            raise ConnectorError(f"{f} after line {last}: not valid {spec.encoding} (byte {e.start} of a block); "
                                 f"set `encoding` in {spec.where}") from None
        except csv.Error as e:
            raise ConnectorError(f"{f} line {reader.line_num}: cannot parse as CSV ({e})") from None
        if header is None:
            raise ConnectorError(f"{f}: no header row")


class _Feed:
    """The decoded lines of a binary file from where it stands, for csv.reader (which reads no further than
    the end of the record it returns: fh.tell() is then a record boundary)."""

    def __init__(self, fh, encoding: str):
        self.fh = fh
        self.dec = codecs.getincrementaldecoder(encoding)()

    def __iter__(self):
        return self

    def __next__(self) -> str:
        raw = self.fh.readline()
        if not raw:
            raise StopIteration
        return self.dec.decode(raw)


def _fast_rows(f: Path, fh, spec: FileSpec) -> Iterator:
    """As _csv_rows, but the rows after the header come mostly as Cols blocks that pyarrow parsed, with the
    csv module's line numbers: a block of BLOCK_BYTES (cut at a line end) is taken from pyarrow when each
    of its non-empty lines is one record of the header's width (no quoted line break, no short or long
    row, no line over the csv module's field limit); else the csv module reads it, up to the first record
    boundary at or after its end, and the next block starts there."""
    with fh:
        reader = csv.reader(_Feed(fh, spec.encoding), delimiter=spec.delimiter)
        header = None
        skipped = last = 0
        try:
            for cells in reader:
                last = reader.line_num
                if header is None:
                    header, skipped = _header(cells, spec, skipped)
                    if header is not None:
                        yield header
                        if not spec.skip_after_header:
                            break
                    continue
                if not cells or not any(c.strip() for c in cells):
                    continue
                skipped += 1
                if skipped >= spec.skip_after_header:
                    break
        except csv.Error as e:
            raise ConnectorError(f"{f} line {reader.line_num}: cannot parse as CSV ({e})") from None
        if header is None:
            raise ConnectorError(f"{f}: no header row")
        line = last + 1  # the file's line number of the next byte
        enc = codecs.lookup(spec.encoding).name
        names = [f"c{i}" for i in range(len(header))]
        while True:
            offset = fh.tell()
            buf = fh.read(BLOCK_BYTES)
            if not buf:
                break
            if not buf.endswith(b"\n"):
                buf += fh.readline()
            cols = _arrow_block(buf, names, spec, enc, line)
            if cols is not None:
                if cols.n:
                    yield cols
                line += buf.count(b"\n")
                continue
            fh.seek(offset)
            end = offset + len(buf)
            reader = csv.reader(_Feed(fh, "utf-8" if enc == "utf-8-sig" else spec.encoding),
                                delimiter=spec.delimiter)
            last = 0
            try:
                for cells in reader:
                    start, last = line + last, reader.line_num
                    if cells and any(c.strip() for c in cells):
                        yield start, "line", cells
                    if fh.tell() >= end:
                        break
            except csv.Error as e:
                raise ConnectorError(f"{f} line {line - 1 + reader.line_num}: cannot parse as CSV ({e})") from None
            line += reader.line_num


def _arrow_block(buf: bytes, names: list[str], spec: FileSpec, enc: str, line: int):
    """buf (whole lines from `line`) parsed by pyarrow as Cols, or None when the csv module must read it."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    data = np.frombuffer(buf, np.uint8)
    nl = np.flatnonzero(data == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(data)]))
    if buf.endswith(b"\n"):
        starts, ends = starts[:-1], ends[:-1]
    lengths = ends - starts
    if lengths.size and lengths.max() > MAX_LINE:
        return None
    cr = np.zeros(len(ends), bool)
    some = lengths > 0
    cr[some] = data[ends[some] - 1] == 13
    nonempty = (lengths - cr) > 0
    text = buf if enc in ("utf-8", "utf-8-sig", "ascii") else buf.decode(enc).encode("utf-8")
    invalid = []

    def handler(row):
        invalid.append(row)
        return "skip"
    try:
        t = pcsv.read_csv(
            pa.py_buffer(text),
            read_options=pcsv.ReadOptions(column_names=names),
            parse_options=pcsv.ParseOptions(delimiter=spec.delimiter, quote_char='"', double_quote=True,
                                            escape_char=False, newlines_in_values=True, ignore_empty_lines=True,
                                            invalid_row_handler=handler),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if invalid or t.num_rows != int(nonempty.sum()):
        return None  # a record over several lines, or a row of another width: the csv module decides
    if t.num_rows and pc.match_substring_regex(t.column(t.num_columns - 1)[-1:], "[\r\n]")[0].as_py():
        return None  # a quoted value still open where the block ends (in the last column: a full-width row)
    lines = line + np.flatnonzero(nonempty)
    blank = np.ones(t.num_rows, bool)
    for i in range(t.num_columns):  # every cell blank: the csv module's reader skips the row
        blank &= pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(t.column(i))), 0).to_numpy(zero_copy_only=False)
        if not blank.any():
            break
    if blank.any():
        t = t.filter(pa.array(~blank))
        lines = lines[~blank]
    return Cols.table(lines.astype(np.int64), t)


def _read_xlsx(f: Path, spec: FileSpec) -> Iterator:
    import openpyxl
    try:
        wb = openpyxl.load_workbook(f, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several types for a bad file
        raise ConnectorError(f"{f}: cannot read as XLSX ({e})") from None
    if spec.sheet and spec.sheet not in wb.sheetnames:
        raise ConnectorError(f"{f}: no sheet '{spec.sheet}' ({spec.where}.sheet; the workbook has: "
                             f"{', '.join(wb.sheetnames)})")
    ws = wb[spec.sheet] if spec.sheet else wb.worksheets[0]
    return _xlsx_rows(wb, ws, spec)


def _xlsx_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _xlsx_rows(wb, ws, spec: FileSpec) -> Iterator:
    header = None
    skipped = 0
    for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = [_xlsx_cell(v) for v in row]
        if header is None:
            if skipped < spec.skip_rows or not any(c.strip() for c in cells):
                skipped += 1 if skipped < spec.skip_rows else 0
                continue
            header = [c.strip() for c in cells]
            yield header
            skipped = 0
            continue
        if not any(c.strip() for c in cells):
            continue
        if skipped < spec.skip_after_header:
            skipped += 1
            continue
        yield n, "row", cells
    wb.close()
    if header is None:
        raise ConnectorError(f"{ws.title}: no header row")


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
        """One block (a list of rows, or Cols) through every table's Maker: by column (Maker.vblock) unless
        VECTOR is off (the row-by-row reference, Maker.block)."""
        if VECTOR:
            cols = block if isinstance(block, Cols) else Cols.rows(block, makers[0].width)
            self.count[f.name] += cols.n
            for mk in makers:
                yield from mk.vblock(cols)
        else:
            self.count[f.name] += len(block)
            for mk in makers:
                yield from mk.block(block)

    def notes(self) -> list[str]:
        out = []
        for (file, table, cols), n in self.skipped.items():
            out.append(f"{file}: {n} row(s) without {' / '.join(repr(c) for c in cols)} make no {table} row "
                       f"(when_present)")
        for (file, where, reason), (n, examples) in self.problems.items():
            ex = f": {'; '.join(examples)}" + (f" (+{n - len(examples)} more)" if n > len(examples) else "") \
                if examples else ""
            out.append(f"{file}: {where}: {reason} -- {n} value(s){ex}" if examples else f"{file}: {reason}")
        return out
