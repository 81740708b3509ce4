"""The PDF report: headless Chromium prints the HTML; Chinese and Thai come out as real glyphs.

Checks go through poppler-utils (pdftotext, pdffonts, pdfinfo) and a small reader of the PDF's
own font and text objects that finds .notdef ("tofu" box) glyphs, which text extraction alone
cannot see (a box still maps to its character in the ToUnicode table).
"""
import re
import subprocess
import zlib
from pathlib import Path

import pytest
from report_sample import sample_report

from servicekpi.catalog import text
from servicekpi.report import html, pdf
from servicekpi.report.i18n import translator

CJK_FONT = re.compile(r"NotoSansCJK|NotoSerifCJK|SourceHan|WenQuanYi|DroidSansFallback|AR.?PL|SimSun|YaHei", re.I)
THAI_FONT = re.compile(r"Loma|Garuda|Kinnari|Norasi|Sawasdee|Umpush|Waree|Tlwg|Purisa|Laksaman|NotoSansThai|"
                       r"NotoSerifThai|Sarabun", re.I)


def run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout


def squeeze(s: str) -> str:
    return re.sub(r"\s+", "", s)


# ------------------------------------------------------- a minimal reader of Chromium's PDFs


def pdf_objects(data: bytes) -> dict[int, bytes]:
    return {int(n): body for n, body in re.findall(rb"(?m)^(\d+) 0 obj\s*(.*?)endobj", data, re.S)}


def stream_of(body: bytes) -> bytes | None:
    m = re.search(rb"stream\r?\n(.*)\r?\nendstream", body, re.S)
    if not m:
        return None
    raw = m.group(1)
    if b"/FlateDecode" in body:
        try:
            return zlib.decompress(raw)
        except zlib.error:
            return None
    return raw


def fonts(objs: dict[int, bytes]) -> dict[int, dict]:
    """Font object number -> subtype, names from its descriptor, and for Type 3 code -> glyph name."""
    out = {}
    for n, body in objs.items():
        if not re.search(rb"/Type\s*/Font\b", body):
            continue
        sub = re.search(rb"/Subtype\s*/(\w+)", body).group(1).decode()
        desc = body
        ref = re.search(rb"/FontDescriptor\s+(\d+) 0 R", body)
        kids = re.search(rb"/DescendantFonts\s*\[\s*(\d+) 0 R", body)
        if kids:
            ref = re.search(rb"/FontDescriptor\s+(\d+) 0 R", objs.get(int(kids.group(1)), b""))
        if ref:
            desc = objs.get(int(ref.group(1)), b"")
        names = [m.decode("latin-1") for m in re.findall(rb"/(?:FontName|BaseFont)\s*/([^\s/>\]]+)", body + desc)]
        names += [m.decode("latin-1") for m in re.findall(rb"/FontFamily\s*\(([^)]*)\)", desc)]
        diffs = {}
        d = re.search(rb"/Differences\s*\[(.*?)\]", body, re.S)
        if d:
            code = 0
            for tok in d.group(1).split():
                if tok.startswith(b"/"):
                    diffs[code] = tok[1:].decode()
                    code += 1
                else:
                    code = int(tok)
        out[n] = {"subtype": sub, "names": names, "diffs": diffs}
    return out


def notdef_glyphs(path: Path) -> list[str]:
    """Glyphs drawn with a font's .notdef (glyph 0): the boxes shown for a character no font has."""
    data = path.read_bytes()
    objs = pdf_objects(data)
    font = fonts(objs)
    resource = {name.decode(): int(num) for name, num in re.findall(rb"/(F\d+)\s+(\d+) 0 R", data)}
    bad = []
    token = re.compile(rb"/(F\d+)\s+[-\d.]+\s+Tf|<([0-9A-Fa-f]*)>\s*Tj|\[((?:[^\]])*)\]\s*TJ")
    for body in objs.values():
        content = stream_of(body)
        if not content or b"BT" not in content:
            continue
        current = None
        for m in token.finditer(content):
            if m.group(1):
                current = font.get(resource.get(m.group(1).decode()))
                continue
            hexes = [m.group(2)] if m.group(2) is not None else re.findall(rb"<([0-9A-Fa-f]*)>", m.group(3))
            if current is None:
                continue
            for h in hexes:
                h = h.decode()
                if current["subtype"] == "Type0":  # 2-byte glyph ids (Identity-H)
                    codes = [int(h[i:i + 4], 16) for i in range(0, len(h), 4)]
                    bad += [f"{current['names']}: gid 0" for c in codes if c == 0]
                elif current["subtype"] == "Type3":  # 1-byte codes -> /gNN glyph names
                    codes = [int(h[i:i + 2], 16) for i in range(0, len(h), 2)]
                    bad += [f"{current['names']}: {current['diffs'].get(c)}" for c in codes
                            if current["diffs"].get(c) == "g0"]
    return bad


def font_names(path: Path) -> list[str]:
    return [n for f in fonts(pdf_objects(path.read_bytes())).values() for n in f["names"]]


# ------------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    return {lang: pdf.write(sample_report(lang), out / f"report-{lang}.pdf") for lang in ("zh", "th")}


@pytest.mark.parametrize("lang,terms", [
    ("zh", ["净推荐值", "首次联系解决率", "客户满意度评分", "计分卡", "渠道偏好", "2026年10月"]),
    ("th", ["คะแนนโปรโมเตอร์สุทธิ", "อัตราการแก้ปัญหาในการติดต่อครั้งแรก", "สกอร์การ์ด", "ต.ค. 2026"]),
])
def test_text_is_real_and_extractable(pdfs, lang, terms):
    got = squeeze(run("pdftotext", "-enc", "UTF-8", str(pdfs[lang]), "-"))
    for term in terms:
        assert squeeze(term) in got, term
    # the definitions (catalog texts) are in the PDF too
    assert squeeze(text("kpi", "nps", "label", lang)) in got


@pytest.mark.parametrize("lang,pattern", [("zh", CJK_FONT), ("th", THAI_FONT)])
def test_fonts_are_embedded_and_script_fonts_are_used(pdfs, lang, pattern):
    table = run("pdffonts", str(pdfs[lang])).splitlines()[2:]
    assert table, "no fonts at all"
    for line in table:
        cols = line.split()
        emb, uni = cols[-5], cols[-3]
        assert emb == "yes" and uni == "yes", line  # every font embedded, with a Unicode map
    # Chromium embeds TrueType fonts (Loma) as CID TrueType and CFF-outline OpenType (Noto Sans CJK)
    # as Type 3 glyph procedures; either way the descriptor names the real font
    assert any(pattern.search(n) for n in font_names(pdfs[lang])), font_names(pdfs[lang])


@pytest.mark.parametrize("lang", ["zh", "th"])
def test_no_tofu(pdfs, lang):
    assert notdef_glyphs(pdfs[lang]) == []


def test_tofu_detector_finds_boxes(tmp_path):
    # U+17000 (Tangut) and U+E000 (private use) are in no installed font: Chromium draws .notdef boxes
    source = tmp_path / "tofu.html"
    source.write_text('<!DOCTYPE html><html lang="zh-Hans"><meta charset="utf-8"><body style="font-family:'
                      '\'Noto Sans CJK SC\'">净推荐值 \U00017000\U00017001 \ue000</body></html>', encoding="utf-8")
    out = pdf.print_html(source, tmp_path / "tofu.pdf")
    assert notdef_glyphs(out) != []


def test_pdf_is_a4_with_a_running_footer(pdfs):
    info = run("pdfinfo", str(pdfs["th"]))
    assert re.search(r"Page size:\s+59[45](\.\d+)? x 841(\.\d+)? pts \(A4\)", info), info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 3
    last = squeeze(run("pdftotext", "-f", str(pages), "-l", str(pages), str(pdfs["th"]), "-"))
    assert f"{pages}/{pages}" in last and squeeze("รายงานการบริการลูกค้า · ต.ค. 2026") in last


def test_as_of_and_reach_are_printed(pdfs):
    got = squeeze(run("pdftotext", "-enc", "UTF-8", str(pdfs["zh"]), "-"))
    _ = translator("zh")
    assert squeeze("2026年11月2日 08:30 UTC") in got
    assert squeeze(_("{table}: complete through {instant}").format(table=_("Tickets"),
                                                                   instant="2026年10月31日 23:58")) in got


def test_missing_browser_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(pdf.ENV_BROWSER, raising=False)
    with pytest.raises(pdf.PdfError, match=r"apt-get install chromium fonts-noto-cjk fonts-thai-tlwg"):
        pdf.find_browser()
    monkeypatch.setenv(pdf.ENV_BROWSER, str(tmp_path / "nope"))
    with pytest.raises(pdf.PdfError, match="is not an executable browser"):
        pdf.find_browser()


def test_html_and_pdf_are_the_same_document(tmp_path, monkeypatch):
    # pdf.write prints exactly html.render's output
    printed = []
    monkeypatch.setattr(pdf, "print_html", lambda src, out: printed.append(Path(src).read_text("utf-8")) or out)
    report = sample_report("ro")
    pdf.write(report, tmp_path / "r.pdf")
    assert printed == [html.render(report)]


def test_long_tables_repeat_their_header_and_leave_no_near_empty_page(tmp_path):
    """A tracker of 45 KPIs spans pages: its header row repeats on each, rows are not split, and no
    page but the last holds only a few lines (issue 13 item 11)."""
    from report_sample import series

    from servicekpi.catalog import catalog
    report = sample_report("en")
    values = [float(10 + i) for i in range(12)]
    report.series = [series(k, "en", values) for k in list(catalog().kpis)[:45]]
    path = pdf.write(report, tmp_path / "long.pdf")
    pages = int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", str(path))).group(1))
    texts = [run("pdftotext", "-layout", "-f", str(i), "-l", str(i), str(path), "-") for i in range(1, pages + 1)]
    tracker = [i for i, t in enumerate(texts) if "All KPIs by period" in t]
    assert tracker, "no tracker page"
    following = [t for t in texts[tracker[0] + 1:] if "Ticket volume by category" not in t.split("\n", 3)[0]]
    continued = [t for t in following[:2] if re.search(r"^\s*KPI\s+Target\s+Nov", t, re.M)]
    assert continued, "the tracker's header row does not repeat on the next page"
    for i, t in enumerate(texts[:-1]):
        lines = [line for line in t.splitlines() if line.strip()]
        assert len(lines) >= 12, (i + 1, lines)
