import { describe, expect, it } from "vitest";
import { unzipSync, strFromU8 } from "fflate";
import { columnsOf, fileName, sheetData, toCSV, xlsxBlob } from "../src/export.js";

const rows = [
  { period_start: "2026-10-01", value: 61.5, numerator: 123, denominator: 200, note: null },
  { period_start: "2026-11-01", value: null, numerator: 0, denominator: 0, note: "no answers, \"null\" not 0" },
];

describe("CSV", () => {
  it("writes a header, quotes what needs quoting and leaves null empty", () => {
    expect(toCSV(rows)).toBe(
      "period_start,value,numerator,denominator,note\r\n" +
      "2026-10-01,61.5,123,200,\r\n" +
      '2026-11-01,,0,0,"no answers, ""null"" not 0"\r\n',
    );
  });

  it("keeps a text that looks like a formula as text", () => {
    expect(toCSV([{ comment: "=HYPERLINK(1)", n: -3 }])).toBe("comment,n\r\n'=HYPERLINK(1),-3\r\n");
  });

  it("takes the columns of every row, in first-seen order", () => {
    expect(columnsOf([{ a: 1 }, { b: 2, a: 3 }])).toEqual(["a", "b"]);
  });
});

describe("XLSX", () => {
  it("types the cells: numbers stay numbers, null stays empty", () => {
    const data = sheetData(rows);
    expect(data[0].map((c) => c.value)).toEqual(["period_start", "value", "numerator", "denominator", "note"]);
    expect(data[1][1]).toEqual({ value: 61.5, type: Number });
    expect(data[2][1]).toBeNull();
  });

  it("is a real workbook: the sheet holds the numbers as numbers", async () => {
    const blob = await xlsxBlob(rows, undefined, "csat: 2026/10");
    const files = unzipSync(new Uint8Array(await blob.arrayBuffer()));
    expect(Object.keys(files)).toContain("xl/worksheets/sheet1.xml");
    const sheet = strFromU8(files["xl/worksheets/sheet1.xml"]);
    expect(sheet).toMatch(/<c r="B2"[^>]*><v>61\.5<\/v><\/c>/); // a number cell, not a string
    expect(sheet).not.toMatch(/r="B3"/); // the null value is no cell at all
    expect(strFromU8(files["xl/workbook.xml"])).toContain('name="csat  2026 10"'); // : and / are not allowed
  });

  it("names files from their parts", () => {
    expect(fileName(["csat", "2026-05-01", "2026-10-31", "channel=chat"], "csv")).toBe("csat_2026-05-01_2026-10-31_channel=chat.csv");
  });
});
