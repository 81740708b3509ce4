import { useCtx, useApi } from "../hooks.js";
import { apiPath, whereFor } from "../state.js";
import { formatNumber, weekdayNames } from "../format.js";

/** The answer's cells as a 7 x 24 grid (Monday first), zeros when there is none. */
export function toGrid(data) {
  const cells = data?.cells;
  return Array.from({ length: 7 }, (_, d) => Array.from({ length: 24 }, (_, h) => cells?.[d]?.[h] || 0));
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
  else if (/^unavailable/i.test(res.data?.note || ""))
    body = <p class="state unavailable" title={res.data.note}><strong>{t("state.unavailable")}</strong> {t("state.unavailable.help")}</p>;
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
