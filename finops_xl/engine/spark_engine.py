"""The Spark engine: the store's SQL transpiled to Spark SQL (``dialect.to_spark``) and run by a
SparkSession, in local mode, on a cluster, or through Spark Connect.

Tables it creates are temporary views over checkpointed results, so a later statement that reads
one does not recompute it, and a statement may replace the view it reads (as DuckDB's
``CREATE OR REPLACE TABLE t AS SELECT ... FROM t`` does).

``pyspark`` is an optional dependency (``pip install 'finops-xl[spark]'``); a local session also
needs Java 17.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from finops_xl.engine.dialect import to_spark

#: Driver memory of a local session (its executors run inside the driver), unless
#: ``FINOPS_XL_SPARK_MEMORY`` says otherwise. Spark spills to its local folder beyond it.
LOCAL_MEMORY = "4g"

#: Environment variable naming the Spark to use when ``--spark`` is not given: a master URL
#: (``local[4]``, ``spark://host:7077``, ``yarn``) or a Spark Connect URL (``sc://host:15002``).
SPARK_URL_ENV = "FINOPS_XL_SPARK"


def spark_session(url: str | None = None, *, shuffle_partitions: int | None = None):
    """A SparkSession for ``url`` (else ``$FINOPS_XL_SPARK``, else ``local[*]``), with the settings
    the store's SQL relies on: UTC session time zone, and legacy (non-ANSI) casts so ``TRY_CAST``
    and ``CAST`` behave as in DuckDB's validated paths.

    A ``sc://`` URL connects through Spark Connect (``pip install 'pyspark[connect]'``); any other
    URL is a master URL. An existing session is reused.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("the Spark engine needs pyspark: pip install 'finops-xl[spark]'") from exc
    url = url or os.environ.get(SPARK_URL_ENV) or "local[*]"
    builder = SparkSession.builder.appName("finops-xl")
    if url.startswith("sc://"):
        builder = builder.remote(url)
    else:
        builder = (builder.master(url)
                   .config("spark.driver.memory", os.environ.get("FINOPS_XL_SPARK_MEMORY") or LOCAL_MEMORY)
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.sources.partitionOverwriteMode", "dynamic"))
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    if url.startswith("local") and not shuffle_partitions:
        shuffle_partitions = 4 * (os.cpu_count() or 2)  # a few tasks per core, not Spark's 200
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    session = builder.getOrCreate()
    if not url.startswith("sc://"):
        session.sparkContext.setLogLevel("ERROR")
    session.conf.set("spark.sql.session.timeZone", "UTC")
    session.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    return session


def _spark_type(t: pa.DataType):
    from pyspark.sql import types as T

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return T.StringType()
    if pa.types.is_date(t):
        return T.DateType()
    if pa.types.is_decimal(t):
        return T.DecimalType(t.precision, t.scale)
    if pa.types.is_integer(t):
        return T.LongType()
    if pa.types.is_floating(t):
        return T.DoubleType()
    if pa.types.is_boolean(t):
        return T.BooleanType()
    if pa.types.is_timestamp(t):
        return T.TimestampNTZType()
    if pa.types.is_null(t):
        return T.StringType()
    raise TypeError(f"no Spark type for Arrow type {t}")


class SparkEngine:
    """Runs the store's statements on ``session`` (see ``spark_session``)."""

    name = "spark"

    def __init__(self, session):
        self.session = session

    def sql(self, sql: str):
        """The DataFrame of one DuckDB-dialect query."""
        return self.session.sql(to_spark(sql))

    def execute(self, sql: str) -> None:
        self.sql(sql).collect()

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.sql(sql).collect()]

    def create_table(self, name: str, sql: str) -> None:
        self.view(name, self.sql(sql))

    def view(self, name: str, df, *, checkpoint: bool = True) -> None:
        """Register a DataFrame as table ``name``; computed once (checkpointed) unless
        ``checkpoint`` is False (a plain view, e.g. over files)."""
        if checkpoint and hasattr(df, "localCheckpoint"):
            df = df.localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)

    def register(self, name: str, table: pa.Table) -> None:
        from pyspark.sql import types as T

        schema = T.StructType([T.StructField(f.name, _spark_type(f.type), True) for f in table.schema])
        rows = list(zip(*(table.column(i).to_pylist() for i in range(table.num_columns))))
        self.session.createDataFrame(rows, schema).createOrReplaceTempView(name)

    def drop(self, name: str) -> None:
        self.session.catalog.dropTempView(name)
