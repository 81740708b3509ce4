"""Read one data file (csv, jsonl, json, parquet, xlsx) into an Arrow table plus line numbers."""
from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from servicekpi.core.model import FORMATS


class FileError(ValueError):
    """A problem with a whole file: it is rejected, with its location."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass
class Loaded:
    data: pa.Table | None  # source columns (strings, or typed)
    lines: pa.Array | None  # int64: line (csv/jsonl/xlsx) or row/item number per row
    line_kind: str  # "line", "row" or "item"
    parquet: Path | None = None  # read by DuckDB itself (streaming), not through Arrow
    names: list[str] | None = None

    @property
    def columns(self) -> list[str]:
        return self.names if self.names is not None else self.data.column_names


def fmt_of(path: Path) -> str:
    ext = path.suffix.lower().lstrip(".")
    return ext if ext in FORMATS else ""


def read(path: Path, encoding: str | None = None) -> Loaded:
    source = str(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise FileError(source, f"cannot read the file ({e.strerror})") from None
    if size == 0:
        raise FileError(source, "the file is empty (0 bytes)")
    fmt = fmt_of(path)
    try:
        if fmt == "csv":
            return _csv(path, encoding)
        if fmt == "jsonl":
            return _jsonl(path, encoding)
        if fmt == "json":
            return _json(path, encoding)
        if fmt == "parquet":
            return _parquet(path)
        if fmt == "xlsx":
            return _xlsx(path)
    except UnicodeDecodeError as e:
        raise FileError(source, _encoding_hint(e.start)) from None
    except PermissionError as e:
        raise FileError(source, f"cannot read the file ({e.strerror})") from None
    raise FileError(source, f"unknown format '{path.suffix}' (expected one of: {', '.join(FORMATS)})")


def _encoding_hint(where: object = None) -> str:
    at = f" at byte {where}" if where is not None else ""
    return (f"the file is not valid UTF-8{at}; if it was saved in another encoding, "
            "say which with --encoding (e.g. --encoding cp1252 or --encoding latin-1)")


def _text(path: Path, encoding: str | None) -> str:
    raw = path.read_bytes()
    if encoding:
        try:
            return raw.decode(encoding)
        except LookupError:
            raise FileError(str(path), f"unknown encoding '{encoding}'") from None
    return raw.decode("utf-8-sig")


def _csv(path: Path, encoding: str | None) -> Loaded:
    enc = encoding or "utf-8"
    try:
        with open(path, encoding="utf-8-sig" if enc.lower().replace("_", "-") in ("utf-8", "utf8") else enc,
                  newline="") as f:
            header = next(csv.reader([f.readline()]), [])
    except LookupError:
        raise FileError(str(path), f"unknown encoding '{encoding}'") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise FileError(str(path), "line 1: no header row (expected column names such as ticket_id,created_at)")
    seen = set()
    for h in header:
        if h in seen:
            raise FileError(str(path), f"line 1: column '{h}' appears twice in the header")
        seen.add(h)
    read_opts = pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24,
                                  encoding=encoding or "utf8")
    conv = pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True)
    parse = pacsv.ParseOptions(newlines_in_values=True)
    try:
        table = pacsv.read_csv(path, read_options=read_opts, convert_options=conv, parse_options=parse)
    except pa.ArrowInvalid as e:
        msg = str(e)
        if "UTF8" in msg or "utf8" in msg.lower() and "invalid" in msg.lower():
            raise FileError(str(path), _encoding_hint()) from None
        raise FileError(str(path), f"cannot parse as CSV: {msg.splitlines()[0]}") from None
    if _has_blank_lines(path):
        return Loaded(table, _csv_lines_slow(path, encoding, table.num_rows), "line")
    return Loaded(table, _csv_lines(table), "line")


def _has_blank_lines(path: Path) -> bool:
    import mmap
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        return m.find(b"\n\n") >= 0 or m.find(b"\n\r\n") >= 0


def _csv_lines_slow(path: Path, encoding: str | None, n: int) -> pa.Array:
    """First line of each record when blank lines (skipped by the reader) are present."""
    enc = "utf-8-sig" if not encoding or encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    starts, last = [], 0
    with open(path, encoding=enc, newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        last = reader.line_num
        for row in reader:
            if row:  # the reader, like pyarrow, skips only truly empty lines
                starts.append(last + 1)
            last = reader.line_num
    return pa.array(starts[:n], pa.int64())


def _csv_lines(table: pa.Table) -> pa.Array:
    """Line of each record: 2 + index + newlines inside earlier quoted values."""
    n = table.num_rows
    extra = pa.array([0] * n, pa.int64()) if n else pa.array([], pa.int64())
    for col in table.columns:
        counts = pc.fill_null(pc.count_substring(col, "\n"), 0)
        extra = pc.add(extra, pc.cast(counts, pa.int64()))
    if n == 0:
        return extra
    import numpy as np
    e = extra.to_numpy(zero_copy_only=False)
    before = np.concatenate([[0], np.cumsum(e)[:-1]])
    return pa.array(np.arange(n, dtype=np.int64) + 2 + before)


def cell(v: object) -> str | None:
    """A JSON or spreadsheet value as the string the validator parses."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _records(records: list[dict], lines: list[int], kind: str) -> Loaded:
    names: dict[str, None] = {}
    for r in records:
        for k in r:
            names.setdefault(str(k).strip(), None)
    cols = {k: [] for k in names}
    for r in records:
        clean = {str(k).strip(): v for k, v in r.items()}
        for k in names:
            cols[k].append(cell(clean.get(k)))
    table = pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()})
    return Loaded(table, pa.array(lines, pa.int64()), kind)


def _jsonl(path: Path, encoding: str | None) -> Loaded:
    records, lines = [], []
    for i, line in enumerate(_text(path, encoding).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise FileError(str(path), f"line {i}: not valid JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise FileError(str(path), f"line {i}: expected one JSON object per line")
        records.append(obj)
        lines.append(i)
    return _records(records, lines, "line")


def _json(path: Path, encoding: str | None) -> Loaded:
    try:
        data = json.loads(_text(path, encoding))
    except json.JSONDecodeError as e:
        raise FileError(str(path), f"line {e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(data, list) or not all(isinstance(o, dict) for o in data):
        raise FileError(str(path), "expected a JSON array of objects")
    return _records(data, list(range(1, len(data) + 1)), "item")


def _parquet(path: Path) -> Loaded:
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise FileError(str(path), f"cannot read as Parquet: {e}") from None
    return Loaded(None, None, "row", parquet=path, names=list(schema.names))


def _xlsx(path: Path) -> Loaded:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several types for a bad file
        raise FileError(str(path), f"cannot read as XLSX: {e}") from None
    ws = wb[path.stem] if path.stem in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if not header or not any(h is not None for h in header):
        raise FileError(str(path), "row 1: no header row")
    names = [str(h).strip() if h is not None else "" for h in header]
    records, lines = [], []
    for i, row in enumerate(rows, start=2):
        if row is None or all(v is None for v in row):
            continue
        records.append({n: v for n, v in zip(names, row) if n})
        lines.append(i)
    wb.close()
    loaded = _records(records, lines, "row")
    if not records:
        loaded.data = pa.table({n: pa.array([], pa.string()) for n in names if n})
    return loaded


