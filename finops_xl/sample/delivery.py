"""Generated exports as a provider delivers them before the month is over.

Providers deliver the running month's export day by day and invoice it only after month end: a
file written on the 28th holds the charges up to the 27th and no InvoiceId. :func:`as_of` turns the
generator's complete files into that delivery, so an accrual can be tried on generated data
(``finops-xl sample --as-of 2025-03-28``, then the complete export for the true-up).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from finops_xl.store.sources import sql_literal


def as_of(paths: list[Path], day: dt.date) -> list[Path]:
    """Rewrite the generated Parquet ``paths`` as delivered on ``day``: charges starting on or after
    ``day`` are dropped, the rows of ``day``'s month have no InvoiceId yet, and a file left without
    rows is removed. Returns the files that remain."""
    month = day.replace(day=1)
    kept: list[Path] = []
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for path in paths:
            src = sql_literal(str(path))
            cut = f"ChargePeriodStart < TIMESTAMP {sql_literal(day.isoformat())}"
            (rows,) = con.execute(f"SELECT count(*) FROM read_parquet({src}) WHERE {cut}").fetchone()
            if rows == 0:
                path.unlink()
                continue
            open_month = (f"CASE WHEN BillingPeriodStart >= TIMESTAMP {sql_literal(month.isoformat())} "
                          "THEN CAST(NULL AS VARCHAR) ELSE InvoiceId END")
            work = path.with_name(path.name + ".part")
            con.execute(f"COPY (SELECT * REPLACE ({open_month} AS InvoiceId) FROM read_parquet({src}) "
                        f"WHERE {cut}) TO {sql_literal(str(work))} (FORMAT parquet)")
            work.replace(path)
            kept.append(path)
    finally:
        con.close()
    return kept
