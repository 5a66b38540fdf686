"""The prior-period adjustment report names the input files and row counts behind each adjusted
slice (the store's manifest: which file each load read, and how many rows of each slice it held),
not only the slice keys. Files and counts are the test's own inputs."""

from __future__ import annotations

import csv
import datetime as dt

from finops_xl.cli import main
from tests.test_accruals import charge, write

MAR, APR = dt.date(2025, 3, 1), dt.date(2025, 4, 1)


def test_the_adjustment_names_the_files_and_rows_behind_each_slice(tmp_path, capsys):
    march, april, restated = tmp_path / "march.csv", tmp_path / "april.csv", tmp_path / "march-restated.csv"
    write(march, [charge(MAR.replace(day=d), 10, "1", "Compute", "EC2") for d in range(1, 32)])  # 31 rows
    write(april, [charge(APR.replace(day=d), 10, "1", "Compute", "EC2") for d in range(1, 31)])
    # the restatement: 31 rows of 11.00 and one late row of 5.00, 32 rows in all
    write(restated, [charge(MAR.replace(day=d), 11, "1", "Compute", "EC2") for d in range(1, 32)]
          + [charge(MAR.replace(day=31), 5, "1", "Compute", "EC2")])
    store = tmp_path / "finops.duckdb"
    assert main(["ingest", "--quiet", "--store", str(store), str(march), str(april)]) == 0
    assert main(["close", "--store", str(store), "--month", "2025-03", "--lock", "--by", "controller"]) == 0
    assert main(["ingest", "--quiet", "--store", str(store), str(restated)]) == 0
    capsys.readouterr()

    journal, book = tmp_path / "je.csv", tmp_path / "close-2025-04.xlsx"
    assert main(["close", "--store", str(store), "--month", "2025-04", "--journal", str(journal),
                 "--out", str(book)]) == 0
    out = capsys.readouterr().out
    [line] = [l for l in out.splitlines() if "changed since the lock" in l]
    assert "AWS B1 2025-03" in line
    assert f"{march} (31 rows)" in line and f"{restated} (32 rows)" in line, line
    # the change: 31 × 1.00 + 5.00 = 36.00 of expense
    rows = list(csv.DictReader(journal.open()))
    ppa = [r for r in rows if r["kind"] == "prior_period_adjustment"]
    assert sum(float(r["debit"]) for r in ppa) == 36.00

    # the workbook's Sign-off sheet carries the same report beside the reviewer's sign-off
    from openpyxl import load_workbook

    cells = [str(v) for row in load_workbook(book)["Sign-off"].iter_rows(values_only=True) for v in row if v]
    assert any("2025-03" in c and "36.00" in c for c in cells), cells
    assert any(f"{march} (31 rows)" in c and f"{restated} (32 rows)" in c for c in cells), cells
