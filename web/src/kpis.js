import { apiPath, whereFor } from "./state.js";

// The KPIs the dashboard shows as cards, in this order (those the catalog lacks are skipped).
export const CARD_KPIS = [
  "ticket_volume", "first_response_time", "avg_resolution_time", "resolution_rate",
  "fcr_rate", "sla_first_response_met", "backlog", "csat", "nps", "ces",
  "abandonment_rate", "aht",
];
// The KPIs drawn as trend charts.
export const TREND_KPIS = ["ticket_volume", "first_response_time", "resolution_rate", "csat"];

/** The series request for a KPI under the current view; `dropped` lists filters it cannot take. */
export function kpiRequest(item, state, extra = {}) {
  const { where, dropped } = whereFor(state.filters, item?.dimensions || item?.dims || null);
  const path = apiPath(`/api/kpis/${encodeURIComponent(item.id)}`, {
    by: state.by, from: state.from, to: state.to, where, ...extra,
  });
  return { path, where, dropped };
}

/** Only the total rows of a KPI series (rows without a dimension value), oldest first. */
export function totals(rows, dims = []) {
  return (rows || [])
    .filter((r) => dims.every((d) => r[d] === undefined || r[d] === null))
    .sort((a, b) => (a.period_start < b.period_start ? -1 : 1));
}
