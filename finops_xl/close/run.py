"""``finops-xl close --month``: the month's close, run as often as the data changes.

- While the month's data is not final (some of its rows still have no InvoiceId — providers fill it
  days after month end): compute the **accrual** (``accruals.accrue``) at the data's cut-off, save it
  beside the store (replacing an earlier one for the month), and produce its journal entries
  (Dr expense / Cr accrued liabilities on the month's last day, auto-reversing on day 1 of the next).
- A month whose data is final at its first run (every row invoiced, no accrual saved): nothing to
  accrue and nothing to true up; the invoice books the month's expense (stage ``final``).
- Once the data is final (every row invoiced): compute the **true-up** against the saved accrual —
  actual − accrued per cost center and GL account, and the accrual accuracy. With the default
  auto-reversing accrual the reversal plus the booked invoice already carry the true-up into the
  next period's expense, so it is reported, not posted again (a ledger that keeps accruals open
  posts ``accruals.true_up_entries`` instead; see the accruals module).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from finops_xl.close.accruals import (
    AccrualResult,
    TrueUp,
    accrual_entries,
    accrue,
    load_accrual,
    save_accrual,
    true_up,
    uninvoiced_rows,
)
from finops_xl.close.journal import Entry, LedgerMap, to_csv
from finops_xl.store.store import CostStore


@dataclasses.dataclass(frozen=True)
class CloseRun:
    """What a close run did.

    Attributes:
      month: the close month.  stage: ``accrual`` (data not final yet), ``true-up`` (final, against
        the saved accrual) or ``final`` (invoiced in full at the first run: nothing to accrue).
      accrual: the accrual (computed now, or the saved one a true-up compares against).
      true_up: the true-up (stage ``true-up`` only).  entries: journal entries produced.
      saved: where the accrual was saved (stage ``accrual``).  journal: the CSV written, if any.
    """

    month: dt.date
    stage: str
    accrual: AccrualResult
    true_up: TrueUp | None
    entries: tuple[Entry, ...]
    saved: Path | None
    journal: Path | None


def run_close(store: CostStore, month: dt.date, *, cutoff: dt.date | None = None,
              method: str = "trailing_7d", ledger: LedgerMap = LedgerMap(),
              journal: Path | None = None) -> CloseRun:
    """Accrue the month, or true it up when its data has become final (see the module docstring)."""
    month = month.replace(day=1)
    with store.reader() as con:
        previous = _saved(store, month)
        if previous is not None and cutoff is None:
            t = true_up(previous, con, ledger=ledger)
            if t.final:
                return CloseRun(month, "true-up", previous, t, (), None, None)
        result = accrue(con, month, cutoff=cutoff, method=method, ledger=ledger)
        final = previous is None and cutoff is None and uninvoiced_rows(con, month) == 0
    if final:  # invoiced in full before any accrual: the invoice books the month, nothing to accrue
        if journal is not None:
            journal.parent.mkdir(parents=True, exist_ok=True)
            journal.write_text(to_csv(()), encoding="utf-8")
        return CloseRun(month, "final", result, None, (), None, journal)
    saved = save_accrual(result, store, overwrite=True)
    entries = accrual_entries(result)
    entries = entries + tuple(e.reversal() for e in entries if e.reverses_on)
    if journal is not None:
        journal.parent.mkdir(parents=True, exist_ok=True)
        journal.write_text(to_csv(entries), encoding="utf-8")
    return CloseRun(month, "accrual", result, None, entries, saved, journal)


def _saved(store: CostStore, month: dt.date) -> AccrualResult | None:
    try:
        return load_accrual(store, month)
    except FileNotFoundError:
        return None
