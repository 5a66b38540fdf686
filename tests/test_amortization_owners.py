"""Amortization expense follows the allocation: a commitment's Used cost goes to allocated owners."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from finops_xl.allocation.engine import allocate
from finops_xl.allocation.rules import load_rules
from finops_xl.close.amortization import commitments_from_store, used_by_allocated_owner, used_by_owner
from finops_xl.data import allocation_rules
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore


def test_used_cost_goes_to_allocated_owners(tmp_path):
    generate(SampleSpec(rows=15_000, months=2, seed=6), tmp_path / "x")
    store = tmp_path / "s.duckdb"
    ingest([tmp_path / "x"], store)
    feb = dt.date(2025, 2, 1)
    with CostStore(store).reader() as con:
        ids = [c.id for c in commitments_from_store(con)]
        before = {i: used_by_allocated_owner(con, i, feb) for i in ids}  # no allocation yet
        assert all(before[i] == used_by_owner(con, i, feb) for i in ids)
    allocate(store, load_rules(allocation_rules()))
    teams = {"payments", "search", "data-platform", "ml", "web", "mobile", "platform"}
    with CostStore(store).reader() as con:
        moved = 0
        for i in ids:
            by_name, unused = used_by_owner(con, i, feb)
            by_owner, unused2 = used_by_allocated_owner(con, i, feb)
            assert unused2 == unused
            assert abs(sum(by_owner.values(), Decimal(0)) - sum(by_name.values(), Decimal(0))) < Decimal("1e-9")
            moved += bool(set(by_owner) & teams)
    assert moved >= 1  # at least one commitment's usage now lands on teams, not account names
