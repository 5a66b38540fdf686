"""The store as a folder of Parquet tables, written by the Spark engine (a *lake*).

For billing data that outgrows one machine, or that already lives on a Spark platform, ingestion
and allocation run on Spark with the same SQL as the DuckDB store (``finops_xl.engine``) and write
their tables as Parquet folders, partitioned by billing period:

```
<lake>/charges/x_BillingPeriod=2025-01-01/x_Slice=<id>/part-*.parquet   canonical FOCUS rows
<lake>/cost_daily/x_BillingPeriod=.../x_Slice=.../                       the daily cube
<lake>/slices/x_BillingPeriod=.../x_Slice=.../                           each slice's current version
<lake>/allocation_groups/month=.../   <lake>/allocated_charges/month=.../   the allocation
<lake>/allocation_runs/               <lake>/store_info.json
```

``x_Slice`` names one (ProviderName, BillingAccountId) pair, so a billing period's slice is one
partition, and a load replaces exactly the partitions of the slices it contains (Spark's dynamic
partition overwrite): the restatement rule of the DuckDB store, by partition.

Excel reads a lake as it reads a store: ``CostStore(<lake folder>).reader()`` is a DuckDB connection
whose ``cost_daily``, ``allocated_charges``, ``allocation_groups``, ``charges`` … are views over
these folders (``lake_views``); the aggregates it reads are small.

Differences from the DuckDB store, by design: a load is not one transaction across tables (each
table's write is atomic per partition, and the cube and slices are written after the charges);
the manifest of files and normalizations is not kept; kubernetes pools are not supported.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

import duckdb

from finops_xl.allocation.engine import rules_digest, run_steps
from finops_xl.allocation.rules import Rules
from finops_xl.engine.spark_engine import SparkEngine
from finops_xl.focus import schema
from finops_xl.focus.reader import FocusFile
from finops_xl.store.errors import IngestError, Problem
from finops_xl.store.sources import sql_identifier, sql_literal
from finops_xl.store.store import LINEAGE_COLUMNS, connect, cube_select_sql

#: Tables of a lake, each a Parquet folder.
TABLES = ("charges", "cost_daily", "slices", "allocation_groups", "allocated_charges", "allocation_runs")

#: The lake's own record (last load, last allocation); rewritten by every load and allocation, so
#: its change marks a new version for caches.
INFO_FILE = "store_info.json"

#: Partition columns: the billing period, and the slice's (provider, billing account) within it.
_PERIOD = "x_BillingPeriod"
_SLICE = "x_Slice"
_PARTITION_SQL = (f"CAST(CAST(BillingPeriodStart AS DATE) AS VARCHAR) AS {_PERIOD}, "
                  f"substr(sha256(ProviderName || '|' || BillingAccountId), 1, 16) AS {_SLICE}")


def is_lake(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a lake folder (it holds the lake's record)."""
    return (Path(path) / INFO_FILE).is_file()


def _read_info(lake: Path) -> dict:
    try:
        return json.loads((lake / INFO_FILE).read_text())
    except FileNotFoundError:
        return {}


def _write_info(lake: Path, **updates) -> None:
    info = _read_info(lake) | updates
    info.setdefault("schema_version", "1")
    info.setdefault("focus_version", schema.CANONICAL_VERSION)
    tmp = lake / f".{INFO_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(info, indent=1, sort_keys=True))
    os.replace(tmp, lake / INFO_FILE)


def _uri(lake: Path, table: str) -> str:
    return str(lake / table)


#: Column carrying each source row's file path, in a reader over several files.
_FILE = "__finops_xl_source_path"


def _source_view(spark, name: str, files: list[FocusFile]) -> None:
    """One reader over ``files`` (Parquet sharing a header) as view ``name``, each row with its
    file's URI, as Spark names it, in ``_FILE``.

    The URI is taken as is (no per-row decoding, which costs more than the rest of the row's
    work); the few distinct URIs are decoded to paths on the driver (``_uri_path``).
    """
    from pyspark.sql import functions as F

    df = spark.read.parquet(*(str(f.source.path) for f in files))
    df.withColumn(_FILE, F.input_file_name()).createOrReplaceTempView(name)


def _uri_path(uri: str) -> str:
    """The absolute path of a file URI as ``input_file_name()`` gives it."""
    return urllib.parse.unquote(re.sub(r"^file:(//)?", "", uri))


@dataclasses.dataclass(frozen=True)
class LakeLoad:
    """What a Spark load did.

    Attributes:
      load_id: its id (``x_LoadId`` on its rows).  files: input files.  rows: rows loaded.
      slices: (provider, billing account, billing period start, rows, billed, effective) per slice
        written.  seconds: wall time.
    """

    load_id: int
    files: tuple[str, ...]
    rows: int
    slices: tuple[tuple, ...]
    seconds: float


def ingest_spark(
    paths: Sequence[str | os.PathLike[str]], lake: str | os.PathLike[str], engine: SparkEngine
) -> LakeLoad:
    """Load FOCUS Parquet exports into ``lake`` on Spark, replacing the slices they contain.

    Each file is mapped and validated with the same SQL as the DuckDB store (the checks run on
    Spark); any problem aborts the load before anything is written (IngestError).
    """
    from finops_xl.store.ingest import unique_inputs
    from finops_xl.store.sources import find_inputs

    started = time.monotonic()
    lake = Path(lake).absolute()
    # each input once: the same path reached twice, or the same bytes under another name
    sources, _, _, _ = unique_inputs(find_inputs(list(paths)), lambda stage, fraction: None)
    not_parquet = [s for s in sources if s.format != "parquet"]
    if not_parquet:
        raise IngestError([Problem(s.label, "the spark engine reads FOCUS Parquet; load CSV with the "
                                   "duckdb engine, or convert it to Parquet") for s in not_parquet])
    spark = engine.session
    probe = connect(":memory:", read_only=False)  # reads each file's schema (its footer) only
    problems: list[Problem] = []
    candidates: list[FocusFile] = []
    try:
        for s in sources:
            try:
                candidates.append(FocusFile(probe, s))
            except IngestError as exc:
                problems.extend(exc.problems)
        # files sharing a header are validated by one aggregate query over all of them, by file
        groups: dict[tuple, list[FocusFile]] = {}
        for f in candidates:
            groups.setdefault(f.header, []).append(f)
        files: list[FocusFile] = []
        uris: dict[str, str] = {}  # path -> the URI Spark reads it by
        for members in groups.values():
            _source_view(spark, "__finops_xl_src", members)
            counts = {}
            for r in engine.fetch(
                    f"SELECT {_FILE}, {members[0].validation_sql()} FROM __finops_xl_src GROUP BY 1"):
                uris[_uri_path(r[0])] = r[0]
                counts[_uri_path(r[0])] = r[1:]
            for f in members:
                problems.extend(f.problems_from(counts.get(str(f.source.path))))
                files.append(f)
    finally:
        probe.close()
    if problems:
        raise IngestError(problems)
    lake.mkdir(parents=True, exist_ok=True)
    load_id = int(_read_info(lake).get("last_load_id", 0)) + 1
    columns = {c.name: schema.SQL_TYPES[c.kind] for c in schema.canonical_columns()}
    for f in files:
        for name, sql_type in f.target_types().items():
            columns.setdefault(name, sql_type)
    columns.update(LINEAGE_COLUMNS)
    plans: dict[tuple, list[FocusFile]] = {}
    for f in files:
        plans.setdefault(f.plan_key(), []).append(f)
    frames = []
    for i, members in enumerate(plans.values()):
        view = f"__finops_xl_plan_{i}"
        _source_view(spark, view, members)
        # every file here has rows (an empty file is a problem), so validation saw its URI
        labels = " ".join(f"WHEN {sql_literal(uris[str(f.source.path)])} THEN {sql_literal(f.source.label)}"
                          for f in members)
        sql = members[0].select_sql(columns, extra={"x_LoadId": f"CAST({load_id} AS BIGINT)",
                                                    "x_SourceFile": f"CASE {_FILE} {labels} END"},
                                    reader=view)
        frames.append(engine.sql(f"SELECT *, {_PARTITION_SQL} FROM ({sql})"))
    new = frames[0]
    for df in frames[1:]:
        new = new.unionByName(df)
    (new.write.mode("overwrite").option("partitionOverwriteMode", "dynamic")
        .partitionBy(_PERIOD, _SLICE).parquet(_uri(lake, "charges")))
    # the cube of exactly the partitions this load wrote, and the slice totals from the cube
    charges = spark.read.option("mergeSchema", "true").parquet(_uri(lake, "charges"))
    engine.view("charges", charges.where(f"x_LoadId = {load_id}").drop(_PERIOD, _SLICE), checkpoint=False)
    engine.create_table("new_cube", cube_select_sql("true"))
    (engine.sql(f"SELECT *, {_PARTITION_SQL} FROM new_cube")
        .write.mode("overwrite").option("partitionOverwriteMode", "dynamic")
        .partitionBy(_PERIOD, _SLICE).parquet(_uri(lake, "cost_daily")))
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    totals = ("SELECT ProviderName, BillingAccountId, BillingPeriodStart, sum(rows) AS rows, "
              "sum(BilledCost) AS BilledCost, sum(EffectiveCost) AS EffectiveCost FROM new_cube GROUP BY ALL")
    slice_df = engine.sql(
        f"SELECT *, CAST({load_id} AS BIGINT) AS load_id, "
        f"CAST({sql_literal(loaded_at.isoformat(sep=' '))} AS TIMESTAMP) AS loaded_at, {_PARTITION_SQL} "
        f"FROM ({totals})")
    slices = [tuple(r)[:6] for r in slice_df.collect()]
    (slice_df.write.mode("overwrite").option("partitionOverwriteMode", "dynamic")
        .partitionBy(_PERIOD, _SLICE).parquet(_uri(lake, "slices")))
    engine.drop("new_cube")
    engine.drop("charges")
    rows = sum(int(r[3]) for r in slices)
    _write_info(lake, last_load_id=str(load_id), last_loaded_at=loaded_at.isoformat())
    return LakeLoad(load_id, tuple(s.label for s in sources), rows,
                    tuple(sorted(slices, key=lambda r: (r[0], r[1], r[2]))), time.monotonic() - started)


@dataclasses.dataclass(frozen=True)
class LakeAllocation:
    """What a Spark allocation did.

    Attributes:
      run_id: its id.  groups: charge groups.  lines: allocated lines.  seconds: wall time.
    """

    run_id: int
    groups: int
    lines: int
    seconds: float


def allocate_spark(lake: str | os.PathLike[str], rules: Rules, engine: SparkEngine) -> LakeAllocation:
    """Allocate every charge in ``lake`` by ``rules`` on Spark; replaces the previous allocation.

    The steps and their SQL are ``finops_xl.allocation.engine.run_steps``, as for the DuckDB store.
    """
    started = time.monotonic()
    lake = Path(lake).absolute()
    if not is_lake(lake) or not (lake / "cost_daily").is_dir():
        raise FileNotFoundError(f"no lake at {lake}: load exports first "
                                "(finops-xl ingest --engine spark)")
    spark = engine.session
    cube = spark.read.option("mergeSchema", "true").parquet(_uri(lake, "cost_daily"))
    engine.view("cost_daily", cube.drop(_PERIOD, _SLICE))
    run_steps(engine, rules)
    for table in ("allocation_groups", "allocated_charges"):
        (spark.table(table).write.mode("overwrite").option("partitionOverwriteMode", "static")
            .partitionBy("month").parquet(_uri(lake, table)))
    groups = engine.fetch("SELECT count(*) FROM allocation_groups")[0][0]
    lines = engine.fetch("SELECT count(*) FROM allocated_charges")[0][0]
    info = _read_info(lake)
    run_id = int(info.get("last_run_id", 0)) + 1
    ran_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    run = (f"SELECT CAST({run_id} AS BIGINT) AS run_id, "
           f"CAST({sql_literal(ran_at.isoformat(sep=' '))} AS TIMESTAMP) AS ran_at, "
           f"{sql_literal(rules.source or '')} AS rules_source, {sql_literal(rules_digest(rules))} AS rules_digest, "
           f"{sql_literal(rules.owner)} AS owner, {sql_literal(json.dumps([p.id for p in rules.pools]))} AS pools, "
           f"{sql_literal(str(info.get('last_load_id', '')))} AS last_load_id")
    engine.sql(run).coalesce(1).write.mode("overwrite").parquet(_uri(lake, "allocation_runs"))
    for t in ("cost_daily", "allocation_groups", "allocated_charges", "alloc_defaults", "alloc_hierarchy"):
        engine.drop(t)
    _write_info(lake, last_run_id=str(run_id), last_run_at=ran_at.isoformat())
    return LakeAllocation(run_id, int(groups), int(lines), time.monotonic() - started)


def lake_views(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Expose a lake's tables (those it has) on a DuckDB connection as views, with the store's
    types (JSON tags, no partition columns), and its record as ``store_info``."""
    for table in TABLES:
        folder = lake / table
        if not folder.is_dir() or not any(folder.rglob("*.parquet")):
            continue
        glob = sql_literal(str(folder / "**" / "*.parquet"))
        drop = [c for c in (_PERIOD, _SLICE) if table in ("charges", "cost_daily", "slices")]
        exclude = f" EXCLUDE ({', '.join(drop)})" if drop else ""
        select = f"SELECT *{exclude} FROM read_parquet({glob}, hive_partitioning=true, union_by_name=true)"
        if table in ("allocation_groups", "allocated_charges"):
            select = (f"SELECT * REPLACE (CAST(month AS DATE) AS month) FROM read_parquet({glob}, "
                      f"hive_partitioning=true, union_by_name=true)")
        if table in ("charges", "cost_daily"):
            select = f"SELECT * REPLACE (CAST(Tags AS JSON) AS Tags) FROM ({select})"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {sql_identifier(table)} AS {select}")
    info = _read_info(lake)
    con.execute("CREATE OR REPLACE TEMP TABLE store_info (key VARCHAR, value VARCHAR)")
    for k, v in sorted(info.items()):
        con.execute("INSERT INTO store_info VALUES (?, ?)", [k, str(v)])


def allocated_monthly_sql(table: str = "allocated_charges") -> str:
    """The monthly aggregate of an allocation: cost per owner × month × currency (what showback
    and the Excel allocation functions sum); the same statement on every engine."""
    return (f"SELECT owner, month, currency, count(*) AS lines, sum(BilledCost) AS BilledCost, "
            f"sum(EffectiveCost) AS EffectiveCost FROM {table} GROUP BY ALL")
