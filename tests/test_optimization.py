"""Optimization opportunities: the detectors on planted waste, rightsizing by hand, the savings
ledger on a generated before/after change, the Excel functions, the workbook tab and the CLI.

Expected values come from the planted resources' prices and quantities (``planted.py``, the
fixture) and from the providers' published list prices (AWS EC2 On-Demand, us-east-1, Linux:
m6i.xlarge $0.192/h, m6i.4xlarge $0.768/h, r6i.xlarge $0.252/h, r6i.2xlarge $0.504/h, c4.2xlarge
$0.398/h, c6i.2xlarge $0.34/h), worked by hand below, never from the code under test.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest
import xlwings
from openpyxl import load_workbook

from finops_xl.allocation.rules import load_rules, rules_from_dict
from finops_xl.data import allocation_rules
from finops_xl.optimization import ledger
from finops_xl.optimization.detectors import detect
from finops_xl.optimization.ledger import LedgerError
from finops_xl.optimization.rightsizing import UtilizationError, UtilizationRow, propose, read_utilization
from finops_xl.sample.generator import SampleSpec
from finops_xl.sample.planted import PLANTED, write_utilization
from finops_xl.store.store import CostStore
from tests.libreoffice import convert
from tests.test_udfs_officejs import call, scalar, serial
from tests.conftest import copy_store, sample_store

CENTS = Decimal("0.01")
MARCH, FEBRUARY = dt.date(2025, 3, 1), dt.date(2025, 2, 1)
WASTE = {"unattached_disk": "unattached-storage", "orphaned_snapshot": "orphaned-snapshot",
         "idle_alb": "idle-network", "oversized_vm": "rightsize",
         "retired_team_vm": "retired-owner", "previous_gen_vm": "previous-generation"}
HEALTHY = ("healthy_disk", "healthy_snapshot", "healthy_vm", "healthy_alb", "healthy_api_vm")


def resource(key: str) -> str:
    return next(s.resource_id for s in PLANTED if s.key == key)


def month_cost(key: str, days: int = 31, month_days: int = 31, gb: str | None = None) -> Decimal:
    """The planted resource's cost over ``days`` days of a ``month_days``-day month, by hand
    (``gb``: the GB a growing snapshot holds that month)."""
    total = Decimal(0)
    for s in PLANTED:
        if s.key != key:
            continue
        held = Decimal(gb or s.quantity)
        per_day = {"always": Decimal(24), "daily": Decimal(s.quantity),
                   "storage": (held / month_days).quantize(Decimal("0.0001")),
                   "growing": (held / month_days).quantize(Decimal("0.0001"))}[s.schedule]
        total += Decimal(s.price) * per_day * days
    return total


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("optimization")
    return CostStore(sample_store(root, SampleSpec(rows=8_000, months=3, seed=13, plant_waste=True)))


@pytest.fixture(scope="module")
def utilization(store):
    return read_utilization(write_utilization(store.path.parent / "utilization.csv"))


@pytest.fixture(scope="module")
def findings(store, utilization):
    with store.reader() as con:
        return detect(con, MARCH, rules=load_rules(allocation_rules()), utilization=utilization)


# ---- detectors ----------------------------------------------------------------------------------


def test_each_planted_waste_is_found_with_its_savings(findings):
    by = {(f.resource_id, f.rule): f for f in findings}
    expected = {
        # the whole cost of what should be deleted
        "unattached_disk": month_cost("unattached_disk"),   # 0.12 × 33.0323 GB-months/day × 31
        # 2,000 GB × 1.1² = 2,420 GB in March (the third month): 0.05 × 78.0645 × 31
        "orphaned_snapshot": month_cost("orphaned_snapshot", gb="2420"),
        "idle_alb": month_cost("idle_alb"),                 # 0.0225 × 24 × 31 + 0.008 × 0.001 × 31
        "retired_team_vm": month_cost("retired_team_vm"),   # 0.0832 × 24 × 31 = 61.8984
        # m6i.4xlarge → m6i.xlarge: 0.768 × 24 × 31 × (1 − 0.192 / 0.768) = 428.544
        "oversized_vm": month_cost("oversized_vm") * (1 - Decimal("0.192") / Decimal("0.768")),
        # c4.2xlarge → c6i.2xlarge: 0.398 × 24 × 31 × (1 − 0.34 / 0.398) = 43.152
        "previous_gen_vm": month_cost("previous_gen_vm") * (1 - Decimal("0.34") / Decimal("0.398")),
    }
    for key, rule in WASTE.items():
        f = by.get((resource(key), rule))
        assert f is not None, f"{key}: no {rule} finding"
        assert f.savings == expected[key].quantize(CENTS), key
        assert f.evidence and f.evidence_rows > 0
        assert f.confidence in (("low",) if rule == "orphaned-snapshot" else ("high", "medium")), key
    assert by[(resource("oversized_vm"), "rightsize")].action == "resize m6i.4xlarge to m6i.xlarge"
    assert by[(resource("retired_team_vm"), "retired-owner")].owner == "crm"
    assert by[(resource("unattached_disk"), "unattached-storage")].owner == "web"
    assert "rg-crm-legacy" in by[(resource("unattached_disk"), "unattached-storage")].evidence


def test_no_finding_on_the_planted_healthy_resources(findings):
    healthy = {resource(k) for k in HEALTHY}
    assert not [f for f in findings if f.resource_id in healthy]


def test_a_resource_with_a_finding_is_not_also_a_commitment_candidate(findings):
    flagged = {f.resource_id for f in findings if f.rule != "commitment-candidate"}
    assert not [f for f in findings if f.rule == "commitment-candidate" and f.resource_id in flagged]
    # the steady on-demand instance without another finding is one (24 h on all 31 days)
    batch = [f for f in findings if f.resource_id == resource("rightsized_vm")]
    assert [f.rule for f in batch] == ["commitment-candidate"]


def test_a_commitment_candidate_saves_what_the_providers_commitments_saved(store, findings):
    (batch,) = [f for f in findings if f.resource_id == resource("rightsized_vm")]
    with store.reader() as con:
        eff, contracted = con.execute(
            "SELECT sum(EffectiveCost), sum(ContractedCost) FROM charges WHERE ProviderName = 'AWS' "
            "AND CommitmentDiscountStatus = 'Used' AND ChargePeriodStart >= ? AND ChargePeriodStart < ?",
            [MARCH, dt.date(2025, 4, 1)]).fetchone()
    rate = (1 - Decimal(eff) / Decimal(contracted)).quantize(Decimal("0.0001"))
    # 9 days at 0.384 × 24 and 22 days at 0.192 × 24, on demand
    hours_cost = Decimal("0.384") * 24 * 9 + Decimal("0.192") * 24 * 22
    assert batch.monthly_cost == hours_cost.quantize(CENTS) == Decimal("184.32")
    assert batch.savings == (hours_cost * rate).quantize(CENTS)
    assert f"{rate * 100:.2f}%" in batch.evidence


def test_findings_without_rules_have_no_owner_and_no_retired_rule(store, utilization):
    with store.reader() as con:
        found = detect(con, MARCH, utilization=utilization)
    assert all(f.owner is None for f in found)
    assert "retired-owner" not in {f.rule for f in found}
    plain = rules_from_dict({"owner": "team", "taxonomy": {"team": {"keys": ["team"]}}})  # nothing retired
    with store.reader() as con:
        assert "retired-owner" not in {f.rule for f in detect(con, MARCH, rules=plain)}
        found = detect(con, MARCH, retired=["CRM"], rules=plain)
    assert [f.resource_id for f in found if f.rule == "retired-owner"] == [resource("retired_team_vm")]


# ---- rightsizing, by hand -------------------------------------------------------------------------


@pytest.mark.parametrize("row,billed,cost,size,savings", [
    # 16 vCPU at p95 12 % → 4 vCPU: 48 %; 64 GiB at 15 % → 16 GiB: 60 %; 2 vCPU would be 96 %
    (UtilizationRow("a", "m6i.4xlarge", 30, Decimal(12), memory_p95=Decimal(15)), None, "1000", "m6i.xlarge",
     "750.00"),
    # r6i.2xlarge (8/64) p95 30 % CPU, 20 % memory → r6i.xlarge (4/32): 60 %, 40 %; r6i.large: 120 %
    (UtilizationRow("b", "r6i.2xlarge", 30, Decimal(30), memory_p95=Decimal(20)), None, "500", "r6i.xlarge",
     "250.00"),
    # memory-bound: c6i.4xlarge (16/32) at 50 % memory cannot halve
    (UtilizationRow("c", "c6i.4xlarge", 30, Decimal(20), memory_p95=Decimal(50)), None, "800", None, None),
    # busy: 58 % of 8 vCPU would be 116 % of 4
    (UtilizationRow("d", None, 30, Decimal(58), memory_p95=Decimal(61)), "m6i.2xlarge", "400", None, None),
    # idle: p95 CPU under 5 % → stop, the whole cost
    (UtilizationRow("e", "t3.large", 30, Decimal(3)), None, "100", "(stop)", "100.00"),
    # an unknown type: nothing to propose
    (UtilizationRow("f", "x9.huge", 30, Decimal(40)), None, "100", None, None),
    # the export describes the size before a resize: stale, nothing proposed
    (UtilizationRow("g", "m6i.2xlarge", 30, Decimal(10)), "m6i.xlarge", "100", None, None),
])
def test_rightsizing_hand_derived(row, billed, cost, size, savings):
    p = propose(row, billed, Decimal(cost))
    if size is None:
        assert p is None
        return
    assert (p.proposed or "(stop)") == size
    assert p.savings.quantize(CENTS) == Decimal(savings)


@pytest.mark.parametrize("text,fragment", [
    ("", "empty file"),
    ("resource_id,memory_p95\ni-1,20\n", "missing column(s) cpu_p95"),
    ("resource_id,cpu_p95\ni-1,abc\n", "row 2, column cpu_p95: 'abc' is not a number"),
    ("resource_id,cpu_p95\ni-1,140\n", "not a percentage"),
    ("resource_id,cpu_p95\ni-1,10\ni-1,12\n", "appears twice"),
    ("ResourceId,CPU p95,Period days\ni-1,10,many\n", "'many' is not a whole number"),
])
def test_bad_utilization_files(tmp_path, text, fragment):
    path = tmp_path / "u.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UtilizationError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        read_utilization(path)


def test_utilization_column_names_are_forgiving(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("ResourceId,Instance Type,CPU_P95,Memory P95 (%)\ni-1,m6i.large,12%,30\n", encoding="utf-8")
    (row,) = read_utilization(path)
    assert (row.resource_id, row.instance_type, row.cpu_p95, row.memory_p95, row.period_days) == \
        ("i-1", "m6i.large", Decimal(12), Decimal(30), 30)


# ---- the savings ledger -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ledger_store(store, utilization, tmp_path_factory):
    """A copy of the store whose ledger has seen February and March; the generated data resizes
    web-batch-prod-01 from m6i.2xlarge to m6i.xlarge on 2025-03-10."""
    import shutil

    root = tmp_path_factory.mktemp("ledger")
    copy = CostStore(copy_store(store.path, root / "finops-store"))
    rules = load_rules(allocation_rules())
    with copy.reader() as con:
        february = detect(con, FEBRUARY, rules=rules, utilization=utilization)
    assert ledger.record(copy, february) == (len(february), 0)
    return copy, february


def _resize(february):
    return next(f for f in february if f.rule == "rightsize" and f.resource_id == resource("rightsized_vm"))


def test_the_february_rightsizing_is_priced_by_hand(ledger_store):
    _, february = ledger_store
    f = _resize(february)
    # 0.384 × 24 × 28 = 258.048; m6i.2xlarge → m6i.xlarge halves it
    assert (f.monthly_cost, f.savings, f.action) == (Decimal("258.05"), Decimal("129.02"),
                                                      "resize m6i.2xlarge to m6i.xlarge")


def test_status_transitions_and_realized_savings_to_the_cent(ledger_store):
    copy, february = ledger_store
    oid = _resize(february).id
    with pytest.raises(LedgerError, match="cannot become realized"):
        ledger.set_status(copy, oid, "realized")
    with pytest.raises(LedgerError, match="cannot become implemented"):
        ledger.set_status(copy, oid, "implemented", on=dt.date(2025, 3, 10))
    ledger.set_status(copy, oid, "approved", note="change CHG-1042")
    with pytest.raises(LedgerError, match="cannot become realized"):
        ledger.set_status(copy, oid, "realized")  # no "realized" without "implemented"
    ledger.set_status(copy, oid, "implemented", on=dt.date(2025, 3, 10))
    with copy.reader() as con:
        (m,) = ledger.measure(con, MARCH)
        assert ledger.measure(con, FEBRUARY) == []
        events = con.execute("SELECT from_status, to_status FROM opportunity_events WHERE opportunity_id = ? "
                             "ORDER BY event_id", [oid]).fetchall()
    # generated: 0.384 × 24 = 9.216 a day before, 0.192 × 24 = 4.608 after, 22 days (10–31 March)
    generated_difference = (Decimal("9.216") - Decimal("4.608")) * 22  # 101.376
    assert (m.baseline_days, m.after_days) == (30, 22)
    assert m.baseline_per_day == Decimal("9.216")
    assert m.realized == generated_difference.quantize(CENTS) == Decimal("101.38")
    assert m.projected == (Decimal("129.02") * 22 / 31).quantize(CENTS)
    assert m.annualized == (Decimal("101.38") / 22 * 365).quantize(CENTS)
    assert events == [(None, "identified"), ("identified", "approved"), ("approved", "implemented")]
    ledger.set_status(copy, oid, "realized")
    with pytest.raises(LedgerError, match="it is final"):
        ledger.set_status(copy, oid, "rejected")
    with copy.reader() as con:
        (row,) = ledger.savings_report(con, [MARCH])
    assert (row.owner, row.opportunities, row.realized) == ("web", 1, Decimal("101.38"))


def test_realized_needs_data_after_the_change(ledger_store):
    copy, february = ledger_store
    other = next(f for f in february if f.rule == "idle-network")
    ledger.set_status(copy, other.id, "approved")
    ledger.set_status(copy, other.id, "implemented", on=dt.date(2025, 6, 1))
    with pytest.raises(LedgerError, match="no data on or after that day"):
        ledger.set_status(copy, other.id, "realized")


def test_ledger_refuses_unknown_ids_and_statuses(ledger_store):
    copy, _ = ledger_store
    with pytest.raises(LedgerError, match="no opportunity 'OPP-NOPE'"):
        ledger.set_status(copy, "OPP-NOPE", "approved")
    with pytest.raises(LedgerError, match="unknown status 'done'"):
        ledger.set_status(copy, "OPP-NOPE", "done")


def test_recording_again_keeps_the_status(ledger_store, utilization):
    copy, february = ledger_store
    with copy.reader() as con:
        march = detect(con, MARCH, rules=load_rules(allocation_rules()), utilization=utilization)
    new, seen = ledger.record(copy, march)
    assert seen == len({f.id for f in march} & {f.id for f in february}) and new + seen == len(march)
    with copy.reader() as con:
        status = {o.opportunity_id: o.status for o in ledger.opportunities(con, statuses=ledger.STATUSES)}
    assert status[_resize(february).id] in ("implemented", "realized")


# ---- Excel ----------------------------------------------------------------------------------------


def test_excel_functions_through_officejs(ledger_store):
    copy, february = ledger_store
    table = call("OPPORTUNITIES", "web", 50, str(copy.path))
    assert table[0] == ["id", "rule", "resource", "owner", "status", "confidence", "monthly_cost",
                        "estimated_savings", "action"]
    assert table[1:] and all(r[3] == "web" and r[7] >= 50 for r in table[1:])
    assert [r[7] for r in table[1:]] == sorted((r[7] for r in table[1:]), reverse=True)
    got = scalar(call("SAVINGS_REALIZED", serial(MARCH), "web", str(copy.path)))
    assert got == 101.38  # the generated before/after difference, by hand above
    assert scalar(call("SAVINGS_REALIZED", serial(FEBRUARY), "", str(copy.path))) == 0
    with pytest.raises(xlwings.XlwingsError, match="no opportunities of 'nobody'"):
        call("OPPORTUNITIES", "nobody", "", str(copy.path))


def test_excel_functions_without_a_ledger(store):
    with pytest.raises(xlwings.XlwingsError, match="run `finops-xl opportunities`"):
        call("SAVINGS_REALIZED", serial(MARCH), "", str(store.path))


def test_opportunities_tab_recalculates_in_libreoffice(ledger_store, tmp_path):
    from finops_xl.cli import main

    copy, _ = ledger_store
    out = tmp_path / "showback.xlsx"
    assert main(["workbook", "showback", "--store", str(copy.path), "--month", "2025-03", "--months", "3",
                 "--out", str(out)]) == 0
    wb = load_workbook(convert([out], tmp_path / "recalc")[0], data_only=True)
    ws = wb["Opportunities"]
    values = [c.value for row in ws.iter_rows() for c in row]
    assert not [v for v in values if isinstance(v, str) and v.startswith(("#", "Err:"))]
    rows = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=6) if r[0].value}
    with copy.reader() as con:
        opened = ledger.opportunities(con, statuses=("identified", "approved"))
        done = ledger.opportunities(con, owner="web", statuses=("implemented", "realized"))
        cli_open = ledger.open_savings(con, MARCH)["USD"]
    # open savings: identified or approved AND found again in March; one not seen since February is
    # not counted (the sheet, the CLI and the demo share this definition)
    stale = [o for o in opened if o.month < MARCH]
    assert stale, "the fixture should hold an open opportunity last seen before March"
    still_open = [o for o in opened if o.month == MARCH]
    web_open = sum(o.estimated_savings for o in still_open if o.owner == "web")
    assert rows["web"][1] == pytest.approx(float(web_open), abs=0.005)
    assert rows["Total"][1] == pytest.approx(float(sum(o.estimated_savings for o in still_open)), abs=0.005)
    assert rows["Total"][1] == pytest.approx(float(cli_open), abs=0.005)
    assert rows["web"][2] == pytest.approx(float(sum(o.estimated_savings for o in done)), abs=0.005)
    assert rows["web"][4] == pytest.approx(101.38, abs=0.005)
    assert rows["web"][5] == pytest.approx(round(101.38 / 22 * 365, 2), abs=0.005)  # 22 days since 10 March
    assert rows["Total"][4] == pytest.approx(101.38, abs=0.005)
    march = next(r for r in ws.iter_rows() if isinstance(r[0].value, dt.datetime)
                 and r[0].value.date() == MARCH and r[2].value not in (None, ""))
    assert march[2].value == pytest.approx(101.38, abs=0.005)


# ---- CLI ------------------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "finops_xl.cli", *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_lists_records_and_moves(tmp_path, store, utilization):
    import shutil

    copy_store(store.path, tmp_path / "finops-store")
    path = str(tmp_path / "finops-store")
    util = str(store.path.parent / "utilization.csv")
    done = _cli("opportunities", "--store", path, "--rules", str(allocation_rules()), "--utilization", util,
                "--format", "csv")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("OpportunityId,Rule,ResourceId")
    assert any(",rightsize,i-0a1b2c3d4e5f60001," in line for line in lines)
    assert "savings ledger:" in done.stderr
    oid = next(line.split(",")[0] for line in lines if ",idle-network," in line)
    bad = _cli("opportunities", "set", oid, "realized", "--store", path)
    assert bad.returncode == 1 and "cannot become realized" in bad.stderr
    ok = _cli("opportunities", "set", oid, "approved", "--store", path, "--note", "ticket 7")
    assert ok.returncode == 0 and "approved" in ok.stdout
    table = _cli("opportunities", "--store", path, "--rules", str(allocation_rules()), "--owner", "web",
                 "--no-record")
    assert table.returncode == 0 and "web-promo-2024" in table.stdout
    report = _cli("opportunities", "--store", path, "report")
    assert report.returncode == 0 and "no implemented opportunities" in report.stdout
    missing = _cli("opportunities", "--store", path, "--utilization", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1 and "no such utilization file" in missing.stderr
