"""Agent ids made one per person: the `[agents]` section of the workspace config, and display names.

The same agent often appears under several ids: a callback agent is `Agent/1127` on CONNECT and
`Local/1127@callback-agent` on ADDMEMBER, a SIP channel carries a suffix (`SIP/1127-0000a1b2`), one export
writes `JDoe` and another `jdoe`. Such ids make two agents, which halves occupancy and splits a leaderboard.

    [agents]
    rules = ["channel", "casefold"]     # applied in this order, to every agent id of every import
    [agents.aliases]                    # then an alias map (its keys go through the rules too)
    "jane.doe@example.com" = "1127"

Rules:
- channel: a telephony channel name becomes its extension: `Local/N@context` -> N, `Agent/N` -> N,
  `SIP/N-0000a1b2` -> N, `PJSIP/N`, `IAX2/N`, `DAHDI/N` (Asterisk's channel naming);
- casefold: case folded (`JDoe` = `jdoe`);
- strip: surrounding whitespace removed (the import trims anyway; kept for ids inside longer texts).

Applied once, in ingest/load.py, to the agent_id column of every table as it is imported (every connector
and the canonical import pass there). `display_names` reads the optional `agents` table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from servicekpi.core.lazy import lazy

pa = lazy("pyarrow")  # only when an import applies the rules
pc = lazy("pyarrow.compute")

RULES = ("channel", "casefold", "strip")
# Asterisk channel names: TECH/resource[@context][-uniquesuffix] or TECH/resource;suffix (Local channels)
CHANNEL = re.compile(r"^(?:local|agent|sip|pjsip|iax2|dahdi|skinny|h323|mgcp|unistim|motif|console)/"
                     r"([^@\-;/]+)(?:[@\-;].*)?$", re.IGNORECASE)
COLUMNS = ("agent_id",)


class AgentsConfigError(ValueError):
    """A located problem in [agents]."""


@dataclass
class AgentRules:
    rules: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)  # normalised key -> agent id
    names: dict[str, str] = field(default_factory=dict)  # agent id -> display name ([agents.names])

    def __bool__(self) -> bool:
        return bool(self.rules or self.aliases)

    def normalise(self, value: str | None) -> str | None:
        if value is None:
            return None
        v = value
        for rule in self.rules:
            if rule == "channel":
                m = CHANNEL.match(v.strip())
                v = m.group(1) if m else v
            elif rule == "casefold":
                v = v.casefold()
            elif rule == "strip":
                v = v.strip()
        return self.aliases.get(v, v)

    def apply(self, data: pa.Table) -> pa.Table:
        """data with its agent id columns normalised (once per distinct value)."""
        for name in COLUMNS:
            if name not in data.column_names:
                continue
            col = data.column(name)
            if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                col = pc.cast(col, pa.string())
            uniq = pc.unique(col)
            mapped = pa.array([self.normalise(v) for v in uniq.to_pylist()], pa.string())
            out = pc.take(mapped, pc.index_in(col, uniq))
            data = data.set_column(data.column_names.index(name), name, out)
        return data


def parse(data: dict, where: str) -> AgentRules:
    """[agents] of the workspace config (data: the whole TOML document)."""
    sec = data.get("agents")
    if sec is None:
        return AgentRules()
    if not isinstance(sec, dict):
        raise AgentsConfigError(f"{where}, key agents: expected a table with rules and aliases")
    unknown = sorted(set(sec) - {"rules", "aliases", "names"})
    if unknown:
        raise AgentsConfigError(f"{where}, key agents.{unknown[0]}: unknown key (expected rules, aliases, names)")
    rules = sec.get("rules", [])
    if not isinstance(rules, list) or any(r not in RULES for r in rules):
        bad = rules if not isinstance(rules, list) else [r for r in rules if r not in RULES]
        raise AgentsConfigError(f"{where}, key agents.rules: {bad!r} (expected a list of: {', '.join(RULES)})")
    out = AgentRules(tuple(rules))
    aliases = sec.get("aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) and v.strip() for v in aliases.values()):
        raise AgentsConfigError(f"{where}, key agents.aliases: expected a table of \"id as written\" = \"agent id\"")
    out.aliases = {out.normalise(str(k)): v.strip() for k, v in aliases.items()}
    names = sec.get("names", {})
    if not isinstance(names, dict) or not all(isinstance(v, str) and v.strip() for v in names.values()):
        raise AgentsConfigError(f"{where}, key agents.names: expected a table of \"agent id\" = \"display name\"")
    out.names = {str(k): v.strip() for k, v in names.items()}
    return out


def display_names(con, ids: list[str]) -> dict[str, str]:
    """agent id -> the name of the agents table (the id itself when the table has no name for it)."""
    names = {i: i for i in ids if i is not None}
    try:
        rows = con.execute("SELECT agent_id, name FROM agents WHERE name IS NOT NULL AND agent_id IN "
                           "(SELECT unnest(?::VARCHAR[]))", [list(names)]).fetchall()
    except duckdb.CatalogException:  # a store made before the agents table: no names
        return names
    names.update({a: n for a, n in rows})
    return names
