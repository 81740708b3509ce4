import { useState } from "preact/hooks";
import * as api from "../api.js";
import { useApi, useCtx } from "../hooks.js";
import { apiPath, whereFor } from "../state.js";
import { formatNumber, formatPeriod, formatValue, weekdayNames } from "../format.js";
import { answer, totals } from "../kpis.js";
import { alertRows } from "../alerts.js";
import { Chart, PALETTE } from "./charts.jsx";
import { ExportButtons } from "./exports.jsx";

const failed = (res, t) =>
  res.error && <p class="state error">{res.error.status === 403 ? t("state.forbidden") : t("state.error", { error: res.error.message })}</p>;

/** Staffing, forecast, sentiment and the follow-up queue. */
export function Operations({ me }) {
  const plans = me.role === "admin" || me.role === "manager";
  return (
    <main>
      {plans && <Staffing />}
      {plans && <Forecast />}
      <Sentiment />
      <Followups me={me} />
      {plans && <Alerts />}
    </main>
  );
}

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** Agents needed per weekday and hour from the calls table (Erlang C, or Erlang A with patience). */
function Staffing() {
  const { state, t, lang } = useCtx();
  const res = useApi(apiPath("/api/staffing", { from_data: "true", from: state.from, to: state.to, by: "hour", target: "80/20" }));
  const rows = res.data?.rows || [];
  const hours = [...new Set(rows.map((r) => r.interval_start))].sort();
  const at = (d, h) => rows.find((r) => r.weekday === d && r.interval_start === h);
  const max = Math.max(1, ...rows.map((r) => r.agents || 0));
  const days = weekdayNames(lang);
  const models = [...new Set(rows.map((r) => r.model).filter(Boolean))];
  return (
    <section id="staffing" class="panel">
      <h2>
        {t("section.staffing")}
        {rows.length > 0 && <ExportButtons rows={rows} name={["staffing", state.from, state.to]} />}
      </h2>
      <p class="hint">
        {t("staffing.hint", {
          models: models.map((m) => t(`model.${m}`)).join(", ") || "—",
          cap: rows.length ? `${formatNumber(rows[0].max_occupancy_percent, lang, Number.isInteger(rows[0].max_occupancy_percent) ? 0 : 1)}%` : "—",
        })}
      </p>
      {res.loading && <p class="state loading">{t("state.loading.what", { what: t("section.staffing") })}</p>}
      {failed(res, t)}
      {res.data && !rows.length && <p class="state nodata">{t("state.nodata")}</p>}
      {rows.length > 0 && (
        <div class="heatmap-wrap">
          <table class="heatmap staffing-grid">
            <thead>
              <tr>
                <th scope="col" />
                {hours.map((h) => <th scope="col">{h.slice(0, 2)}</th>)}
              </tr>
            </thead>
            <tbody>
              {WEEKDAYS.map((d, i) => (
                <tr>
                  <th scope="row">{days[i]}</th>
                  {hours.map((h) => {
                    const r = at(d, h);
                    const a = r?.agents;
                    const title = r ? t("staffing.cell", {
                      day: days[i], hour: h, agents: a ?? "—", calls: formatNumber(r.calls ?? 0, lang, 1),
                      sl: r.service_level === undefined ? "—" : formatValue(r.service_level, "percent", lang),
                      occ: r.occupancy === undefined ? "—" : formatValue(r.occupancy, "percent", lang),
                    }) + (r.note ? ` (${r.note})` : "") : "";
                    return (
                      <td title={title} style={a ? { background: `rgba(5,150,105,${(0.1 + 0.8 * a / max).toFixed(2)})` } : {}}>
                        {a ?? ""}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** ticket_volume by day after the last day with data, with the 80% and 95% bands. */
function Forecast() {
  const { t, lang } = useCtx();
  const res = useApi(apiPath("/api/forecast", { kpi: "ticket_volume", by: "day", horizon: 28 }));
  const rows = res.data?.rows || [];
  const labels = rows.map((r) => formatPeriod(r.period_start, "day", lang) + (r.holiday ? " ★" : ""));
  const band = (lo, hi, color, name) => [
    { label: name, data: rows.map((r) => r[hi]), borderWidth: 0, pointRadius: 0, backgroundColor: color, fill: "+1" },
    { label: `${name} lo`, data: rows.map((r) => r[lo]), borderWidth: 0, pointRadius: 0, backgroundColor: color, fill: false },
  ];
  const config = {
    type: "line",
    data: {
      labels,
      datasets: [
        { label: t("forecast.value"), data: rows.map((r) => r.value), borderColor: PALETTE[0], pointRadius: 2, fill: false },
        ...band("lo80", "hi80", "rgba(37,99,235,.28)", t("forecast.band80")),
        ...band("lo95", "hi95", "rgba(37,99,235,.12)", t("forecast.band95")),
      ],
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: true, position: "bottom", labels: { boxWidth: 12, filter: (i) => !i.text.endsWith(" lo") } } },
      scales: { y: { beginAtZero: true } },
    },
  };
  const mase = res.data?.backtest?.[res.data?.model]?.mase ?? res.data?.backtest?.candidates?.[res.data?.model]?.mase;
  return (
    <section id="forecast" class="panel">
      <h2>
        {t("section.forecast")}
        {rows.length > 0 && <ExportButtons rows={rows.map(({ holidays, ...r }) => ({ ...r, holidays: (holidays || []).join("; ") }))} name={["forecast", "ticket_volume"]} />}
      </h2>
      {res.data && (
        <p class="hint" id="forecast-model">
          {t("forecast.model", { model: res.data.model || "—", from: res.data.history?.from ?? "—", to: res.data.history?.to ?? "—" })}
          {mase !== undefined && mase !== null ? ` · MASE ${formatNumber(mase, lang, 2)}` : ""}
          {res.data.note ? ` · ${res.data.note}` : ""}
        </p>
      )}
      {res.loading && <p class="state loading">{t("state.loading.what", { what: t("section.forecast") })}</p>}
      {failed(res, t)}
      {rows.length > 0 && <Chart id="forecast-chart" config={config} label={t("section.forecast")} />}
    </section>
  );
}

const POLARITIES = [["positive", "#059669"], ["neutral", "#9ca3af"], ["negative", "#dc2626"]];

/** The share of positive, neutral and negative texts per period (feedback_sentiment). */
function Sentiment() {
  const { state, t, lang } = useCtx();
  const { where } = whereFor(state.filters, ["channel", "team", "agent_id", "customer_tier", "category"]);
  const path = (p) => apiPath("/api/kpis/feedback_sentiment", { by: state.by, from: state.from, to: state.to, option: `polarity=${p}`, where });
  const series = POLARITIES.map(([p]) => useApi(path(p))); // fixed order and count: hooks stay in place
  const rows = series.map((s) => totals(answer(s.data).rows));
  const periods = [...new Set(rows.flatMap((r) => r.map((x) => x.period_start)))].sort();
  const partial = new Set(rows.flatMap((r) => r.filter((x) => x.partial).map((x) => x.period_start)));
  const loading = series.some((s) => s.loading);
  const error = series.find((s) => s.error);
  const none = !loading && !error && rows.every((r) => r.every((x) => x.value === null || x.value === undefined));
  const config = {
    type: "bar",
    data: {
      labels: periods.map((p) => (partial.has(p) ? t("chart.partial", { period: formatPeriod(p, state.by, lang) }) : formatPeriod(p, state.by, lang))),
      datasets: POLARITIES.map(([p, color], i) => ({
        label: t(`sentiment.${p}`), backgroundColor: color,
        data: periods.map((d) => rows[i].find((x) => x.period_start === d)?.value ?? null),
      })),
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: true, position: "bottom", labels: { boxWidth: 12 } } },
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, max: 100, ticks: { callback: (v) => `${v}%` } } },
    },
  };
  const flat = periods.map((d) => Object.fromEntries([["period_start", d], ...POLARITIES.map(([p], i) => [`${p}_percent`, rows[i].find((x) => x.period_start === d)?.value ?? null])]));
  return (
    <section id="sentiment" class="panel">
      <h2>
        {t("section.sentiment")}
        {!none && !loading && !error && <ExportButtons rows={flat} name={["feedback_sentiment", state.from, state.to]} />}
      </h2>
      <p class="hint">{t("sentiment.hint")}</p>
      {loading && <p class="state loading">{t("state.loading.what", { what: t("section.sentiment") })}</p>}
      {error && failed(error, t)}
      {none && <p class="state nodata">{t("state.nodata")}</p>}
      {!loading && !error && !none && <Chart id="sentiment-chart" config={config} label={t("section.sentiment")} partial={periods.flatMap((p, i) => (partial.has(p) ? [i] : []))} />}
    </section>
  );
}

const kindLabel = (t, kind) => {
  const s = t(`followups.kind.${kind}`);
  return s.startsWith("followups.kind.") ? kind : s;
};

/** Unhappy answers nobody followed up yet, oldest first; managers can mark one done (audited). */
function Followups({ me }) {
  const { t, lang } = useCtx();
  const [reload, setReload] = useState(0);
  const [msg, setMsg] = useState("");
  const res = useApi(apiPath("/api/followups", { r: reload || undefined }));
  const rows = res.data?.rows || [];
  const canMark = me.role === "admin" || me.role === "manager";
  const mark = async (id) => {
    const note = prompt(t("followups.note")) ?? null;
    if (note === null) return;
    try {
      await api.post(`/api/followups/${encodeURIComponent(id)}/done`, note ? { note } : {});
      setMsg(t("followups.marked", { id }));
      setReload((n) => n + 1);
    } catch (e) {
      setMsg(t("state.error", { error: e.message }));
    }
  };
  const cols = ["age", "kind", "customer_id", "ticket_id", "agent_id", "channel", "score", "comment"];
  return (
    <section id="followups" class="panel">
      <h2>
        {t("section.followups")}
        {rows.length > 0 && <ExportButtons rows={rows} name={["followups"]} />}
      </h2>
      <p class="hint">{t("followups.hint")}</p>
      {msg && <p class="banner" role="status">{msg}</p>}
      {res.loading && <p class="state loading">{t("state.loading")}</p>}
      {failed(res, t)}
      {res.data && !rows.length && <p class="state nodata">{t("followups.empty")}</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="rows" id="followups-table">
            <thead>
              <tr>
                {cols.map((c) => <th scope="col">{t(`followups.col.${c}`)}</th>)}
                {canMark && <th />}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr data-id={r.id}>
                  {cols.map((c) => (
                    <td class={c === "score" ? "num" : ""}>
                      {c === "score" && r.scale ? `${formatNumber(r.score, lang, 0)} (${r.scale})` : c === "kind" ? kindLabel(t, r.kind) : r[c] ?? ""}
                    </td>
                  ))}
                  {canMark && (
                    <td>
                      <button class="mark" onClick={() => mark(r.id)}>{t("followups.mark")}</button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** The config's alerts and schedules with their last delivery and next due time (managers, admins). */
function Alerts() {
  const { t, lang } = useCtx();
  const res = useApi("/api/alerts");
  const rows = res.data ? alertRows(res.data, t, lang) : [];
  const cols = ["name", "kind", "to", "last", "next"];
  return (
    <section id="alerts" class="panel">
      <h2>{t("section.alerts")}</h2>
      <p class="hint">{t("alerts.hint")}</p>
      {res.loading && <p class="state loading">{t("state.loading.what", { what: t("section.alerts") })}</p>}
      {failed(res, t)}
      {res.data && !rows.length && <p class="state nodata">{t("alerts.empty")}</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="rows" id="alerts-table">
            <thead>
              <tr>{cols.map((c) => <th scope="col">{t(`alerts.col.${c}`)}</th>)}</tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr data-id={r.id}>{cols.map((c) => <td>{r[c]}</td>)}</tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
