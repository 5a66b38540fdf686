"""The Spark engine on the cost store: ingest and allocate on Spark write the same store folder as
DuckDB, with totals equal to DuckDB's and to the exports, to the cent, in Spark local mode and on a
standalone Spark cluster (a master and one worker started here from pyspark's own ``spark-class``).

Expected totals come from the generated Parquet files themselves (read with pyarrow, summed with
Python's Decimal), and the DuckDB engine's store is the second reference. Spark works on a few
thousand rows: local mode with two cores and two shuffle partitions first, then the cluster (one
SparkContext per process: the cluster's tests stop the local session, so they come last).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
try:
    import pyspark
except ImportError:  # pragma: no cover - depends on the installed extras
    if _CI:
        pytest.fail("CI=true: the Spark tests need pyspark (pip install -e '.[test,spark]')", pytrace=False)
    pytest.skip("pyspark is not installed", allow_module_level=True)
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    if _CI:
        pytest.fail("CI=true: the Spark tests need Java 17 (java on PATH or JAVA_HOME)", pytrace=False)
    pytest.skip("Java is not installed", allow_module_level=True)

from finops_xl.allocation.engine import allocate  # noqa: E402
from finops_xl.allocation.rules import load_rules  # noqa: E402
from finops_xl.allocation.spark import allocate_spark  # noqa: E402
from finops_xl.cli import main  # noqa: E402
from finops_xl.data import allocation_rules  # noqa: E402
from finops_xl.engine.dialect import to_spark  # noqa: E402
from finops_xl.engine.spark_engine import SparkEngine, spark_session  # noqa: E402
from finops_xl.engine.spark_store import allocated_monthly_sql, ingest_spark  # noqa: E402
from finops_xl.sample.generator import SampleSpec, generate  # noqa: E402
from finops_xl.store import delta  # noqa: E402
from finops_xl.store.errors import IngestError  # noqa: E402
from finops_xl.store.ingest import ingest  # noqa: E402
from finops_xl.store.store import CostStore  # noqa: E402
from finops_xl.store.summary import cost_by_provider_month  # noqa: E402

ROWS = 2000
CENT = Decimal("0.01")
# executors run this interpreter (the driver's), and small JVMs
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("FINOPS_XL_SPARK_MEMORY", "1g")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # the driver, as the cluster, on 127.0.0.1


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    generate(SampleSpec(rows=ROWS, months=2, seed=9), out)
    return out


@pytest.fixture(scope="module")
def rules():
    return load_rules(allocation_rules())


@pytest.fixture(scope="module")
def duck(tmp_path_factory, exports, rules) -> CostStore:
    """The DuckDB engine's store of the exports, allocated by the demo rules."""
    store = CostStore(tmp_path_factory.mktemp("duck") / "store")
    ingest([exports], store)
    allocate(store, rules)
    return store


def _small(session):
    """A session for a few thousand rows: without adaptive query execution, whose re-planning of
    every stage costs more than the stage here (it pays off on large data, so the engine keeps it)."""
    session.conf.set("spark.sql.shuffle.partitions", "2")
    session.conf.set("spark.sql.adaptive.enabled", "false")
    return session


@pytest.fixture(scope="module")
def spark():
    engine = SparkEngine(_small(spark_session("local[2]", shuffle_partitions=2)))
    yield engine
    engine.session.stop()


@pytest.fixture(scope="module")
def local(tmp_path_factory, exports, rules, spark) -> CostStore:
    """The Spark engine's store of the exports (local mode), allocated by the demo rules."""
    store = CostStore(tmp_path_factory.mktemp("local") / "store")
    ingest_spark([exports], store, spark)
    allocate_spark(store, rules, spark)
    return store


# ---- what the expected numbers are -------------------------------------------------------------


def _export_slices(exports: Path) -> dict[tuple, tuple]:
    """(provider, billing account, billing period start) → (rows, BilledCost, EffectiveCost), summed
    from the Parquet files with Decimal."""
    acc: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    cols = ["ProviderName", "BillingAccountId", "BillingPeriodStart", "BilledCost", "EffectiveCost"]
    for path in sorted(exports.glob("*.parquet")):
        t = pq.read_table(path, columns=cols)
        for p, a, start, billed, eff in zip(*(t.column(c).to_pylist() for c in cols)):
            key = (p, a, start.replace(tzinfo=None))
            acc[key][0] += 1
            acc[key][1] += Decimal(billed)
            acc[key][2] += Decimal(eff)
    return {k: tuple(v) for k, v in acc.items()}


def _export_months(exports: Path) -> dict[tuple, list]:
    """(month of ChargePeriodStart, currency) → [BilledCost, EffectiveCost], from the Parquet files."""
    acc: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    cols = ["ChargePeriodStart", "BillingCurrency", "BilledCost", "EffectiveCost"]
    for path in sorted(exports.glob("*.parquet")):
        t = pq.read_table(path, columns=cols)
        for start, currency, billed, eff in zip(*(t.column(c).to_pylist() for c in cols)):
            key = (start.date().replace(day=1), currency)
            acc[key][0] += Decimal(billed)
            acc[key][1] += Decimal(eff)
    return dict(acc)


def _rows(store: CostStore, sql: str) -> list[tuple]:
    with store.reader() as con:
        return sorted(con.execute(sql).fetchall(), key=repr)


_SLICE_SQL = {
    "charges": "SELECT ProviderName, BillingAccountId, BillingPeriodStart, count(*), sum(BilledCost), "
               "sum(EffectiveCost) FROM charges GROUP BY ALL",
    "cost_daily": "SELECT ProviderName, BillingAccountId, BillingPeriodStart, sum(rows), sum(BilledCost), "
                  "sum(EffectiveCost) FROM cost_daily GROUP BY ALL",
    "slices": "SELECT ProviderName, BillingAccountId, BillingPeriodStart, rows, BilledCost, EffectiveCost "
              "FROM slices",
}


def _slices(store: CostStore, table: str) -> dict[tuple, tuple]:
    return {(p, a, b): (int(n), Decimal(bc), Decimal(ec)) for p, a, b, n, bc, ec in _rows(store, _SLICE_SQL[table])}


def _cents(totals: dict) -> dict:
    return {k: tuple(v.quantize(CENT) if isinstance(v, Decimal) else v for v in vs) for k, vs in totals.items()}


def _owner_months(store: CostStore) -> dict[tuple, tuple]:
    return {(o, m, c): (int(n), Decimal(b), Decimal(e)) for o, m, c, n, b, e in _rows(store, allocated_monthly_sql())}


def _assert_equal_to_duckdb_and_exports(store: CostStore, duck: CostStore, exports: Path) -> None:
    expected = _export_slices(exports)
    assert len(expected) >= 4
    for table in _SLICE_SQL:
        got = _slices(store, table)
        assert _cents(got) == _cents(expected), table
        assert got == expected, table  # exact, 12 decimals
        assert got == _slices(duck, table), table
    owners = _owner_months(store)
    assert len(owners) > 10
    assert _cents(owners) == _cents(_owner_months(duck))
    assert owners == _owner_months(duck)
    by_month: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for (_, month, currency), (_, b, e) in owners.items():
        by_month[(month, currency)][0] += b
        by_month[(month, currency)][1] += e
    assert dict(by_month) == _export_months(exports)  # the allocation ties to the exports


def _no_staging_left(store: CostStore) -> None:
    assert not [p.name for p in store.path.iterdir() if p.name.startswith(".tmp")]


# ---- Spark local mode -----------------------------------------------------------------------------


def test_a_spark_load_and_allocation_equal_duckdb_and_the_exports_to_the_cent(local, duck, exports):
    _assert_equal_to_duckdb_and_exports(local, duck, exports)
    _no_staging_left(local)


def test_spark_writes_the_store_folder_of_delta_tables_with_the_stores_bookkeeping(local, duck):
    assert delta.is_store_folder(local.path) and not (local.path / "store_info.json").exists()
    head = local.head()
    for table in ("charges", "cost_daily", "slices", "manifest", "slice_history", "allocation_groups",
                  "allocated_charges", "allocation_runs"):
        assert (local.path / table / "_delta_log").is_dir(), table
        assert table in head.tables, table
    assert [c.kind for c in local.history()] == ["load", "allocation"]
    load = local.history()[0]
    assert load.changes["rows"] == _rows(duck, "SELECT count(*) FROM charges")[0][0]
    # the manifest, as the DuckDB engine records it (its own load ids and times aside)
    cols = "source_file, content_hash, bytes, format, focus_version, rows, slices"
    assert _rows(local, f"SELECT {cols} FROM manifest") == _rows(duck, f"SELECT {cols} FROM manifest")
    # the charges' active files partitioned by billing period and slice
    files, _ = delta.table_files(local.path / "charges", head.tables["charges"])
    assert files and all(f"{delta.PERIOD}=" in f and f"{delta.SLICE}=" in f for f in files)


def test_loading_the_same_files_again_on_spark_changes_nothing(local, exports, spark):
    head = local.head()
    report = ingest_spark([exports], local, spark)
    assert report.unchanged and report.load_id is None
    assert local.head() == head


def test_groups_and_lines_are_identical_row_for_row(local, duck):
    cols = ("month, currency, owner, kind, method, rule_id, pool_id, group_id, share, source_rows, "
            "BilledCost, EffectiveCost")
    assert _rows(local, f"SELECT {cols} FROM allocated_charges") == \
        _rows(duck, f"SELECT {cols} FROM allocated_charges")
    gcols = "group_id, month, currency, ProviderName, SubAccountId, ServiceName, owner, owner_method, pool_id, rows"
    assert _rows(local, f"SELECT {gcols} FROM allocation_groups") == \
        _rows(duck, f"SELECT {gcols} FROM allocation_groups")


def test_the_excel_side_reads_a_spark_loaded_store_like_any_store(local, duck):
    import datetime as dt

    from finops_xl.query.costs import queries_for

    assert cost_by_provider_month(local) == cost_by_provider_month(duck)
    q_spark, q_duck = queries_for(local), queries_for(duck)
    start, end = dt.date(2025, 1, 1), dt.date(2025, 3, 1)
    assert q_spark.cost(start, end) == q_duck.cost(start, end) > 0


def test_a_restated_slice_replaces_its_rows_and_the_duckdb_engine_agrees(tmp_path, local, duck, exports, spark):
    original = sorted(exports.glob("aws-*.parquet"))[0]
    table = pq.read_table(original)
    half = tmp_path / "restated"
    half.mkdir()
    pq.write_table(table.slice(0, table.num_rows // 2), half / original.name)
    stores = []
    for source, load in ((local, lambda s: ingest_spark([half], s, spark)), (duck, lambda s: ingest([half], s))):
        copy = CostStore(tmp_path / f"copy-{len(stores)}")
        shutil.copytree(source.path, copy.path, symlinks=True)
        # what a Spark writer killed before its end left: the next writer removes it
        (copy.path / ".tmp-999999-spark" / "charges").mkdir(parents=True)
        (copy.path / ".tmp-999999-spark" / "charges" / "part-0.parquet").write_bytes(b"PAR1")
        report = load(copy)
        assert [(s.rows, s.replaced_rows, s.is_new) for s in report.slices] == \
            [(table.num_rows // 2, table.num_rows, False)]
        stores.append(copy)
    spark_copy, duck_copy = stores
    _no_staging_left(duck_copy)
    for name in _SLICE_SQL:
        assert _slices(spark_copy, name) == _slices(duck_copy, name), name
    account = table.column("BillingAccountId")[0].as_py()
    assert _rows(spark_copy, f"SELECT count(*) FROM charges WHERE BillingAccountId = '{account}' "
                             f"AND x_SourceFile LIKE '%{original.name}'") == [(table.num_rows // 2,)]
    assert spark_copy.history()[-1].changes["slices"][0]["rows"] == table.num_rows // 2
    # the store before the restatement is still there, as of its commit
    assert _slices(CostStore(spark_copy.path, as_of=2), "charges") == _slices(local, "charges")
    _no_staging_left(spark_copy)


def test_an_account_id_without_its_leading_zeros_replaces_the_stored_slice_on_spark_too(
        tmp_path, local, duck, exports, spark):
    original = sorted(exports.glob("aws-*.parquet"))[0]
    table = pq.read_table(original)
    account = table.column("BillingAccountId")[0].as_py()
    assert account.isdigit()
    i = table.schema.get_field_index("BillingAccountId")
    spelled = tmp_path / "spelled"
    spelled.mkdir()  # the same month, the account written with a leading zero
    pq.write_table(table.set_column(i, "BillingAccountId", pa.array(["0" + account] * table.num_rows)),
                   spelled / original.name)
    copies = []
    loads = ((local, lambda s: ingest_spark([spelled], s, spark)), (duck, lambda s: ingest([spelled], s)))
    for source, load in loads:
        copy = CostStore(tmp_path / f"copy-{len(copies)}")
        shutil.copytree(source.path, copy.path, symlinks=True)
        report = load(copy)
        assert [(s.billing_account, s.is_new) for s in report.slices] == [(account, False)]
        assert any(n.column == "BillingAccountId" and n.value == "0" + account for n in report.notices)
        copies.append(copy)
    for name in _SLICE_SQL:  # the cube follows the charges to the stored spelling
        assert _slices(copies[0], name) == _slices(copies[1], name) == _slices(local, name), name
    for table in ("charges", "cost_daily"):
        assert _rows(copies[0], f"SELECT count(*) FROM {table} WHERE BillingAccountId = '0{account}'") == [(0,)]


def test_a_load_refused_after_spark_staged_its_rows_leaves_the_store_and_no_staging(tmp_path, local, exports, spark):
    original = sorted(exports.glob("aws-*.parquet"))[0]
    twice = tmp_path / "twice"
    twice.mkdir()
    shutil.copyfile(original, twice / original.name)
    # the same charges in other bytes (another compression): refused once Spark has staged the rows
    pq.write_table(pq.read_table(original), twice / "again.parquet", compression="gzip")
    copy = CostStore(tmp_path / "copy")
    shutil.copytree(local.path, copy.path, symlinks=True)
    head, before = copy.head(), _slices(copy, "charges")
    with pytest.raises(IngestError, match="holds the same charges as"):
        ingest_spark([twice], copy, spark)
    assert copy.head() == head and _slices(copy, "charges") == before
    _no_staging_left(copy)


def test_bad_rows_abort_a_spark_load_and_leave_nothing(tmp_path, exports, spark):
    table = pq.read_table(sorted(exports.glob("*.parquet"))[0])
    i = table.schema.get_field_index("ChargeCategory")
    values = table.column(i).to_pylist()
    values[3] = "Bogus"
    bad = tmp_path / "bad"
    bad.mkdir()
    pq.write_table(table.set_column(i, "ChargeCategory", pa.array(values, pa.string())), bad / "bad.parquet")
    with pytest.raises(IngestError) as err:
        ingest_spark([bad], tmp_path / "store", spark)
    problem = err.value.problems[0]
    assert (problem.column, problem.row, problem.value) == ("ChargeCategory", 4, "Bogus")
    assert not (tmp_path / "store").exists()  # a first load that failed leaves no store


def test_spark_reads_parquet_only(tmp_path, sample_csv, spark):
    with pytest.raises(IngestError, match="spark engine reads FOCUS Parquet"):
        ingest_spark([sample_csv], tmp_path / "store", spark)


TAGS = ['{"team": "Payments-Team", "eks:cluster-name": "prod-1"}', '{"Team": "ml"}', None,
        '{"team": " ", "env": "prd"}', '{"team": 7}']


@pytest.mark.parametrize("sql", [
    "SELECT t, t->>'team', t->>'eks:cluster-name', NULLIF(trim(CAST(t AS JSON)->>'team'), '') FROM tags",
    "SELECT DISTINCT unnest(json_keys(t)) FROM tags WHERE t IS NOT NULL",
    "SELECT t, json_valid(t), regexp_full_match(coalesce(t, ''), '\\{.*\\}') FROM tags",
    "SELECT t, regexp_replace(lower(coalesce(t, '')), '[\\s\\-_.]', '', 'g') FROM tags",
])
def test_a_statement_gives_the_same_table_on_both_engines(spark, sql):
    table = pa.table({"t": pa.array(TAGS, pa.string())})
    con = duckdb.connect()
    con.register("tags", table)
    duck = sorted(con.execute(sql).fetchall(), key=repr)
    spark.register("tags", table)
    assert sorted((tuple(r) for r in spark.session.sql(to_spark(sql)).collect()), key=repr) == duck


def test_json_keys_are_read_by_name_whatever_they_hold():
    assert "from_json" in to_spark("SELECT Tags->>'eks:cluster-name' FROM t").lower()
    assert "'eks:cluster-name'" in to_spark("SELECT Tags->>'eks:cluster-name' FROM t")


# ---- a standalone Spark cluster -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path, env: dict, ready: str, timeout: float = 180) -> subprocess.Popen:
    """Start a Spark daemon through pyspark's ``spark-class``; wait until its log says ``ready``."""
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(spark_class), *args], stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready in log.read_text(errors="replace"):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    _stop(proc)
    raise AssertionError(f"{args[0]} did not start:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, spark):
    """A standalone cluster on 127.0.0.1: a master and one worker (1 core, 1 GiB); its master URL
    and the worker's folder. The local session is stopped first (one SparkContext per process)."""
    spark.session.stop()
    root = tmp_path_factory.mktemp("cluster")
    env = dict(os.environ, SPARK_HOME=str(Path(pyspark.__file__).parent), SPARK_LOCAL_IP="127.0.0.1",
               SPARK_LOG_DIR=str(root), SPARK_WORKER_DIR=str(root / "work"), PYSPARK_PYTHON=sys.executable)
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    master = _start(["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                     "--webui-port", "0"], root / "master.log", env, "I have been elected leader")
    try:
        worker = _start(["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--webui-port", "0",
                         "--cores", "1", "--memory", "1g", "--work-dir", str(root / "work"), url],
                        root / "worker.log", env, "Successfully registered with master")
        try:
            # the session the CLI's --spark URL finds (getOrCreate), with a few shuffle partitions
            session = _small(spark_session(url, shuffle_partitions=2))
            assert session.sparkContext.master == url
            yield url, root / "work"
            session.stop()
        finally:
            _stop(worker)
    finally:
        _stop(master)


def test_ingest_and_allocate_on_a_standalone_cluster_equal_duckdb_to_the_cent(
        cluster, tmp_path, exports, duck, capsys):
    url, work = cluster
    store = CostStore(tmp_path / "store")
    assert main(["ingest", "--engine", "spark", "--spark", url, "--store", str(store.path), str(exports)]) == 0
    assert main(["allocate", "--engine", "spark", "--spark", url, "--store", str(store.path),
                 "--rules", str(allocation_rules())]) == 0
    out = capsys.readouterr().out
    assert f"loaded {sum(pq.read_metadata(p).num_rows for p in exports.glob('*.parquet')):,} rows" in out
    assert ", spark)" in out and "by team" in out
    _assert_equal_to_duckdb_and_exports(store, duck, exports)
    _no_staging_left(store)
    # the work ran in the worker's executors (one application folder with its executor's logs)
    apps = sorted(work.glob("app-*"))
    assert len(apps) == 1 and list(apps[0].glob("*/stderr"))
    # the DuckDB engine allocates the Spark-loaded store to the same lines
    allocate(store, load_rules(allocation_rules()))
    assert _owner_months(store) == _owner_months(duck)
