import { useEffect, useMemo, useState } from "preact/hooks";
import * as api from "./api.js";
import { Ctx, useApi, useCtx } from "./hooks.js";
import { COMPARES, FILTERS, GRAINS, LANGS, PRESETS, apiPath, parseState, patchState, toSearch, whereFor } from "./state.js";
import { LANG_NAMES, translate, unitLabels } from "./i18n/index.js";
import { pick } from "./format.js";
import { Cards } from "./components/cards.jsx";
import { Trends, CategoryVolume, ChannelShare } from "./components/charts.jsx";
import { Heatmap } from "./components/heatmap.jsx";
import { Drawer } from "./components/drawer.jsx";
import { Leaderboard } from "./components/leaderboard.jsx";
import { Operations } from "./components/operations.jsx";

const readUrl = () => parseState(location.search, { languages: navigator.languages || [] });

export function App() {
  const [state, setStateRaw] = useState(readUrl);
  const [session, setSession] = useState({ checking: true, me: null });
  const [drill, setDrill] = useState(null);
  const t = useMemo(() => (key, vars) => translate(state.lang, key, vars), [state.lang]);

  // The view is the URL: every change pushes a history entry, Back restores the previous view.
  const setState = (patch) => {
    setStateRaw((prev) => {
      const next = patchState(prev, patch);
      const search = toSearch(next);
      if (search !== location.search) history.pushState(null, "", search);
      return next;
    });
  };
  useEffect(() => {
    history.replaceState(null, "", toSearch(state));
    const onPop = () => setStateRaw(readUrl());
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);
  useEffect(() => {
    document.documentElement.lang = state.lang;
    document.title = `servicekpi · ${translate(state.lang, "app.title")}`;
  }, [state.lang]);

  const checkSession = () =>
    api.me().then(
      (me) => setSession({ checking: false, me }),
      () => setSession({ checking: false, me: null }),
    );
  useEffect(() => {
    api.setUnauthorizedHandler(() => setSession({ checking: false, me: null }));
    checkSession();
  }, []);

  const ctx = { state, setState, t, lang: state.lang, units: unitLabels(state.lang), openDrill: setDrill };
  if (session.checking) return <p class="page-state">{t("state.loading")}</p>;
  if (!session.me)
    return (
      <Ctx.Provider value={ctx}>
        <SignIn onDone={checkSession} />
      </Ctx.Provider>
    );
  return (
    <Ctx.Provider value={ctx}>
      <Dashboard me={session.me} drill={drill} onSignOut={() => api.signOut().finally(() => setSession({ checking: false, me: null }))} />
    </Ctx.Provider>
  );
}

function LangSwitch() {
  const { state, setState, t } = useCtx();
  return (
    <label class="lang">
      <span>{t("lang.label")}</span>
      <select id="lang" value={state.lang} onChange={(e) => setState({ lang: e.currentTarget.value })}>
        {LANGS.map((l) => (
          <option value={l}>{LANG_NAMES[l]}</option>
        ))}
      </select>
    </label>
  );
}

function SignIn({ onDone }) {
  const { t } = useCtx();
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await api.signIn(token.trim());
      setToken("");
      await onDone();
    } catch (err) {
      setError(err.status === 401 || err.status === 403 ? t("signin.invalid") : t("state.error", { error: err.message }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} autocomplete="off">
        <header>
          <h1>servicekpi</h1>
          <LangSwitch />
        </header>
        <h2>{t("signin.title")}</h2>
        <p>
          {t("signin.intro")} <code>servicekpi token create --role manager</code>
        </p>
        <label>
          {t("signin.token")}
          <input id="token" type="password" value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button id="signin" type="submit" disabled={busy || !token.trim()}>
          {busy ? t("signin.busy") : t("signin.submit")}
        </button>
        <p class="hint">{t("signin.note")}</p>
      </form>
    </main>
  );
}

function Dashboard({ me, drill, onSignOut }) {
  const { t, lang, state } = useCtx();
  const page = state.page || "overview";
  const catalog = useApi("/api/kpis");
  const list = catalog.data?.kpis || (Array.isArray(catalog.data) ? catalog.data : []);
  const byId = useMemo(() => Object.fromEntries(list.map((k) => [k.id, k])), [catalog.data]);
  return (
    <>
      <header class="top">
        <h1>
          servicekpi <small>{t("app.title")}</small>
        </h1>
        <div class="who">
          <span id="me">
            {[me.name || me.agent_id, t("me.role", { role: t(`role.${me.role}`) })].filter(Boolean).join(" · ")}
          </span>
          <LangSwitch />
          <button id="signout" class="link" onClick={onSignOut}>
            {t("signout")}
          </button>
        </div>
      </header>
      {me.role === "agent" && (
        <p class="banner" id="agent-banner" role="status">
          {t("agent.banner", { agent: me.agent_id })}
        </p>
      )}
      <Tabs />
      <Filters />
      {page === "leaderboard" && <main><Leaderboard me={me} /></main>}
      {page === "operations" && <Operations me={me} />}
      {page === "overview" && catalog.loading && <p class="page-state">{t("state.loading")}</p>}
      {page === "overview" && catalog.error && <p class="error">{t("state.error", { error: catalog.error.message })}</p>}
      {page === "overview" && catalog.data && (
        <main>
          <Cards catalog={byId} />
          <Trends catalog={byId} />
          <div class="two">
            <CategoryVolume catalog={byId} />
            <ChannelShare catalog={byId} />
          </div>
          <Heatmap />
        </main>
      )}
      {drill && <Drawer key={JSON.stringify(drill)} drill={drill} label={pick(byId[drill.kpi]?.labels, lang, drill.kpi)} />}
    </>
  );
}

function Tabs() {
  const { state, setState, t } = useCtx();
  const page = state.page || "overview";
  return (
    <nav class="tabs" aria-label={t("tabs.label")}>
      {["overview", "leaderboard", "operations"].map((p) => (
        <button type="button" id={`tab-${p}`} class={p === page ? "active" : ""} aria-current={p === page ? "page" : undefined} onClick={() => setState({ page: p === "overview" ? "" : p })}>
          {t(`tabs.${p}`)}
        </button>
      ))}
    </nav>
  );
}

/** The per-ticket export (GET /api/export/tickets): one row per ticket in the range and filters. */
function TicketExport() {
  const { state, t } = useCtx();
  const { where } = whereFor(state.filters);
  return (
    <span class="ticket-export">
      {t("export.tickets")}
      {["csv", "xlsx"].map((f) => (
        <a class="link" id={`export-tickets-${f}`} href={apiPath("/api/export/tickets", { format: f, from: state.from, to: state.to, where })} download>
          {f.toUpperCase()}
        </a>
      ))}
    </span>
  );
}

function Filters() {
  const { state, setState, t } = useCtx();
  const dims = useApi("/api/dims");
  const [copied, setCopied] = useState(false);
  const options = (key) => {
    const col = FILTERS.find((f) => f.key === key).column;
    const values = (dims.data?.dims || dims.data || {})[col] || [];
    const current = state.filters[key];
    return current && !values.includes(current) ? [...values, current] : values;
  };
  // a URL filter with a value no record has (?channel=nope) matches nothing: say so
  const known = dims.data?.dims || dims.data;
  const invalid = known
    ? FILTERS.filter(({ key, column }) => state.filters[key] && !(known[column] || []).map(String).includes(state.filters[key]))
    : [];
  const copy = () => {
    navigator.clipboard?.writeText(location.href).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
  };
  return (
    <>
    <form class="filters" id="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("filters.title")}>
      <label>
        {t("filters.range")}
        <select id="f-range" value={state.range || ""} onChange={(e) => setState({ range: e.currentTarget.value })}>
          <option value="">{t("range.custom")}</option>
          {Object.keys(PRESETS).map((p) => (
            <option value={p}>{t(`range.${p}`)}</option>
          ))}
        </select>
      </label>
      <label>
        {t("filters.from")}
        <input type="date" id="f-from" value={state.from} max={state.to} onChange={(e) => e.currentTarget.value && setState({ from: e.currentTarget.value })} />
      </label>
      <label>
        {t("filters.to")}
        <input type="date" id="f-to" value={state.to} min={state.from} onChange={(e) => e.currentTarget.value && setState({ to: e.currentTarget.value })} />
      </label>
      <label>
        {t("filters.by")}
        <select id="f-by" value={state.by} onChange={(e) => setState({ by: e.currentTarget.value })}>
          {GRAINS.map((g) => (
            <option value={g}>{t(`by.${g}`)}</option>
          ))}
        </select>
      </label>
      <label>
        {t("filters.compare")}
        <select id="f-compare" value={state.compare || ""} onChange={(e) => setState({ compare: e.currentTarget.value })}>
          <option value="">{t("compare.none")}</option>
          {COMPARES.map((c) => (
            <option value={c}>{t(`compare.${c}`)}</option>
          ))}
        </select>
      </label>
      {FILTERS.map(({ key }) => (
        <label>
          {t(`filters.${key}`)}
          <select id={`f-${key}`} value={state.filters[key] || ""} onChange={(e) => setState({ filters: { [key]: e.currentTarget.value } })}>
            <option value="">{t("filters.all")}</option>
            {options(key).map((v) => (
              <option value={v}>{v}</option>
            ))}
          </select>
        </label>
      ))}
      <div class="actions">
        <button type="button" class="link" id="f-reset" onClick={() => setState({ filters: Object.fromEntries(FILTERS.map((f) => [f.key, ""])) })}>
          {t("filters.reset")}
        </button>
        <button type="button" class="link" onClick={copy}>
          {copied ? t("filters.copied") : t("filters.copy")}
        </button>
        <TicketExport />
      </div>
    </form>
    {invalid.length > 0 && (
      <ul class="warnings" id="filter-warnings" role="alert">
        {invalid.map(({ key }) => (
          <li>{t("filters.invalid", { filter: t(`filters.${key}`), value: state.filters[key] })}</li>
        ))}
      </ul>
    )}
    </>
  );
}
