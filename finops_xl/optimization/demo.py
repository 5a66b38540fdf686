"""The demo's pass through the savings ledger, on data generated with ``plant_waste=True``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from finops_xl.optimization import ledger
from finops_xl.optimization.detectors import Finding, detect
from finops_xl.optimization.rightsizing import read_utilization
from finops_xl.store.store import CostStore

__all__ = ["demo_ledger"]

#: The planted instance the generated data resizes on the 10th of the last month (``planted.py``).
RESIZED = "i-0a1b2c3d4e5f60005"


def demo_ledger(store: CostStore, utilization_csv: Path, last_month: dt.date,
                months: int) -> tuple[list[Finding], Decimal]:
    """Write the planted utilization export to ``utilization_csv``; find the opportunities of the
    month before ``last_month`` and record them; approve the rightsizing of the instance the data
    resizes and mark it implemented on the 10th of ``last_month``; then find and record the last
    month's. Returns the last month's findings and its realized savings."""
    from finops_xl.allocation.rules import load_rules
    from finops_xl.data import allocation_rules
    from finops_xl.months import add_months
    from finops_xl.sample.planted import write_utilization

    util = read_utilization(write_utilization(utilization_csv))
    rules = load_rules(allocation_rules())
    if months >= 2:
        with store.reader() as con:
            earlier = detect(con, add_months(last_month, -1), rules=rules, utilization=util)
        ledger.record(store, earlier)
        resize = next((f for f in earlier if f.rule == "rightsize" and f.resource_id == RESIZED), None)
        if resize is not None:
            ledger.set_status(store, resize.id, "approved", on=last_month, note="demo: approved")
            ledger.set_status(store, resize.id, "implemented", on=last_month.replace(day=10),
                              note="demo: resized to m6i.xlarge")
    with store.reader() as con:
        found = detect(con, last_month, rules=rules, utilization=util)
    ledger.record(store, found)
    with store.reader() as con:
        realized = ledger.realized_total(con, last_month)
    return found, realized
