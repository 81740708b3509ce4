"""Value conversions of `--source csv`: date formats and time zones, durations, simple expressions."""
from __future__ import annotations

import datetime as dt
import itertools
import re
from functools import lru_cache
from zoneinfo import ZoneInfo

DURATIONS = {"h:mm:ss": None, "seconds": 1, "minutes": 60, "hours": 3600, "ms": 0.001}
UNITS = {"second": 1, "seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600,
         "day": 86400, "days": 86400}
TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%H:%M:%S.%f", "%I:%M:%S %p", "%I:%M %p")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # Excel's day 0 (1900 date system, leap-year bug included)


class Invalid(ValueError):
    """A value that cannot be read as asked: the reason, for the notes."""


# ---- times --------------------------------------------------------------------------------

def parse_time(raw: str, formats: list[str] | None) -> dt.datetime:
    """A source date/time as a datetime (naive = local wall time; aware = absolute)."""
    return _parse_time(raw.strip(), tuple(formats or ("iso",)))


@lru_cache(maxsize=1 << 16)  # exports repeat their dates: strptime is the hot path
def _parse_time(s: str, formats: tuple[str, ...]) -> dt.datetime:
    for f in formats:
        try:
            if f == "iso":
                return dt.datetime.fromisoformat(s[:-1] + "+00:00" if s[-1:] in "zZ" else s)
            if f == "excel":
                # to the millisecond, as Excel keeps it (0.5416666667 of a day is 13:00:00, not 12:59:59.99997)
                return EXCEL_EPOCH + dt.timedelta(milliseconds=round(float(s) * 86_400_000))
            if f in ("epoch", "epoch_ms"):
                secs = float(s) / (1000 if f == "epoch_ms" else 1)
                return dt.datetime.fromtimestamp(secs, dt.timezone.utc)
            return dt.datetime.strptime(s, f)
        except (ValueError, OverflowError, OSError):
            continue
    raise Invalid(f"does not match {' or '.join(repr(f) for f in formats)}")


def parse_clock(raw: str, fmt: str | None) -> dt.timedelta:
    return _parse_clock(raw.strip(), fmt)


@lru_cache(maxsize=1 << 16)
def _parse_clock(s: str, fmt: str | None) -> dt.timedelta:
    for f in [fmt] if fmt else TIME_FORMATS:
        try:
            t = dt.datetime.strptime(s, f)
            return dt.timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)
        except ValueError:
            continue
    try:  # an Excel time: a fraction of a day
        x = float(s)
        if 0 <= x < 1:
            return dt.timedelta(days=x)
    except ValueError:
        pass
    raise Invalid(f"is not a time of day (expected {fmt or 'HH:MM[:SS] or HH:MM AM/PM'})")


@lru_cache(maxsize=1 << 16)
def localize(t: dt.datetime, tz: str | None) -> dt.datetime:
    """A naive wall time in tz -> aware; rejects a time skipped by DST, reads a repeated one as the earlier."""
    if t.tzinfo is not None or tz is None:
        return t
    z = ZoneInfo(tz)
    aware = t.replace(tzinfo=z, fold=0)
    if aware.astimezone(dt.timezone.utc).astimezone(z).replace(tzinfo=None) != t:
        raise Invalid(f"does not exist in {tz} (skipped by a DST change)")
    return aware


def show_time(t: dt.datetime, date_only: bool = False) -> str:
    """Canonical text: UTC with Z when absolute; naive ISO (read in --source-tz by the import) otherwise."""
    if date_only:
        return t.date().isoformat()
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return t.isoformat(sep="T") + "Z"
    return t.isoformat(sep=" ")


# ---- durations --------------------------------------------------------------------------------

def parse_duration(raw: str, unit: str) -> float:
    s = raw.strip()
    if unit == "h:mm:ss":
        parts = s.split(":")
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            raise Invalid("is not a duration (expected H:MM:SS or M:SS, e.g. 0:04:35)") from None
        if len(nums) == 1 or len(nums) > 3 or any(n < 0 for n in nums):
            raise Invalid("is not a duration (expected H:MM:SS or M:SS, e.g. 0:04:35)")
        secs = 0.0
        for n in nums:
            secs = secs * 60 + n
        return secs
    try:
        return float(s) * DURATIONS[unit]
    except ValueError:
        raise Invalid(f"is not a number of {unit}") from None


def number_text(x: float) -> str:
    x = round(x, 6)
    return str(int(x)) if float(x).is_integer() else repr(x)


# ---- expressions: entered_at + [Speed of answer] seconds -----------------------------------------

class ExprError(ValueError):
    pass


TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|\[([^\]]+)\]|([A-Za-z_][A-Za-z0-9_]*)|([-+*/()]))")


def parse_expr(text: str):
    """term (+|- term)*; term: factor (*|/ factor)*; factor: number | name | [Source Column] | (expr),
    each optionally followed by a unit (seconds, minutes, hours, days)."""
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"unexpected '{text[pos:].strip()[:10]}'")
        num, bracket, name, op = m.groups()
        tokens.append(("num", float(num)) if num else ("src", bracket) if bracket else
                      ("name", name) if name else ("op", op))
        pos = m.end()
    depth = max(itertools.accumulate({"(": 1, ")": -1}.get(v, 0) for k, v in tokens if k == "op"), default=0)
    if depth > 32 or len(tokens) > 200:  # the parser recurses per level; a mapping needs far fewer
        raise ExprError(f"the expression is {'nested deeper than 32 parentheses' if depth > 32 else 'longer than 200 parts'}")
    p = _Parser(tokens)
    node = p.expr()
    if p.i != len(tokens):
        raise ExprError(f"unexpected '{tokens[p.i][1]}'")
    return node


class _Parser:
    def __init__(self, tokens):
        self.t, self.i = tokens, 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def expr(self):
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.t[self.i][1]
            self.i += 1
            node = ("bin", op, node, self.term())
        return node

    def term(self):
        node = self.factor()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.t[self.i][1]
            self.i += 1
            node = ("bin", op, node, self.factor())
        return node

    def factor(self):
        kind, v = self.peek()
        self.i += 1
        if kind == "num":
            node = ("num", v)
        elif kind in ("src", "name"):
            if kind == "name" and v in UNITS:
                raise ExprError(f"'{v}' needs a value before it")
            node = ("ref", v, kind == "src")
        elif (kind, v) == ("op", "("):
            node = self.expr()
            if self.peek() != ("op", ")"):
                raise ExprError("missing ')'")
            self.i += 1
        elif (kind, v) == ("op", "-"):
            node = ("bin", "-", ("num", 0.0), self.factor())
        else:
            raise ExprError("expression ends early" if kind is None else f"unexpected '{v}'")
        kind, v = self.peek()
        if kind == "name" and v in UNITS:
            self.i += 1
            node = ("bin", "*", node, ("num", float(UNITS[v])))
        return node


def refs(node) -> list[tuple[str, bool]]:
    if node[0] == "ref":
        return [(node[1], node[2])]
    if node[0] == "bin":
        return refs(node[2]) + refs(node[3])
    return []


def evaluate(node, lookup):
    """lookup(name, bracketed) -> float | datetime | None; None (a missing operand) makes the result None."""
    k = node[0]
    if k == "num":
        return node[1]
    if k == "ref":
        return lookup(node[1], node[2])
    a, b = evaluate(node[2], lookup), evaluate(node[3], lookup)
    if a is None or b is None:
        return None
    op = node[1]
    ta, tb = isinstance(a, dt.datetime), isinstance(b, dt.datetime)
    if not ta and not tb:
        if op == "/" and b == 0:
            raise Invalid("divides by zero")
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0}[op]
    try:
        if ta and not tb and op in "+-":
            return a + dt.timedelta(seconds=b if op == "+" else -b)
        if tb and not ta and op == "+":
            return b + dt.timedelta(seconds=a)
    except (OverflowError, ValueError):  # beyond year 1..9999 (or an infinite or NaN number of seconds)
        raise Invalid("gives a time out of range (before year 1 or after 9999)") from None
    if ta and tb and op == "-":
        if (a.tzinfo is None) != (b.tzinfo is None):
            raise Invalid("subtracts a time with an offset from one without")
        return (a - b).total_seconds()
    raise Invalid(f"cannot {'add' if op == '+' else 'apply ' + op + ' to'} two times" if ta and tb
                  else f"cannot apply {op} to a time")
