"""The agent leaderboard: one row per agent with tickets handled, FRT, AHT, CSAT, FCR and QA score,
each with its sample size and the agent's team average (GET /api/leaderboard, `servicekpi
leaderboard`, the report's agent rows).

Every value is the engine's (`servicekpi kpi ID --dim agent_id`); a team average is the KPI over the
team's records (`--dim team`), not a mean of agent values. The sample n is the KPI's denominator
(answers, tickets, calls), or the count itself for a count. A value from fewer than min_sample is
flagged small_sample. Names come from the agents table, then [agents.names] in the config."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from servicekpi.core import agents as agents_mod
from servicekpi.core.errors import UsageError
from servicekpi.engine.query import Engine, Query
from servicekpi.store.db import imported_tables


@dataclass(frozen=True)
class Column:
    id: str
    kpi: str
    label: str
    unit: str  # seconds, percent, count or score (the dashboard's formats)
    factor: float = 1.0  # the KPI's unit -> unit (FRT minutes -> seconds)


COLUMNS = (
    Column("tickets", "ticket_volume", "Tickets handled", "count"),
    Column("frt", "first_response_time", "FRT", "seconds", 60.0),
    Column("aht", "aht", "AHT", "seconds"),
    Column("csat", "csat", "CSAT", "percent"),
    Column("fcr", "fcr_rate", "FCR", "percent"),
    Column("qa", "iqs", "QA score", "percent"),
)
MIN_SAMPLE = 10


def board(engine: Engine, start: dt.date, end: dt.date, asof: dt.datetime | None = None,
          team: str | None = None, sort: str | None = None, descending: bool = True,
          min_sample: int = MIN_SAMPLE) -> dict:
    """{from, to, min_sample, columns, rows}: rows sorted by `sort` (a column id; nulls last), else
    by tickets handled."""
    imported = imported_tables(engine.con)
    columns = [c for c in COLUMNS if set(engine.kpi(c.kpi).tables) <= imported]
    if sort is not None and sort not in {c.id for c in columns} | {"name", "team"}:
        raise UsageError(f"cannot sort the leaderboard by '{sort}'; sort by: "
                         f"{', '.join(['name', 'team', *[c.id for c in columns]])}")
    where = {"team": [team]} if team else {}
    tz = engine.config.timezone

    def per(dim: str) -> dict:  # {kpi: {value of dim: row}}, every column in one engine query
        out: dict = {}
        for r in engine.evaluate(Query(kpis=[c.kpi for c in columns], dims=[dim], start=start, end=end,
                                       where=dict(where), tz=tz, asof=asof)):
            if r.get(dim) is not None:
                out.setdefault(r["kpi"], {})[r[dim]] = r
        return out

    teams = _teams(engine, start, end, asof, imported)
    agents: dict[str, dict] = {}
    agent_rows, team_rows = per("agent_id"), per("team")
    for c in columns:
        by_agent, by_team = agent_rows.get(c.kpi, {}), team_rows.get(c.kpi, {})
        for agent, r in by_agent.items():
            row = agents.setdefault(agent, {"agent_id": agent, "team": teams.get(agent), "values": {}})
            avg = by_team.get(row["team"])
            row["values"][c.id] = _cell(r, c, avg, min_sample)
    per_team: dict = {}
    for row in agents.values():
        per_team[row["team"]] = per_team.get(row["team"], 0) + 1
    for c in columns:  # a count's team average is per agent: the team's count / its agents on the board
        if c.unit == "count":
            for row in agents.values():
                cell = row["values"].get(c.id)
                if cell and cell["team_avg"] is not None:
                    cell["team_avg"] = cell["team_avg"] / per_team[row["team"]]
    names = agents_mod.display_names(engine.con, list(agents))
    configured = getattr(engine.config.agents, "names", {}) or {}
    out = []
    for agent, row in agents.items():
        name = names.get(agent) if names.get(agent) != agent else configured.get(agent)
        for c in columns:
            row["values"].setdefault(c.id, {"value": None, "n": None, "team_avg": None, "small_sample": False})
        out.append({"agent_id": agent, "name": name, "team": row["team"], "values": row["values"]})
    _sort(out, sort or "tickets", descending if sort else True)
    return {"from": start.isoformat(), "to": end.isoformat(), "min_sample": min_sample,
            "columns": [{"id": c.id, "kpi": c.kpi, "label": c.label, "unit": c.unit} for c in columns],
            "rows": out}


def _teams(engine: Engine, start, end, asof, imported) -> dict[str, str]:
    """agent -> team: the agents table's, else the team of most of the agent's tickets in the range."""
    out: dict[str, str] = {}
    if "tickets" in imported:
        rows = engine.evaluate(Query(kpis=["ticket_volume"], dims=["agent_id", "team"], start=start, end=end,
                                     tz=engine.config.timezone, asof=asof))
        best: dict[str, tuple] = {}
        for r in rows:
            a, t, n = r.get("agent_id"), r.get("team"), r.get("value") or 0
            if a is not None and t is not None and n > best.get(a, (0, ""))[0]:
                best[a] = (n, t)
        out = {a: t for a, (n, t) in best.items()}
    if "agents" in imported:
        out.update({a: t for a, t in engine.con.execute(
            "SELECT agent_id, team FROM agents WHERE team IS NOT NULL").fetchall()})
    return out


def _cell(r: dict, c: Column, team_row: dict | None, min_sample: int) -> dict:
    value = _scaled(r.get("value"), c)
    n = r.get("value") if c.unit == "count" else r.get("denominator")
    return {"value": value, "n": n, "team_avg": _scaled(team_row.get("value"), c) if team_row else None,
            "small_sample": n is not None and value is not None and n < min_sample}


def _scaled(v, c: Column):
    if v is None:
        return None
    if c.unit == "count" and float(v).is_integer():
        return int(v)
    return v * c.factor if c.factor != 1 else v


def _sort(rows: list[dict], col: str, descending: bool) -> None:
    """By a column's value (nulls last whatever the direction), ties by agent id; name and team A-Z."""
    if col in ("name", "team"):
        rows.sort(key=lambda r: (str((r.get("name") or r["agent_id"]) if col == "name" else r.get("team") or ""),
                                 r["agent_id"]), reverse=descending and False)
        return

    def key(r):
        v = r["values"].get(col, {}).get("value")
        return (v is None, -(v or 0) if descending else (v or 0), r["agent_id"])
    rows.sort(key=key)
