"""The close journal a controller imports: complete, balanced, short ids, no formula cells, one
reversal representation per layout, the NetSuite and SAP layouts; the accrual's audit record
(every run kept, the posted one marked, cut-off at the last complete day)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal

import duckdb
import pytest

from finops_xl.cli import main
from finops_xl.close import amortization as am
from finops_xl.close import erp
from finops_xl.close.journal import LedgerMap, entry
from finops_xl.data import allocation_rules
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.store import CostStore

D = Decimal
MAR = dt.date(2025, 3, 1)


def rows_of(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def by_entry(rows, key="entry_id", debit="debit", credit="credit"):
    out = defaultdict(lambda: [D(0), D(0)])
    for r in rows:
        out[r[key]][0] += D(r[debit] or 0)
        out[r[key]][1] += D(r[credit] or 0)
    return out


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """A generated store of 3 months (all invoiced) and one whose March is cut at 28 March with
    nothing invoiced; both allocated."""
    root = tmp_path_factory.mktemp("erp")
    full, cut = root / "full", root / "cut"
    generate(SampleSpec(rows=20_000, months=3, seed=4), full)
    cut.mkdir()
    con = duckdb.connect()
    for f in sorted(full.glob("*.parquet")):
        where = "WHERE ChargePeriodStart < '2025-03-28'" if f.name.endswith("2025-03.parquet") else ""
        invoice = "CAST(NULL AS VARCHAR)" if where else "InvoiceId"
        con.execute(f"COPY (SELECT * REPLACE ({invoice} AS InvoiceId) FROM read_parquet('{f}') {where}) "
                    f"TO '{cut / f.name}' (FORMAT parquet)")
    out = {}
    for name, src in (("final", full), ("cut", cut)):
        store = root / name / "finops.duckdb"
        assert main(["ingest", "--quiet", "--store", str(store), str(src)]) == 0
        assert main(["allocate", "--store", str(store), "--rules", str(allocation_rules())]) == 0
        out[name] = store
    out["full"], out["root"], out["con"] = full, root, con
    return out


# ---- completeness ---------------------------------------------------------------------------------

def test_journal_of_a_fully_invoiced_month_has_every_entry(stores, tmp_path, capsys):
    """A final month with prepaid commitments: the journal holds their amortization (the close
    workbook's Journal sheet showed them; the CSV had only a header)."""
    from finops_workbooks.close_data import gather_close

    store = stores["final"]
    journal = tmp_path / "je.csv"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--journal", str(journal)]) == 0
    out = capsys.readouterr().out
    assert "is final" in out and "not final yet" not in out and "day(s) projected" not in out
    rows = rows_of(journal)
    assert rows, "the journal of a month with amortization is not just a header"
    assert tuple(rows[0]) == erp.GENERIC_COLUMNS
    for eid, (dr, cr) in by_entry(rows).items():
        assert dr == cr, eid
    # every entry of the workbook's Journal sheet, and its amounts
    data = gather_close(CostStore(store), MAR)
    want = {erp.short_id(e.id): e.total for e in data.entries}
    assert {k: v[0] for k, v in by_entry(rows).items()} == want
    # the amortization equals each commitment's daily share of its upfront for March's days of term
    with CostStore(store).reader() as con:
        commitments = [c for c in am.commitments_from_store(con) if c.upfront]
    assert commitments
    amort = sum(D(r["debit"]) for r in rows if r["kind"] == "amortization")
    assert amort == sum(am.amortization(c, MAR) for c in commitments) > 0


def test_entry_ids_are_short_and_stable(stores, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (a, b):
        assert main(["close", "--store", str(stores["final"]), "--month", "2025-03", "--journal", str(path)]) == 0
    assert a.read_bytes() == b.read_bytes()
    ids = {r["entry_id"] for r in rows_of(a)}
    assert ids and max(map(len, ids)) <= erp.MAX_ID + 1
    long = "AMORT-2025-03-arn:aws:ec2:us-east-1:123456789012:reserved-instances/" + "x" * 90
    assert erp.short_id(long) == erp.short_id(long) and erp.short_id(long).startswith("AMORT-2025-03-")
    assert len(erp.short_id(long)) == len("AMORT-2025-03-") + 8


def test_tag_values_never_become_formulas():
    """OWASP CSV injection: a cell starting with = + - @ tab or CR is prefixed with a quote."""
    e = entry("E1", dt.date(2025, 3, 31), "USD", "accrual",
              [("6100 Cloud services", "=1+1", D("10"), "+SUM(A1)"), ("6100 Cloud services", "@x", D("5"), "-2")],
              [("2150 Accrued liabilities", "\tcc", D("15"), "=HYPERLINK(\"http://x\")")])
    rows = list(csv.DictReader(io.StringIO(erp.to_erp_csv([e]))))
    assert [r["cost_center"] for r in rows] == ["'=1+1", "'@x", "'\tcc"]
    assert [r["memo"] for r in rows] == ["'+SUM(A1)", "'-2", "'=HYPERLINK(\"http://x\")"]
    assert [r["debit"] for r in rows] == ["10.00", "5.00", "0.00"]  # amounts stay numbers
    for fmt in ("netsuite", "sap"):
        text = erp.to_erp_csv([e], fmt)
        for row in csv.reader(io.StringIO(text)):
            assert not any(cell.startswith(erp._FORMULA_START) for cell in row), (fmt, row)


def test_account_number_and_name_are_separate():
    assert erp.split_account("6100 Cloud services") == ("6100", "Cloud services")
    assert erp.split_account("CLOUD") == ("CLOUD", "")


def accrual_entry():
    return entry("ACCR-2025-03", dt.date(2025, 3, 31), "USD", "accrual",
                 [("6100 Cloud services", "CC-1", D("100.00"), "accrued")],
                 [("2150 Accrued liabilities", "", D("100.00"), "accrued")],
                 "Accrual 2025-03", reverses_on=dt.date(2025, 4, 1))


def test_a_reversal_is_a_flag_or_an_entry_never_both():
    e = accrual_entry()
    generic = list(csv.DictReader(io.StringIO(erp.to_erp_csv([e, e.reversal()]))))
    assert "reverses_on" not in generic[0]
    assert {(r["entry_id"], r["kind"], r["date"]) for r in generic} == {
        ("ACCR-2025-03", "accrual", "2025-03-31"), ("ACCR-2025-03-REV", "reversal", "2025-04-01")}
    # the same without the reversal entry given: it is added, still once
    assert erp.to_erp_csv([e]) == erp.to_erp_csv([e, e.reversal()])
    ns = list(csv.DictReader(io.StringIO(erp.to_erp_csv([e, e.reversal()], "netsuite"))))
    assert {r["External ID"] for r in ns} == {"ACCR-2025-03"}
    assert {r["Reversal Date"] for r in ns} == {"04/01/2025"}
    sap = list(csv.DictReader(io.StringIO(erp.to_erp_csv([e], "sap"))))
    assert {r["XBLNR"] for r in sap} == {"ACCR-2025-03", "ACCR-2025-03-REV"}


def test_netsuite_layout_columns_and_limits():
    """Oracle NetSuite Help, Journal Entry header and line-level fields tables: Account with number
    and name (Use Account Numbers), Debit / Credit field size 13 (10 digits . 2 digits)."""
    rows = list(csv.DictReader(io.StringIO(erp.to_erp_csv([accrual_entry()], "netsuite", entity="US01"))))
    assert tuple(rows[0]) == erp.NETSUITE_COLUMNS
    first = rows[0]
    assert (first["Account"], first["Debit"], first["Credit"], first["Subsidiary"], first["Date"],
            first["Posting Period"], first["Department"]) == (
        "6100 Cloud services", "100.00", "", "US01", "03/31/2025", "Mar 2025", "CC-1")
    big = entry("BIG", dt.date(2025, 3, 31), "USD", "accrual", [("6100 X", "", D("12345678901.00"), "x")],
                [("2150 Y", "", D("12345678901.00"), "y")])
    with pytest.raises(erp.JournalFormatError, match="10 digits"):
        erp.to_erp_csv([big], "netsuite")


def test_sap_layout_columns_and_lengths():
    """SAP BKPF / BSEG: BUKRS 4, BLDAT/BUDAT 8 (YYYYMMDD), MONAT 2, BLART 2, WAERS 5, XBLNR 16,
    BKTXT 25, BSCHL 2 (40 debit / 50 credit), HKONT 10, KOSTL 10, SGTXT 50, ZUONR 18."""
    e = entry("AMORT-2025-03-" + "arn:aws:ec2:reserved/" + "z" * 120, dt.date(2025, 3, 31), "USD",
              "amortization", [("6100 Cloud services", "CC-1", D("7.50"), "m" * 80)],
              [("1400 Prepaid expenses (current)", "", D("7.50"), "n")], "h" * 40)
    rows = list(csv.DictReader(io.StringIO(erp.to_erp_csv([e], "sap", entity="1000"))))
    assert tuple(rows[0]) == erp.SAP_COLUMNS
    want = {"BUKRS": 4, "BLDAT": 8, "BUDAT": 8, "MONAT": 2, "BLART": 2, "WAERS": 5, "XBLNR": 16,
            "BKTXT": 25, "BSCHL": 2, "HKONT": 10, "KOSTL": 10, "SGTXT": 50, "ZUONR": 18}
    for r in rows:
        for col, n in want.items():
            assert len(r[col]) <= n, (col, r[col])
    assert [(r["BSCHL"], r["HKONT"], r["WRBTR"], r["BUDAT"]) for r in rows] == [
        ("40", "6100", "7.50", "20250331"), ("50", "1400", "7.50", "20250331")]
    long_cc = entry("X", dt.date(2025, 3, 31), "USD", "accrual", [("6100 A", "COSTCENTER-TOO-LONG", D(1), "")],
                    [("2150 B", "", D(1), "")])
    with pytest.raises(erp.JournalFormatError, match="KOSTL holds at most 10 characters, 'COSTCENTER-TOO-LONG'"):
        erp.to_erp_csv([long_cc], "sap")


def test_cli_journal_formats(stores, tmp_path):
    for fmt, columns in (("netsuite", erp.NETSUITE_COLUMNS), ("sap", erp.SAP_COLUMNS)):
        path = tmp_path / f"{fmt}.csv"
        assert main(["close", "--store", str(stores["final"]), "--month", "2025-03", "--journal", str(path),
                     "--journal-format", fmt]) == 0
        rows = rows_of(path)
        assert rows and tuple(rows[0]) == columns
        if fmt == "netsuite":
            sums = by_entry(rows, "External ID", "Debit", "Credit")
        else:
            sums = defaultdict(lambda: [D(0), D(0)])
            for r in rows:
                sums[r["XBLNR"]][0 if r["BSCHL"] == "40" else 1] += D(r["WRBTR"])
        assert all(dr == cr for dr, cr in sums.values())


def test_termination_write_off_has_a_refund_receivable_leg():
    """$365 from 1 Jan 2022, terminated 15 March: 292.00 left; the provider refunds 250.00 — Dr
    receivable 250.00, Dr expense (loss) 42.00 / Cr prepaid 292.00."""
    c = am.Commitment("ri-1", "AWS", "Reserved Instance", dt.date(2022, 1, 1), 12, D("365.00"))
    s = am.terminate(c, dt.date(2022, 3, 15))
    L = LedgerMap()
    e = am.write_off_entry(s, L, policy_owner="platform", refund=D("250.00"))
    assert {(l.account, l.debit, l.credit) for l in e.lines} == {
        (L.receivable, D("250.00"), 0), (L.expense_account, D("42.00"), 0), (L.prepaid_current, 0, D("292.00"))}


# ---- accrual: upfront purchases, audit record, cut-off ----------------------------------------------

def test_upfront_purchases_are_never_accrued(tmp_path):
    """January of generated data cut at 20 January, nothing invoiced: its upfront commitment
    purchases are prepaid (the Journal books them to Prepaid / AP), so the accrual's actual to date
    is the month's BilledCost without them (SQL over the raw rows)."""
    from finops_xl.close.accruals import accrue

    gen, cut = tmp_path / "gen", tmp_path / "cut"
    generate(SampleSpec(rows=20_000, months=2, seed=7), gen)
    cut.mkdir()
    con = duckdb.connect()
    files = sorted(gen.glob("*-2025-01.parquet"))
    for f in files:
        con.execute(f"COPY (SELECT * REPLACE (CAST(NULL AS VARCHAR) AS InvoiceId) FROM read_parquet('{f}') "
                    f"WHERE ChargePeriodStart < '2025-01-20') TO '{cut / f.name}' (FORMAT parquet)")
    names = ", ".join(f"'{f}'" for f in sorted(cut.glob("*.parquet")))
    upfront, rest = con.execute(f"""
        SELECT sum(BilledCost) FILTER (WHERE ChargeCategory = 'Purchase' AND ChargeFrequency = 'One-Time'
                                         AND CommitmentDiscountId IS NOT NULL),
               sum(BilledCost) FILTER (WHERE NOT (ChargeCategory = 'Purchase' AND ChargeFrequency = 'One-Time'
                                         AND CommitmentDiscountId IS NOT NULL))
        FROM read_parquet([{names}])""").fetchall()[0]
    assert upfront > 0
    store = tmp_path / "finops.duckdb"
    assert main(["ingest", "--quiet", "--store", str(store), str(cut)]) == 0
    with CostStore(store).reader() as rcon:
        r = accrue(rcon, dt.date(2025, 1, 1))
    assert r.total("actual_to_date") == rest


def test_every_run_is_kept_and_the_true_up_uses_the_posted_one(stores, tmp_path, capsys):
    import shutil

    store = tmp_path / "s" / "finops.duckdb"
    shutil.copytree(stores["cut"].parent, store.parent)
    close_dir = store.with_name("finops.close")
    assert main(["close", "--store", str(store), "--month", "2025-03", "--cutoff", "2025-03-20"]) == 0
    assert main(["close", "--store", str(store), "--month", "2025-03", "--post", "--by", "Ada"]) == 0
    assert main(["close", "--store", str(store), "--month", "2025-03", "--cutoff", "2025-03-25"]) == 0
    out = capsys.readouterr().out
    runs = sorted(p.name for p in close_dir.glob("ACCR-2025-03-*.json"))
    assert runs == ["ACCR-2025-03-001.json", "ACCR-2025-03-002.json", "ACCR-2025-03-003.json"]
    posted = json.loads((close_dir / "ACCR-2025-03.json").read_text())
    assert posted["posted"]["run"] == 2 and posted["posted"]["by"] == "Ada"
    assert posted["cutoff"] == "2025-03-28" and "posted" in out
    # posting twice is refused, in one line
    assert main(["close", "--store", str(store), "--month", "2025-03", "--post"]) == 1
    err = capsys.readouterr().err
    assert "already posted (run 2, by Ada" in err and "\n" not in err.strip()
    # the final data lands: the true-up compares with run 2 (cut-off 28 March), not the last run
    assert main(["ingest", "--quiet", "--store", str(store), str(stores["full"])]) == 0
    assert main(["allocate", "--store", str(store), "--rules", str(allocation_rules())]) == 0
    capsys.readouterr()
    assert main(["close", "--store", str(store), "--month", "2025-03"]) == 0
    out = capsys.readouterr().out
    assert "true-up against the accrual of cut-off 2025-03-28 (posted run 2)" in out


def _hourly_store(tmp_path, last_day_hours: int, days: int = 10):
    """AWS-like hourly usage: $1 an hour from 1 March for ``days`` full days, then
    ``last_day_hours`` hours of the next day; nothing invoiced."""
    from tests.conftest import write_csv_rows
    from tests.test_accruals import BASE, HEADER

    rows = []
    start = dt.datetime(2025, 3, 1)
    hours = days * 24 + last_day_hours
    for h in range(hours):
        t0 = start + dt.timedelta(hours=h)
        row = dict(BASE, ProviderName="AWS", BillingAccountId="B1", BillingCurrency="USD", SubAccountId="1",
                   SubAccountName="one", ServiceCategory="Compute", ServiceName="EC2", ChargeCategory="Usage",
                   ChargeFrequency="Usage-Based", ChargeClass="NULL", PricingCategory="Standard",
                   BillingPeriodStart="2025-03-01 00:00:00", BillingPeriodEnd="2025-04-01 00:00:00",
                   ChargePeriodStart=f"{t0:%Y-%m-%d %H:%M:%S}",
                   ChargePeriodEnd=f"{t0 + dt.timedelta(hours=1):%Y-%m-%d %H:%M:%S}",
                   BilledCost="1", EffectiveCost="1", ListCost="1", ContractedCost="1",
                   CommitmentDiscountId="NULL", CommitmentDiscountStatus="NULL", Tags="NULL", InvoiceId="NULL")
        rows.append([row[h_] for h_ in HEADER])
    src = write_csv_rows(tmp_path / "hourly.csv", HEADER, rows)
    store = tmp_path / "finops.duckdb"
    assert main(["ingest", "--quiet", "--store", str(store), str(src)]) == 0
    return store


def test_a_partial_last_day_is_not_a_full_day(tmp_path, capsys):
    """10 full days at $24 and 4 hours of 11 March: cut off at 11 March (the 4 hours left out), so
    the trailing 7 days average $24 a day and 21 days are projected: 240 + 24 × 21 = 744 = the
    month's $1 an hour. Counting the 4 hours as a day would give 244 + (24 × 6 + 4) ÷ 7 × 20."""
    from finops_xl.close.accrual_runs import complete_cutoff
    from finops_xl.close.accruals import accrue

    store = _hourly_store(tmp_path, last_day_hours=4)
    with CostStore(store).reader() as con:
        c = complete_cutoff(con, MAR)
        assert (c.day, c.partial) == (dt.date(2025, 3, 11), dt.date(2025, 3, 11))
        r = accrue(con, MAR, cutoff=c.day)
    assert r.total("estimate") == D(744)
    capsys.readouterr()
    assert main(["close", "--store", str(store), "--month", "2025-03"]) == 0
    out = capsys.readouterr().out
    assert "accrual at cut-off 2025-03-11" in out and "2025-03-11 is partial (rows up to 04:00 UTC)" in out


def test_one_day_of_data_warns(tmp_path, capsys):
    store = _hourly_store(tmp_path, last_day_hours=0, days=1)
    capsys.readouterr()
    assert main(["close", "--store", str(store), "--month", "2025-03"]) == 0
    out = capsys.readouterr().out
    assert "one day of data (2025-03-01) is extrapolated to the 30 days left" in out


def test_a_complete_but_uninvoiced_month_does_not_say_days_projected(tmp_path, capsys):
    store = _hourly_store(tmp_path, last_day_hours=0, days=31)
    capsys.readouterr()
    assert main(["close", "--store", str(store), "--month", "2025-03"]) == 0
    out = capsys.readouterr().out
    assert "0 day(s) projected" not in out and "not final yet" not in out
    assert "2025-03 is not invoiced yet: its data covers every day" in out


# ---- the invoice drives the reconciliation -----------------------------------------------------------

def test_close_invoice_file_drives_the_reconciliation(stores, tmp_path, capsys):
    """The AP list (invoice totals summed from the raw export rows, one of them keyed 10.00 higher
    than the export) is what the close reconciles against: the 10.00 shows as unexplained."""
    from openpyxl import load_workbook

    names = ", ".join(f"'{f}'" for f in sorted(stores["full"].glob("*-2025-03.parquet")))
    invoices = stores["con"].execute(f"""
        SELECT InvoiceId, round(sum(BilledCost), 2), BillingCurrency FROM read_parquet([{names}])
        WHERE InvoiceId IS NOT NULL AND BillingPeriodStart = TIMESTAMP '2025-03-01'
        GROUP BY ALL ORDER BY 1""").fetchall()
    assert len(invoices) >= 2
    ap = tmp_path / "ap.csv"
    with ap.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["invoice_id", "date", "amount", "currency"])
        for i, (inv, amount, cur) in enumerate(invoices):
            w.writerow([inv, "2025-04-03", f"{D(amount) + (D('10.00') if i == 0 else 0):.2f}", cur])
    total = sum(D(a) for _, a, _ in invoices) + D("10.00")
    book = tmp_path / "close.xlsx"
    capsys.readouterr()
    assert main(["close", "--store", str(stores["final"]), "--month", "2025-03", "--invoice", str(ap),
                 "--out", str(book)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.strip().startswith("Invoice total"))
    assert f"{total:,.2f}" in line
    unexplained = next(x for x in out.splitlines() if x.strip().startswith("Unexplained"))
    assert unexplained.split()[-1] == "10.00" and "ties to the cent" in out
    ws = load_workbook(book)["Reconciliation"]
    ids = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert {inv for inv, _, _ in invoices} <= ids
    amounts = {round(D(str(c.value)), 2) for row in ws.iter_rows() for c in row
               if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)}
    assert D(invoices[0][1]) + D("10.00") in amounts, "the workbook shows the AP list's amount"


def test_a_stale_allocation_workbook_is_refused(stores, tmp_path, capsys):
    """A restated export (+1,000.00 on one row) lands after the allocation: the showback workbook
    would show the old allocation (and its own tie-out would still read 0), so it is refused."""
    import shutil

    store = tmp_path / "s" / "finops.duckdb"
    shutil.copytree(stores["final"].parent, store.parent)
    restated = tmp_path / "restated"
    restated.mkdir()
    [aws] = sorted(stores["full"].glob("aws-2025-03.parquet"))
    stores["con"].execute(f"""
        COPY (SELECT * REPLACE (CASE WHEN row_number() OVER () = 1 THEN BilledCost + 1000 ELSE BilledCost END
                                AS BilledCost)
              FROM read_parquet('{aws}')) TO '{restated / aws.name}' (FORMAT parquet)""")
    assert main(["ingest", "--quiet", "--store", str(store), str(restated)]) == 0
    capsys.readouterr()
    out = tmp_path / "showback.xlsx"
    assert main(["workbook", "showback", "--store", str(store), "--month", "2025-03", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert "older than the store's last load" in err and "allocate again" in err and "\n" not in err
    assert not out.exists()
    assert main(["allocate", "--store", str(store), "--rules", str(allocation_rules())]) == 0
    assert main(["workbook", "showback", "--store", str(store), "--month", "2025-03", "--out", str(out)]) == 0
