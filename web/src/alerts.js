// The alerts panel's logic (GET /api/alerts): one table row per alert and schedule.

import { locale } from "./format.js";

/** "2026-11-02T10:00:00Z" as a date and time in the workspace zone, in `lang`; "" for none. */
export function formatInstant(iso, lang, tz) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: "medium", timeStyle: "short", timeZone: tz || "UTC" })
    .format(new Date(iso));
}

/**
 * Rows for the table: alerts first, then schedules, in config order.
 * { id, name, kind, to, last, next } with translated texts; t is translate bound to the language.
 */
export function alertRows(data, t, lang) {
  const tz = data?.tz;
  const to = (x) => t(x.webhook ? "alerts.to.webhook" : "alerts.to", { n: x.recipients });
  const when = (status, at, what) =>
    t("alerts.last", { status: t(`alerts.status.${status}`), when: formatInstant(at, lang, tz), what });
  const alerts = (data?.alerts || []).map((a) => ({
    id: `alert:${a.name}`, name: a.name, kind: t(`alerts.kind.${a.kind}`), to: to(a),
    last: a.last ? when(a.last.status, a.last.sent_at, `${a.last.subject} ${a.last.period}`) : t("alerts.never"),
    next: "",
  }));
  const schedules = (data?.schedules || []).map((s) => ({
    id: `schedule:${s.name}`, name: s.name, kind: t(`alerts.kind.${s.kind}`), to: to(s),
    last: s.last_run ? when(s.last_run.status, s.last_run.ran_at, s.last_run.error || s.cron) : t("alerts.never"),
    next: formatInstant(s.next_due, lang, tz),
  }));
  return [...alerts, ...schedules];
}
