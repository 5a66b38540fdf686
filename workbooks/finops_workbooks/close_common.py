"""Shared pieces of the monthly close workbook's sheets: sheet and table names, styles,
the check formula, note layout and the texts several sheets show (``close``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from finops_workbooks import formats as f
from finops_workbooks.draft import SheetDraft
from finops_workbooks.model import Formula, Style, quote_sheet, ref
from finops_xl.close.gather import CloseData
from finops_xl.close.reconciliation import CATEGORIES, Reconciliation


SETTINGS, SUMMARY, ALLOCATION, ACCRUALS, PREPAID, RECONCILIATION, VARIANCE, JOURNAL = (
    "Settings", "Summary", "Allocation", "Accruals", "Prepaid", "Reconciliation", "Variance", "Journal")
ACCRUAL_TABLE, ITEMS_TABLE, JOURNAL_TABLE = "AccrualLines", "ReconItems", "JournalLines"
OK, NOT_OK = "✓", "✗"
#: Amounts whose magnitude is below this are zero for a check (half a cent).
TOLERANCE = "0.005"

_CHECK = Style(bold=True, size=13, align="center", color="00803C")
_CHECK_LABEL = f.LABEL
_RATIO = Style(number_format=f.PERCENT)
_RATIO_TOTAL = Style(number_format=f.PERCENT, bold=True)
_CENTS = Style(number_format="#,##0.0000")
_UNIT_PRICE = Style(number_format="#,##0.0000")
_RATE = Style(number_format="0.000000", align="left")
_QUANTITY = Style(number_format="#,##0.####")
_SUB_CENT = Style(number_format='_(* #,##0.000000_);_(* \\(#,##0.000000\\);_(* "-"??_);_(@_)',
                  italic=True, color="595959")
_DATE = f.DATE_CELL
_INPUT_MONEY = f.INPUT.but(number_format=f.ACCOUNTING)
_INPUT_DATE = f.INPUT.but(number_format=f.DATE, align="left")
_SECTION = Style(bold=True, size=12)
_WRAP = Style(wrap=True)
_KEY_LEFT = f.KEY.but(align="left")


# ---- helpers --------------------------------------------------------------------------------


def _sheet_ref(sheet: str, at: str) -> str:
    return f"{quote_sheet(sheet)}!{at}"


def _check(expression: str) -> Formula:
    """``=IF(<expression> < half a cent, "✓", "✗")`` (``expression`` is a magnitude)."""
    return Formula(f'=IF({expression}<{TOLERANCE},"{OK}","{NOT_OK}")')


def _largest(range_: str) -> str:
    """The largest magnitude in a range of numbers (blank cells count as 0)."""
    return f"MAX(MAX({range_}),-MIN({range_}))"


def _last_row(s: SheetDraft, first: int, count: int, empty: str, column: int = 1) -> int:
    """The last body row of a table of ``count`` rows from ``first``: ``first`` itself when there
    are none, which then shows the ``empty`` note in ``column``."""
    if not count:
        s.put(first, column, empty, f.NOTE)
    return max(first, first + count - 1)


def _total_row(s: SheetDraft, row: int, first: int, last: int, columns, *, label: str = "Total",
               label_column: int = 1, style: Style | Callable[[int], Style] = f.MONEY_TOTAL) -> None:
    """The ``label`` row at ``row``: each of ``columns`` sums its rows ``first`` to ``last``, in
    ``style`` (or ``style(column)``)."""
    s.put(row, label_column, label, f.MONTH_TOTAL)
    for c in columns:
        s.put(row, c, Formula(f"=SUM({ref(first, c)}:{ref(last, c)})"), style(c) if callable(style) else style)


def _notes(s: SheetDraft, row: int, texts, style: Style = f.NOTE, width: int | None = None) -> int:
    """Put each text on its own row from ``row`` (long ones split into lines of about ``width``
    characters, default ``_LINE``); returns the next free row."""
    for text in texts:
        for line in _lines(text, width or _LINE):
            s.put(row, 1, line, style)
            row += 1
    return row


#: Characters per note line: longer notes are split so printed sheets stay one page wide.
_LINE = 135


def _lines(text: str, width: int = _LINE) -> list[str]:
    """``text`` cut into lines of at most about ``width`` characters, at '; ' or spaces."""
    out, rest = [], text
    while len(rest) > width:
        cut = rest.rfind("; ", 0, width)
        cut = cut + 1 if cut > width * 2 // 3 else rest.rfind(" ", 0, width)
        if cut <= 0:
            cut = width
        out.append(rest[:cut].rstrip())
        rest = "   " + rest[cut:].lstrip()
    out.append(rest)
    return out


def _text(*values: str | None) -> tuple[str | None, ...]:
    """Billing text for cells: an empty text is an empty cell."""
    return tuple(v or None for v in values)


def _month_text(month: dt.date) -> str:
    return f"{month:%B %Y}"


def _col(table: str, column: str) -> str:
    return f"{table}[{column}]"


def category_labels(r: Reconciliation) -> dict[str, str]:
    """Category → its label as the reconciliation's own statement (``summary()``) writes it."""
    lines = r.summary()[2:2 + len(CATEGORIES)]
    labels = {c: label for c, (label, _) in zip(CATEGORIES, lines)}
    return {c: labels.get(c) or c.replace("_", " ").capitalize() for c in CATEGORIES}


_STAGE_TEXT = {
    "accrual": "accrual: the month's data is not final yet; this accrual was saved beside the store "
               "(finops-xl close) and the next run after the final data trues it up",
    "true-up": "true-up: the month's data is final; the accrual shown is the one saved at the close, "
               "and the true-up compares it with the final data",
    "final": "final: every charge of the month was invoiced at the first close, so nothing is accrued "
             "and nothing was saved; the invoice books the month's expense",
    "preview": "computed for this workbook only: nothing was saved (finops-xl close saves the accrual)",
}


def _nothing_to_accrue(data: CloseData) -> str:
    """Why the accrual is 0, in one line."""
    a, cur = data.accrual, data.currency
    month = _month_text(data.month)
    complete = a.days_missing == 0 and not a.total("fixed_fees", cur) and \
        a.total("invoiced", cur) == a.total("actual_to_date", cur)
    if complete:
        return (f"Nothing to accrue: the {month} data is complete (no day missing) and every charge is "
                "invoiced; no accrual entry is posted.")
    return f"Nothing to accrue for {month}: the accrual is 0, so no accrual entry is posted."
