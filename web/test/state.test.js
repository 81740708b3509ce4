import { describe, expect, it } from "vitest";
import { PRESETS, apiPath, compareRange, defaultRange, isDate, parseState, patchState, periodEnd, periodRange, pickLang, toSearch, whereFor } from "../src/state.js";

const today = new Date(2026, 10, 29); // 29 Nov 2026, local time

describe("parseState", () => {
  it("defaults: the six whole months before this one, by month, language from the browser", () => {
    expect(parseState("", { today, languages: ["th-TH", "en"] })).toEqual({
      from: "2026-05-01", to: "2026-10-31", by: "month", lang: "th", filters: {},
    });
  });

  it("reads every filter and keeps the values as given", () => {
    const s = parseState("?from=2026-01-05&to=2026-02-01&by=week&channel=email&team=billing&agent=A01&tier=gold&category=refund&lang=zh", { today });
    expect(s).toEqual({
      from: "2026-01-05", to: "2026-02-01", by: "week", lang: "zh",
      filters: { channel: "email", team: "billing", agent: "A01", tier: "gold", category: "refund" },
    });
  });

  it.each([
    ["?from=2026-02-31", "from", "2026-05-01"], // not a real date
    ["?from=yesterday", "from", "2026-05-01"],
    ["?to=2026-13-01", "to", "2026-10-31"],
    ["?by=quarter", "by", "month"], // the dashboard offers day, week and month only
    ["?lang=fr", "lang", "en"],
  ])("a bad value in %s falls back to the default %s", (search, key, expected) => {
    expect(parseState(search, { today })[key]).toBe(expected);
  });

  it("swaps a range given backwards", () => {
    const s = parseState("?from=2026-05-31&to=2026-05-01", { today });
    expect([s.from, s.to]).toEqual(["2026-05-01", "2026-05-31"]);
  });

  it("ignores empty filters", () => {
    expect(parseState("?channel=&team=sales", { today }).filters).toEqual({ team: "sales" });
  });
});

describe("toSearch", () => {
  it("round-trips through parseState", () => {
    const s = { from: "2026-01-01", to: "2026-03-31", by: "day", lang: "ro", filters: { tier: "vip", channel: "chat" } };
    expect(parseState(toSearch(s), { today })).toEqual(s);
  });

  it("writes keys in a fixed order, whatever the object's order", () => {
    const s = { lang: "en", filters: { category: "a b&c", channel: "chat" }, by: "week", to: "2026-02-01", from: "2026-01-01" };
    expect(toSearch(s)).toBe("?from=2026-01-01&to=2026-02-01&by=week&channel=chat&category=a+b%26c&lang=en");
  });
});

describe("patchState", () => {
  const base = { from: "2026-01-01", to: "2026-01-31", by: "month", lang: "en", filters: { channel: "chat" } };
  it("sets and clears filters without touching the others", () => {
    const next = patchState(base, { filters: { team: "sales", channel: "" } });
    expect(next.filters).toEqual({ team: "sales" });
    expect(base.filters).toEqual({ channel: "chat" }); // not mutated
  });
  it("keeps from <= to", () => {
    expect(patchState(base, { from: "2026-03-01" })).toMatchObject({ from: "2026-01-31", to: "2026-03-01" });
  });
});

describe("whereFor", () => {
  it("maps URL keys to columns", () => {
    expect(whereFor({ agent: "A01", tier: "gold" }).where).toEqual(["agent_id=A01", "customer_tier=gold"]);
  });
  it("leaves out the filters a KPI has no dimension for, and says which", () => {
    expect(whereFor({ channel: "chat", category: "refund" }, ["channel", "team"])).toEqual({ where: ["channel=chat"], dropped: ["category"] });
  });
});

describe("dates", () => {
  it.each([
    ["2026-02-28", true], ["2024-02-29", true], ["2026-02-29", false], ["2026-1-01", false], [null, false],
  ])("isDate(%s) is %s", (s, ok) => expect(isDate(s)).toBe(ok));

  it.each([
    ["2026-02-01", "month", "2026-02-28"],
    ["2024-02-01", "month", "2024-02-29"],
    ["2026-12-01", "month", "2026-12-31"],
    ["2026-12-28", "week", "2027-01-03"],
    ["2026-03-29", "day", "2026-03-29"],
  ])("periodEnd(%s, %s) is %s", (start, by, end) => expect(periodEnd(start, by)).toBe(end));

  it("clips a period to the selected range", () => {
    const state = { from: "2026-06-03", to: "2026-06-05" };
    expect(periodRange("2026-06-01", "week", state)).toEqual({ from: "2026-06-03", to: "2026-06-05" });
  });

  it("defaultRange is the six whole months before this one, across a year", () => {
    // 10 Feb 2026: Aug 2025 .. Jan 2026, ending on the last complete month's last day
    expect(defaultRange(new Date(2026, 1, 10))).toEqual({ from: "2025-08-01", to: "2026-01-31" });
  });

  it("pickLang takes the first supported base language", () => {
    expect(pickLang(["fr-FR", "ro-RO", "zh"])).toBe("ro");
    expect(pickLang(["de"])).toBe("en");
  });
});

describe("apiPath", () => {
  it("repeats list parameters and drops empty ones", () => {
    expect(apiPath("/api/kpis/nps", { by: "month", from: "", where: ["channel=chat", "team=a&b"], dim: undefined }))
      .toBe("/api/kpis/nps?by=month&where=channel%3Dchat&where=team%3Da%26b");
  });
});

describe("range presets", () => {
  // today: Sunday 29 Nov 2026
  it.each([
    ["last_7_days", { from: "2026-11-22", to: "2026-11-28", by: "day" }], // 22..28: seven whole days
    ["last_30_days", { from: "2026-10-30", to: "2026-11-28", by: "day" }], // 2 days of Oct + 28 of Nov
    ["this_month", { from: "2026-11-01", to: "2026-11-29", by: "day" }],
    ["last_month", { from: "2026-10-01", to: "2026-10-31", by: "day" }],
    ["this_quarter", { from: "2026-10-01", to: "2026-11-29", by: "week" }], // Q4 starts 1 Oct
    ["last_12_months", { from: "2025-11-01", to: "2026-10-31", by: "month" }],
  ])("%s", (name, range) => expect(PRESETS[name](today)).toEqual(range));

  it("last month in January is December of the year before", () => {
    expect(PRESETS.last_month(new Date(2027, 0, 15))).toMatchObject({ from: "2026-12-01", to: "2026-12-31" });
  });

  it("a preset in the URL wins over stale dates, so a shared link follows the day it is opened", () => {
    const s = parseState("?from=2020-01-01&to=2020-02-01&range=last_month&compare=year", { today });
    expect(s).toMatchObject({ from: "2026-10-01", to: "2026-10-31", by: "day", range: "last_month", compare: "year" });
    expect(parseState(toSearch(s), { today })).toEqual(s);
  });

  it("an unknown preset, compare or page is ignored", () => {
    const s = parseState("?range=forever&compare=decade&page=secret", { today });
    expect(s).toEqual(parseState("", { today }));
  });

  it("patchState applies a preset, and a date typed by hand ends it", () => {
    const base = parseState("", { today });
    const p = patchState(base, { range: "this_quarter" }, today);
    expect(p).toMatchObject({ from: "2026-10-01", to: "2026-11-29", by: "week", range: "this_quarter" });
    const typed = patchState(p, { from: "2026-10-05" }, today);
    expect(typed.range).toBeUndefined();
    expect(typed.from).toBe("2026-10-05");
  });
});

describe("compareRange", () => {
  it.each([
    // whole months go back by as many whole months: Mar-May 2026 -> Dec 2025-Feb 2026 (Feb ends on the 28th)
    [{ from: "2026-03-01", to: "2026-05-31", compare: "previous" }, { from: "2025-12-01", to: "2026-02-28" }],
    // a whole March -> a whole February
    [{ from: "2026-03-01", to: "2026-03-31", compare: "previous" }, { from: "2026-02-01", to: "2026-02-28" }],
    // this month so far (1-29 Nov) -> the same days of October
    [{ from: "2026-11-01", to: "2026-11-29", compare: "previous" }, { from: "2026-10-01", to: "2026-10-29" }],
    // 7 days ending 28 Nov -> the 7 days before: 15..21 Nov
    [{ from: "2026-11-22", to: "2026-11-28", compare: "previous" }, { from: "2026-11-15", to: "2026-11-21" }],
    // same period last year; 29 Feb 2024 has no twin and becomes 28 Feb 2023
    [{ from: "2024-02-01", to: "2024-02-29", compare: "year" }, { from: "2023-02-01", to: "2023-02-28" }],
  ])("%o -> %o", (state, range) => expect(compareRange(state)).toEqual(range));

  it("no compare, no range", () => expect(compareRange({ from: "2026-01-01", to: "2026-01-31" })).toBeNull());
});

import { aligned, answer, sample } from "../src/kpis.js";

describe("KPI answers", () => {
  it("takes an array or {rows, warnings}, and collects row warnings once", () => {
    expect(answer([{ value: 1 }])).toEqual({ rows: [{ value: 1 }], warnings: [] });
    const w = "channel=nope matches no ticket";
    expect(answer({ rows: [{ value: null, warnings: [w] }], warnings: [w] }).warnings).toEqual([w]);
    expect(answer(null)).toEqual({ rows: [], warnings: [] });
  });

  it("a card's sample is the denominator, with few answers under 30; none for a count", () => {
    expect(sample({ value: 80, denominator: 29 }, "percent")).toEqual({ n: 29, few: true });
    expect(sample({ value: 80, denominator: 30 }, "percent")).toEqual({ n: 30, few: false });
    expect(sample({ value: 4.2, n: 12, denominator: 50 }, "score")).toEqual({ n: 12, few: true }); // n wins
    expect(sample({ value: 12, denominator: null }, "count")).toBeNull();
    expect(sample({ value: null, denominator: 0 }, "percent")).toBeNull(); // no value, no sample line
  });

  it("aligns a compared series by position, null where it is shorter", () => {
    expect(aligned([{}, {}, {}], [{ value: 5 }, { value: null }])).toEqual([5, null, null]);
  });
});
