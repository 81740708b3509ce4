import { describe, expect, it } from "vitest";
import { apiPath, defaultRange, isDate, parseState, patchState, periodEnd, periodRange, pickLang, toSearch, whereFor } from "../src/state.js";

const today = new Date(2026, 10, 29); // 29 Nov 2026, local time

describe("parseState", () => {
  it("defaults: six months by month to today, language from the browser", () => {
    expect(parseState("", { today, languages: ["th-TH", "en"] })).toEqual({
      from: "2026-06-01", to: "2026-11-29", by: "month", lang: "th", filters: {},
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
    ["?from=2026-02-31", "from", "2026-06-01"], // not a real date
    ["?from=yesterday", "from", "2026-06-01"],
    ["?to=2026-13-01", "to", "2026-11-29"],
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

  it("defaultRange starts on the first of the month five months back, across a year", () => {
    expect(defaultRange(new Date(2026, 1, 10))).toEqual({ from: "2025-09-01", to: "2026-02-10" });
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
