"""`calc`: a KPI's own finishing formula on plain totals (no events needed)."""
from __future__ import annotations

from servicekpi.catalog import catalog
from servicekpi.catalog.customers import CLV_MODELS
from servicekpi.engine.query import UsageError, suggest


def parse_args(extra: list[str]) -> dict[str, float]:
    """--name value or --name=value pairs, values numeric."""
    args: dict[str, float] = {}
    i = 0
    while i < len(extra):
        item = extra[i]
        if not item.startswith("--"):
            raise UsageError(f"unexpected '{item}' (give inputs as --name value)")
        name, _, value = item[2:].partition("=")
        if not value:
            if i + 1 >= len(extra):
                raise UsageError(f"--{name} needs a value")
            value = extra[i + 1]
            i += 1
        try:
            args[name.replace("-", "_")] = float(value.replace(",", ""))
        except ValueError:
            raise UsageError(f"--{name} '{value}' is not a number") from None
        i += 1
    return args


def required(kpi, options: dict) -> tuple[str, ...]:
    if kpi.id == "clv":
        return CLV_MODELS[options["model"]][1]
    return kpi.calc.args


def run(name: str, args: dict[str, float], given: dict[str, str]) -> dict:
    cat = catalog()
    with_calc = {k: v for k, v in cat.kpis.items() if v.calc}
    if name not in with_calc:
        raise suggest(name, with_calc, "KPI for calc")
    kpi = with_calc[name]
    try:
        options = kpi.resolve(given)
    except ValueError as e:
        raise UsageError(str(e)) from None
    unknown = set(given) - set(options)
    if unknown:
        raise suggest(sorted(unknown)[0], options, f"option for {name}")
    need = required(kpi, options)
    missing = [a for a in need if a not in args]
    if missing:
        raise UsageError(f"calc {name} needs " + " ".join(f"--{a} N" for a in missing))
    extra = set(args) - set(need)
    if extra:
        raise suggest(sorted(extra)[0], need, f"input for calc {name}")
    result = kpi.finish(kpi.calc.to_measures(args), options, None)
    return {"kpi": name, "value": result.value, "unit": kpi.unit,
            "numerator": result.numerator, "denominator": result.denominator}
