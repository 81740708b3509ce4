import { useEffect, useMemo, useRef } from "preact/hooks";
import {
  BarController, BarElement, CategoryScale, Chart as ChartJS, Filler, Legend,
  LinearScale, LineController, LineElement, PointElement, Tooltip,
} from "chart.js";
import { useApi, useCtx } from "../hooks.js";
import { apiPath, compareRange, periodRange, whereFor } from "../state.js";
import { classify, formatPeriod, formatTick, formatValue, hourTicks, pick } from "../format.js";
import { TREND_KPIS, aligned, answer, kpiRequest, totals } from "../kpis.js";
import { useScorecardRow } from "./cards.jsx";
import { ExportButtons, Warnings } from "./exports.jsx";
import { shownLabel, shownValue } from "../display.js";

ChartJS.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);
ChartJS.defaults.font.family = getComputedStyle(document.documentElement).getPropertyValue("--font") || "sans-serif";
ChartJS.defaults.color = "#3d4650";

export const PALETTE = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626", "#4b5563", "#ea580c"];

/** A Chart.js canvas, rebuilt when its config changes. `partial`: the indexes of the periods drawn as
 * partial (unfinished, or cut by the range), said in their labels and kept in data-partial. */
export function Chart({ config, label, id, partial }) {
  const ref = useRef(null);
  useEffect(() => {
    const chart = new ChartJS(ref.current, config);
    return () => chart.destroy();
  }, [config]);
  return (
    <div class="chart" id={id} data-periods={config?.data?.labels?.length ?? 0} data-partial={partial ? partial.join(",") : undefined}>
      <canvas ref={ref} role="img" aria-label={label} />
    </div>
  );
}

/** Loading, error, unavailable and empty states shared by the charts; null when there is data. */
export function chartState(res, rows, what, t) {
  if (res.loading) return <p class="state loading">{t("state.loading.what", { what })}</p>;
  if (res.error) return <p class="state error">{res.error.status === 403 ? t("state.forbidden") : t("state.error", { error: res.error.message })}</p>;
  const c = classify(rows);
  if (c.kind === "unavailable") return <p class="state unavailable" title={c.note}><strong>{t("state.unavailable")}</strong> {t("state.unavailable.help")}</p>;
  if (c.kind === "nodata") return <p class="state nodata"><strong>{t("state.nodata")}</strong> {t("state.nodata.help")}</p>;
  return null;
}

const baseOptions = (lang, unit, units, extra = {}) => ({
  responsive: true,
  maintainAspectRatio: false,
  animation: false,
  interaction: { mode: "nearest", intersect: false },
  plugins: {
    legend: { display: false },
    tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${formatValue(c.parsed.y, unit, lang, units)}` } },
  },
  scales: {
    y: {
      beginAtZero: true,
      ticks: { callback: (v) => formatTick(v, unit, lang, units) },
      // minutes from two hours up: ticks on whole hours (format.js hourTicks)
      afterBuildTicks: (axis) => {
        const hours = unit === "minutes" ? hourTicks(axis.max) : null;
        if (hours) {
          axis.ticks = hours.map((value) => ({ value }));
          axis.max = hours[hours.length - 1];
        }
      },
    },
  },
  ...extra,
});

export function Trends({ catalog }) {
  const { t } = useCtx();
  const ids = TREND_KPIS.filter((id) => catalog[id]);
  return (
    <section id="trends">
      <h2>{t("section.trends")}</h2>
      <div class="grid">
        {ids.map((id) => (
          <Trend item={catalog[id]} />
        ))}
      </div>
    </section>
  );
}

function Trend({ item }) {
  const { state, t, lang, units, openDrill } = useCtx();
  const label = pick(item.labels, lang, item.id);
  const req = kpiRequest(item, state);
  const res = useApi(req.path);
  const ans = answer(res.data);
  const rows = totals(ans.rows);
  // compare-to: the same KPI over the previous period or the same period last year, period by period
  const cmp = compareRange(state);
  const cmpRes = useApi(cmp ? kpiRequest(item, { ...state, ...cmp }).path : null);
  const cmpRows = cmp ? totals(answer(cmpRes.data).rows) : [];
  const cmpLabel = cmp ? t(`compare.${state.compare}.line`, { from: cmp.from, to: cmp.to }) : "";
  const target = useScorecardRow(item.id, classify(rows).row, state.by).row?.target ?? undefined;
  const empty = chartState(res, rows, label, t);
  const periodLabel = (p, partial) => {
    const name = formatPeriod(p, state.by, lang);
    return partial ? t("chart.partial", { period: name }) : name;
  };
  const config = useMemoJSON(
    () => ({
      type: "line",
      data: {
        labels: rows.map((r) => periodLabel(r.period_start, !!r.partial)),
        datasets: [
          {
            label, data: rows.map((r) => r.value), borderColor: PALETTE[0], backgroundColor: "rgba(37,99,235,.12)",
            fill: true, tension: 0.25, spanGaps: false, pointRadius: 3,
            // the line into a partial period (unfinished, or cut by the range) is dashed
            segment: { borderDash: (c) => (rows[c.p1DataIndex]?.partial ? [5, 4] : undefined) },
          },
          ...(cmp && cmpRows.length
            ? [{
              label: cmpLabel, data: aligned(rows, cmpRows), borderColor: PALETTE[1], backgroundColor: PALETTE[1],
              borderWidth: 2, pointRadius: 2, fill: false, tension: 0.25, spanGaps: false,
              comparePeriods: rows.map((_, i) => cmpRows[i]?.period_start || null),
            }]
            : []),
          ...(target !== undefined
            ? [{ label: t("chart.target"), data: rows.map(() => target), borderColor: "#9ca3af", borderDash: [6, 4], pointRadius: 0, fill: false }]
            : []),
        ],
      },
      options: baseOptions(lang, item.unit, units, {
        plugins: {
          legend: { display: !!cmp, position: "bottom", labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: (c) => {
                const p = c.dataset.comparePeriods?.[c.dataIndex];
                const name = p ? `${c.dataset.label} (${formatPeriod(p, state.by, lang)})` : c.dataset.label;
                // the server's display string (core/display.py) of the row behind the point
                const src = c.datasetIndex === 0 ? rows[c.dataIndex] : p ? cmpRows[c.dataIndex] : null;
                return `${name}: ${src ? shownValue(src, item.unit, lang, units) : formatValue(c.parsed.y, item.unit, lang, units)}`;
              },
            },
          },
        },
        onClick: (_e, els) => {
          if (els.length && els[0].datasetIndex !== 0) return;
          const r = els.length && rows[els[0].index];
          if (r) openDrill({ kpi: item.id, ...periodRange(r.period_start, state.by, state), where: req.where });
        },
      }),
    }),
    [rows, cmpRows, cmpLabel, target, lang, state.by],
  );
  const exportRows = () =>
    rows.map((r, i) => ({
      period_start: r.period_start, value: r.value, numerator: r.numerator, denominator: r.denominator, partial: !!r.partial,
      ...(cmp ? { compare_period_start: cmpRows[i]?.period_start ?? null, compare_value: cmpRows[i]?.value ?? null } : {}),
    }));
  return (
    <figure class="panel trend" data-kpi={item.id} data-compare={cmp ? String(cmpRows.length) : ""}>
      <figcaption>
        {label}
        {!empty && <ExportButtons rows={exportRows} name={[item.id, state.from, state.to, state.compare, ...req.where]} />}
      </figcaption>
      {empty || <Chart config={config} label={label} partial={rows.flatMap((r, i) => (r.partial ? [i] : []))} />}
      <Warnings list={ans.warnings} />
    </figure>
  );
}

/** useMemo keyed by the JSON of its inputs, so equal data does not rebuild a chart. */
function useMemoJSON(fn, deps) {
  const key = JSON.stringify(deps);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(fn, [key]);
}

/** The indexes of the periods some row says partial. */
const partialAt = (periods, rows) => periods.flatMap((p, i) => (rows.some((r) => r.period_start === p && r.partial) ? [i] : []));

/** "Nov 2026 (partial)" for a period whose rows say partial. */
const periodNames = (periods, rows, by, lang, t) =>
  periods.map((p) => {
    const name = formatPeriod(p, by, lang);
    return rows.some((r) => r.period_start === p && r.partial) ? t("chart.partial", { period: name }) : name;
  });

/** One row per period and value, for export. */
const dimExport = (rows, dim) =>
  rows.map((r) => ({ period_start: r.period_start, [dim]: r[dim], value: r.value, numerator: r.numerator, denominator: r.denominator, partial: !!r.partial }));

/** A dimension chart's tooltip and legend: the server's display strings of the row behind a point. */
const dimTooltip = (rows, periods, dim, values, unit, lang, units) => ({
  callbacks: {
    label: (c) => {
      const r = rows.find((x) => x.period_start === periods[c.dataIndex] && x[dim] === values[c.datasetIndex]);
      return `${c.dataset.label}: ${r ? shownValue(r, unit, lang, units) : formatValue(c.parsed.y, unit, lang, units)}`;
    },
  },
});
const dimLabel = (rows, dim, value) => shownLabel(rows.find((r) => r[dim] === value), dim) || value;

const dimValues = (rows, dim) => {
  const total = {};
  for (const r of rows) if (r[dim] !== null && r[dim] !== undefined) total[r[dim]] = (total[r[dim]] || 0) + (r.value || 0);
  return Object.keys(total).sort((a, b) => total[b] - total[a]);
};

export function CategoryVolume({ catalog }) {
  const { state, t, lang, units, openDrill } = useCtx();
  const item = catalog.category_volume || catalog.ticket_volume;
  const label = t("section.category");
  const req = item ? kpiRequest(item, state, { dim: "category" }) : { path: null, where: [] };
  const res = useApi(req.path);
  const { where } = whereFor(state.filters, null);
  const spikesRes = useApi(apiPath("/api/spikes", { from: state.from, to: state.to, by: state.by, dim: "category", where, lang }));
  const rows = answer(res.data).rows.filter((r) => r.category !== undefined);
  const spikes = Array.isArray(spikesRes.data) ? spikesRes.data : spikesRes.data?.spikes || [];
  const periods = [...new Set(rows.map((r) => r.period_start))].sort();
  const cats = dimValues(rows, "category");
  const config = useMemoJSON(
    () => ({
      type: "line",
      data: {
        labels: periodNames(periods, rows, state.by, lang, t),
        datasets: cats.map((cat, i) => {
          const spikeAt = new Set(spikes.filter((s) => (s.value ?? s.category) === cat).map((s) => s.period_start));
          return {
            label: dimLabel(rows, "category", cat),
            data: periods.map((p) => rows.find((r) => r.period_start === p && r.category === cat)?.value ?? null),
            borderColor: PALETTE[i % PALETTE.length],
            backgroundColor: PALETTE[i % PALETTE.length],
            tension: 0.2,
            pointStyle: periods.map((p) => (spikeAt.has(p) ? "triangle" : "circle")),
            pointRadius: periods.map((p) => (spikeAt.has(p) ? 9 : 2)),
            pointBorderColor: periods.map((p) => (spikeAt.has(p) ? "#b91c1c" : PALETTE[i % PALETTE.length])),
            pointBorderWidth: periods.map((p) => (spikeAt.has(p) ? 2 : 1)),
          };
        }),
      },
      options: baseOptions(lang, item?.unit, units, {
        plugins: {
          legend: { display: true, position: "bottom", labels: { boxWidth: 12 } },
          tooltip: dimTooltip(rows, periods, "category", cats, item?.unit, lang, units),
        },
        onClick: (_e, els) => {
          if (!els.length) return;
          const cat = cats[els[0].datasetIndex];
          const p = periods[els[0].index];
          openDrill({ kpi: item.id, ...periodRange(p, state.by, state), where: [...req.where.filter((w) => !w.startsWith("category=")), `category=${cat}`] });
        },
      }),
    }),
    [rows, spikes, lang, state.by],
  );
  const empty = item ? chartState(res, rows, label, t) : null;
  return (
    <section id="category" class="panel">
      <h2>
        {label}
        {!empty && <ExportButtons rows={() => dimExport(rows, "category")} name={["category_volume", state.from, state.to, ...req.where]} />}
      </h2>
      <p class="hint">{t("category.hint")}</p>
      {empty || <Chart config={config} label={label} partial={partialAt(periods, rows)} />}
      {!empty && !spikesRes.loading && !spikesRes.error && (
        <div class="spikes">
          <h3>{t("category.spikes")}</h3>
          {spikes.length === 0 ? (
            <p class="hint">{t("category.nospikes")}</p>
          ) : (
            <ul>
              {spikes.map((s) => (
                <li class="spike">
                  {t("category.spike", {
                    category: s.display?.label ?? s.value ?? s.category,
                    period: formatPeriod(s.period_start, state.by, lang),
                    volume: s.display?.volume ?? formatValue(s.volume, "count", lang),
                    baseline: s.display?.baseline ?? formatValue(s.baseline, "count", lang),
                    threshold: s.display?.threshold ?? formatValue(s.threshold, "count", lang),
                  })}
                  <SpikeCauses causes={s.causes} />
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {spikesRes.error && (
        <p class={`state ${spikesRes.error.status === 403 ? "" : "error"}`}>
          {t("category.spikes")}: {spikesRes.error.status === 403 ? t("state.forbidden") : t("state.error", { error: spikesRes.error.message })}
        </p>
      )}
    </section>
  );
}

export function ChannelShare({ catalog }) {
  const { state, t, lang, units, openDrill } = useCtx();
  const item = catalog.channel_share;
  const label = t("section.channel");
  const req = item ? kpiRequest(item, state, { dim: "channel" }) : { path: null, where: [] };
  const res = useApi(req.path);
  const rows = answer(res.data).rows.filter((r) => r.channel !== undefined);
  const periods = [...new Set(rows.map((r) => r.period_start))].sort();
  const channels = dimValues(rows, "channel");
  const config = useMemoJSON(
    () => ({
      type: "bar",
      data: {
        labels: periodNames(periods, rows, state.by, lang, t),
        datasets: channels.map((ch, i) => ({
          label: dimLabel(rows, "channel", ch),
          data: periods.map((p) => rows.find((r) => r.period_start === p && r.channel === ch)?.value ?? null),
          backgroundColor: PALETTE[i % PALETTE.length],
        })),
      },
      options: baseOptions(lang, "percent", units, {
        plugins: {
          legend: { display: true, position: "bottom", labels: { boxWidth: 12 } },
          tooltip: dimTooltip(rows, periods, "channel", channels, "percent", lang, units),
        },
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, max: 100, ticks: { callback: (v) => formatTick(v, "percent", lang, units) } } },
        onClick: (_e, els) => {
          if (!els.length) return;
          const ch = channels[els[0].datasetIndex];
          const p = periods[els[0].index];
          openDrill({ kpi: item.id, ...periodRange(p, state.by, state), where: [...req.where.filter((w) => !w.startsWith("channel=")), `channel=${ch}`] });
        },
      }),
    }),
    [rows, lang, state.by],
  );
  const empty = item ? chartState(res, rows, label, t) : null;
  return (
    <section id="channel" class="panel">
      <h2>
        {label}
        {!empty && <ExportButtons rows={() => dimExport(rows, "channel")} name={["channel_share", state.from, state.to, ...req.where]} />}
      </h2>
      <p class="hint">{t("channel.hint")}</p>
      {empty || <Chart config={config} label={label} partial={partialAt(periods, rows)} />}
    </section>
  );
}

/** What grew in a spike: the categories, channels and words whose share rose most, with counts. */
export function SpikeCauses({ causes }) {
  const { t, lang } = useCtx();
  if (!causes) return null;
  const groups = ["category", "channel", "words"].filter((k) => causes[k]?.length);
  if (!groups.length) return <p class="hint causes">{t("spike.causes.none")}</p>;
  const pct = (v) => (v === null || v === undefined ? "–" : formatValue(v, "percent", lang));
  return (
    <dl class="causes">
      {groups.map((k) => (
        <>
          <dt>{t(`spike.causes.${k}`)}</dt>
          <dd>
            {causes[k]
              .map((c) => t("spike.cause", { value: c.value, share: pct(c.share), baseline: pct(c.baseline_share), count: c.count, total: causes.tickets }))
              .join("; ")}
          </dd>
        </>
      ))}
    </dl>
  );
}
