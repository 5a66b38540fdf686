"""The close workbook's Journal and Summary sheets (``close``)."""

from __future__ import annotations

from decimal import Decimal

from finops_workbooks import formats as f
from finops_workbooks.close_common import (
    ACCRUALS,
    ALLOCATION,
    ITEMS_TABLE,
    JOURNAL,
    JOURNAL_TABLE,
    PREPAID,
    RECONCILIATION,
    SUMMARY,
    VARIANCE,
    _CHECK,
    _CHECK_LABEL,
    _DATE,
    _RATIO,
    _SECTION,
    _STAGE_TEXT,
    _SUB_CENT,
    _WRAP,
    _check,
    _col,
    _largest,
    _last_row,
    _month_text,
    _notes,
    _nothing_to_accrue,
    _sheet_ref,
    _text,
    _total_row,
    category_labels,
)
from finops_workbooks.close_reconciliation import category_key
from finops_workbooks.close_signoff import built_from, sheet_title as _title
from finops_workbooks.draft import start_sheet
from finops_workbooks.model import PLAIN, Formula, Sheet, Style, Table, ref
from finops_xl.close.gather import CloseData
from finops_xl.close.reconciliation import CATEGORIES


# ---- Journal --------------------------------------------------------------------------------

_JOURNAL_HEADER = ("Entry key", "Entry", "Date", "Kind", "Account", "Cost center", "Debit", "Credit",
                   "Currency", "Reverses on", "Memo", "Source")


def journal_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = start_sheet(JOURNAL, _title(data, f"Journal entries: {_month_text(data.month)}"))
    refs: dict[str, str] = {}
    entries = data.entries
    row = _notes(s, 2, (
        ("Every entry of the month: the accrual (month end) and its reversal (day 1 of the next month), prepaid "
         "purchases,"),
        (f"amortization (by the sub-accounts that used each commitment, unused share to {data.policy_owner}) "
         "and reclasses to current prepaid."),
        (f"Debits and credits are positive, in {data.currency}, to the cent; an entry balances when Σ debits = "
         "Σ credits (SUMIFS on the entry key)."),
        "For the ERP: finops-xl close --journal FILE writes the same lines as CSV."))
    head = row + 1
    s.put(head, 1, "Key", f.HEADER)
    s.put_row(head, 2, ("Entry", "Date", "Kind"), f.HEADER_LEFT)
    s.put_row(head, 5, ("Debits", "Credits", "Difference", "Balanced"), f.HEADER)
    first = head + 1
    debit, credit, key_col = (_col(JOURNAL_TABLE, c) for c in ("Debit", "Credit", "Entry key"))
    for k, e in enumerate(entries, start=1):
        r = first + k - 1
        s.put(r, 1, k, f.KEY)
        s.put(r, 2, e.id)
        s.put(r, 3, e.date, _DATE)
        s.put(r, 4, e.kind)
        s.put(r, 5, Formula(f"=SUMIFS({debit},{key_col},A{r})"), f.MONEY)
        s.put(r, 6, Formula(f"=SUMIFS({credit},{key_col},A{r})"), f.MONEY)
        s.put(r, 7, Formula(f"=E{r}-F{r}"), f.MONEY)
        s.put(r, 8, _check(f"ABS(G{r})"), _CHECK)
    last = _last_row(s, first, len(entries), "(no entries this month)", column=2)
    total = last + 1
    _total_row(s, total, first, last, (5, 6, 7), label_column=2)
    s.put(total + 1, 2, "Check: every entry balances", _CHECK_LABEL)
    s.put(total + 1, 8, _check(_largest(f"G{first}:G{last}")), _CHECK)
    refs["check"] = ref(total + 1, 8)

    thead = total + 4
    s.put(thead - 1, 1, "Entry lines", _SECTION)
    row = thead
    # tall rows (wrapped memos) read best with every cell at the top: wrapping does that
    wrap, money, date = _WRAP, f.MONEY.but(wrap=True), _DATE.but(wrap=True)
    for k, e in enumerate(entries, start=1):
        for line in e.lines:
            row += 1
            s.put(row, 1, k, f.KEY.but(wrap=True))
            s.put(row, 2, e.id, wrap)
            s.put(row, 3, e.date, date)
            s.put_row(row, 4, _text(e.kind, line.account, line.cost_center), wrap)
            s.put_row(row, 7, (line.debit, line.credit), money)
            s.put(row, 9, e.currency, wrap)
            s.put(row, 10, e.reverses_on, date)
            s.put(row, 11, line.memo, wrap)
            s.put(row, 12, line.source, wrap)
    widths = (9, 40, 11, 17, 30, 16, 14, 14, 9, 12, 75, 48)
    for c, w in enumerate(widths, start=1):
        s.width(c, w)
    for r in range(thead + 1, row + 1):
        s.fit_height(r, (11, 12))
    if row > thead:
        s.table(Table(JOURNAL_TABLE, f"A{thead}:{ref(row, len(_JOURNAL_HEADER))}", _JOURNAL_HEADER))
    else:
        s.put_row(thead, 1, _JOURNAL_HEADER, f.HEADER_LEFT)
    s.fit_height(head, range(1, 9))
    return s.build(), refs


# ---- Summary --------------------------------------------------------------------------------


def summary_sheet(data: CloseData, alloc: dict, accr: dict, prepaid: dict, recon: dict, var: dict,
                   journal: dict) -> Sheet:
    s = start_sheet(SUMMARY,
                    _title(data, f"Monthly close: {_month_text(data.month)}"),
                    f"Stage: {_STAGE_TEXT.get(data.stage, data.stage)}.")
    r_ = data.reconciliation
    labels = category_labels(r_)
    separated = ", ".join(labels[c].lower() for c in r_.separate)
    cur = data.currency
    total_accrual = data.accrual.total("accrual", cur) if data.accrual.lines else Decimal(0)
    if total_accrual:
        s.put(3, 1, f"Cut-off {data.accrual.cutoff.isoformat()}: {data.accrual.days_missing} day(s) projected "
                    f"({data.accrual.method}); the Accruals sheet holds the lines and the entry.", f.NOTE)
    else:
        s.put(3, 1, _nothing_to_accrue(data), f.NOTE.but(bold=True))
    s.put(4, 1, built_from(data), f.NOTE)

    head = 5
    s.put(head, 1, f"Invoice tie-out ({cur}, BilledCost)", f.HEADER_LEFT)
    s.put(head, 2, "Amount", f.HEADER)
    s.put(head, 3, "key", f.HEADER)
    s.put(head, 4, "Where from", f.HEADER_LEFT)
    row = head + 1
    invoice_row = row
    s.put(row, 1, "Invoice total", f.LABEL)
    s.put(row, 2, Formula(f"={_sheet_ref(RECONCILIATION, recon['invoice_total'])}"), f.MONEY_TOTAL)
    s.put(row, 4, f"Σ the month's {len(r_.invoices)} invoice(s), Reconciliation sheet", f.NOTE)
    row += 1
    gross_row = row
    if "billed_total" in alloc and r_.basis == "allocation":
        s.put(row, 1, "Allocated BilledCost of the month")
        s.put(row, 2, Formula(f"={_sheet_ref(ALLOCATION, alloc['billed_total'])}"), f.MONEY)
        s.put(row, 4, "Allocation sheet, BilledCost total", f.NOTE)
    else:
        s.put(row, 1, "Store charges of the month (no allocation)")
        s.put(row, 2, Formula(f"={_sheet_ref(RECONCILIATION, recon['allocated_gross_value'])}"), f.MONEY)
        s.put(row, 4, "Reconciliation sheet (finops_xl.close.reconciliation)", f.NOTE)
    row += 1
    first_item = row + 2 + (1 if r_.separate else 0)
    item_rows = {c: first_item + i for i, c in enumerate(CATEGORIES)}
    less_row = None
    if r_.separate:
        less_row = row
        s.put(row, 1, f"less {separated} (booked on their own lines)")
        s.put(row, 2, Formula("=-(" + "+".join(f"B{item_rows[c]}" for c in r_.separate) + ")"), f.MONEY)
        s.put(row, 4, "the reconciling items below of those categories", f.NOTE)
        row += 1
    allocated_row = row
    s.put(row, 1, "Allocated total compared" + (f" (excl. {separated})" if r_.separate else ""), f.LABEL)
    s.put(row, 2, Formula(f"=B{gross_row}+B{less_row}" if less_row else f"=B{gross_row}"), f.MONEY_TOTAL)
    row += 1
    s.put(row, 1, "Reconciling items (what each adds from the allocated total to the invoice total)", f.NOTE)
    items_amount, items_key = _col(ITEMS_TABLE, "Amount"), _col(ITEMS_TABLE, "Category key")
    for c in CATEGORIES:
        r = item_rows[c]
        s.put(r, 1, f"  {labels[c]}")
        s.put(r, 2, Formula(f"=SUMIFS({items_amount},{items_key},C{r})"),
              _SUB_CENT if c == "rounding" else f.MONEY)
        s.put(r, 3, category_key(c), f.KEY)
    last_item = item_rows[CATEGORIES[-1]]
    row = last_item + 1
    items_total = row
    s.put(row, 1, "Σ reconciling items", f.LABEL)
    s.put(row, 4, "every item, with its source rows' SQL: Reconciliation sheet", f.NOTE)
    s.put(row, 2, Formula(f"=SUM(B{first_item}:B{last_item})"), f.MONEY_TOTAL)
    row += 1
    diff_row = row
    s.put(row, 1, "Difference: invoice total − allocated total − Σ items", f.LABEL)
    s.put(row, 2, Formula(f"=B{invoice_row}-B{allocated_row}-B{items_total}"), f.MONEY_TOTAL)
    row += 1
    tie_row = row
    s.put(row, 1, "Tie-out (✓ when the difference is 0)", _CHECK_LABEL)
    s.put(row, 2, _check(f"ABS(B{diff_row})"), _CHECK)

    # key figures
    row += 2
    s.put(row, 1, "Key figures", f.HEADER_LEFT)
    s.put(row, 2, "Value", f.HEADER)
    s.put(row, 3, None, f.HEADER)
    s.put(row, 4, "Where from", f.HEADER_LEFT)
    figures: list[tuple[str, object, Style, str]] = []
    if "effective_total" in alloc:
        figures.append(("Allocated cost (EffectiveCost, amortized)",
                        Formula(f"={_sheet_ref(ALLOCATION, alloc['effective_total'])}"), f.MONEY,
                        "Allocation sheet"))
    if data.coverage is not None:
        figures.append(("Allocation coverage (direct + shared)", data.coverage.allocated, _RATIO,
                        f"FinOps maturity: {data.coverage.maturity} (walk ≥ 80%, run ≥ 90%)"))
    figures.append(("Accrual (unbilled cost, Cr accrued liabilities)",
                    Formula(f"={_sheet_ref(ACCRUALS, accr['accrual_total'])}"), f.MONEY,
                    "Accruals sheet, exact; the entry posts it rounded to the cent"))
    if data.roll_forward:
        months = _sheet_ref(PREPAID, prepaid["rf_months"])
        for label, key, note in (("Prepaid amortization of the month", "rf_amortization", "Prepaid roll-forward"),
                                 ("Prepaid balance at month end", "rf_closing", "Prepaid roll-forward"),
                                 ("  of which current (expensed within 12 months)", "rf_current",
                                  "Prepaid roll-forward")):
            figures.append((label, Formula(f"=INDEX({_sheet_ref(PREPAID, prepaid[key])},"
                                           f"MATCH(CloseMonth,{months},0))"), f.MONEY, note))
    if data.change is not None:
        if data.change.coverage_current is not None:
            figures.append(("Commitment coverage (covered ÷ eligible ListCost)", data.change.coverage_current,
                            _RATIO, "finops_xl.close.variance.explain_change"))
        figures.append(("Cost change vs prior month", Formula(f"={_sheet_ref(VARIANCE, var['change_pct'])}"),
                        _RATIO, "Variance sheet, month over month"))
    if "variance" in var:
        figures.append(("Budget variance (actual − budget)", Formula(f"={_sheet_ref(VARIANCE, var['variance'])}"),
                        f.MONEY, "Variance sheet"))
        figures.append(("Budget variance %", Formula(f"={_sheet_ref(VARIANCE, var['variance_pct'])}"),
                        _RATIO, "Variance sheet"))
    for label, value, style, note in figures:
        row += 1
        s.put(row, 1, label)
        s.put(row, 2, value, style)
        s.put(row, 4, note, f.NOTE)

    # every sheet's check
    row += 2
    s.put(row, 1, "Checks", f.HEADER_LEFT)
    s.put(row, 2, "Result", f.HEADER.but(align="center"))
    s.put(row, 3, None, f.HEADER)
    s.put(row, 4, "Where", f.HEADER_LEFT)
    checks = [("Invoice tie-out: difference 0", f"B{tie_row}", "this sheet")]
    if "check" in alloc:
        checks.append(("Allocation ties to the store", _sheet_ref(ALLOCATION, alloc["check"]), "Allocation sheet"))
    checks.append(("Accrual entry balances (Σ debits = Σ credits)", _sheet_ref(ACCRUALS, accr["check"]),
                   "Accruals sheet"))
    checks.append(("Native amortization schedules = finops_xl schedules",
                   _sheet_ref(PREPAID, prepaid["schedule_check"]), "Prepaid sheet"))
    checks.append(("Prepaid roll-forward = finops_xl roll-forward", _sheet_ref(PREPAID, prepaid["rf_check"]),
                   "Prepaid sheet"))
    if "mom_check" in var:
        checks.append(("Month-over-month drivers add up to the change", _sheet_ref(VARIANCE, var["mom_check"]),
                       "Variance sheet"))
    checks.append(("Every journal entry balances", _sheet_ref(JOURNAL, journal["check"]), "Journal sheet"))
    for label, at, where in checks:
        row += 1
        s.put(row, 1, label)
        s.put(row, 2, Formula(f"={at}"), _CHECK)
        s.put(row, 4, where, f.NOTE)

    if data.change is not None:
        row += 2
        s.put(row, 1, "Why cost moved (Variance sheet)", f.HEADER_LEFT)
        for c in (2, 3, 4):
            s.put(row, c, None, f.HEADER)
        _notes(s, row + 1, data.change.sentences()[:2], PLAIN, width=140)
    s.width(1, 60)
    s.width(2, 18)
    s.width(3, 5)
    s.width(4, 60)
    return s.build()
