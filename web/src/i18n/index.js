// Interface strings, one JSON dictionary per language. KPI labels and definitions are not
// here: they come from the catalog (/api/kpis), the one place KPI wording lives.
import en from "./en.json";
import zh from "./zh.json";
import ro from "./ro.json";
import th from "./th.json";

export const DICTS = { en, zh, ro, th };
export const LANG_NAMES = { en: "English", zh: "中文", ro: "Română", th: "ไทย" };

/** t("card.target", {target: "80 %"}) in `lang`, falling back to English, then to the key. */
export function translate(lang, key, vars = {}) {
  const s = DICTS[lang]?.[key] ?? en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Short unit labels in `lang` for formatValue. */
export function unitLabels(lang) {
  const out = {};
  for (const key of Object.keys(en)) if (key.startsWith("unit.")) out[key.slice(5)] = translate(lang, key);
  return out;
}
