"""Finding the row of a file that holds a value: the data row number (1-based, header excluded) and
the value, for a message that names them."""

from __future__ import annotations

import duckdb

from finops_xl.sources import SourceFile, sql_literal


def numbered(source: SourceFile, value: str, flag: str) -> str:
    """SELECT of ``__row`` (the data row number), ``__value`` and ``__x`` (SQL ``value`` and ``flag``
    over one row) for every row of ``source``, in file order when run through :func:`first_of`."""
    if source.format == "parquet":
        reader = f"read_parquet({sql_literal(str(source.path))}, file_row_number=true)"
        return f"SELECT file_row_number + 1 AS __row, {value} AS __value, {flag} AS __x FROM {reader}"
    return f"SELECT row_number() OVER () AS __row, {value} AS __value, {flag} AS __x FROM {source.reader_sql()}"


def first_of(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int | None, str | None]:
    """The first (row, value) ``sql`` returns. One thread reads, so a CSV is numbered in file order."""
    con.execute("SET threads = 1")
    try:
        row = next(iter(con.sql(sql).fetchall()), None)
    finally:
        con.execute("RESET threads")
    if row is None:
        return None, None
    return int(row[0]), (None if row[1] is None else str(row[1]))


def first(con: duckdb.DuckDBPyConnection, source: SourceFile, value: str, condition: str) -> tuple[int | None, str | None]:
    """The first row of ``source`` where ``condition`` holds, and ``value`` there."""
    return first_of(con, f"SELECT __row, __value FROM ({numbered(source, value, condition)}) "
                         f"WHERE __x ORDER BY __row LIMIT 1")
