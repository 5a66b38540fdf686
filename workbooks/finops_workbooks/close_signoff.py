"""The close workbook's Sign-off sheet (preparer, reviewer, dates, the versions the close reflects, and
the checklist of close tasks with their status) and its Ledger map sheet (the GL account and
cost-center map, editable, in the ``--ledger`` CSV's layout).

Checklist statuses are native formulas where a sheet holds the check (``=IF(<check>="✓","Done",
"Open")``), so a changed input reopens the task; facts known only when the workbook is built (the
data's cut-off, the allocation, the accrual run) are written as text. The sign-off itself reads
"Signed off" only when every task is Done and a reviewer and review date are filled in.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from finops_workbooks import formats as f
from finops_workbooks.draft import SheetDraft, start_sheet
from finops_workbooks.model import Formula, Sheet, Style, quote_sheet
from finops_xl import __version__
from finops_xl.close.journal import LedgerMap
from finops_xl.money import format_money

SIGNOFF, LEDGER = "Sign-off", "Ledger map"
_INPUT_TEXT = f.INPUT
_INPUT_DATE = f.INPUT.but(number_format=f.DATE, align="left")
_STATUS = Style(bold=True, align="center")


def sheet_title(data, text: str) -> str:
    """A sheet's title; in a reporting currency it says so, and which rates file translated it."""
    if getattr(data, "reporting", None) is None:
        return text
    return f"{text} — in {data.currency}, translated at the rates of {data.reporting.source} (Settings)"


def built_from(data) -> str:
    """One line naming the versions the close was built from (store, allocation, lock, finops-xl)."""
    store = getattr(data, "store_version", "") or "a store without versions"
    locked = getattr(data, "locked", "") or "not locked"
    return f"Built from {store}; {locked}; finops-xl {__version__}."


def _adjustments(s: SheetDraft, data, row: int) -> int:
    """The prior-period adjustments the close posts: per locked month, the change by cost center
    and account, and what changed since the lock (slices, loads, the files and their rows)."""
    adjustments = getattr(data, "adjustments", ())
    if not adjustments:
        return row
    s.put(row, 1, "Prior-period adjustments posted this month (Journal: kind prior_period_adjustment)",
          f.HEADER_LEFT)
    s.put(row, 2, None, f.HEADER)
    s.put(row, 3, None, f.HEADER)
    for adj in adjustments:
        for cur in sorted({k[0] for k in adj.changes}):
            total = sum((v for k, v in adj.changes.items() if k[0] == cur), Decimal(0))
            row += 1
            s.put(row, 1, f"Locked {adj.month:%Y-%m}: {cur} {format_money(total, cur)}", f.LABEL)
            for (c, cc, acct), v in adj.changes.items():
                if c == cur:
                    row += 1
                    s.put(row, 1, f"  {cc}  {acct}")
                    s.put(row, 2, f"{format_money(v, cur)} {cur}")
        for why in adj.slices:
            row += 1
            s.put(row, 1, f"  changed since the lock: {why}", f.NOTE)
    return row + 1


def _done(check_at: str, ok: str) -> Formula:
    return Formula(f'=IF({check_at}="{ok}","Done","Open")')


def signoff_sheet(data, checks: list[tuple[str, str]], ok: str) -> Sheet:
    """``checks``: (task, cell reference of a ✓/✗ check, sheet-qualified)."""
    s = start_sheet(SIGNOFF,
                    sheet_title(data, f"Close sign-off: {data.month:%B %Y}"),
                    "Fill in the yellow cells. The close is signed off when every task is Done and the "
                    "reviewer has signed.")
    rows = (("Preparer", None, _INPUT_TEXT), ("Prepared on", None, _INPUT_DATE),
            ("Reviewer", None, _INPUT_TEXT), ("Reviewed on", None, _INPUT_DATE))
    for i, (label, value, style) in enumerate(rows):
        s.put(4 + i, 1, label, f.LABEL)
        s.put(4 + i, 2, value, style)
    a = data.accrual
    versions = (
        ("Cost store", data.store_path),
        ("Stage", data.stage),
        ("Accrual cut-off", a.cutoff.isoformat()),
        ("Store version", getattr(data, "store_version", "") or "not recorded (the store has no versions)"),
        ("Allocation", "current (allocated after the last load)" if data.owners else "none"),
        ("Locked", getattr(data, "locked", "") or "not locked"),
        ("finops-xl", __version__),
    )
    s.put(9, 1, "Versions this close reflects", f.HEADER_LEFT)
    s.put(9, 2, None, f.HEADER)
    for i, (label, value) in enumerate(versions):
        s.put(10 + i, 1, label, f.LABEL)
        s.put(10 + i, 2, value)
    head = 10 + len(versions) + 1
    s.put_row(head, 1, ("Close task", "Status", "Where"), f.HEADER_LEFT)
    tasks: list[tuple[str, object, str]] = [
        ("Data loaded through month end", "Done" if a.days_missing == 0 else f"Open ({a.days_missing} day(s) projected)",
         "Settings: Cut-off"),
        ("Allocation run on the current data", "Done" if data.owners else "Open", "Allocation sheet"),
        ("Accrual computed and kept (every run)", "Done" if data.stage in ("accrual", "true-up", "final") else "Open",
         "Accruals sheet"),
        ("Invoice tie-out: difference 0", "Done" if data.reconciliation.ties else "Open", "Summary sheet"),
    ]
    tasks += [(task, _done(at, ok), at.split("!")[0].strip("'")) for task, at in checks]
    tasks.append(("Journal exported to the ERP (finops-xl close --journal)", "Open", "ERP"))
    first = head + 1
    for i, (task, status, where) in enumerate(tasks):
        s.put(first + i, 1, task)
        s.put(first + i, 2, status, _STATUS)
        s.put(first + i, 3, where, f.NOTE)
    last = first + len(tasks) - 1
    s.put(last + 1, 1, "Review (reviewer and date filled in)")
    s.put(last + 1, 2, Formula('=IF(AND(B6<>"",B7<>""),"Done","Open")'), _STATUS)
    s.put(last + 3, 1, "Close signed off", f.LABEL)
    every = ",".join(f'B{r}="Done"' for r in range(first, last + 2))
    s.put(last + 3, 2, Formula(f'=IF(AND({every}),"Signed off","Not yet")'), _STATUS)
    _adjustments(s, data, last + 5)
    s.width(1, 58)
    s.width(2, 40)
    s.width(3, 30)
    return s.build()


def ledger_sheet(ledger: LedgerMap) -> Sheet:
    """The ledger map as ``kind, key, value`` rows (save as CSV for ``finops-xl close --ledger``)."""
    s = start_sheet(LEDGER,
                    "Ledger map: where the close posts",
                    "Edit the yellow values, then save this sheet as CSV (kind,key,value) and pass it to "
                    "finops-xl close --ledger.",
                    landscape=False)
    s.put_row(3, 1, ("kind", "key", "value"), f.HEADER_LEFT)
    row = 4
    rows = [("cost_center", k, v) for k, v in sorted(ledger.cost_centers.items())]
    rows += [("account", k, v) for k, v in sorted(ledger.expense_accounts.items())]
    skip = {"cost_centers", "expense_accounts"}
    rows += [("default", fld.name, getattr(ledger, fld.name)) for fld in dataclasses.fields(ledger)
             if fld.name not in skip]
    for kind, key, value in rows:
        s.put_row(row, 1, (kind, key))
        s.put(row, 3, str(value), _INPUT_TEXT)
        row += 1
    s.width(1, 14)
    s.width(2, 30)
    s.width(3, 48)
    return s.build()


def sheet_ref(sheet: str, at: str) -> str:
    return f"{quote_sheet(sheet)}!{at}"


CAPITALIZATION = "Capitalization"


def capitalization_sheet(data) -> Sheet:
    """Per project and month: the stage, capitalized and amortized amounts and the net book value
    (``finops_xl.close.capitalization.project_report``; values, as the journal posts them)."""
    s = start_sheet(CAPITALIZATION,
                    sheet_title(data, f"Capitalized software: projects through {data.month:%B %Y}"),
                    "ASC 350-40 / IAS 38: development-stage cost moves to assets under construction; once in "
                    "service the asset is amortized straight-line (first month pro rata to its days in service).")
    s.put_row(4, 1, ("Project", "Month", "Stage"), f.HEADER_LEFT)
    s.put_row(4, 4, ("Capitalized", "Amortized", "Net book value"), f.HEADER)
    row = 4
    for r in data.capitalization:
        row += 1
        s.put(row, 1, r.project)
        s.put(row, 2, r.month, f.MONTH_CELL)
        s.put(row, 3, r.stage)
        s.put_row(row, 4, (r.capitalized, r.amortized, r.net_book_value), f.MONEY)
    s.width(1, 24)
    s.width(2, 12)
    s.width(3, 20)
    for c in (4, 5, 6):
        s.width(c, 16)
    return s.build()
