"""Generated sample data through the real ingest: valid FOCUS 1.2, exact totals, commitment invariant
in the store, and the demo command end to end."""

from __future__ import annotations

from decimal import Decimal

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from finops_xl.cli import main
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    paths = generate(SampleSpec(rows=30_000, months=3, seed=7), out)
    return out, paths


def test_generated_data_loads_and_totals_tie_to_the_files(generated, tmp_path):
    out, paths = generated
    expected: dict[str, list[Decimal]] = {}
    for p in paths:  # sums straight from the Parquet files, with pyarrow
        t = pq.read_table(p, columns=["ProviderName", "BilledCost", "EffectiveCost"])
        provider = t.column("ProviderName")[0].as_py()
        acc = expected.setdefault(provider, [Decimal(0), Decimal(0)])
        acc[0] += pc.sum(t.column("BilledCost")).as_py()
        acc[1] += pc.sum(t.column("EffectiveCost")).as_py()
    store = tmp_path / "s.duckdb"
    report = ingest([out], store)
    assert {f.focus_version for f in report.files} == {"1.2"}
    assert not [n for f in report.files for n in f.normalizations], "generated data needs no repair"
    with CostStore(store).reader() as con:
        got = {p: [b, e] for p, b, e in con.execute(
            "SELECT ProviderName, sum(BilledCost), sum(EffectiveCost) FROM charges GROUP BY 1").fetchall()}
    assert got == expected
    assert set(got) == {"AWS", "Microsoft", "Google Cloud"}


def test_commitment_invariant_holds_in_the_store(generated, tmp_path):
    out, _ = generated
    store = tmp_path / "s.duckdb"
    ingest([out], store)
    with CostStore(store).reader() as con:
        rows = con.execute(
            """
            SELECT CommitmentDiscountId,
                   sum(EffectiveCost) FILTER (WHERE ChargeCategory = 'Usage') AS amortized,
                   sum(BilledCost) FILTER (WHERE ChargeCategory = 'Purchase') AS purchased
            FROM charges WHERE CommitmentDiscountId IS NOT NULL GROUP BY 1
            """
        ).fetchall()
    assert len(rows) >= 4
    broken = [(cid, a, p) for cid, a, p in rows if a != p]
    assert not broken


def test_demo_writes_a_store_and_prints_the_summary(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--rows", "20000", "--months", "2"]) == 0
    text = capsys.readouterr().out
    assert (out / "finops-store" / "_finops_store.json").is_file()
    assert "cost by provider and billing month" in text
    for provider in ("AWS", "Microsoft", "Google Cloud", "Oracle"):
        assert provider in text
    # a second run starts from a fresh store, not on top of the first
    assert main(["demo", "--out", str(out), "--rows", "20000", "--months", "2"]) == 0
    with CostStore(out / "finops-store").reader() as con:
        assert con.execute("SELECT count(DISTINCT load_id) FROM manifest").fetchall()[0][0] == 2
