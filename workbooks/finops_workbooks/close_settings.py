"""The close workbook's Settings and Allocation sheets (``close``)."""

from __future__ import annotations

from decimal import Decimal

from finops_workbooks import formats as f
from finops_workbooks.close_common import (
    ALLOCATION,
    SETTINGS,
    _CHECK,
    _CHECK_LABEL,
    _DATE,
    _RATE,
    _STAGE_TEXT,
    _SUB_CENT,
    _check,
    _month_text,
    _total_row,
)
from finops_workbooks.close_signoff import sheet_title as _title
from finops_workbooks.draft import SheetDraft, start_sheet
from finops_workbooks.model import PLAIN, Chart, Formula, Sheet, ref
from finops_xl import __version__
from finops_xl.allocation.rules import ROUNDING
from finops_xl.close.gather import CloseData


# ---- Settings -------------------------------------------------------------------------------

SETTING_CELLS = {"StorePath": "B4", "CloseMonth": "B5", "Cutoff": "B6", "AccrualMethod": "B7",
                  "AccrualMetric": "B8", "Stage": "B9", "Currency": "B10", "CurrencyDecimals": "B11",
                  "MinorUnits": "B12", "AmortizationMethod": "B13", "PolicyOwner": "B14",
                  "Runtime": "B15"}

def settings_sheet(data: CloseData, runtime: str) -> Sheet:
    s = start_sheet(SETTINGS,
                    "Monthly close: settings",
                    "Values pulled from the store at build time by finops_xl.close (accruals, amortization, "
                    "reconciliation, variance) and the allocation; rebuild after the data or the allocation "
                    "changes.")
    a = data.accrual
    s.put_row(3, 1, ("Setting", "Value", "Notes"), f.HEADER_LEFT)
    rows = (
        ("Cost store", data.store_path, PLAIN, "the finops-xl cost store (DuckDB file) the values came from"),
        ("Close month", data.month, f.MONTH_CELL, "charges count in the month their ChargePeriodStart falls in"),
        ("Cut-off", a.cutoff, _DATE, (f"first day the data does not cover; {a.days_missing} day(s) from it "
                                      "to month end are projected")),
        ("Accrual method", a.method, PLAIN, ("how the missing days are projected: trailing_7d, "
                                             "month_to_date or prior_month")),
        ("Accrual metric", a.metric, PLAIN, "the accrual is a liability: what the provider will invoice"),
        ("Stage", data.stage, PLAIN, _STAGE_TEXT.get(data.stage, "")),
        ("Currency", data.currency, PLAIN,
         "billing currency of every amount; others are never added in" if data.reporting is None else
         "reporting currency of every amount: each billing currency translated into it (rates below)"),
        ("Currency decimals", data.decimals, PLAIN, "the currency's minor unit: amounts are rounded to it"),
        ("Minor units per unit", 10 ** data.decimals, PLAIN,
         "used by the Prepaid schedules to compute each month in whole minor units (cents)"),
        ("Amortization method", data.amortization_method, PLAIN,
         "daily straight-line: upfront ÷ days in term × days of the term in the month"),
        ("Policy owner", data.policy_owner, PLAIN, "owner charged with the unused share of a commitment"),
        ("Excel runtime", runtime, PLAIN, ("runtime of the finops-xl add-in for this workbook's macros; "
                                           "no sheet depends on the add-in")),
        ("Built by", f"finops-xl {__version__} (finops_workbooks.close)", PLAIN, ""),
    )
    for i, (label, value, style, note) in enumerate(rows):
        s.put(4 + i, 1, label, f.LABEL)
        s.put(4 + i, 2, value, style)
        if note:
            s.put(4 + i, 3, note, f.NOTE)
    row = 4 + len(rows) + 1
    if data.reporting is not None:
        row = _reporting_rows(s, data, row)
    for note in data.notes:
        s.put(row, 1, "Note", f.LABEL)
        s.put(row, 2, note[0].upper() + note[1:] + ".", f.NOTE)
        row += 1
    s.width(1, 22)
    s.width(2, min(max(len(data.store_path), 26) + 2, 90))
    s.width(3, 100)
    return s.build()


def _reporting_rows(s: SheetDraft, data: CloseData, row: int) -> int:
    """The reporting currency, the rates file and each billing currency's rates of the month."""
    rep = data.reporting
    s.put(row, 1, "Reporting currency", f.LABEL)
    s.put(row, 2, rep.currency)
    s.put(row, 3, "IAS 21.39–40 / ASC 830-30-45: expenses at the month's average rate, balance-sheet lines "
                  "(accrued liabilities, prepaid) at its closing rate; journal lines rounded to the cent, the "
                  "difference on the translation line (finops_xl.close.reporting_currency)", f.NOTE)
    s.put(row + 1, 1, "Rates", f.LABEL)
    s.put(row + 1, 2, rep.source)
    s.put(row + 1, 3, "the rates file (date, from_currency, to_currency, rate, or the ECB reference rates): "
                      "average = mean of the month's daily rates, closing = the month's last rate", f.NOTE)
    row += 3
    s.put_row(row, 1, (f"Rate ({rep.currency} per unit)", f"Average {data.month:%Y-%m}",
                       f"Closing {data.month:%Y-%m}"), f.HEADER_LEFT)
    for cur, avg, clo in rep.rates:
        row += 1
        s.put(row, 1, f"{cur}→{rep.currency}", f.LABEL)
        s.put(row, 2, avg, _RATE)
        s.put(row, 3, clo, _RATE)
    return row + 2


# ---- Allocation -----------------------------------------------------------------------------


def allocation_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = start_sheet(ALLOCATION, _title(data, f"Allocation by owner: {_month_text(data.month)}"))
    refs: dict[str, str] = {}
    if not data.owners:
        s.put(2, 1, "The store holds no allocation for this month: run finops-xl allocate --rules FILE, "
                    "then build the workbook again.", f.NOTE)
        s.width(1, 30)
        return s.build(), refs
    s.put(2, 1, f"EffectiveCost (amortized) in {data.currency} per owner, from the store's allocation "
                "(finops_xl.allocation.showback.statements), each owner rounded to the cent;", f.NOTE)
    s.put(3, 1, f"{ROUNDING} holds the sub-cent rest, so the total equals the allocation exactly. BilledCost "
                "(cash basis, what the invoices charge) is the allocated side of the Summary's tie-out.",
          f.NOTE)
    head = 5
    parts = [("Direct usage", "direct"), ("Commitment amortization", "commitment"), ("Credits", "credits")]
    parts += [(f"Shared: {p}", p) for p in data.pools]
    parts.append(("Rounding", "rounding"))
    total_col = 2 + len(parts)
    billed_col = total_col + 1
    s.put(head, 1, "Owner", f.HEADER_LEFT)
    s.put_row(head, 2, [label for label, _ in parts], f.HEADER)
    s.put(head, total_col, "Total EffectiveCost", f.HEADER)
    s.put(head, billed_col, "BilledCost", f.HEADER)
    first = head + 1
    for r, o in enumerate(data.owners, start=first):
        rounding = o.owner == ROUNDING
        shared = dict(o.shared)
        s.put(r, 1, o.owner, f.NOTE if rounding else PLAIN)
        for c, (_, key) in enumerate(parts, start=2):
            amount = {"direct": o.direct, "commitment": o.commitment, "credits": o.credits,
                      "rounding": o.rounding}.get(key, shared.get(key, Decimal(0)))
            s.put(r, c, amount, _SUB_CENT if rounding or key == "rounding" else f.MONEY)
        s.put(r, total_col, Formula(f"=SUM({ref(r, 2)}:{ref(r, total_col - 1)})"),
              _SUB_CENT if rounding else f.MONEY_TOTAL)
        s.put(r, billed_col, o.billed, _SUB_CENT if rounding else f.MONEY)
    last = first + len(data.owners) - 1
    total = last + 1
    _total_row(s, total, first, last, range(2, billed_col + 1))
    store_row, diff_row, check_row = total + 2, total + 3, total + 4
    s.put(store_row, 1, "Store: Σ allocated_charges of the month", f.NOTE)
    s.put(store_row, total_col, data.allocated_effective, f.MONEY)
    s.put(store_row, billed_col, data.allocated_billed, f.MONEY)
    s.put(diff_row, 1, "Difference: sheet total − store (0 when they tie)", f.NOTE)
    for c in (total_col, billed_col):
        s.put(diff_row, c, Formula(f"={ref(total, c)}-{ref(store_row, c)}"), f.MONEY)
    s.put(check_row, 1, "Check: the allocation ties to the store", _CHECK_LABEL)
    s.put(check_row, total_col, _check(f"MAX(ABS({ref(diff_row, total_col)}),ABS({ref(diff_row, billed_col)}))"),
          _CHECK)
    refs |= {"effective_total": ref(total, total_col), "billed_total": ref(total, billed_col),
             "check": ref(check_row, total_col)}
    owners = [o for o in data.owners if o.owner != ROUNDING]
    if owners:
        s.chart(Chart(
            name="CostByOwner", kind="bar", title=f"EffectiveCost by owner, {data.month:%b %Y}",
            data_ref=f"{ref(head, total_col)}:{ref(first + len(owners) - 1, total_col)}",
            categories_ref=f"A{first}:A{first + len(owners) - 1}", anchor=f"A{check_row + 2}",
            y_title=data.currency, y_number_format="#,##0",
            width_cm=min(max(16.0, 2.0 * len(owners) + 6), 28.0), height_cm=8.0))
    s.width(1, min(max([12, *(len(o.owner) for o in data.owners)]) + 2, 40))
    for c in range(2, billed_col + 1):
        s.width(c, 15)
    s.fit_height(head, range(1, billed_col + 1))
    s.freeze = f"B{first}"
    return s.build(), refs
