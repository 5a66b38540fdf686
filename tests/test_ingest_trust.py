"""Ingest never counts a charge twice: the same input reached twice, the same month spelled two ways,
a file replaced while it loads, a delivery loaded in parts, mixed currencies, runaway extra columns.

Expected totals come from the input files (Python's csv module and Decimal), never from the store
under test.
"""

from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finops_xl.cli import main
from finops_xl.store.errors import IngestError
from finops_xl.store.ingest import ingest, validate
from finops_xl.store.store import CostStore
from tests.conftest import read_csv_rows, write_csv_rows
from tests.test_ingest import csv_totals, store_totals

D = Decimal


def _slice_rows(sample_csv: Path, provider: str) -> tuple[list[str], list[list[str]]]:
    header, rows = read_csv_rows(sample_csv)
    p = header.index("ProviderName")
    return header, [list(r) for r in rows if r[p] == provider]


def _two_files(tmp_path: Path, sample_csv: Path) -> tuple[Path, Path]:
    """The sample's AWS and Microsoft rows as two files of one folder."""
    folder = tmp_path / "exports"
    header, aws = _slice_rows(sample_csv, "AWS")
    _, msft = _slice_rows(sample_csv, "Microsoft")
    return (write_csv_rows(folder / "aws-2024-09.csv", header, aws),
            write_csv_rows(folder / "msft-2024-09.csv", header, msft))


def _expected(*files: Path) -> dict:
    out: dict = {}
    for f in files:
        for k, (b, e, n) in csv_totals(f).items():
            ob, oe, on = out.get(k, (D(0), D(0), 0))
            out[k] = (ob + b, oe + e, on + n)
    return out


# ---- the same input reached twice in one command --------------------------------------------------


@pytest.mark.parametrize("spelling", ["same file twice", "folder and folder/", "folder and a file in it",
                                      "relative and absolute", "identical bytes under two names",
                                      "dot segments"])
def test_an_input_reached_twice_is_loaded_once(spelling, sample_csv, tmp_path, monkeypatch):
    aws, msft = _two_files(tmp_path, sample_csv)
    folder = aws.parent
    monkeypatch.chdir(tmp_path)
    if spelling == "same file twice":
        paths, expected = [aws, aws], _expected(aws)
    elif spelling == "folder and folder/":
        paths, expected = ["exports", "exports/"], _expected(aws, msft)
    elif spelling == "folder and a file in it":
        paths, expected = [folder, folder / "aws-2024-09.csv"], _expected(aws, msft)
    elif spelling == "relative and absolute":
        paths, expected = ["exports/aws-2024-09.csv", aws.resolve()], _expected(aws)
    elif spelling == "identical bytes under two names":
        copy = tmp_path / "elsewhere" / "copy-of-aws.csv"
        copy.parent.mkdir()
        shutil.copyfile(aws, copy)
        paths, expected = [aws, copy], _expected(aws)
    else:
        paths, expected = [folder, f"exports/../exports/./aws-2024-09.csv"], _expected(aws, msft)
    store = tmp_path / "s.duckdb"
    report = ingest(paths, store)
    assert store_totals(store) == expected
    assert report.rows == sum(n for _, _, n in expected.values())
    assert report.skipped, "the report says which input was skipped"
    assert all("already" in s.reason or "same" in s.reason for s in report.skipped)


def test_the_cli_says_what_it_skipped(sample_csv, tmp_path, capsys):
    aws, _ = _two_files(tmp_path, sample_csv)
    store = tmp_path / "s.duckdb"
    assert main(["ingest", "--quiet", "--store", str(store), str(aws), str(aws)]) == 0
    out = capsys.readouterr().out
    assert f"loaded {csv_totals(aws)['AWS'][2]:,} rows from 1 file(s)" in out
    assert "skipped" in out and "aws-2024-09.csv" in out


def test_validate_skips_the_same_input_too(sample_csv, tmp_path):
    aws, _ = _two_files(tmp_path, sample_csv)
    reports = validate([aws, aws.parent])
    assert [r.label for r in reports].count(str(aws)) == 1
    assert len(reports) == 2


_SPELLINGS = ("file", "file-abs", "folder", "folder/", "folder-abs", "copy")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(("aws", "msft", "oracle")), st.sampled_from(_SPELLINGS)),
                min_size=1, max_size=6))
def test_any_combination_of_spellings_loads_each_input_once(sample_csv, tmp_path_factory, picks):
    """Whatever mix of files, folders, absolute/relative spellings and byte-identical copies is given,
    the store holds each distinct input exactly once."""
    tmp = tmp_path_factory.mktemp("combo")
    header, rows = read_csv_rows(sample_csv)
    p = header.index("ProviderName")
    files = {}
    for key, provider in (("aws", "AWS"), ("msft", "Microsoft"), ("oracle", "Oracle")):
        files[key] = write_csv_rows(tmp / key / f"{key}.csv", header, [r for r in rows if r[p] == provider])
    paths, used = [], set()
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        for key, spelling in picks:
            f = files[key]
            used.add(key)
            if spelling == "file":
                paths.append(f"{key}/{key}.csv")
            elif spelling == "file-abs":
                paths.append(str(f.resolve()))
            elif spelling == "folder":
                paths.append(key)
            elif spelling == "folder/":
                paths.append(f"./{key}/")
            elif spelling == "folder-abs":
                paths.append(str(f.parent.resolve()))
            else:
                copy = tmp / "copies" / f"{key}-{len(paths)}.csv"
                copy.parent.mkdir(exist_ok=True)
                shutil.copyfile(f, copy)
                paths.append(str(copy))
        store = tmp / f"s-{len(list(tmp.glob('s-*')))}.duckdb"
        ingest(paths, store)
        assert store_totals(store) == _expected(*(files[k] for k in sorted(used)))
    finally:
        os.chdir(cwd)


# ---- the same month through formatting ------------------------------------------------------------


def _restated(sample_csv: Path, tmp_path: Path, change, name: str) -> Path:
    header, rows = _slice_rows(sample_csv, "Oracle")
    rows = [change(header, list(r)) for r in rows]
    return write_csv_rows(tmp_path / "restated" / name, header, rows)


def _set(column: str, fn):
    def change(header, r):
        i = header.index(column)
        r[i] = fn(r[i])
        return r
    return change


@pytest.mark.parametrize("what,change", [
    ("a trailing space in the account id", _set("BillingAccountId", lambda v: v + " ")),
    ("a trailing space in the provider", _set("ProviderName", lambda v: v + " ")),
    ("the leading zeros dropped", _set("BillingAccountId", lambda v: v.lstrip("0"))),
    ("a time-zone offset on BillingPeriodStart",
     _set("BillingPeriodStart", lambda v: v.strip()[:10] + "T00:00:00+02:00")),
])
def test_a_restated_month_spelled_differently_replaces_the_old_one(what, change, sample_csv, tmp_path):
    header, oracle = _slice_rows(sample_csv, "Oracle")
    account = oracle[0][header.index("BillingAccountId")]
    if what == "the leading zeros dropped":
        # the sample's Oracle account has no leading zero: give it one, as AWS ids often have
        oracle = [list(r) for r in oracle]
        for r in oracle:
            r[header.index("BillingAccountId")] = "00" + account
    original = write_csv_rows(tmp_path / "v1" / "oracle.csv", header, oracle)
    store = tmp_path / "s.duckdb"
    ingest([original], store)
    before = store_totals(store)
    restated = write_csv_rows(tmp_path / "v2" / "oracle.csv", header, [change(header, list(r)) for r in oracle])
    report = ingest([restated], store)
    assert store_totals(store) == before, what
    assert report.replaced and not report.added, what
    with CostStore(store).reader() as con:
        n = con.execute("SELECT count(*) FROM slices").fetchall()[0][0]
    assert n == 2  # Oracle 2024-09 and 2024-10, each once


def test_a_converted_copy_beside_its_source_is_not_loaded_twice(tmp_path):
    from tests.test_native_convert import CUR

    folder = tmp_path / "cur"
    folder.mkdir()
    shutil.copyfile(CUR, folder / CUR.name)
    assert main(["convert", "--to", "focus", "--out", str(folder), str(folder / CUR.name)]) == 0
    store = tmp_path / "s.duckdb"
    with pytest.raises(IngestError) as err:
        ingest([folder], store)
    text = str(err.value)
    assert "same charges" in text and CUR.name in text and ".focus.parquet" in text
    assert not store.exists() or store_totals(store) == {}


# ---- a file replaced during the load ---------------------------------------------------------------


def test_a_file_replaced_during_the_load_is_refused_and_not_recorded(sample_csv, tmp_path):
    header, rows = read_csv_rows(sample_csv)
    target = write_csv_rows(tmp_path / "in" / "export.csv", header, rows)
    broken = tmp_path / "broken.csv"
    b = header.index("BilledCost")
    write_csv_rows(broken, header, [r[:b] + ["NULL"] + r[b + 1:] for r in rows])
    replaced = []

    def progress(stage: str, fraction: float) -> None:
        if stage.startswith("validating") and not replaced:
            os.replace(broken, target)  # a sync client re-delivers the export mid-load
            replaced.append(stage)

    store = tmp_path / "s.duckdb"
    with pytest.raises(IngestError) as err:
        ingest([target], store, progress=progress)
    assert replaced and "changed while" in str(err.value)
    # the good file loads afterwards (it is not taken as "unchanged")
    good = write_csv_rows(tmp_path / "in" / "export.csv", header, rows)
    report = ingest([good], store)
    assert not report.unchanged
    assert store_totals(store) == csv_totals(sample_csv)


# ---- partial deliveries -------------------------------------------------------------------------------


def test_a_replacing_load_from_fewer_files_warns_loudly(sample_csv, tmp_path, capsys):
    header, aws = _slice_rows(sample_csv, "AWS")
    parts = tmp_path / "delivery"
    write_csv_rows(parts / "part-1.csv", header, aws[:400])
    write_csv_rows(parts / "part-2.csv", header, aws[400:])
    store = tmp_path / "s.duckdb"
    ingest([parts], store)
    assert main(["ingest", "--quiet", "--store", str(store), str(parts / "part-2.csv")]) == 0
    out = capsys.readouterr().out
    assert "warning" in out.lower() and "part-1.csv" in out and "fewer" in out


def test_an_aws_manifest_makes_one_delivery_one_load(sample_csv, tmp_path):
    header, aws = _slice_rows(sample_csv, "AWS")
    delivery = tmp_path / "cur" / "20240901-20241001"
    p1 = write_csv_rows(delivery / "abc" / "report-00001.csv", header, aws[:400])
    p2 = write_csv_rows(delivery / "abc" / "report-00002.csv", header, aws[400:])
    stale = write_csv_rows(delivery / "old" / "report-00001.csv", header, aws[:10])  # an older assembly
    manifest = {"assemblyId": "abc", "reportKeys": [f"cur/20240901-20241001/abc/{p.name}" for p in (p1, p2)],
                "billingPeriod": {"start": "20240901T000000.000Z", "end": "20241001T000000.000Z"}}
    (delivery / "report-Manifest.json").write_text(json.dumps(manifest))
    store = tmp_path / "s.duckdb"
    report = ingest([tmp_path / "cur"], store)
    assert store_totals(store) == _expected(p1, p2)
    assert any(str(stale) in s.label or "old/report-00001.csv" in s.label for s in report.skipped)


def test_an_aws_manifest_naming_a_missing_part_is_refused(sample_csv, tmp_path):
    header, aws = _slice_rows(sample_csv, "AWS")
    delivery = tmp_path / "cur"
    write_csv_rows(delivery / "abc" / "report-00001.csv", header, aws[:400])
    manifest = {"assemblyId": "abc", "reportKeys": ["cur/abc/report-00001.csv", "cur/abc/report-00002.csv"]}
    (delivery / "report-Manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IngestError) as err:
        ingest([delivery], tmp_path / "s.duckdb")
    assert "report-00002.csv" in str(err.value) and "Manifest" in str(err.value)


def test_an_azure_manifest_checks_blobs_and_row_counts(sample_csv, tmp_path):
    header, aws = _slice_rows(sample_csv, "AWS")
    run = tmp_path / "export" / "20240901-20240930" / "run-1"
    p1 = write_csv_rows(run / "part_0_0001.csv", header, aws[:400])
    p2 = write_csv_rows(run / "part_1_0001.csv", header, aws[400:])
    blobs = [{"blobName": f"export/20240901-20240930/run-1/{p.name}", "byteCount": p.stat().st_size,
              "dataRowCount": n} for p, n in ((p1, 400), (p2, len(aws) - 400))]
    (run / "manifest.json").write_text(json.dumps({"manifestVersion": "2024-04-01", "blobCount": 2,
                                                   "dataRowCount": len(aws), "blobs": blobs}))
    store = tmp_path / "s.duckdb"
    ingest([tmp_path / "export"], store)
    assert store_totals(store) == _expected(p1, p2)
    # a part cut short in transit: its row count no longer matches the manifest
    write_csv_rows(p2, header, aws[400:-5])
    with pytest.raises(IngestError) as err:
        ingest([tmp_path / "export"], tmp_path / "s2.duckdb")
    assert "part_1_0001.csv" in str(err.value) and "manifest" in str(err.value).lower()


# ---- currencies and extra columns -----------------------------------------------------------------


def test_a_slice_in_two_currencies_is_never_summed_across_them(sample_csv, tmp_path, capsys):
    header, oracle = _slice_rows(sample_csv, "Oracle")
    c = header.index("BillingCurrency")
    rows = [list(r) for r in oracle]
    rows[0][c] = "EUR"
    f = write_csv_rows(tmp_path / "mixed.csv", header, rows)
    store = tmp_path / "s.duckdb"
    report = ingest([f], store)
    mixed = [s for s in report.slices if len(s.currencies) > 1]
    assert mixed and all(s.billed_cost is None for s in mixed)
    with CostStore(store).reader() as con:
        per_currency = con.execute(
            "SELECT BillingCurrency, sum(BilledCost) FROM slice_currencies GROUP BY 1 ORDER BY 1").fetchall()
        mixed_rows = con.execute("SELECT BilledCost FROM slices WHERE BillingCurrency IS NULL").fetchall()
    b = header.index("BilledCost")
    assert dict(per_currency) == {
        "EUR": D(rows[0][b]), "USD": sum((D(r[b]) for r in rows[1:]), D(0))}
    assert mixed_rows and all(v[0] is None for v in mixed_rows)
    main(["ingest", "--quiet", "--store", str(tmp_path / "s2.duckdb"), str(f)])
    out = capsys.readouterr().out
    assert "EUR" in out and "USD" in out


def test_many_unexpected_columns_are_refused_and_a_few_are_named(sample_csv, tmp_path, capsys):
    header, rows = read_csv_rows(sample_csv)
    wide = write_csv_rows(tmp_path / "wide.csv", header + [f"Col{i}" for i in range(1000)],
                          [r + [""] * 1000 for r in rows[:20]])
    store = tmp_path / "s.duckdb"
    with pytest.raises(IngestError) as err:
        ingest([wide], store)
    # the 1,000 added columns and the sample's own extra `Id` column (tests/data/README.md)
    assert "1,001 columns" in str(err.value) and "Col0" in str(err.value)
    few = write_csv_rows(tmp_path / "few.csv", header + ["CostCentre"], [r + ["cc-1"] for r in rows[:20]])
    assert main(["ingest", "--quiet", "--store", str(store), str(few)]) == 0
    out = capsys.readouterr().out
    assert "x_CostCentre" in out and "new column" in out


def test_a_restated_two_currency_slice_moves_each_currency_by_its_own_change(sample_csv, tmp_path):
    """The close's restatement check compares a slice's BilledCost per currency."""
    import datetime as dt

    from finops_xl.close.reconciliation import _restatements

    header, oracle = _slice_rows(sample_csv, "Oracle")
    c, b, s = header.index("BillingCurrency"), header.index("BilledCost"), header.index("BillingPeriodStart")
    sept = [list(r) for r in oracle if r[s].startswith("2024-09")]
    sept[0][c] = "EUR"
    store = tmp_path / "s.duckdb"
    ingest([write_csv_rows(tmp_path / "v1" / "o.csv", header, sept)], store)
    restated = [list(r) for r in sept]
    restated[0][b] = str(D(restated[0][b]) + 100)  # only the EUR charge changes
    ingest([write_csv_rows(tmp_path / "v2" / "o.csv", header, restated)], store)
    with CostStore(store).reader() as con:
        usd = _restatements(con, dt.date(2024, 9, 1), dt.date(2024, 10, 1), "USD", 1, None)
        eur = _restatements(con, dt.date(2024, 9, 1), dt.date(2024, 10, 1), "EUR", 1, None)
    assert [i.amount for i in usd] == [D(0)]
    assert [i.amount for i in eur] == [D(100)]


def test_a_conversion_that_fails_names_the_file_instead_of_a_traceback(tmp_path, monkeypatch, capsys):
    from finops_xl.focus.convert import aws
    from tests.test_native_convert import CUR

    monkeypatch.setattr(aws, "focus_sql", lambda header, reader: "SELECT CAST('x' AS INTEGER) AS a")
    assert main(["ingest", "--quiet", "--store", str(tmp_path / "s.duckdb"), str(CUR)]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and CUR.name in err and "could not be converted from AWS CUR" in err
