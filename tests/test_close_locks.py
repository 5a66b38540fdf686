"""Locked months: a signed-off close is reproduced from its lock whatever lands later, and a restated
load of a locked month becomes a prior-period adjustment in the next open month."""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal

import duckdb
import pytest

from finops_xl.cli import main
from finops_xl.data import allocation_rules
from finops_xl.sample.generator import SampleSpec, generate

D = Decimal
UPFRONT = "ChargeCategory = 'Purchase' AND ChargeFrequency = 'One-Time' AND CommitmentDiscountId IS NOT NULL"


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    """Six generated months, all invoiced, allocated."""
    root = tmp_path_factory.mktemp("locks")
    generate(SampleSpec(rows=24_000, months=6, seed=11), root / "gen")
    store = root / "store" / "finops.duckdb"
    assert main(["ingest", "--quiet", "--store", str(store), str(root / "gen")]) == 0
    assert main(["allocate", "--store", str(store), "--rules", str(allocation_rules())]) == 0
    return root, store


@pytest.fixture
def copied(closed, tmp_path):
    """The generated folder and a copy of the closed store, for one test to change."""
    root, src = closed
    store = tmp_path / "s" / "finops.duckdb"
    shutil.copytree(src.parent, store.parent)
    return root, store


def may_lock(store) -> dict:
    """The lock record of May 2025."""
    return json.loads(store.with_name("finops.close").joinpath("locks", "LOCK-2025-05.json").read_text())


def restated_may(root, tmp_path):
    """A folder holding May's AWS export restated: BilledCost +1%."""
    [aws] = sorted((root / "gen").glob("aws-2025-05.parquet"))
    restated = tmp_path / "restated"
    restated.mkdir()
    duckdb.connect().execute(f"COPY (SELECT * REPLACE (BilledCost * 1.01 AS BilledCost) FROM read_parquet('{aws}')) "
                             f"TO '{restated / aws.name}' (FORMAT parquet)")
    return restated


def rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_lock_restate_and_prior_period_adjustment(copied, tmp_path, capsys):
    root, store = copied
    locked_journal = tmp_path / "je-2025-05-locked.csv"
    assert main(["close", "--store", str(store), "--month", "2025-05", "--journal", str(locked_journal),
                 "--lock", "--by", "controller"]) == 0
    out = capsys.readouterr().out
    assert "locked:" in out
    record = may_lock(store)
    assert record["by"] == "controller" and record["allocation_run"] == 1 and record["entries"]

    # a restated May export: +1% on AWS
    restated = restated_may(root, tmp_path)
    [aws] = sorted((root / "gen").glob("aws-2025-05.parquet"))
    (change,) = duckdb.connect().execute(
        f"SELECT sum(BilledCost) * 0.01 FROM read_parquet('{aws}') WHERE NOT ({UPFRONT})").fetchall()[0]
    assert change > 0
    assert main(["ingest", "--quiet", "--store", str(store), str(restated)]) == 0
    assert main(["allocate", "--store", str(store), "--rules", str(allocation_rules())]) == 0
    capsys.readouterr()

    # the locked month's journal is byte-identical to the one written at the lock
    again = tmp_path / "je-2025-05-again.csv"
    assert main(["close", "--store", str(store), "--month", "2025-05", "--journal", str(again)]) == 0
    out = capsys.readouterr().out
    assert "2025-05 is locked (by controller" in out
    assert again.read_bytes() == locked_journal.read_bytes()
    # and it cannot be re-accrued or re-posted
    assert main(["close", "--store", str(store), "--month", "2025-05", "--post"]) == 1
    assert "is locked" in capsys.readouterr().err

    # June, the first open month, carries the change as a prior-period adjustment
    june = tmp_path / "je-2025-06.csv"
    assert main(["close", "--store", str(store), "--month", "2025-06", "--journal", str(june)]) == 0
    out = capsys.readouterr().out
    assert "prior-period adjustment of locked 2025-05" in out and "loaded again" in out
    ppa = [r for r in rows(june) if r["kind"] == "prior_period_adjustment"]
    assert ppa
    for eid in {r["entry_id"] for r in ppa}:
        mine = [r for r in ppa if r["entry_id"] == eid]
        assert sum(D(r["debit"]) for r in mine) == sum(D(r["credit"]) for r in mine)
    expense = sum(D(r["debit"]) - D(r["credit"]) for r in ppa if r["account"] != "2150")
    lines = sum(1 for r in ppa if r["account"] != "2150")
    assert abs(expense - change) <= D("0.005") * lines, (expense, change)

    # lock June: the adjustment is booked once; a second June close of the same data adds nothing new
    assert main(["close", "--store", str(store), "--month", "2025-06", "--lock", "--by", "controller"]) == 0
    capsys.readouterr()

    # unlocking needs a reason, is logged, and the month simply recloses from the current data
    assert main(["close", "--store", str(store), "--month", "2025-05", "--unlock"]) == 1
    assert "needs a reason" in capsys.readouterr().err
    assert main(["close", "--store", str(store), "--month", "2025-05", "--unlock", "--reason", "restated by AWS",
                 "--by", "controller"]) == 0
    log = store.with_name("finops.close").joinpath("locks", "log.jsonl").read_text().splitlines()
    assert [json.loads(x)["event"] for x in log] == ["lock", "lock", "unlock"]
    assert json.loads(log[-1])["reason"] == "restated by AWS"
    reclosed = tmp_path / "je-2025-05-reclosed.csv"
    assert main(["close", "--store", str(store), "--month", "2025-05", "--journal", str(reclosed)]) == 0
    out = capsys.readouterr().out
    assert "is locked" not in out and "is final" in out


def test_an_unlocked_month_has_no_adjustment(copied, tmp_path, capsys):
    _, store = copied
    june = tmp_path / "je.csv"
    assert main(["close", "--store", str(store), "--month", "2025-06", "--journal", str(june)]) == 0
    assert not [r for r in rows(june) if r["kind"] == "prior_period_adjustment"]


def test_a_locked_months_workbook_is_rebuilt_from_the_locked_store_version(copied, tmp_path, capsys):
    root, store = copied
    assert main(["close", "--store", str(store), "--month", "2025-05", "--lock", "--by", "controller"]) == 0
    record = may_lock(store)
    assert isinstance(record["store_commit"], int)
    restated = restated_may(root, tmp_path)
    assert main(["ingest", "--quiet", "--store", str(store), str(restated)]) == 0
    capsys.readouterr()
    book = tmp_path / "close-2025-05.xlsx"
    assert main(["close", "--store", str(store), "--month", "2025-05", "--out", str(book)]) == 0
    out = capsys.readouterr().out
    assert f"the store as of commit {record['store_commit']}, when the month was locked" in out and book.exists()


def test_a_lock_keeps_its_store_version_through_vacuum_until_unlocked(copied, tmp_path, capsys):
    from finops_xl.store.maintenance import pins, vacuum
    from finops_xl.store.store import CostStore

    root, store = copied
    assert main(["close", "--store", str(store), "--month", "2025-05", "--lock", "--by", "controller"]) == 0
    record = may_lock(store)
    locked = record["store_commit"]
    assert [p.commit for p in pins(CostStore(store))] == [locked]
    with CostStore(store).reader() as con:
        (before,) = con.execute("SELECT sum(BilledCost) FROM charges").fetchall()[0]
    restated = restated_may(root, tmp_path)
    assert main(["ingest", "--quiet", "--store", str(store), str(restated)]) == 0
    vacuum(CostStore(store), keep_days=0)  # every old version's files go, but the locked one's
    with CostStore(store, as_of=locked).reader() as con:
        assert con.execute("SELECT sum(BilledCost) FROM charges").fetchall()[0][0] == before
    assert main(["close", "--store", str(store), "--month", "2025-05", "--unlock", "--reason", "restated"]) == 0
    assert pins(CostStore(store)) == []
