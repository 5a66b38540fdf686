"""Every journal entry of a close month, whatever its stage: the accrual and its reversal (while the
data is not final), then the prepaid commitments' purchases, amortization and reclass entries.

The close workbook's Journal sheet and ``finops-xl close --journal`` take their entries from here,
so the CSV holds every entry the workbook shows (a fully invoiced month still amortizes its
prepaid commitments).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from finops_xl.allocation.rules import UNALLOCATED
from finops_xl.close import amortization as am
from finops_xl.close.journal import Entry, LedgerMap


def prepaid_entries(con, schedules: Sequence[am.Schedule], month: dt.date, ledger: LedgerMap,
                    policy_owner: str = UNALLOCATED) -> tuple[Entry, ...]:
    """Purchases dated in the month, then each commitment's amortization and reclass (expense by
    allocated owner, posted to the cost center the allocation gives it unless the ledger maps it)."""
    from finops_xl.close.accruals import allocation_cost_centers

    if con.execute("SELECT count(*) FROM information_schema.tables "
                   "WHERE table_name = 'allocated_charges'").fetchall()[0][0]:
        ledger = dataclasses.replace(ledger, cost_centers={
            **allocation_cost_centers(con, (month,)), **ledger.cost_centers})
    out: list[Entry] = []
    for s in schedules:
        bought = s.commitment.start.replace(day=1) == month and not s.commitment.carried_in
        if bought and (e := am.purchase_entry(s, ledger)) is not None:
            out.append(e)
    for s in schedules:
        if s.period(month) is None:
            continue
        used, unused = am.used_by_allocated_owner(con, s.commitment.id, month)
        if (e := am.amortization_entry(s, month, ledger, policy_owner=policy_owner, weights=used,
                                       unused=unused)) is not None:
            out.append(e)
        if (e := am.reclass_entry(s, month, ledger)) is not None:
            out.append(e)
    return tuple(out)


def month_prepaid_entries(con, month: dt.date, ledger: LedgerMap, *, currency: str | None = None,
                          policy_owner: str = UNALLOCATED) -> tuple[Entry, ...]:
    """``prepaid_entries`` of every commitment in the store (in ``currency`` only, when given)."""
    commitments = [c for c in am.commitments_from_store(con) if currency is None or c.currency == currency]
    schedules = [am.schedule(c, "daily") for c in commitments]
    return prepaid_entries(con, schedules, month.replace(day=1), ledger, policy_owner)
