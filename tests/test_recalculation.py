"""Recalculation: the Cost overview, recalculated by LibreOffice headless, equals the store.

openpyxl writes formulas without results. LibreOffice opens each workbook, calculates every
formula and saves it; the values read back must equal, to the cent, the amounts the store gives
for the same month and dimension value through ``finops_xl``'s query API (``CostQueries.cost``),
computed here from the cell's labels, never read from the workbook's own numbers.

The formula-injection test loads billing data whose names read like formulas and numbers and
checks that, after LibreOffice has opened and saved the workbook, they are still the same
literal text and the only formulas are the template's own.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from finops_workbooks.model import Formula, ref
from finops_workbooks.overview import build_overview
from finops_workbooks.writer import write_xlsx
from openpyxl import load_workbook

from finops_xl.query.costs import queries_for
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from tests.conftest import read_csv_rows, write_csv_rows
from tests.libreoffice import convert

CENT = Decimal("0.005")
LAST = dt.date(2025, 4, 1)
HOSTILE = ('=HYPERLINK("http://evil","x")', "@SUM(1)", "+1", "-2+3", "=1+1", "-2")
#: Names that a text-matching SUMIFS would get wrong: a case twin of "Atlas Orion" (SUMIFS
#: ignores case) and wildcards.
TRICKY = ("atlas orion", "Orion*", "Zenith?", "~Nimbus")


def add_month(month: dt.date, n: int = 1) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def amount(queries, start: dt.date, end: dt.date, dimension: str, value: str) -> Decimal:
    """EffectiveCost of one dimension value; "(none)" (charges without a value, which cannot be
    a filter) from the store's pivot."""
    if value != "(none)":
        return queries.cost(start, end, {dimension: value})
    rows = dict(queries.cost_table(start, end, rows=dimension).rows)
    return rows.get("(none)") or Decimal(0)


def expected_overview(sheet, queries, by: str) -> dict[str, Decimal | str]:
    """The value each formula cell of an Overview sheet must show, keyed by reference.

    The cell's meaning comes from its labels (month in column A, breakdown value or provider in
    the header row); its value from ``queries.cost`` for that month (or the whole period) and
    value. "Other" is the month's total minus the named columns; the change column is
    this month's total over last month's, minus 1.
    """
    cells = {c.ref: c.value for c in sheet.cells}
    col_a = {c.row: c.value for c in sheet.cells if c.column == 1}
    headers = sorted(r for r, v in col_a.items() if v == "Month")
    expected: dict[str, Decimal | str] = {}
    for block, header in enumerate(headers):
        dimension = by if block == 0 else "provider"
        labels = {c.column: c.value for c in sheet.cells if c.row == header and c.column > 1}
        named = [v for v in labels.values() if v not in ("Other", "Total", "Change vs prior month",
                                                         "Total EffectiveCost", "Total BilledCost")]
        months = [(r, v) for r, v in sorted(col_a.items()) if r > header and isinstance(v, dt.date)]
        months = months[:next((i for i, (r, _) in enumerate(months) if r != months[0][0] + i), len(months))]
        periods = [(r, m, add_month(m)) for r, m in months]
        total_row = months[-1][0] + 1
        assert col_a[total_row] == "Total"
        periods.append((total_row, months[0][1], add_month(months[-1][1])))
        previous = None
        for row, start, end in periods:
            total = queries.cost(start, end)
            for column, label in labels.items():
                at = ref(row, column)
                if label in named:
                    expected[at] = amount(queries, start, end, dimension, label)
                elif label == "Other":
                    expected[at] = total - sum(amount(queries, start, end, dimension, v) for v in named)
                elif label in ("Total", "Total EffectiveCost"):
                    expected[at] = total
                elif label == "Total BilledCost":
                    expected[at] = queries.cost(start, end, metric="BilledCost")
                elif label == "Change vs prior month" and previous is not None and row != total_row:
                    expected[at] = "" if previous == 0 else total / previous - 1
            previous = total
        if block == 0:
            check = next(r for r, v in col_a.items() if isinstance(v, str) and v.startswith("Check"))
            total_column = next(c for c, v in labels.items() if v == "Total")
            expected[ref(check, total_column)] = Decimal(0)
    formulas = {at for at, v in cells.items() if isinstance(v, Formula)}
    assert set(expected) == formulas, (sorted(formulas - set(expected)), sorted(set(expected) - formulas))
    return expected


def assert_values(ws, expected: dict) -> int:
    """Compare recalculated values with the expected ones (money to the cent, changes to 1e-9);
    returns how many were compared."""
    wrong = []
    for at, want in expected.items():
        got = ws[at].value
        if isinstance(want, str):
            ok = got in ("", None)
        elif isinstance(got, (int, float)) and not isinstance(got, bool):
            tolerance = Decimal("1e-9") if ws[at].number_format.endswith("%") else CENT
            ok = abs(Decimal(repr(got)) - want) < tolerance
        else:
            ok = False
        if not ok:
            wrong.append((at, got, want))
    assert not wrong, f"{len(wrong)} of {len(expected)} formula cells differ: {wrong[:10]}"
    return len(expected)


# ---- the sample store -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("recalc")
    ingest(generate(SampleSpec(rows=20_000, months=4, seed=23), root / "exports"), root / "finops-store")
    queries = queries_for(root / "finops-store")
    specs = {
        by: build_overview(queries, store_path=str(root / "finops-store"), last_month=LAST,
                           months=4, by=by, top=top)
        for by, top in (("sub_account", 5), ("service_category", 20))
    }
    files = [write_xlsx(spec, root / "in" / f"overview-{by}.xlsx") for by, spec in specs.items()]
    out = convert(files, root / "out")
    return queries, specs, dict(zip(specs, out))


@pytest.mark.parametrize("by", ["sub_account", "service_category"])
def test_every_overview_formula_equals_the_store(sample, by):
    queries, specs, recalculated = sample
    expected = expected_overview(specs[by].sheet("Overview"), queries, by)
    ws = load_workbook(recalculated[by], data_only=True)["Overview"]
    compared = assert_values(ws, expected)
    assert compared >= 4 * 7 + 10  # the whole grid, its totals, the provider block


def test_recalculated_file_keeps_the_template_formulas(sample):
    _, specs, recalculated = sample
    wb = load_workbook(recalculated["sub_account"])
    for sheet in specs["sub_account"].sheets:
        ws = wb[sheet.name]
        formulas = {c.ref for c in sheet.cells if isinstance(c.value, Formula)}
        found = {c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"}
        assert found == formulas, sheet.name


# ---- formula injection ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, sample_csv):
    """A store of the FOCUS 1.0 sample whose names and tags carry hostile text, the overview by
    each of those dimensions, and the files LibreOffice recalculated."""
    root = tmp_path_factory.mktemp("injection")
    header, rows = read_csv_rows(sample_csv)
    name, service, tags = (header.index(c) for c in ("SubAccountName", "ServiceName", "Tags"))
    for i, text in enumerate(HOSTILE + TRICKY):
        for row in rows[i * 10:(i + 1) * 10]:
            row[name] = text
        for row in rows[300 + i * 10:300 + (i + 1) * 10]:
            row[service] = text
        for row in rows[600 + i * 10:600 + (i + 1) * 10]:
            row[tags] = json.dumps({"team": text})
    ingest([write_csv_rows(root / "hostile.csv", header, rows)], root / "finops-store")
    queries = queries_for(root / "finops-store")
    specs = {by: build_overview(queries, store_path=str(root / "finops-store"),
                                last_month=dt.date(2024, 9, 1), months=1, by=by, top=200)
             for by in ("sub_account_name", "service", "tag:team")}
    files = [write_xlsx(spec, root / "in" / f"{by.replace(':', '-')}.xlsx") for by, spec in specs.items()]
    return queries, specs, dict(zip(specs, convert(files, root / "out")))


@pytest.mark.parametrize("by", ["sub_account_name", "service", "tag:team"])
def test_hostile_text_stays_literal_text_after_recalculation(hostile, by):
    _, specs, recalculated = hostile
    spec = specs[by]
    values = load_workbook(recalculated[by], data_only=True)
    formulas = load_workbook(recalculated[by])
    data_values = {c.value for c in spec.sheet("Data").cells if c.column == 3}
    assert set(HOSTILE + TRICKY) <= data_values  # the store kept the texts; the Data table has them
    for sheet in spec.sheets:
        for cell in sheet.cells:
            got = values[sheet.name][cell.ref]
            if isinstance(cell.value, str):
                assert (got.data_type, got.value) == ("s", cell.value), (sheet.name, cell.ref)
        # no text became a formula: the only formulas are the template's
        template = {c.ref for c in sheet.cells if isinstance(c.value, Formula)}
        found = {c.coordinate for row in formulas[sheet.name].iter_rows() for c in row if c.data_type == "f"}
        assert found == template, sheet.name
    header = {c.value: c.column for c in spec.sheet("Overview").cells if c.row == 5}
    assert set(HOSTILE + TRICKY) <= set(header)


@pytest.mark.parametrize("by", ["sub_account_name", "service", "tag:team"])
def test_hostile_names_get_their_own_exact_totals(hostile, by):
    """SUMIFS over numeric keys: a formula-like, case-twin or wildcard name sums its own rows."""
    queries, specs, recalculated = hostile
    expected = expected_overview(specs[by].sheet("Overview"), queries, by)
    assert_values(load_workbook(recalculated[by], data_only=True)["Overview"], expected)
