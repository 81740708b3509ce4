// Export what a card, chart or drawer shows: CSV (RFC 4180) or XLSX, written in the browser.
// XLSX comes from write-excel-file (bundled from npm, no CDN); values keep their type, so a
// number stays a number in Excel and an empty value stays an empty cell, never 0.
import writeXlsxFile from "write-excel-file/universal";

/** The columns of a list of rows, in first-seen order. */
export const columnsOf = (rows) => [...new Set(rows.flatMap((r) => Object.keys(r)))];

const cell = (v) => {
  if (v === null || v === undefined) return "";
  const s = typeof v === "object" ? JSON.stringify(v) : String(v);
  // quote a field with a comma, quote, CR or LF; a leading = + - @ is kept as text by a quote mark,
  // so a spreadsheet never runs a comment as a formula
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v !== "number" ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** CSV text, header first, CRLF line ends. */
export function toCSV(rows, columns = columnsOf(rows)) {
  return [columns.map(cell).join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\r\n") + "\r\n";
}

/** The sheet data write-excel-file takes: a bold header row, then typed cells. */
export function sheetData(rows, columns = columnsOf(rows)) {
  const typed = (v) => {
    if (v === null || v === undefined) return null;
    if (typeof v === "number") return Number.isFinite(v) ? { value: v, type: Number } : null;
    if (typeof v === "boolean") return { value: v, type: Boolean };
    return { value: typeof v === "object" ? JSON.stringify(v) : String(v), type: String };
  };
  return [columns.map((c) => ({ value: c, fontWeight: "bold" })), ...rows.map((r) => columns.map((c) => typed(r[c])))];
}

export function xlsxBlob(rows, columns = columnsOf(rows), sheet = "data") {
  // Excel sheet names: at most 31 characters, none of : \ / ? * [ ]
  return writeXlsxFile(sheetData(rows, columns), { sheet: sheet.replace(/[:\\/?*[\]]/g, " ").slice(0, 31) || "data" }).toBlob();
}

/** A file name from its parts: "csat_2026-05-01_2026-10-31.csv". */
export function fileName(parts, ext) {
  return parts.filter(Boolean).join("_").replace(/[^\w.=-]+/g, "-") + "." + ext;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Save rows as CSV or XLSX under `name` (without extension). */
export async function download(rows, format, name, columns = columnsOf(rows)) {
  if (format === "csv") save(new Blob(["\ufeff" + toCSV(rows, columns)], { type: "text/csv;charset=utf-8" }), `${name}.csv`);
  else save(await xlsxBlob(rows, columns, name), `${name}.xlsx`);
}
