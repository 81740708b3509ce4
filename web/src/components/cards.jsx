import { useState } from "preact/hooks";
import { useApi, useCtx } from "../hooks.js";
import { apiPath, periodEnd, periodRange } from "../state.js";
import { classify, formatChange, formatPeriod, formatValue, locale, pick } from "../format.js";
import { CARD_KPIS, MIN_SAMPLE, answer, kpiRequest, sample, totals } from "../kpis.js";
import { ExportButtons, Warnings } from "./exports.jsx";
import { shownValue } from "../display.js";

/**
 * The scorecard's row for a KPI in the period a row belongs to (month or week grain only):
 * target, status and change come from the server, never recomputed here.
 */
export function useScorecardRow(kpi, row, by) {
  const ok = row && (by === "month" || by === "week");
  const { lang } = useCtx();
  const res = useApi(ok ? apiPath("/api/scorecard", { from: row.period_start, to: periodEnd(row.period_start, by), by, lang }) : null);
  return { loading: res.loading, row: (res.data?.rows || []).find((r) => r.kpi === kpi) || null };
}

export function Cards({ catalog }) {
  const { t } = useCtx();
  const ids = CARD_KPIS.filter((id) => catalog[id]);
  return (
    <section id="cards">
      <h2>{t("section.cards")}</h2>
      <div class="cards">
        {ids.map((id) => (
          <Card item={catalog[id]} />
        ))}
      </div>
    </section>
  );
}

function Card({ item }) {
  const { state, t, lang, units, openDrill } = useCtx();
  const [open, setOpen] = useState(false);
  const label = pick(item.labels, lang, item.id);
  const definition = pick(item.definitions || item.definition, lang);
  const formula = pick(item.formulas || item.formula, lang);
  const req = kpiRequest(item, state);
  const res = useApi(req.path);
  const ans = answer(res.data);
  const rows = totals(ans.rows);
  const c = classify(rows);
  const row = c.row;
  const judge = useScorecardRow(item.id, c.kind === "value" || c.kind === "zero" ? row : null, state.by);
  const scRow = judge.row;
  // The status judges the unfiltered number: shown only when the scorecard has the card's value.
  const sc = scRow && scRow.value !== null && Math.abs(scRow.value - row.value) < 1e-9 ? scRow : null;
  const target = scRow?.target;
  const fmt = (v) => formatValue(v, item.unit, lang, units);
  const plain = (v) => (v === null || v === undefined ? "—" : new Intl.NumberFormat(locale(lang), { maximumFractionDigits: 2 }).format(v));
  const drill = () => {
    const range = periodRange(row.period_start, state.by, state);
    openDrill({ kpi: item.id, ...range, where: req.where });
  };

  let body;
  if (res.loading) body = <p class="state loading">{t("state.loading.what", { what: label })}</p>;
  else if (res.error)
    body = <p class="state error">{res.error.status === 403 ? t("state.forbidden") : t("state.error", { error: res.error.message })}</p>;
  else if (c.kind === "unavailable")
    body = (
      <p class="state unavailable" title={c.note}>
        <strong class="value-text">{t("state.unavailable")}</strong>
        <span>{t("state.unavailable.help")}</span>
      </p>
    );
  else if (c.kind === "nodata")
    body = (
      <p class="state nodata">
        <strong class="value-text">{t("state.nodata")}</strong>
        <span>{t("state.nodata.help")}</span>
      </p>
    );
  else
    body = (
      <>
        <button class="value" data-kpi={item.id} data-value={String(row.value)} data-period={row.period_start} title={t("card.drill")} onClick={drill}>
          {shownValue(row, item.unit, lang, units)}
        </button>
        <p class="period">
          {t("card.period", { period: formatPeriod(row.period_start, state.by, lang) })}
          {row.partial ? ` · ${t("card.partial")}` : ""}
        </p>
        {c.kind === "zero" && <p class="hint">{t("state.zero")}</p>}
        <Sample row={row} unit={item.unit} />
        <p class="target">
          {judge.loading && <span class="hint sc-loading">{t("card.judging")}</span>}
          {target !== undefined && target !== null && <span>{t("card.target", { target: scRow.display?.target ?? fmt(target) })}</span>}
          {sc && <span class={`status status-${sc.status}`}>{t(`status.${sc.status}`)}</span>}
          {sc && sc.change !== null && sc.change !== undefined && <span class="change">{t("card.previous", { change: sc.display?.change ?? formatChange(sc.change, item.unit, lang) })}</span>}
        </p>
        <Sparkline rows={rows} />
      </>
    );

  return (
    <article class={`card kind-${res.loading ? "loading" : c.kind}`} data-kpi={item.id} data-kind={res.loading ? "loading" : c.kind}>
      <header>
        <h3>{label}</h3>
        <button class="info" aria-expanded={open} title={t("card.definition")} onClick={() => setOpen(!open)}>
          i
        </button>
      </header>
      {body}
      <Warnings list={ans.warnings} />
      {!res.loading && !res.error && rows.length > 0 && (
        <footer class="card-export">
          <ExportButtons rows={rows} name={[item.id, state.from, state.to, ...req.where]} />
        </footer>
      )}
      {req.dropped.length > 0 && <p class="hint">{t("card.dropped", { filters: req.dropped.map((k) => t(`filters.${k}`)).join(", ") })}</p>}
      <div class={`definition ${open ? "open" : ""}`} role="tooltip">
        <p>{definition}</p>
        {formula && (
          <p>
            <em>{t("card.formula")}:</em> {formula}
          </p>
        )}
        {row && row.value !== null && (
          <dl>
            <dt>{t("card.numerator")}</dt>
            <dd class="numerator">{plain(row.numerator)}</dd>
            <dt>{t("card.denominator")}</dt>
            <dd class="denominator">{plain(row.denominator)}</dd>
          </dl>
        )}
      </div>
    </article>
  );
}

/** How many answers or records the value rests on, with a "few answers" marker under MIN_SAMPLE. */
function Sample({ row, unit }) {
  const { t, lang } = useCtx();
  const s = sample(row, unit);
  if (!s) return null;
  const n = new Intl.NumberFormat(locale(lang)).format(s.n);
  return (
    <p class={`sample ${s.few ? "few" : ""}`} data-n={s.n} title={s.few ? t("card.few.help", { min: MIN_SAMPLE }) : ""}>
      {t("card.sample", { n })}
      {s.few && <span class="badge few-badge">{t("card.few")}</span>}
    </p>
  );
}

/** A trend line in a small SVG; gaps where a period has no value. */
export function Sparkline({ rows }) {
  const values = rows.map((r) => (r.value === null || r.value === undefined ? null : r.value));
  const known = values.filter((v) => v !== null);
  if (known.length < 2) return null;
  const w = 120, h = 28, min = Math.min(...known), max = Math.max(...known);
  const x = (i) => (values.length === 1 ? w / 2 : (i / (values.length - 1)) * w);
  const y = (v) => (max === min ? h / 2 : h - 2 - ((v - min) / (max - min)) * (h - 4));
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) return (pen = false);
    d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  const last = values.length - 1 - [...values].reverse().findIndex((v) => v !== null);
  return (
    <svg class="spark" viewBox={`0 0 ${w} ${h}`} width={w} height={h} aria-hidden="true">
      <path d={d} />
      <circle cx={x(last)} cy={y(values[last])} r="2.5" />
    </svg>
  );
}
