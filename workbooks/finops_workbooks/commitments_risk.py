"""The Commitment purchase workbook's **Risk** and **Actions** sheets.

Risk (native formulas, recalculated from the Inputs sheet's named cells and its own yellow inputs)
    For one option (the best NPV of the Options sheet): tax rate, utilization growth a year, on-demand
    price drop a year, the upfront's deduction (``amortized`` or ``immediate``), WACC and hurdle rate,
    an exit month and the share of the remaining commitment an exit recovers. A monthly table —
    utilization ``MIN(1, MAX(0, Utilization × (1 + growth)^((m − 1)/12)))``, price ``(1 − drop)^((m −
    1)/12)``, on-demand avoided ``730 × OnDemandHourly × utilization × price``, fee ``730 × recurring``,
    pre-tax and after-tax cash, the upfront at month 0 — is the cash schedule; the NPVs discount month
    ``m`` by ``(1 + rate)^(m/12)`` at the WACC and at the hurdle rate (the rules of
    :mod:`finops_xl.commitments.risk`, which the finops_xl column gives as values for the auditor). A
    sensitivity table (values from ``risk.sensitivity``) shows the after-tax NPV by growth and rate.
Actions (values from the store at build time)
    The purchase recommendation (:mod:`finops_xl.commitments.recommend`) and the portfolio action list
    (:mod:`finops_xl.commitments.actions`).
"""

from __future__ import annotations

from decimal import Decimal

from finops_workbooks import formats as f
from finops_workbooks.draft import SheetDraft, start_sheet
from finops_workbooks.model import Formula, Style
from finops_xl.commitments import risk

RISK, ACTIONS = "Risk", "Actions"
PCT = Style(number_format="0.00%")
PCT_INPUT = f.INPUT.but(number_format="0.00%")
RATE = Style(number_format="0.000000")
TABLE_TOP = 18  # header row of the monthly table
GROWTHS = (Decimal("-0.30"), Decimal("-0.15"), Decimal(0), Decimal("0.10"))
#: (label, cell, default, style)
INPUTS = (
    ("Tax rate", "B4", Decimal("0.25"), PCT_INPUT),
    ("Utilization growth a year (− = decay)", "B5", Decimal(0), PCT_INPUT),
    ("On-demand price drop a year", "B6", Decimal(0), PCT_INPUT),
    ("Upfront deduction (amortized / immediate)", "B7", "amortized", f.INPUT),
    ("WACC (annual)", "B8", None, PCT_INPUT),
    ("Hurdle rate (annual)", "B9", Decimal("0.12"), PCT_INPUT),
    ("Exit after month", "B10", 12, f.INPUT),
    ("Share of the remaining commitment an exit recovers", "B11", Decimal(0), PCT_INPUT),
)


def risk_sheet(data, option, *, tax_rate=Decimal("0.25"), hurdle=Decimal("0.12")):
    """The Risk sheet for ``option`` of ``data`` (a :class:`commitments_data.CommitmentData`)."""
    s = SheetDraft(RISK, landscape=True)
    months = option.term_years * 12
    s.put(1, 1, f"Risk: {option.name} along utilization and price paths, after tax, with its cash", f.TITLE)
    s.put(2, 1, "Yellow cells are inputs. Discount rate: the WACC for a decision like any investment; the "
                "hurdle rate when the cash competes with other projects. Exit recovery: AWS standard RI "
                "Marketplace 88% (12% fee), Azure reservation exchange 100% (refund capped at USD 50,000 a "
                "rolling year), savings plans and Google CUDs 0%.", f.NOTE)
    s.put_row(3, 1, ("Input", "Value", "finops_xl"), f.HEADER_LEFT)
    for i, (label, cell, default, style) in enumerate(INPUTS):
        row = 4 + i
        s.put(row, 1, label, f.LABEL)
        value = data.annual_rate if cell == "B8" else tax_rate if cell == "B4" else hurdle if cell == "B9" else default
        s.put(row, 2, value, style)
    s.put(12, 1, "Upfront", f.LABEL)
    s.put(12, 2, option.upfront, f.MONEY)
    s.put(13, 1, "Recurring fee ($/h)", f.LABEL)
    s.put(13, 2, option.recurring_hourly, RATE)
    s.put(14, 1, "Months", f.LABEL)
    s.put(14, 2, months)
    header = ("Month", "Utilization", "Price", "On-demand avoided", "Fee", "Upfront", "Pre-tax cash",
              "After-tax cash")
    s.put_row(TABLE_TOP, 1, header, f.HEADER)
    first = TABLE_TOP + 1
    s.put(first, 1, 0)
    s.put_row(first, 4, (0, 0), f.MONEY)
    s.put(first, 6, Formula("=$B$12"), f.MONEY)
    s.put(first, 7, Formula(f"=-F{first}"), f.MONEY)
    s.put(first, 8, Formula(f'=-F{first}+IF($B$7="immediate",$B$4*F{first},0)'), f.MONEY)
    for m in range(1, months + 1):
        r = first + m
        s.put(r, 1, m)
        s.put(r, 2, Formula(f"=MIN(1,MAX(0,Utilization*(1+$B$5)^((A{r}-1)/12)))"), PCT)
        s.put(r, 3, Formula(f"=(1-$B$6)^((A{r}-1)/12)"), PCT)
        s.put(r, 4, Formula(f"=730*OnDemandHourly*B{r}*C{r}"), f.MONEY)
        s.put(r, 5, Formula("=730*$B$13"), f.MONEY)
        s.put(r, 6, 0, f.MONEY)
        s.put(r, 7, Formula(f"=D{r}-E{r}"), f.MONEY)
        s.put(r, 8, Formula(f'=G{r}*(1-$B$4)+IF($B$7="amortized",$B$4*$B$12/$B$14,0)'), f.MONEY)
    last = first + months
    a, g, h = f"A{first}:A{last}", f"G{first}:G{last}", f"H{first}:H{last}"
    flows = risk.monthly_flows(option, data.on_demand_hourly, risk.path(months, data.utilization))
    taxed = risk.after_tax(flows, tax_rate)
    results = (
        ("NPV pre-tax at the WACC", f"=SUMPRODUCT({g}/(1+$B$8)^({a}/12))",
         risk.npv([x.pre_tax for x in flows], data.annual_rate)),
        ("NPV after tax at the WACC", f"=SUMPRODUCT({h}/(1+$B$8)^({a}/12))",
         risk.npv([x.after_tax for x in taxed], data.annual_rate)),
        ("NPV after tax at the hurdle rate", f"=SUMPRODUCT({h}/(1+$B$9)^({a}/12))",
         risk.npv([x.after_tax for x in taxed], hurdle)),
        ("Residual value at the exit", "=$B$11*($B$12*($B$14-$B$10)/$B$14+730*$B$13*($B$14-$B$10))", Decimal(0)),
        ("Cash paid in total (upfront + fees)", f"=SUM(F{first}:F{last})+SUM(E{first}:E{last})",
         option.upfront + risk.HOURS_PER_MONTH * option.recurring_hourly * months),
    )
    for i, (label, formula, value) in enumerate(results):
        row = 4 + i
        s.put(row, 4, label, f.LABEL)
        s.put(row, 5, Formula(formula), f.MONEY)
        s.put(row, 6, value, f.MONEY)
    s.put(3, 4, "Result", f.HEADER_LEFT)
    s.put(3, 5, "Workbook", f.HEADER)
    s.put(3, 6, "finops_xl (defaults)", f.HEADER)
    col = 10
    s.put(TABLE_TOP - 1, col, "After-tax NPV by utilization growth (rows) and rate (columns), values from "
                              "finops_xl.commitments.risk at the default inputs", f.NOTE)
    rates = tuple(rate for _, rate in risk.rate_guidance(data.annual_rate, hurdle))
    s.put(TABLE_TOP, col, "Growth a year", f.HEADER)
    s.put_row(TABLE_TOP, col + 1, rates, PCT)
    table = risk.sensitivity(option, data.on_demand_hourly, data.utilization, GROWTHS, rates, tax_rate=tax_rate)
    for i, (gr, npvs) in enumerate(zip(GROWTHS, table)):
        s.put(TABLE_TOP + 1 + i, col, gr, PCT)
        s.put_row(TABLE_TOP + 1 + i, col + 1, npvs, f.MONEY)
    for c, w in ((1, 44), (2, 14), (3, 12), (4, 34), (5, 16), (6, 18), (7, 14), (8, 14), (10, 14)):
        s.width(c, w)
    return s.build()


def actions_sheet(recommendations, action_list, as_of):
    """The Actions sheet: the purchase lines and the action list, as values."""
    s = start_sheet(ACTIONS, "Commitment actions (values from the store at build time)",
                    f"As of {as_of:%Y-%m-%d}. Sources: finops_xl.commitments.recommend and .actions; "
                    "`finops-xl commitments recommend` and `finops-xl commitments actions` print the same.")
    row = 4
    s.section(row, "What to buy (uncovered usage, per provider and scope)",
              ("Provider", "Scope", "Term (years)", "Payment", "Cover ($/h)", "Fee ($/h)", "Upfront",
               "Savings a year", "NPV", "Break-even month", "P10", "P50", "P90", "Start"))
    row += 2
    for x in recommendations:
        s.put_row(row, 1, (x.provider, x.scope, x.term_years, x.payment))
        s.put_row(row, 5, (x.coverage_level, x.hourly_commitment), RATE)
        s.put_row(row, 7, (x.upfront, x.annual_savings, x.npv), f.MONEY)
        s.put(row, 10, "never" if x.break_even_months is None else x.break_even_months)
        s.put_row(row, 11, (x.p10, x.p50, x.p90), PCT)
        s.put(row, 14, x.start, f.DATE_CELL)
        row += 1
    if not recommendations:
        s.put(row, 1, "nothing to buy", f.NOTE)
        row += 1
    row += 1
    s.section(row, "What to do with the portfolio",
              ("Action", "Commitment", "Provider", "End", "Days left", "Utilization",
               "Savings a month", "Waste avoided a month", "Reason"))
    row += 2
    for a in action_list:
        s.put_row(row, 1, (a.action, a.commitment_id, a.provider))
        s.put(row, 4, a.end, f.DATE_CELL)
        s.put(row, 5, a.days_left)
        s.put(row, 6, "n/a" if a.utilization is None else a.utilization, PCT)
        s.put_row(row, 7, (a.monthly_savings, a.waste_avoided), f.MONEY)
        s.put(row, 9, a.reason)
        row += 1
    if not action_list:
        s.put(row, 1, "no action: nothing expires within 180 days and nothing is underused", f.NOTE)
    s.widths(16, 30, 12, 16, 12, 12, 14, 16, 60, 12, 8, 8, 8, 12)
    return s.build()
