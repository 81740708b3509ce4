import { useEffect, useState } from "preact/hooks";
import { useApi, useCtx } from "../hooks.js";
import { apiPath } from "../state.js";
import { formatNumber } from "../format.js";
import { drawerCell, drawerColumns, marksNumerator, rowClass } from "../display.js";
import { get } from "../api.js";
import { ExportButtons } from "./exports.jsx";

const EXPORT_MAX = 10000; // the rows route's page limit

const PAGE = 25;

/** The records behind a number, a page at a time: /api/kpis/{id}/rows. */
export function Drawer({ drill, label }) {
  const { t, lang, openDrill } = useCtx();
  const [offset, setOffset] = useState(0);
  const res = useApi(
    apiPath(`/api/kpis/${encodeURIComponent(drill.kpi)}/rows`, { from: drill.from, to: drill.to, where: drill.where, limit: PAGE, offset }),
  );
  const close = () => openDrill(null);
  useEffect(() => {
    const onKey = (e) => e.key === "Escape" && close();
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);
  const rows = res.data?.rows || (Array.isArray(res.data) ? res.data : []);
  const total = res.data?.total ?? rows.length;
  const columns = drawerColumns(res.data, rows, lang); // readable labels; the export keeps the ids
  const marked = marksNumerator(rows);
  // the export holds every record behind the number (up to EXPORT_MAX), not just this page
  const all = () =>
    get(apiPath(`/api/kpis/${encodeURIComponent(drill.kpi)}/rows`, { from: drill.from, to: drill.to, where: drill.where, limit: EXPORT_MAX, offset: 0 }))
      .then((d) => d?.rows || []);
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && close()}>
      <aside class="drawer" id="drawer" role="dialog" aria-modal="true" aria-labelledby="drawer-title">
        <header>
          <div>
            <h2 id="drawer-title">{t("drawer.title", { label })}</h2>
            <p class="hint">
              {t("drawer.range", { from: drill.from, to: drill.to })}
              {drill.where?.length ? ` · ${drill.where.join(", ")}` : ""}
            </p>
          </div>
          <button class="close" onClick={close} aria-label={t("drawer.close")}>
            ×
          </button>
        </header>
        {res.loading && <p class="state loading">{t("state.loading")}</p>}
        {res.error && <p class="state error">{res.error.status === 403 ? t("state.forbidden") : t("state.error", { error: res.error.message })}</p>}
        {res.data && rows.length === 0 && <p class="state nodata">{t("drawer.empty")}</p>}
        {rows.length > 0 && (
          <>
            {marked && (
              <p class="hint counted-legend" id="drawer-legend">
                <span class="swatch counted" aria-hidden="true" /> {t("drawer.counted")}
              </p>
            )}
            <div class="table-wrap">
              <table class="rows">
                <thead>
                  <tr>
                    {columns.map((c) => (
                      <th scope="col" data-col={c.id} title={c.id}>{c.label}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr class={rowClass(r)}>
                      {columns.map(({ id }) => (
                        <td class={typeof r[id] === "number" ? "num" : ""}>{drawerCell(res.data, r, id, lang)}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <footer class="pager">
              <ExportButtons rows={all} name={[drill.kpi, "rows", drill.from, drill.to, ...(drill.where || [])]} />
              {total > EXPORT_MAX && <span class="hint">{t("export.capped", { max: formatNumber(EXPORT_MAX, lang) })}</span>}
              <span id="drawer-count">
                {t("drawer.count", { first: formatNumber(offset + 1, lang), last: formatNumber(offset + rows.length, lang), total: formatNumber(total, lang) })}
              </span>
              <button id="drawer-prev" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                {t("drawer.prev")}
              </button>
              <button id="drawer-next" disabled={offset + rows.length >= total} onClick={() => setOffset(offset + PAGE)}>
                {t("drawer.next")}
              </button>
            </footer>
          </>
        )}
      </aside>
    </div>
  );
}
