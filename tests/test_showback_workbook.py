"""The Showback template: layout, the Data table's tie-out, recalculation in LibreOffice, CLI.

The store is generated data allocated by the demo rules. Expected values come from
``finops_xl.allocation.showback`` (``statements()``, ``coverage()``) and from SQL over
``allocated_charges``, addressed by each formula cell's labels (owner, month, column heading);
they are never read from the workbook's own numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

import pytest
from finops_workbooks import formats
from finops_workbooks.live import write_live
from finops_workbooks.model import Formula, Sheet
from finops_workbooks.showback import build_showback, statement_sheet_name
from finops_workbooks.showback_data import describe_run, read_allocation
from finops_workbooks.writer import write_xlsx
from openpyxl import load_workbook

from finops_xl.allocation.engine import allocate
from finops_xl.allocation.rules import ROUNDING, load_rules, rules_from_dict
from finops_xl.allocation.showback import Coverage, StatementLine, coverage, statements
from finops_xl.cli import main
from finops_xl.data import allocation_rules
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.fake_xlwings import FakeBook
from tests.libreoffice import convert
from tests.test_recalculation import assert_values
from tests.conftest import copy_store

MONTHS = (dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1))
LAST = MONTHS[-1]
FIXED_SHEETS = ("Settings", "Summary", "Coverage", "Data", "Rules", "Live")
#: The functions a template may use: Excel 2010 level, all in LibreOffice 7.4.
EXCEL_2010 = {"SUMIFS", "SUM", "IF"}
PARTS = {"Direct usage": "direct", "Commitment amortization": "commitment", "Credits": "credits"}


@pytest.fixture(scope="module")
def alloc(tmp_path_factory):
    root = tmp_path_factory.mktemp("showback")
    store = root / "finops-store"
    ingest(generate(SampleSpec(rows=20_000, months=3, seed=31), root / "exports"), store)
    rules = load_rules(allocation_rules())
    allocate(store, rules)
    with CostStore(store).reader() as con:
        lines, cov = statements(con), coverage(con)
        sql = {(m, o): Decimal(v) for m, o, v in con.execute(
            "SELECT month, owner, sum(EffectiveCost) FROM allocated_charges "
            "WHERE currency = 'USD' GROUP BY ALL").fetchall()}
    return SimpleNamespace(root=root, store=store, rules=rules, lines=lines, coverage=cov, sql=sql)


@pytest.fixture(scope="module")
def spec(alloc):
    run = read_allocation(CostStore(alloc.store)).run
    return build_showback(alloc.lines, alloc.coverage, alloc.rules, store_path=str(alloc.store),
                          rules_source=str(allocation_rules()), last_month=LAST, months=3,
                          rules_note=describe_run(run, alloc.rules))


@pytest.fixture(scope="module")
def recalculated(alloc, spec):
    path = write_xlsx(spec, alloc.root / "in" / "showback.xlsx")
    return load_workbook(convert([path], alloc.root / "out")[0], data_only=True)


def statement_sheets(spec) -> list[Sheet]:
    return [s for s in spec.sheets if s.name not in FIXED_SHEETS]


def cells(sheet: Sheet) -> dict[tuple[int, int], object]:
    return {(c.row, c.column): c.value for c in sheet.cells}


# ---- expected values, from statements() and coverage() --------------------------------------


def month_totals(lines) -> dict[tuple[str, dt.date], Decimal]:
    """(owner, month) → the statement line's total (USD), ROUNDING included."""
    return {(s.owner, s.month): s.total for s in lines if s.currency == "USD"}


def change(cur: Decimal, prev: Decimal | None) -> Decimal | str:
    return "" if not prev else cur / prev - 1


def expected_summary(sheet: Sheet, lines) -> dict[str, object]:
    """Each formula cell of the Summary, from the labels around it: the owner in column A, the
    month (a date) or Total / Change in the heading row; the chart block below, turned."""
    at = cells(sheet)
    tot = month_totals(lines)
    head = next(r for (r, c), v in at.items() if c == 2 and v == "key")
    columns = {c: v for (r, c), v in at.items() if r == head and c > 2}
    months = {c: v for c, v in columns.items() if isinstance(v, dt.date)}
    total_col = next(c for c, v in columns.items() if v == "Total")
    change_col = next(c for c, v in columns.items() if isinstance(v, str) and v.startswith("Change"))
    rows = {r: v for (r, c), v in at.items() if c == 1 and r > head}
    total_row = next(r for r, v in rows.items() if v == "Total")
    owners = {r: v for r, v in rows.items() if r < total_row}
    assert list(owners.values())[-1] == ROUNDING
    ordered = sorted(months.values())
    expected: dict[tuple[int, int], object] = {}

    def month_sum(month, who=None):
        return sum((v for (o, m), v in tot.items() if m == month and who in (None, o)), Decimal(0))

    for r, owner in owners.items():
        for c, month in months.items():
            expected[(r, c)] = tot.get((owner, month), Decimal(0))
        expected[(r, total_col)] = sum((tot.get((owner, m), Decimal(0)) for m in ordered), Decimal(0))
        if owner != ROUNDING:
            expected[(r, change_col)] = change(tot.get((owner, ordered[-1]), Decimal(0)),
                                               tot.get((owner, ordered[-2])))
    for c, month in months.items():
        expected[(total_row, c)] = month_sum(month)
    expected[(total_row, total_col)] = sum((month_sum(m) for m in ordered), Decimal(0))
    expected[(total_row, change_col)] = change(month_sum(ordered[-1]), month_sum(ordered[-2]))
    change_row = next(r for r, v in rows.items() if v == "Change vs prior month")
    for c, month in months.items():
        if month != ordered[0]:
            expected[(change_row, c)] = change(month_sum(month), month_sum(ordered[ordered.index(month) - 1]))
    check_row = next(r for r, v in rows.items() if isinstance(v, str) and v.startswith("Check"))
    expected[(check_row, total_col)] = Decimal(0)
    # the chart's data block: months down, owners across
    block = next(r for r, v in rows.items() if v == "Month")
    chart_owners = {c: v for (r, c), v in at.items() if r == block and c > 1 and v is not None}
    assert set(chart_owners.values()) == set(owners.values()) - {ROUNDING}
    for r, month in rows.items():
        if r > block and isinstance(month, dt.date):
            for c, owner in chart_owners.items():
                expected[(r, c)] = tot.get((owner, month), Decimal(0))
    return {f"{_letter(c)}{r}": v for (r, c), v in expected.items()}


def expected_statement(sheet: Sheet, lines) -> dict[str, object]:
    """Each formula cell of one owner's statement: the owner from B5, the part from the heading,
    the month from column A."""
    at = cells(sheet)
    owner = at[(5, 2)]
    by_month = {s.month: s for s in lines if s.owner == owner and s.currency == "USD"}
    head = next(r for (r, c), v in at.items() if c == 1 and v == "Month")
    headings = {c: v for (r, c), v in at.items() if r == head and c > 1}
    rows = {r: v for (r, c), v in at.items() if c == 1 and r > head}
    months = {r: m for r, m in rows.items() if isinstance(m, dt.date)}

    def part(line: StatementLine | None, heading: str) -> Decimal:
        if line is None:
            return Decimal(0)
        if heading in PARTS:
            return getattr(line, PARTS[heading])
        if heading == "Total":
            return line.total
        return dict(line.shared).get(heading.removeprefix("Shared: "), Decimal(0))

    expected: dict[tuple[int, int], object] = {}
    previous = None
    for r, month in sorted(months.items()):
        for c, heading in headings.items():
            if heading == "Change vs prior month":
                if previous is not None:
                    expected[(r, c)] = change(part(by_month.get(month), "Total"),
                                              part(by_month.get(previous), "Total"))
            else:
                expected[(r, c)] = part(by_month.get(month), heading)
        previous = month
    total_row = next(r for r, v in rows.items() if v == "Total")
    for c, heading in headings.items():
        if heading != "Change vs prior month":
            expected[(total_row, c)] = sum((part(by_month.get(m), heading) for m in months.values()),
                                           Decimal(0))
    check_row = next(r for r, v in rows.items() if isinstance(v, str) and v.startswith("Check"))
    total_col = next(c for c, v in headings.items() if v == "Total")
    expected[(check_row, total_col)] = Decimal(0)
    return {f"{_letter(c)}{r}": v for (r, c), v in expected.items()}


def expected_coverage(sheet: Sheet, lines, coverage_rows) -> dict[str, object]:
    at = cells(sheet)
    by_month = {c.month: c for c in coverage_rows}
    tot = month_totals(lines)
    head = next(r for (r, c), v in at.items() if c == 1 and v == "Month")
    headings = {c: v for (r, c), v in at.items() if r == head}
    expected = {}
    for (r, c), month in at.items():
        if c == 1 and r > head and isinstance(month, dt.date):
            for col, heading in headings.items():
                if heading.startswith("Allocated"):
                    expected[(r, col)] = by_month[month].allocated
                elif heading.startswith("Month total"):
                    expected[(r, col)] = sum((v for (o, m), v in tot.items() if m == month), Decimal(0))
    return {f"{_letter(c)}{r}": v for (r, c), v in expected.items()}


def _letter(column: int) -> str:
    from openpyxl.utils.cell import get_column_letter

    return get_column_letter(column)


def formula_refs(sheet: Sheet) -> set[str]:
    return {c.ref for c in sheet.cells if isinstance(c.value, Formula)}


# ---- recalculation --------------------------------------------------------------------------


def test_every_formula_equals_the_statements(alloc, spec, recalculated):
    """Summary, every statement sheet and Coverage, recalculated by LibreOffice: each formula's
    value equals what statements()/coverage() give for its labels (cents; ratios to 1e-9)."""
    checked = 0
    for sheet in spec.sheets:
        if sheet.name in ("Settings", "Data", "Rules"):
            assert not formula_refs(sheet), sheet.name
            continue
        if sheet.name == "Live":  # FINOPS.COST needs the add-in; LibreOffice cannot run it
            continue
        if sheet.name == "Summary":
            expected = expected_summary(sheet, alloc.lines)
        elif sheet.name == "Coverage":
            expected = expected_coverage(sheet, alloc.lines, alloc.coverage)
        else:
            expected = expected_statement(sheet, alloc.lines)
        assert set(expected) == formula_refs(sheet), (
            sheet.name, sorted(formula_refs(sheet) - set(expected)), sorted(set(expected) - formula_refs(sheet)))
        checked += assert_values(recalculated[sheet.name], expected)
    owners = len(statement_sheets(spec))
    assert owners >= 7 and checked > owners * 20


def test_ratios_are_checked_as_ratios(recalculated):
    ws = recalculated["Coverage"]
    assert ws["E7"].number_format.endswith("%") and abs(ws["E7"].value - 1) < 1e-9


# ---- the numbers tie out --------------------------------------------------------------------


def test_statement_totals_and_rounding_equal_the_allocation_exactly(alloc):
    """Per month: Σ owner totals (cents) + ROUNDING = Σ allocated_charges.EffectiveCost, exactly."""
    sql_month: dict = defaultdict(Decimal)
    for (month, _), v in alloc.sql.items():
        sql_month[month] += v
    lines_month: dict = defaultdict(Decimal)
    for s in alloc.lines:
        lines_month[s.month] += s.total
        if s.owner != ROUNDING:
            assert s.total == s.total.quantize(Decimal("0.01")), s  # owners in cents
    assert set(lines_month) == set(MONTHS) and lines_month == sql_month


def test_data_table_holds_the_statements_and_ties_to_the_allocation(alloc, spec):
    sheet = spec.sheet("Data")
    table = sheet.tables[0]
    assert table.name == "ShowbackData"
    assert table.header == ("Month", "Owner", "Component", "EffectiveCost", "Owner key", "Component key")
    rows = defaultdict(dict)
    for c in sheet.cells:
        rows[c.row][table.header[c.column - 1]] = c.value
    month_sum: dict = defaultdict(Decimal)
    owner_sum: dict = defaultdict(Decimal)
    for r in rows.values():
        assert isinstance(r["EffectiveCost"], Decimal) and isinstance(r["Owner"], str)
        assert isinstance(r["Owner key"], int) and isinstance(r["Component key"], int)
        month_sum[r["Month"]] += r["EffectiveCost"]
        owner_sum[(r["Month"], r["Owner"])] += r["EffectiveCost"]
    sql_month: dict = defaultdict(Decimal)
    for (month, _), v in alloc.sql.items():
        sql_month[month] += v
    assert month_sum == sql_month  # exact: Decimal
    assert owner_sum == {(s.month, s.owner): s.total for s in alloc.lines}
    keys = [(r["Month"], r["Owner"], r["Component"]) for r in rows.values()]
    assert len(keys) == len(set(keys))
    # one key per owner and per component, the same on every row
    assert len({(r["Owner"], r["Owner key"]) for r in rows.values()}) == len({r["Owner"] for r in rows.values()})
    assert len({(r["Component"], r["Component key"]) for r in rows.values()}) == \
        len({r["Component"] for r in rows.values()})


# ---- layout ---------------------------------------------------------------------------------


def test_sheets_names_and_settings(alloc, spec):
    owners = [s.owner for s in alloc.lines if s.month == LAST and s.owner != ROUNDING]
    names = [s.name for s in spec.sheets]
    assert names[:3] == ["Settings", "Summary", "Coverage"] and names[-3:] == ["Data", "Rules", "Live"]
    assert sorted(names[3:-3]) == sorted(owners)  # plain names make plain sheet names
    assert spec.active_sheet == "Summary"
    settings = spec.sheet("Settings")
    value = {n.name: settings.cell(n.ref).value for n in spec.names}
    assert value["StorePath"] == str(alloc.store)
    assert value["RulesFile"] == str(allocation_rules())
    assert (value["PeriodStart"], value["PeriodEnd"]) == (MONTHS[0], LAST)
    assert value["Currency"] == "USD" and value["Runtime"] == "server"
    assert settings.cell(next(n.ref for n in spec.names if n.name == "PeriodEnd")).style.number_format \
        == formats.MONTH
    texts = [c.value for c in settings.cells if isinstance(c.value, str)]
    assert any("used exactly these rules" in t for t in texts)


def test_summary_layout(alloc, spec):
    sheet = spec.sheet("Summary")
    at = cells(sheet)
    last_totals = {s.owner: s.total for s in alloc.lines if s.month == LAST and s.owner != ROUNDING}
    owners = [v for (r, c), v in sorted(at.items()) if c == 1 and 7 <= r and v not in (None,)]
    owners = owners[:owners.index("Total")]
    assert owners[-1] == ROUNDING
    assert owners[:-1] == sorted(last_totals, key=lambda o: (-last_totals[o], o))  # largest first
    assert sheet.cell("C7").value == Formula("=SUMIFS(ShowbackData[EffectiveCost],"
                                             "ShowbackData[Month],C$6,ShowbackData[Owner key],$B7)")
    assert [c.value for c in sheet.cells if c.row == 6 and c.column in (3, 4, 5)] == list(MONTHS)
    chart = sheet.charts[0]
    assert chart.kind == "bar" and chart.stacked
    money = [c for c in sheet.cells if isinstance(c.value, Formula) and not c.style.number_format.endswith("%")]
    assert all(c.style.number_format.startswith("_(*") for c in money)  # accounting formats


def test_formulas_use_excel_2010_functions_and_keys_never_names(spec):
    names = {c.value for c in spec.sheet("Data").cells if c.column in (2, 3)}
    for sheet in spec.sheets:
        if sheet.name == "Live":
            continue
        texts = [c.value.text for c in sheet.cells if isinstance(c.value, Formula)]
        used = {name for text in texts for name in re.findall(r"([A-Z][A-Z0-9.]*)\(", text)}
        assert used <= EXCEL_2010, (sheet.name, used - EXCEL_2010)
        assert not any(f'"{n}"' in text or f",{n}," in text for text in texts for n in names)


def test_statement_layout(alloc, spec):
    sheet = spec.sheet("payments")
    at = cells(sheet)
    assert at[(5, 2)] == "payments" and at[(1, 1)] == "Showback statement: payments"
    headings = [c.value for c in sheet.cells if c.row == 7]
    pools = [p.id for p in alloc.rules.pools]
    assert headings == ["Month", "Direct usage", "Commitment amortization", "Credits",
                        *(f"Shared: {p}" for p in pools), "Total", "Change vs prior month"]
    assert sheet.cell("B8").value == Formula(
        "=SUMIFS(ShowbackData[EffectiveCost],ShowbackData[Month],$A8,ShowbackData[Owner key],$D$5,"
        "ShowbackData[Component key],B$6)")
    assert [c.kind for c in sheet.charts] == ["bar"] and sheet.charts[0].stacked


def test_coverage_sheet_shows_the_kpi(alloc, spec):
    sheet = spec.sheet("Coverage")
    at = cells(sheet)
    for i, cov in enumerate(alloc.coverage):
        r = 7 + i
        assert at[(r, 1)] == cov.month
        assert (at[(r, 2)], at[(r, 3)], at[(r, 4)]) == (cov.direct, cov.shared, cov.unallocated)
        assert at[(r, 5)] == Formula(f"=B{r}+C{r}") and at[(r, 6)] == cov.maturity
        assert sheet.cell(f"B{r}").style.number_format == formats.PERCENT
    texts = " ".join(v for v in at.values() if isinstance(v, str))
    assert "walk" in texts and "run" in texts and "80%" in texts and "90%" in texts


def test_rules_sheet_is_readable_text(alloc, spec):
    sheet = spec.sheet("Rules")
    assert not formula_refs(sheet)
    texts = [c.value for c in sheet.cells if isinstance(c.value, str)]
    for pool in alloc.rules.pools:
        assert pool.id in texts
    assert "service_category = Networking" in texts
    assert "payments 25%, search 15%, data-platform 15%, ml 15%, web 10%, mobile 10%, platform 10%" in texts
    assert "team, owner-team, owner_team" in texts and "owner = (none)" in texts
    assert "210987654311" in texts and "direct_and_shared" in texts  # account ids stay text
    assert all(isinstance(c.value, str) or c.value is None for c in sheet.cells)


def test_live_sheet_and_live_writer(alloc, spec):
    live = [c.value.text for c in spec.sheet("Live").cells if isinstance(c.value, Formula)]
    assert '=FINOPS.COST(A5,EDATE(A5,1),"currency",Currency)' in live
    assert sum(t.startswith("=Summary!") for t in live) == len(MONTHS)
    book = FakeBook(("Sheet1",), engine="remote")
    report = write_live(book, spec)
    assert [s.name for s in book.sheets][1:] == [s.name for s in spec.sheets]
    assert report.chart_notes == ()
    for sheet_spec in spec.sheets:
        for cell in sheet_spec.cells:
            got = book.sheets[sheet_spec.name].cell(cell.ref)
            if isinstance(cell.value, str):
                assert (got.kind, got.value) == ("text", cell.value), (sheet_spec.name, cell)


# ---- owner names from billing data ----------------------------------------------------------

HOSTILE = ('=HYPERLINK("http://evil","x")', "Summary", "summary", "a/b:c*?[x]\\y", "History",
           "'quoted'", "x" * 40, "x" * 31 + "y" * 9, "+1", "@SUM(1)")


def synthetic(owners, currencies=("USD",)) -> tuple[list[StatementLine], list[Coverage]]:
    lines = []
    for month in MONTHS:
        for currency in currencies:
            for i, owner in enumerate(owners):
                amount = Decimal(10 * (i + 1))
                lines.append(StatementLine(owner, month, currency, amount, Decimal(1), Decimal(-1),
                                           (("net", Decimal(2)),), amount + 2, None))
            lines.append(StatementLine(ROUNDING, month, currency, Decimal(0), Decimal(0), Decimal(0),
                                       (), Decimal("0.001"), None))
    cov = [Coverage(m, Decimal("0.7"), Decimal("0.2"), Decimal("0.1")) for m in MONTHS]
    return lines, cov


RULES = rules_from_dict({"owner": "team", "taxonomy": {"team": {"keys": ["team"]}},
                         "pools": [{"id": "net", "filter": {"service_category": "Networking"},
                                    "split": "even"}]})


def build(lines, cov, **kwargs):
    args = {"store_path": "s.duckdb", "rules_source": "r.yaml", "last_month": LAST, "months": 3} | kwargs
    return build_showback(lines, cov, RULES, **args)


def test_owner_names_make_safe_unique_sheet_names_and_stay_text():
    spec = build(*synthetic(HOSTILE))
    names = [s.name for s in spec.sheets]
    assert len({n.casefold() for n in names}) == len(names)
    statement = statement_sheets(spec)
    assert len(statement) == len(HOSTILE)
    for sheet in statement:
        assert len(sheet.name) <= 31 and not re.search(r"[\[\]:*?/\\]", sheet.name)
        assert sheet.name.casefold() not in ("history", "summary")
    assert {s.cell("B5").value for s in statement} == set(HOSTILE)  # the owner, verbatim, as text
    summary_owners = {c.value for c in spec.sheet("Summary").cells if c.column == 1}
    assert set(HOSTILE) <= summary_owners
    assert statement_sheet_name("a/b:c*?[x]\\y") == "a_b_c___x__y"
    assert statement_sheet_name("'quoted'") == "quoted"
    for sheet in spec.sheets:  # no owner name inside a formula
        for cell in sheet.cells:
            if isinstance(cell.value, Formula) and sheet.name != "Live":
                assert not any(o in cell.value.text for o in HOSTILE if len(o) > 3), cell


def test_hostile_owner_names_survive_the_file_writer(tmp_path):
    spec = build(*synthetic(HOSTILE[:4]))
    wb = load_workbook(write_xlsx(spec, tmp_path / "sb.xlsx"))
    for sheet in statement_sheets(spec):
        got = wb[sheet.name]["B5"]
        assert (got.data_type, got.value) == ("s", sheet.cell("B5").value)


def test_bad_arguments_are_refused():
    lines, cov = synthetic(("a", "b"), currencies=("USD", "EUR"))
    with pytest.raises(ValueError, match="several billing currencies"):
        build(lines, cov)
    spec = build(lines, cov, currency="EUR")
    assert spec.sheet("Settings").cell("B10").value == "EUR"
    with pytest.raises(ValueError, match="no allocated cost in JPY"):
        build(lines, cov, currency="JPY")
    with pytest.raises(ValueError, match="runtime"):
        build(lines, cov, currency="EUR", runtime="excel")
    with pytest.raises(ValueError, match="first day"):
        build(lines, cov, currency="EUR", last_month=dt.date(2025, 3, 15))
    with pytest.raises(ValueError, match="no cost from 2019-10 to 2020-03"):
        build(lines, cov, last_month=dt.date(2020, 3, 1), months=6)


def test_months_without_coverage_say_so():
    lines, cov = synthetic(("a",))
    spec = build(lines, cov[1:])
    texts = [c.value for c in spec.sheet("Coverage").cells if c.row == 7]
    assert texts == [MONTHS[0], "no allocated cost this month"]


def test_changed_rules_are_flagged(alloc):
    run = read_allocation(CostStore(alloc.store)).run
    assert describe_run(run, alloc.rules).endswith("used exactly these rules")
    assert describe_run(run, RULES).startswith("WARNING: these rules differ")


# ---- the command line -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory):
    """A small store, ingested and not yet allocated."""
    root = tmp_path_factory.mktemp("showback-cli")
    ingest(generate(SampleSpec(rows=5_000, months=2, seed=8), root / "exports"), root / "finops-store")
    return root / "finops-store"


def test_cli_without_allocation_says_to_allocate_first(cli_store, tmp_path, capsys):
    fresh = tmp_path / "fresh.duckdb"
    copy_store(cli_store, fresh)
    out = tmp_path / "sb.xlsx"
    assert main(["workbook", "showback", "--store", str(fresh), "--month", "2025-02",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "holds no allocation" in err and "finops-xl allocate --rules FILE" in err
    assert "Traceback" not in err and not out.exists()


def test_cli_allocate_then_showback(cli_store, tmp_path, capsys):
    store = tmp_path / "finops-store"
    copy_store(cli_store, store)
    assert main(["allocate", "--rules", str(allocation_rules()), "--store", str(store)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"allocated [\d,]+ charge groups into [\d,]+ lines in \d+\.\d s \(run 1\)", printed)
    assert "owner: team; pools: shared-network, security-tooling, support, untagged" in printed
    with CostStore(store).reader() as con:
        cov, lines = coverage(con), statements(con)
    for c in cov:
        assert re.search(rf"{c.month:%Y-%m} +{c.direct:.1%} +{c.shared:.1%} +{c.unallocated:.1%} "
                         rf"+{c.allocated:.1%} +{c.maturity}", printed), printed
    assert "2025-02 by team (EffectiveCost, USD)" in printed
    for s in lines:
        if s.month == dt.date(2025, 2, 1) and s.owner != ROUNDING:
            assert re.search(rf"\n  {re.escape(s.owner)} +{s.total:,.2f}\n", printed)
    assert re.search(r"\n  ROUNDING +-?0\.\d{6}\n", printed)

    out = tmp_path / "sb.xlsx"
    assert main(["workbook", "showback", "--store", str(store), "--month", "2025-02", "--months", "2",
                 "--runtime", "classic", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    wb = load_workbook(out)
    assert wb.sheetnames[:2] == ["Summary", "Coverage"] and wb.sheetnames[-1] == "Settings"
    assert wb["Settings"]["B5"].value == str(allocation_rules())
    assert any(str(c.value).startswith("=FINOPS_COST(") for row in wb["Live"].iter_rows() for c in row)

    # rules that differ from the allocation's are shown with a warning
    changed = tmp_path / "rules.yaml"
    changed.write_text(allocation_rules().read_text().replace("percentages: {payments: 25, search: 15",
                                                              "percentages: {payments: 30, search: 10"))
    (tmp_path / "demo-accounts.csv").write_bytes((allocation_rules().parent / "demo-accounts.csv").read_bytes())
    assert main(["workbook", "showback", "--store", str(store), "--month", "2025-02",
                 "--rules", str(changed), "--out", str(out)]) == 0
    assert load_workbook(out)["Settings"]["C5"].value.startswith("WARNING")


def test_demo_writes_the_showback_workbook(demo_run):
    out, printed = demo_run
    workbook = out / "showback.xlsx"
    assert workbook.is_file() and str(workbook) in printed and (out / "cost-overview.xlsx").is_file()
    assert "allocation by the demo rules" in printed and re.search(r"2025-03 .* run\n", printed)
    wb = load_workbook(workbook)
    assert wb.sheetnames[:2] == ["Summary", "Coverage"] and wb.sheetnames[-1] == "Settings" and "payments" in wb.sheetnames
    assert (wb["Settings"]["B6"].value, wb["Settings"]["B7"].value) == (dt.datetime(2025, 1, 1),
                                                                        dt.datetime(2025, 3, 1))


def test_cli_showback_names_the_store_commit(cli_store, tmp_path, capsys):
    """Settings state the store commit the allocation was read at (the store's own head)."""
    store = tmp_path / "finops-store"
    copy_store(cli_store, store)
    assert main(["allocate", "--rules", str(allocation_rules()), "--store", str(store)]) == 0
    head = CostStore(store).head()
    assert head is not None
    out = tmp_path / "sb.xlsx"
    assert main(["workbook", "showback", "--store", str(store), "--month", "2025-02", "--out", str(out)]) == 0
    ws = load_workbook(out)["Settings"]
    values = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row and row[0]}
    assert f"store commit {head.commit}" in values["Store version"]
