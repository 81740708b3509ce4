import { describe, expect, it } from "vitest";
import { columnLabel, exportRows, sortRows, visibleRows } from "../src/leaderboard.js";
import { translate } from "../src/i18n/index.js";

// a mocked GET /api/leaderboard answer (the contract of issue 13 item 7)
const answer = {
  from: "2026-10-01", to: "2026-10-31", min_sample: 10,
  columns: [
    { id: "csat", kpi: "csat", label: "CSAT", unit: "percent" },
    { id: "frt", kpi: "first_response_time", label: "FRT", unit: "seconds" },
  ],
  rows: [
    { agent_id: "A01", name: "Ana", team: "billing", values: { csat: { value: 90, n: 40, team_avg: 85, small_sample: false }, frt: { value: 600, n: 50, team_avg: 700, small_sample: false } } },
    { agent_id: "A02", name: "Bo", team: "billing", values: { csat: { value: 95, n: 4, team_avg: 85, small_sample: true }, frt: { value: null, n: 0, team_avg: 700, small_sample: true } } },
    { agent_id: "A03", name: "Cy", team: "billing", values: { csat: { value: null, n: 0, team_avg: 85, small_sample: true }, frt: { value: 800, n: 20, team_avg: 700, small_sample: false } } },
  ],
};

describe("leaderboard", () => {
  it("sorts by a column either way, nulls last", () => {
    expect(sortRows(answer.rows, "csat", "desc").map((r) => r.agent_id)).toEqual(["A02", "A01", "A03"]);
    expect(sortRows(answer.rows, "csat", "asc").map((r) => r.agent_id)).toEqual(["A01", "A02", "A03"]);
    expect(sortRows(answer.rows, "frt", "asc").map((r) => r.agent_id)).toEqual(["A01", "A03", "A02"]);
    expect(sortRows(answer.rows, "name", "asc").map((r) => r.name)).toEqual(["Ana", "Bo", "Cy"]);
  });

  it("a manager sees every agent", () => {
    expect(visibleRows(answer, { role: "manager" })).toEqual({ rows: answer.rows, average: null });
  });

  it("an agent sees only their own row beside the team average", () => {
    const v = visibleRows(answer, { role: "agent", agent_id: "A02" });
    expect(v.rows.map((r) => r.agent_id)).toEqual(["A02"]);
    expect(v.average.values).toEqual({
      csat: { value: 85, n: null, small_sample: false }, frt: { value: 700, n: null, small_sample: false },
    });
  });

  it("an agent with no row sees nothing, not someone else's", () => {
    expect(visibleRows(answer, { role: "agent", agent_id: "A99" })).toEqual({ rows: [], average: null });
  });

  it("exports value, sample size, team average and the flag per column", () => {
    expect(exportRows(answer.rows.slice(1, 2), answer.columns)).toEqual([{
      agent_id: "A02", name: "Bo", team: "billing",
      csat: 95, csat_n: 4, csat_team_avg: 85, csat_small_sample: true,
      frt: null, frt_n: 0, frt_team_avg: 700, frt_small_sample: true,
    }]);
  });
});

describe("leaderboard column heads", () => {
  it("are translated, the API's label standing for a column the page has no word for", () => {
    const zh = (key) => translate("zh", key);
    expect(columnLabel(zh, { id: "tickets", label: "Tickets handled" })).toBe("处理工单数");
    expect(columnLabel(zh, { id: "qa", label: "QA score" })).toBe("质检评分");
    expect(columnLabel(zh, { id: "new", label: "New column" })).toBe("New column");
  });
});
