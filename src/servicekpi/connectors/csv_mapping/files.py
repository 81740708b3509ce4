"""Reading a mapped file: the header, then rows (csv module) or Cols blocks (pyarrow), or XLSX rows."""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from pathlib import Path
from typing import Iterator

from servicekpi.connectors import ConnectorError
from servicekpi.connectors.csv_mapping.arrays import Cols
from servicekpi.connectors.csv_mapping.spec import FileSpec

VECTOR = True  # False: the row-by-row reference (csv module reader, Maker.block); bench/mapped_csv.py compares
FAST_MIN_BYTES = 1 << 20  # CSV files from this size are parsed by pyarrow (_fast_rows), smaller ones by csv
BLOCK_BYTES = 8 << 20  # bytes per pyarrow parse
MAX_LINE = 131_072  # the csv module's field size limit: a longer line is left to it (it raises)
ARROW_ENCODINGS = re.compile(r"utf-8(-sig)?|ascii|iso8859-\d+|cp125\d")  # \n, \r, quote, delimiter are bytes

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
    except Exception as e:  # noqa: BLE001 - openpyxl raises several types for a bad file
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
