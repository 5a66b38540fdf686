"""``finops-xl close --month``: the month's close, run as often as the data changes.

- While the month's data is not final (some of its rows still have no InvoiceId — providers fill it
  days after month end): compute the **accrual** (``accruals.accrue``) at the data's cut-off (the
  last complete day, ``accrual_runs.complete_cutoff``), keep it as the month's next run record
  (``accrual_runs``: every run kept, the posted one marked), and produce its journal entries
  (Dr expense / Cr accrued liabilities on the month's last day, auto-reversing on day 1 of the next).
- A month whose data is final at its first run (every row invoiced, no accrual saved): nothing to
  accrue and nothing to true up; the invoice books the month's expense (stage ``final``).
- Once the data is final (every row invoiced): compute the **true-up** against the posted accrual
  (else the latest run) —
  actual − accrued per cost center and GL account, and the accrual accuracy. With the default
  auto-reversing accrual the reversal plus the booked invoice already carry the true-up into the
  next period's expense, so it is reported, not posted again (a ledger that keeps accruals open
  posts ``accruals.true_up_entries`` instead; see the accruals module).

At every stage the journal (``--journal``) holds every entry of the month: the accrual and its
reversal while not final, and the prepaid commitments' purchase, amortization and reclass entries
(``month_entries``), written in the chosen ERP layout (``erp``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from finops_xl.close import accrual_runs
from finops_xl.close.accruals import (
    AccrualResult,
    TrueUp,
    accrual_entries,
    accrue,
    next_month,
    true_up,
    uninvoiced_rows,
)
from finops_xl.close.erp import to_erp_csv
from finops_xl.close.journal import Entry, LedgerMap
from finops_xl.close.month_entries import month_prepaid_entries
from finops_xl.store.store import CostStore


@dataclasses.dataclass(frozen=True)
class CloseRun:
    """What a close run did.

    Attributes:
      month: the close month.  stage: ``accrual`` (data not final yet), ``true-up`` (final, against
        the posted accrual, else the latest run) or ``final`` (invoiced in full at the first run:
        nothing to accrue).
      accrual: the accrual (computed now, or the one a true-up compares against).
      true_up: the true-up (stage ``true-up`` only).  entries: the accrual entries and reversals.
      saved: the run record written (stage ``accrual``).  journal: the CSV written, if any.
      journal_entries: every entry of the month's journal (accrual, reversal, prepaid purchases,
        amortization, reclass, and what ``extra`` added).  run_number: the run record's number.
      posted: the posted record written by ``post=True``.  notes: warnings and facts in words.
      against: which accrual a true-up compared with.  adjustments: the prior-period adjustments
        (``locks.Adjustment``) of locked months this close posts.  lock: the lock record of a
        locked month (stage ``locked``: its journal is reproduced from the record).
    """

    month: dt.date
    stage: str
    accrual: AccrualResult
    true_up: TrueUp | None
    entries: tuple[Entry, ...]
    saved: Path | None
    journal: Path | None
    journal_entries: tuple[Entry, ...] = ()
    run_number: int | None = None
    posted: Path | None = None
    notes: tuple[str, ...] = ()
    against: str = ""
    adjustments: tuple = ()
    lock: dict | None = None


def run_close(store: CostStore, month: dt.date, *, cutoff: dt.date | None = None,
              method: str = "trailing_7d", ledger: LedgerMap = LedgerMap(),
              journal: Path | None = None, journal_format: str = "generic", post: bool = False,
              by: str | None = None, extra=None, reporting_currency: str | None = None,
              rates=None) -> CloseRun:
    """Accrue the month, or true it up when its data has become final (see the module docstring).

    ``post``: mark this run's accrual as the posted one (``accrual_runs.post``). ``extra``: a
    callable ``(con, month, ledger) -> entries`` adding entries to the journal (chargeback,
    capitalization, prior-period adjustments). ``reporting_currency`` with ``rates``
    (``reporting_currency.load_rates``): the journal is translated into it
    (``reporting_currency.translate_entries``) at the close month's rates."""
    from finops_xl.close import locks

    month = month.replace(day=1)
    notes: list[str] = []
    record = locks.read_lock(store, month)
    if record is not None:  # a locked month: reproduced from its lock, whatever landed since
        if post or cutoff is not None:
            locks.check_not_locked(store, month)
        entries = locks.locked_entries(record)
        _write(journal, entries, journal_format, ledger)
        empty = AccrualResult(month, next_month(month), "", "BilledCost", "", ledger.accrued_liabilities, 0,
                              "locked", ())
        return CloseRun(month, "locked", empty, None, (), None, journal, entries, lock=record)
    if (reporting_currency is None) != (rates is None):
        raise ValueError("a reporting currency needs its rates and rates need a reporting currency: "
                         "give both --reporting-currency and --rates")
    translate = None
    if reporting_currency is not None:
        from finops_xl.close.reporting_currency import translate_entries

        def translate(entries):
            return translate_entries(entries, reporting_currency, rates, month, ledger)
    if post and accrual_runs.posted(store, month) is not None:
        accrual_runs.post(store, month)  # raises: already posted
    with store.reader() as con:
        previous = accrual_runs.against(store, month)
        prepaid = month_prepaid_entries(con, month, ledger)
        adjustments = tuple(locks.pending_adjustments(store, con, month, ledger))
        added = locks.adjustment_entries(adjustments, month, ledger)
        added += tuple(extra(con, month, ledger)) if extra else ()
        if translate is not None:  # refused before anything is saved when a rate is missing
            prepaid, added = translate(prepaid), translate(added)
        if previous is not None and cutoff is None:
            t = true_up(previous[0], con, ledger=ledger)
            if t.final:
                entries = prepaid + added
                _write(journal, entries, journal_format, ledger)
                return CloseRun(month, "true-up", previous[0], t, (), None, journal, entries,
                                notes=tuple(notes), against=previous[1], adjustments=adjustments)
        found = accrual_runs.complete_cutoff(con, month) if cutoff is None else None
        result = accrue(con, month, cutoff=found.day if found else cutoff, method=method, ledger=ledger)
        final = previous is None and cutoff is None and uninvoiced_rows(con, month) == 0
    if final:  # invoiced in full before any accrual: the invoice books the month, nothing to accrue
        entries = prepaid + added
        _write(journal, entries, journal_format, ledger)
        return CloseRun(month, "final", result, None, (), None, journal, entries, notes=tuple(notes),
                        adjustments=adjustments)
    notes += found.warnings if found else ()
    entries = accrual_entries(result)
    entries = entries + tuple(e.reversal() for e in entries if e.reverses_on)
    translated = translate(entries) if translate is not None else entries
    number, saved = accrual_runs.save_run(result, store)
    posted = accrual_runs.post(store, month, number, by) if post else None
    everything = translated + prepaid + added
    _write(journal, everything, journal_format, ledger)
    return CloseRun(month, "accrual", result, None, entries, saved, journal, everything, number,
                    posted, tuple(notes), adjustments=adjustments)


def _write(journal: Path | None, entries, fmt: str, ledger: LedgerMap) -> None:
    if journal is None:
        return
    text = to_erp_csv(entries, fmt, entity=ledger.entity)
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(text, encoding="utf-8")
