"""The close workbook's Accruals sheet: the accrual lines, each accrual entry against them, and
the true-up once the month is final (``close``)."""

from __future__ import annotations

from decimal import Decimal

from finops_workbooks import formats as f
from finops_workbooks.close_common import (
    ACCRUALS,
    ACCRUAL_TABLE,
    NOT_OK,
    OK,
    _CHECK,
    _CHECK_LABEL,
    _KEY_LEFT,
    _RATIO,
    _RATIO_TOTAL,
    _SECTION,
    _SUB_CENT,
    _check,
    _col,
    _last_row,
    _month_text,
    _notes,
    _nothing_to_accrue,
    _text,
    _total_row,
)
from finops_workbooks.close_signoff import sheet_title as _title
from finops_workbooks.draft import SheetDraft, start_sheet
from finops_workbooks.model import Formula, Sheet, Table, ref
from finops_xl.close.gather import CloseData


# ---- Accruals -------------------------------------------------------------------------------

_ACCRUAL_HEADER = ("Owner", "Cost center", "Service category", "Account", "Actual to date", "Projected",
                   "Fixed fees", "Invoiced", "Estimate", "Accrual", "Post key")


def accruals_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = start_sheet(ACCRUALS, _title(data, f"Accrual of unbilled cost: {_month_text(data.month)}"))
    a = data.accrual
    cur = data.currency
    refs: dict[str, str] = {}
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
        if data.reporting is not None:
            s.put(r, 12, data.reporting.line_currencies[i])
    last = max(first, first + len(a.lines) - 1)
    header = _ACCRUAL_HEADER + (("Billed in",) if data.reporting is not None else ())
    if a.lines:
        s.table(Table(ACCRUAL_TABLE, f"A{head}:{ref(last, len(header))}", header))
    else:
        s.put_row(head, 1, header, f.HEADER_LEFT)
        s.put(first, 1, "(no accrual lines)", f.NOTE)
    total = last + 2
    _total_row(s, total, first, last, range(5, 11))
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

    # the accrual entries against the table (one per billing currency in a reporting currency)
    accruals = [e for e in data.accrual_entries if e.kind == "accrual"] or [None]
    checks, posted = [], []
    for entry in accruals:
        row, check, debits = _accrual_entry(s, data, entry, row, posts)
        checks.append(check)
        posted.append(debits)
    if len(checks) > 1:
        s.put(row - 1, 1, "Check: every accrual entry balances", _CHECK_LABEL)
        s.put(row - 1, 4, Formula("=IF(AND(" + ",".join(f'{c}="{OK}"' for c in checks) + f'),"{OK}","{NOT_OK}")'),
              _CHECK)
        refs["check"] = ref(row - 1, 4)
        row += 1
    else:
        refs["check"] = checks[0]
    refs["posted"] = posted[0] if len(posted) == 1 else None
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
        _total_row(s, ttotal, tfirst, tlast, (3, 4, 5))
        s.put(ttotal, 6, Formula(f'=IF(D{ttotal}=0,"",ABS(E{ttotal})/ABS(D{ttotal}))'), _RATIO_TOTAL)

    for c, w in enumerate((20, 26, 26, 24, 15, 14, 13, 15, 15, 15, 9), start=1):
        s.width(c, w)
    s.freeze = f"A{first}"
    return s.build(), refs


def _accrual_entry(s: SheetDraft, data: CloseData, entry, row: int, posts) -> tuple[int, str, str]:
    """One accrual entry beside the AccrualLines table (from ``row``): next row, check, Σ debits."""
    a = data.accrual
    billed_in = _billed_in(data, entry)
    reversal = None if entry is None else next(
        (e for e in data.accrual_entries if e.kind == "reversal" and e.id == f"{entry.id}-REV"),
        next((e for e in data.accrual_entries if e.kind == "reversal"), None))
    title = (f"Accrual entry {entry.id} on {entry.date.isoformat()}" if entry is not None
             else "Accrual entry: none (nothing to accrue)")
    if entry is not None and reversal is not None:
        title += f", reversed by {reversal.id} on {reversal.date.isoformat()} (Journal sheet)"
    s.put(row, 1, title, _SECTION)
    note = ("Each expense line is the accrual of its cost center × account (SUMIFS of the table on "
            "the post key), rounded to the cent; the liability line is their total.")
    translated = bool(billed_in) and billed_in != data.currency
    if billed_in and not translated:
        note = (f"Billed in {billed_in}, the reporting currency (not translated): each expense line is the "
                "accrual of its cost center × account (SUMIFS of the table on the post key and the billing "
                "currency), rounded to the cent; the liability line is their total.")
    elif translated:
        note = (f"Billed in {billed_in}: each expense line is the accrual of its cost center × account at the "
                "average rate (SUMIFS of the table on the post key and the billing currency), rounded to the "
                "cent; the liability line is at the closing rate, the difference on the translation line.")
    s.put(row + 1, 1, note, f.NOTE)
    ehead = row + 2
    s.put_row(ehead, 1, ("Account", "Cost center", "Post key"), f.HEADER_LEFT)
    s.put_row(ehead, 4, ("Debit", "Credit", "Net (Dr − Cr)", "Unrounded accrual", "Rounding"), f.HEADER)
    s.fit_height(ehead, range(1, 9))
    efirst = ehead + 1
    lines = entry.lines if entry is not None else ()
    accrual_col = _col(ACCRUAL_TABLE, "Accrual")
    also = f',{_col(ACCRUAL_TABLE, "Billed in")},"{billed_in}"' if billed_in else ""
    for i, line in enumerate(lines):
        r = efirst + i
        s.put_row(r, 1, _text(line.account, line.cost_center))
        s.put_row(r, 4, (line.debit, line.credit), f.MONEY)
        s.put(r, 6, Formula(f"=D{r}-E{r}"), f.MONEY)
        key = posts.get((line.cost_center, line.account))
        if line.account == a.liability_account and not line.cost_center:
            s.put(r, 3, "liability", _KEY_LEFT)
            if translated:
                s.put(r, 7, f"closing rate × {billed_in} accrual", f.NOTE)
            elif billed_in:
                s.put(r, 7, Formula(f'=-SUMIFS({accrual_col},{_col(ACCRUAL_TABLE, "Billed in")},"{billed_in}")'),
                      f.MONEY)
            else:
                s.put(r, 7, Formula(f"=-SUM({accrual_col})"), f.MONEY)
        elif translated and line.account == data.ledger.fx_difference:  # the translation difference
            s.put(r, 3, "translation", _KEY_LEFT)
            s.put(r, 7, "average − closing rate", f.NOTE)
        else:
            s.put(r, 3, key, f.KEY)
            s.put(r, 7, Formula(f"=SUMIFS({accrual_col},{_col(ACCRUAL_TABLE, 'Post key')},C{r}{also})"), f.MONEY)
        if not translated or line.account not in (a.liability_account, data.ledger.fx_difference):
            s.put(r, 8, Formula(f"=F{r}-G{r}"), _SUB_CENT)
    elast = _last_row(s, efirst, len(lines), "(no lines)")
    etotal = elast + 1
    _total_row(s, etotal, efirst, elast, range(4, 7 if translated else 9),
               style=lambda c: _SUB_CENT if c == 8 else f.MONEY_TOTAL)
    s.put(etotal + 1, 1, "Σ debits − Σ credits (0 when the entry balances)", f.NOTE)
    s.put(etotal + 1, 4, Formula(f"=D{etotal}-E{etotal}"), f.MONEY)
    s.put(etotal + 2, 1, "Check: the accrual entry balances", _CHECK_LABEL)
    s.put(etotal + 2, 4, _check(f"ABS(D{etotal + 1})"), _CHECK)
    return etotal + 4, ref(etotal + 2, 4), ref(etotal, 4)


def _billed_in(data: CloseData, entry) -> str:
    """The billing currency an accrual entry was translated from ('' outside a reporting currency)."""
    if data.reporting is None or entry is None:
        return ""
    return dict(data.reporting.entry_currencies).get(entry.id, "")


def _post_keys(data: CloseData) -> dict[tuple[str, str], int]:
    """(cost center, account) → its posting key, in the accrual lines' order."""
    keys: dict[tuple[str, str], int] = {}
    for line in data.accrual.lines:
        keys.setdefault((line.cost_center, line.account), len(keys) + 1)
    return keys
