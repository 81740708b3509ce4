"""Hand-built inline SVG charts for the HTML/PDF report: no scripts, no external requests.

The SVGs are inline in HTML5, so they need no xmlns (the page holds no URL at all).

Text inside the SVGs inherits the page's font stack (CSS), so Chinese and Thai axis
labels use the same system fonts as the rest of the page. Every string is escaped.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from html import escape
from typing import Callable, Sequence

# Okabe-Ito, then Tableau-like extras: distinguishable with common colour-vision deficiencies
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#8C564B", "#7F7F7F", "#17BECF", "#BCBD22")
SPIKE = "#C0392B"


@dataclass
class Line:
    name: str
    values: Sequence[float | None]
    colour: str = PALETTE[0]
    marks: set[int] = field(default_factory=set)  # period indexes drawn as spike markers


def nice_ticks(lo: float, hi: float, count: int = 5, min_step: float = 0.0) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5, 5 x 10^n steps, at least min_step apart)."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = (lo, hi + pad) if lo == 0 else (lo - pad, hi + pad)  # all zero: 0..1, never -1..1
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = max(next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), min_step)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def text_width(s: str, size: float = 11) -> float:
    """Estimated width of a label: CJK full width, Thai marks zero width, others ~0.6 em."""
    w = 0.0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        w += 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.62
    return w * size


def _label_every(n: int, width: float, longest: float) -> int:
    """Show every k-th x label so labels do not overlap."""
    room = width / max(n - 1, 1)
    return max(1, math.ceil((longest + 10) / room))


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" '
            f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>" + "".join(body) + "</svg>")


def _axes(labels: Sequence[str], ticks: list[float], fmt: Callable[[float], str], x0: float, x1: float,
          y: Callable[[float], float], xs: list[float], bottom: float) -> list[str]:
    out = []
    for t in ticks:
        out.append(f'<line class="grid" x1="{_num(x0)}" x2="{_num(x1)}" y1="{_num(y(t))}" y2="{_num(y(t))}"/>')
        out.append(f'<text class="ytick" x="{_num(x0 - 6)}" y="{_num(y(t) + 4)}" text-anchor="end">'
                   f"{escape(fmt(t))}</text>")
    every = _label_every(len(labels), x1 - x0, max((text_width(s) for s in labels), default=0))
    last = len(labels) - 1
    for i, (label, x) in enumerate(zip(labels, xs)):
        # every k-th period counted back from the last (current) one, which is always labelled
        if (last - i) % every == 0:
            out.append(f'<text class="xtick" x="{_num(x)}" y="{_num(bottom + 16)}" text-anchor="middle">'
                       f"{escape(label)}</text>")
    return out


def line_chart(labels: Sequence[str], lines: Sequence[Line], fmt: Callable[[float], str], *,
               title: str = "", target: float | None = None, zero: bool = False, floor: float | None = None,
               counts: bool = False, width: int = 440, height: int = 190, left: int = 56) -> str:
    """Lines over periods; None values leave a gap (no data is never drawn as 0).

    zero: the axis includes 0; floor: the axis starts there and a break mark shows it is cut;
    counts: whole-number ticks, and no data or only zeros give a 0..1 axis (never -1..1)."""
    values = [v for ln in lines for v in ln.values if v is not None and math.isfinite(v)]
    if target is not None:
        values.append(target)
    if not values:
        values = [0.0, 1.0]
    lo, hi = min(values), max(values)
    if zero or counts:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if floor is not None:
        lo = min(floor, lo)
    ticks = nice_ticks(lo, hi, min_step=1.0 if counts else 0.0)
    if floor is not None:
        ticks = [t for t in ticks if t >= floor - 1e-9]
        if ticks[0] > floor:
            ticks.insert(0, floor)
    pad = max(14.0, text_width(labels[-1]) / 2 + 4) if labels else 14.0  # room for the last x label
    top, bottom, x0, x1 = 12.0, height - 26.0, float(left), width - pad
    t_lo, t_hi = ticks[0], ticks[-1]

    def y(v: float) -> float:
        return bottom - (v - t_lo) / ((t_hi - t_lo) or 1) * (bottom - top)

    n = len(labels)
    step = (x1 - x0) / max(n - 1, 1) if n > 1 else 0
    xs = [x0 + i * step for i in range(n)] if n > 1 else [(x0 + x1) / 2]
    body = _axes(labels, ticks, fmt, x0, x1, y, xs, bottom)
    body.append(f'<line class="axis" x1="{_num(x0)}" x2="{_num(x1)}" y1="{_num(bottom)}" y2="{_num(bottom)}"/>')
    if floor is not None and floor != 0:  # the axis does not start at zero: a break mark on it
        body.append(f'<path class="cut" d="M{_num(x0 - 5)},{_num(bottom - 3)} l5,-4 l5,4 M{_num(x0 - 5)},'
                    f'{_num(bottom + 1)} l5,-4 l5,4"/>')
    if target is not None:
        body.append(f'<line class="target" x1="{_num(x0)}" x2="{_num(x1)}" y1="{_num(y(target))}" '
                    f'y2="{_num(y(target))}"><title>{escape(fmt(target))}</title></line>')
    for ln in lines:
        run: list[str] = []
        runs: list[list[str]] = []
        for x, v in zip(xs, ln.values):
            if v is None or not math.isfinite(v):
                if run:
                    runs.append(run)
                run = []
            else:
                run.append(f"{_num(x)},{_num(y(v))}")
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                body.append(f'<polyline class="line" stroke="{ln.colour}" points="{" ".join(r)}"/>')
        for i, (x, v) in enumerate(zip(xs, ln.values)):
            if v is None or not math.isfinite(v):
                continue
            tip = f"{ln.name} · {labels[i] if i < len(labels) else ''}: {fmt(v)}"
            if i in ln.marks:
                body.append(f'<circle class="spike" cx="{_num(x)}" cy="{_num(y(v))}" r="5.5">'
                            f"<title>{escape(tip)}</title></circle>")
            body.append(f'<circle class="dot" fill="{ln.colour}" cx="{_num(x)}" cy="{_num(y(v))}" r="2.6">'
                        f"<title>{escape(tip)}</title></circle>")
    return _frame(width, height, title, body)


def share_bars(labels: Sequence[str], parts: Sequence[tuple[str, Sequence[float | None]]],
               colours: Sequence[str], fmt: Callable[[float], str], *, title: str = "",
               width: int = 560, height: int = 210, left: int = 64) -> str:
    """100 % stacked columns: each part's share (0-100) per period; a period without data stays empty."""
    top, bottom, x0, x1 = 12.0, height - 26.0, float(left), width - 14.0
    ticks = [0.0, 25.0, 50.0, 75.0, 100.0]

    def y(v: float) -> float:
        return bottom - v / 100 * (bottom - top)

    n = max(len(labels), 1)
    slot = (x1 - x0) / n
    bar = max(min(slot * 0.7, 48), 2)
    xs = [x0 + slot * (i + 0.5) for i in range(len(labels))]
    body = _axes(labels, ticks, fmt, x0, x1, y, xs, bottom)
    for i, x in enumerate(xs):
        acc = 0.0
        for (name, shares), colour in zip(parts, colours):
            v = shares[i] if i < len(shares) else None
            if not v:
                continue
            h = y(acc) - y(acc + v)
            body.append(f'<rect x="{_num(x - bar / 2)}" y="{_num(y(acc + v))}" width="{_num(bar)}" '
                        f'height="{_num(max(h, 0))}" fill="{colour}">'
                        f"<title>{escape(f'{name} · {labels[i]}: {fmt(v)}')}</title></rect>")
            acc += v
    body.append(f'<line class="axis" x1="{_num(x0)}" x2="{_num(x1)}" y1="{_num(bottom)}" y2="{_num(bottom)}"/>')
    return _frame(width, height, title, body)


def sparkline(values: Sequence[float | None], *, width: int = 90, height: int = 22, colour: str = PALETTE[0]) -> str:
    """A tiny trend line for a scorecard card (gaps for missing values)."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if len(vals) < 2:
        return ""
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    n = len(values)
    pts, runs = [], []
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            if pts:
                runs.append(pts)
            pts = []
            continue
        x = 2 + i * (width - 4) / max(n - 1, 1)
        yy = height - 3 - (v - lo) / span * (height - 6)
        pts.append(f"{_num(x)},{_num(yy)}")
    if pts:
        runs.append(pts)
    lines = "".join(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(r)}"/>'
                    for r in runs if len(r) > 1)
    return (f'<svg class="spark" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" aria-hidden="true">{lines}</svg>')
