"""The Spark engine: the same data and rules through DuckDB and Spark local mode give the same
allocation, to the cent, and the same row counts.

Expected totals come from the generated Parquet files themselves (read with pyarrow, summed with
Python's Decimal), never from either engine. Spark runs in local mode with two cores and two
shuffle partitions over a few thousand rows, one session for the module.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark")

from finops_xl.allocation.engine import allocate  # noqa: E402
from finops_xl.allocation.rules import load_rules  # noqa: E402
from finops_xl.cli import main  # noqa: E402
from finops_xl.data import allocation_rules  # noqa: E402
from finops_xl.engine.dialect import to_spark  # noqa: E402
from finops_xl.engine.lake import allocate_spark, allocated_monthly_sql, ingest_spark  # noqa: E402
from finops_xl.engine.spark_engine import SparkEngine, spark_session  # noqa: E402
from finops_xl.sample.generator import SampleSpec, generate  # noqa: E402
from finops_xl.store.errors import IngestError  # noqa: E402
from finops_xl.store.ingest import ingest  # noqa: E402
from finops_xl.store.store import CostStore  # noqa: E402
from finops_xl.store.summary import cost_by_provider_month  # noqa: E402

ROWS = 4000
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def spark():
    return SparkEngine(spark_session("local[2]", shuffle_partitions=2))


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    generate(SampleSpec(rows=ROWS, months=2, seed=9), out)
    return out


@pytest.fixture(scope="module")
def both(tmp_path_factory, exports, spark):
    """(DuckDB store, Spark lake), each loaded with the exports and allocated by the demo rules."""
    rules = load_rules(allocation_rules())
    root = tmp_path_factory.mktemp("engines")
    store = CostStore(root / "store" / "finops.duckdb")
    ingest([exports], store)
    allocate(store, rules)
    lake = CostStore(root / "lake")
    ingest_spark([exports], lake.path, spark)
    allocate_spark(lake.path, rules, spark)
    return store, lake


def _fixture_totals(exports: Path) -> dict[tuple, list]:
    """(month, currency) → [rows, BilledCost, EffectiveCost], straight from the Parquet files."""
    acc: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for path in sorted(exports.glob("*.parquet")):
        t = pq.read_table(path, columns=["ChargePeriodStart", "BillingCurrency", "BilledCost", "EffectiveCost"])
        for start, cur, billed, eff in zip(*(t.column(i).to_pylist() for i in range(4))):
            key = (start.date().replace(day=1), cur)
            acc[key][0] += 1
            acc[key][1] += billed
            acc[key][2] += eff
    return dict(acc)


def _rows(store: CostStore, sql: str) -> list[tuple]:
    with store.reader() as con:
        return sorted(con.execute(sql).fetchall(), key=repr)


def test_allocated_totals_per_owner_month_currency_are_identical(both):
    store, lake = both
    duck = _rows(store, allocated_monthly_sql())
    spark = _rows(lake, allocated_monthly_sql())
    assert len(duck) > 10
    assert spark == duck  # exact, 12 decimals
    as_cents = lambda rows: [(o, m, c, Decimal(b).quantize(CENT), Decimal(e).quantize(CENT))  # noqa: E731
                             for o, m, c, _, b, e in rows]
    assert as_cents(spark) == as_cents(duck)


def test_row_counts_are_identical(both, exports):
    store, lake = both
    for table in ("charges", "cost_daily", "allocation_groups", "allocated_charges"):
        assert _rows(store, f"SELECT count(*) FROM {table}") == _rows(lake, f"SELECT count(*) FROM {table}"), table
    expected = sum(pq.read_metadata(p).num_rows for p in exports.glob("*.parquet"))
    assert _rows(lake, "SELECT count(*) FROM charges") == [(expected,)]


def test_both_engines_tie_to_the_exports(both, exports):
    expected = _fixture_totals(exports)
    for store in both:
        got = {(m, c): [int(n), Decimal(b), Decimal(e)] for m, c, n, b, e in _rows(store, """
            SELECT CAST(date_trunc('month', ChargeDate) AS DATE), BillingCurrency, sum(rows),
                   sum(BilledCost), sum(EffectiveCost) FROM cost_daily GROUP BY ALL""")}
        assert got == expected
        allocated = {(m, c): [Decimal(b), Decimal(e)] for m, c, b, e in _rows(store, """
            SELECT month, currency, sum(BilledCost), sum(EffectiveCost) FROM allocated_charges GROUP BY ALL""")}
        assert allocated == {k: v[1:] for k, v in expected.items()}


def test_groups_and_lines_are_identical_row_for_row(both):
    store, lake = both
    cols = ("month, currency, owner, kind, method, rule_id, pool_id, group_id, share, source_rows, "
            "BilledCost, EffectiveCost")
    assert _rows(lake, f"SELECT {cols} FROM allocated_charges") == _rows(store, f"SELECT {cols} FROM allocated_charges")
    gcols = "group_id, month, currency, ProviderName, SubAccountId, ServiceName, owner, owner_method, pool_id, rows"
    assert _rows(lake, f"SELECT {gcols} FROM allocation_groups") == _rows(store, f"SELECT {gcols} FROM allocation_groups")


def test_the_excel_side_reads_a_lake_like_a_store(both):
    store, lake = both
    assert cost_by_provider_month(lake) == cost_by_provider_month(store)


def test_a_restated_slice_replaces_its_rows_in_the_lake(tmp_path, exports, spark):
    lake = tmp_path / "lake"
    ingest_spark([exports], lake, spark)
    original = sorted(exports.glob("aws-*.parquet"))[0]
    table = pq.read_table(original)
    restated_dir = tmp_path / "restated"
    restated_dir.mkdir()
    pq.write_table(table.slice(0, table.num_rows // 2), restated_dir / original.name)
    ingest_spark([restated_dir], lake, spark)
    account = table.column("BillingAccountId")[0].as_py()
    period = table.column("BillingPeriodStart")[0].as_py()
    con = duckdb.connect()
    try:
        from finops_xl.engine.lake import lake_views

        lake_views(con, lake)
        n = con.execute("SELECT count(*) FROM charges WHERE BillingAccountId = ? AND BillingPeriodStart = ?",
                        [account, period]).fetchall()[0][0]
        total = con.execute("SELECT count(*) FROM charges").fetchall()[0][0]
        cube = con.execute("SELECT sum(rows) FROM cost_daily").fetchall()[0][0]
    finally:
        con.close()
    all_rows = sum(pq.read_metadata(p).num_rows for p in exports.glob("*.parquet"))
    assert n == table.num_rows // 2
    assert total == all_rows - table.num_rows + table.num_rows // 2
    assert cube == total


def test_an_input_reached_twice_is_loaded_once_by_spark_too(tmp_path, exports, spark):
    one = sorted(exports.glob("aws-*.parquet"))[0]
    copy = tmp_path / "copy" / "renamed.parquet"
    copy.parent.mkdir()
    shutil.copyfile(one, copy)
    load = ingest_spark([one, str(one), copy, one.parent / ".." / one.parent.name / one.name],
                        tmp_path / "lake", spark)
    assert load.files == (str(one),)
    assert load.rows == pq.read_metadata(one).num_rows


def test_bad_rows_abort_a_spark_load_before_anything_is_written(tmp_path, exports, spark):
    table = pq.read_table(sorted(exports.glob("*.parquet"))[0])
    i = table.schema.get_field_index("ChargeCategory")
    values = table.column(i).to_pylist()
    values[3] = "Bogus"
    bad = tmp_path / "bad"
    bad.mkdir()
    pq.write_table(table.set_column(i, "ChargeCategory", pa.array(values, pa.string())), bad / "bad.parquet")
    with pytest.raises(IngestError) as err:
        ingest_spark([bad], tmp_path / "lake", spark)
    problem = err.value.problems[0]
    assert (problem.column, problem.row, problem.value) == ("ChargeCategory", 4, "Bogus")
    assert not (tmp_path / "lake").exists()


def test_file_names_with_spaces_plus_and_percent_keep_their_rows_and_labels(tmp_path, exports, spark):
    odd = tmp_path / "exports 2025+q1 100%"
    odd.mkdir()
    originals = sorted(exports.glob("*.parquet"))[:2]
    names = ["aws jan+feb.parquet", "gcp%20 é.parquet"]
    for src, name in zip(originals, names):
        shutil.copy(src, odd / name)
    load = ingest_spark([odd], tmp_path / "lake", spark)
    assert load.rows == sum(pq.read_metadata(p).num_rows for p in originals)
    con = duckdb.connect()
    try:
        from finops_xl.engine.lake import lake_views

        lake_views(con, tmp_path / "lake")
        by_file = dict(con.execute("SELECT x_SourceFile, count(*) FROM charges GROUP BY 1").fetchall())
    finally:
        con.close()
    assert sorted(by_file) == sorted(load.files)
    assert sorted(by_file.values()) == sorted(pq.read_metadata(p).num_rows for p in originals)


def test_spark_reads_parquet_only(tmp_path, sample_csv, spark):
    with pytest.raises(IngestError, match="spark engine reads FOCUS Parquet"):
        ingest_spark([sample_csv], tmp_path / "lake", spark)


def test_cli_ingest_and_allocate_with_the_spark_engine(tmp_path, exports, spark, capsys):
    lake = tmp_path / "lake"
    assert main(["ingest", "--engine", "spark", "--spark", "local[2]", "--store", str(lake), str(exports)]) == 0
    assert main(["allocate", "--engine", "spark", "--spark", "local[2]", "--store", str(lake),
                 "--rules", str(allocation_rules())]) == 0
    out = capsys.readouterr().out
    assert f"loaded {sum(pq.read_metadata(p).num_rows for p in exports.glob('*.parquet')):,} rows" in out
    assert "spark" in out and "by team" in out
    assert (lake / "allocated_charges").is_dir() and any((lake / "charges").glob("x_BillingPeriod=*"))
    # a lake is not a DuckDB store: the duckdb engine refuses to write it
    assert main(["allocate", "--store", str(lake), "--rules", str(allocation_rules())]) == 1


# ---- the transpiled SQL, as tables: one statement, both engines -----------------------------------


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


def test_the_excel_functions_answer_the_same_from_a_lake(both):
    import datetime as dt

    from finops_xl.query.costs import queries_for

    store, lake = both
    q_store, q_lake = queries_for(store), queries_for(lake)
    assert q_lake.dimensions() == q_store.dimensions()
    start, end = dt.date(2025, 1, 1), dt.date(2025, 3, 1)
    assert q_lake.cost(start, end) == q_store.cost(start, end) > 0
    for name, _ in q_store.dimensions():
        assert q_lake.cost_table(start, end, rows=name, columns="month") == \
            q_store.cost_table(start, end, rows=name, columns="month"), name


def test_opportunities_and_the_savings_ledger_work_on_a_lake(both):
    """The detectors read a lake like a store, and the ledger sits beside the lake's folder."""
    from finops_xl.optimization import ledger
    from finops_xl.optimization.detectors import detect

    store, lake = both
    rules = load_rules(allocation_rules())
    with store.reader() as con:
        from_store = detect(con, rules=rules)
    with lake.reader() as con:
        from_lake = detect(con, rules=rules)
    assert [(f.id, f.savings, f.owner) for f in from_lake] == [(f.id, f.savings, f.owner) for f in from_store]
    assert from_lake
    assert ledger.record(lake, from_lake) == (len(from_lake), 0)
    assert lake.savings_path.is_file() and lake.savings_path.parent == lake.path.parent
    with lake.reader() as con:
        assert len(ledger.opportunities(con)) == len(from_lake)
