"""Engines: where the store's set-based SQL runs.

The heavy transforms (FOCUS typing and normalization, the daily cube, restated-slice totals,
allocation groups, owners, pools and lines, the monthly aggregates the Excel functions read) are
SQL written once, in DuckDB's dialect. An engine runs them:

- ``DuckDBEngine`` (default): embedded, one machine, the statements as written;
- ``SparkEngine``: Apache Spark (local mode, a cluster, or a Spark Connect URL), the statements
  transpiled by ``dialect.to_spark``.

Both engines take the same calls, so the code that builds the SQL does not know which one runs it.
Tables an engine creates live for its session (DuckDB tables in the open database; Spark temporary
views over checkpointed results); persisting them is the caller's business: a store transaction
(``CostStore.writer``, ``allocation_writer``) for DuckDB; for Spark, Parquet staged in the store
folder that one store transaction reads in (``finops_xl.engine.spark_store``).
"""

from __future__ import annotations

from typing import Any, Protocol

import pyarrow as pa

#: Engine names, as ``--engine`` takes them.
ENGINES = ("duckdb", "spark")


class Engine(Protocol):
    """What the store's SQL needs from an engine.

    Attributes:
      name: ``"duckdb"`` or ``"spark"``.
    """

    name: str

    def execute(self, sql: str) -> None:
        """Run one statement (DuckDB dialect) for its effect."""

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one query (DuckDB dialect); its rows as tuples (DECIMAL as ``Decimal``, DATE as
        ``datetime.date``). For small results only."""

    def create_table(self, name: str, sql: str) -> None:
        """Make ``name`` the result of the query ``sql``, replacing any table of that name. The
        query may read the table it replaces."""

    def register(self, name: str, table: pa.Table) -> None:
        """Make a small Arrow table queryable as ``name`` (mapping tables, split lines)."""

    def drop(self, name: str) -> None:
        """Forget table ``name`` if it exists."""
