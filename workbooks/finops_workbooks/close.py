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
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from finops_xl import excel_functions as registry

from finops_workbooks import formats as f
from finops_workbooks.close_data import CloseData
from finops_workbooks.close_signoff import capitalization_sheet, ledger_sheet, signoff_sheet
from finops_workbooks.draft import SheetDraft
from finops_workbooks.model import (
    PLAIN,
    Chart,
    DefinedName,
    Formula,
    Sheet,
    Style,
    Table,
    WorkbookSpec,
    quote_sheet,
    ref,
)
from finops_xl import __version__
from finops_xl.allocation.rules import ROUNDING
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
_QUANTITY = Style(number_format="#,##0.####")
_SUB_CENT = Style(number_format='_(* #,##0.000000_);_(* \\(#,##0.000000\\);_(* "-"??_);_(@_)',
                  italic=True, color="595959")
_DATE = f.DATE_CELL
_INPUT_MONEY = f.INPUT.but(number_format=f.ACCOUNTING)
_INPUT_DATE = f.INPUT.but(number_format=f.DATE, align="left")
_SECTION = Style(bold=True, size=12)
_WRAP = Style(wrap=True)
_KEY_LEFT = f.KEY.but(align="left")


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
    allocation, alloc_refs = _allocation_sheet(data)
    accruals, accrual_refs = _accruals_sheet(data)
    prepaid, prepaid_refs = _prepaid_sheet(data)
    recon, recon_refs = _reconciliation_sheet(data)
    var, var_refs = _variance_sheet(data)
    journal, journal_refs = _journal_sheet(data)
    summary = _summary_sheet(data, alloc_refs, accrual_refs, prepaid_refs, recon_refs, var_refs,
                             journal_refs)
    checks = [("Accrual entry balances", _sheet_ref(ACCRUALS, accrual_refs["check"])),
              ("Native amortization schedules = finops_xl", _sheet_ref(PREPAID, prepaid_refs["schedule_check"])),
              ("Prepaid roll-forward ties", _sheet_ref(PREPAID, prepaid_refs["rf_check"])),
              ("Every journal entry balances", _sheet_ref(JOURNAL, journal_refs["check"]))]
    if "check" in alloc_refs:
        checks.insert(0, ("Allocation ties to the store", _sheet_ref(ALLOCATION, alloc_refs["check"])))
    sheets = (_settings_sheet(data, runtime), summary, allocation, accruals, prepaid, recon, var, journal,
              signoff_sheet(data, checks, OK), ledger_sheet(data.ledger))
    if data.capitalization:
        sheets = sheets[:-1] + (capitalization_sheet(data),) + sheets[-1:]
    return WorkbookSpec(
        sheets=sheets,
        names=tuple(DefinedName(name, SETTINGS, at) for name, at in _SETTING_CELLS.items()),
        title=f"Monthly close {data.month:%Y-%m}",
        active_sheet=SUMMARY,
    )


# ---- helpers --------------------------------------------------------------------------------


def _sheet_ref(sheet: str, at: str) -> str:
    return f"{quote_sheet(sheet)}!{at}"


def _check(expression: str) -> Formula:
    """``=IF(<expression> < half a cent, "✓", "✗")`` (``expression`` is a magnitude)."""
    return Formula(f'=IF({expression}<{TOLERANCE},"{OK}","{NOT_OK}")')


def _largest(range_: str) -> str:
    """The largest magnitude in a range of numbers (blank cells count as 0)."""
    return f"MAX(MAX({range_}),-MIN({range_}))"


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


# ---- Settings -------------------------------------------------------------------------------

_SETTING_CELLS = {"StorePath": "B4", "CloseMonth": "B5", "Cutoff": "B6", "AccrualMethod": "B7",
                  "AccrualMetric": "B8", "Stage": "B9", "Currency": "B10", "CurrencyDecimals": "B11",
                  "MinorUnits": "B12", "AmortizationMethod": "B13", "PolicyOwner": "B14",
                  "Runtime": "B15"}

_STAGE_TEXT = {
    "accrual": "accrual: the month's data is not final yet; this accrual was saved beside the store "
               "(finops-xl close) and the next run after the final data trues it up",
    "true-up": "true-up: the month's data is final; the accrual shown is the one saved at the close, "
               "and the true-up compares it with the final data",
    "final": "final: every charge of the month was invoiced at the first close, so nothing is accrued "
             "and nothing was saved; the invoice books the month's expense",
    "preview": "computed for this workbook only: nothing was saved (finops-xl close saves the accrual)",
}


def _settings_sheet(data: CloseData, runtime: str) -> Sheet:
    s = SheetDraft(SETTINGS, landscape=True)
    a = data.accrual
    s.put(1, 1, "Monthly close: settings", f.TITLE)
    s.put(2, 1, "Values pulled from the store at build time by finops_xl.close (accruals, amortization, "
                "reconciliation, variance) and the allocation; rebuild after the data or the allocation "
                "changes.", f.NOTE)
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
        ("Currency", data.currency, PLAIN, "billing currency of every amount; others are never added in"),
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
    for note in data.notes:
        s.put(row, 1, "Note", f.LABEL)
        s.put(row, 2, note[0].upper() + note[1:] + ".", f.NOTE)
        row += 1
    s.width(1, 22)
    s.width(2, min(max(len(data.store_path), 26) + 2, 90))
    s.width(3, 100)
    return s.build()


# ---- Allocation -----------------------------------------------------------------------------


def _allocation_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = SheetDraft(ALLOCATION, landscape=True)
    refs: dict[str, str] = {}
    s.put(1, 1, f"Allocation by owner: {_month_text(data.month)}", f.TITLE)
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
    s.put(total, 1, "Total", f.MONTH_TOTAL)
    for c in range(2, billed_col + 1):
        s.put(total, c, Formula(f"=SUM({ref(first, c)}:{ref(last, c)})"), f.MONEY_TOTAL)
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


# ---- Accruals -------------------------------------------------------------------------------

_ACCRUAL_HEADER = ("Owner", "Cost center", "Service category", "Account", "Actual to date", "Projected",
                   "Fixed fees", "Invoiced", "Estimate", "Accrual", "Post key")


def _accruals_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = SheetDraft(ACCRUALS, landscape=True)
    a = data.accrual
    cur = data.currency
    refs: dict[str, str] = {}
    s.put(1, 1, f"Accrual of unbilled cost: {_month_text(data.month)}", f.TITLE)
    row = _notes(s, 2, (
        (f"Cut-off {a.cutoff.isoformat()}: {a.days_missing} day(s) projected by {a.method}; {a.metric} in {cur}; "
         f"owners from {a.owner_source}."),
        f"Basis: {a.basis}.",
        "Estimate = actual to date + projected + fixed fees; accrual = estimate − invoiced (finops_xl.close.accruals).",
        ("Amounts are exact; the entry rounds each cost center × account to the cent so its lines add up to the "
         "rounded total.")))
    total_accrual = a.total("accrual", cur) if a.lines else Decimal(0)
    if not total_accrual:
        row = _notes(s, row, (_nothing_to_accrue(data),), f.NOTE.but(bold=True))
    head = row + 1
    posts = _post_keys(data)
    first = head + 1
    for i, line in enumerate(a.lines):
        r = first + i
        s.put_row(r, 1, _text(line.owner, line.cost_center, line.service_category or "(none)", line.account))
        s.put_row(r, 5, (line.actual_to_date, line.projected, line.fixed_fees, line.invoiced), f.MONEY)
        s.put(r, 9, Formula(f"=E{r}+F{r}+G{r}"), f.MONEY)
        s.put(r, 10, Formula(f"=I{r}-H{r}"), f.MONEY_TOTAL)
        s.put(r, 11, posts[(line.cost_center, line.account)], f.KEY)
    last = max(first, first + len(a.lines) - 1)
    if a.lines:
        s.table(Table(ACCRUAL_TABLE, f"A{head}:{ref(last, len(_ACCRUAL_HEADER))}", _ACCRUAL_HEADER))
    else:
        s.put_row(head, 1, _ACCRUAL_HEADER, f.HEADER_LEFT)
        s.put(first, 1, "(no accrual lines)", f.NOTE)
    total = last + 2
    s.put(total, 1, "Total", f.MONTH_TOTAL)
    for c in range(5, 11):
        s.put(total, c, Formula(f"=SUM({ref(first, c)}:{ref(last, c)})"), f.MONEY_TOTAL)
    refs["accrual_total"] = ref(total, 10)
    row = total + 2

    if a.fees:
        s.put(row, 1, "Fixed fees accrued (known recurring fees not in the data yet)", _SECTION)
        row += 1
        s.put_row(row, 1, ("Provider", "Sub-account", "Service", "Charge category", "Amount", "Source"),
                  f.HEADER_LEFT)
        for fee in a.fees:
            if fee.currency != cur:
                continue
            row += 1
            s.put_row(row, 1, _text(fee.provider, fee.sub_account, fee.service_name, fee.charge_category))
            s.put(row, 5, fee.amount, f.MONEY)
            s.put(row, 6, fee.source)
        row += 2

    # the accrual entry against the table
    entry = next((e for e in data.accrual_entries if e.kind == "accrual"), None)
    reversal = next((e for e in data.accrual_entries if e.kind == "reversal"), None)
    title = (f"Accrual entry {entry.id} on {entry.date.isoformat()}" if entry is not None
             else "Accrual entry: none (nothing to accrue)")
    if entry is not None and reversal is not None:
        title += f", reversed by {reversal.id} on {reversal.date.isoformat()} (Journal sheet)"
    s.put(row, 1, title, _SECTION)
    s.put(row + 1, 1, "Each expense line is the accrual of its cost center × account (SUMIFS of the table on "
                      "the post key), rounded to the cent; the liability line is their total.", f.NOTE)
    ehead = row + 2
    s.put_row(ehead, 1, ("Account", "Cost center", "Post key"), f.HEADER_LEFT)
    s.put_row(ehead, 4, ("Debit", "Credit", "Net (Dr − Cr)", "Unrounded accrual", "Rounding"), f.HEADER)
    efirst = ehead + 1
    lines = entry.lines if entry is not None else ()
    accrual_col = _col(ACCRUAL_TABLE, "Accrual")
    for i, line in enumerate(lines):
        r = efirst + i
        s.put_row(r, 1, _text(line.account, line.cost_center))
        s.put_row(r, 4, (line.debit, line.credit), f.MONEY)
        s.put(r, 6, Formula(f"=D{r}-E{r}"), f.MONEY)
        key = posts.get((line.cost_center, line.account))
        if line.account == a.liability_account and not line.cost_center:
            s.put(r, 3, "liability", _KEY_LEFT)
            s.put(r, 7, Formula(f"=-SUM({accrual_col})"), f.MONEY)
        else:
            s.put(r, 3, key, f.KEY)
            s.put(r, 7, Formula(f"=SUMIFS({accrual_col},{_col(ACCRUAL_TABLE, 'Post key')},C{r})"), f.MONEY)
        s.put(r, 8, Formula(f"=F{r}-G{r}"), _SUB_CENT)
    elast = max(efirst, efirst + len(lines) - 1)
    if not lines:
        s.put(efirst, 1, "(no lines)", f.NOTE)
    etotal = elast + 1
    s.put(etotal, 1, "Total", f.MONTH_TOTAL)
    for c in range(4, 9):
        s.put(etotal, c, Formula(f"=SUM({ref(efirst, c)}:{ref(elast, c)})"),
              _SUB_CENT if c == 8 else f.MONEY_TOTAL)
    s.put(etotal + 1, 1, "Σ debits − Σ credits (0 when the entry balances)", f.NOTE)
    s.put(etotal + 1, 4, Formula(f"=D{etotal}-E{etotal}"), f.MONEY)
    s.put(etotal + 2, 1, "Check: the accrual entry balances", _CHECK_LABEL)
    s.put(etotal + 2, 4, _check(f"ABS(D{etotal + 1})"), _CHECK)
    refs["check"] = ref(etotal + 2, 4)
    refs["posted"] = ref(etotal, 4)
    row = etotal + 4

    t = data.true_up
    if t is not None:
        s.put(row, 1, f"True-up against the final data (on {t.on.isoformat()})", _SECTION)
        s.put(row + 1, 1, "accrued = expense recognized at the close (invoiced + accrual); true-up = actual − "
                          "accrued; accuracy error = |true-up| ÷ |actual|. With the auto-reversing accrual "
                          "the reversal and the booked invoice carry it: nothing more to post.", f.NOTE)
        thead = row + 2
        s.put_row(thead, 1, ("Cost center", "Account"), f.HEADER_LEFT)
        s.put_row(thead, 3, ("Accrued", "Actual", "True-up", "Accuracy error"), f.HEADER)
        tfirst = thead + 1
        tlines = [l for l in t.lines if l.currency == cur]
        for i, line in enumerate(tlines):
            r = tfirst + i
            s.put_row(r, 1, (line.cost_center, line.account))
            s.put_row(r, 3, (line.accrued, line.actual), f.MONEY)
            s.put(r, 5, Formula(f"=D{r}-C{r}"), f.MONEY_TOTAL)
            s.put(r, 6, Formula(f'=IF(D{r}=0,"",ABS(E{r})/ABS(D{r}))'), _RATIO)
        tlast = max(tfirst, tfirst + len(tlines) - 1)
        ttotal = tlast + 1
        s.put(ttotal, 1, "Total", f.MONTH_TOTAL)
        for c in (3, 4, 5):
            s.put(ttotal, c, Formula(f"=SUM({ref(tfirst, c)}:{ref(tlast, c)})"), f.MONEY_TOTAL)
        s.put(ttotal, 6, Formula(f'=IF(D{ttotal}=0,"",ABS(E{ttotal})/ABS(D{ttotal}))'), _RATIO_TOTAL)

    for c, w in enumerate((20, 26, 26, 24, 15, 14, 13, 15, 15, 15, 9), start=1):
        s.width(c, w)
    s.fit_height(ehead, range(1, 9))
    s.freeze = f"A{first}"
    return s.build(), refs


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


def _post_keys(data: CloseData) -> dict[tuple[str, str], int]:
    """(cost center, account) → its posting key, in the accrual lines' order."""
    keys: dict[tuple[str, str], int] = {}
    for line in data.accrual.lines:
        keys.setdefault((line.cost_center, line.account), len(keys) + 1)
    return keys


# ---- Prepaid --------------------------------------------------------------------------------

_COMMITMENT_HEADER = ("#", "Commitment", "Provider", "Type", "Start", "Term (months)", "Upfront",
                      "First month", "Term end", "Term days", "Recurring monthly",
                      "Amortized over the term", "Max |native − finops_xl|")
_ROLL_HEADER = ("Month", "Opening", "Purchases", "Transfers", "Amortization", "Write-offs", "Closing",
                "Non-current", "Current", "finops_xl closing", "Difference")
_SCHEDULE_HEADER = ("Month", "n", "Days of term", "Share in minor units", "Opening", "Purchases",
                    "Amortization", "Closing", "Non-current", "Current", "finops_xl amortization",
                    "Difference")


def _prepaid_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = SheetDraft(PREPAID, landscape=True)
    refs: dict[str, str] = {}
    s.put(1, 1, f"Prepaid commitments: {_month_text(data.month)}", f.TITLE)
    row = _notes(s, 2, (
        ("Inputs (yellow): each commitment's start, term and upfront (finops_xl.close.amortization."
         "commitments_from_store)."),
        ("Each schedule recomputes daily straight-line amortization from its inputs in native formulas, beside "
         "finops_xl's schedule."),
        ("Rounding: finops_xl rounds half-even (a half cent to the even cent); Excel's ROUND rounds a half cent "
         "away from zero."),
        ("So each month takes its share in cents (upfront in cents × days ÷ term days: a tie is exactly .5), "
         "rounds it with ROUND"),
        ("and takes the cent back on a tie above an even cent. The last month takes the rest, so the months add "
         "up to the upfront."),
        "Non-current: the balance still carried 12 months after the month end; current = closing − non-current."))
    check_row = row + 1
    s.put(check_row, 1, "Check: native schedules = finops_xl schedules", _CHECK_LABEL)
    s.put(check_row + 1, 1, "Check: roll-forward = finops_xl roll-forward", _CHECK_LABEL)

    # the commitments (inputs)
    chead = check_row + 4
    s.put(chead - 1, 1, f"Commitments in {data.currency}", _SECTION)
    s.put_row(chead, 1, _COMMITMENT_HEADER[:4], f.HEADER_LEFT)
    s.put_row(chead, 5, _COMMITMENT_HEADER[4:], f.HEADER)
    cfirst = chead + 1
    crow = {}
    for i, c in enumerate(data.commitments):
        r = cfirst + i
        crow[c.id] = r
        s.put(r, 1, i + 1, f.KEY.but(align="left"))
        s.put_row(r, 2, _text(c.id, c.provider, c.type))
        s.put(r, 5, c.start, _INPUT_DATE)
        s.put(r, 6, c.term_months, f.INPUT)
        s.put(r, 7, c.upfront, _INPUT_MONEY)
        s.put(r, 8, Formula(f"=EOMONTH(E{r},-1)+1"), f.MONTH_CELL)
        s.put(r, 9, Formula(f"=EDATE(E{r},F{r})"), _DATE)
        s.put(r, 10, Formula(f"=I{r}-E{r}"), PLAIN)
        s.put(r, 11, c.recurring_monthly, f.MONEY)
    clast = cfirst + max(len(data.commitments), 1) - 1
    if not data.commitments:
        s.put(cfirst, 2, "(no commitments in the store)", f.NOTE)

    # the roll-forward
    rhead = clast + 3
    s.put(rhead - 1, 1, "Roll-forward: opening + purchases + transfers − amortization − write-offs = closing "
                        "(SUMIFS over the schedules below on the month)", _SECTION)
    s.put(rhead, 1, _ROLL_HEADER[0], f.HEADER_LEFT)
    s.put_row(rhead, 2, _ROLL_HEADER[1:], f.HEADER)
    rfirst = rhead + 1
    rlast = rfirst + max(len(data.roll_forward), 1) - 1

    # the schedules' area (needed by the roll-forward's SUMIFS)
    schedules = data.amortizing
    sstart = rlast + 3
    blocks = []
    row = sstart
    for s_ in schedules:
        blocks.append((s_, row))
        row += 3 + len(s_.periods) + 2
    send = max(sstart, row - 2)

    def area(col: str) -> str:
        return f"${col}${sstart}:${col}${send}"


    for i, rf in enumerate(data.roll_forward):
        r = rfirst + i
        s.put(r, 1, rf.month, f.MONTH_CELL.but(bold=rf.month == data.month))
        if i == 0:
            s.put(r, 2, Formula(f"=SUMIFS({area('E')},{area('A')},A{r})"), f.MONEY)
        else:
            s.put(r, 2, Formula(f"=G{r - 1}"), f.MONEY)
        s.put(r, 3, Formula(f"=SUMIFS({area('F')},{area('A')},A{r})"), f.MONEY)
        s.put(r, 4, rf.transfers, f.MONEY)
        s.put(r, 5, Formula(f"=SUMIFS({area('G')},{area('A')},A{r})"), f.MONEY)
        s.put(r, 6, rf.write_offs, f.MONEY)
        s.put(r, 7, Formula(f"=ROUND(B{r}+C{r}+D{r}-E{r}-F{r},CurrencyDecimals)"), f.MONEY_TOTAL)
        s.put(r, 8, Formula(f"=SUMIFS({area('I')},{area('A')},A{r})"), f.MONEY)
        s.put(r, 9, Formula(f"=ROUND(G{r}-H{r},CurrencyDecimals)"), f.MONEY)
        s.put(r, 10, rf.closing, f.MONEY)
        s.put(r, 11, Formula(f"=G{r}-J{r}"), f.MONEY)
    if not data.roll_forward:
        s.put(rfirst, 2, "(no prepaid balance up to this month)", f.NOTE)
    refs |= {"rf_months": f"$A${rfirst}:$A${rlast}", "rf_amortization": f"$E${rfirst}:$E${rlast}",
             "rf_closing": f"$G${rfirst}:$G${rlast}", "rf_current": f"$I${rfirst}:$I${rlast}"}
    s.put(check_row + 1, 5, _check(_largest(f"K{rfirst}:K{rlast}")), _CHECK)
    refs["rf_check"] = ref(check_row + 1, 5)

    # one schedule per commitment with an upfront
    if not schedules:
        s.put(sstart, 1, "No commitment has an upfront: there is nothing to amortize.", f.NOTE)
    for k, (sch, top) in enumerate(blocks, start=1):
        c = sch.commitment
        cr = crow[c.id]
        s.put(top, 1, f"Schedule {k}", _SECTION)
        s.put(top, 2, c.id, f.LABEL)
        s.put(top + 1, 1, f"Inputs from row {cr} above: start E{cr}, term F{cr}, upfront G{cr}; first month "
                          f"H{cr}, term end I{cr}, term days J{cr}.", f.NOTE)
        head = top + 2
        s.put(head, 1, _SCHEDULE_HEADER[0], f.HEADER_LEFT)
        s.put_row(head, 2, _SCHEDULE_HEADER[1:], f.HEADER)
        first = head + 1
        last = first + len(sch.periods) - 1
        upfront, start, end, days = f"$G${cr}", f"$E${cr}", f"$I${cr}", f"$J${cr}"
        for n, p in enumerate(sch.periods):
            r = first + n
            s.put(r, 1, Formula(f"=EDATE($H${cr},B{r})"), f.MONTH_CELL)
            s.put(r, 2, n, f.KEY)
            s.put(r, 3, Formula(f"=MAX(0,MIN(EOMONTH(A{r},0)+1,{end})-MAX(A{r},{start}))"), PLAIN)
            s.put(r, 4, Formula(f"=ROUND({upfront}*MinorUnits,0)*C{r}/{days}"), _CENTS)
            s.put(r, 5, Decimal(0) if n == 0 else Formula(f"=H{r - 1}"), f.MONEY)
            s.put(r, 6, Formula(f"=IF(B{r}=0,{upfront},0)"), f.MONEY)
            left = upfront if n == 0 else f"{upfront}-SUM(G${first}:G{r - 1})"
            if r == last:
                amount = f"=ROUND({left},CurrencyDecimals)"
            else:
                half_even = (f"(ROUND(D{r},0)-IF(AND(D{r}-INT(D{r})=0.5,MOD(INT(D{r}),2)=0),1,0))"
                             f"/MinorUnits")
                amount = f"=MIN({half_even},ROUND({left},CurrencyDecimals))"
            s.put(r, 7, Formula(amount), f.MONEY_TOTAL)
            s.put(r, 8, Formula(f"=ROUND(E{r}+F{r}-G{r},CurrencyDecimals)"), f.MONEY)
            s.put(r, 9, Formula(f"=SUMIFS($H${first}:$H${last},$A${first}:$A${last},EDATE(A{r},12))"), f.MONEY)
            s.put(r, 10, Formula(f"=ROUND(H{r}-I{r},CurrencyDecimals)"), f.MONEY)
            s.put(r, 11, p.amortization, f.MONEY)
            s.put(r, 12, Formula(f"=G{r}-K{r}"), f.MONEY)
        total = last + 1
        s.put(total, 1, "Term total", f.MONTH_TOTAL)
        for col in (3, 4, 6, 7, 11, 12):
            s.put(total, col, Formula(f"=SUM({ref(first, col)}:{ref(last, col)})"),
                  PLAIN.but(bold=True) if col == 3 else _CENTS.but(bold=True) if col == 4 else f.MONEY_TOTAL)
        s.put(cr, 12, Formula(f"=G{total}"), f.MONEY)
        s.put(cr, 13, Formula(f"={_largest(f'L{first}:L{last}')}"), f.MONEY)
    s.put(check_row, 5, _check(_largest(f"M{cfirst}:M{clast}")), _CHECK)
    refs["schedule_check"] = ref(check_row, 5)

    widths = (12, 36, 13, 16, 13, 13, 14, 13, 13, 12, 14, 15, 15)
    for c, w in enumerate(widths, start=1):
        s.width(c, w)
    s.fit_height(chead, range(1, len(_COMMITMENT_HEADER) + 1))
    s.fit_height(rhead, range(1, len(_ROLL_HEADER) + 1))
    for _, top in blocks:
        s.fit_height(top + 2, range(1, len(_SCHEDULE_HEADER) + 1))
    return s.build(), refs


# ---- Reconciliation -------------------------------------------------------------------------

_INVOICE_HEADER = ("Invoice", "Rows in store", "Invoice amount", "Amount in {cur}", "Σ BilledCost of its rows",
                   "Issued by, for, in")
_ITEMS_HEADER = ("Category", "Category key", "Amount", "Rows", "Invoice", "Description", "Source rows (SQL)")
#: Excel holds at most this many characters in a cell.
_CELL_LIMIT = 32_767


def category_key(category: str) -> int:
    """A reconciling-item category's numeric key (its place in the statement)."""
    return CATEGORIES.index(category) + 1


def _reconciliation_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = SheetDraft(RECONCILIATION, landscape=True)
    for c, w in enumerate((30, 13, 16, 16, 18, 40, 75), start=1):
        s.width(c, w)
    r_ = data.reconciliation
    labels = category_labels(r_)
    cur = data.currency
    refs: dict[str, str] = {}
    s.put(1, 1, f"Invoice reconciliation: {_month_text(data.month)} ({cur})", f.TITLE)
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
    last = max(first, first + len(r_.invoices) - 1)
    if not r_.invoices:
        s.put(first, 1, "(no invoices for this month)", f.NOTE)
    total = last + 1
    s.put(total, 1, "Invoice total", f.MONTH_TOTAL)
    s.put(total, 2, Formula(f"=SUM(B{first}:B{last})"), integer.but(bold=True))
    s.put(total, 4, Formula(f"=SUM(D{first}:D{last})"), f.MONEY_TOTAL)
    s.put(total, 5, Formula(f"=SUM(E{first}:E{last})"), f.MONEY_TOTAL)
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


def _variance_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = SheetDraft(VARIANCE, landscape=True)
    refs: dict[str, str] = {}
    s.width(1, 58 if data.variance is None else 40)
    s.width(2, 22)
    for c in range(3, 14):
        s.width(c, 14)
    s.put(1, 1, f"Variance: {_month_text(data.month)}", f.TITLE)
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
        last = max(first, first + len(report.lines) - 1)
        if not report.lines:
            s.put(first, 1, "(no budget or cost this month)", f.NOTE)
        total = last + 1
        s.put(total, 1, "Total", f.MONTH_TOTAL)
        for c in (3, 4, 5):
            s.put(total, c, Formula(f"=SUM({ref(first, c)}:{ref(last, c)})"), f.MONEY_TOTAL)
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
        s.put(total, 1, "Total", f.MONTH_TOTAL)
        for c in (2, 3, 4):
            s.put(total, c, Formula(f"=SUM({ref(first, c)}:{ref(last, c)})"), f.MONEY_TOTAL)
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


# ---- Journal --------------------------------------------------------------------------------

_JOURNAL_HEADER = ("Entry key", "Entry", "Date", "Kind", "Account", "Cost center", "Debit", "Credit",
                   "Currency", "Reverses on", "Memo", "Source")


def _journal_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = SheetDraft(JOURNAL, landscape=True)
    refs: dict[str, str] = {}
    entries = data.entries
    s.put(1, 1, f"Journal entries: {_month_text(data.month)}", f.TITLE)
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
    last = max(first, first + len(entries) - 1)
    if not entries:
        s.put(first, 2, "(no entries this month)", f.NOTE)
    total = last + 1
    s.put(total, 2, "Total", f.MONTH_TOTAL)
    for c in (5, 6, 7):
        s.put(total, c, Formula(f"=SUM({ref(first, c)}:{ref(last, c)})"), f.MONEY_TOTAL)
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


def _summary_sheet(data: CloseData, alloc: dict, accr: dict, prepaid: dict, recon: dict, var: dict,
                   journal: dict) -> Sheet:
    s = SheetDraft(SUMMARY, landscape=True)
    r_ = data.reconciliation
    labels = category_labels(r_)
    separated = ", ".join(labels[c].lower() for c in r_.separate)
    cur = data.currency
    s.put(1, 1, f"Monthly close: {_month_text(data.month)}", f.TITLE)
    s.put(2, 1, f"Stage: {_STAGE_TEXT.get(data.stage, data.stage)}.", f.NOTE)
    total_accrual = data.accrual.total("accrual", cur) if data.accrual.lines else Decimal(0)
    if total_accrual:
        s.put(3, 1, f"Cut-off {data.accrual.cutoff.isoformat()}: {data.accrual.days_missing} day(s) projected "
                    f"({data.accrual.method}); the Accruals sheet holds the lines and the entry.", f.NOTE)
    else:
        s.put(3, 1, _nothing_to_accrue(data), f.NOTE.but(bold=True))

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
