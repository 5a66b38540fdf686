"""Journal entries: balance exactly or fail; reversals net to zero; CSV export."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finops_xl.close.journal import LedgerMap, UnbalancedEntry, entry, load_ledger_map, to_csv

D = dt.date(2025, 1, 31)


def test_unbalanced_entry_is_an_error_not_a_file():
    with pytest.raises(UnbalancedEntry, match="does not balance: debits 10.00 ≠ credits 9.99"):
        entry("E1", D, "USD", "accrual", [("6100", "CC1", Decimal("10"), "x")],
              [("2150", "", Decimal("9.99"), "y")])


AMOUNTS = st.lists(st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=2),
                   min_size=1, max_size=8)


@given(AMOUNTS)
def test_accrual_plus_reversal_nets_to_zero(amounts):
    total = sum(amounts, Decimal(0))
    e = entry("ACCR", D, "USD", "accrual",
              [("6100", f"CC{i}", a, "expense") for i, a in enumerate(amounts)],
              [("2150", "", total, "accrued")], reverses_on=dt.date(2025, 2, 1))
    r = e.reversal()
    assert r.date == dt.date(2025, 2, 1)
    net: dict = {}
    for x in (e, r):
        for line in x.lines:
            key = (line.account, line.cost_center)
            net[key] = net.get(key, Decimal(0)) + line.debit - line.credit
    assert all(v == 0 for v in net.values())


def test_csv_export_and_ledger_map(tmp_path):
    (tmp_path / "ledger.csv").write_text("kind,key,value\ncost_center,payments,CC-1001\n"
                                         "account,Compute,6110 Cloud compute\ndefault,accrued_liabilities,2155 Accrued cloud\n")
    m = load_ledger_map(tmp_path / "ledger.csv")
    assert (m.cost_center("payments"), m.cost_center("nobody")) == ("CC-1001", "UNASSIGNED")
    assert (m.account("Compute"), m.account("Storage")) == ("6110 Cloud compute", "6100 Cloud services")
    assert m.accrued_liabilities == "2155 Accrued cloud"
    e = entry("E", D, "JPY", "accrual", [(m.account("Compute"), m.cost_center("payments"), Decimal("1234.5"), "x")],
              [(m.accrued_liabilities, "", Decimal("1234.5"), "y")])
    text = to_csv([e])
    assert text.splitlines()[1] == "E,2025-01-31,accrual,6110 Cloud compute,CC-1001,1234,0,JPY,x,,"
    (tmp_path / "bad.csv").write_text("kind,key,value\ncolour,x,y\n")
    with pytest.raises(ValueError, match="line 2: column kind: 'colour' is not a kind"):
        load_ledger_map(tmp_path / "bad.csv")
    assert isinstance(LedgerMap(), LedgerMap)
