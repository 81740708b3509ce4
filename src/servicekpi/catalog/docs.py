"""The KPI reference (docs/kpis.md), generated from the catalog."""
from __future__ import annotations

from servicekpi.catalog import LANGS, catalog, text


def kpi_reference() -> str:
    lines = ["# KPI reference", "",
             "Generated from the catalog by `servicekpi docs`; do not edit by hand.", ""]
    family = None
    for k in catalog().kpis.values():
        if k.family != family:
            family = k.family
            lines += [f"## {text('family', family)}", ""]
        lines += [f"### `{k.id}`: {text('kpi', k.id)}", "",
                  text("kpi", k.id, "definition"), "",
                  f"- formula: {k.formula}",
                  f"- unit: {k.unit}; direction: {text('direction', k.direction)}",
                  f"- attribution: {k.attribution or k.time}",
                  f"- tables: {', '.join(k.tables)}",
                  f"- dimensions: {', '.join(k.allowed_dims) if k.allowed_dims is not None else 'every column of ' + k.source + ' and its linked ticket and customer'}"]
        for o in k.options:
            choices = f" ({' | '.join(map(str, o.choices))})" if o.choices else ""
            lines.append(f"- option `{o.name}` = `{o.default}`{choices}: {o.help}")
        if k.calc:
            lines.append(f"- calc: `servicekpi calc {k.id} " + " ".join(f"--{a} N" for a in k.calc.args[:4]) + "`")
        lines.append("- names: " + "; ".join(f"{lang}: {text('kpi', k.id, 'label', lang)}" for lang in LANGS[1:]))
        lines.append("")
    return "\n".join(lines)
