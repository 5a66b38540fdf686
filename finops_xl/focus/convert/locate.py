"""Find the first row of a native export that a converter cannot read, to name it in a refusal.

A converter's ``problems(con, group)`` hook describes a bad value with SQL (a condition true on the
rows it cannot convert, and the raw value to show); :func:`first_bad_row` runs it over one file and
returns how many rows fail, the first one's 1-based data row (header excluded, so in a CSV data row
N is line N + 1) and its value.
"""

from __future__ import annotations

import duckdb

from finops_xl.sources import SourceFile, sql_literal


def first_bad_row(
    con: duckdb.DuckDBPyConnection, source: SourceFile, condition: str, value: str
) -> tuple[int, int | None, str | None]:
    """(rows failing ``condition``, first failing data row, its ``value`` as text) in ``source``."""
    if source.format == "parquet":
        reader = f"read_parquet({sql_literal(str(source.path))}, file_row_number=true)"
        row_sql = "file_row_number + 1"
    else:
        reader, row_sql = source.reader_sql(), "row_number() OVER ()"
    sql = (f"SELECT count(*) OVER (), __row, __value FROM (SELECT {row_sql} AS __row, "
           f"CAST({value} AS VARCHAR) AS __value, ({condition}) AS __bad FROM {reader}) "
           f"WHERE __bad ORDER BY __row LIMIT 1")
    # one thread reads a text file in file order, so row_number() is the data row number
    con.execute("SET threads = 1")
    try:
        found = con.sql(sql).fetchall()
    finally:
        con.execute("RESET threads")
    if not found:
        return 0, None, None
    n, row, shown = found[0]
    return int(n), int(row), shown


def bad_counts(con: duckdb.DuckDBPyConnection, source: SourceFile, conditions: list[str]) -> list[int]:
    """How many rows of ``source`` fail each of ``conditions``, in one parallel pass over the file
    (so that the slower, single-threaded :func:`first_bad_row` runs only for a condition that fails)."""
    if not conditions:
        return []
    counts = ", ".join(f"count_if(coalesce(({c}), false))" for c in conditions)
    return [int(n) for n in con.sql(f"SELECT {counts} FROM {source.reader_sql()}").fetchall()[0]]


def locate_all(
    con: duckdb.DuckDBPyConnection, source: SourceFile, checks: list[tuple[str, str]]
) -> list[tuple[int, int | None, str | None]]:
    """:func:`first_bad_row` for each (condition, value) of ``checks``; (0, None, None) where no row
    fails, found with one parallel pass first."""
    counts = bad_counts(con, source, [c for c, _ in checks])
    return [first_bad_row(con, source, c, v) if n else (0, None, None) for n, (c, v) in zip(counts, checks)]
