"""Checks of a load's rows against the store before they replace its slices: the same charges
loaded twice under two files are refused, and an account id spelled two ways is made one."""

from __future__ import annotations

import duckdb

from finops_xl.store.errors import IngestError, Notice, Problem
from finops_xl.store.sources import sql_identifier
from finops_xl.store.store import table_columns


def _key_columns() -> list[str]:
    """The canonical FOCUS columns that identify a charge (every column but lineage and x_ extras)."""
    from finops_xl.focus import schema

    return [c.name for c in schema.canonical_columns()]


def _refuse_duplicate_charges(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """Refuse a load in which one input's charges of a slice all appear again in another input.

    That is the same data reached twice through different files (a FOCUS file converted from a native
    export lying beside it, an export downloaded twice under other names and re-encoded). Only slices
    that two or more inputs of the load contribute to are compared: a charge is its canonical FOCUS
    columns (extras and lineage left out), compared as a multiset.
    """
    shared = con.execute(
        """
        SELECT ProviderName, BillingAccountId, BillingPeriodStart
        FROM charges WHERE x_LoadId = $1 GROUP BY ALL HAVING count(DISTINCT x_SourceFile) > 1
        """, [load_id]).fetchall()
    if not shared:
        return
    present = table_columns(con, "charges")
    cols = ", ".join(sql_identifier(c) for c in _key_columns() if c in present)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE load_fingerprints AS
        SELECT c.x_SourceFile AS f, c.ProviderName, c.BillingAccountId, c.BillingPeriodStart,
               hash({cols}) AS h, count(*) AS n, sum(c.BilledCost) AS billed
        FROM charges c SEMI JOIN (
            SELECT ProviderName, BillingAccountId, BillingPeriodStart FROM charges WHERE x_LoadId = $1
            GROUP BY ALL HAVING count(DISTINCT x_SourceFile) > 1) k
          USING (ProviderName, BillingAccountId, BillingPeriodStart)
        WHERE c.x_LoadId = $1
        GROUP BY ALL
    """, [load_id])
    pairs = con.execute("""
        WITH per AS (
            SELECT f, ProviderName, BillingAccountId, BillingPeriodStart, sum(n) AS rows
            FROM load_fingerprints GROUP BY ALL
        ), dup AS (
            SELECT a.f AS fa, b.f AS fb, a.ProviderName, a.BillingAccountId, a.BillingPeriodStart,
                   sum(least(a.n, b.n)) AS rows,
                   sum(CASE WHEN a.n <= b.n THEN a.billed ELSE b.billed END) AS billed
            FROM load_fingerprints a JOIN load_fingerprints b
              ON a.h = b.h AND a.f < b.f AND a.ProviderName = b.ProviderName
             AND a.BillingAccountId = b.BillingAccountId AND a.BillingPeriodStart = b.BillingPeriodStart
            GROUP BY ALL
        )
        SELECT d.fa, d.fb, d.ProviderName, d.BillingAccountId, d.BillingPeriodStart, d.rows, d.billed,
               pa.rows, pb.rows
        FROM dup d
        JOIN per pa ON pa.f = d.fa AND pa.ProviderName = d.ProviderName
         AND pa.BillingAccountId = d.BillingAccountId AND pa.BillingPeriodStart = d.BillingPeriodStart
        JOIN per pb ON pb.f = d.fb AND pb.ProviderName = d.ProviderName
         AND pb.BillingAccountId = d.BillingAccountId AND pb.BillingPeriodStart = d.BillingPeriodStart
        WHERE d.rows = least(pa.rows, pb.rows)
        ORDER BY ALL
    """).fetchall()
    con.execute("DROP TABLE load_fingerprints")
    if not pairs:
        return
    problems = [
        Problem(fa, (
            f"holds the same charges as {fb} for {p} {a} {b:%Y-%m} ({n:,} rows, BilledCost {billed:,.2f}): "
            f"the same data reached twice (e.g. a FOCUS file converted from a native export, left beside it); "
            f"load only one of them"))
        for fa, fb, p, a, b, n, billed, _, _ in pairs
    ]
    raise IngestError(problems)


def _unify_account_spellings(con: duckdb.DuckDBPyConnection, load_id: int) -> list[Notice]:
    """A numeric account id that differs from the store's only by leading zeros (dropped by a
    spreadsheet) is the store's account: its rows take the store's spelling, so the month replaces its
    previous version instead of landing beside it."""
    pairs = con.execute("""
        SELECT DISTINCT c.x_SourceFile, c.ProviderName, c.BillingPeriodStart, c.BillingAccountId,
               s.BillingAccountId
        FROM (SELECT DISTINCT x_SourceFile, ProviderName, BillingPeriodStart, BillingAccountId
              FROM charges WHERE x_LoadId = $1) c
        JOIN slices s ON s.ProviderName = c.ProviderName AND s.BillingPeriodStart = c.BillingPeriodStart
         AND s.BillingAccountId <> c.BillingAccountId
         AND regexp_full_match(c.BillingAccountId, '[0-9]+') AND regexp_full_match(s.BillingAccountId, '[0-9]+')
         AND ltrim(c.BillingAccountId, '0') = ltrim(s.BillingAccountId, '0')
        ORDER BY ALL
    """, [load_id]).fetchall()
    notices = []
    for label, provider, start, given, stored in pairs:
        con.execute(
            "UPDATE charges SET BillingAccountId = $2 WHERE x_LoadId = $1 AND ProviderName = $3 "
            "AND BillingPeriodStart = $4 AND BillingAccountId = $5",
            [load_id, stored, provider, start, given])
        notices.append(Notice(label, (
            f"BillingAccountId {given!r} read as the store's {stored!r} for {provider} {start:%Y-%m} "
            f"(the same account with its leading zeros dropped, as a spreadsheet does)"),
            column="BillingAccountId", value=given))
    return notices
