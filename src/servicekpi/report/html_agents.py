"""The agent leaderboard of the report's last period (analysis/leaderboard.py) in the HTML report (and
the PDF printed from it), under the teams: one row per agent, each column's value with its sample size
and the team average; a value from a small sample is greyed and marked "few", as in the XLSX and the
dashboard. The column heads are translated here for both reports."""
from __future__ import annotations

from servicekpi.report.html_base import Ctx, esc


def column_head(_, column: dict) -> str:
    """A leaderboard column's head in the report's language."""
    heads = {"tickets": _("Tickets handled"), "frt": _("FRT"), "aht": _("AHT"), "csat": _("CSAT"),
             "fcr": _("FCR"), "qa": _("QA score")}
    return heads.get(column["id"], column["label"])


def agent_name(row: dict) -> str:
    """"Ana Pop (a17)" with a display name, the id alone without one."""
    name = row.get("name")
    return f"{name} ({row['agent_id']})" if name and name != row["agent_id"] else row["agent_id"]


def agents(c: Ctx) -> str:
    """The section, or "" when the report has no agent board (no agents, or agents are the pivot)."""
    board, _ = c.report.agents, c._
    if not board or not board.get("rows") or c.report.agent_dim != "team":
        return ""
    cols = board["columns"]
    few, avg = _("few"), _("team average")
    head = "".join(f"<th>{esc(h)}</th>" for h in [_("agent"), _("team"), *(column_head(_, k) for k in cols)])
    rows = []
    for r in board["rows"]:
        cells = [f'<td class="kpi">{esc(agent_name(r))}</td>',
                 f"<td>{esc(c.dim_value(r.get('team'), 'team')) if r.get('team') else ''}</td>"]
        for k in cols:
            v = r["values"].get(k["id"], {})
            small = v.get("small_sample")
            detail = []
            if v.get("n") is not None:
                detail.append(f"n {esc(c.value(v['n'], 'count'))}")
            if v.get("team_avg") is not None:
                detail.append(f"{esc(avg)} {c.cell(v['team_avg'], k['unit'])}")
            mark = f' <span class="few">{esc(few)}</span>' if small else ""
            cells.append(f'<td data-col="{esc(k["id"])}"{" class=small" if small else ""}>'
                         f"{c.cell(v.get('value'), k['unit'])}{mark}<small>{' · '.join(detail)}</small></td>")
        rows.append(f'<tr data-agent="{esc(r["agent_id"])}">{"".join(cells)}</tr>')
    title = _("Agents, {period}").format(period=f"{board['from']} – {board['to']}")
    lead = _("n: answers or records behind the value; values from fewer than {n} are marked “few”").format(
        n=board["min_sample"])
    return (f'<section id="agents"><h3>{esc(title)}</h3><p class="lead">{esc(lead)}</p>'
            f'<div class="wide"><table class="agents"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div></section>')
