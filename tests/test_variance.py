"""Budget variance (price/volume, hand-derived from the GLOSSARY definition; hypothesis for the exact
sum), bad budget files, and "why did it jump?" on generated data (drivers add up exactly; the GPU
spike month is explained by the GPU fleet in the ML sub-accounts)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finops_xl.allocation.rules import load_rules
from finops_xl.close.variance import (
    SHARED,
    BudgetError,
    BudgetLine,
    explain_change,
    load_budget,
    price_volume,
    variance,
)
from finops_xl.sample.generator import SampleSpec
from finops_xl.store.store import CostStore
from tests.conftest import sample_store
from tests.test_reconciliation import DATA, RULES, build, charge, team

D = Decimal
JAN = dt.date(2025, 1, 1)


def usage(amount: str, quantity: str | None, unit: str | None, owner: str | None, **fields) -> list[str]:
    return charge(amount, PricingQuantity=quantity or "NULL", PricingUnit=unit or "NULL",
                  Tags=team(owner) if owner else "NULL", **fields)


# January 2025 (EffectiveCost = BilledCost on every row):
#   team a, Compute: 600.00 for 40 Hours + 600.00 for 60 Hours → 1,200.00 for 100 Hours
#   team a, Storage: 50.00 for 500 GB-Months
#   team b, Compute: 300.00 for 30 Hours
#   no team, Networking: 100.00 → the "untagged" pool, split evenly: a 50.00, b 50.00 (Shared)
ROWS = [
    usage("600.00", "40", "Hours", "a"),
    usage("600.00", "60", "Hours", "a"),
    usage("50.00", "500", "GB-Months", "a", ServiceCategory="Storage", ServiceName="Amazon Simple Storage Service"),
    usage("300.00", "30", "Hours", "b"),
    usage("100.00", "2000", "GB", None, ServiceCategory="Networking", ServiceName="Amazon Virtual Private Cloud"),
]


@pytest.fixture
def tiny(tmp_path) -> Path:
    return build(tmp_path, ROWS)


def test_price_volume_hand_derived_from_the_glossary(tiny):
    """GLOSSARY "Variance": variance = actual − budget; price effect = (actual unit price − budget
    unit price) × actual volume; volume effect = (actual volume − budget volume) × budget unit price.

    a / Compute: actual 1,200.00 for 100 h → 12.00/h; budget 1,000.00 for 125 h → 8.00/h.
      variance 1,200 − 1,000 = +200.00 (+20%); price (12 − 8) × 100 = +400.00;
      volume (100 − 125) × 8 = −200.00; 400 − 200 = 200.
    b / Compute: actual 300.00 for 30 h → 10.00/h; budget 300.00 for 25 h → 12.00/h.
      variance 0; price (10 − 12) × 30 = −60.00; volume (30 − 25) × 12 = +60.00.
    a / Storage: actual 50.00, budget 60.00 → −10.00, −10/60 = −16.67%; no quantities.
    a / Shared: the untagged 100.00 split evenly → 50.00; budget 40.00 → +10.00 (+25%).
    b / Shared: 50.00, unbudgeted (budget 0, no %)."""
    with CostStore(tiny).reader() as con:
        report = variance(con, DATA / "budget.csv", rules=load_rules(RULES))
    lines = {(ln.owner, ln.service_category): ln for ln in report.lines}
    assert set(lines) == {("a", "Compute"), ("a", "Storage"), ("a", SHARED), ("b", "Compute"), ("b", SHARED)}
    a = lines[("a", "Compute")]
    assert (a.actual, a.budget, a.variance, a.variance_pct) == (D(1200), D(1000), D(200), D("0.2"))
    assert (a.actual_volume, a.budget_volume, a.unit) == (D(100), D(125), "Hours")
    assert (a.actual_unit_price, a.budget_unit_price) == (D(12), D(8))
    assert (a.price_effect, a.volume_effect) == (D(400), D(-200))
    b = lines[("b", "Compute")]
    assert (b.variance, b.price_effect, b.volume_effect) == (D(0), D(-60), D(60))
    s = lines[("a", "Storage")]
    assert (s.variance, s.variance_pct.quantize(D("0.0001"))) == (D(-10), D("-0.1667"))
    assert s.price_effect is None
    assert (lines[("a", SHARED)].actual, lines[("a", SHARED)].variance_pct) == (D(50), D("0.25"))
    assert (lines[("b", SHARED)].budget, lines[("b", SHARED)].variance_pct) == (D(0), None)
    assert report.actual == D(1650) and report.budget == D(1400) and report.variance == D(250)


def test_rules_default_to_the_allocation_run_and_owner_spelling_is_flagged(tiny):
    budget = [BudgetLine("a", "Compute", JAN, D(1000), D(125), "Hours"),
              BudgetLine("A", "Compute", JAN, D(1))]
    with CostStore(tiny).reader() as con:
        report = variance(con, budget)  # rules read from where the allocation run took them
    a = next(ln for ln in report.lines if ln.owner == "a" and ln.service_category == "Compute")
    assert (a.price_effect, a.volume_effect) == (D(400), D(-200))
    assert any("budget owner 'A' has no allocated cost" in n for n in report.notes)


def test_variance_needs_an_allocation(tmp_path):
    store = build(tmp_path, ROWS, allocated=False)
    with CostStore(store).reader() as con, pytest.raises(ValueError, match="needs an allocation"):
        variance(con, [BudgetLine("a", "Compute", JAN, D(1))])


MONEY = st.decimals(min_value=D("-1e6"), max_value=D("1e7"), places=12)
VOLUME = st.decimals(min_value=D(0), max_value=D("1e7"), places=4)


@given(MONEY, VOLUME, MONEY, VOLUME.filter(lambda q: q != 0))
def test_price_and_volume_effects_add_up_to_the_variance_exactly(actual, qa, budget, qb):
    price, volume = price_volume(actual, qa, budget, qb)
    assert price + volume == actual - budget
    # and each is the GLOSSARY formula, to the store's 12 decimals (computed here with fractions)
    pb = Fraction(budget) / Fraction(qb)
    exact_volume = (Fraction(qa) - Fraction(qb)) * pb
    exact_price = Fraction(actual) - pb * Fraction(qa)  # = (pa − pb) × qa, pa = actual ÷ qa
    assert abs(Fraction(volume) - exact_volume) <= Fraction(1, 2 * 10**12)
    assert abs(Fraction(price) - exact_price) <= Fraction(1, 2 * 10**12)


def test_price_volume_edges():
    assert price_volume(D(5), D(10), D(5), D(0)) is None  # no budget unit price
    assert price_volume(D(50), D(0), D(80), D(10)) == (D(50), D(-80))  # spend with no volume: all price


def test_bad_budget_files_name_file_row_and_column(tmp_path):
    path = str(DATA / "budget_bad.csv")
    with pytest.raises(BudgetError) as err:
        load_budget(DATA / "budget_bad.csv")
    text = str(err.value)
    for expected in (
        f"{path}, row 2, column owner: repeats the line of row 1 (same owner, service_category and month) (value 'a')",
        f"{path}, row 3, column owner: empty owner",
        f"{path}, row 4, column month: month must be YYYY-MM (value 'January 2025')",
        f"{path}, row 5, column month: month must be YYYY-MM (value '2025-13')",
        f"{path}, row 6, column amount: not a number (use e.g. 1234.56) (value 'ten')",
        f"{path}, row 7, column quantity: quantity must be a number ≥ 0 (value '-5')",
        f"{path}, row 8, column unit: a quantity needs its unit",
        f"{path}, row 9, column quantity: a unit without a quantity",
    ):
        assert expected in text, expected
    assert len(err.value.problems) == 8
    with pytest.raises(BudgetError, match=r"budget_no_month.csv, column month: missing column month"):
        load_budget(DATA / "budget_no_month.csv")
    with pytest.raises(BudgetError, match="nope.csv: no such file"):
        load_budget(tmp_path / "nope.csv")
    lines = load_budget(DATA / "budget.csv")
    assert lines[0] == BudgetLine("a", "Compute", JAN, D("1000.00"), D("125"), "Hours",
                                  f"{DATA / 'budget.csv'}, row 1")


# ---- why did it jump? ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return sample_store(tmp_path_factory.mktemp("generated"), SampleSpec(rows=30_000, months=4, seed=5))


def test_drivers_and_views_add_up_to_the_change_exactly(generated):
    with CostStore(generated).reader() as con:
        for month in ("2025-02", "2025-03", "2025-04"):
            for metric in ("EffectiveCost", "BilledCost"):
                started = time.perf_counter()
                e = explain_change(con, month, metric=metric)
                assert time.perf_counter() - started < 5
                totals = con.execute(
                    f"SELECT sum({metric}) FILTER (WHERE date_trunc('month', ChargePeriodStart) = DATE '{month}-01'), "
                    f"sum({metric}) FILTER (WHERE date_trunc('month', ChargePeriodStart) = "
                    f"DATE '{month}-01' - INTERVAL 1 MONTH) FROM charges").fetchall()[0]
                assert (e.current_total, e.previous_total) == totals
                assert sum((d.change for d in e.drivers), D(0)) == e.change
                assert [d.kind for d in e.drivers][-1] == "other"
                changes = [abs(d.change) for d in e.drivers[:-1]]
                assert changes == sorted(changes, reverse=True)
                for d in e.drivers:
                    if d.kind == "service":
                        assert d.new + d.gone + d.continuing + d.no_resource == d.change
                for view, parts in e.views.items():
                    assert sum((b.change for b in parts), D(0)) == e.change, view
                assert e.text().startswith("Cost rose" if e.change > 0 else "Cost fell")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=st.integers(min_value=1, max_value=40), month=st.sampled_from(["2025-02", "2025-03", "2025-04"]))
def test_any_number_of_drivers_adds_up(generated, top, month):
    with CostStore(generated).reader() as con:
        e = explain_change(con, month, top=top)
    assert sum((d.change for d in e.drivers), D(0)) == e.change
    assert len(e.drivers) <= top + 1
    assert all(sum((b.change for b in v), D(0)) == e.change for v in e.views.values())


def test_the_gpu_spike_is_named(generated):
    """The generator's spike (month months // 2 = March 2025 of four): an LLM pre-training run on
    p5.48xlarge (AWS) and a3-highgpu-8g (Google), new that month, in the ML sub-accounts. The top
    driver of February → March names it; March → April it is what went away."""
    with CostStore(generated).reader() as con:
        up = explain_change(con, "2025-03")
        down = explain_change(con, "2025-04")
    top = up.drivers[0]
    assert top.kind == "service" and "ml" in top.sub_account and "GPU" in top.top_sku
    assert top.new > top.change / 2  # mostly resources new this month
    assert up.change > 0 and top.change / up.change > D("0.4")
    first, second = up.sentences()[:2]
    assert first.startswith("Cost rose $") and "from February to March 2025" in first
    assert top.sub_account in second and "GPU instances, new this month" in second
    assert "of the rise is" in second
    gone = down.drivers[0]
    assert gone.sub_account == top.sub_account and gone.gone < 0
    assert "no longer running after March" in down.sentences()[1] and "of the fall is" in down.sentences()[1]


def test_change_arguments(generated):
    with CostStore(generated).reader() as con:
        with pytest.raises(ValueError, match="two different months"):
            explain_change(con, "2025-03", "2025-03")
        with pytest.raises(ValueError, match="metric must be one of"):
            explain_change(con, "2025-03", metric="ListCost")
        e = explain_change(con, "2025-03", "2025-01")  # any two months
    assert e.previous_month == JAN and "from January to March 2025" in e.text()


def test_sentences_from_hand_built_drivers():
    """Words only (no store): a +$1,000 change with a +$1,500 driver does not claim "150% of the
    rise"; an unchanged month says so; the other line closes the sum."""
    from finops_xl.close.variance import ChangeExplanation, Driver

    feb, mar = dt.date(2025, 2, 1), dt.date(2025, 3, 1)
    big = Driver("service", "Amazon EC2 in acme-ml-research", D(0), D(1500), D(1500), "AWS",
                 "acme-ml-research", "Amazon EC2", new=D(1500), top_sku="p5.48xlarge GPU instances")
    other = Driver("other", "everything else", D(4000), D(3500), D(-500))
    e = ChangeExplanation(mar, feb, "USD", "EffectiveCost", D(4000), D(5000), (big, other), {})
    assert e.sentences() == (
        "Cost rose $1,000 (+25%) from February to March 2025, to $5,000.",
        ("Movements inside it are larger than the net rise; the largest is Amazon EC2 in acme-ml-research "
         "(+$1,500; p5.48xlarge GPU instances, new this month)."),
        "Everything else nets to −$500.",
    )
    flat = ChangeExplanation(mar, feb, "EUR", "EffectiveCost", D(50), D(50),
                             (Driver("other", "everything else", D(50), D(50), D(0)),), {})
    assert flat.sentences() == ("Cost was unchanged at 50.00 EUR from February to March 2025.",)
