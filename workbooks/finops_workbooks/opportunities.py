"""The Opportunities sheet (of the showback workbook): what could be saved, by owner, and what was.

* **By owner**: open estimated savings a month (identified or approved, and found again in the last
  month: ``ledger.open_savings``), implemented, and the last
  month's projected and realized savings, all native ``SUMIFS`` over the two tables below.
* **Projected vs realized** by month (``SUMIFS``) and a chart of the two.
* ``OpportunityList`` table: the ledger's opportunities (values, pulled at build time).
* ``SavingsData`` table: projected, realized and annualized savings per opportunity and month,
  measured by ``finops_xl.optimization.ledger.measure`` (baseline run-rate before the change vs
  actual cost; annualized = realized ÷ days since the change × 365).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from finops_workbooks import formats as f
from finops_workbooks.draft import SheetDraft
from finops_workbooks.model import Chart, Formula, Sheet, Table, ref
from finops_xl.optimization.ledger import OPEN_STATUSES

SHEET = "Opportunities"
OPPORTUNITIES = "OpportunityList"
SAVINGS = "SavingsData"
OPP_HEADER = ("Id", "Rule", "Resource", "Owner", "Status", "Confidence", "MonthlyCost", "EstMonthlySavings",
              "Action", "Evidence", "LastSeen")
SAVINGS_HEADER = ("Month", "Owner", "Id", "Projected", "Realized", "Annualized")
NO_OWNER = "(no owner)"


@dataclasses.dataclass(frozen=True)
class OpportunitiesData:
    """What the sheet shows: ``ledger.opportunities`` (all statuses) and ``ledger.measure`` of the
    workbook's months."""

    opportunities: tuple
    measurements: tuple
    months: tuple[dt.date, ...]
    currency: str = "USD"


def opportunities_sheet(data: OpportunitiesData) -> Sheet:
    s = SheetDraft(SHEET, landscape=True)
    months = list(data.months)
    opps = list(data.opportunities)
    meas = [m for m in data.measurements if m.after_days]
    owners = sorted({o.owner or NO_OWNER for o in opps} | {m.owner or NO_OWNER for m in meas})
    s.put(1, 1, "Optimization opportunities", f.TITLE)
    s.put(2, 1, "Found in billing and utilization data by `finops-xl opportunities`; status from the savings "
                "ledger; realized savings measured as the resource's cost per day in the 30 days before the "
                "change, times the days since, minus what it actually cost.", f.NOTE)
    last = months[-1]
    s.put(3, 1, "Last month", f.LABEL)
    s.put(3, 2, last, f.MONTH_CELL)
    last_cell = "$B$3"

    # -- by owner --------------------------------------------------------------------------------
    head = 5
    headers = ("Owner", f"Open savings/month ({data.currency})", "Implemented savings/month",
               "Projected (last month)", "Realized (last month)", "Realized, annualized")
    s.put(head, 1, headers[0], f.HEADER_LEFT)
    s.put_row(head, 2, headers[1:], f.HEADER)
    o_col = lambda c: f"{OPPORTUNITIES}[{c}]"  # noqa: E731
    v_col = lambda c: f"{SAVINGS}[{c}]"  # noqa: E731
    first = head + 1
    for r, owner in enumerate(owners, start=first):
        s.put(r, 1, owner)
        # open savings: identified or approved, and still found in the last month (ledger.open_savings)
        open_ = "+".join(f'SUMIFS({o_col("EstMonthlySavings")},{o_col("Owner")},$A{r},{o_col("Status")},"{st}",'
                         f'{o_col("LastSeen")},{last_cell})' for st in OPEN_STATUSES)
        done = "+".join(f'SUMIFS({o_col("EstMonthlySavings")},{o_col("Owner")},$A{r},{o_col("Status")},"{st}")'
                        for st in ("implemented", "realized"))
        s.put(r, 2, Formula(f"={open_}"), f.MONEY)
        s.put(r, 3, Formula(f"={done}"), f.MONEY)
        s.put(r, 4, Formula(f"=SUMIFS({v_col('Projected')},{v_col('Owner')},$A{r},{v_col('Month')},{last_cell})"),
              f.MONEY)
        s.put(r, 5, Formula(f"=SUMIFS({v_col('Realized')},{v_col('Owner')},$A{r},{v_col('Month')},{last_cell})"),
              f.MONEY)
        s.put(r, 6, Formula(f"=SUMIFS({v_col('Annualized')},{v_col('Owner')},$A{r},{v_col('Month')},{last_cell})"),
              f.MONEY)
    total = first + len(owners)
    s.put(total, 1, "Total", f.MONTH_TOTAL)
    for c in range(2, 7):
        s.put(total, c, Formula(f"=SUM({ref(first, c)}:{ref(max(first, total - 1), c)})"), f.MONEY_TOTAL)

    # -- by month, and the chart -----------------------------------------------------------------
    grid = total + 2
    s.put(grid, 1, "Month", f.HEADER_LEFT)
    s.put_row(grid, 2, ("Projected", "Realized"), f.HEADER)
    for r, month in enumerate(months, start=grid + 1):
        s.put(r, 1, month, f.MONTH_CELL)
        s.put(r, 2, Formula(f"=SUMIFS({v_col('Projected')},{v_col('Month')},$A{r})"), f.MONEY)
        s.put(r, 3, Formula(f"=SUMIFS({v_col('Realized')},{v_col('Month')},$A{r})"), f.MONEY)
    grid_last = grid + len(months)
    s.chart(Chart(name="SavingsProjectedRealized", kind="bar", title="Savings: projected vs realized",
                  data_ref=f"B{grid}:C{grid_last}", categories_ref=f"A{grid + 1}:A{grid_last}",
                  anchor=f"E{grid}", y_title=data.currency, y_number_format="#,##0",
                  width_cm=min(max(14.0, 2.4 * len(months) + 6), 24.0), height_cm=7.0))

    # -- the opportunities table -------------------------------------------------------------------
    t_head = grid_last + 16
    s.put(t_head - 1, 1, "Opportunities (from the savings ledger)", f.LABEL)
    for i, o in enumerate(opps):
        r = t_head + 1 + i
        s.put_row(r, 1, (o.opportunity_id, o.rule, o.resource_name or o.resource_id, o.owner or NO_OWNER,
                         o.status, o.confidence))
        s.put_row(r, 7, (o.monthly_cost, o.estimated_savings), f.MONEY)
        s.put_row(r, 9, (o.action or "", o.evidence or ""))
        s.put(r, 11, o.month, f.MONTH_CELL)
    t_last = t_head + max(1, len(opps))
    s.table(Table(OPPORTUNITIES, f"A{t_head}:{ref(t_last, len(OPP_HEADER))}", OPP_HEADER))

    # -- the measured savings table ---------------------------------------------------------------
    v_head = t_last + 3
    s.put(v_head - 1, 1, "Measured savings by opportunity and month", f.LABEL)
    for i, m in enumerate(sorted(meas, key=lambda m: (m.month, m.owner or "", m.opportunity_id))):
        r = v_head + 1 + i
        s.put(r, 1, m.month, f.MONTH_CELL)
        s.put_row(r, 2, (m.owner or NO_OWNER, m.opportunity_id))
        s.put_row(r, 4, (m.projected, m.realized, m.annualized), f.MONEY)
    v_last = v_head + max(1, len(meas))
    s.table(Table(SAVINGS, f"A{v_head}:{ref(v_last, len(SAVINGS_HEADER))}", SAVINGS_HEADER))
    s.widths(17, 21, 28, 16, 14, 14, 15, 17, 40, 60, 11)
    s.fit_height(head, range(1, 7))
    return s.build()
