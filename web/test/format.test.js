import { describe, expect, it } from "vitest";
import { classify, formatChange, formatPeriod, formatTick, formatValue, hourTicks, pick, weekdayNames } from "../src/format.js";
import { DICTS, translate, unitLabels } from "../src/i18n/index.js";

describe("formatValue", () => {
  it.each([
    [71.55963, "percent", "en", "71.6%"],
    [1234, "count", "en", "1,234"],
    [427.06, "minutes", "en", "427.1 min"],
    [427.06, "minutes", "zh", "427.1 分钟"],
    [1234.5, "hours", "ro", "1.234,5 h"],
    [5.567, "score", "th", "5.57"],
    [0, "count", "en", "0"],
    [null, "percent", "en", "—"],
    [-12.5, "points", "en", "-12.5"],
  ])("%s %s in %s is %s", (value, unit, lang, out) => {
    expect(formatValue(value, unit, lang, unitLabels(lang))).toBe(out);
  });

  it("an unknown unit keeps two decimals unless the value is whole", () => {
    expect(formatValue(2.345, "widgets", "en")).toBe("2.35");
    expect(formatValue(2, "widgets", "en")).toBe("2");
  });
});

describe("formatTick", () => {
  it.each([
    [1600, "minutes", "en", "26.7 h"], // 1600 / 60 = 26.67 hours: from two hours up an axis reads in hours
    [90, "minutes", "en", "90 min"],
    [120, "minutes", "zh", "2 小时"],
    [12.5, "percent", "en", "12.5%"],
    [100, "percent", "th", "100%"],
    [0.25, "ratio", "ro", "0,3"],
  ])("%s %s in %s is %s", (v, unit, lang, out) => expect(formatTick(v, unit, lang, unitLabels(lang))).toBe(out));
});

describe("hourTicks", () => {
  it("puts a long minutes axis on whole hours, at most 8 steps", () => {
    expect(hourTicks(90)).toBe(null); // under two hours: minutes as they are
    // 1,600 min = 26.7 h: 1,600 / 240 = 6.7 steps of 4 h -> 0 .. 28 h
    expect(hourTicks(1600)).toEqual([0, 240, 480, 720, 960, 1200, 1440, 1680]);
    expect(hourTicks(300)).toEqual([0, 60, 120, 180, 240, 300]); // 5 h: every hour
    expect(hourTicks(1600).map((v) => formatTick(v, "minutes", "en", unitLabels("en"))).slice(0, 3)).toEqual(["0 min", "4 h", "8 h"]);
  });
});

describe("formatChange", () => {
  it.each([
    [7.014, "percent", "+7.0"],
    [-0.25, "score", "−0.25"],
    [0, "count", "±0"],
    [null, "count", ""],
  ])("%s %s is %s", (change, unit, out) => expect(formatChange(change, unit, "en")).toBe(out));
});

describe("classify", () => {
  const r = (period_start, value, extra = {}) => ({ kpi: "csat", period_start, value, ...extra });

  it("no rows is no data", () => expect(classify([]).kind).toBe("nodata"));

  it("value null everywhere is no data, not zero", () => {
    expect(classify([r("2026-10-01", null, { numerator: 0, denominator: 0 })]).kind).toBe("nodata");
  });

  it("a missing table is unavailable, told apart from zero and from no data", () => {
    const c = classify([r("2026-10-01", null, { note: "unavailable: table surveys was never imported" })]);
    expect(c.kind).toBe("unavailable");
    expect(c.note).toMatch(/surveys/);
  });

  it("a real 0 is zero", () => expect(classify([r("2026-10-01", 0)]).kind).toBe("zero"));

  it("shows the latest whole period, skipping a partial one and periods without a value", () => {
    const c = classify([r("2026-09-01", 60), r("2026-10-01", 70), r("2026-11-01", null, { partial: true })]);
    expect(c).toMatchObject({ kind: "value", row: { period_start: "2026-10-01", value: 70 } });
    expect(classify([r("2026-10-01", 70), r("2026-11-01", 0, { partial: true })]).row.value).toBe(70);
  });

  it("falls back to the partial period when it is the only one with a value", () => {
    expect(classify([r("2026-11-01", 5, { partial: true })]).row.value).toBe(5);
  });
});

describe("periods and names", () => {
  it("names a month and a week in each language", () => {
    expect(formatPeriod("2026-10-01", "month", "en")).toBe("Oct 2026");
    expect(formatPeriod("2026-10-05", "week", "en")).toBe("5 Oct 2026");
    expect(formatPeriod("2026-10-01", "month", "zh")).toBe("2026年10月");
    expect(formatPeriod("2026-10-01", "month", "th")).toMatch(/2026/); // Gregorian, like the date pickers
  });

  it("weekdays start on Monday", () => {
    expect(weekdayNames("en")[0]).toBe("Mon");
    expect(weekdayNames("en")[6]).toBe("Sun");
  });

  it("pick falls back to English, then to the id", () => {
    expect(pick({ en: "NPS", zh: "净推荐值" }, "zh")).toBe("净推荐值");
    expect(pick({ en: "NPS" }, "th")).toBe("NPS");
    expect(pick(undefined, "th", "nps")).toBe("nps");
  });
});

describe("dictionaries", () => {
  const keys = Object.keys(DICTS.en).sort();
  it.each(["zh", "ro", "th"])("%s has exactly the English keys, none empty", (lang) => {
    expect(Object.keys(DICTS[lang]).sort()).toEqual(keys);
    for (const v of Object.values(DICTS[lang])) expect(v.trim()).not.toBe("");
  });

  it.each(["zh", "ro", "th"])("%s keeps every {placeholder} of the English text", (lang) => {
    for (const k of keys) {
      const names = (s) => (s.match(/\{\w+\}/g) || []).sort();
      expect(names(DICTS[lang][k]), k).toEqual(names(DICTS.en[k]));
    }
  });

  it("translate fills placeholders and falls back to English", () => {
    expect(translate("zh", "card.target", { target: "80%" })).toBe("目标 80%");
    expect(translate("xx", "signout")).toBe("Sign out");
    expect(translate("en", "no.such.key")).toBe("no.such.key");
  });
});
