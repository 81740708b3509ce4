"""The workbook's formulas sheet: each KPI's definition and formula in the report's language, and a
live calculator whose formulas Excel and LibreOffice recalculate."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from xlsxwriter.utility import xl_rowcol_to_cell

from servicekpi.catalog import text
from servicekpi.report.xlsx_book import NUMBER_FORMAT, Book, stored, width


def calculators(_: Callable[[str], str]) -> list[dict]:
    """The live calculator: inputs (name, label, example value) and an Excel formula over them.

    Input names are the `servicekpi calc` argument names, so a test can run the catalog's own
    formula on the same inputs. Example values are docs/kpi-contract.md's worked examples."""
    return [
        dict(kpi="nps", unit="points", inputs=[("promoters", _("Promoters (9-10)"), 50),
                                                ("passives", _("Passives (7-8)"), 40),
                                                ("detractors", _("Detractors (0-6)"), 10)],
             formula='=IF({promoters}+{passives}+{detractors}=0,"",'
                     '({promoters}-{detractors})/({promoters}+{passives}+{detractors})*100)'),
        dict(kpi="csat", unit="percent", inputs=[("satisfied", _("Satisfied answers (4-5 of 5)"), 30),
                                                  ("total", _("CSAT answers"), 50)],
             formula='=IF({total}=0,"",{satisfied}/{total})'),
        dict(kpi="crr", unit="percent", inputs=[("start", _("Customers at period start (S)"), 100),
                                                 ("end", _("Customers at period end (E)"), 90),
                                                 ("new", _("New customers in the period (N)"), 15)],
             formula='=IF({start}=0,"",({end}-{new})/{start})'),
        dict(kpi="churn_rate", unit="percent", inputs=[("lost", _("Customers lost in the period (L)"), 20),
                                                        ("start", _("Customers at period start (S)"), 250)],
             formula='=IF({start}=0,"",{lost}/{start})'),
        dict(kpi="fcr_rate", unit="percent", inputs=[("first_contact", _("Resolved on first contact"), 80),
                                                      ("total", _("Issues received"), 100)],
             formula='=IF({total}=0,"",{first_contact}/{total})'),
        dict(kpi="aht", unit="seconds", inputs=[("talk_seconds", _("Talk time (seconds)"), 48000),
                                                 ("hold_seconds", _("Hold time (seconds)"), 6000),
                                                 ("wrap_seconds", _("Wrap-up time (seconds)"), 6000),
                                                 ("calls", _("Answered calls"), 100)],
             formula='=IF({calls}=0,"",({talk_seconds}+{hold_seconds}+{wrap_seconds})/{calls})'),
        dict(kpi="avg_wait_time", unit="seconds", inputs=[("wait_seconds", _("Total waiting time (seconds)"), 30000),
                                                           ("answered", _("Answered calls"), 200)],
             formula='=IF({answered}=0,"",{wait_seconds}/{answered})'),
        dict(kpi="abandonment_rate", unit="percent", inputs=[("abandoned", _("Abandoned calls"), 20),
                                                              ("offered", _("Offered calls"), 100)],
             formula='=IF({offered}=0,"",{abandoned}/{offered})'),
        dict(kpi="cac", unit="currency", inputs=[("spend", _("Acquisition spend"), 10000),
                                                  ("new", _("New customers"), 20000)],
             formula='=IF({new}=0,"",{spend}/{new})'),
        dict(kpi="clv", unit="currency", inputs=[("order_value", _("Average order value"), 50),
                                                  ("orders_per_year", _("Orders per customer per year"), 5),
                                                  ("lifespan_years", _("Customer lifespan (years)"), 3)],
             formula="={order_value}*{orders_per_year}*{lifespan_years}"),
        dict(kpi="complaint_resolution_time", unit="hours",
             inputs=[("filed", _("Complaint filed (date and time)"), dt.datetime(2026, 3, 2, 9, 0)),
                     ("resolved", _("Complaint resolved (date and time)"), dt.datetime(2026, 3, 4, 9, 0))],
             formula='=IF({resolved}<{filed},"",({resolved}-{filed})*24)'),
    ]


def example_result(calc: dict):
    """The calculator's result on its example inputs, by the catalog's own formula (servicekpi
    calc), stored as the formula cell's cached value."""
    from servicekpi.analysis.calc import run
    inputs = {name: value for name, _label, value in calc["inputs"]}
    if calc["kpi"] == "complaint_resolution_time":  # dates in, hours out
        hours = (inputs["resolved"] - inputs["filed"]).total_seconds() / 3600
        return run("complaint_resolution_time", {"total_hours": hours, "complaints": 1}, {})["value"]
    value = run(calc["kpi"], inputs, {})["value"]
    return stored(value, calc["unit"])


def formulas(book: Book) -> None:
    """Each KPI's definition and formula in the report's language, then the live calculator.

    Input and result cells carry workbook names (calc_<kpi>_<input>, calc_<kpi>) so they can be
    found and typed into by name."""
    _ = book._
    lang = book.r.lang
    ws = book.sheet(_("formulas"), landscape=True)
    row = book.header(ws, _("Definitions, formulas and calculator"))
    sheet_ref = "'" + ws.name.replace("'", "''") + "'"
    ws.write(row, 0, _("Calculator: type your own numbers into the yellow cells"), book.bold)
    row += 1
    datetime_fmt = book.num("yyyy-mm-dd hh:mm", bg_color="#FFF2CC", border=1)
    for calc in calculators(_):
        kid, unit = calc["kpi"], calc["unit"]
        ws.write(row, 0, text("kpi", kid, "label", lang), book.bold)
        ws.write(row, 2, text("kpi", kid, "formula", lang), book.aside)
        row += 1
        refs = {}
        for name, label, example in calc["inputs"]:
            ws.write(row, 0, label, book.plain)
            if isinstance(example, dt.datetime):
                ws.write_datetime(row, 1, example, datetime_fmt)
            else:
                ws.write_number(row, 1, example, book.input)
            refs[name] = xl_rowcol_to_cell(row, 1, row_abs=True, col_abs=True)
            book.wb.define_name(f"calc_{kid}_{name}", f"={sheet_ref}!{refs[name]}")
            row += 1
        ws.write_string(row, 0, "= " + text("kpi", kid, "label", lang), book.bold)
        cached = example_result(calc)  # shown until the sheet recalculates (LibreOffice keeps it)
        ws.write_formula(row, 1, calc["formula"].format(**refs), book.num(NUMBER_FORMAT[unit], bold=True, border=2),
                         "" if cached is None else cached)
        ws.write(row, 2, book.unit(unit), book.aside)
        book.wb.define_name(f"calc_{kid}", f"={sheet_ref}!{xl_rowcol_to_cell(row, 1, row_abs=True, col_abs=True)}")
        if kid == "aht":  # the worked example speaks in minutes
            row += 1
            result = xl_rowcol_to_cell(row - 1, 1)
            ws.write_string(row, 0, "= " + _("in minutes"), book.plain)
            ws.write_formula(row, 1, f'=IF({result}="","",{result}/60)', book.num('#,##0.0" min"'),
                             "" if cached is None else cached / 60)
        row += 2
    # definitions
    ws.write(row, 0, _("Definitions"), book.bold)
    row += 1
    for c, h in enumerate([_("KPI"), _("unit"), _("definition"), _("formula")]):
        ws.write(row, c, h, book.head)
    row += 1
    seen = []
    for s in book.r.series + book.r.sla:
        if s.kpi in seen:
            continue
        seen.append(s.kpi)
        ws.write(row, 0, s.label, book.wrap)
        ws.write(row, 1, book.unit(s.unit), book.wrap)
        ws.write(row, 2, s.definition, book.wrap)
        ws.write(row, 3, s.formula, book.wrap)
        # row height for wrapped text (LibreOffice and Excel do not grow rows on open)
        lines = max(width(s.definition) / 70, width(s.formula) / 40, width(s.label) / 36, 1)
        ws.set_row(row, 15 * (int(lines) + 1))
        row += 1
    ws.set_column(0, 0, 38)
    ws.set_column(1, 1, 17)
    ws.set_column(2, 2, 72)
    ws.set_column(3, 3, 42)
