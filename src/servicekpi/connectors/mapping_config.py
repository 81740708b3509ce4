"""The mapping file of `--source csv`: load (TOML or YAML) and check it, every problem at once, located.

Shape (docs/connectors/csv-mapping.md):
    timezone = "Europe/London"            # optional: naive times of every file
    [[files]]                              # one entry per kind of file; the first whose `match` fits is used
    match = "calls*.csv"                   # glob on the file name (optional when there is one entry)
    [[files.tables]]                       # one or several tables from the same file
    table = "calls"
    [files.tables.columns]
    call_id = "Call Id"                    # a source column, or a table of options (COLUMN_KEYS)
"""
from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from servicekpi.connectors import ConnectorError
from servicekpi.connectors.mapping_values import DURATIONS, ExprError, parse_expr
from servicekpi.core.model import TABLES

TOP_KEYS = ("timezone", "date_format", "files")
FILE_KEYS = ("match", "delimiter", "encoding", "sheet", "skip_rows", "skip_after_header", "timezone",
             "date_format", "tables")
TABLE_KEYS = ("table", "columns", "extras", "when_present")
SOURCES = ("column", "value", "template", "date", "expr")  # exactly one of these says where a value comes from
COLUMN_KEYS = SOURCES + ("time", "format", "time_format", "map", "other", "default", "duration", "when")
SPECIAL_FORMATS = ("iso", "excel", "epoch", "epoch_ms")


@dataclass
class When:
    column: str
    values: set[str] | None  # casefolded; None = any non-empty value
    negate: bool = False


@dataclass
class ColumnSpec:
    target: str
    type: str  # model column type ("string" for extras)
    where: str  # mapping key path, for messages
    kind: str  # one of SOURCES
    source: str | None = None  # column name, template text, expression text or date column
    value: object = None
    time: str | None = None
    formats: list[str] | None = None
    time_format: str | None = None
    map: dict[str, str] | None = None  # casefolded source -> target text
    other: str | None = None
    default: str | None = None
    duration: str | None = None
    when: When | None = None
    expr: object = None


@dataclass
class TableSpec:
    table: str
    where: str
    columns: list[ColumnSpec]
    when_present: list[str] = field(default_factory=list)


@dataclass
class FileSpec:
    where: str
    match: str | None
    tables: list[TableSpec]
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    sheet: str | None = None
    skip_rows: int = 0
    skip_after_header: int = 0
    timezone: str | None = None
    date_format: list[str] | None = None


@dataclass
class Mapping:
    path: Path
    files: list[FileSpec]
    timezone: str | None = None


def text(v: object) -> str:
    """A mapping scalar as the text the import reads (true -> 'true', 5.0 -> '5')."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def load(path: Path) -> Mapping:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConnectorError(f"{path}: cannot read the mapping file ({e.strerror})") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            doc = tomllib.loads(raw.decode("utf-8-sig"))
        elif suffix in (".yaml", ".yml"):
            import yaml
            doc = yaml.safe_load(raw.decode("utf-8-sig"))
        else:
            raise ConnectorError(f"{path}: a mapping file is .toml, .yaml or .yml")
    except UnicodeDecodeError:
        raise ConnectorError(f"{path}: the mapping file is not valid UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ConnectorError(f"{path}: not valid TOML ({e})") from None
    except Exception as e:  # yaml.YAMLError and its subclasses carry the line
        if type(e).__module__.startswith("yaml"):
            raise ConnectorError(f"{path}: not valid YAML ({str(e).splitlines()[0]}"
                                 f"{_yaml_line(e)})") from None
        raise
    return Checker(path).mapping(doc)


def _yaml_line(e) -> str:
    mark = getattr(e, "problem_mark", None)
    return f" at line {mark.line + 1}" if mark is not None else ""


def _near(name: str, options) -> str:
    near = difflib.get_close_matches(str(name), list(options), n=3)
    return f"; did you mean {', '.join(near)}?" if near else f" (expected one of: {', '.join(options)})"


class Checker:
    def __init__(self, path: Path):
        self.path = path
        self.errors: list[str] = []

    def err(self, where: str, what: str) -> None:
        self.errors.append(f"{self.path.name}: {where}: {what}")

    def keys(self, obj: dict, allowed, where: str) -> None:
        for k in obj:
            if k not in allowed:
                self.err(f"{where}.{k}" if where else k, f"unknown key{_near(k, allowed)}")

    def zone(self, v, where: str) -> str | None:
        if v is None:
            return None
        try:
            ZoneInfo(str(v))
        except (ZoneInfoNotFoundError, ValueError):
            self.err(where, f"'{v}' is not an IANA time zone (e.g. Europe/London, America/New_York, UTC)")
            return None
        return str(v)

    def formats(self, v, where: str) -> list[str] | None:
        if v is None:
            return None
        items = v if isinstance(v, list) else [v]
        out = []
        for f in items:
            if not isinstance(f, str) or not (f in SPECIAL_FORMATS or "%" in f):
                self.err(where, f"'{f}' is not a date format (expected a strftime pattern such as "
                                f"'%d/%m/%Y %H:%M', or one of: {', '.join(SPECIAL_FORMATS)})")
            else:
                out.append(f)
        return out

    def integer(self, v, where: str) -> int:
        if v is None:
            return 0
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            self.err(where, f"'{v}' is not a whole number >= 0")
            return 0
        return v

    def mapping(self, doc) -> Mapping:
        if not isinstance(doc, dict):
            raise ConnectorError(f"{self.path}: expected a mapping with a `files` list (see docs/connectors/csv-mapping.md)")
        self.keys(doc, TOP_KEYS, "")
        tz = self.zone(doc.get("timezone"), "timezone")
        fmt = self.formats(doc.get("date_format"), "date_format")
        files = doc.get("files")
        out = []
        if not isinstance(files, list) or not files:
            self.err("files", "missing: give at least one [[files]] entry with its [[files.tables]]")
        else:
            for i, f in enumerate(files):
                spec = self.file(f, f"files[{i}]", fmt)
                if spec:
                    out.append(spec)
            if len(out) > 1 and any(f.match is None for f in out):
                self.err("files", "with several entries, each needs a `match` (a file-name pattern such as 'calls*.csv')")
        if self.errors:
            raise ConnectorError("the mapping has problems:\n  " + "\n  ".join(self.errors))
        return Mapping(self.path, out, tz)

    def file(self, f, where: str, fmt) -> FileSpec | None:
        if not isinstance(f, dict):
            self.err(where, "expected a table with `tables`")
            return None
        self.keys(f, FILE_KEYS, where)
        delim = f.get("delimiter", ",")
        if not isinstance(delim, str) or len(delim.replace("\\t", "\t")) != 1:
            self.err(f"{where}.delimiter", f"'{delim}' is not one character (e.g. ',', ';' or '\\t')")
            delim = ","
        spec = FileSpec(where, f.get("match"), [], delimiter=delim.replace("\\t", "\t"),
                        encoding=str(f.get("encoding", "utf-8-sig")), sheet=f.get("sheet"),
                        skip_rows=self.integer(f.get("skip_rows"), f"{where}.skip_rows"),
                        skip_after_header=self.integer(f.get("skip_after_header"), f"{where}.skip_after_header"),
                        timezone=self.zone(f.get("timezone"), f"{where}.timezone"),
                        date_format=self.formats(f.get("date_format"), f"{where}.date_format") or fmt)
        tables = f.get("tables")
        if not isinstance(tables, list) or not tables:
            self.err(f"{where}.tables", "missing: give at least one [[files.tables]] with `table` and `columns`")
            return spec
        for j, t in enumerate(tables):
            ts = self.table(t, f"{where}.tables[{j}]")
            if ts:
                spec.tables.append(ts)
        return spec

    def table(self, t, where: str) -> TableSpec | None:
        if not isinstance(t, dict):
            self.err(where, "expected a table with `table` and `columns`")
            return None
        self.keys(t, TABLE_KEYS, where)
        name = t.get("table")
        if name not in TABLES:
            self.err(f"{where}.table", f"'{name}' is not a canonical table{_near(name, TABLES)}" if name
                     else "missing: which canonical table this file feeds (e.g. calls, surveys, tickets)")
            return None
        model = TABLES[name]
        cols = t.get("columns")
        if not isinstance(cols, dict) or not cols:
            self.err(f"{where}.columns", f"missing: map the columns of {name} (e.g. {model.names[0]} = \"Id\")")
            return None
        spec = TableSpec(name, where, [])
        for target, c in cols.items():
            if target not in model.names:
                self.err(f"{where}.columns.{target}", f"not a column of {name}{_near(target, model.names)} "
                                                      "(other columns go under `extras`)")
                continue
            cs = self.column(target, model.column(target).type, c, f"{where}.columns.{target}")
            if cs:
                spec.columns.append(cs)
        extras = t.get("extras") or {}
        if not isinstance(extras, dict):
            self.err(f"{where}.extras", "expected a table of extra columns (name = source column)")
            extras = {}
        for target, c in extras.items():
            if target in model.names:
                self.err(f"{where}.extras.{target}", f"{target} is a column of {name}: map it under `columns`")
                continue
            cs = self.column(target, "string", c, f"{where}.extras.{target}")
            if cs:
                spec.columns.append(cs)
        mapped = {c.target for c in spec.columns}
        missing = [c.name for c in model.columns if c.required and c.name not in mapped]
        if missing and not any(e.startswith(f"{self.path.name}: {where}.columns") for e in self.errors):
            self.err(f"{where}.columns", f"table {name} needs {', '.join(missing)} (map a source column, or give a "
                                         f"constant, e.g. {missing[0]} = {{ value = \"...\" }})")
        wp = t.get("when_present", [])
        spec.when_present = [wp] if isinstance(wp, str) else list(wp) if isinstance(wp, list) else []
        if not isinstance(wp, (str, list)):
            self.err(f"{where}.when_present", "expected a source column name or a list of them")
        return spec

    def column(self, target: str, typ: str, c, where: str) -> ColumnSpec | None:
        if isinstance(c, str):
            return ColumnSpec(target, typ, where, "column", source=c)
        if not isinstance(c, dict):
            self.err(where, f"expected a source column name or a table of options ({', '.join(COLUMN_KEYS)})")
            return None
        self.keys(c, COLUMN_KEYS, where)
        kinds = [k for k in SOURCES if k in c]
        if len(kinds) != 1:
            self.err(where, f"give exactly one of {', '.join(SOURCES)} (found: {', '.join(kinds) or 'none'})")
            return None
        kind = kinds[0]
        spec = ColumnSpec(target, typ, where, kind)
        if kind == "value":
            spec.value = None if c["value"] is None else text(c["value"])
        elif not isinstance(c[kind], str) or not c[kind]:
            self.err(f"{where}.{kind}", "expected text")
            return None
        else:
            spec.source = c[kind]
        if kind == "expr":
            try:
                spec.expr = parse_expr(spec.source)
            except ExprError as e:
                self.err(f"{where}.expr", f"{e} in '{spec.source}'")
        if "time" in c:
            if kind != "date":
                self.err(f"{where}.time", "a time column combines with `date` (date = \"Date\", time = \"Time\")")
            spec.time = str(c["time"])
        if kind == "date" and typ not in ("timestamp", "date"):
            self.err(f"{where}.date", f"{target} is a {typ}, not a timestamp")
        for k in ("format", "time_format"):
            if k in c and typ not in ("timestamp", "date"):
                self.err(f"{where}.{k}", f"{target} is a {typ}: date formats are for timestamps and dates")
        spec.formats = self.formats(c.get("format"), f"{where}.format")
        tf = c.get("time_format")
        if tf is not None and (not isinstance(tf, str) or "%" not in tf):
            self.err(f"{where}.time_format", f"'{tf}' is not a time format (e.g. '%H:%M:%S' or '%I:%M %p')")
        spec.time_format = tf
        if "map" in c:
            m = c["map"]
            if not isinstance(m, dict) or not m:
                self.err(f"{where}.map", "expected a table of source value = target value")
            else:
                spec.map = {text(k).strip().casefold(): (None if v is None else text(v)) for k, v in m.items()}
        for k in ("other", "default"):
            if k in c:
                setattr(spec, k, None if c[k] is None else text(c[k]))
        if "other" in c and "map" not in c:
            self.err(f"{where}.other", "`other` is the value for source values missing from `map`; give a `map`")
        if "duration" in c:
            d = c["duration"]
            if d not in DURATIONS:
                self.err(f"{where}.duration", f"'{d}' is not a duration unit (expected one of: {', '.join(DURATIONS)})")
            elif typ not in ("number", "integer"):
                self.err(f"{where}.duration", f"{target} is a {typ}: durations are for seconds columns")
            spec.duration = d
        if "when" in c:
            spec.when = self.when(c["when"], f"{where}.when")
        return spec

    def when(self, w, where: str) -> When | None:
        if not isinstance(w, dict) or "column" not in w:
            self.err(where, "expected { column = \"...\", in = [...] } (or not_in = [...], or no list: any value)")
            return None
        self.keys(w, ("column", "in", "not_in"), where)
        vals = w.get("in", w.get("not_in"))
        if vals is not None and not isinstance(vals, list):
            vals = [vals]
        return When(str(w["column"]), None if vals is None else {text(v).strip().casefold() for v in vals},
                    negate="not_in" in w)
