"""The agent leaderboard of the report's last period (analysis/leaderboard.py), as a table under the
team blocks of the "by team" sheet: per agent and column its value, sample size and team average;
a value from a small sample is greyed and marked, as the dashboard's leaderboard does."""
from __future__ import annotations

from servicekpi.report.html_agents import agent_name, column_head
from servicekpi.report.xlsx_book import Book, number_format, stored

HEAD_HEIGHT = 30  # points: two lines of the 11 pt head
VALUE_WIDTH = 13  # characters: "15 min 26 sec"; "team average" wraps
N_WIDTH = 6
TEAM_COLUMNS = 8  # the team table's columns besides its periods: team .. at-risk band, trend, KPI id


def agent_board(book: Book, ws, row: int) -> int:
    """Write the board from `row` (after a blank row); returns the row after it."""
    board = book.r.agents
    if not board or not board.get("rows"):
        return row
    _ = book._
    cols = board["columns"]
    period = f"{board['from']} – {board['to']}"
    ws.write(row, 0, _("Agents, {period}").format(period=period), book.bold)
    ws.write(row + 1, 0, _("n: answers or records behind the value; values from fewer than {n} are marked "
                           "“few”").format(n=board["min_sample"]), book.note)
    row += 2
    heads = [_("agent"), _("team")]
    for c in cols:
        heads += [column_head(_, c), "n", _("team average")]
    for i, h in enumerate(heads):
        ws.write(row, i, h, book.head)
    # the head wraps at spaces ("team / average"): two lines tall; the columns right of the team table
    # (default width 8.43) as wide as a value ("15 min 26 sec"), n narrow, so no word is cut
    ws.set_row(row, HEAD_HEIGHT)
    for i in range(TEAM_COLUMNS + len(book.r.periods), len(heads)):
        ws.set_column(i, i, N_WIDTH if (i - 2) % 3 == 1 else VALUE_WIDTH)
    row += 1
    few = book.num("0", italic=True, font_color="#888888")
    for r in board["rows"]:
        ws.write(row, 0, agent_name(r), book.plain)
        ws.write(row, 1, book.label(r.get("team"), "team") if r.get("team") else "", book.plain)
        for j, c in enumerate(cols):
            cell = r["values"].get(c["id"], {})
            fmt, avg_fmt = (number_format(c["unit"], [v], book.r.lang, book.r.currency)
                            for v in (cell.get("value"), cell.get("team_avg")))  # a count, a mean of counts
            at = 2 + 3 * j
            style = {"italic": True, "font_color": "#888888"} if cell.get("small_sample") else {}
            ws.write(row, at, stored(cell.get("value"), c["unit"]), book.num(fmt, **style))
            ws.write(row, at + 1, cell.get("n"), few if cell.get("small_sample") else book.plain)
            ws.write(row, at + 2, stored(cell.get("team_avg"), c["unit"]), book.num(avg_fmt))
        row += 1
    ws.set_column(1, 1, 16)
    return row + 1
