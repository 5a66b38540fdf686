"""Ingest on Spark, into the same store folder as the DuckDB engine; the staging and the daily cube
that allocating on Spark (``finops_xl.allocation.spark``) uses too.

Spark does the heavy, set-based work with the same SQL as DuckDB (``finops_xl.engine``): mapping
and validating FOCUS Parquet exports, the daily cube, the allocation steps
(``finops_xl.allocation.engine.run_steps``, run by ``finops_xl.allocation.spark``). It reads the store's tables through the active file
list of the store's current commit (``store.delta.table_files``), never through a transaction log
of its own, and writes its results as Parquet into a staging folder inside the store folder
(``<store>/.tmp-<pid>-spark/``). Then ONE store transaction (``CostStore.writer`` or
``allocation_writer``, the store's lock held from the start) reads the staged Parquet with DuckDB
into its tables, and the store does its own bookkeeping: manifest, slices, slice history, notices,
the Delta commits and the pointer. The staging folder is removed afterwards, on failure too (and a
writer killed on the way leaves it to the next writer, which removes every ``.tmp-*`` folder).

So a store loaded or allocated on Spark is the store DuckDB writes, one table for both engines,
read by every query, workbook and Excel function, and by Spark or Databricks as Delta tables.

Spark's executors read the inputs and write the staging folder by path: on a cluster, the inputs
and the store folder must be on storage every executor sees at the same path.

Limits: Spark reads FOCUS Parquet exports (CSV, native exports and OpenCost files load with the
duckdb engine); kubernetes pools allocate on the duckdb engine only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
import shutil
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb

from finops_xl.engine.spark_engine import SparkEngine
from finops_xl.focus.reader import FocusFile, _beyond_limit_together
from finops_xl.store import delta, opencost
from finops_xl.store import ingest as load
from finops_xl.store.errors import IngestError, Problem, StoreError
from finops_xl.store.sources import SourceFile, find_inputs, sql_identifier, sql_literal
from finops_xl.store.store import CostStore, cube_select_sql, table_columns

#: Column carrying each source row's file URI, in a Spark reader over several files.
_FILE = "__finops_xl_source_path"

#: The allocation's tables Spark computes (``allocation_runs`` is the store's bookkeeping;
#: ``finops_xl.allocation.spark`` runs the steps).
_ALLOCATION = ("allocation_groups", "allocated_charges")


@contextlib.contextmanager
def staging(store: Path) -> Iterator[Path]:
    """A staging folder for Spark's results inside the store folder, removed at the end.

    Named like a writer's spill folder (``.tmp-<pid>...``), so a writer killed before removing it
    leaves it to the next writer's repair, which removes them all."""
    folder = store / f".tmp-{os.getpid()}-spark"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _parquet(folder: Path) -> str:
    """DuckDB's reader of the Parquet files Spark wrote into ``folder``."""
    return f"read_parquet({sql_literal(str(folder / '*.parquet'))})"


def _write(df, folder: Path) -> None:
    df.write.mode("overwrite").parquet(str(folder))


def _prepare(engine: SparkEngine) -> None:
    """Session settings the staged Parquet relies on: timestamps as plain microseconds (DuckDB
    reads them as instants, taken as UTC by the store's session)."""
    engine.session.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    engine.session.conf.set("spark.sql.session.timeZone", "UTC")


def _source_view(engine: SparkEngine, name: str, files: list[FocusFile]) -> None:
    """One Spark reader over ``files`` (Parquet sharing a header) as view ``name``, each row with
    its file's URI, as Spark names it, in ``_FILE`` (decoded to a path on the driver: ``_uri_path``)."""
    from pyspark.sql import functions as F

    df = engine.session.read.parquet(*(str(f.source.path) for f in files))
    df.withColumn(_FILE, F.input_file_name()).createOrReplaceTempView(name)


def _uri_path(uri: str) -> str:
    """The absolute path of a file URI as ``input_file_name()`` gives it."""
    return urllib.parse.unquote(re.sub(r"^file:(//)?", "", uri))


# ---- ingest -------------------------------------------------------------------------------------


def _validate(con: duckdb.DuckDBPyConnection, engine: SparkEngine, sources: list[SourceFile],
              hashes: dict) -> tuple[list[load.FileReport], list[FocusFile], dict[str, str]]:
    """Map and validate every file; the validating aggregate runs on Spark, one query per header.
    Returns the reports, the files, and the URI Spark reads each file's path by. Any problem in
    any file raises IngestError."""
    problems: list[Problem] = []
    candidates: list[FocusFile] = []
    for s in sources:
        try:
            candidates.append(FocusFile(con, s))
        except IngestError as exc:
            problems.extend(exc.problems)
    groups: dict[tuple, list[int]] = {}
    for i, f in enumerate(candidates):
        groups.setdefault(f.header, []).append(i)
    results: dict[int, list[Problem]] = {}
    uris: dict[str, str] = {}
    for members in groups.values():
        _source_view(engine, "__finops_xl_src", [candidates[i] for i in members])
        counts = {}
        for r in engine.fetch(f"SELECT {_FILE}, {candidates[members[0]].validation_sql()} "
                              "FROM __finops_xl_src GROUP BY 1"):
            uris[_uri_path(r[0])] = r[0]
            counts[_uri_path(r[0])] = tuple(r[1:])
        for i in members:
            results[i] = candidates[i].problems_from(counts.get(str(candidates[i].source.path)))
    _beyond_limit_together(candidates, results)
    reports: list[load.FileReport] = []
    for i, f in enumerate(candidates):
        if results[i]:
            problems.extend(results[i])
            continue
        rows = f.rows or 0
        norms = [dataclasses.replace(n, rows=rows) if n.rows == 0 else n for n in f.column_normalizations]
        norms.extend(f.value_normalizations())
        s = f.source
        reports.append(load.FileReport(s.label, s.format, s.size, f.version, rows, hashes[s.path],
                                       tuple(norms), f.extras, None, f.notices, (str(s.path),)))
    if problems:
        raise IngestError(problems)
    return reports, candidates, uris


def _stage_charges(engine: SparkEngine, files: list[FocusFile], reports: list[load.FileReport],
                   uris: dict[str, str], columns: dict[str, str], load_id: int, stage: Path) -> None:
    """The load's canonical rows (``stage/charges``) and their daily cube (``stage/cube``), on Spark."""
    plans: dict[tuple, list[int]] = {}
    for i, f in enumerate(files):
        plans.setdefault(f.plan_key(), []).append(i)
    frames = []
    for n, members in enumerate(plans.values()):
        view = f"__finops_xl_plan_{n}"
        _source_view(engine, view, [files[i] for i in members])
        # every file here has rows (an empty file is a problem), so validation saw its URI
        labels = " ".join(f"WHEN {sql_literal(uris[str(files[i].source.path)])} "
                          f"THEN {sql_literal(reports[i].label)}" for i in members)
        frames.append(engine.sql(files[members[0]].select_sql(
            columns, extra={"x_LoadId": f"CAST({int(load_id)} AS BIGINT)",
                            "x_SourceFile": f"CASE {_FILE} {labels} END"}, reader=view)))
    rows = frames[0]
    for df in frames[1:]:
        rows = rows.unionByName(df)
    _write(rows, stage / "charges")
    engine.view("__finops_xl_new_charges", engine.session.read.parquet(str(stage / "charges")), checkpoint=False)
    _write(engine.sql(cube_select_sql("true", charges="__finops_xl_new_charges")), stage / "cube")
    engine.drop("__finops_xl_new_charges")


def ingest_spark(paths: Sequence[str | os.PathLike[str]], store: CostStore | str | os.PathLike[str],
                 engine: SparkEngine) -> load.LoadReport:
    """Load FOCUS Parquet exports into ``store`` on Spark, as one load: the same restatement rule,
    checks, bookkeeping and report as ``store.ingest.ingest``; any problem changes nothing."""
    started = time.monotonic()
    store = store if isinstance(store, CostStore) else CostStore(store)
    inputs = find_inputs(list(paths))
    originals, skipped, hashes, stats = load.unique_inputs(inputs, lambda stage, fraction: None)
    not_parquet = [s for s in originals if s.format != "parquet"]
    if not_parquet:
        raise IngestError([Problem(s.label, "the spark engine reads FOCUS Parquet; load CSV, native "
                                   "exports and OpenCost files with the duckdb engine, or convert them "
                                   "to FOCUS Parquet (finops-xl convert)") for s in not_parquet])
    _prepare(engine)
    with store.writer() as con, staging(store.path) as stage:
        if not originals or load._already_current(con, sorted(hashes[s.path] for s in originals)):
            return load.LoadReport(None, (), (), 0, True, time.monotonic() - started, tuple(skipped))
        reports, files, uris = _validate(con, engine, originals, hashes)
        load_id = opencost.next_load_id(con)
        loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        con.execute("BEGIN TRANSACTION")
        notices = load._add_new_columns(con, files)
        _stage_charges(engine, files, reports, uris, table_columns(con, "charges"), load_id, stage)
        con.execute(f"INSERT INTO charges BY NAME SELECT * FROM {_parquet(stage / 'charges')}")
        load._refuse_duplicate_charges(con, load_id)
        con.execute(f"CREATE OR REPLACE TEMP TABLE spark_cube AS SELECT * FROM {_parquet(stage / 'cube')}")
        spelled = load._unify_account_spellings(con, load_id)
        if spelled:  # the cube follows the charges to the store's spelling of the account
            con.execute("""
                UPDATE spark_cube SET BillingAccountId = s.BillingAccountId FROM slices s
                WHERE s.ProviderName = spark_cube.ProviderName
                  AND s.BillingPeriodStart = spark_cube.BillingPeriodStart
                  AND s.BillingAccountId <> spark_cube.BillingAccountId
                  AND regexp_full_match(spark_cube.BillingAccountId, '[0-9]+')
                  AND regexp_full_match(s.BillingAccountId, '[0-9]+')
                  AND ltrim(spark_cube.BillingAccountId, '0') = ltrim(s.BillingAccountId, '0')""")
        notices += spelled
        slices, replaced = load._replace_slices(con, load_id, loaded_at, cube=False)
        notices += replaced
        con.execute("INSERT INTO cost_daily BY NAME SELECT * FROM spark_cube")
        con.execute("DROP TABLE spark_cube")
        changed = load._changed(originals, stats)
        if changed:
            raise IngestError(changed)
        load._record(con, load_id, loaded_at, reports, notices)
        con.execute("COMMIT")
    return load.LoadReport(load_id, tuple(reports), tuple(slices), sum(r.rows for r in reports), False,
                           time.monotonic() - started, tuple(skipped), tuple(notices))


# ---- allocate -----------------------------------------------------------------------------------


def _cube_on_spark(engine: SparkEngine, store: CostStore) -> None:
    """The store's daily cube, as its current commit has it, as Spark's ``cost_daily`` (its active
    files, read by path), with the store's columns."""
    head = store.head()
    if head is None or "cost_daily" not in head.tables:
        raise StoreError(f"no charges in the cost store {store.path}: load exports first (finops-xl ingest)")
    files, _ = delta.table_files(store.path / "cost_daily", head.tables["cost_daily"])
    if not files:
        raise StoreError(f"no charges in the cost store {store.path}: load exports first (finops-xl ingest)")
    df = engine.session.read.option("mergeSchema", "true").parquet(*files)
    present = {c.lower() for c in df.columns}
    select = []
    for name in head.columns["cost_daily"]:
        if name in (delta.PERIOD, delta.SLICE):
            continue
        select.append(sql_identifier(name) if name.lower() in present else f"NULL AS {sql_identifier(name)}")
    df.createOrReplaceTempView("__finops_xl_cube_files")
    engine.view("cost_daily", engine.sql(f"SELECT {', '.join(select)} FROM __finops_xl_cube_files"))


def allocated_monthly_sql(table: str = "allocated_charges") -> str:
    """The monthly aggregate of an allocation: cost per owner × month × currency (what showback
    and the Excel allocation functions sum); the same statement on every engine."""
    return (f"SELECT owner, month, currency, count(*) AS lines, sum(BilledCost) AS BilledCost, "
            f"sum(EffectiveCost) AS EffectiveCost FROM {table} GROUP BY ALL")
