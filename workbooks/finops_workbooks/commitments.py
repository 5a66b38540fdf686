"""The "Commitment purchase" template: buy a reserved instance / savings plan, or stay on demand?

Sheets, in tab order:

1. **Inputs** — on-demand rate, company discount rate, utilization, purchase date (named cells
   ``OnDemandHourly``, ``DiscountRate``, ``Utilization``, ``StartDate``), where they came from.
2. **Options** (opens first) — the options side by side. For each, a *workbook* column of native
   formulas (term hours, effective rate, discount, break-even utilization = effective ÷ on-demand,
   ``XNPV`` and ``XIRR`` over the option's cash-flow table, break-even month, totals) and beside it
   the *finops_xl* column: the same figures from :func:`finops_xl.commitments.valuation.value`, as
   values, for the auditor. The upfront and recurring fees are inputs.
3. **Cash flows** — one dated monthly table per option: date (``EDATE``), hours, upfront and
   recurring outflows, on-demand at full use, on-demand avoided (× utilization), net flow (avoided −
   fees) and cumulative savings, all native formulas from the inputs.
4. **Sensitivity** — per option, NPV for utilization 50–100 % × discount rate 0–15 %. XNPV is linear in
   the flows, so NPV(u) = u × XNPV(on-demand at full use) + XNPV(upfront) + XNPV(recurring): native
   XNPVs over the Cash flows columns.
5. **Savings chart** — cumulative savings by month per option (references to Cash flows) with a zero
   line: where a line crosses it is the break-even.
6. **Risk** — the best option along utilization and price paths, after tax, its cash schedule, residual
   value and the discount rate explained (:mod:`finops_workbooks.commitments_risk`).
7. **Portfolio** (with a store) — inventory, the month's KPIs and the commitments expiring within 90
   days, as values from :mod:`finops_xl.commitments.portfolio`.
8. **Actions** (with a store) — the purchase recommendation per provider and scope and the portfolio
   action list, as values (:mod:`finops_workbooks.commitments_risk`).

Excel 2010-level functions only (EDATE, XNPV, XIRR, IFERROR, COUNTIF, INDEX, SUM), so LibreOffice 7.4
recalculates the file. Break-even month: the cumulative savings of months 1…n move one way (each
month's net flow has the sign of on-demand × utilization − recurring fee), so the first month they
are ≥ 0 is one plus the number of months below 0, or "never" when all are below 0.
"""

from __future__ import annotations

from finops_workbooks import formats as f
from finops_workbooks.commitments_data import (
    SENSITIVITY_RATES,
    SENSITIVITY_UTILIZATIONS,
    TYPICAL_PRICING,
    CommitmentData,
)
from finops_workbooks.commitments_risk import actions_sheet, risk_sheet
from finops_workbooks.draft import start_sheet
from finops_workbooks.model import (
    Chart,
    DefinedName,
    Formula,
    Style,
    Table,
    WorkbookSpec,
    absolute,
    quote_sheet,
    ref,
)
from finops_xl import __version__

INPUTS, OPTIONS, FLOWS, SENSITIVITY, CHART, PORTFOLIO = (
    "Inputs", "Options", "Cash flows", "Sensitivity", "Savings chart", "Portfolio")
NA, NEVER = "n/a", "never"
RATE = Style(number_format="0.000000")
RATE_INPUT = f.INPUT.but(number_format="0.000000")
PCT = Style(number_format="0.00%")
PCT_INPUT = f.INPUT.but(number_format="0.00%")
DATE_INPUT = f.INPUT.but(number_format=f.DATE, align="left")
MONEY_INPUT = f.INPUT.but(number_format=f.ACCOUNTING)
AUDIT = Style(italic=True, color="595959")

_INPUT_CELLS = {"OnDemandHourly": "B4", "DiscountRate": "B5", "Utilization": "B6", "StartDate": "B7"}

#: Options sheet rows: (label, number style, workbook formula or None for an input).
OPTION_ROWS = ("Term (years)", "Payment", "Upfront fee", "Recurring fee ($/h)", "Term hours",
               "Effective rate ($/h)", "Discount off on-demand", "Break-even utilization", "NPV (XNPV)",
               "IRR (XIRR)", "Break-even month", "Break-even date", "Commitment cost",
               "On-demand avoided", "Total savings")
_FIRST_OPTION_ROW = 5
#: Cash-flow table columns.
FLOW_HEADER = ("Period", "Date", "Hours", "Upfront", "Recurring", "On-demand (full use)",
               "On-demand avoided", "Net flow", "Cumulative savings")
_FLOW_TOP = 4  # header row of every cash-flow table


def build_commitment_workbook(data: CommitmentData) -> WorkbookSpec:
    """The Commitment purchase workbook for ``data`` (see :func:`commitments_data.gather_commitments`)."""
    flows = _flows_sheet(data)
    sheets = [_inputs_sheet(data), _options_sheet(data), flows, _sensitivity_sheet(data), _chart_sheet(data)]
    best = max(range(len(data.options)), key=lambda i: data.valuations[i].npv)
    sheets.append(risk_sheet(data, data.options[best]))
    if data.portfolio is not None:
        sheets.append(_portfolio_sheet(data.portfolio))
    if data.actions is not None:
        sheets.append(actions_sheet(data.recommendations or (), data.actions, data.portfolio.as_of
                                    if data.portfolio is not None else data.start))
    return WorkbookSpec(
        sheets=tuple(sheets),
        names=tuple(DefinedName(n, INPUTS, at) for n, at in _INPUT_CELLS.items()),
        title=f"Commitment purchase options from {data.start:%Y-%m-%d}",
        active_sheet=OPTIONS,
    )


# ---- Inputs -------------------------------------------------------------------------------------


def _inputs_sheet(data: CommitmentData):
    s = start_sheet(INPUTS, "Commitment purchase: inputs",
                    "Yellow cells are inputs; every workbook figure recalculates from them.")
    s.put_row(3, 1, ("Input", "Value", "Notes"), f.HEADER_LEFT)
    rows = (
        ("On-demand rate ($/h)", data.on_demand_hourly, RATE_INPUT,
         "on-demand price per hour of the usage the commitment covers"),
        ("Discount rate (annual)", data.annual_rate, PCT_INPUT, "company cost of capital, for XNPV"),
        ("Utilization", data.utilization, PCT_INPUT, "share of the term's hours the covered usage runs"),
        ("Purchase date", data.start, DATE_INPUT, "the term starts that day; fees and usage monthly in arrears"),
        ("Source", data.source, Style(), "how the inputs were chosen"),
    )
    s.settings_rows(4, rows)
    row = 10
    if data.basis is not None:
        b = data.basis
        s.put(row, 1, "From the store (optimizer)", f.LABEL)
        row += 1
        for label, value, style in (
                ("Scope", b.scope, Style()),
                ("Spend window start (UTC)", b.window_start, Style(number_format=f.DATETIME, align="left")),
                ("Spend window end (UTC)", b.window_end, Style(number_format=f.DATETIME, align="left")),
                ("Hours", b.hours, Style(number_format=f.INTEGER)),
                ("Discount optimized at", b.discount, PCT),
                ("Coverage level ($/h on-demand)", b.coverage_level, RATE),
                ("Expected utilization", b.utilization, PCT),
                ("Savings over the window", b.savings, f.MONEY)):
            s.put(row, 1, label)
            s.put(row, 2, value, style)
            row += 1
        row += 1
    s.put(row, 1, "Default pricing (effective rate ÷ on-demand, share paid upfront)", f.LABEL)
    s.put(row + 1, 1, "Assumed when no quotes are given: 1y from Cloudability's m4.large quotes, "
                      "3y typical AWS standard-RI levels. Overwrite the fees on the Options sheet.", f.NOTE)
    for i, (name, _, _, ratio, share) in enumerate(TYPICAL_PRICING):
        s.put(row + 2 + i, 1, name)
        s.put(row + 2 + i, 2, ratio, PCT)
        s.put(row + 2 + i, 3, share, PCT)
    s.put(row + 3 + len(TYPICAL_PRICING), 1,
          f"Built by finops-xl {__version__} (finops_workbooks.commitments)", f.NOTE)
    s.widths(34, 22, 70)
    return s.build()


# ---- Cash flows ---------------------------------------------------------------------------------


def _flow_col(index: int) -> int:
    """First column of option ``index``'s cash-flow table."""
    return 1 + index * (len(FLOW_HEADER) + 1)


def _flow_range(index: int, n: int, column: str, *, first_period: int = 0) -> str:
    """``'Cash flows'!$X$a:$X$b`` of one column of option ``index``'s table (periods first…n)."""
    c = _flow_col(index) + FLOW_HEADER.index(column)
    top = _FLOW_TOP + 1 + first_period
    return f"{quote_sheet(FLOWS)}!{absolute(f'{ref(top, c)}:{ref(_FLOW_TOP + 1 + n, c)}')}"


def _flows_sheet(data: CommitmentData):
    s = start_sheet(FLOWS, "Cash flows by option (outflows negative; net = on-demand avoided − fees)",
                    "Native formulas from the Inputs and the Options sheet's fees.")
    styles = (Style(number_format="0"), f.DATE_CELL, Style(number_format=f.INTEGER)) + (f.MONEY,) * 6
    for i, (option, flows) in enumerate(zip(data.options, data.flows)):
        c0 = _flow_col(i)
        col = {name: c0 + k for k, name in enumerate(FLOW_HEADER)}
        opt_col = _option_col(i)
        upfront = f"{OPTIONS}!{absolute(ref(_option_row('Upfront fee'), opt_col))}"
        recurring = f"{OPTIONS}!{absolute(ref(_option_row('Recurring fee ($/h)'), opt_col))}"
        s.put(3, c0, option.name, f.LABEL)
        for flow in flows:
            r = _FLOW_TOP + 1 + flow.period
            at = {name: ref(r, c) for name, c in col.items()}
            s.put(r, col["Period"], flow.period, styles[0])
            if flow.period == 0:
                cells = {"Date": "=StartDate", "Hours": 0, "Upfront": f"=-{upfront}", "Recurring": 0,
                         "On-demand (full use)": 0, "On-demand avoided": 0,
                         "Cumulative savings": f"={at['Net flow']}"}
            else:
                prev = {name: ref(r - 1, c) for name, c in col.items()}
                cells = {"Date": f"=EDATE(StartDate,{at['Period']})",
                         "Hours": f"=({at['Date']}-{prev['Date']})*24",
                         "Upfront": 0,
                         "Recurring": f"=-{recurring}*{at['Hours']}",
                         "On-demand (full use)": f"=OnDemandHourly*{at['Hours']}",
                         "On-demand avoided": f"={at['On-demand (full use)']}*Utilization",
                         "Cumulative savings": f"={prev['Cumulative savings']}+{at['Net flow']}"}
            cells["Net flow"] = f"={at['Upfront']}+{at['Recurring']}+{at['On-demand avoided']}"
            for k, name in enumerate(FLOW_HEADER[1:], start=1):
                value = cells[name]
                s.put(r, col[name], Formula(value) if isinstance(value, str) else value, styles[k])
        last = _FLOW_TOP + 1 + flows[-1].period
        s.table(Table(f"Flows{i + 1}", f"{ref(_FLOW_TOP, c0)}:{ref(last, c0 + len(FLOW_HEADER) - 1)}",
                      FLOW_HEADER, style="TableStyleLight9"))
        for k in range(len(FLOW_HEADER)):
            s.width(c0 + k, 8 if k in (0, 2) else 13)
        s.width(c0 + len(FLOW_HEADER), 3)
    s.freeze = "A5"
    return s.build()


# ---- Options ------------------------------------------------------------------------------------


def _option_col(index: int) -> int:
    """The workbook (formula) column of option ``index``; its finops_xl column is the next one."""
    return 2 + 2 * index


def _option_row(label: str) -> int:
    return _FIRST_OPTION_ROW + OPTION_ROWS.index(label)


def _options_sheet(data: CommitmentData):
    s = start_sheet(OPTIONS, "Commitment purchase options against staying on demand",
                    "Workbook: native formulas. finops_xl: the same figures from "
                    "finops_xl.commitments.valuation, as values, for the audit.")
    s.put(4, 1, "", f.HEADER_LEFT)
    for label in OPTION_ROWS:
        s.put(_option_row(label), 1, label, f.LABEL)
    for i, (option, val) in enumerate(zip(data.options, data.valuations)):
        c, py = _option_col(i), _option_col(i) + 1
        n = 12 * option.term_years
        at = {label: ref(_option_row(label), c) for label in OPTION_ROWS}
        dates = _flow_range(i, n, "Date")
        net = _flow_range(i, n, "Net flow")
        cum = _flow_range(i, n, "Cumulative savings", first_period=1)
        below = f"COUNTIF({cum},\"<0\")"
        s.put(3, c, option.name, f.HEADER)
        s.put(3, py, option.name, f.HEADER)
        s.put(4, c, "workbook", f.HEADER)
        s.put(4, py, "finops_xl", f.HEADER)
        formulas = {
            "Term (years)": (option.term_years, Style(), None),
            "Payment": (option.payment.replace("_", " "), Style(align="right"), None),
            "Upfront fee": (option.upfront, MONEY_INPUT, None),
            "Recurring fee ($/h)": (option.recurring_hourly, RATE_INPUT, None),
            "Term hours": (Formula(f"=(EDATE(StartDate,12*{at['Term (years)']})-StartDate)*24"),
                           Style(number_format=f.INTEGER),
                           (option.term_end(data.start) - data.start).days * 24),
            "Effective rate ($/h)": (Formula(f"={at['Upfront fee']}/{at['Term hours']}"
                                             f"+{at['Recurring fee ($/h)']}"), RATE, val.effective_hourly),
            "Discount off on-demand": (Formula(f"=1-{at['Effective rate ($/h)']}/OnDemandHourly"), PCT,
                                       option.discount(data.on_demand_hourly, data.start)),
            "Break-even utilization": (Formula(f"={at['Effective rate ($/h)']}/OnDemandHourly"), PCT,
                                       val.breakeven_utilization),
            "NPV (XNPV)": (Formula(f"=XNPV(DiscountRate,{net},{dates})"), f.MONEY, val.npv),
            "IRR (XIRR)": (Formula(f"=IFERROR(XIRR({net},{dates}),\"{NA}\")"), PCT,
                           NA if val.irr is None else val.irr),
            "Break-even month": (Formula(f"=IF({below}>={n},\"{NEVER}\",{below}+1)"), Style(),
                                 NEVER if val.breakeven_month is None else val.breakeven_month),
            "Break-even date": (Formula(f"=IF(ISNUMBER({at['Break-even month']}),"
                                        f"EDATE(StartDate,{at['Break-even month']}),\"{NEVER}\")"),
                                f.DATE_CELL.but(align="right"),
                                NEVER if val.breakeven_date is None else val.breakeven_date),
            "Commitment cost": (Formula(f"=-SUM({_flow_range(i, n, 'Upfront')})"
                                        f"-SUM({_flow_range(i, n, 'Recurring')})"), f.MONEY, val.commitment_cost),
            "On-demand avoided": (Formula(f"=SUM({_flow_range(i, n, 'On-demand avoided')})"), f.MONEY,
                                  val.on_demand_avoided),
            "Total savings": (Formula(f"=SUM({net})"), f.MONEY, val.total_savings),
        }
        for label, (value, style, python) in formulas.items():
            s.put(_option_row(label), c, value, style)
            if python is not None:
                s.put(_option_row(label), py, python,
                      AUDIT.but(number_format=style.number_format, align=style.align))
        s.width(c, 16)
        s.width(py, 16)
    s.width(1, 26)
    s.freeze = "B5"
    return s.build()


# ---- Sensitivity --------------------------------------------------------------------------------

SENSITIVITY_BLOCK = len(SENSITIVITY_UTILIZATIONS) + 3


def _sensitivity_sheet(data: CommitmentData):
    s = start_sheet(SENSITIVITY, "NPV by utilization (rows) and annual discount rate (columns)",
                    "XNPV is linear in the flows: NPV(u) = u × XNPV(on-demand at full use) "
                    "+ XNPV(upfront) + XNPV(recurring), over the Cash flows tables.")
    for i, option in enumerate(data.options):
        n = 12 * option.term_years
        top = 4 + i * SENSITIVITY_BLOCK
        dates = _flow_range(i, n, "Date")
        parts = {k: _flow_range(i, n, k) for k in ("Upfront", "Recurring", "On-demand (full use)")}
        s.put(top, 1, option.name, f.LABEL)
        s.put(top + 1, 1, "Utilization \\ rate", f.HEADER_LEFT)
        for j, rate in enumerate(SENSITIVITY_RATES):
            s.put(top + 1, 2 + j, rate, f.HEADER.but(number_format="0.0%"))
        for k, u in enumerate(SENSITIVITY_UTILIZATIONS):
            r = top + 2 + k
            s.put(r, 1, u, Style(number_format="0%", bold=True, align="left"))
            for j in range(len(SENSITIVITY_RATES)):
                rate_at = ref(top + 1, 2 + j)
                s.put(r, 2 + j, Formula(
                    f"=$A{r}*XNPV({rate_at},{parts['On-demand (full use)']},{dates})"
                    f"+XNPV({rate_at},{parts['Upfront']},{dates})"
                    f"+XNPV({rate_at},{parts['Recurring']},{dates})"), f.MONEY)
    s.width(1, 24)
    for j in range(len(SENSITIVITY_RATES)):
        s.width(2 + j, 14)
    return s.build()


# ---- Savings chart ------------------------------------------------------------------------------

ZERO_LINE = "Break-even (0)"


def _chart_sheet(data: CommitmentData):
    s = start_sheet(CHART, "Cumulative savings over staying on demand",
                    "Where a line crosses zero the option has paid back (undiscounted).")
    months = max(12 * o.term_years for o in data.options)
    s.put(3, 1, "Month", f.HEADER_LEFT)
    for i, option in enumerate(data.options):
        s.put(3, 2 + i, option.name, f.HEADER)
    zero_col = 2 + len(data.options)
    s.put(3, zero_col, ZERO_LINE, f.HEADER)
    cum_col = FLOW_HEADER.index("Cumulative savings")
    for k in range(months + 1):
        r = 4 + k
        s.put(r, 1, k, Style(align="left"))
        for i, option in enumerate(data.options):
            if k <= 12 * option.term_years:
                target = ref(_FLOW_TOP + 1 + k, _flow_col(i) + cum_col)
                s.put(r, 2 + i, Formula(f"={quote_sheet(FLOWS)}!{target}"), f.MONEY)
        s.put(r, zero_col, 0, f.MONEY)
    last = 4 + months
    s.chart(Chart("CumulativeSavings", "line", "Cumulative savings by option",
                  f"B3:{ref(last, zero_col)}", f"A4:A{last}", ref(3, zero_col + 2),
                  y_title="Cumulative savings", x_title="Month of term",
                  y_number_format="#,##0", width_cm=24, height_cm=12))
    s.width(1, 8)
    for i in range(len(data.options) + 1):
        s.width(2 + i, 14)
    return s.build()


# ---- Portfolio ----------------------------------------------------------------------------------


def _portfolio_sheet(p):
    s = start_sheet(PORTFOLIO, "Commitment portfolio (values from the store at build time)",
                    f"Inventory and expiries as of {p.as_of:%Y-%m-%d}; KPIs of {p.month:%B %Y}. "
                    "Source: finops_xl.commitments.portfolio.")
    row = 4
    s.put(row, 1, "Inventory", f.LABEL)
    header = ("Id", "Name", "Provider", "Type", "Start", "End", "Term (months)", "Upfront",
              "Recurring monthly", "Remaining days", "Status")
    s.put_row(row + 1, 1, header, f.HEADER_LEFT)
    row += 2
    for c in p.inventory:
        s.put_row(row, 1, (c.id, c.name, c.provider, c.type))
        s.put(row, 5, c.start, f.DATE_CELL)
        s.put(row, 6, c.end, f.DATE_CELL)
        s.put(row, 7, c.term_months)
        s.put(row, 8, c.upfront, f.MONEY)
        s.put(row, 9, c.recurring_monthly, f.MONEY)
        s.put(row, 10, c.remaining_days)
        s.put(row, 11, c.status)
        row += 1
    if not p.inventory:
        s.put(row, 1, "no commitments in the store", f.NOTE)
        row += 1
    row += 1
    s.section(row, f"KPIs, {p.month:%B %Y}",
              ("Commitment", "Provider", "Currency", "Used", "Unused (waste)", "Utilization",
               "Coverage", "ESR", "Savings"))
    row += 2
    for k in (*p.kpis, *p.kpis_all):
        s.put_row(row, 1, (k.key if k.by != "all" else "All commitments", k.provider, k.currency))
        s.put(row, 4, k.used, f.MONEY)
        s.put(row, 5, k.waste, f.MONEY)
        for j, x in enumerate((k.utilization, k.coverage, k.esr)):
            s.put(row, 6 + j, "n/a" if x is None else x, PCT)
        s.put(row, 9, k.savings_total, f.MONEY)
        row += 1
    row += 1
    s.section(row, "Expiring within 90 days",
              ("Id", "Name", "Provider", "End", "Days left", "Window", "Utilization",
               "Suggestion"))
    row += 2
    for e in p.expiring:
        s.put_row(row, 1, (e.id, e.name, e.provider))
        s.put(row, 4, e.end, f.DATE_CELL)
        s.put(row, 5, e.days_left)
        s.put(row, 6, e.window)
        s.put(row, 7, "n/a" if e.utilization is None else e.utilization, PCT)
        s.put(row, 8, e.suggestion)
        row += 1
    if not p.expiring:
        s.put(row, 1, "none", f.NOTE)
    s.widths(30, 24, 12, 18, 12, 12, 12, 14, 14, 12, 10)
    return s.build()
