"""The DuckDB engine: the store's SQL as written, on an open DuckDB connection."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from finops_xl.store.sources import sql_identifier


class DuckDBEngine:
    """Runs statements on ``con`` (a store connection; see ``store.connect``)."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def create_table(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {sql_identifier(name)} AS {sql}")

    def register(self, name: str, table: pa.Table) -> None:
        view = f"{name}__arrow"
        self.con.register(view, table)
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {sql_identifier(name)} AS "
                             f"SELECT * FROM {sql_identifier(view)}")
        finally:
            self.con.unregister(view)

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {sql_identifier(name)}")
