"""Is the store's allocation as new as its data? An allocation made before the store's last load
shows owners for data that has since changed (a restated export, a late file): every report built
from it must refuse, and say to allocate again."""

from __future__ import annotations

import duckdb


class StaleAllocationError(ValueError):
    """The allocation is older than the store's last load (the message says what to run)."""


def stale_allocation(con) -> str | None:
    """Why the allocation behind ``con`` is stale, in words, or None when it is current (or the
    store keeps no run records to compare)."""
    try:
        run = con.execute("SELECT run_id, last_load_id FROM allocation_runs "
                          "ORDER BY run_id DESC LIMIT 1").fetchall()
        load = con.execute("SELECT value FROM store_info WHERE key = 'last_load_id'").fetchall()
    except duckdb.Error:
        return None
    if run and load and str(run[0][1]) != str(load[0][0]):
        return (f"the allocation (run {run[0][0]}, made after load {run[0][1]}) is older than the "
                f"store's last load ({load[0][0]}): run finops-xl allocate again so the owners match "
                "the data")
    return None


def check_allocation_current(con) -> None:
    """Raise StaleAllocationError when ``stale_allocation`` finds a reason."""
    reason = stale_allocation(con)
    if reason:
        raise StaleAllocationError(reason)
