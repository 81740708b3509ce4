"""Set-wise row validation: one SQL pass types every column and names the first broken rule.

Rules come from model.py; every message says where, what was found and what was expected.
"""
from __future__ import annotations

import datetime as dt

from servicekpi.core.instants import DEFAULT_INSTANTS
from servicekpi.core.model import SURVEY_SCALES, Column, Table
from servicekpi.store.db import quote

EXPECT = {
    "timestamp": "expected ISO 8601, e.g. 2026-02-28T10:00:00Z",
    "date": "expected a date YYYY-MM-DD, e.g. 2026-02-28",
    "integer": "expected a whole number, e.g. 3",
    "number": "expected a number, e.g. 4.5",
    "boolean": "expected true/false, 1/0, yes/no or y/n",
}
TRUE = "('true','1','yes','y','t')"
FALSE = "('false','0','no','n','f')"
OFFSET = r"'\d:\d\d(:\d\d(\.\d+)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?)$'"
VALID_OFFSET = r"'([zZ]|[+-](0\d|1[0-4])(:?[0-5]\d)?)$'"




def _day(t: dt.datetime) -> str:
    return t.date().isoformat() if t.time() == dt.time() else t.isoformat(sep=" ")


def lit(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _show(expr: str) -> str:
    """A value quoted for an error message."""
    return f"'''' || CAST({expr} AS VARCHAR) || ''''"


def _local_to_utc(naive: str, tz: str) -> str:
    """Naive local wall time in tz -> naive UTC; the earlier instant when it occurs twice."""
    if tz == "UTC":
        return naive
    z = lit(tz)
    later = f"timezone('UTC', timezone({z}, {naive}))"
    earlier = f"({later} - INTERVAL 1 HOUR)"
    return (f"CASE WHEN timezone({z}, timezone('UTC', {earlier})) = {naive} "
            f"THEN {earlier} ELSE {later} END")


def _typed(col: Column, raw: str, src_type: str | None, tz: str) -> str:
    """SQL typing one source column (raw = its trimmed value, NULL when empty)."""
    t = col.type
    if t in ("string", "enum"):
        v = f"CAST({raw} AS VARCHAR)"
        return f"lower({v})" if t == "enum" else v
    if t == "number":  # NaN and infinities are not numbers here (see _rules)
        d = f"TRY_CAST({raw} AS DOUBLE)"
        return f"CASE WHEN isfinite({d}) THEN {d} END"
    if t == "integer":  # digits cast exactly (beyond int64: rejected), else a whole finite double
        d = f"TRY_CAST({raw} AS DOUBLE)"
        via = f"CASE WHEN isfinite({d}) AND {d} = floor({d}) AND abs({d}) < 9007199254740992 THEN CAST({d} AS BIGINT) END"
        if src_type in (None, "VARCHAR"):
            return (f"CASE WHEN regexp_matches(CAST({raw} AS VARCHAR), '^[+-]?[0-9]+$') "
                    f"THEN TRY_CAST(CAST({raw} AS VARCHAR) AS BIGINT) ELSE {via} END")
        return via
    if t == "boolean":
        if src_type == "BOOLEAN":
            return raw
        v = f"lower(CAST({raw} AS VARCHAR))"
        return f"CASE WHEN {v} IN {TRUE} THEN TRUE WHEN {v} IN {FALSE} THEN FALSE END"
    if t == "date":
        return f"TRY_CAST({raw} AS DATE)"
    if t == "timestamp":
        if src_type and src_type.startswith("TIMESTAMP WITH TIME ZONE"):
            return f"timezone('UTC', {raw})"
        if src_type and (src_type.startswith("TIMESTAMP") or src_type == "DATE"):
            return _local_to_utc(f"CAST({raw} AS TIMESTAMP)", tz)
        v = f"CAST({raw} AS VARCHAR)"
        absolute = (f"CASE WHEN regexp_matches({v}, {VALID_OFFSET}) "
                    f"THEN timezone('UTC', TRY_CAST({v} AS TIMESTAMPTZ)) END")
        local = _local_to_utc(f"TRY_CAST({v} AS TIMESTAMP)", tz)
        return f"CASE WHEN regexp_matches({v}, {OFFSET}) THEN {absolute} ELSE {local} END"
    raise ValueError(t)


def _nonexistent(raw: str, typed: str, src_type: str | None, tz: str) -> str | None:
    """A naive local time skipped by a DST change does not round-trip."""
    if tz == "UTC" or (src_type and src_type.startswith("TIMESTAMP WITH TIME ZONE")):
        return None
    naive = f"TRY_CAST(CAST({raw} AS VARCHAR) AS TIMESTAMP)" if not src_type or src_type == "VARCHAR" \
        else f"CAST({raw} AS TIMESTAMP)"
    check = f"timezone({lit(tz)}, timezone('UTC', {typed})) <> {naive}"
    if not src_type or src_type == "VARCHAR":
        check = f"NOT regexp_matches(CAST({raw} AS VARCHAR), {OFFSET}) AND {check}"
    return check


def build(table: Table, source_types: dict[str, str], extras: list[str], tz: str, stage: str,
          instants: tuple[dt.datetime, dt.datetime] | None = None) -> str:
    """SELECT over `stage` giving typed canonical columns, extras, __line, __col, __reason.
    instants: the valid range [earliest, latest) of timestamps and dates (default DEFAULT_INSTANTS)."""
    instants = instants or DEFAULT_INSTANTS
    raw_sel, typed_sel, checks = [], [], []
    for c in table.columns:
        r = f"__r_{c.name}"  # internal names start with __, which no kept user column can
        if c.name in source_types:
            st = source_types[c.name]
            src = quote(c.name)
            raw_sel.append(f"{('NULLIF(trim(' + src + '), ' + lit('') + ')') if st == 'VARCHAR' else src} AS {r}")
            typed = _typed(c, r, st, tz)
            typed_sel.append(f"{typed} AS __t_{c.name}")
            gap = _nonexistent(r, f"__t_{c.name}", st, tz) if c.type == "timestamp" else None
        else:
            raw_sel.append(f"NULL AS {r}")
            typed_sel.append(f"NULL AS __t_{c.name}")
            gap = None
        checks += _rules(c, r, gap, instants)
    for c in table.columns:
        for other in c.not_before:
            checks.append((c.name, f"__t_{c.name} < __t_{other}",
                           f"{lit(c.name + ' ')} || CAST(__t_{c.name} AS VARCHAR) || {lit(' is before ' + other + ' ')}"
                           f" || CAST(__t_{other} AS VARCHAR) || {lit(' (it must not be earlier)')}"))
    checks += _table_rules(table)
    final = []
    for c in table.columns:
        typed = f"__t_{c.name}"
        if c.default is not None:
            d = lit(c.default) if isinstance(c.default, str) else str(c.default).upper()
            typed = f"coalesce({typed}, {d})"
        if table.name == "surveys" and c.name in ("scale_min", "scale_max"):
            i = 0 if c.name == "scale_min" else 1
            typed = f"coalesce({typed}, CASE __t_survey " + " ".join(
                f"WHEN {lit(k)} THEN {v[i]}" for k, v in SURVEY_SCALES.items()) + " END)"
        final.append(f"{typed} AS {quote(c.name)}")
    final += [f"CAST({quote(x)} AS VARCHAR) AS {quote(x)}" for x in extras]
    case = " ".join(f"WHEN {cond} THEN {lit(col)}" for col, cond, _ in checks)
    reason = " ".join(f"WHEN {cond} THEN {msg}" for col, cond, msg in checks)
    return (
        f"SELECT {', '.join(final)}, __line, "
        f"CASE {case} END AS __col, CASE {reason} END AS __reason FROM ("
        f"SELECT *, {', '.join(typed_sel)} FROM ("
        f"SELECT *, {', '.join(raw_sel)} FROM {stage}))"
    )


def raw_json(columns: list[str]) -> str:
    """The source row as JSON text, for the quarantine."""
    return "CAST(to_json(struct_pack(" + ", ".join(f"{quote(n)} := s.{quote(n)}" for n in columns) + ")) AS VARCHAR)"


def _rules(c: Column, r: str, gap: str | None, instants: tuple) -> list[tuple[str, str, str]]:
    t = f"__t_{c.name}"
    out = []
    if c.required:
        out.append((c.name, f"{r} IS NULL", lit("missing required value")))
    if c.type in ("number", "integer"):
        d = f"TRY_CAST({r} AS DOUBLE)"
        out.append((c.name, f"{d} IS NOT NULL AND NOT isfinite({d})",
                    f"{_show(r)} || {lit(' is not a finite number (NaN and infinities are not accepted)')}"))
    if c.type == "integer":
        d = f"TRY_CAST({r} AS DOUBLE)"
        out.append((c.name, f"{d} IS NOT NULL AND {t} IS NULL AND {d} = floor({d})",
                    f"{_show(r)} || {lit(' is too large a whole number (expected at most 18 digits)')}"))
    if c.type in ("timestamp", "date"):
        lo, hi = instants
        cond = (f"{t} IS NOT NULL AND ({t} < TIMESTAMP {lit(lo.isoformat(sep=' '))} "
                f"OR {t} >= TIMESTAMP {lit(hi.isoformat(sep=' '))})")
        why = (f" is out of range (expected an instant from {_day(lo)} to before {_day(hi)} UTC; "
               "set [instants] in the config to change the range)")
        out.append((c.name, cond, f"{_show(r)} || {lit(why)}"))
    if c.type not in ("string", "enum"):
        article = "an" if c.type[0] in "aeiou" else "a"
        msg = f"{_show(r)} || {lit(f' is not {article} {c.type} ({EXPECT[c.type]})')}"
        out.append((c.name, f"{r} IS NOT NULL AND {t} IS NULL", msg))
    if gap:
        out.append((c.name, gap, f"{_show(r)} || {lit(' does not exist in the source time zone (skipped by a DST change); give an offset, e.g. +03:00')}"))
    if c.allowed:
        allowed = "(" + ", ".join(lit(a) for a in c.allowed) + ")"
        out.append((c.name, f"{t} IS NOT NULL AND {t} NOT IN {allowed}",
                    f"{_show(t)} || {lit(' is not one of: ' + ', '.join(c.allowed))}"))
    if c.min is not None:
        op = "<=" if c.min_exclusive else "<"
        word = "greater than" if c.min_exclusive else "at least"
        out.append((c.name, f"{t} {op} {c.min}", f"{_show(r)} || {lit(f' is out of range (expected {word} {c.min:g})')}"))
    if c.max is not None:
        out.append((c.name, f"{t} > {c.max}", f"{_show(r)} || {lit(f' is out of range (expected at most {c.max:g})')}"))
    return out


def _table_rules(table: Table) -> list[tuple[str, str, str]]:
    if table.name == "surveys":
        lo = "coalesce(__t_scale_min, CASE __t_survey " + " ".join(
            f"WHEN {lit(k)} THEN {v[0]}" for k, v in SURVEY_SCALES.items()) + " END)"
        hi = "coalesce(__t_scale_max, CASE __t_survey " + " ".join(
            f"WHEN {lit(k)} THEN {v[1]}" for k, v in SURVEY_SCALES.items()) + " END)"
        return [
            ("scale_max", f"{lo} >= {hi}", lit("scale_min must be below scale_max")),
            ("score", f"__t_score < {lo} OR __t_score > {hi}",
             f"{_show('__r_score')} || ' is out of range (expected ' || CAST({lo} AS VARCHAR) || '..' "
             f"|| CAST({hi} AS VARCHAR) || ' for a ' || __t_survey || ' answer)'"),
        ]
    if table.name == "quality_reviews":
        return [("score", "__t_score > __t_max_score",
                 f"{_show('__r_score')} || ' is out of range (expected 0..' || CAST(__t_max_score AS VARCHAR) || ', the max_score)'")]
    return []
