"""Allocate on Spark, into the same store folder as the DuckDB engine.

The allocation steps (``finops_xl.allocation.engine.run_steps``) run on Spark over the store's daily
cube, with the same SQL as on DuckDB; Spark writes the allocation's tables as Parquet into a staging
folder inside the store folder, and ONE store transaction (``CostStore.allocation_writer``, the
store's lock held from the start) reads them in and records the run (``engine.spark_store`` does
the same for loads). Kubernetes pools allocate on the duckdb engine only.
"""

from __future__ import annotations

import contextlib
import os
import time

from finops_xl.allocation.engine import AllocationReport, _record_run, run_steps
from finops_xl.allocation.rules import Rules
from finops_xl.allocation.showback import coverage
from finops_xl.engine.spark_engine import SparkEngine
from finops_xl.engine.spark_store import _ALLOCATION, _cube_on_spark, _parquet, _prepare, _write, staging
from finops_xl.store.store import CostStore


def allocate_spark(store: CostStore | str | os.PathLike[str], rules: Rules,
                   engine: SparkEngine) -> AllocationReport:
    """Allocate every charge in ``store`` by ``rules`` on Spark; replaces the previous allocation,
    as one store commit (the steps are ``finops_xl.allocation.engine.run_steps``)."""
    started = time.monotonic()
    store = store if isinstance(store, CostStore) else CostStore(store)
    if any(p.kubernetes is not None for p in rules.pools):
        raise ValueError("kubernetes pools run on the duckdb engine only: allocate without --engine spark")
    _prepare(engine)
    with store.allocation_writer() as con, staging(store.path) as stage:
        _cube_on_spark(engine, store)  # the lock is held: the current commit is the transaction's
        try:
            run_steps(engine, rules)
            for table in _ALLOCATION:
                _write(engine.session.table(table), stage / table)
        finally:
            for t in ("cost_daily", *_ALLOCATION, "alloc_defaults", "alloc_hierarchy"):
                with contextlib.suppress(Exception):
                    engine.drop(t)
        con.execute("BEGIN TRANSACTION")
        for table in _ALLOCATION:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {_parquet(stage / table)}")
        run_id = _record_run(con, rules)
        con.execute("COMMIT")
        groups = con.execute("SELECT count(*) FROM allocation_groups").fetchall()[0][0]
        lines = con.execute("SELECT count(*) FROM allocated_charges").fetchall()[0][0]
        cov = coverage(con)
    return AllocationReport(run_id, int(groups), int(lines), cov, time.monotonic() - started)
