"""The close workbook's Reconciliation and Variance sheets (``close``)."""

from __future__ import annotations

from finops_workbooks import formats as f
from finops_workbooks.close_common import (
    ITEMS_TABLE,
    RECONCILIATION,
    VARIANCE,
    _CHECK,
    _CHECK_LABEL,
    _QUANTITY,
    _RATIO,
    _RATIO_TOTAL,
    _SECTION,
    _UNIT_PRICE,
    _WRAP,
    _check,
    _last_row,
    _month_text,
    _notes,
    _total_row,
    category_labels,
)
from finops_workbooks.close_signoff import sheet_title as _title
from finops_workbooks.draft import start_sheet
from finops_workbooks.model import PLAIN, Formula, Sheet, Style, Table, ref
from finops_xl.close.gather import CloseData
from finops_xl.close.reconciliation import CATEGORIES


# ---- Reconciliation -------------------------------------------------------------------------

_INVOICE_HEADER = ("Invoice", "Rows in store", "Invoice amount", "Amount in {cur}", "Σ BilledCost of its rows",
                   "Issued by, for, in")
_ITEMS_HEADER = ("Category", "Category key", "Amount", "Rows", "Invoice", "Description", "Source rows (SQL)")
#: Excel holds at most this many characters in a cell.
_CELL_LIMIT = 32_767


def category_key(category: str) -> int:
    """A reconciling-item category's numeric key (its place in the statement)."""
    return CATEGORIES.index(category) + 1


def reconciliation_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    cur = data.currency
    s = start_sheet(RECONCILIATION, _title(data, f"Invoice reconciliation: {_month_text(data.month)} ({cur})"))
    for c, w in enumerate((30, 13, 16, 16, 18, 40, 75), start=1):
        s.width(c, w)
    r_ = data.reconciliation
    labels = category_labels(r_)
    refs: dict[str, str] = {}
    row = _notes(s, 2, (
        ("invoice total = allocated total + reconciling items (finops_xl.close.reconciliation); the tie-out is on "
         "the Summary sheet."),
        f"Basis: {r_.basis_note or r_.basis}.",
        *(f"Note: {n}." for n in r_.notes),
        ("Drill-down: each item's SQL returns its source rows; run it on the store, e.g. "
         "duckdb.connect(StorePath, read_only=True).sql(<SQL>)."),
    ))
    head = row + 2
    s.put(head - 1, 1, "The month's invoices", _SECTION)
    header = tuple(h.format(cur=cur) for h in _INVOICE_HEADER)
    s.put(head, 1, header[0], f.HEADER_LEFT)
    s.put_row(head, 2, header[1:5], f.HEADER)
    s.put(head, 6, header[5], f.HEADER_LEFT)
    first = head + 1
    integer = Style(number_format=f.INTEGER)
    for i, line in enumerate(r_.invoices):
        r = first + i
        inv = line.invoice
        s.put(r, 1, inv.invoice_id)
        s.put(r, 2, line.rows, integer)
        s.put(r, 3, inv.amount, Style(number_format=f"#,##0.00 \"{inv.currency}\""))
        s.put(r, 4, line.amount, f.MONEY)
        s.put(r, 5, line.charges, f.MONEY)
        s.put(r, 6, ", ".join(x for x in (inv.issuer, inv.billing_account, inv.currency) if x) or None)
    last = _last_row(s, first, len(r_.invoices), "(no invoices for this month)")
    total = last + 1
    _total_row(s, total, first, last, (2, 4, 5), label="Invoice total",
               style=lambda c: integer.but(bold=True) if c == 2 else f.MONEY_TOTAL)
    refs["invoice_total"] = ref(total, 4)

    row = total + 2
    s.put(row, 1, "Allocated side", _SECTION)
    alloc_label = ("Allocated BilledCost of the month" if r_.basis == "allocation"
                   else "Store charges of the month (no allocation)")
    s.put(row + 1, 1, alloc_label)
    s.put(row + 1, 4, r_.allocated_gross, f.MONEY)
    separated = ", ".join(labels[c].lower() for c in r_.separate) or "none"
    s.put(row + 2, 1, f"Allocated total compared (less {separated})")
    s.put(row + 2, 4, r_.allocated_total, f.MONEY)
    refs["allocated_gross_value"] = ref(row + 1, 4)
    refs["allocated_total_value"] = ref(row + 2, 4)

    ihead = row + 5
    s.put(ihead - 1, 1, "Reconciling items by category: what each adds from the allocated total to the invoice "
                        "total (spend +, credits −)", _SECTION)
    ifirst = ihead + 1
    items = r_.items
    for i, item in enumerate(items):  # every cell wraps, so all sit at the top of the tall rows
        r = ifirst + i
        s.put(r, 1, labels.get(item.category, item.category), _WRAP)
        s.put(r, 2, category_key(item.category), f.KEY.but(wrap=True))
        s.put(r, 3, item.amount, f.MONEY.but(wrap=True))
        s.put(r, 4, item.rows, integer.but(wrap=True))
        s.put(r, 5, item.invoice_id or None, _WRAP)
        s.put(r, 6, item.description, _WRAP)
        sql = item.sql if len(item.sql) <= _CELL_LIMIT else item.sql[:_CELL_LIMIT - 40] + " … (cut: see finops_xl)"
        s.put(r, 7, sql, f.NOTE.but(wrap=True, size=8))
        s.fit_height(r, (6, 7), line=12.5)
    ilast = ifirst + max(len(items), 1) - 1
    if items:
        s.table(Table(ITEMS_TABLE, f"A{ihead}:{ref(ilast, len(_ITEMS_HEADER))}", _ITEMS_HEADER))
    else:  # pragma: no cover - reconcile always shows the unexplained item
        s.put_row(ihead, 1, _ITEMS_HEADER, f.HEADER_LEFT)
    s.fit_height(head, range(1, len(_INVOICE_HEADER) + 1))
    return s.build(), refs


# ---- Variance -------------------------------------------------------------------------------

_VARIANCE_HEADER = ("Owner", "Service category", "Budget", "Actual", "Variance", "Variance %", "Unit",
                    "Budget volume", "Actual volume", "Budget unit price", "Actual unit price",
                    "Volume effect", "Price effect")
_DRIVER_HEADER = ("Driver", "Previous month", "This month", "Change", "Share of change")


def variance_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = start_sheet(VARIANCE, _title(data, f"Variance: {_month_text(data.month)}"))
    refs: dict[str, str] = {}
    s.width(1, 58 if data.variance is None else 40)
    s.width(2, 22)
    for c in range(3, 14):
        s.width(c, 14)
    row = 3
    report = data.variance
    if report is None:
        s.put(2, 1, "No budget given: pass a budget (finops-xl close --budget FILE with columns owner, "
                    "service_category, month, amount[, quantity, unit]) to see budget vs actual.", f.NOTE)
    else:
        row = _notes(s, 2, (
            (f"Budget vs actual ({report.metric}, {report.currency}) by owner × service category "
             "(finops_xl.close.variance): variance = actual − budget (+ = overspend)."),
            "% = variance ÷ budget. With volumes: volume effect = (actual − budget volume) × budget unit price;",
            "price effect = variance − volume effect (= (actual − budget unit price) × actual volume).",
            *(n[0].upper() + n[1:] + "." for n in report.notes)))
        head = row + 1
        s.put(head, 1, _VARIANCE_HEADER[0], f.HEADER_LEFT)
        s.put(head, 2, _VARIANCE_HEADER[1], f.HEADER_LEFT)
        s.put_row(head, 3, _VARIANCE_HEADER[2:], f.HEADER)
        first = head + 1
        for i, line in enumerate(report.lines):
            r = first + i
            s.put_row(r, 1, (line.owner, line.service_category))
            s.put_row(r, 3, (line.budget, line.actual), f.MONEY)
            s.put(r, 5, Formula(f"=D{r}-C{r}"), f.MONEY_TOTAL)
            s.put(r, 6, Formula(f'=IF(C{r}=0,"",E{r}/C{r})'), _RATIO)
            if line.unit is not None:
                s.put(r, 7, line.unit)
                s.put(r, 8, line.budget_volume, _QUANTITY)
                s.put(r, 9, line.actual_volume, _QUANTITY)
                s.put(r, 10, Formula(f'=IF(H{r}=0,"",C{r}/H{r})'), _UNIT_PRICE)
                s.put(r, 11, Formula(f'=IF(I{r}=0,"",D{r}/I{r})'), _UNIT_PRICE)
                s.put(r, 12, Formula(f'=IF(H{r}=0,"",(I{r}-H{r})*J{r})'), f.MONEY)
                s.put(r, 13, Formula(f'=IF(H{r}=0,"",E{r}-L{r})'), f.MONEY)
        last = _last_row(s, first, len(report.lines), "(no budget or cost this month)")
        total = last + 1
        _total_row(s, total, first, last, (3, 4, 5))
        s.put(total, 6, Formula(f'=IF(C{total}=0,"",E{total}/C{total})'), _RATIO_TOTAL)
        refs |= {"budget": ref(total, 3), "actual": ref(total, 4), "variance": ref(total, 5),
                 "variance_pct": ref(total, 6)}
        s.fit_height(head, range(1, len(_VARIANCE_HEADER) + 1))
        row = total + 2

    e = data.change
    if e is None:
        s.put(row, 1, "Month over month: the store holds no cost for the prior month.", f.NOTE)
    else:
        s.put(row, 1, f"Month over month: why did cost move from {e.previous_month:%B} to {e.month:%B %Y}? "
                      f"({e.metric}, {e.currency}; finops_xl.close.variance.explain_change)", _SECTION)
        row += 1
        row = _notes(s, row, e.sentences(), PLAIN)
        head = row + 1
        s.put(head, 1, _DRIVER_HEADER[0], f.HEADER_LEFT)
        s.put_row(head, 2, _DRIVER_HEADER[1:], f.HEADER)
        first = head + 1
        for i, d in enumerate(e.drivers):
            r = first + i
            s.put(r, 1, d.label)
            s.put_row(r, 2, (d.previous, d.current), f.MONEY)
            s.put(r, 4, Formula(f"=C{r}-B{r}"), f.MONEY_TOTAL)
        last = first + len(e.drivers) - 1
        total = last + 1
        _total_row(s, total, first, last, (2, 3, 4))
        for r in range(first, total + 1):
            s.put(r, 5, Formula(f'=IF($D${total}=0,"",D{r}/$D${total})'), _RATIO)
        s.put(total + 1, 1, "Store: total cost of each month", f.NOTE)
        s.put_row(total + 1, 2, (e.previous_total, e.current_total), f.MONEY)
        s.put(total + 1, 4, Formula(f"=C{total + 1}-B{total + 1}"), f.MONEY)
        s.put(total + 1, 5, Formula(f'=IF(B{total + 1}=0,"",D{total + 1}/B{total + 1})'), _RATIO)
        s.put(total + 2, 1, "Difference: drivers − store (0: the drivers add up to the change)", f.NOTE)
        s.put(total + 2, 4, Formula(f"=D{total}-D{total + 1}"), f.MONEY)
        s.put(total + 3, 1, "Check: the drivers add up to the change", _CHECK_LABEL)
        s.put(total + 3, 4, _check(f"ABS(D{total + 2})"), _CHECK)
        refs |= {"change_pct": ref(total + 1, 5), "mom_check": ref(total + 3, 4)}
        s.fit_height(head, range(1, len(_DRIVER_HEADER) + 1))
    return s.build(), refs
