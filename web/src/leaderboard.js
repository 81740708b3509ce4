// The agent leaderboard's logic (GET /api/leaderboard): sorting and what a role may see.

/** Rows sorted by a column's value (nulls last, whatever the direction), ties by name. */
export function sortRows(rows, col, dir = "desc") {
  const sign = dir === "asc" ? 1 : -1;
  const key = (r) => (col === "name" ? null : r.values?.[col]?.value ?? null);
  return [...rows].sort((a, b) => {
    if (col === "name") return sign * String(a.name || a.agent_id).localeCompare(String(b.name || b.agent_id));
    const x = key(a), y = key(b);
    if (x === null && y === null) return String(a.name || a.agent_id).localeCompare(String(b.name || b.agent_id));
    if (x === null) return 1;
    if (y === null) return -1;
    return x === y ? String(a.name || a.agent_id).localeCompare(String(b.name || b.agent_id)) : sign * (x - y);
  });
}

/**
 * What the table shows. A manager (or admin, viewer) sees every agent. An agent sees only their own
 * row, beside a "team average" row built from the team_avg the API sends with each value (never
 * another agent's numbers, even if the answer held them).
 */
export function visibleRows(data, me) {
  const rows = data?.rows || [];
  if (me?.role !== "agent") return { rows, average: null };
  const own = rows.filter((r) => r.agent_id === me.agent_id);
  const average = own.length
    ? {
      agent_id: null, name: null, team: own[0].team, average: true,
      values: Object.fromEntries(Object.entries(own[0].values || {}).map(([k, v]) => [k, { value: v?.team_avg ?? null, n: null, small_sample: false }])),
      // the team average's display string stands as the value (the API's display, core/display.py)
      display: own[0].display
        ? Object.fromEntries([["team", own[0].display.team], ...Object.keys(own[0].values || {}).map((k) => [k, { value: own[0].display[k]?.team_avg }])])
        : undefined,
    }
    : null;
  return { rows: own, average };
}

/** Flat rows for CSV/XLSX: one column per KPI value, its sample size and the team average. */
export function exportRows(rows, columns) {
  return rows.map((r) => {
    const out = { agent_id: r.agent_id, name: r.name, team: r.team };
    for (const c of columns) {
      const v = r.values?.[c.id] || {};
      out[c.id] = v.value ?? null;
      out[`${c.id}_n`] = v.n ?? null;
      out[`${c.id}_team_avg`] = v.team_avg ?? null;
      out[`${c.id}_small_sample`] = v.small_sample ?? null;
    }
    return out;
  });
}

/** A column's head in the page's language (board.col.<id>), else the API's English label. */
export function columnLabel(t, column) {
  const key = `board.col.${column.id}`;
  const text = t(key);
  return text === key ? column.label : text;
}
