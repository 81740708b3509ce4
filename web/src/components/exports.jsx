import { useState } from "preact/hooks";
import { useCtx } from "../hooks.js";
import { download, fileName } from "../export.js";

/** CSV and XLSX buttons for what a card, chart or drawer shows. `rows` may be a function (fetched on click). */
export function ExportButtons({ rows, name, columns }) {
  const { t } = useCtx();
  const [busy, setBusy] = useState("");
  const [error, setError] = useState("");
  const go = async (format) => {
    setBusy(format);
    setError("");
    try {
      const data = typeof rows === "function" ? await rows() : rows;
      await download(data, format, fileName(name, "x").slice(0, -2), columns);
    } catch (e) {
      setError(t("state.error", { error: e.message }));
    } finally {
      setBusy("");
    }
  };
  return (
    <span class="export" role="group" aria-label={t("export.label")}>
      {["csv", "xlsx"].map((f) => (
        <button type="button" class="link export-btn" data-format={f} disabled={!!busy} title={t("export.title", { format: f.toUpperCase() })} onClick={() => go(f)}>
          {busy === f ? "…" : f.toUpperCase()}
        </button>
      ))}
      {error && <span class="error">{error}</span>}
    </span>
  );
}

/** Warnings the API returned with an answer (e.g. a filter value that matches nothing). */
export function Warnings({ list, id }) {
  if (!list?.length) return null;
  return (
    <ul class="warnings" id={id} role="status">
      {list.map((w) => (
        <li>{w}</li>
      ))}
    </ul>
  );
}
