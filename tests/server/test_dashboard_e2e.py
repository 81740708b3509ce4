"""The dashboard in a real browser: Debian's headless Chromium driven through Selenium against the real
server (create_app under uvicorn on a free loopback port) over a generated sample store.

The steps run in order on one signed-in browser: sign in, compare the cards with the API, filter, drill
down, switch language, reload, sign out. Screenshots go to $SERVICEKPI_SCREENSHOTS when it is set.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn

from servicekpi.server.app import STATIC, create_app

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # the build checks below still run
    webdriver = None

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WEB = Path(__file__).resolve().parents[2] / "web"

WAIT = 180  # seconds: the sample store answers fast, a busy CI machine may not
NPS_ZH = "净推荐值"
COOKIE = "sk_session"


def cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "servicekpi", *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"servicekpi {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def require_browser() -> None:
    # never skipped: a missing browser fails the test with how to install it
    if webdriver is None:
        pytest.fail("selenium is needed for the browser tests (pip install -e '.[test]')")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("Debian's chromium and chromium-driver are needed (make sysdeps)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A sample store, a manager and an agent token (made before the server holds the store), the server."""
    require_browser()  # before the minute it takes to generate the store
    assert (STATIC / "index.html").is_file(), "the dashboard is not built: run web/build.sh"
    root = tmp_path_factory.mktemp("dashboard")
    db = root / "s.duckdb"
    cli("generate", str(root / "data"), "--tickets", "800", "--calls", "200", "--surveys", "400", "--months", "4")
    cli("import", str(root / "data"), "--db", str(db))
    manager = cli("token", "create", "--role", "manager", "--name", "e2e", "--db", str(db)).strip().splitlines()[-1]
    agent = cli("token", "create", "--role", "agent", "--agent-id", "A01", "--db", str(db)).strip().splitlines()[-1]

    config = uvicorn.Config(create_app(db), host="127.0.0.1", port=0, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not (srv.started and srv.servers):
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.1)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield {"base": f"http://127.0.0.1:{port}", "manager": manager, "agent": agent}
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser(server):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,2300", "--lang=en-US"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def api(server, path: str, **params):
    r = httpx.get(server["base"] + path, params=params, timeout=120,
                  headers={"Authorization": f"Bearer {server['manager']}"})
    assert r.status_code == 200, r.text
    return r.json()


def view(driver) -> dict:
    """The dashboard's state as its URL says."""
    return {k: v[0] for k, v in parse_qs(urlsplit(driver.current_url).query).items()}


def wait(driver, what, timeout=WAIT):
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(what)


def cards_loaded(driver) -> bool:
    cards = driver.find_elements(By.CSS_SELECTOR, "article.card")
    return bool(cards) and not driver.find_elements(By.CSS_SELECTOR, "article.card[data-kind=loading], .sc-loading")


def shown(api_rows: list[dict]) -> dict | None:
    """The row a card shows: the latest whole period with a value (else the latest partial one)."""
    with_value = [r for r in sorted(api_rows, key=lambda r: r["period_start"]) if r["value"] is not None]
    whole = [r for r in with_value if not r.get("partial")]
    return (whole or with_value or [None])[-1]


def card_values(driver) -> dict[str, tuple[float, str]]:
    """{kpi: (value, period)} of the cards showing a number, read in one go (the page re-renders)."""
    found = driver.execute_script(
        "return [...document.querySelectorAll('article.card button.value')]"
        ".map(b => [b.dataset.kpi, b.dataset.value, b.dataset.period])")
    return {kpi: (float(value), period) for kpi, value, period in found}


def screenshot(driver, name: str, whole: bool = False) -> None:
    """The window (whole: the whole page, its height at most 6000 px) to $SERVICEKPI_SCREENSHOTS."""
    folder = os.environ.get("SERVICEKPI_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        size = driver.get_window_size()
        if whole:  # the window's frame (outer - inner height) added, so the viewport holds the page
            height, frame = driver.execute_script(
                "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]")
            driver.set_window_size(size["width"], min(max(height + frame, size["height"]), 6000))
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
        if whole:
            driver.set_window_size(size["width"], size["height"])


def test_sign_in_with_a_token(server, browser):
    browser.get(server["base"] + "/?lang=en")
    field = wait(browser, lambda d: d.find_elements(By.ID, "token"))[0]
    assert browser.execute_script("return document.cookie") == ""
    screenshot(browser, "signin-en")
    browser.find_element(By.ID, "token").send_keys("skt_not-a-token")
    browser.find_element(By.ID, "signin").click()
    assert "not accepted" in wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".signin .error"))[0].text
    field.clear()
    field.send_keys(server["manager"])
    browser.find_element(By.ID, "signin").click()
    wait(browser, cards_loaded)
    assert "manager" in browser.find_element(By.ID, "me").text
    assert not browser.find_elements(By.ID, "agent-banner")
    # the view is in the URL from the start, so it can be shared as it is
    assert {"from", "to", "by", "lang"} <= set(view(browser))


def test_cards_show_the_api_values(server, browser):
    state = view(browser)
    values = card_values(browser)
    assert {"ticket_volume", "csat", "nps"} <= set(values)
    for kpi, (value, period) in values.items():
        row = shown(api(server, f"/api/kpis/{kpi}", by=state["by"], **{"from": state["from"], "to": state["to"]}))
        assert row is not None, kpi
        assert (value, period) == (pytest.approx(row["value"], rel=1e-12), row["period_start"]), kpi
    # the value reads as the one formatter wrote it (GET ...?lang=en display): FRT in h/min/s, not minutes
    frt = shown(api(server, "/api/kpis/first_response_time", by=state["by"], lang="en",
                    **{"from": state["from"], "to": state["to"]}))
    text = browser.find_element(By.CSS_SELECTOR, "article.card[data-kpi=first_response_time] button.value").text
    assert text == frt["display"]["value"] and re.search(r"\b(hr|min|sec)\b", text), text
    screenshot(browser, "dashboard-en")


def test_the_session_is_invisible_to_scripts(server, browser):
    assert COOKIE not in browser.execute_script("return document.cookie")
    session = [c for c in browser.get_cookies() if c["name"] == COOKIE]
    assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Strict"
    stored = browser.execute_script(
        "return JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert server["manager"] not in stored and session[0]["value"] not in stored
    assert json.loads(stored) == [[], []]


def test_a_filter_goes_into_the_url_and_changes_the_numbers(server, browser):
    before = card_values(browser)["ticket_volume"][0]
    # the options come from /api/dims; a user picks them by their text (Preact sets value as a property,
    # so there is no value attribute for select_by_value to find)
    wait(browser, lambda d: "email" in [o.text for o in Select(d.find_element(By.ID, "f-channel")).options])
    Select(browser.find_element(By.ID, "f-channel")).select_by_visible_text("email")
    wait(browser, lambda d: view(d).get("channel") == "email")
    wait(browser, lambda d: cards_loaded(d) and card_values(d).get("ticket_volume", (before,))[0] != before)
    state = view(browser)
    row = shown(api(server, "/api/kpis/ticket_volume", by="month", where="channel=email",
                    **{"from": state["from"], "to": state["to"]}))
    assert card_values(browser)["ticket_volume"] == (row["value"], row["period_start"])



def test_clicking_a_number_shows_the_rows_behind_it(server, browser):
    wait(browser, cards_loaded)
    button = browser.find_element(By.CSS_SELECTOR, "article.card[data-kpi=ticket_volume] button.value")
    value = int(float(button.get_attribute("data-value")))
    button.click()
    drawer = wait(browser, lambda d: d.find_elements(By.ID, "drawer"))[0]
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#drawer table.rows tbody tr"))
    rows = drawer.find_elements(By.CSS_SELECTOR, "table.rows tbody tr")
    assert len(rows) == min(value, 25)
    # the count behind the number is the number itself: every ticket of the month, by email
    assert re.search(rf"of {value:,}$", browser.find_element(By.ID, "drawer-count").text)
    headers = [th.text for th in drawer.find_elements(By.CSS_SELECTOR, "table.rows thead th")]
    assert "Ticket" in headers and "ticket_id" not in headers  # readable labels (catalog [column.*])
    channel = headers.index("Channel")
    assert not browser.find_elements(By.ID, "drawer-legend")  # a count: no numerator to mark
    # the channel as the charts name it (the rows answer's `values`), the records keeping the id
    assert {r.find_elements(By.TAG_NAME, "td")[channel].text for r in rows} == {"Email"}
    if value > 25:
        browser.find_element(By.ID, "drawer-next").click()
        wait(browser, lambda d: d.find_element(By.ID, "drawer-count").text.startswith("26–"))
    screenshot(browser, "drawer-en")
    browser.find_element(By.CSS_SELECTOR, "#drawer .close").click()
    wait(browser, lambda d: not d.find_elements(By.ID, "drawer"))


def test_the_drawer_highlights_the_records_in_the_numerator(server, browser):
    """A ratio's records: those that count in the numerator (in_numerator) are highlighted, and a legend
    says what the highlight means."""
    wait(browser, cards_loaded)
    browser.find_element(By.CSS_SELECTOR, "article.card[data-kpi=fcr_rate] button.value").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#drawer table.rows tbody tr"))
    drawer = browser.find_element(By.ID, "drawer")
    headers = [th.text for th in drawer.find_elements(By.CSS_SELECTOR, "table.rows thead th")]
    mark = headers.index("In numerator")
    assert mark == 1  # right after the ticket, where it is seen
    rows = drawer.find_elements(By.CSS_SELECTOR, "table.rows tbody tr")
    counted = [r.find_elements(By.TAG_NAME, "td")[mark].text == "true" for r in rows]
    highlighted = ["counted" in (r.get_attribute("class") or "").split() for r in rows]
    assert highlighted == counted and any(counted) and not all(counted)  # FCR: some of the page count
    legend = browser.find_element(By.ID, "drawer-legend").text
    assert "numerator" in legend and "denominator" in legend
    # categories and channels read as the charts name them ("Technical issue", "Email"), not as ids
    cat = headers.index("Category")
    cells = {r.find_elements(By.TAG_NAME, "td")[cat].text for r in rows}
    assert cells and not any("_" in c or c[:1].islower() for c in cells), cells
    screenshot(browser, "drawer-numerator-en")
    browser.find_element(By.CSS_SELECTOR, "#drawer .close").click()
    wait(browser, lambda d: not d.find_elements(By.ID, "drawer"))


def test_the_grain_goes_into_the_url_beside_the_filters(server, browser):
    Select(browser.find_element(By.ID, "f-by")).select_by_visible_text("Week")
    wait(browser, lambda d: view(d).get("by") == "week")
    assert view(browser)["channel"] == "email"
    wait(browser, cards_loaded)
    state = view(browser)
    row = shown(api(server, "/api/kpis/csat", by="week", where="channel=email",
                    **{"from": state["from"], "to": state["to"]}))
    assert card_values(browser)["csat"] == (pytest.approx(row["value"], rel=1e-12), row["period_start"])


def test_switching_to_chinese_uses_the_catalog_labels(server, browser):
    Select(browser.find_element(By.ID, "lang")).select_by_visible_text("中文")
    wait(browser, lambda d: view(d).get("lang") == "zh")
    nps = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "article.card[data-kpi=nps] h3"))[0]
    assert NPS_ZH in nps.text
    assert browser.execute_script("return document.documentElement.lang") == "zh"
    assert browser.find_element(By.ID, "signout").text == "退出登录"
    wait(browser, cards_loaded)
    screenshot(browser, "dashboard-zh")


def test_a_reload_restores_the_view(server, browser):
    before = view(browser)
    browser.refresh()
    wait(browser, cards_loaded)
    assert view(browser) == before
    assert browser.execute_script("return document.getElementById('f-channel').value") == "email"
    assert NPS_ZH in browser.find_element(By.CSS_SELECTOR, "article.card[data-kpi=nps] h3").text


def test_a_preset_and_compare_to_draw_a_second_line(server, browser):
    browser.get(server["base"] + "/?lang=en&range=this_quarter&compare=previous")
    wait(browser, cards_loaded)
    assert view(browser)["range"] == "this_quarter" and view(browser)["by"] == "week"
    # the compared line holds a point per period of the previous twelve months
    wait(browser, lambda d: d.execute_script(
        "const f = document.querySelector('figure.trend[data-kpi=ticket_volume]');"
        "return f && f.dataset.compare && Number(f.dataset.compare) > 0"))
    screenshot(browser, "compare-en")
    Select(browser.find_element(By.ID, "f-range")).select_by_visible_text("Last month")
    wait(browser, lambda d: view(d).get("range") == "last_month" and view(d).get("by") == "day")
    wait(browser, cards_loaded)
    screenshot(browser, "presets-en")


def test_every_chart_marks_the_partial_current_period(server, browser):
    """This quarter by week: the current week is unfinished, so each period chart (trends, categories,
    channels) says its last period is partial, in the label and in data-partial."""
    browser.get(server["base"] + "/?lang=en&range=this_quarter")
    wait(browser, cards_loaded)
    charts = "#trends .chart, #category .chart, #channel .chart"
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, charts)) == 6)
    for chart in browser.find_elements(By.CSS_SELECTOR, charts):
        n = int(chart.get_attribute("data-periods"))
        partial = [int(i) for i in (chart.get_attribute("data-partial") or "").split(",") if i]
        assert n > 1 and n - 1 in partial, (chart.find_element(By.XPATH, "..").get_attribute("outerHTML")[:200], partial)


def test_a_filter_value_no_record_has_is_a_warning(server, browser):
    browser.get(server["base"] + "/?lang=en&channel=nope")
    warning = wait(browser, lambda d: d.find_elements(By.ID, "filter-warnings"))[0]
    assert "nope" in warning.text and "matches no record" in warning.text


def test_cards_show_their_sample_and_export_buttons(server, browser):
    browser.get(server["base"] + "/?lang=en")
    wait(browser, cards_loaded)
    csat = browser.find_element(By.CSS_SELECTOR, "article.card[data-kpi=csat]")
    assert int(csat.find_element(By.CSS_SELECTOR, ".sample").get_attribute("data-n")) > 0
    assert {b.text for b in csat.find_elements(By.CSS_SELECTOR, ".export-btn")} == {"CSV", "XLSX"}
    link = browser.find_element(By.ID, "export-tickets-xlsx").get_attribute("href")
    assert "/api/export/tickets?format=xlsx" in link
    browser.find_element(By.CSS_SELECTOR, "article.card[data-kpi=ticket_volume] button.value").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#drawer .export-btn"))
    screenshot(browser, "export-en")
    browser.find_element(By.CSS_SELECTOR, "#drawer .close").click()


def test_the_operations_view_and_marking_a_follow_up(server, browser):
    browser.find_element(By.ID, "tab-operations").click()
    wait(browser, lambda d: view(d).get("page") == "operations")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#staffing .staffing-grid, #staffing .state.error, #staffing .nodata"))
    assert browser.find_elements(By.CSS_SELECTOR, "#staffing .staffing-grid")
    # the default occupancy cap the staffing used is said (the API echoes it in every row)
    assert "occupancy at most 85%" in browser.find_element(By.CSS_SELECTOR, "#staffing .hint").text
    # no [[alerts]] or [[schedules]] in this workspace: the panel says so
    wait(browser, lambda d: "No alerts or schedules" in d.find_element(By.ID, "alerts").text)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#forecast canvas"))
    queue = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#followups-table tbody tr"))
    screenshot(browser, "operations-en", whole=True)  # down to the alerts panel under the queue
    item = queue[0].get_attribute("data-id")
    queue[0].find_element(By.CSS_SELECTOR, "button.mark").click()
    prompt = wait(browser, lambda d: d.switch_to.alert)
    prompt.send_keys("called back")
    prompt.accept()
    wait(browser, lambda d: item in d.find_element(By.CSS_SELECTOR, "#followups .banner").text)
    # stored and audited: the queue with done items says who marked it, with the note
    done = [r for r in api(server, "/api/followups", all="true")["rows"] if r["id"] == item]
    assert done and done[0]["followed_up_by"] == "marked" and done[0]["note"] == "called back"
    assert done[0]["marked_by"] == "e2e"
    screenshot(browser, "followups-en")


# GET /api/leaderboard comes from another part of the server; the page is checked on a stubbed answer
# of its contract (issue 13 item 7), replaced in the page's fetch only for that path.
LEADERBOARD = {
    "from": "2026-01-01", "to": "2026-01-31", "min_sample": 10,
    "columns": [{"id": "csat", "kpi": "csat", "label": "CSAT", "unit": "percent"},
                {"id": "frt", "kpi": "first_response_time", "label": "FRT", "unit": "seconds"}],
    "rows": [
        {"agent_id": "A01", "name": "Ana", "team": "billing",
         "values": {"csat": {"value": 91.5, "n": 40, "team_avg": 86, "small_sample": False},
                    "frt": {"value": 540, "n": 52, "team_avg": 700, "small_sample": False}},
         "display": {"team": "Billing", "csat": {"value": "91.5%", "team_avg": "86.0%", "n": "40"},
                     "frt": {"value": "9 min", "team_avg": "11 min 40 sec", "n": "52"}}},
        {"agent_id": "A02", "name": "Bo", "team": "billing",
         "values": {"csat": {"value": 100, "n": 3, "team_avg": 86, "small_sample": True},
                    "frt": {"value": 820, "n": 12, "team_avg": 700, "small_sample": False}},
         "display": {"team": "Billing", "csat": {"value": "100.0%", "team_avg": "86.0%", "n": "3"},
                     "frt": {"value": "13 min 40 sec", "team_avg": "11 min 40 sec", "n": "12"}}},
    ],
}


def test_the_leaderboard_sorts_and_flags_small_samples(server, browser):
    browser.get(server["base"] + "/?lang=en")
    wait(browser, cards_loaded)
    browser.execute_script(
        "const body = JSON.stringify(arguments[0]); const real = window.fetch;"
        "window.fetch = (p, o) => String(p).startsWith('/api/leaderboard')"
        " ? Promise.resolve(new Response(body, {status: 200})) : real(p, o);", LEADERBOARD)
    browser.find_element(By.ID, "tab-leaderboard").click()
    rows = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#leaderboard-table tbody tr"))
    assert [r.get_attribute("data-agent") for r in rows] == ["A01", "A02"]
    browser.find_element(By.CSS_SELECTOR, "button.sort[data-col=csat]").click()  # descending first

    def resorted(d):  # the table re-renders after the click: read it once it is back (an empty read was flaky)
        got = [r.get_attribute("data-agent") for r in d.find_elements(By.CSS_SELECTOR, "#leaderboard-table tbody tr")]
        return got if got != ["A01", "A02"] and got else None
    order = wait(browser, resorted)
    assert order == ["A02", "A01"]
    assert browser.find_elements(By.CSS_SELECTOR, "tr[data-agent=A02] td.small .few-badge")
    screenshot(browser, "leaderboard-en")
    browser.find_element(By.ID, "tab-overview").click()


def test_the_leaderboard_and_ticket_export_from_the_server(server, browser):
    # the real GET /api/leaderboard (issue 13 item 7), not a stub: the table shows the API's agents
    browser.get(server["base"] + "/?lang=en&page=leaderboard")
    rows = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#leaderboard-table tbody tr"))
    state = view(browser)
    answer = api(server, "/api/leaderboard", **{"from": state.get("from"), "to": state.get("to")})
    assert answer["rows"] and [r.get_attribute("data-agent") for r in rows] == [r["agent_id"] for r in answer["rows"]]
    screenshot(browser, "leaderboard-live-en")
    # the per-ticket export link answers a CSV with one row per ticket (item 8)
    link = browser.find_element(By.ID, "export-tickets-csv").get_attribute("href")
    text = browser.execute_script("return fetch(arguments[0]).then(r => r.ok ? r.text() : 'HTTP ' + r.status)", link)
    assert text.lstrip("\ufeff").startswith("ticket_id,created_at,"), text[:200]
    browser.find_element(By.ID, "tab-overview").click()


def test_sign_out_ends_the_session(server, browser):
    browser.find_element(By.ID, "signout").click()
    wait(browser, lambda d: d.find_elements(By.ID, "token"))
    status = browser.execute_script("return fetch('/api/me').then(r => r.status)")
    assert status == 401


def test_an_agent_sees_the_banner_and_only_its_own_numbers(server, browser):
    browser.get(server["base"] + "/?lang=en")
    wait(browser, lambda d: d.find_elements(By.ID, "token"))[0].send_keys(server["agent"])
    browser.find_element(By.ID, "signin").click()
    banner = wait(browser, lambda d: d.find_elements(By.ID, "agent-banner"))[0]
    assert "A01" in banner.text
    wait(browser, cards_loaded)
    agents = Select(browser.find_element(By.ID, "f-agent")).options
    assert [o.text for o in agents][1:] == ["A01"]
    screenshot(browser, "dashboard-agent-en")
    # the leaderboard: the agent's own row beside its team's average, values as people read them
    browser.find_element(By.ID, "tab-leaderboard").click()
    rows = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#leaderboard-table tbody tr[data-agent]"))
    assert [r.get_attribute("data-agent") for r in rows] == ["A01"]
    assert browser.find_elements(By.ID, "team-average")
    frt = browser.find_element(By.CSS_SELECTOR, "tr[data-agent=A01] td[data-col=frt]").text
    assert re.search(r"\b(hr|min|sec)\b", frt), frt  # a duration in its unit, not seconds as a number
    screenshot(browser, "leaderboard-agent-en")
    browser.find_element(By.ID, "tab-overview").click()
    browser.find_element(By.ID, "signout").click()
    wait(browser, lambda d: d.find_elements(By.ID, "token"))


def sources_hash() -> str:
    """What web/vite.config.js writes to build-info.json: sha256 over (path, NUL, bytes, NUL) of the
    sorted source files."""
    files = []
    for name in json.loads((STATIC / "build-info.json").read_text(encoding="utf-8"))["sources"]:
        path = WEB / name
        files += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    h = hashlib.sha256()
    for rel in sorted(p.relative_to(WEB).as_posix() for p in files):
        h.update(rel.encode() + b"\0" + (WEB / rel).read_bytes() + b"\0")
    return h.hexdigest()


def test_the_built_dashboard_matches_its_sources():
    info = json.loads((STATIC / "build-info.json").read_text(encoding="utf-8"))
    assert info["sources_sha256"] == sources_hash(), (
        "web/ changed since src/servicekpi/server/static was built: run web/build.sh and commit the output")
    assets = {p.name for p in (STATIC / "assets").iterdir()}
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert set(re.findall(r"assets/([\w.-]+)", html)) == assets  # no stale bundle left behind


def test_the_built_dashboard_loads_nothing_from_outside():
    for path in STATIC.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text(encoding="utf-8")
            # the only URLs in the bundle are XML namespaces: Preact's SVG and MathML support, and the
            # Office Open XML names write-excel-file writes into an XLSX (names, never fetched)
            urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)]*", text))
            ooxml = {u for u in urls if u.startswith(("http://schemas.openxmlformats.org/",
                                                      "http://schemas.microsoft.com/office/"))}
            assert urls - ooxml <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml",
                                    "http://www.w3.org/1998/Math/MathML"}, (path.name, urls)

# The Vitest suite of web/ (URL state, formatting, dictionaries) runs as its own step: make webtest
