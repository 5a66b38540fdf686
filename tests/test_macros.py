"""The workbook macros through xlwings' remote interpreter (the xlwings Server / Lite book model):
the workbook arrives as the JSON the add-in sends, and the macro's effect is the list of actions
xlwings sends back to Excel."""

from __future__ import annotations

import asyncio

import pytest
import xlwings as xw
import xlwings.server

import finops_udfs.macros as macros
from finops_xl.store.store import CostStore


def remote_book(settings: dict[str, object], status: bool = True) -> xw.Book:
    """A workbook with a Settings sheet whose rows are (name, value), each value cell named."""
    rows = [["Setting", "Value"]] + [[k, v] for k, v in settings.items()]
    names = [
        {"name": k, "sheet_index": 0, "address": f"B{i + 2}", "book_scope": True,
         "scope_sheet_name": None, "scope_sheet_index": None}
        for i, k in enumerate(settings)
    ]
    if status:
        rows.append(["Last refresh", ""])
        names.append({"name": "RefreshStatus", "sheet_index": 0, "address": f"B{len(rows)}",
                      "book_scope": True, "scope_sheet_name": None, "scope_sheet_index": None})
    return xw.Book(json={
        "client": "Office.js", "version": xw.__version__,
        "book": {"name": "overview.xlsx", "active_sheet_index": 0, "selection": "A1"},
        "names": names,
        "sheets": [{"name": "Settings", "values": rows, "pictures": [], "tables": [], "shapes": []}],
    })


def run_script(name: str, book: xw.Book):
    return asyncio.run(xlwings.server.custom_scripts_call(
        macros, name, typehint_to_value={xw.Book: book}))


def test_refresh_loads_the_exports_folder_and_recalculates(sample_csv, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "focus.csv").write_bytes(sample_csv.read_bytes())
    store = tmp_path / "finops-store"
    book = remote_book({"StorePath": str(store), "ExportsFolder": str(exports)})
    run_script("finops_refresh", book)
    with CostStore(store).reader() as con:
        assert con.execute("SELECT count(*) FROM charges").fetchall()[0][0] == 1000
    actions = book.json()["actions"]
    assert [a["func"] for a in actions] == ["setValues", "calculate"]
    assert "loaded 1,000 rows from 1 file(s); 4 new slice(s), 0 restated" in actions[0]["values"][0][0]

    again = remote_book({"StorePath": str(store), "ExportsFolder": str(exports)})
    run_script("finops_refresh", again)
    assert "no new exports" in again.json()["actions"][0]["values"][0][0]


@pytest.mark.parametrize("settings,fragment", [
    ({"StorePath": "x.duckdb"}, "no cell named ExportsFolder"),
    ({"StorePath": "x.duckdb", "ExportsFolder": ""}, "the cell named ExportsFolder is empty"),
    ({"StorePath": "x.duckdb", "ExportsFolder": "/no/such/folder"}, "no such file or folder"),
])
def test_refresh_errors_say_what_to_fix(settings, fragment, tmp_path):
    book = remote_book({k: (str(tmp_path / v) if k == "StorePath" else v) for k, v in settings.items()})
    with pytest.raises(xw.XlwingsError) as err:
        run_script("finops_refresh", book)
    assert str(err.value).startswith("Refresh: ") and fragment in str(err.value)
    assert book.json()["actions"] == []  # nothing was written to the workbook


def test_build_overview_writes_the_template_into_the_calling_workbook(tmp_path):
    from finops_xl.sample.generator import SampleSpec, generate
    from finops_xl.store.ingest import ingest

    generate(SampleSpec(rows=5_000, months=2, seed=5), tmp_path / "exports")
    store = tmp_path / "finops-store"
    ingest([tmp_path / "exports"], store)
    book = remote_book({"StorePath": str(store)}, status=False)
    run_script("finops_build_overview", book)
    actions = book.json()["actions"]
    funcs = {a["func"] for a in actions}
    assert {"addSheet", "setValues", "setFormula", "addTable", "addChart", "namesAdd"} <= funcs
    added = [a["args"][1] for a in actions if a["func"] == "addSheet"]
    assert added == ["Overview", "Data", "Live"]  # Settings exists already: cleared, rewritten
    formulas = [str(a["values"]) for a in actions if a["func"] == "setFormula"]
    assert any("=SUMIFS(" in f for f in formulas)
    assert any("=FINOPS.COST(" in f for f in formulas)
    months = [v for a in actions if a["func"] == "setValues" for row in a["values"] for v in row]
    assert "'" + str(store) in months  # the store, written as text (apostrophe: never a formula)


def test_build_overview_on_an_empty_store_says_to_refresh(tmp_path):
    from finops_xl.store.store import CostStore

    store = CostStore(tmp_path / "empty.duckdb")
    with store.writer():
        pass  # creates an empty store
    book = remote_book({"StorePath": str(store.path)}, status=False)
    with pytest.raises(xw.XlwingsError, match="holds no charges yet: run Refresh"):
        run_script("finops_build_overview", book)


def test_allocate_reads_the_rules_tables_of_the_calling_workbook(sample_csv, tmp_path):
    from finops_xl.store.ingest import ingest

    store = tmp_path / "finops-store"
    ingest([sample_csv], store)
    taxonomy = [["dimension", "keys", "values", "owner"], ["business_unit", "business_unit", None, "yes"]]
    pools = [["pool", "filter", "split"], ["rest", "owner =", "proportional"]]
    rows = [["Setting", "Value"], ["StorePath", str(store)], ["Last refresh", ""], [None, None]]
    rows += [r + [None] * (4 - len(r)) for r in taxonomy] + [[None] * 4] + [r + [None] for r in pools]
    table = lambda name, ref: {"name": name, "range_address": ref, "header_row_range_address": None,
                               "data_body_range_address": None, "total_row_range_address": None,
                               "show_headers": True, "show_totals": False, "table_style": None,
                               "show_autofilter": False}
    book = xw.Book(json={
        "client": "Office.js", "version": xw.__version__,
        "book": {"name": "rules.xlsx", "active_sheet_index": 0, "selection": "A1"},
        "names": [{"name": "StorePath", "sheet_index": 0, "address": "B2", "book_scope": True,
                   "scope_sheet_name": None, "scope_sheet_index": None},
                  {"name": "RefreshStatus", "sheet_index": 0, "address": "B3", "book_scope": True,
                   "scope_sheet_name": None, "scope_sheet_index": None}],
        "sheets": [{"name": "Settings", "values": rows, "pictures": [], "shapes": [],
                    "tables": [table("AllocationTaxonomy", "A5:D6"), table("AllocationPools", "A8:C9")]}],
    })
    run_script("finops_allocate", book)
    with CostStore(store).reader() as con:
        kinds = dict(con.execute("SELECT kind, count(*) FROM allocated_charges GROUP BY 1").fetchall())
    assert set(kinds) == {"direct", "shared"}
    status = book.json()["actions"][0]["values"][0][0]
    assert "allocated" in status and "coverage" in status


def test_build_close_writes_the_close_package_into_the_workbook(tmp_path):
    from finops_xl.allocation.engine import allocate
    from finops_xl.allocation.rules import load_rules
    from finops_xl.data import allocation_rules
    from finops_xl.sample.generator import SampleSpec, generate
    from finops_xl.store.ingest import ingest

    generate(SampleSpec(rows=6_000, months=2, seed=8), tmp_path / "exports")
    store = tmp_path / "finops-store"
    ingest([tmp_path / "exports"], store)
    allocate(store, load_rules(allocation_rules()))
    book = remote_book({"StorePath": str(store)}, status=False)
    run_script("finops_build_close", book)
    actions = book.json()["actions"]
    added = {a["args"][1] for a in actions if a["func"] == "addSheet"}
    assert {"Summary", "Accruals", "Prepaid", "Reconciliation", "Journal"} <= added
    formulas = [str(a["values"]) for a in actions if a["func"] == "setFormula"]
    assert any("EOMONTH(" in f for f in formulas) and any("SUMIFS(" in f for f in formulas)
