// The dashboard's view lives in the URL query string, so a view can be shared and reloaded:
//   ?from=2026-06-01&to=2026-11-29&by=month&channel=email&team=billing&agent=A01&tier=gold&category=refund&lang=zh
// parseState() never throws: a bad value falls back to its default.

export const GRAINS = ["day", "week", "month"];
export const LANGS = ["en", "zh", "ro", "th"];
// URL key -> column the API filters on with where=column=value
export const FILTERS = [
  { key: "channel", column: "channel" },
  { key: "team", column: "team" },
  { key: "agent", column: "agent_id" },
  { key: "tier", column: "customer_tier" },
  { key: "category", column: "category" },
];

const pad = (n) => String(n).padStart(2, "0");
export const isoDate = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** A real calendar date written YYYY-MM-DD (2026-02-31 is not one). */
export function isDate(s) {
  if (typeof s !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const [y, m, d] = s.split("-").map(Number);
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

/** Default range: the first day of the month five months back, to today (six months by month). */
export function defaultRange(today = new Date()) {
  const from = new Date(today.getFullYear(), today.getMonth() - 5, 1);
  return { from: isoDate(from), to: isoDate(today) };
}

/** The browser's preferred language among ours, else English. */
export function pickLang(preferred = []) {
  for (const tag of preferred) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGS.includes(base)) return base;
  }
  return "en";
}

export function parseState(search, { today = new Date(), languages = [] } = {}) {
  const q = new URLSearchParams(search);
  const range = defaultRange(today);
  let from = isDate(q.get("from")) ? q.get("from") : range.from;
  let to = isDate(q.get("to")) ? q.get("to") : range.to;
  if (from > to) [from, to] = [to, from];
  const by = GRAINS.includes(q.get("by")) ? q.get("by") : "month";
  const lang = LANGS.includes(q.get("lang")) ? q.get("lang") : pickLang(languages);
  const filters = {};
  for (const { key } of FILTERS) {
    const v = q.get(key);
    if (v) filters[key] = v;
  }
  return { from, to, by, lang, filters };
}

/** The query string for a state, in a fixed key order (stable links, stable tests). */
export function toSearch(state) {
  const q = new URLSearchParams();
  q.set("from", state.from);
  q.set("to", state.to);
  q.set("by", state.by);
  for (const { key } of FILTERS) if (state.filters?.[key]) q.set(key, state.filters[key]);
  if (state.lang) q.set("lang", state.lang);
  return "?" + q.toString();
}

/** Change one part of the state: patch({by:"week"}) or patch({filters:{channel:"chat"}}). */
export function patchState(state, patch) {
  const next = { ...state, ...patch, filters: { ...state.filters } };
  if (patch.filters) {
    for (const [k, v] of Object.entries(patch.filters)) {
      if (v) next.filters[k] = v;
      else delete next.filters[k];
    }
  }
  if (next.from > next.to) [next.from, next.to] = [next.to, next.from];
  return next;
}

/**
 * where= parameters for the active filters. With `dims` (the dimensions a KPI allows), filters
 * the KPI cannot take are left out and reported in `dropped`, so the card can say so.
 */
export function whereFor(filters, dims = null) {
  const where = [];
  const dropped = [];
  for (const { key, column } of FILTERS) {
    const v = filters?.[key];
    if (!v) continue;
    if (dims && !dims.includes(column)) dropped.push(key);
    else where.push(`${column}=${v}`);
  }
  return { where, dropped };
}

/** An API path with its query: apiPath("/api/kpis/nps", {by:"month", where:["channel=chat"]}). */
export function apiPath(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Last day of the period that starts on `start` (YYYY-MM-DD) at grain `by`. */
export function periodEnd(start, by) {
  const [y, m, d] = start.split("-").map(Number);
  let end;
  if (by === "month") end = new Date(Date.UTC(y, m, 0));
  else if (by === "week") end = new Date(Date.UTC(y, m - 1, d + 6));
  else end = new Date(Date.UTC(y, m - 1, d));
  return end.toISOString().slice(0, 10);
}

/** The dates behind one period, clipped to the selected range (a week may start before it). */
export function periodRange(start, by, state) {
  const end = periodEnd(start, by);
  return { from: start < state.from ? state.from : start, to: end > state.to ? state.to : end };
}
