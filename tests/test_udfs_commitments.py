"""The commitment portfolio functions through the Office.js call path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import xlwings

from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.test_udfs_officejs import call, serial


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("commit-udf")
    generate(SampleSpec(rows=15_000, months=3, seed=7), out / "x")
    ingest([out / "x"], out / "finops.duckdb")
    return CostStore(out / "finops.duckdb")


FEB = dt.date(2025, 2, 1)


def test_utilization_is_used_over_used_plus_unused(store):
    got = call("UTILIZATION", serial(FEB), 0, str(store.path))[0][0]
    with store.reader() as con:
        used, unused = con.execute(
            "SELECT sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'), "
            "sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Unused') FROM charges "
            "WHERE ChargeCategory = 'Usage' AND ChargePeriodStart >= '2025-02-01' "
            "AND ChargePeriodStart < '2025-03-01'").fetchall()[0]
    assert got == pytest.approx(float(Decimal(used) / (Decimal(used) + Decimal(unused))), rel=1e-12)
    assert 0 < got <= 1


def test_coverage_esr_inventory_and_expiry(store):
    s = str(store.path)
    coverage = call("COVERAGE", serial(FEB), "AWS", s)[0][0]
    esr = call("ESR", serial(FEB), 0, s)[0][0]
    assert 0 < coverage < 1 and -1 < esr < 1
    inventory = call("COMMITMENTS", s)
    assert inventory[0][:3] == ["id", "provider", "type"] and len(inventory) > 3
    with store.reader() as con:
        ids = {i for (i,) in con.execute("SELECT DISTINCT CommitmentDiscountId FROM charges "
                                         "WHERE ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL").fetchall()}
    assert {r[0] for r in inventory[1:]} == ids
    expiring = call("EXPIRING", 3650, s)
    assert expiring[0][-2:] == ["suggestion", "resize_to"]
    assert {r[6] for r in expiring[1:]} <= {"renew", "resize", "let expire", "review", ""}


def test_bad_commitment_scope(store):
    with pytest.raises(xlwings.XlwingsError, match="'nope'"):
        call("UTILIZATION", serial(FEB), "nope", str(store.path))
    with pytest.raises(xlwings.XlwingsError, match="days must be positive"):
        call("EXPIRING", 0, str(store.path))
