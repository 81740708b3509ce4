"""The HTML report: self-contained, values formatted per language, no data never shown as 0."""
import datetime as dt
import re
from html import escape, unescape
from html.parser import HTMLParser

import pytest
from report_sample import HOSTILE, sample_report

from servicekpi.catalog import text
from servicekpi.report import html, svg
from servicekpi.report.document import Period, Report, Spike
from servicekpi.report.i18n import LANGS, NO_DATA, period_label, translator

NBSP = "\u00a0"
URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "poster", "srcset", "data", "background",
             "manifest", "ping", "cite", "longdesc", "usemap", "codebase", "archive"}


class Page(HTMLParser):
    """Collects tags, URL-bearing attributes, style text and text per element id / data-kpi."""

    def __init__(self, doc: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.urls, self.styles, self.text = [], [], [], []
        self._in_style = False
        self.feed(doc)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in URL_ATTRS and value is not None:
                self.urls.append(value)
            if name == "style" and value:
                self.styles.append(value)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
        else:
            self.text.append(data)


def external_references(doc: str) -> list[str]:
    """Everything in a document that would make a browser fetch something."""
    page = Page(doc)
    found = [u for u in page.urls if not u.startswith("#")]  # only in-page anchors are allowed
    for css in page.styles:
        found += re.findall(r"url\s*\([^)]*\)", css, re.I) + re.findall(r"@import[^;]*", css, re.I)
    found += [t for t in page.tags if t in ("script", "link", "iframe", "img", "object", "embed", "base",
                                            "audio", "video", "source", "use", "image")]
    found += re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", doc, re.I)
    return found


def card(doc: str, kid: str) -> str:
    """The visible text of the scorecard card of one KPI."""
    m = re.search(rf'<div class="card [^"]*" data-kpi="{kid}">(.*?)</div><div class="card|'
                  rf'<div class="card [^"]*" data-kpi="{kid}">(.*?)</div></div>', doc, re.S)
    assert m, f"no card for {kid}"
    return unescape(re.sub(r"<[^>]+>", " ", m.group(1) or m.group(2)))


def row(doc: str, kid: str, section: str = "tracker") -> list[str]:
    """The cell texts of one KPI's row in a section's table."""
    part = doc.split(f'<section id="{section}"', 1)[1].split("</section>", 1)[0]
    m = re.search(rf'<tr data-kpi="{kid}">(.*?)</tr>', part, re.S)
    assert m, f"no row for {kid} in {section}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", m.group(1), re.S)
    return [unescape(re.sub(r"<small>.*?</small>|<[^>]+>", "", c)).strip() for c in cells]


@pytest.fixture(scope="module", params=LANGS)
def doc(request):
    return request.param, html.render(sample_report(request.param))


def test_the_reference_checker_can_fail():
    for bad in ['<img src="https://cdn.example/x.png">', '<link rel="stylesheet" href="x.css">',
                '<style>@import "x.css";</style>', '<div style="background:url(x.png)"></div>',
                '<script>1</script>', '<a href="http://x">x</a>', '<svg><use href="s.svg#a"/></svg>']:
        assert external_references(bad), bad
    assert external_references('<a href="#def-nps">x</a><p>ok</p>') == []


def test_no_external_references(doc):
    lang, page = doc
    assert external_references(page) == []


def test_one_document_with_language_and_charset(doc):
    lang, page = doc
    assert page.startswith("<!DOCTYPE html>")
    assert f'<html lang="{html.HTML_LANG[lang]}">' in page and '<meta charset="utf-8">' in page
    assert page.count("<html") == 1 and page.rstrip().endswith("</html>")


def test_printable_a4(doc):
    _, page = doc
    assert "@media print" in page and re.search(r"@page\s*\{[^}]*size:\s*A4", page)
    assert "break-before: page" in page


@pytest.mark.parametrize("lang,csat,backlog,aht,change", [
    ("en", "72.3%", "1,234", "600 sec", "+1.0 pp"),
    ("zh", "72.3%", "1,234", "600秒", "+1.0 个百分点"),
    ("ro", f"72,3{NBSP}%", "1.234", "600 s", "+1,0 p.p."),
    ("th", "72.3%", "1,234", "600 วิ", "+1.0 จุดเปอร์เซ็นต์"),
])
def test_scorecard_values_are_formatted_per_language(lang, csat, backlog, aht, change):
    page = html.render(sample_report(lang))
    _ = translator(lang)
    assert csat in card(page, "csat") and _("at risk") in card(page, "csat")
    assert backlog in card(page, "backlog")
    assert aht in card(page, "aht")
    # FCR 79.0 -> 80.0: +1.0 percentage point, better (higher is better), target met
    fcr = card(page, "fcr_rate")
    assert change in fcr and _("met") in fcr
    assert 'class="good">+1' in page.split('data-kpi="fcr_rate"')[1][:900]
    # backlog 158 -> 1,234 rose and lower is better: shown as worse
    assert 'class="bad">+1' in page.split('data-kpi="backlog"')[1][:900]


def test_tracker_row_has_every_period(doc):
    lang, page = doc
    cells = row(page, "nps")
    assert len(cells) == 2 + 12  # KPI, target, 12 months
    assert cells[-1] == ("40,0" if lang == "ro" else "40.0")


def test_none_is_shown_as_no_data_never_zero(doc):
    lang, page = doc
    # CSAT has no data in Sep 2026: a dash, not 0
    csat = row(page, "csat")
    assert csat[-2] == NO_DATA and csat[-1].startswith("72")
    # CES has no data at all: every period is a dash, and the card's value is a dash
    ces = row(page, "ces")[2:]
    assert ces == [NO_DATA] * 12
    assert not any(re.search(r"\d", c) for c in ces)
    assert re.search(rf'data-kpi="ces">.*?<div class="v"><span class="nodata"[^>]*>{NO_DATA}</span>', page, re.S)
    # and the CES trend chart is left out instead of drawing a flat zero line
    assert '<figure data-kpi="ces">' not in page


def test_no_data_chart_gap():
    # Sep 2026 CSAT is None: the line is broken into two runs and no point is drawn at 0
    page = html.render(sample_report("en"))
    fig = page.split('<figure data-kpi="csat">')[1].split("</figure>")[0]
    assert fig.count("<polyline") == 1  # Nov..Aug as one run; Oct alone is a dot
    assert fig.count('class="dot"') == 11


@pytest.mark.parametrize("lang", LANGS)
def test_kpi_labels_and_definitions_come_from_the_catalog(lang):
    report = sample_report(lang)
    page = html.render(report)
    for s in report.series:
        for field in ("label", "definition", "formula"):
            catalog_text = text("kpi", s.kpi, field, lang)
            assert escape(catalog_text) in page, (s.kpi, field)
    # units and directions too
    assert escape(text("unit", "minutes", "label", lang)) in page
    assert escape(text("direction", "higher", "label", lang)) in page


@pytest.mark.parametrize("lang,terms", [
    ("zh", ["净推荐值 (NPS)", "首次联系解决率 (FCR)", "客户满意度评分 (CSAT)", "计分卡", "渠道偏好"]),
    ("ro", ["Scorul net de promovare (NPS)", "Rata de rezolvare la primul contact", "Tablou de bord"]),
    ("th", ["คะแนนโปรโมเตอร์สุทธิ (NPS)", "อัตราการแก้ปัญหาในการติดต่อครั้งแรก (FCR)", "สกอร์การ์ด"]),
])
def test_established_terms_and_translated_headings(lang, terms):
    page = html.render(sample_report(lang))
    for term in terms:
        assert escape(term) in page
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    english = {"Scorecard", "Trends", "All KPIs by period", "Ticket volume by category", "Channel preference",
               "Definitions and formulas", "About the data"}
    assert headings and not english & set(headings)


def test_text_is_escaped():
    page = html.render(sample_report("en"))
    assert HOSTILE not in page and "<script" not in page
    assert escape(HOSTILE) in page
    assert "&lt;script&gt;" in page


def test_volume_by_category_with_spikes_marked():
    page = html.render(sample_report("en"))
    part = page.split('<section id="volume"')[1].split("</section>")[0]
    # the returns spike of Jul 2026 (period 8): highlighted cell, a ring on the chart, a line in the list
    ret = re.search(r"<tr><td>Return</td>(.*?)</tr>", part, re.S).group(1)
    cells = re.findall(r"<td( class=\"spike\")?>(.*?)</td>", ret)
    assert [i for i, (cls, _) in enumerate(cells) if cls] == [8] and cells[8][1] == "160"
    assert part.count('class="spike"') == 2  # the circle and the cell
    assert "Return in Jul 2026: 160 tickets, 3.7× the baseline of 43.0 (threshold 49.0)" in unescape(part)
    # categories are sorted by total volume, translated where known
    names = re.findall(r"<tr><td>([^<]+)</td>", part)
    assert names[:3] == ["Technical issue", "Shipping", "Return"]


def test_channel_preference_shares():
    page = html.render(sample_report("en"))
    part = page.split('<section id="channels"')[1].split("</section>")[0]
    email = re.search(r"<tr><td>Email</td>(.*?)</tr>", part, re.S).group(1)
    cells = [unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", email)]
    # Oct 2026: 150 of 150+100+50+25 = 46.15 %; all periods: 1,800 of 3,625 = 49.66 %
    assert cells == ["150", "46.2%", "1,800", "49.7%"]
    sms = re.search(r"<tr><td>SMS</td>(.*?)</tr>", part, re.S).group(1)
    assert "7.7%" in sms  # 25 / 325
    assert "Spikes" not in part  # no channel spikes in the sample


def test_channel_spikes_are_listed():
    report = sample_report("en")
    report.volume[1].spikes = [Spike(dim="channel", value="sms", period=11, volume=25, baseline=0.0,
                                     threshold=3.0, size=float("inf"))]
    part = html.render(report).split('<section id="channels"')[1].split("</section>")[0]
    assert "SMS in Oct 2026: 25 tickets, ∞× the baseline of 0.0 (threshold 3.0)" in unescape(part)


def test_by_channel_agent_and_sla_tables():
    page = html.render(sample_report("en"))
    # KPIs down, channels across: CSAT email 81.0 %, phone 64.5 % in Oct 2026
    assert row(page, "csat", "by-channel")[1:] == ["81.0%", "64.5%"]
    assert row(page, "aht", "by-agent")[1:] == ["590"]
    assert row(page, "sla_first_response_met", "sla")[-1] == "88.8%"


def test_many_agents_are_split_into_tables_of_eight_columns():
    report = sample_report("en")
    report.by_agent = {f"agent {i:02d}": report.by_agent["Team A"] for i in range(11)}
    report.by_agent[None] = report.by_agent["agent 00"]  # tickets without an agent
    part = html.render(report).split('<section id="by-agent"', 1)[1].split("</section>", 1)[0]
    assert part.count("<table") == 2  # 8 + 4 columns
    heads = re.findall(r"<th>([^<]*)</th>", part)
    assert heads.count("KPI") == 2 and "agent 10" in heads and "(not set)" in heads


@pytest.mark.parametrize("lang,asof,reach", [
    ("en", "Nov 2, 2026, 08:30 UTC", "Tickets: complete through Oct 31, 2026, 23:58"),
    ("zh", "2026年11月2日 08:30 UTC", "工单：数据完整至 2026年10月31日 23:58"),
    ("ro", "2 nov. 2026, 08:30 UTC", "Tichete: date complete până la 31 oct. 2026, 23:58"),
    ("th", "2 พ.ย. 2026 08:30 UTC", "ตั๋ว: ข้อมูลครบถึง 31 ต.ค. 2026 23:58"),
])
def test_data_note_states_asof_time_zone_and_reach(lang, asof, reach):
    page = unescape(html.render(sample_report(lang)))
    _ = translator(lang)
    assert asof in page and "Europe/Bucharest" in page
    assert reach in page
    assert _("{table}: no data").format(table=_("Surveys")) in page
    assert "fcr_rate: 12 tickets with unknown agent_replies left out" in page


def test_week_report_labels_and_note():
    starts = [dt.date(2026, 10, 5) + dt.timedelta(weeks=i) for i in range(4)]
    periods = [Period(s, s + dt.timedelta(days=6), period_label(s, "week", "zh")) for s in starts]
    report = Report(lang="zh", tz="Asia/Shanghai", asof=dt.datetime(2026, 11, 2), by="week", periods=periods,
                    series=[], volume=[], reach={})
    page = html.render(report)
    assert "2026年第44周" in page and "ISO 周" in page
    assert external_references(page) == []


def test_empty_report_renders():
    report = Report(lang="th", tz="UTC", asof=dt.datetime(2026, 11, 2), by="month", periods=[], series=[],
                    volume=[], reach={})
    page = html.render(report)
    assert "รายงานการบริการลูกค้า" in page and external_references(page) == []


def test_write_is_render_in_utf8(tmp_path):
    report = sample_report("th")
    out = html.write(report, tmp_path / "r.html")
    assert out.read_text(encoding="utf-8") == html.render(report)


@pytest.mark.parametrize("lo,hi,expected", [(68.0, 76.0, [68, 70, 72, 74, 76]), (0, 1234, [0, 500, 1000, 1500]),
                                            (-14.3, 20.0, [-20, -10, 0, 10, 20]), (5, 5, [4.5, 4.75, 5, 5.25, 5.5])])
def test_chart_ticks_are_round(lo, hi, expected):
    assert svg.nice_ticks(lo, hi) == expected


@pytest.mark.parametrize("lang", LANGS)
def test_chart_x_labels_do_not_overlap_and_end_at_the_current_period(lang):
    labels = [p.label for p in sample_report(lang).periods]
    chart = svg.line_chart(labels, [svg.Line("x", list(range(12)))], str)
    shown = [(float(x), unescape(t)) for x, t in re.findall(r'class="xtick" x="([\d.]+)"[^>]*>([^<]*)<', chart)]
    assert shown[-1][1] == labels[-1] and len(shown) >= 3
    for (xa, a), (xb, b) in zip(shown, shown[1:]):
        assert xb - xa > (svg.text_width(a) + svg.text_width(b)) / 2, (a, b)


def test_running_footer_is_a_safe_css_string():
    report = sample_report("en")
    report.periods[-1].label = 'Oct "2026" </style><script>'
    page = html.render(report)
    assert page.count("</style>") == 1 and "<script" not in page
    assert html.css_string('a "b" \\ </style>') == r'"a \22 b\22  \5c  \3c \2f style\3e "'


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A Report from the real builder (report/data.py) over generated data, in Thai."""
    import duckdb

    from conftest import Workspace
    from servicekpi.engine.query import Engine
    from servicekpi.report import data
    from servicekpi.sample.generate import generate

    ws = Workspace(tmp_path_factory.mktemp("built"))
    generate(ws.data, tickets=800, seed=5, months=4, end=dt.date(2026, 11, 1))
    ws.load()
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        # June-October: the data begin in July, so June is a month before any data
        return data.build(Engine(con, None), dt.date(2026, 6, 1), dt.date(2026, 10, 31), by="month", lang="th",
                          asof=dt.datetime(2026, 11, 1))
    finally:
        con.close()


def test_a_built_report_renders(built):
    page = html.render(built)
    assert external_references(page) == []
    text_only = unescape(" ".join(Page(page).text))
    # every KPI of the builder appears with its catalog label; no Python value leaks into the page
    for s in built.series:
        assert text("kpi", s.kpi, "label", "th") in text_only, s.kpi
    assert not re.search(r"\b(None|nan|inf)\b", text_only)
    for section in ("scorecard", "trends", "tracker", "volume", "channels", "definitions", "about"):
        assert f'<section id="{section}"' in page, section
    # months before the data begin are no data (a dash), counts too (issue 13 item 2)
    assert len(built.periods) == 5
    assert row(page, "csat")[2] == NO_DATA
    assert row(page, "ticket_volume")[2] == NO_DATA


def test_infinite_and_nan_values_render():
    report = sample_report("en")
    report.series[0].values[-1] = float("nan")  # CSAT: shown as no data
    report.series[1].values[-2:] = [float("inf"), float("inf")]  # NPS
    page = html.render(report)
    assert row(page, "csat")[-1] == NO_DATA and row(page, "nps")[-1] == "∞"
    assert "no data" in card(page, "csat")


def test_chinese_period_heads_break_after_the_year():
    assert html.period_head("2026年第32周") == "2026年<wbr>第32周"
    assert html.period_head("Oct 2026 <b>") == "Oct 2026 &lt;b&gt;"
    assert '<th class="p">2026年<wbr>10月</th>' in html.render(sample_report("zh"))
