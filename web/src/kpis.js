import { apiPath, whereFor } from "./state.js";

// The KPIs the dashboard shows as cards, in this order (those the catalog lacks are skipped).
export const CARD_KPIS = [
  "ticket_volume", "first_response_time", "avg_resolution_time", "resolution_rate",
  "fcr_rate", "sla_first_response_met", "backlog", "csat", "nps", "ces",
  "abandonment_rate", "aht",
];
// The KPIs drawn as trend charts.
export const TREND_KPIS = ["ticket_volume", "first_response_time", "resolution_rate", "csat"];

/** The series request for a KPI under the current view; `dropped` lists filters it cannot take.
 * lang asks the server for `display` strings (core/display.py) in the page's language. */
export function kpiRequest(item, state, extra = {}) {
  const { where, dropped } = whereFor(state.filters, item?.dimensions || item?.dims || null);
  const path = apiPath(`/api/kpis/${encodeURIComponent(item.id)}`, {
    by: state.by, from: state.from, to: state.to, where, lang: state.lang, ...extra,
  });
  return { path, where, dropped };
}

/** Only the total rows of a KPI series (rows without a dimension value), oldest first. */
export function totals(rows, dims = []) {
  return (rows || [])
    .filter((r) => dims.every((d) => r[d] === undefined || r[d] === null))
    .sort((a, b) => (a.period_start < b.period_start ? -1 : 1));
}

/**
 * A KPI answer is a JSON array of rows, or an object {rows, warnings} (a where= value that matches
 * nothing comes back as a warning): either way {rows, warnings}.
 */
export function answer(data) {
  const rows = Array.isArray(data) ? data : data?.rows || [];
  const warnings = [...(Array.isArray(data?.warnings) ? data.warnings : [])];
  for (const r of rows) for (const w of r?.warnings || []) if (!warnings.includes(w)) warnings.push(w);
  return { rows, warnings };
}

// Below this many answers (the denominator of a rate or an average) a card says "few answers".
export const MIN_SAMPLE = 30;

/** The sample behind a card's value: {n, few}; null for a count, where the value is the count. */
export function sample(row, unit, min = MIN_SAMPLE) {
  if (!row || unit === "count" || row.value === null || row.value === undefined) return null;
  const n = row.n ?? row.denominator;
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return null;
  return { n: Number(n), few: Number(n) < min };
}

/** Two series aligned by position: the i-th period of the range against the i-th of the compared one. */
export function aligned(rows, compared) {
  return rows.map((_, i) => (compared[i] ? compared[i].value ?? null : null));
}
