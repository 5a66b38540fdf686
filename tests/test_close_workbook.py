"""The Monthly close template: recalculated in LibreOffice, every native formula equals finops_xl.

The store is generated data (January and February 2025) whose February export stops on the 24th
and is invoiced only for AWS, allocated by the demo rules: February gets a real accrual, an invoice
tie-out with missing-data items, prepaid amortization (a commitment bought in February) and a
month-over-month change. Expected values come from the finops_xl modules called here (accruals,
amortization, reconciliation, variance, showback) and from SQL over the allocation, addressed by
each formula cell's labels (row label, heading, month, commitment id); they are never read from
the workbook's own numbers, nor from the data the builder was given.

Excel's ROUND rounds a half away from zero, finops_xl's schedules round half-even. A second
workbook holds hand-picked commitments whose months fall exactly on half a cent (found below with
exact fractions), to show the native schedule reproduces the half-even rule on every tie.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from types import SimpleNamespace

import duckdb
import pytest
from finops_workbooks.close import build_close
from finops_workbooks.close_data import gather_close
from finops_workbooks.model import Formula, Sheet
from finops_workbooks.writer import write_xlsx
from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter

from finops_xl.allocation.engine import allocate
from finops_xl.allocation.rules import ROUNDING, load_rules
from finops_xl.allocation.showback import statements
from finops_xl.cli import main
from finops_xl.close import amortization as am
from finops_xl.close.accruals import accrual_entries, accrue
from finops_xl.close.reconciliation import CATEGORIES, reconcile
from finops_xl.close.run import run_close
from finops_xl.close.variance import BudgetLine, explain_change, variance
from finops_xl.data import allocation_rules
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.libreoffice import convert

D = Decimal
JAN, FEB = dt.date(2025, 1, 1), dt.date(2025, 2, 1)
CUT = "2025-02-25"  # February's export ends on the 24th
OK = "✓"
CENT = D("0.005")
#: The functions a template may use: Excel 2010 level, all in LibreOffice 7.4.
EXCEL_2010 = {"SUMIFS", "SUM", "IF", "AND", "INDEX", "MATCH", "EOMONTH", "EDATE", "ROUND", "INT", "MOD",
              "MAX", "MIN", "ABS"}
#: A budget for February, typed by hand: one line with a volume (price/volume effects), one for
#: shared cost, two plain lines; every other owner × category of February is unbudgeted.
BUDGET = (
    BudgetLine("ml", "Compute", FEB, D("20000.00"), D("1000"), "Hours"),
    BudgetLine("payments", "Compute", FEB, D("3000.00")),
    BudgetLine("web", "Storage", FEB, D("500.00")),
    BudgetLine("data-platform", "Shared", FEB, D("2000.00")),
)
#: Commitments whose daily shares hit half a cent exactly (2024 has 366 days):
#: 10,981.83 over 2024: February = 1,098,183 cents × 29 ÷ 366 = 87,014.5 (half-even 870.14, ROUND 870.15);
#: 5.49 over 2024: January = 549 × 31 ÷ 366 = 46.5 (half-even 0.46, ROUND 0.47), in six months;
#: a three-year term from 10 February 2024 (1,096 days, a leap day, starting mid-month).
TIES = (
    am.Commitment("tie-10981.83", "AWS", "Reserved Instance", dt.date(2024, 1, 1), 12, D("10981.83")),
    am.Commitment("tie-5.49", "AWS", "Savings Plan", dt.date(2024, 1, 1), 12, D("5.49")),
    am.Commitment("tie-3y-leap", "AWS", "Reserved Instance", dt.date(2024, 2, 10), 36, D("7777.77")),
)


# ---- fixtures -------------------------------------------------------------------------------


def _cut_exports(full, cut) -> None:
    """February's files stop at the cut-off; only AWS's rows are invoiced yet."""
    cut.mkdir(parents=True)
    con = duckdb.connect()
    for f in sorted(full.glob("*.parquet")):
        late = f.name.endswith("2025-02.parquet")
        where = f"WHERE ChargePeriodStart < '{CUT}'" if late else ""
        invoice = "CAST(NULL AS VARCHAR)" if late and not f.name.startswith("aws") else "InvoiceId"
        con.execute(f"COPY (SELECT * REPLACE ({invoice} AS InvoiceId) FROM read_parquet('{f}') {where}) "
                    f"TO '{cut / f.name}' (FORMAT parquet)")


@pytest.fixture(scope="module")
def close(tmp_path_factory):
    root = tmp_path_factory.mktemp("close")
    full, cut = root / "full", root / "cut"
    generate(SampleSpec(rows=20_000, months=2, seed=31), full)
    _cut_exports(full, cut)
    store = root / "store" / "finops-store"
    ingest([cut], store)
    allocate(store, load_rules(allocation_rules()))
    data = gather_close(CostStore(store), FEB, budget=BUDGET)
    spec = build_close(data)

    # the same month with hand-picked commitments whose shares fall on half a cent
    schedules = tuple(am.schedule(c) for c in TIES)
    tie_data = dataclasses.replace(data, commitments=TIES, schedules=schedules,
                                   roll_forward=am.roll_forward(schedules, TIES[0].start, FEB))
    tie_spec = build_close(tie_data)

    # the month once final: the saved accrual against the full data (a copy of the store)
    final_root = root / "final"
    shutil.copytree(store.parent, final_root)
    final = CostStore(final_root / "finops-store")
    run_close(final, FEB)  # accrual at the cut-off, saved beside the copy
    ingest([full], final.path)
    allocate(final.path, load_rules(allocation_rules()))
    trued = run_close(final, FEB)
    assert trued.stage == "true-up"
    final_spec = build_close(gather_close(final, FEB, run=trued))

    files = [write_xlsx(s, root / "in" / f"{name}.xlsx")
             for name, s in (("close", spec), ("ties", tie_spec), ("final", final_spec))]
    out = convert(files, root / "out")
    return SimpleNamespace(root=root, store=store, data=data, spec=spec, tie_spec=tie_spec,
                           final_spec=final_spec, trued=trued, full=full,
                           values=[load_workbook(p, data_only=True) for p in out])


@pytest.fixture(scope="module")
def expected(close):
    """What finops_xl says about February, computed here (never from the workbook)."""
    with CostStore(close.store).reader() as con:
        accrual = accrue(con, FEB)
        entries = accrual_entries(accrual)
        entries += tuple(e.reversal() for e in entries if e.reverses_on)
        commitments = am.commitments_from_store(con)
        schedules = {c.id: am.schedule(c) for c in commitments}
        roll = am.roll_forward(schedules.values(), JAN, FEB)
        prepaid = [e for s in schedules.values() if s.commitment.start.replace(day=1) == FEB
                   and (e := am.purchase_entry(s))]
        for s in schedules.values():
            used, unused = am.used_by_owner(con, s.commitment.id, FEB)
            prepaid += [e for e in (am.amortization_entry(s, FEB, policy_owner="UNALLOCATED", weights=used,
                                                          unused=unused), am.reclass_entry(s, FEB)) if e]
        recon = reconcile(con, FEB)
        report = variance(con, BUDGET)
        change = explain_change(con, FEB)
        effective = {s.owner: s for s in statements(con) if s.month == FEB}
        billed = {s.owner: s.total for s in statements(con, "BilledCost") if s.month == FEB}
        store_effective, store_billed = (D(v) for v in con.execute(
            "SELECT sum(EffectiveCost), sum(BilledCost) FROM allocated_charges WHERE month = ?",
            [FEB]).fetchone())
    return SimpleNamespace(accrual=accrual, entries=entries + tuple(prepaid), commitments=commitments,
                           schedules=schedules, roll={r.month: r for r in roll}, recon=recon,
                           variance=[l for l in report.lines if l.month == FEB], change=change,
                           effective=effective, billed=billed, store_effective=store_effective,
                           store_billed=store_billed)


# ---- reading sheets by their labels ---------------------------------------------------------


def grid(sheet: Sheet) -> dict[tuple[int, int], object]:
    """(row, column) → value of every cell, the Excel Tables' header texts included."""
    g = {(c.row, c.column): c.value for c in sheet.cells}
    for table in sheet.tables:
        for ref, text in zip(table.header_refs, table.header):
            g[coordinate_to_tuple(ref)] = text
    return g


def formulas(sheet: Sheet) -> set[str]:
    return {c.ref for c in sheet.cells if isinstance(c.value, Formula)}


def at(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


def rows_labelled(g, column: int = 1) -> dict[int, object]:
    return {r: v for (r, c), v in g.items() if c == column and v is not None}


def row_of(g, text: str, column: int = 1, start: int = 0) -> int:
    """The first row from ``start`` whose cell in ``column`` starts with ``text``."""
    return min(r for (r, c), v in g.items()
               if c == column and r >= start and isinstance(v, str) and v.startswith(text))


def headings(g, row: int) -> dict[str, int]:
    return {v: c for (r, c), v in g.items() if r == row and isinstance(v, str)}


def as_date(value):
    return value.date() if isinstance(value, dt.datetime) else value


def assert_cells(ws, want: dict[str, object], tolerance: dict[str, Decimal] | None = None) -> int:
    """Recalculated values against the expected ones: text and dates exactly, ratios (percent
    formats) to 1e-9, money to the cent (or the tolerance given for the cell)."""
    wrong = []
    for ref, value in want.items():
        got = ws[ref].value
        if isinstance(value, str):
            ok = (got or "") == value
        elif isinstance(value, dt.date):
            ok = as_date(got) == value
        elif isinstance(got, (int, float)) and not isinstance(got, bool):
            limit = (tolerance or {}).get(ref) or (D("1e-9") if ws[ref].number_format.endswith("%") else CENT)
            ok = abs(D(repr(got)) - D(value)) < limit
        else:
            ok = False
        if not ok:
            wrong.append((ws.title, ref, got, value))
    assert not wrong, f"{len(wrong)} of {len(want)} cells differ: {wrong[:10]}"
    return len(want)


def ratio(part, whole):
    return "" if not whole else D(part) / D(whole)


# ---- expected values, sheet by sheet --------------------------------------------------------


def expected_summary(sheet: Sheet, x) -> dict[str, object]:
    g = grid(sheet)
    r = x.recon
    labels = {label: c for c, (label, _) in zip(CATEGORIES, r.summary()[2:])}
    by_category = r.by_category()
    variance_total = sum((l.variance for l in x.variance), D(0))
    budget_total = sum((l.budget for l in x.variance), D(0))
    roll = x.roll[FEB]
    values = {
        "Invoice total": r.invoice_total,
        "Allocated BilledCost of the month": r.allocated_gross,
        "less ": -sum((by_category[c] for c in r.separate), D(0)),
        "Allocated total compared": r.allocated_total,
        "Σ reconciling items": sum(by_category.values(), D(0)),
        "Difference: invoice total": r.difference,
        "Tie-out": OK,
        "Allocated cost (EffectiveCost": x.store_effective,
        "Accrual (unbilled cost": x.accrual.total(),
        "Prepaid amortization of the month": roll.amortization,
        "Prepaid balance at month end": roll.closing,
        "  of which current": roll.current,
        "Cost change vs prior month": x.change.change_pct,
        "Budget variance (actual − budget)": variance_total,
        "Budget variance %": variance_total / budget_total,
    }
    want = {}
    for row, label in rows_labelled(g).items():
        if not isinstance(label, str):
            continue
        if label.strip() in labels:
            want[at(row, 2)] = by_category[labels[label.strip()]]
            continue
        hit = [v for k, v in values.items() if label.startswith(k)]
        if hit:
            want[at(row, 2)] = hit[0]
    checks = row_of(g, "Checks")
    for row in range(checks + 1, row_of(g, "Why cost moved")):
        if isinstance(g.get((row, 1)), str):
            want[at(row, 2)] = OK
    return want


def expected_allocation(sheet: Sheet, x) -> dict[str, object]:
    g = grid(sheet)
    head = row_of(g, "Owner")
    cols = headings(g, head)
    total_row = row_of(g, "Total", start=head)
    want = {}
    for row in range(head + 1, total_row):
        owner = g[(row, 1)]
        want[at(row, cols["Total EffectiveCost"])] = x.effective[owner].total
    for heading, column in cols.items():
        if heading == "Owner":
            continue
        if heading == "Total EffectiveCost":
            want[at(total_row, column)] = x.store_effective
        elif heading == "BilledCost":
            want[at(total_row, column)] = sum(x.billed.values(), D(0))
        else:
            want[at(total_row, column)] = sum((_part(s, heading) for s in x.effective.values()), D(0))
    diff = row_of(g, "Difference")
    want[at(diff, cols["Total EffectiveCost"])] = D(0)
    want[at(diff, cols["BilledCost"])] = D(0)
    want[at(row_of(g, "Check"), cols["Total EffectiveCost"])] = OK
    return want


def _part(line, heading: str) -> Decimal:
    if heading == "Rounding":
        return line.total if line.owner == ROUNDING else D(0)
    key = {"Direct usage": "direct", "Commitment amortization": "commitment", "Credits": "credits"}.get(heading)
    return getattr(line, key) if key else dict(line.shared).get(heading.removeprefix("Shared: "), D(0))


def expected_accruals(sheet: Sheet, x) -> dict[str, object]:
    g = grid(sheet)
    a = x.accrual
    head = next(r for r, v in rows_labelled(g).items() if v == "Owner")
    cols = headings(g, head)
    lines = {(l.owner, l.service_category or "(none)"): l for l in a.lines}
    total_row = row_of(g, "Total", start=head)
    want = {}
    for row in range(head + 1, total_row - 1):
        line = lines[(g[(row, 1)], g[(row, cols["Service category"])])]
        want[at(row, cols["Estimate"])] = line.estimate
        want[at(row, cols["Accrual"])] = line.accrual
    for field, heading in (("actual_to_date", "Actual to date"), ("projected", "Projected"),
                           ("fixed_fees", "Fixed fees"), ("invoiced", "Invoiced"), ("estimate", "Estimate"),
                           ("accrual", "Accrual")):
        want[at(total_row, cols[heading])] = a.total(field)
    # the entry, line by line against the accrual lines of its cost center and account
    entry = next(e for e in x.entries if e.kind == "accrual")
    ehead = row_of(g, "Account", start=total_row)
    ecols = headings(g, ehead)
    etotal = row_of(g, "Total", start=ehead)
    for row in range(ehead + 1, etotal):
        account, center = g[(row, 1)], g.get((row, 2)) or ""
        line = next(l for l in entry.lines if (l.account, l.cost_center) == (account, center))
        net = line.debit - line.credit
        if account == a.liability_account:
            unrounded = -a.total()
        else:
            unrounded = sum((l.accrual for l in a.lines if (l.account, l.cost_center) == (account, center)), D(0))
        want[at(row, ecols["Net (Dr − Cr)"])] = net
        want[at(row, ecols["Unrounded accrual"])] = unrounded
        want[at(row, ecols["Rounding"])] = net - unrounded
    assert etotal - ehead - 1 == len(entry.lines)
    for heading, value in (("Debit", entry.total), ("Credit", entry.total), ("Net (Dr − Cr)", D(0)),
                           ("Unrounded accrual", D(0)), ("Rounding", D(0))):
        want[at(etotal, ecols[heading])] = value
    want[at(etotal + 1, ecols["Debit"])] = D(0)
    want[at(row_of(g, "Check", start=etotal), ecols["Debit"])] = OK
    return want


def expected_prepaid(sheet: Sheet, schedules: dict, roll: dict) -> tuple[dict, dict]:
    """Every formula of the Prepaid sheet, and the tolerances of the share-in-cents cells."""
    g = grid(sheet)
    want, tolerance = {}, {}
    for row in (row_of(g, "Check: native"), row_of(g, "Check: roll-forward")):
        want[at(row, 5)] = OK
    # the commitments block
    chead = next(r for r, v in rows_labelled(g).items() if v == "#")
    ccols = headings(g, chead)
    row = chead + 1
    while isinstance(g.get((row, 2)), str) and g[(row, 2)] in schedules:
        c = schedules[g[(row, 2)]].commitment
        want[at(row, ccols["First month"])] = c.start.replace(day=1)
        want[at(row, ccols["Term end"])] = c.end
        want[at(row, ccols["Term days"])] = c.term_days
        if c.upfront:
            want[at(row, ccols["Amortized over the term"])] = c.upfront
            want[at(row, ccols["Max |native − finops_xl|"])] = D(0)
        row += 1
    assert row - chead - 1 == len(schedules)
    # the roll-forward
    rhead = row_of(g, "Month", start=row)
    rcols = headings(g, rhead)
    row = rhead + 1
    while isinstance(g.get((row, 1)), dt.date):
        r = roll[g[(row, 1)]]
        for heading, value in (("Opening", r.opening), ("Purchases", r.purchases),
                               ("Amortization", r.amortization), ("Closing", r.closing),
                               ("Non-current", r.noncurrent), ("Current", r.current), ("Difference", D(0))):
            want[at(row, rcols[heading])] = value
        row += 1
    assert row - rhead - 1 == len(roll)
    # one schedule per commitment with an upfront, recomputed independently
    blocks = [r for r, v in rows_labelled(g).items() if isinstance(v, str) and v.startswith("Schedule ")]
    assert sorted(g[(r, 2)] for r in blocks) == sorted(i for i, s in schedules.items() if s.commitment.upfront)
    for top in blocks:
        s = schedules[g[(top, 2)]]
        c = s.commitment
        head = top + 2
        cols = headings(g, head)
        for n, p in enumerate(s.periods):
            row = head + 1 + n
            assert g[(row, 2)] == n
            share = Fraction(int(c.upfront * 100)) * p.days / c.term_days  # cents, exact
            values = {"Month": p.month, "Days of term": p.days, "Share in minor units": share,
                      "Purchases": p.purchases, "Amortization": p.amortization, "Closing": p.closing,
                      "Non-current": p.noncurrent, "Current": p.current, "Difference": D(0)}
            if n:
                values["Opening"] = p.opening
            for heading, value in values.items():
                want[at(row, cols[heading])] = D(share.numerator) / D(share.denominator) \
                    if heading == "Share in minor units" else value
            tolerance[at(row, cols["Share in minor units"])] = D("1e-6")
        total = head + 1 + len(s.periods)
        assert g[(total, 1)] == "Term total"
        for heading, value in (("Days of term", c.term_days), ("Share in minor units", int(c.upfront * 100)),
                               ("Purchases", c.upfront), ("Amortization", c.upfront),
                               ("finops_xl amortization", c.upfront), ("Difference", D(0))):
            want[at(total, cols[heading])] = value
    return want, tolerance


def expected_reconciliation(sheet: Sheet, x) -> dict[str, object]:
    g = grid(sheet)
    total = row_of(g, "Invoice total")
    cols = headings(g, row_of(g, "Invoice", start=row_of(g, "The month's invoices")))
    invoices = x.recon.invoices
    return {at(total, cols["Rows in store"]): sum(i.rows for i in invoices),
            at(total, cols["Amount in USD"]): x.recon.invoice_total,
            at(total, cols["Σ BilledCost of its rows"]): sum((i.charges for i in invoices), D(0))}


def expected_variance(sheet: Sheet, x) -> dict[str, object]:
    g = grid(sheet)
    head = row_of(g, "Owner")
    cols = headings(g, head)
    lines = {(l.owner, l.service_category): l for l in x.variance}
    total = row_of(g, "Total", start=head)
    want = {}
    for row in range(head + 1, total):
        l = lines.pop((g[(row, 1)], g[(row, 2)]))
        want[at(row, cols["Variance"])] = l.variance
        want[at(row, cols["Variance %"])] = "" if l.variance_pct is None else l.variance_pct
        if l.unit is not None:
            want[at(row, cols["Budget unit price"])] = l.budget_unit_price
            want[at(row, cols["Actual unit price"])] = "" if l.actual_unit_price is None else l.actual_unit_price
            want[at(row, cols["Volume effect"])] = l.volume_effect
            want[at(row, cols["Price effect"])] = l.price_effect
    assert not lines, f"variance lines missing from the sheet: {lines}"
    budget = sum((l.budget for l in x.variance), D(0))
    actual = sum((l.actual for l in x.variance), D(0))
    want |= {at(total, cols["Budget"]): budget, at(total, cols["Actual"]): actual,
             at(total, cols["Variance"]): actual - budget,
             at(total, cols["Variance %"]): (actual - budget) / budget}
    # month over month: the drivers as the explanation names them, in its order
    e = x.change
    dhead = row_of(g, "Driver", start=total)
    dcols = headings(g, dhead)
    dtotal = row_of(g, "Total", start=dhead)
    assert [g[(r, 1)] for r in range(dhead + 1, dtotal)] == [d.label for d in e.drivers]
    for row, d in zip(range(dhead + 1, dtotal), e.drivers):
        want[at(row, dcols["Change"])] = d.change
        want[at(row, dcols["Share of change"])] = ratio(d.change, e.change)
    want |= {at(dtotal, dcols["Previous month"]): e.previous_total,
             at(dtotal, dcols["This month"]): e.current_total,
             at(dtotal, dcols["Change"]): e.change,
             at(dtotal, dcols["Share of change"]): D(1),
             at(dtotal + 1, dcols["Change"]): e.change,
             at(dtotal + 1, dcols["Share of change"]): e.change_pct,
             at(dtotal + 2, dcols["Change"]): D(0),
             at(dtotal + 3, dcols["Change"]): OK}
    return want


def expected_journal(sheet: Sheet, entries) -> dict[str, object]:
    g = grid(sheet)
    head = row_of(g, "Key")
    cols = headings(g, head)
    by_id = {e.id: e for e in entries}
    total = row_of(g, "Total", column=2, start=head)
    want = {}
    for row in range(head + 1, total):
        e = by_id.pop(g[(row, 2)])
        want |= {at(row, cols["Debits"]): e.total, at(row, cols["Credits"]): e.total,
                 at(row, cols["Difference"]): D(0), at(row, cols["Balanced"]): OK}
    assert not by_id, f"entries missing from the Journal: {sorted(by_id)}"
    grand = sum((e.total for e in entries), D(0))
    want |= {at(total, cols["Debits"]): grand, at(total, cols["Credits"]): grand,
             at(total, cols["Difference"]): D(0), at(total + 1, cols["Balanced"]): OK}
    return want


# ---- recalculation --------------------------------------------------------------------------


def expected_signoff(sheet: Sheet) -> dict[str, object]:
    """Every check of the other sheets passes (they are checked above), so each task whose status is a
    formula over a check reads Done; nobody has reviewed yet, so the review and the sign-off are open."""
    g = grid(sheet)
    want = {}
    for (r, c), value in g.items():
        if c == 2 and isinstance(value, Formula):
            label = g.get((r, 1), "")
            want[at(r, c)] = ("Open" if label.startswith("Review") else
                              "Not yet" if label == "Close signed off" else "Done")
    assert "Not yet" in want.values() and "Done" in want.values()
    return want


def test_every_formula_equals_finops_xl(close, expected):
    """Summary, Allocation, Accruals, Prepaid (commitments, roll-forward, every schedule),
    Reconciliation, Variance and Journal, recalculated by LibreOffice: each formula cell equals what
    finops_xl gives for its labels, and every formula cell of the workbook is checked."""
    wb = close.values[0]
    schedules = expected.schedules
    prepaid, tolerance = expected_prepaid(close.spec.sheet("Prepaid"), schedules, expected.roll)
    want = {
        "Summary": expected_summary(close.spec.sheet("Summary"), expected),
        "Allocation": expected_allocation(close.spec.sheet("Allocation"), expected),
        "Accruals": expected_accruals(close.spec.sheet("Accruals"), expected),
        "Prepaid": prepaid,
        "Reconciliation": expected_reconciliation(close.spec.sheet("Reconciliation"), expected),
        "Variance": expected_variance(close.spec.sheet("Variance"), expected),
        "Journal": expected_journal(close.spec.sheet("Journal"), expected.entries),
        "Sign-off": expected_signoff(close.spec.sheet("Sign-off")),
    }
    checked = 0
    for sheet in close.spec.sheets:
        cells = want.get(sheet.name, {})
        assert set(cells) == formulas(sheet), (
            sheet.name, sorted(formulas(sheet) - set(cells))[:10], sorted(set(cells) - formulas(sheet))[:10])
        checked += assert_cells(wb[sheet.name], cells, tolerance)
    assert checked > 500


def test_the_tie_out_is_zero_and_shows_a_check_mark(close, expected):
    ws = close.values[0]["Summary"]
    g = grid(close.spec.sheet("Summary"))
    diff, tie = row_of(g, "Difference: invoice total"), row_of(g, "Tie-out")
    assert expected.recon.difference == 0 and abs(ws[f"B{diff}"].value) < 1e-6
    assert ws[f"B{tie}"].value == OK and close.spec.sheet("Summary").cell(f"B{tie}").value.text == \
        f'=IF(ABS(B{diff})<0.005,"{OK}","✗")'
    # a real close: something to accrue, items on both sides of the statement
    assert expected.accrual.total() > 1000 and expected.recon.by_category()["missing_data"] < 0
    assert any(s.commitment.start.replace(day=1) == FEB and s.commitment.upfront
               for s in expected.schedules.values())


def half_cent_ties(schedules) -> list[tuple[str, dt.date, Decimal, Decimal]]:
    """(commitment, month, finops_xl amount, half-up amount) of every month whose share is exactly
    half a cent (exact fractions; the last month takes the rest, so it has no share of its own)."""
    found = []
    for s in schedules:
        c = s.commitment
        for p in s.periods[:-1]:
            share = Fraction(int(c.upfront * 100)) * p.days / c.term_days
            if c.upfront and share.denominator == 2:
                half_up = (D(share.numerator) / D(share.denominator) / 100).quantize(D("0.01"), ROUND_HALF_UP)
                found.append((c.id, p.month, p.amortization, half_up))
    return found


def test_half_cent_ties_are_found_and_follow_half_even(close, expected):
    """Every month whose share is exactly half a cent — in the store's commitments and in the
    hand-picked ones — shows finops_xl's half-even amount after LibreOffice recalculated it, also
    where Excel's ROUND alone would round the other way; the Prepaid sheet explains the rule."""
    cases = ((close.spec, close.values[0], expected.schedules.values()),
             (close.tie_spec, close.values[1], [am.schedule(c) for c in TIES]))
    decisive = 0
    for spec, wb, schedules in cases:
        sheet = spec.sheet("Prepaid")
        for cid, month, amount, half_up in half_cent_ties(schedules):
            ref = amortization_ref(sheet, cid, month)
            assert abs(D(repr(wb["Prepaid"][ref].value)) - amount) < CENT, (cid, month)
            decisive += half_up != amount
        notes = " ".join(c.value for c in sheet.cells if isinstance(c.value, str) and c.row < 10)
        assert "half-even" in notes and "ROUND" in notes and "tie" in notes
    assert decisive >= 7  # months where plain ROUND would be a cent off

    # and the whole tie workbook's Prepaid sheet, formula by formula
    schedules = {c.id: am.schedule(c) for c in TIES}
    roll = {r.month: r for r in am.roll_forward(schedules.values(), TIES[0].start, FEB)}
    want, tolerance = expected_prepaid(close.tie_spec.sheet("Prepaid"), schedules, roll)
    assert set(want) == formulas(close.tie_spec.sheet("Prepaid"))
    assert_cells(close.values[1]["Prepaid"], want, tolerance)


def amortization_ref(sheet: Sheet, commitment_id: str, month: dt.date) -> str:
    """The Amortization cell of ``commitment_id``'s schedule in ``month``: row n of the schedule is
    n months after the start month given in the commitments block."""
    g = grid(sheet)
    chead = next(r for r, v in rows_labelled(g).items() if v == "#")
    start = next(g[(r, headings(g, chead)["Start"])] for r in range(chead + 1, chead + 1 + len(g))
                 if g.get((r, 2)) == commitment_id)
    top = next(r for r, v in rows_labelled(g).items()
               if isinstance(v, str) and v.startswith("Schedule ") and g.get((r, 2)) == commitment_id)
    n = (month.year - start.year) * 12 + month.month - start.month
    assert g[(top + 3 + n, 2)] == n
    return at(top + 3 + n, headings(g, top + 2)["Amortization"])


def test_true_up_block_once_the_month_is_final(close):
    t = close.trued.true_up
    sheet = close.final_spec.sheet("Accruals")
    g = grid(sheet)
    head = row_of(g, "Cost center", start=row_of(g, "True-up against"))
    cols = headings(g, head)
    total = row_of(g, "Total", start=head)
    want = {}
    for row in range(head + 1, total):
        line = next(l for l in t.lines if (l.cost_center, l.account) == (g[(row, 1)], g[(row, 2)]))
        want[at(row, cols["True-up"])] = line.true_up
        want[at(row, cols["Accuracy error"])] = "" if line.accuracy is None else line.accuracy
    want |= {at(total, cols["Accrued"]): t.total("accrued"), at(total, cols["Actual"]): t.total("actual"),
             at(total, cols["True-up"]): t.total("true_up"), at(total, cols["Accuracy error"]): t.accuracy()}
    assert_cells(close.values[2]["Accruals"], want)
    assert close.final_spec.sheet("Settings").cell("B9").value == "true-up"
    summary = close.values[2]["Summary"]
    assert [summary[c.ref].value for c in close.final_spec.sheet("Summary").cells
            if isinstance(c.value, Formula) and c.value.text.startswith("=IF(")] == [OK]
    checks = [c.ref for c in close.final_spec.sheet("Summary").cells
              if isinstance(c.value, Formula) and re.fullmatch(r"=[A-Za-z']+!\$?[A-Z]+\$?\d+", c.value.text)
              and c.column == 2 and summary[c.ref].value in (OK, "✗")]
    assert len(checks) >= 6 and all(summary[r].value == OK for r in checks)


# ---- layout ---------------------------------------------------------------------------------


def test_sheets_names_and_settings(close):
    spec = close.spec
    assert [s.name for s in spec.sheets] == ["Settings", "Summary", "Allocation", "Accruals", "Prepaid",
                                             "Reconciliation", "Variance", "Journal", "Sign-off", "Ledger map"]
    assert spec.active_sheet == "Summary"
    settings = spec.sheet("Settings")
    value = {n.name: settings.cell(n.ref).value for n in spec.names}
    assert value["StorePath"] == str(close.store) and value["CloseMonth"] == FEB
    assert value["Cutoff"] == dt.date.fromisoformat(CUT) and value["AccrualMethod"] == "trailing_7d"
    assert (value["Currency"], value["CurrencyDecimals"], value["MinorUnits"]) == ("USD", 2, 100)
    assert value["AmortizationMethod"] == "daily" and value["Runtime"] == "server"
    tables = {t.name for s in spec.sheets for t in s.tables}
    assert tables == {"AccrualLines", "ReconItems", "JournalLines"}


def test_only_excel_2010_functions_and_text_stays_text(close):
    for spec in (close.spec, close.tie_spec, close.final_spec):
        for sheet in spec.sheets:
            for cell in sheet.cells:
                if isinstance(cell.value, Formula):
                    used = set(re.findall(r"([A-Z][A-Z0-9.]*)\(", cell.value.text))
                    assert used <= EXCEL_2010, (sheet.name, cell.ref, cell.value.text)
    # billing text (owners, commitment ids, invoice ids, memos, SQL) is text after LibreOffice saved it
    wb = close.values[0]
    for name in ("Accruals", "Prepaid", "Reconciliation", "Journal", "Allocation"):
        for cell in close.spec.sheet(name).cells:
            if isinstance(cell.value, str):
                got = wb[name][cell.ref]
                assert (got.data_type, got.value) == ("s", cell.value), (name, cell.ref)


def test_nothing_to_accrue_says_so(close):
    """A month whose data is complete and invoiced accrues nothing, and the sheets say so."""
    with CostStore(close.store).reader() as con:
        assert accrue(con, JAN).total() == 0
    spec = build_close(gather_close(CostStore(close.store), JAN))
    summary = spec.sheet("Summary").cell("A3").value
    assert summary.startswith("Nothing to accrue: the January 2025 data is complete")
    assert any(isinstance(c.value, str) and c.value.startswith("Nothing to accrue")
               for c in spec.sheet("Accruals").cells)
    journal = [c.value for c in spec.sheet("Journal").cells if c.column == 4 and c.row < 20]
    assert "accrual" not in journal and "amortization" in journal


def test_bad_arguments_are_refused(close):
    with pytest.raises(ValueError, match="runtime"):
        build_close(close.data, runtime="excel")
    with pytest.raises(ValueError, match="daily"):
        gather_close(CostStore(close.store), FEB, amortization_method="monthly")
    with pytest.raises(ValueError, match="no JPY cost"):
        gather_close(CostStore(close.store), FEB, currency="JPY")


# ---- the command line -----------------------------------------------------------------------


def test_cli_close_writes_the_workbook(close, tmp_path, capsys):
    root = tmp_path / "store"
    shutil.copytree(close.store.parent, root)
    budget = tmp_path / "budget.csv"
    budget.write_text("owner,service_category,month,amount,quantity,unit\n"
                      "ml,Compute,2025-02,20000.00,1000,Hours\nweb,Storage,2025-02,500.00,,\n")
    out = tmp_path / "close-2025-02.xlsx"
    assert main(["close", "--store", str(root / "finops-store"), "--month", "2025-02", "--out", str(out),
                 "--budget", str(budget)]) == 0
    printed = capsys.readouterr().out
    assert "2025-02 is not final yet: accrual at cut-off 2025-02-25" in printed  # the text output stays
    assert re.search(r"entry ACCR-2025-02 2025-02-28 accrual: [\d,.]+ USD", printed)
    assert f"  workbook {out}" in printed
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "Summary" and wb.sheetnames[-1] == "Settings" and wb["Settings"]["B9"].value == "accrual"
    owners = {wb["Variance"].cell(r, 1).value for r in range(1, wb["Variance"].max_row + 1)}
    assert {"ml", "web"} <= owners


def test_cli_close_with_a_missing_budget_file_says_why(close, tmp_path, capsys):
    root = tmp_path / "store"
    shutil.copytree(close.store.parent, root)
    out = tmp_path / "x.xlsx"
    assert main(["close", "--store", str(root / "finops-store"), "--month", "2025-02", "--out", str(out),
                 "--budget", str(tmp_path / "missing.csv")]) == 1
    err = capsys.readouterr().err
    assert "the workbook was not written" in err and "no such file" in err and not out.exists()


def test_demo_writes_the_close_workbook(demo_run):
    out, printed = demo_run
    workbook = out / "close-2025-03.xlsx"
    assert workbook.is_file() and str(workbook) in printed
    assert "monthly close of 2025-03; its data is complete, so nothing is accrued" in printed
    wb = load_workbook(workbook)
    assert wb["Settings"]["B5"].value == dt.datetime(2025, 3, 1)
    assert wb["Summary"]["A3"].value.startswith("Nothing to accrue: the March 2025 data is complete")
    assert not (out / "finops.close").exists()  # the demo saves no accrual beside its store
