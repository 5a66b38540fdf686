"""`finops-xl close` as a new user runs it: a month whose invoice is late gets an accrual; the next
run, after the final export is loaded, gets the true-up."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import duckdb

from finops_xl.cli import main
from finops_xl.data import allocation_rules
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.store import CostStore


def test_accrual_then_true_up(tmp_path, capsys):
    full, cut = tmp_path / "full", tmp_path / "cut"
    generate(SampleSpec(rows=20_000, months=3, seed=4), full)
    cut.mkdir()
    con = duckdb.connect()
    for f in sorted(full.glob("*.parquet")):  # March's export: 4 days missing, no invoice yet
        where = "WHERE ChargePeriodStart < '2025-03-28'" if f.name.endswith("2025-03.parquet") else ""
        invoice = "CAST(NULL AS VARCHAR)" if where else "InvoiceId"
        con.execute(f"COPY (SELECT * REPLACE ({invoice} AS InvoiceId) FROM read_parquet('{f}') {where}) "
                    f"TO '{cut / f.name}' (FORMAT parquet)")
    store = tmp_path / "finops-store"
    rules = str(allocation_rules())
    assert main(["ingest", "--quiet", "--store", str(store), str(cut)]) == 0
    assert main(["allocate", "--store", str(store), "--rules", rules]) == 0
    capsys.readouterr()

    journal = tmp_path / "je.csv"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--journal", str(journal)]) == 0
    out = capsys.readouterr().out
    assert "2025-03 is not final yet: accrual at cut-off 2025-03-28" in out
    rows = list(csv.DictReader(io.StringIO(journal.read_text())))
    for entry_id in {r["entry_id"] for r in rows}:  # every entry balances to the cent
        lines = [r for r in rows if r["entry_id"] == entry_id]
        assert sum(Decimal(r["debit"]) for r in lines) == sum(Decimal(r["credit"]) for r in lines)
    accrued = sum(Decimal(r["debit"]) for r in rows if r["kind"] == "accrual")
    kinds = {r["kind"] for r in rows}  # the accrual, its reversal, and the prepaid commitments' entries
    assert accrued > 0 and {"accrual", "reversal"} <= kinds <= {
        "accrual", "reversal", "amortization", "prepaid-reclass", "prepaid-purchase"}

    assert main(["ingest", "--quiet", "--store", str(store), str(full)]) == 0
    assert main(["allocate", "--store", str(store), "--rules", rules]) == 0
    capsys.readouterr()
    assert main(["close", "--store", str(store), "--month", "2025-03"]) == 0
    out = capsys.readouterr().out
    assert "2025-03 is final: true-up against the accrual of cut-off 2025-03-28" in out
    with CostStore(store).reader() as con:
        (actual,) = con.execute("SELECT sum(BilledCost) FROM charges WHERE ChargePeriodStart >= "
                                "'2025-03-01' AND ChargePeriodStart < '2025-04-01'").fetchall()[0]
    total = next(line for line in out.splitlines() if line.strip().startswith("total USD"))
    actual_cents = Decimal(actual).quantize(Decimal("0.01"))
    assert f"actual {actual_cents:,}" in total
    shown = Decimal(total.split("true-up ")[1].split(";")[0].replace(",", ""))
    # the true-up is computed on exact amounts and shown rounded; the journal's accrual is rounded
    # to the cent, so the two may differ by the one rounding
    assert abs(shown - (actual_cents - accrued)) <= Decimal("0.01")
