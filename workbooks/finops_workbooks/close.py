"""The "Monthly close" template: one month's close on sheets an auditor can trace.

Sheets, in tab order:

1. **Settings** — store, month, cut-off, accrual method and metric, stage, currency, amortization
   method, policy owner, runtime; named cells (``StorePath``, ``CloseMonth``, ``Cutoff``,
   ``AccrualMethod``, ``AccrualMetric``, ``Stage``, ``Currency``, ``CurrencyDecimals``, ``MinorUnits``,
   ``AmortizationMethod``, ``PolicyOwner``, ``Runtime``).
2. **Summary** (opens first) — the invoice tie-out: invoice total = allocated total + reconciling
   items (one row per category, native ``SUMIFS`` over the Reconciliation sheet's items), the
   difference as a native formula and a ✓/✗ cell; key figures (allocated cost, coverage, accrual,
   amortization, prepaid balance, change, budget variance); every sheet's check, linked.
3. **Allocation** — each owner's cost of the month (statement parts, ``SUM`` totals) and BilledCost,
   tied to the store's allocation.
4. **Accruals** — the accrual's lines as the ``AccrualLines`` table (estimate and accrual as native
   formulas, ``SUM`` totals), the accrual entry's lines against ``SUMIFS`` of the table by posting
   key, Σ debits = Σ credits; the true-up when the month is final.
5. **Prepaid** — the commitments (the inputs: start, term, upfront), the roll-forward
   (opening + purchases + transfers − amortization − write-offs = closing, ``SUMIFS`` over the
   schedules) and one daily straight-line schedule per commitment in native formulas
   (``EDATE``/``EOMONTH`` months and days, half-even rounding to the cent, the last month taking
   the rest), each month beside ``finops_xl``'s schedule and the difference.
6. **Reconciliation** — the month's invoices and every reconciling item (the ``ReconItems``
   table), with the SQL that returns each item's source rows.
7. **Variance** — budget vs actual by owner × service category (variance, %, price and volume
   effects as native formulas), when a budget is given; the month-over-month drivers in words and
   as a table that adds up to the change.
8. **Journal** — every entry of the month as the ``JournalLines`` table, and a per-entry balance
   check (``SUMIFS`` of debits and credits by entry key).
9. **Sign-off** — preparer, reviewer and dates (inputs), the versions the close reflects, and the
   checklist of close tasks, each Done / Open (native formulas over the sheets' checks);
   ``close_signoff``.
10. **Ledger map** — the GL account and cost-center map the close posted with, editable, in the
   ``--ledger`` CSV's layout (kind, key, value).

Rounding (Prepaid): ``finops_xl`` rounds half-even (to the even cent on an exact half cent); Excel's
``ROUND`` rounds a half away from zero. Each schedule month therefore computes its share in minor
units, ``D = ROUND(upfront*MinorUnits,0)*days/term_days`` — a quotient of whole numbers, so a tie is
exactly ``.5`` in binary too, and a share that is not a tie is at least 1/(2 × term days) away from
one — and rounds it half-even::

    =MIN((ROUND(D,0)-IF(AND(D-INT(D)=0.5,MOD(INT(D),2)=0),1,0))/MinorUnits, <balance left>)

(``ROUND`` rounds the tie up; the ``IF`` takes the unit back when the unit below is even), capped at
the balance left as ``finops_xl`` caps it; the last month takes the rest. The native schedule then
equals the Python one to the cent, ties included (tests/test_close_workbook.py holds commitments
whose months fall on exact ties and checks them after LibreOffice recalculated them).

Formulas match on numeric keys (months as dates, category / posting / entry keys), never on billing
text; text from billing data (owners, commitment ids, memos, SQL) is always written as text. Only
Excel 2010 functions are used (SUMIFS, SUM, IF, AND, INDEX, MATCH, EOMONTH, EDATE, ROUND, INT,
MOD, MAX, MIN, ABS), all of which LibreOffice 7.4 calculates.

Each sheet is laid out by its own module — ``close_settings`` (Settings, Allocation),
``close_accruals``, ``close_prepaid``, ``close_reconciliation`` (Reconciliation, Variance),
``close_summary`` (Journal, Summary), ``close_signoff`` (Sign-off, Capitalization, Ledger map) —
over the names, styles and helpers of ``close_common``; this module puts them in order.
"""

from __future__ import annotations

from finops_xl import excel_functions as registry

from finops_workbooks.close_accruals import accruals_sheet
from finops_workbooks.close_common import (
    ACCRUALS,
    ALLOCATION,
    JOURNAL,
    OK,
    PREPAID,
    SETTINGS,
    SUMMARY,
    _sheet_ref,
)
from finops_workbooks.close_prepaid import prepaid_sheet
from finops_workbooks.close_reconciliation import reconciliation_sheet, variance_sheet
from finops_workbooks.close_settings import SETTING_CELLS, allocation_sheet, settings_sheet
from finops_workbooks.close_signoff import capitalization_sheet, ledger_sheet, signoff_sheet
from finops_workbooks.close_summary import journal_sheet, summary_sheet
from finops_workbooks.model import DefinedName, WorkbookSpec
from finops_xl.close.gather import CloseData


def build_close(data: CloseData, *, runtime: str = "server") -> WorkbookSpec:
    """The monthly close workbook of ``data`` (``close_data.gather_close``).

    Parameters:
      data: the close month's numbers.
      runtime: the Excel runtime recorded on Settings (server, classic or lite) for the add-in's
        macros; no sheet depends on the add-in.

    Raises ValueError for a bad argument.
    """
    if runtime not in registry.RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}: use one of {', '.join(registry.RUNTIMES)}")
    allocation, alloc_refs = allocation_sheet(data)
    accruals, accrual_refs = accruals_sheet(data)
    prepaid, prepaid_refs = prepaid_sheet(data)
    recon, recon_refs = reconciliation_sheet(data)
    var, var_refs = variance_sheet(data)
    journal, journal_refs = journal_sheet(data)
    summary = summary_sheet(data, alloc_refs, accrual_refs, prepaid_refs, recon_refs, var_refs,
                             journal_refs)
    checks = [("Accrual entry balances", _sheet_ref(ACCRUALS, accrual_refs["check"])),
              ("Native amortization schedules = finops_xl", _sheet_ref(PREPAID, prepaid_refs["schedule_check"])),
              ("Prepaid roll-forward ties", _sheet_ref(PREPAID, prepaid_refs["rf_check"])),
              ("Every journal entry balances", _sheet_ref(JOURNAL, journal_refs["check"]))]
    if "check" in alloc_refs:
        checks.insert(0, ("Allocation ties to the store", _sheet_ref(ALLOCATION, alloc_refs["check"])))
    sheets = (settings_sheet(data, runtime), summary, allocation, accruals, prepaid, recon, var, journal,
              signoff_sheet(data, checks, OK), ledger_sheet(data.ledger))
    if data.capitalization:
        sheets = sheets[:-1] + (capitalization_sheet(data),) + sheets[-1:]
    return WorkbookSpec(
        sheets=sheets,
        names=tuple(DefinedName(name, SETTINGS, at) for name, at in SETTING_CELLS.items()),
        title=f"Monthly close {data.month:%Y-%m}",
        active_sheet=SUMMARY,
    )
