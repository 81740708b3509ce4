import { useCtx, useApi } from "../hooks.js";
import { apiPath, whereFor } from "../state.js";
import { formatNumber, weekdayNames } from "../format.js";

/**
 * The heatmap answer as a 7 x 24 grid (ISO weekday 1..7 -> rows 0..6). Accepts the cell list
 * [{weekday, hour, count}] (weekday 0..6 Monday first, or 1..7), or {cells: [...]}, or a matrix.
 */
export function toGrid(data) {
  const grid = Array.from({ length: 7 }, () => Array(24).fill(0));
  if (!data) return grid;
  const matrix = data.matrix || data.counts || (Array.isArray(data) && Array.isArray(data[0]) ? data : null);
  if (matrix) {
    matrix.forEach((row, d) => row.forEach((n, h) => (grid[d][h] = n || 0)));
    return grid;
  }
  const cells = Array.isArray(data) ? data : data.cells || data.rows || [];
  const oneBased = cells.some((c) => (c.weekday ?? c.dow) === 7) || (cells.length > 0 && !cells.some((c) => (c.weekday ?? c.dow) === 0));
  for (const c of cells) {
    const d = (c.weekday ?? c.dow) - (oneBased ? 1 : 0);
    const h = c.hour;
    if (d >= 0 && d < 7 && h >= 0 && h < 24) grid[d][h] += c.count ?? c.value ?? c.volume ?? 0;
  }
  return grid;
}

export function Heatmap() {
  const { state, t, lang } = useCtx();
  const { where } = whereFor(state.filters);
  const res = useApi(apiPath("/api/heatmap", { kpi: "ticket_volume", from: state.from, to: state.to, where }));
  const grid = toGrid(res.data);
  const max = Math.max(0, ...grid.flat());
  const days = weekdayNames(lang);
  let body;
  if (res.loading) body = <p class="state loading">{t("state.loading.what", { what: t("section.heatmap") })}</p>;
  else if (res.error) body = <p class="state error">{res.error.status === 403 ? t("state.forbidden") : t("state.error", { error: res.error.message })}</p>;
  else if (max === 0) body = <p class="state nodata">{t("heatmap.empty")}</p>;
  else
    body = (
      <div class="heatmap-wrap">
        <table class="heatmap">
          <thead>
            <tr>
              <th scope="col" />
              {grid[0].map((_, h) => (
                <th scope="col">{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {grid.map((row, d) => (
              <tr>
                <th scope="row">{days[d]}</th>
                {row.map((n, h) => (
                  <td
                    style={{ background: n ? `rgba(37, 99, 235, ${(0.08 + 0.92 * (n / max)).toFixed(3)})` : "#f3f4f6", color: n / max > 0.55 ? "#fff" : "#1f2937" }}
                    title={t("heatmap.cell", { day: days[d], hour: String(h).padStart(2, "0"), count: formatNumber(n, lang) })}
                  >
                    {n || ""}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  return (
    <section id="heatmap" class="panel">
      <h2>{t("section.heatmap")}</h2>
      <p class="hint">{t("heatmap.hint")}</p>
      {body}
    </section>
  );
}
