"""The workbook macros (``@xw.script``): Refresh and Build overview (the store is imported when a
macro runs, not when the module loads).

Both read their settings from named cells on the workbook's Settings sheet, which the template
workbooks create: ``StorePath`` (the cost store file) and ``ExportsFolder`` (where new billing
exports arrive). Under xlwings Server and Lite the runtime passes the workbook in; under the classic
add-in they act on the workbook that called them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlwings as xw

from finops_udfs.convert import ArgumentError, is_empty, to_date
from finops_udfs.errors import excel_errors

#: Named cells the macros read and write.
STORE_PATH, EXPORTS_FOLDER, REFRESH_STATUS = "StorePath", "ExportsFolder", "RefreshStatus"
PERIOD_END, ROWS_BY = "PeriodEnd", "RowsBy"


def _named_value(book, name: str, what: str) -> str:
    try:
        value = book.names[name].refers_to_range.value
    except Exception:  # noqa: BLE001 - a missing name, in whichever way the runtime reports it
        raise ArgumentError(f"the workbook has no cell named {name} ({what}): build it from a "
                            "finops-xl template, or define the name on the Settings sheet") from None
    if is_empty(value):
        raise ArgumentError(f"the cell named {name} is empty: enter {what}")
    return str(value).strip()


def _optional_named_value(book, name: str):
    try:
        value = book.names[name].refers_to_range.value
    except Exception:  # noqa: BLE001 - the name is optional
        return None
    return None if is_empty(value) else value


def _status(book, text: str) -> None:
    try:
        book.names[REFRESH_STATUS].refers_to_range.value = text
    except Exception:  # noqa: BLE001 - a workbook without a status cell just gets no status
        pass


def _recalculate(book) -> None:
    """Recalculate the workbook; Google Sheets recalculates by itself, and xlwings' Apps Script
    client has no recalculate action (it fails on one it does not know)."""
    try:
        client = book.api.get("client") if isinstance(book.api, dict) else None
    except Exception:  # noqa: BLE001 - the classic add-in's book.api is a COM object
        client = None
    if client != "Google Apps Script":
        book.app.calculate()


def refresh_summary(report, when: dt.datetime) -> str:
    """One line for the workbook's status cell."""
    stamp = when.strftime("%Y-%m-%d %H:%M UTC")
    if report.unchanged:
        return f"{stamp}: no new exports (the store already holds these files)"
    return (f"{stamp}: loaded {report.rows:,} rows from {len(report.files)} file(s); "
            f"{len(report.added)} new slice(s), {len(report.replaced)} restated")


@xw.script
@excel_errors("Refresh")
def finops_refresh(book: xw.Book = None):
    """Load new exports from the folder named on the Settings sheet into the store, then
    recalculate the workbook."""
    from finops_xl.store.ingest import ingest
    from finops_xl.store.store import CostStore

    book = book or xw.Book.caller()
    store = CostStore(_named_value(book, STORE_PATH, "the cost store file"))
    folder = Path(_named_value(book, EXPORTS_FOLDER, "the folder of billing exports"))
    report = ingest([folder], store)
    _status(book, refresh_summary(report, dt.datetime.now(dt.UTC)))
    _recalculate(book)
    return report


@xw.script
@excel_errors("Build overview")
def finops_build_overview(book: xw.Book = None):
    """Write the Cost overview (Settings, Overview, Data, Live sheets) into this workbook, from the
    store named in the StorePath cell (else the default store), for the 6 months up to the
    PeriodEnd cell's month (else the store's latest month)."""
    from finops_workbooks.live import engine_type, write_live
    from finops_workbooks.overview import build_overview

    from finops_xl.query.costs import queries_for

    book = book or xw.Book.caller()
    path = _optional_named_value(book, STORE_PATH)
    queries = queries_for(str(path) if path else None)
    end = _optional_named_value(book, PERIOD_END)
    if end is not None:
        last = to_date(end, PERIOD_END)
    else:
        months = queries.values("month")
        if not months:
            raise ArgumentError(f"the store {queries.store.path} holds no charges yet: run Refresh")
        last = dt.date.fromisoformat(months[-1] + "-01")
    by = _optional_named_value(book, ROWS_BY) or "sub_account"
    runtime = "classic" if engine_type(book) == "desktop" else "server"
    spec = build_overview(queries, store_path=str(queries.store.path),
                          last_month=last.replace(day=1), by=str(by), runtime=runtime)
    return write_live(book, spec)



@xw.script
@excel_errors("Allocate")
def finops_allocate(book: xw.Book = None):
    """Allocate the store in the StorePath cell by the rules in this workbook's allocation tables
    (AllocationTaxonomy, AllocationPools, …; in Google Sheets, which has no tables, sheets of those
    names holding the same header and rows), then recalculate."""
    from finops_xl.allocation.engine import allocate
    from finops_xl.allocation.rules_table import TABLES, rules_from_tables

    book = book or xw.Book.caller()
    store = _named_value(book, STORE_PATH, "the cost store file")
    tables = {}
    for sheet in book.sheets:
        for table in sheet.tables:
            if table.name in TABLES:
                tables[table.name] = table.range.value
    if not tables:  # Google Sheets has no Excel tables: a sheet named like the table holds it
        for sheet in book.sheets:
            if sheet.name in TABLES:
                tables[sheet.name] = [row for row in sheet.used_range.value
                                      if any(v not in (None, "") for v in row)]
    rules = rules_from_tables(tables, source=f"the workbook {book.name}")
    report = allocate(store, rules)
    latest = report.coverage[-1] if report.coverage else None
    summary = (f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}: allocated {report.groups:,} charge "
               f"groups into {report.lines:,} lines")
    if latest is not None:
        summary += f"; {latest.month:%Y-%m} coverage {latest.allocated:.1%} ({latest.maturity})"
    _status(book, summary)
    _recalculate(book)
    return report


@xw.script
@excel_errors("Build close package")
def finops_build_close(book: xw.Book = None):
    """Write the monthly close package (Settings, Summary tie-out, Allocation, Accruals, Prepaid,
    Reconciliation, Variance, Journal) into this workbook, for the store in the StorePath cell and
    the month of the PeriodEnd cell (else the store's latest month)."""
    from finops_workbooks.close import build_close
    from finops_xl.close.gather import gather_close
    from finops_workbooks.live import engine_type, write_live

    from finops_xl.query.costs import queries_for

    book = book or xw.Book.caller()
    path = _optional_named_value(book, STORE_PATH)
    queries = queries_for(str(path) if path else None)
    end = _optional_named_value(book, PERIOD_END)
    if end is not None:
        month = to_date(end, PERIOD_END).replace(day=1)
    else:
        months = queries.values("month")
        if not months:
            raise ArgumentError(f"the store {queries.store.path} holds no charges yet: run Refresh")
        month = dt.date.fromisoformat(months[-1] + "-01")
    data = gather_close(queries.store, month)
    runtime = "classic" if engine_type(book) == "desktop" else "server"
    return write_live(book, build_close(data, runtime=runtime))
