"""Chargeback entries (allocated cost from the central cost center to each owner's, rule id on every
line) and capitalization of development-stage cost (ASC 350-40, IAS 38), worked by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from finops_xl.cli import main
from finops_xl.close import capitalization as cap
from finops_xl.close.chargeback import chargeback_entries
from finops_xl.close.journal import LedgerMap
from finops_xl.data import allocation_rules
from finops_xl.money import round_money
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.store import CostStore
from tests.conftest import write_csv_rows
from tests.test_accruals import HEADER, charge

D = Decimal
L = LedgerMap()
JAN, FEB, MAR, APR = (dt.date(2025, m, 1) for m in (1, 2, 3, 4))


@pytest.fixture(scope="module")
def allocated(tmp_path_factory):
    root = tmp_path_factory.mktemp("cb")
    generate(SampleSpec(rows=10_000, months=2, seed=3), root / "gen")
    store = root / "finops.duckdb"
    assert main(["ingest", "--quiet", "--store", str(store), str(root / "gen")]) == 0
    assert main(["allocate", "--store", str(store), "--rules", str(allocation_rules())]) == 0
    return store


def test_chargeback_moves_each_owners_allocated_cost(allocated, tmp_path, capsys):
    modes = tmp_path / "modes.csv"
    modes.write_text("owner,mode\n*,chargeback\nsearch,showback\n")
    journal = tmp_path / "je.csv"
    assert main(["close", "--store", str(allocated), "--month", "2025-02", "--journal", str(journal),
                 "--chargeback", str(modes)]) == 0
    rows = [r for r in csv.DictReader(io.StringIO(journal.read_text())) if r["kind"] == "chargeback"]
    assert rows and all(r["source"].startswith("chargeback:") and len(r["source"]) > len("chargeback:")
                        for r in rows)
    credits = [r for r in rows if D(r["credit"])]
    debits = [r for r in rows if D(r["debit"])]
    assert sum(D(r["debit"]) for r in rows) == sum(D(r["credit"]) for r in rows)
    # the owners' debits are the allocation's EffectiveCost per owner and rule, rounded to the cent
    with CostStore(allocated).reader() as con:
        want = con.execute("""
            SELECT owner, sum(EffectiveCost) FROM allocated_charges
            WHERE month = DATE '2025-02-01' AND owner <> 'search' GROUP BY ALL""").fetchall()
        per_rule = con.execute("""
            SELECT owner, cost_center, coalesce(rule_id, CASE WHEN pool_id IS NOT NULL THEN 'pool:' || pool_id END, kind, 'unallocated'),
                   sum(EffectiveCost)
            FROM allocated_charges WHERE month = DATE '2025-02-01' AND owner <> 'search' GROUP BY ALL""").fetchall()
    net = sum(round_money(D(v)) for _o, _cc, _r, v in per_rule)  # one line per owner, cost center, rule
    assert sum(D(r["debit"]) - D(r["credit"]) for r in rows if r["cost_center"] != L.central_cost_center) == net
    assert {r["cost_center"] for r in credits + debits} >= {L.central_cost_center}
    assert "search" not in " ".join(r["memo"] for r in rows)  # a showback owner gets no lines
    assert {o for o, _ in want} <= {r["memo"].split(" to ")[1].split(",")[0] for r in rows}


def test_showback_owners_get_no_entry(allocated):
    with CostStore(allocated).reader() as con:
        assert chargeback_entries(con, FEB, L, {"*": "showback"}) == ()


@pytest.fixture
def project_store(tmp_path):
    """Atlas (tag project=atlas): $100.00 a day, 1 January – 30 April 2025; other cost $50.00 a day."""
    days = [JAN + dt.timedelta(days=i) for i in range(120)]
    rows = [charge(d, 100, "1", "Compute", "EC2", tags={"project": "atlas"}, invoice="INV") for d in days]
    rows += [charge(d, 50, "2", "Storage", "S3", invoice="INV") for d in days]
    src = write_csv_rows(tmp_path / "atlas.csv", HEADER, rows)
    store = tmp_path / "finops.duckdb"
    assert main(["ingest", "--quiet", "--store", str(store), str(src)]) == 0
    rules = tmp_path / "projects.csv"
    rules.write_text("project,match,development_start,in_service,useful_life_months\n"
                     "atlas,tag:project=atlas,2025-01-10,2025-03-16,36\n")
    return store, rules


def test_capitalization_worked_example(project_store):
    """ASC 350-40-25-1..6 / IAS 38.54-57: cost before development starts (1-9 Jan, $900) and from
    the in-service day on (16 Mar -) is expense; 10 Jan - 15 Mar is capitalized: January 22 days
    = 2,200.00, February 28 days = 2,800.00, March 1-15 = 1,500.00; 6,500.00 moves to software on
    16 March. ASC 350-40-35-4 / IAS 38.97: straight-line from the in-service day over 36 months,
    M = 6,500 ÷ 36 = 180.5556: March (16 of 31 days in service) 180.5556 × 16 ÷ 31 = 93.19; April
    180.56; the life ends 16 March 2028, whose month takes the rest: 6,500.00 − 93.19 − 35 × 180.56
    = 87.21."""
    store, rules = project_store
    projects = cap.load_projects(rules)
    with CostStore(store).reader() as con:
        by_month = {m: e for m in (JAN, FEB, MAR, APR)
                    for e in [cap.capitalization_entries(con, m, projects, L)]}
        report = cap.project_report(con, projects, dt.date(2028, 3, 1))
    [jan] = by_month[JAN]
    assert (jan.kind, jan.total, jan.date) == ("capitalization", D("2200.00"), dt.date(2025, 1, 31))
    assert {(l.account, l.cost_center, l.debit, l.credit) for l in jan.lines} == {
        (L.asset_under_construction, "", D("2200.00"), 0), (L.account("Compute"), L.central_cost_center, 0, D("2200.00"))}
    assert [e.total for e in by_month[FEB]] == [D("2800.00")]
    assert [(e.kind, e.total, e.date) for e in by_month[MAR]] == [
        ("capitalization", D("1500.00"), dt.date(2025, 3, 31)),
        ("capitalization-transfer", D("6500.00"), dt.date(2025, 3, 16)),
        ("software-amortization", D("93.19"), dt.date(2025, 3, 31))]
    assert [(e.kind, e.total) for e in by_month[APR]] == [("software-amortization", D("180.56"))]
    sched = cap.amortization_schedule(D("6500.00"), projects[0], "USD")
    assert len(sched) == 37 and sched[-1] == (dt.date(2028, 3, 1), D("87.21"))
    assert sum(a for _, a in sched) == D("6500.00")
    last = report[-1]
    assert (last.month, last.stage, last.net_book_value) == (dt.date(2028, 3, 1), "in service", D("0.00"))
    assert [r.stage for r in report[:4]] == ["development", "development", "placed in service", "in service"]


def test_capitalization_via_the_cli_balances(project_store, tmp_path):
    store, rules = project_store
    journal = tmp_path / "je.csv"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--journal", str(journal),
                 "--capitalization", str(rules)]) == 0
    rows = list(csv.DictReader(io.StringIO(journal.read_text())))
    kinds = {r["kind"] for r in rows}
    assert {"capitalization", "capitalization-transfer", "software-amortization"} <= kinds
    for eid in {r["entry_id"] for r in rows}:
        mine = [r for r in rows if r["entry_id"] == eid]
        assert sum(D(r["debit"]) for r in mine) == sum(D(r["credit"]) for r in mine)


def test_bad_capitalization_rules_name_line_and_column(tmp_path, capsys):
    bad = tmp_path / "p.csv"
    bad.write_text("project,match,development_start,in_service,useful_life_months\nx,colour=red,2025-01-01,2025-02-01,12\n")
    with pytest.raises(ValueError, match=r"p.csv: line 2: column match: 'colour=red'"):
        cap.load_projects(bad)
    bad.write_text("project,match,development_start,in_service,useful_life_months\nx,tag:a=b,2025-03-01,2025-02-01,12\n")
    with pytest.raises(ValueError, match=r"line 2: column in_service: 2025-02-01 must be after"):
        cap.load_projects(bad)


def test_capitalization_in_the_close_workbook_and_output(project_store, tmp_path, capsys):
    from openpyxl import load_workbook

    store, rules = project_store
    book = tmp_path / "close.xlsx"
    capsys.readouterr()
    assert main(["close", "--store", str(store), "--month", "2025-03", "--capitalization", str(rules),
                 "--out", str(book)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if " atlas " in x)
    assert "placed in service" in line and "1,500.00" in line and "93.19" in line and "6,406.81" in line
    wb = load_workbook(book)
    assert "Capitalization" in wb.sheetnames and "Sign-off" in wb.sheetnames
    rows = [[c.value for c in r] for r in wb["Capitalization"].iter_rows(min_row=5)]
    assert [r[2] for r in rows] == ["development", "development", "placed in service"]
    assert rows[-1][5] == pytest.approx(6406.81)  # 6,500.00 capitalized − 93.19 amortized
    journal = [c.value for c in wb["Journal"]["D"] if isinstance(c.value, str)]
    assert {"capitalization", "capitalization-transfer", "software-amortization"} <= set(journal)


def test_the_ledger_map_sheet_is_editable_and_read_back(project_store, tmp_path, capsys):
    """The close workbook's Ledger map sheet, edited in Excel (here: openpyxl), is a --ledger file."""
    from openpyxl import load_workbook

    store, _ = project_store
    book = tmp_path / "close.xlsx"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--out", str(book)]) == 0
    wb = load_workbook(book)
    ws = wb["Ledger map"]
    for row in ws.iter_rows(min_row=4):
        if row[1].value == "expense_account":
            row[2].value = "6150 Cloud hosting"
        if row[1].value == "entity":
            row[2].value = "US01"
    wb.save(book)
    journal = tmp_path / "je.csv"
    capsys.readouterr()
    assert main(["close", "--store", str(store), "--month", "2025-03", "--ledger", str(book),
                 "--journal", str(journal), "--capitalization", str(project_store[1])]) == 0
    rows = list(csv.DictReader(io.StringIO(journal.read_text())))
    assert {r["entity"] for r in rows} == {"US01"}
    assert ("6150", "Cloud hosting") in {(r["account"], r["account_name"]) for r in rows}
