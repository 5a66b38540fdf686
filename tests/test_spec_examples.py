"""The FOCUS 1.2 specification's own examples (tests/data/focus-spec-1.2-examples, CC BY 4.0).

Source: FinOps Foundation FOCUS_Spec, tag v1.2, specification/data/. The commitment scenarios are
column excerpts, so they are read with ``partial=True`` (mandatory columns may be absent; every
value present is still validated).

The spec's scenarios describe one commitment of 8,760 units over one year (8,760 hours):
- purchase scenario 1 (all upfront): one Purchase row, BilledCost 8,760.00 for the year;
- usage scenarios 1-4: one hour of the same commitment, used fully (1), unused (2), partly used
  (3: 0.75 + 0.25), or fully used with on-demand overage (4).
The FOCUS commitment invariant (Σ EffectiveCost of a commitment's Usage rows = Σ BilledCost of its
Purchase rows) then says each hour's Used + Unused EffectiveCost equals the purchase amortized per
hour: 8,760.00 / 8,760 h = 1.00.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from finops_xl.focus.reader import FocusFile
from finops_xl.store.errors import IngestError
from finops_xl.store.ingest import validate
from finops_xl.store.sources import sniff
from finops_xl.store.store import connect
from tests.conftest import SPEC_EXAMPLES

SCENARIOS = SPEC_EXAMPLES / "commitment_discount_scenarios"
VALID = [
    "commitment_discount_purchase_scenario_1.csv",
    "commitment_discount_usage_scenario_1.csv",
    "commitment_discount_usage_scenario_2.csv",
    "commitment_discount_usage_scenario_3.csv",
    "commitment_discount_usage_scenario_4.csv",
]
# (file, data row, column, value) exactly as published in the spec's CSVs
INVALID_TIMESTAMPS = [
    ("commitment_discount_purchase_scenario_2.csv", 3, "ChargePeriodEnd", "2023-02-01T30:00:00Z"),
    ("commitment_discount_purchase_scenario_3.csv", 4, "ChargePeriodEnd", "2023-02-01T30:00:00Z"),
]


@pytest.fixture
def con():
    c = connect(":memory:", read_only=False)
    yield c
    c.close()


def load(con, name: str) -> None:
    f = FocusFile(con, sniff(SCENARIOS / name), partial=True)
    assert f.problems() == []
    con.execute(f"CREATE OR REPLACE TABLE {name.removesuffix('.csv')} AS {f.select_sql()}")


@pytest.mark.parametrize("name", VALID)
def test_valid_scenarios_validate(name):
    (report,) = validate([SCENARIOS / name], partial=True)
    assert report.rows >= 1


@pytest.mark.parametrize("name,row,column,value", INVALID_TIMESTAMPS)
def test_impossible_timestamps_name_file_row_and_column(name, row, column, value):
    with pytest.raises(IngestError) as err:
        validate([SCENARIOS / name], partial=True)
    (problem,) = err.value.problems
    assert problem.file.endswith(name)
    assert (problem.row, problem.column, problem.value) == (row, column, value)
    assert "not a valid date-time" in problem.message
    text = str(err.value)
    assert name in text and f"row {row}" in text and column in text and value in text


def test_commitment_invariant_on_the_spec_scenarios(con):
    for name in VALID:
        load(con, name)
    (purchase, hours) = con.execute(
        """
        SELECT sum(BilledCost), sum(date_diff('hour', ChargePeriodStart, ChargePeriodEnd))
        FROM commitment_discount_purchase_scenario_1 WHERE ChargeCategory = 'Purchase'
        """
    ).fetchall()[0]
    assert (purchase, hours) == (Decimal("8760"), 8760)
    hourly = purchase / hours
    for i in range(1, 5):
        effective = con.execute(
            f"""
            SELECT sum(EffectiveCost) FROM commitment_discount_usage_scenario_{i}
            WHERE ChargeCategory = 'Usage' AND CommitmentDiscountId IS NOT NULL
              AND CommitmentDiscountStatus IN ('Used', 'Unused')
            """
        ).fetchall()[0][0]
        assert effective == hourly, f"usage scenario {i}"
    # scenario 4's overage is on-demand: not part of the commitment, billed as it is used
    (overage,) = con.execute(
        "SELECT sum(BilledCost) FROM commitment_discount_usage_scenario_4 "
        "WHERE CommitmentDiscountId IS NULL"
    ).fetchall()[0]
    assert overage == Decimal("0.50")


def test_store_refuses_partial_files():
    with pytest.raises(IngestError) as err:
        validate([SCENARIOS / VALID[0]])
    missing = {p.column for p in err.value.problems if "missing mandatory" in p.message}
    assert {"ProviderName", "BillingAccountId", "BillingCurrency"} <= missing
