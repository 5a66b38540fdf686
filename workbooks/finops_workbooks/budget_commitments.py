"""The budget workbook's **Commitments** sheet: the plan's commitment overlay from the real portfolio.

Per budget month (values from :mod:`finops_xl.planning.portfolio_overlay`, computed when the workbook is
built): the plan's gross cost (the base scenario, before any commitment), the savings the portfolio
earns that month (commitments end on their dates; renewals and resizes from the action list),
net = gross − savings, and the commitment cost side by side as P&L (amortized) and as cash (upfronts
in the month they are paid, fees monthly). Below it, the same by commitment and month.
"""

from __future__ import annotations

from finops_workbooks import formats as f
from finops_workbooks.draft import start_sheet

COMMITMENTS = "Commitments"


def commitments_sheet(overlay_rows, plan_rows):
    s = start_sheet(COMMITMENTS, "Commitments: the portfolio's overlay on the plan (P&L and cash side by side)",
                    "Values from finops_xl.planning.portfolio_overlay at build time: commitments end on their "
                    "dates, renewals and resizes follow `finops-xl commitments actions`; a lapsed one saves "
                    "nothing after its end. Gross: the base scenario before commitment discounts.")
    s.put_row(4, 1, ("Month", "Gross", "Portfolio savings", "Net", "Amortized (P&L)", "Cash"), f.HEADER)
    row = 5
    for r in overlay_rows:
        s.put(row, 1, r.month, f.MONTH_CELL)
        s.put_row(row, 2, (r.gross, r.savings, r.net, r.amortized, r.cash), f.MONEY)
        row += 1
    row += 1
    s.section(row, "By commitment", ("Month", "Commitment", "State", "Amortized (P&L)", "Cash", "Savings"))
    row += 2
    for r in plan_rows:
        s.put(row, 1, r.month, f.MONTH_CELL)
        s.put_row(row, 2, (r.commitment_id, r.state))
        s.put_row(row, 4, (r.amortized, r.cash, r.savings), f.MONEY)
        row += 1
    if not plan_rows:
        s.put(row, 1, "no commitment runs in these months", f.NOTE)
    s.widths(12, 40, 16, 16, 16, 16)
    return s.build()
