"""finops-xl template workbooks: a layout model, its writers (openpyxl file, live xlwings book) and
the template builders. Builders lay out numbers that ``finops_xl`` computes; they hold no finance
logic of their own.

Modules:

- ``model``    — the immutable layout: WorkbookSpec → Sheet → Cell / Table / Chart, DefinedName.
- ``formats``  — number formats and cell styles of the templates (accounting money, months).
- ``draft``    — SheetDraft, the mutable helper builders place cells with.
- ``writer``   — WorkbookSpec → reproducible ``.xlsx`` (openpyxl).
- ``live``     — WorkbookSpec → a workbook open in Excel (xlwings), for the "Build overview" macro.
- ``overview_data`` / ``overview`` — the "Cost overview" template: its numbers from the store,
  and its layout.
- ``showback_data`` / ``showback`` — the "Showback" template: statements and allocation coverage
  from the store's current allocation, and its layout (summary, coverage, one statement per owner,
  the rules).
- ``close`` (numbers from ``finops_xl.close.gather``; ``close_data`` re-exports it) — the monthly close workbook: tie-out, allocation, accruals, prepaid
  roll-forward and native amortization schedules, reconciliation, variance, journal entries.

Typical use::

    from finops_xl.query.costs import queries_for
    from finops_workbooks.overview import build_overview
    from finops_workbooks.writer import write_xlsx

    spec = build_overview(queries_for(store_path), store_path=store_path,
                          last_month=datetime.date(2025, 6, 1))
    write_xlsx(spec, "cost-overview.xlsx")      # or: live.write_live(xw.Book.caller(), spec)
"""
