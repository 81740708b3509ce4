import { describe, expect, it } from "vitest";
import { drawerCell, drawerColumns, marksNumerator, rowClass, shownLabel, shownValue } from "../src/display.js";
import { kpiRequest } from "../src/kpis.js";
import { visibleRows } from "../src/leaderboard.js";
import { translate } from "../src/i18n/index.js";

describe("values shown by the server's one formatter (core/display.py)", () => {
  it("shows the row's display string, not seconds or minutes formatted here", () => {
    // FRT 85 min: the API's display says 1 hr 25 min; the local fallback would say "85.0 min"
    const row = { value: 85, unit: "minutes", display: { value: "1 hr 25 min" } };
    expect(shownValue(row, "minutes", "en", { minutes: "min" })).toBe("1 hr 25 min");
    expect(shownValue({ value: 85 }, "minutes", "en", { minutes: "min" })).toBe("85.0 min"); // no display: fallback
    expect(shownValue({ value: null }, "minutes", "en")).toBe("—"); // no data, never 0
  });
  it("labels a dimension value as the server does, else shows the id", () => {
    expect(shownLabel({ category: "technical", display: { category: "Technical issue" } }, "category")).toBe("Technical issue");
    expect(shownLabel({ category: "technical" }, "category")).toBe("technical");
  });
  it("asks the KPI route for display strings in the page's language", () => {
    const { path } = kpiRequest({ id: "first_response_time" }, { by: "month", from: "2026-10-01", to: "2026-10-31", filters: {}, lang: "zh" });
    expect(new URL(path, "http://x").searchParams.get("lang")).toBe("zh");
  });
  it("gives an agent's team-average row the team averages' display strings", () => {
    const data = { rows: [{ agent_id: "a1", team: "red", values: { frt: { value: 1800, n: 1, team_avg: 2700 } },
      display: { team: "Red", frt: { value: "30 min", team_avg: "45 min", n: "1" } } }] };
    const { average } = visibleRows(data, { role: "agent", agent_id: "a1" });
    expect(average.display).toEqual({ team: "Red", frt: { value: "45 min" } });
  });
});

describe("the drawer (rows behind a number)", () => {
  const data = {
    columns: [
      { id: "ticket_id", labels: { en: "Ticket", zh: "工单" } },
      { id: "in_numerator", labels: { en: "In numerator", zh: "计入分子" } },
    ],
  };
  const rows = [{ ticket_id: "T1", extra: 1, in_numerator: true }, { ticket_id: "T2", extra: 2, in_numerator: false }];
  it("heads the columns with the catalog's labels in the page's language, ids where none is given; in_numerator second", () => {
    expect(drawerColumns(data, rows, "zh")).toEqual([
      { id: "ticket_id", label: "工单" }, { id: "in_numerator", label: "计入分子" }, { id: "extra", label: "extra" }]);
    expect(drawerColumns(data, rows, "ro").map((c) => c.label)).toEqual(["Ticket", "In numerator", "extra"]); // en fallback
  });
  it("highlights the records that count in the numerator, and only when the records say so", () => {
    expect(rows.map(rowClass)).toEqual(["counted", ""]);
    expect(marksNumerator(rows)).toBe(true);
    expect(marksNumerator([{ ticket_id: "T1" }])).toBe(false); // a count: no numerator to mark
  });
  it("names a category as the charts do, in the page's language; other cells as they are", () => {
    const answer = { values: { category: { technical: { en: "Technical issue", zh: "技术问题" } } } };
    const row = { ticket_id: "T1", category: "technical", extra: 3, note: null };
    expect(drawerCell(answer, row, "category", "zh")).toBe("技术问题");
    expect(drawerCell(answer, row, "category", "th")).toBe("Technical issue"); // en fallback
    expect(drawerCell(answer, row, "ticket_id", "zh")).toBe("T1");
    expect(drawerCell(answer, row, "extra", "en")).toBe("3");
    expect(drawerCell(answer, row, "note", "en")).toBe("");
    expect(drawerCell({}, row, "category", "en")).toBe("technical"); // an answer without labels
  });
  it("says what the highlight means in every language", () => {
    for (const lang of ["en", "zh", "ro", "th"]) {
      const text = translate(lang, "drawer.counted");
      expect(text).not.toBe("drawer.counted");
      expect(text.length).toBeGreaterThan(10);
    }
  });
});
