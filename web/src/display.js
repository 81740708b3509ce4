// What the server already formatted: values come with `display` strings made by the one formatter
// (core/display.py, CLDR), so the dashboard reads like the CLI and the reports ("1 hr 25 min", not
// 5100 s). The local formatter (format.js) is only the fallback when an answer has no display.
import { formatValue } from "./format.js";

/** A KPI row's value as the server wrote it, else formatted here. */
export function shownValue(row, unit, lang, units = {}) {
  const text = row?.display?.value;
  if (typeof text === "string") return text;
  return formatValue(row?.value ?? null, unit, lang, units);
}

/** A dimension value (a category, a channel) as the server labels it, else the id. */
export function shownLabel(row, dim) {
  const text = row?.display?.[dim];
  return typeof text === "string" ? text : row?.[dim] ?? "";
}

/** The drawer's columns: [{id, label}] in the page's language, from the rows answer's `columns`
 * (readable labels from the catalog), else the ids of the rows; in_numerator second. */
export function drawerColumns(data, rows, lang) {
  let ids = [...new Set((rows || []).flatMap((r) => Object.keys(r)))];
  // whether a record counts in the numerator goes right after its key, where it is seen
  if (ids.includes("in_numerator")) ids = [ids[0], "in_numerator", ...ids.slice(1).filter((c) => c !== "in_numerator")];
  const named = new Map((data?.columns || []).map((c) => [c.id, c.labels?.[lang] || c.labels?.en || c.id]));
  return ids.map((id) => ({ id, label: named.get(id) || id }));
}

/** Whether the records say which count in the numerator (a ratio's rows carry in_numerator). */
export const marksNumerator = (rows) => (rows || []).some((r) => typeof r?.in_numerator === "boolean");

/** The class of a record's row: "counted" when it counts in the numerator. */
export const rowClass = (row) => (row?.in_numerator === true ? "counted" : "");

/** A drawer cell: a category, channel or team id as the server labels it (the rows answer's
 * `values`, core/display.py), like the charts name it; other values as they are. */
export function drawerCell(data, row, id, lang) {
  const v = row?.[id];
  if (v === null || v === undefined) return "";
  const named = data?.values?.[id]?.[String(v)];
  return named ? named[lang] || named.en || String(v) : String(v);
}
