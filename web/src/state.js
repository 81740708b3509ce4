// The dashboard's view lives in the URL query string, so a view can be shared and reloaded:
//   ?from=2026-06-01&to=2026-11-29&by=month&channel=email&team=billing&agent=A01&tier=gold&category=refund&lang=zh
//   &range=last_30_days (a preset: the dates follow the day the link is opened) &compare=previous|year
//   &page=overview|leaderboard|operations
// parseState() never throws: a bad value falls back to its default.

export const GRAINS = ["day", "week", "month"];
export const LANGS = ["en", "zh", "ro", "th"];
export const COMPARES = ["previous", "year"];
export const PAGES = ["overview", "leaderboard", "operations"];
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

/** Default range: the six whole months before this one (it ends at the last complete month). */
export function defaultRange(today = new Date()) {
  const from = new Date(today.getFullYear(), today.getMonth() - 6, 1);
  const to = new Date(today.getFullYear(), today.getMonth(), 0);
  return { from: isoDate(from), to: isoDate(to) };
}

const day = (today, n) => isoDate(new Date(today.getFullYear(), today.getMonth(), today.getDate() + n));
const monthStart = (today, n) => isoDate(new Date(today.getFullYear(), today.getMonth() + n, 1));

/**
 * Range presets, as in Explore and Chatwoot, each with the grain that suits it. "Last N days" are
 * whole days ending yesterday; "this month" and "this quarter" run to today, so their last
 * period is partial; "last 12 months" are the twelve whole months before this one.
 */
export const PRESETS = {
  last_7_days: (t) => ({ from: day(t, -7), to: day(t, -1), by: "day" }),
  last_30_days: (t) => ({ from: day(t, -30), to: day(t, -1), by: "day" }),
  this_month: (t) => ({ from: monthStart(t, 0), to: isoDate(t), by: "day" }),
  last_month: (t) => ({ from: monthStart(t, -1), to: day(new Date(t.getFullYear(), t.getMonth(), 1), -1), by: "day" }),
  this_quarter: (t) => ({ from: isoDate(new Date(t.getFullYear(), t.getMonth() - (t.getMonth() % 3), 1)), to: isoDate(t), by: "week" }),
  last_12_months: (t) => ({ from: monthStart(t, -12), to: day(new Date(t.getFullYear(), t.getMonth(), 1), -1), by: "month" }),
};

const utc = (s) => {
  const [y, m, d] = s.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
};
const utcIso = (d) => d.toISOString().slice(0, 10);
/** s moved by n months, the day clipped to the month's length (31 Mar - 1 month = 28 Feb). */
function addMonths(s, n) {
  const [y, m, d] = s.split("-").map(Number);
  const last = new Date(Date.UTC(y, m - 1 + n + 1, 0)).getUTCDate();
  return utcIso(new Date(Date.UTC(y, m - 1 + n, Math.min(d, last))));
}

/**
 * The range a trend is compared with: "year" is the same dates a year before; "previous" is the
 * range just before, as many months back when the range starts on the 1st (this month's first
 * 2 days against last month's first 2), else as many days back.
 */
export function compareRange({ from, to, compare }) {
  if (compare === "year") return { from: addMonths(from, -12), to: addMonths(to, -12) };
  if (compare !== "previous") return null;
  if (from.endsWith("-01")) {
    const months = (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7)) + 1;
    const end = addMonths(to, -months);
    // a whole last month stays whole: March 1-31 -> February 1-28
    const wholeTo = periodEnd(to.slice(0, 8) + "01", "month") === to;
    return { from: addMonths(from, -months), to: wholeTo ? periodEnd(end.slice(0, 8) + "01", "month") : end };
  }
  const days = Math.round((utc(to) - utc(from)) / 86400000) + 1;
  return { from: utcIso(new Date(utc(from).getTime() - days * 86400000)), to: utcIso(new Date(utc(to).getTime() - days * 86400000)) };
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
  const preset = PRESETS[q.get("range")] ? q.get("range") : "";
  const fixed = preset ? PRESETS[preset](today) : null;
  let from = fixed ? fixed.from : isDate(q.get("from")) ? q.get("from") : range.from;
  let to = fixed ? fixed.to : isDate(q.get("to")) ? q.get("to") : range.to;
  if (from > to) [from, to] = [to, from];
  const by = GRAINS.includes(q.get("by")) ? q.get("by") : fixed ? fixed.by : "month";
  const lang = LANGS.includes(q.get("lang")) ? q.get("lang") : pickLang(languages);
  const filters = {};
  for (const { key } of FILTERS) {
    const v = q.get(key);
    if (v) filters[key] = v;
  }
  const out = { from, to, by, lang, filters };
  if (preset) out.range = preset;
  if (COMPARES.includes(q.get("compare"))) out.compare = q.get("compare");
  if (PAGES.includes(q.get("page")) && q.get("page") !== "overview") out.page = q.get("page");
  return out;
}

/** The query string for a state, in a fixed key order (stable links, stable tests). */
export function toSearch(state) {
  const q = new URLSearchParams();
  q.set("from", state.from);
  q.set("to", state.to);
  q.set("by", state.by);
  for (const { key } of FILTERS) if (state.filters?.[key]) q.set(key, state.filters[key]);
  if (state.range) q.set("range", state.range);
  if (state.compare) q.set("compare", state.compare);
  if (state.page && state.page !== "overview") q.set("page", state.page);
  if (state.lang) q.set("lang", state.lang);
  return "?" + q.toString();
}

/**
 * Change one part of the state: patch({by:"week"}) or patch({filters:{channel:"chat"}}).
 * patch({range:"last_month"}) applies a preset; a date typed by hand ends the preset.
 */
export function patchState(state, patch, today = new Date()) {
  const next = { ...state, ...patch, filters: { ...state.filters } };
  if (patch.range && PRESETS[patch.range]) Object.assign(next, PRESETS[patch.range](today), patch.by ? { by: patch.by } : {});
  else if (patch.from || patch.to || patch.range === "") delete next.range;
  for (const k of ["compare", "page", "range"]) if (!next[k]) delete next[k];
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
