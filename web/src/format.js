// Numbers, periods and the state of a KPI value, in the dashboard's language.
// No KPI arithmetic happens here: values come from the API as they are.

// Thai dates in the Gregorian calendar, as the date pickers, the API and the reports write them.
const LOCALES = { en: "en-GB", zh: "zh-CN", ro: "ro-RO", th: "th-TH-u-ca-gregory" };
export const locale = (lang) => LOCALES[lang] || "en-GB";

// Digits after the decimal point, per unit of the catalog.
const DIGITS = {
  count: 0, percent: 1, points: 1, minutes: 1, hours: 1, seconds: 0,
  ratio: 2, score: 2, currency: 2, tickets_per_day: 1,
};

export function formatNumber(value, lang, digits = 0) {
  return new Intl.NumberFormat(locale(lang), {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/**
 * A KPI value with its unit: 61.4 %, 12.5 min, 1,234. `units` maps a unit to its short
 * label in the current language ({minutes: "min"}); a unit without a label is left out.
 */
export function formatValue(value, unit, lang, units = {}) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const digits = unit in DIGITS ? DIGITS[unit] : Number.isInteger(value) ? 0 : 2;
  const n = formatNumber(value, lang, digits);
  const label = units[unit];
  if (unit === "percent") return `${n}${label ?? "%"}`;
  return label ? `${n} ${label}` : n;
}

/** An axis tick: at most one decimal, none when whole (12.5%); minutes from two hours up read as
 * hours (1,600 min is 26.7 h), as the values' display strings do ("26 hr 40 min"). */
export function formatTick(value, unit, lang, units = {}) {
  if (unit === "minutes" && Math.abs(value) >= 120 && units.hours) return formatTick(value / 60, "hours", lang, units);
  const n = new Intl.NumberFormat(locale(lang), { maximumFractionDigits: 1 }).format(value);
  const label = units[unit];
  if (unit === "percent") return `${n}${label ?? "%"}`;
  return label ? `${n} ${label}` : n;
}

/** Axis ticks of a minutes axis from two hours up: whole hours (every 1, 2, 3, 4, 6, 12 or 24 h,
 * at most 8 steps), so the labels read 4 h, 8 h, 12 h rather than 3.3 h, 6.7 h; null below. */
export function hourTicks(max) {
  if (!(max >= 120)) return null;
  const step = [60, 120, 180, 240, 360, 720, 1440].find((s) => max / s <= 8) ?? 60 * 24 * Math.ceil(max / 11520);
  const ticks = [];
  for (let v = 0; v < max + step; v += step) ticks.push(v);
  return ticks;
}

/** A change against the previous period, always signed: +7.0, −0.3. */
export function formatChange(change, unit, lang) {
  if (change === null || change === undefined) return "";
  const digits = unit in DIGITS ? DIGITS[unit] : 2;
  const n = formatNumber(Math.abs(change), lang, digits);
  return (change > 0 ? "+" : change < 0 ? "−" : "±") + n;
}

/**
 * What a KPI's rows say, for a card or a chart:
 *   unavailable  the store lacks the table this KPI reads (a note starting with "unavailable")
 *   nodata       no rows, or value null (no denominator, nothing counted)
 *   zero         the value is a real 0
 *   value        any other number
 * `row` is the one a card shows: the latest whole period with a value, else the latest partial
 * one with a value (partial: true: not finished yet, or cut by the range), else the latest row.
 */
export function classify(rows) {
  if (!Array.isArray(rows) || rows.length === 0) return { kind: "nodata", row: null, note: "" };
  const unavailable = rows.find((r) => typeof r.note === "string" && /^unavailable/i.test(r.note));
  if (unavailable && rows.every((r) => r.value === null || r.value === undefined))
    return { kind: "unavailable", row: unavailable, note: unavailable.note };
  const withValue = rows.filter((r) => r.value !== null && r.value !== undefined);
  const whole = withValue.filter((r) => !r.partial);
  const row = whole.at(-1) || withValue.at(-1) || rows.at(-1);
  if (!withValue.length) return { kind: "nodata", row, note: row.note || "" };
  return { kind: row.value === 0 ? "zero" : "value", row, note: row.note || "" };
}

/** One series per KPI: rows sorted by period_start, keeping only the total rows (no dims). */
export function series(rows) {
  return [...(rows || [])].sort((a, b) => (a.period_start < b.period_start ? -1 : a.period_start > b.period_start ? 1 : 0));
}

/** A period's name: "Oct 2026" by month, "5 Oct 2026" (week of) or the day. */
export function formatPeriod(start, by, lang) {
  if (!start) return "";
  const [y, m, d] = start.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  const opts = by === "month"
    ? { year: "numeric", month: "short", timeZone: "UTC" }
    : { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" };
  return new Intl.DateTimeFormat(locale(lang), opts).format(date);
}

/** Short weekday names, Monday first (ISO weekday 1..7), in the language. */
export function weekdayNames(lang) {
  // 2024-01-01 was a Monday
  return Array.from({ length: 7 }, (_, i) =>
    new Intl.DateTimeFormat(locale(lang), { weekday: "short", timeZone: "UTC" }).format(new Date(Date.UTC(2024, 0, 1 + i))),
  );
}

/** The KPI's text in the language, falling back to English, then to the id. */
export function pick(texts, lang, fallback = "") {
  if (!texts) return fallback;
  if (typeof texts === "string") return texts;
  return texts[lang] || texts.en || fallback;
}
