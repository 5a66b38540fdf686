"""Ingest of real FOCUS data: exact totals, normalization, restatement, formats, lineage.

Expected totals are computed from the input files with Python's csv module and Decimal, never by
the code under test.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb

from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import read_csv_rows, write_csv_rows


def csv_totals(path: Path) -> dict[str, tuple[Decimal, Decimal, int]]:
    """ProviderName → (Σ BilledCost, Σ EffectiveCost, rows), from the file itself."""
    header, rows = read_csv_rows(path)
    p, b, e = header.index("ProviderName"), header.index("BilledCost"), header.index("EffectiveCost")
    out: dict[str, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for r in rows:
        acc = out[r[p]]
        acc[0] += Decimal(r[b])
        acc[1] += Decimal(r[e])
        acc[2] += 1
    return {k: tuple(v) for k, v in out.items()}


def store_totals(store_path: Path) -> dict[str, tuple[Decimal, Decimal, int]]:
    with CostStore(store_path).reader() as con:
        rows = con.execute(
            "SELECT ProviderName, sum(BilledCost), sum(EffectiveCost), count(*) "
            "FROM charges GROUP BY 1"
        ).fetchall()
    return {p: (Decimal(b), Decimal(e), n) for p, b, e, n in rows}


def test_focus_sample_totals_equal_the_files_own_sums(sample_csv, store_path):
    report = ingest([sample_csv], store_path)
    expected = csv_totals(sample_csv)
    assert set(expected) == {"AWS", "Microsoft", "Oracle"}
    assert store_totals(store_path) == expected
    assert report.rows == 1000
    assert report.files[0].focus_version == "1.0"


def test_focus_sample_case_variants_are_normalized_and_recorded(sample_csv, store_path):
    header, rows = read_csv_rows(sample_csv)
    variants = sum(1 for r in rows if r[header.index("ChargeFrequency")] == "Usage-based")
    assert variants == 7  # the data README: 7 rows say `Usage-based`
    report = ingest([sample_csv], store_path)
    with CostStore(store_path).reader() as con:
        values = dict(con.execute(
            "SELECT ChargeFrequency, count(*) FROM charges GROUP BY 1").fetchall())
        recorded = con.execute(
            "SELECT original, normalized, rows FROM normalizations WHERE column_name = 'ChargeFrequency'"
        ).fetchall()
    assert "Usage-based" not in values
    assert values["Usage-Based"] == sum(
        1 for r in rows if r[header.index("ChargeFrequency")].lower() == "usage-based")
    assert recorded == [("Usage-based", "Usage-Based", 7)]
    assert any(n.original == "Usage-based" for n in report.files[0].normalizations)


def test_extra_columns_are_kept_with_x_prefix_and_tags_are_queryable(sample_csv, store_path):
    header, rows = read_csv_rows(sample_csv)
    ingest([sample_csv], store_path)
    id_col, tags_col = header.index("Id"), header.index("Tags")
    dev_rows = sum(1 for r in rows if r[tags_col] not in ("NULL", "")
                   and json.loads(r[tags_col]).get("environment") == "dev")
    assert dev_rows > 0
    with CostStore(store_path).reader() as con:
        ids = {r[0] for r in con.execute('SELECT x_Id FROM charges').fetchall()}
        dev = con.execute("SELECT count(*) FROM charges WHERE Tags->>'environment' = 'dev'").fetchall()[0][0]
        types = dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name='charges'"
        ).fetchall())
    assert ids == {r[id_col] for r in rows}
    assert dev == dev_rows
    assert types["BilledCost"] == "DECIMAL(38,12)"
    assert types["ChargePeriodStart"] == "TIMESTAMP"
    assert types["Tags"] == "JSON"
    assert "ServiceProviderName" not in types  # a 1.3 column only arrives with 1.3 data


def test_same_file_three_times_then_restated_copy(sample_csv, store_path, tmp_path):
    for _ in range(3):
        ingest([sample_csv], store_path)
    assert store_totals(store_path) == csv_totals(sample_csv)
    with CostStore(store_path).reader() as con:
        assert con.execute("SELECT count(*) FROM charges").fetchall()[0][0] == 1000
        assert con.execute("SELECT count(DISTINCT load_id) FROM manifest").fetchall()[0][0] == 1

    # the provider re-issues the export: every AWS amount changes, a row disappears
    header, rows = read_csv_rows(sample_csv)
    b, e, p = header.index("BilledCost"), header.index("EffectiveCost"), header.index("ProviderName")
    restated = []
    for r in rows:
        r = list(r)
        if r[p] == "AWS":
            r[b] = str(Decimal(r[b]) * Decimal("1.5") + Decimal("0.000000000010"))
            r[e] = str(Decimal(r[e]) * 2)
        restated.append(r)
    restated = restated[1:]  # the first (AWS) row is gone from the new export
    new_file = write_csv_rows(tmp_path / "restated" / "focus_sample_v2.csv", header, restated)
    report = ingest([new_file], store_path)
    assert len(report.replaced) == 4 and not report.added
    assert store_totals(store_path) == csv_totals(new_file)

    # loading the old export again restates back to it
    ingest([sample_csv], store_path)
    assert store_totals(store_path) == csv_totals(sample_csv)
    with CostStore(store_path).reader() as con:
        assert con.execute("SELECT count(*) FROM charges").fetchall()[0][0] == 1000
        versions = con.execute(
            "SELECT count(*) FROM slice_history WHERE ProviderName = 'AWS'").fetchall()[0][0]
    assert versions == 3


def test_restating_one_slice_leaves_the_others(sample_csv, store_path, tmp_path):
    ingest([sample_csv], store_path)
    header, rows = read_csv_rows(sample_csv)
    p, b = header.index("ProviderName"), header.index("BilledCost")
    oracle = [list(r) for r in rows if r[p] == "Oracle"]
    for r in oracle:
        r[b] = "0"
    ingest([write_csv_rows(tmp_path / "oracle.csv", header, oracle)], store_path)
    totals = store_totals(store_path)
    expected = csv_totals(sample_csv)
    assert totals["AWS"] == expected["AWS"] and totals["Microsoft"] == expected["Microsoft"]
    assert totals["Oracle"][0] == 0 and totals["Oracle"][2] == expected["Oracle"][2]


def test_parquet_gzip_and_folder_inputs_give_the_same_totals(sample_csv, tmp_path):
    expected = csv_totals(sample_csv)
    gz = tmp_path / "in" / "focus_sample.csv.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(sample_csv.read_bytes()))
    pq = tmp_path / "in2" / "focus_sample.parquet"
    pq.parent.mkdir()
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * REPLACE (CAST(BilledCost AS DECIMAL(38,12)) AS BilledCost, "
        f"CAST(EffectiveCost AS DECIMAL(38,12)) AS EffectiveCost) FROM read_csv('{sample_csv}', "
        f"nullstr=['NULL'], all_varchar=true)) TO '{pq}' (FORMAT parquet)"
    )
    # a month split in part files, given as a folder: one load
    header, rows = read_csv_rows(sample_csv)
    parts = tmp_path / "parts"
    write_csv_rows(parts / "part-0.csv", header, rows[:500])
    write_csv_rows(parts / "sub" / "part-1.csv", header, rows[500:])
    for i, source in enumerate([gz, pq, parts]):
        store = tmp_path / f"s{i}.duckdb"
        report = ingest([source], store)
        assert store_totals(store) == expected, source
        assert report.rows == 1000


def test_manifest_records_file_hash_rows_and_slices(sample_csv, store_path):
    import hashlib

    ingest([sample_csv], store_path)
    with CostStore(store_path).reader() as con:
        (source, digest, rows, slices, fmt, version) = con.execute(
            "SELECT source_file, content_hash, rows, slices, format, focus_version FROM manifest"
        ).fetchall()[0]
    assert source == str(sample_csv)
    assert digest == "sha256:" + hashlib.sha256(sample_csv.read_bytes()).hexdigest()
    assert rows == 1000 and fmt == "csv" and version == "1.0"
    slices = json.loads(slices)
    assert {(s["ProviderName"], s["BillingPeriodStart"][:7]) for s in slices} == {
        ("AWS", "2024-09"), ("Microsoft", "2024-09"), ("Oracle", "2024-09"), ("Oracle", "2024-10")}
    assert sum(s["rows"] for s in slices) == 1000


def test_newer_focus_columns_pass_through_and_fill_deprecated_ones(sample_csv, tmp_path):
    """A FOCUS 1.3 file names the provider ServiceProviderName and may omit ProviderName."""
    header, rows = read_csv_rows(sample_csv)
    header = ["ServiceProviderName" if h == "ProviderName" else h for h in header]
    header.append("HostProviderName")  # mandatory from 1.3 on
    rows = [r + [r[header.index("ServiceProviderName")]] for r in rows]
    f = write_csv_rows(tmp_path / "v13.csv", header, rows)
    store = tmp_path / "s.duckdb"
    report = ingest([f], store)
    assert report.files[0].focus_version == "1.3"
    with CostStore(store).reader() as con:
        got = dict(con.execute(
            "SELECT ProviderName, count(*) FROM charges "
            "WHERE ServiceProviderName = ProviderName AND HostProviderName = ProviderName GROUP BY 1"
        ).fetchall())
    assert got == {"AWS": 942, "Microsoft": 51, "Oracle": 7}
