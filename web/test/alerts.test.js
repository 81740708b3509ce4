import { describe, expect, it } from "vitest";
import { alertRows, formatInstant } from "../src/alerts.js";
import { translate } from "../src/i18n/index.js";

// a GET /api/alerts answer as tests/alerts/test_alerts.py gets it after one run
const answer = {
  tz: "Europe/Bucharest",
  alerts: [
    { name: "csat-miss", kind: "target_miss", recipients: 2, webhook: true, quiet_hours: "22:00-07:00", findings_sent: 1,
      last: { subject: "csat", period: "2026-10-01", channel: "email", status: "sent", sent_at: "2026-11-02T10:00:00Z", error: null } },
    { name: "sla", kind: "sla_at_risk", recipients: 1, webhook: false, quiet_hours: null, findings_sent: 0, last: null },
  ],
  schedules: [
    { name: "weekly", kind: "weekly_scorecard", cron: "0 8 * * 1", recipients: 1, formats: ["xlsx"], lang: "en",
      next_due: "2026-11-09T06:00:00Z", last_run: { due_at: "2026-11-02T06:00:00Z", ran_at: "2026-11-02T10:00:00Z", status: "sent", error: null } },
  ],
};

describe("alerts panel", () => {
  it("shows instants in the workspace zone", () => {
    // 10:00 UTC is 12:00 in Bucharest (UTC+2 in November)
    expect(formatInstant("2026-11-02T10:00:00Z", "en", "Europe/Bucharest")).toContain("12:00");
    expect(formatInstant(null, "en", "UTC")).toBe("");
    // Thai in the Gregorian calendar, as the rest of the dashboard (not the Buddhist year 2569)
    expect(formatInstant("2026-11-02T10:00:00Z", "th", "Europe/Bucharest")).toContain("2026");
  });

  it("one row per alert and schedule, with its last delivery and next due time", () => {
    const t = (k, v) => translate("en", k, v);
    const rows = alertRows(answer, t, "en");
    expect(rows.map((r) => r.id)).toEqual(["alert:csat-miss", "alert:sla", "schedule:weekly"]);
    expect(rows[0].kind).toBe("Target missed");
    expect(rows[0].to).toBe("2 email(s) and a webhook");
    expect(rows[0].last).toMatch(/^sent, .*12:00.*: csat 2026-10-01$/);
    expect(rows[1].last).toBe("never");
    expect(rows[2].next).toContain("08:00");  // 06:00 UTC = 08:00 local
  });

  it("translates the kinds and statuses", () => {
    const t = (k, v) => translate("zh", k, v);
    const rows = alertRows(answer, t, "zh");
    expect(rows[0].kind).toBe("未达目标");
    expect(rows[0].last.startsWith("已发送")).toBe(true);
    expect(rows[2].kind).toBe("每周计分卡");
  });
});
