import { useState } from "preact/hooks";
import { useApi, useCtx } from "../hooks.js";
import { apiPath } from "../state.js";
import { formatNumber, formatValue } from "../format.js";
import { columnLabel, exportRows, sortRows, visibleRows } from "../leaderboard.js";
import { ExportButtons } from "./exports.jsx";

/** The agent leaderboard: managers see every agent; an agent sees their own row and the team average. */
export function Leaderboard({ me }) {
  const { state, t, lang, units } = useCtx();
  const [sort, setSort] = useState({ col: null, dir: "desc" });
  const res = useApi(apiPath("/api/leaderboard", { from: state.from, to: state.to, team: state.filters.team, sort: sort.col || undefined, lang }));
  const columns = res.data?.columns || [];
  const { rows, average } = visibleRows(res.data, me);
  const shown = sort.col ? sortRows(rows, sort.col, sort.dir) : rows;
  const click = (col) => setSort((s) => ({ col, dir: s.col === col && s.dir === "desc" ? "asc" : "desc" }));
  const arrow = (col) => (sort.col === col ? (sort.dir === "asc" ? " ▲" : " ▼") : "");
  const unitOf = (u) => (u === "seconds" ? "seconds" : u === "percent" ? "percent" : u === "count" ? "count" : "score");
  // d: the server's display strings of the cell (core/display.py); formatted here only without them
  const cell = (v, c, d = {}) => {
    if (!v || v.value === null || v.value === undefined) return <td class="num nodata">—</td>;
    return (
      <td class={`num ${v.small_sample ? "small" : ""}`} data-col={c.id} title={v.team_avg !== null && v.team_avg !== undefined ? t("board.team_avg", { value: d.team_avg ?? formatValue(v.team_avg, unitOf(c.unit), lang, units) }) : ""}>
        {d.value ?? formatValue(v.value, unitOf(c.unit), lang, units)}
        {v.n !== null && v.n !== undefined && <small class="n"> n={d.n ?? formatNumber(v.n, lang)}</small>}
        {v.small_sample && <span class="badge few-badge" title={t("board.small.help", { min: res.data?.min_sample ?? "" })}>{t("card.few")}</span>}
      </td>
    );
  };
  let body;
  if (res.loading) body = <p class="state loading">{t("state.loading.what", { what: t("section.leaderboard") })}</p>;
  else if (res.error) body = <p class="state error">{res.error.status === 403 ? t("state.forbidden") : t("state.error", { error: res.error.message })}</p>;
  else if (!rows.length) body = <p class="state nodata">{t("board.empty")}</p>;
  else
    body = (
      <div class="table-wrap">
        <table class="rows board" id="leaderboard-table">
          <thead>
            <tr>
              <th scope="col"><button class="link sort" onClick={() => click("name")}>{t("board.agent")}{arrow("name")}</button></th>
              <th scope="col">{t("filters.team")}</th>
              {columns.map((c) => (
                <th scope="col" class="num" aria-sort={sort.col === c.id ? (sort.dir === "asc" ? "ascending" : "descending") : "none"}>
                  <button class="link sort" data-col={c.id} onClick={() => click(c.id)}>{columnLabel(t, c)}{arrow(c.id)}</button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr data-agent={r.agent_id}>
                <th scope="row">{r.name || r.agent_id}{r.name && <small class="n"> {r.agent_id}</small>}</th>
                <td>{r.display?.team ?? r.team}</td>
                {columns.map((c) => cell(r.values?.[c.id], c, r.display?.[c.id]))}
              </tr>
            ))}
            {average && (
              <tr class="average" id="team-average">
                <th scope="row">{t("board.average")}</th>
                <td>{average.display?.team ?? average.team}</td>
                {columns.map((c) => cell(average.values?.[c.id], c, average.display?.[c.id]))}
              </tr>
            )}
          </tbody>
        </table>
      </div>
    );
  return (
    <section id="leaderboard" class="panel">
      <h2>
        {t("section.leaderboard")}
        {rows.length > 0 && <ExportButtons rows={() => exportRows(shown, columns)} name={["leaderboard", state.from, state.to, state.filters.team]} />}
      </h2>
      <p class="hint">{me.role === "agent" ? t("board.hint.agent") : t("board.hint", { min: res.data?.min_sample ?? "" })}</p>
      {body}
    </section>
  );
}
