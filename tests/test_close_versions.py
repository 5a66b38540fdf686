"""The close workbook names the versions it was built from: the store commit the close read, the
allocation run, the lock's commit when the month is locked, and the finops-xl version.

Expected commits come from the store itself (``CostStore.head``) and from the lock record on disk,
never from the workbook builder."""

from __future__ import annotations

import datetime as dt
import json

from openpyxl import load_workbook

from finops_xl import __version__
from finops_xl.cli import main
from finops_xl.store.store import CostStore
from tests.test_accruals import charge, write

MAR = dt.date(2025, 3, 1)


def _value(ws, label):
    for row in ws.iter_rows(values_only=True):
        if row and row[0] == label:
            return row[1]
    raise AssertionError(f"no row {label!r} on {ws.title}")


def test_the_workbook_names_store_commit_lock_and_finops_xl_version(tmp_path, capsys):
    march = tmp_path / "march.csv"
    write(march, [charge(MAR.replace(day=d), 10, "1", "Compute", "EC2") for d in range(1, 32)])
    store = tmp_path / "finops.duckdb"
    assert main(["ingest", "--quiet", "--store", str(store), str(march)]) == 0
    head = CostStore(store).head()
    assert head is not None, "the store keeps versions"

    book = tmp_path / "open.xlsx"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--out", str(book)]) == 0
    wb = load_workbook(book)
    signoff, summary = wb["Sign-off"], wb["Summary"]
    assert f"store commit {head.commit}" in _value(signoff, "Store version")
    assert _value(signoff, "finops-xl") == __version__
    assert _value(signoff, "Locked") == "not locked"
    built = str(summary["A4"].value)
    assert f"store commit {head.commit}" in built and f"finops-xl {__version__}" in built

    assert main(["close", "--store", str(store), "--month", "2025-03", "--lock", "--by", "controller"]) == 0
    record = json.loads(store.with_name("finops.close").joinpath("locks", "LOCK-2025-03.json").read_text())
    # a restated March lands after the lock: a new store commit
    restated = tmp_path / "restated.csv"
    write(restated, [charge(MAR.replace(day=d), 11, "1", "Compute", "EC2") for d in range(1, 32)])
    assert main(["ingest", "--quiet", "--store", str(store), str(restated)]) == 0
    assert CostStore(store).head().commit != record["store_commit"]
    capsys.readouterr()

    book = tmp_path / "locked.xlsx"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--out", str(book)]) == 0
    wb = load_workbook(book)
    signoff, summary = wb["Sign-off"], wb["Summary"]
    locked = _value(signoff, "Locked")
    assert "controller" in locked and f"store commit {record['store_commit']}" in locked
    assert f"store commit {record['store_commit']}" in _value(signoff, "Store version")
    built = str(summary["A4"].value)
    assert f"store commit {record['store_commit']}" in built and "locked" in built
