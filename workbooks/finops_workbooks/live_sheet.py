"""The opening of a template's Live sheet: FINOPS.COST cells that re-ask the store for totals the
template's native formulas compute, so an auditor sees both tie. Shared by the templates."""

from __future__ import annotations

from finops_xl import excel_functions as registry
from finops_workbooks import formats as f
from finops_workbooks.draft import SheetDraft


def start_live_sheet(name: str, title: str, runtime: str, others: str) -> tuple[SheetDraft, bool]:
    """A Live sheet draft with its title; and whether ``runtime`` can run FINOPS.COST. When it cannot
    (xlwings Lite has no local store), the sheet holds a note saying so; ``others`` names what
    does not need the live cells (e.g. "the Overview sheet")."""
    s = SheetDraft(name, landscape=True)
    cost = registry.function("COST")
    s.put(1, 1, title, f.TITLE)
    if runtime not in cost.runtimes:
        s.put(2, 1, f"{cost.excel_name(runtime)} needs a cost store on this computer, which "
                    f"xlwings {runtime.title()} cannot open: build the workbook with runtime server "
                    f"or classic for live formulas. Nothing on {others} depends on them.",
              f.NOTE)
        s.width(1, 18)
        return s, False
    return s, True
