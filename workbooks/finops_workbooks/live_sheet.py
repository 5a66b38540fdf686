"""The opening of a template's Live sheet: FINOPS.COST cells that re-ask the store for totals the
template's native formulas compute, so an auditor sees both tie. Shared by the templates."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from finops_xl import excel_functions as registry
from finops_workbooks import formats as f
from finops_workbooks.draft import SheetDraft
from finops_workbooks.model import PLAIN, CellValue, Formula, Style


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


def add_in_note(runtime: str) -> str:
    """What a Live sheet's cells call and what they need (the start of its note)."""
    return (f"These cells call {registry.function('COST').excel_name(runtime)} and need the finops-xl add-in "
            f"(runtime: {runtime}) pointed at the store in Settings (StorePath);")


def tie_table(s: SheetDraft, row: int, runtime: str, key_heading: str, total_heading: str,
              keys: Sequence[CellValue], live: Callable[[int], str], total: Callable[[int], str], *,
              key_style: Style = PLAIN) -> None:
    """From ``row`` down: a heading row (``key_heading``, the live function, ``total_heading``,
    Difference), then a row per key: the key, ``live(row)`` (the FINOPS.COST formula text for that
    sheet row), ``total(i)`` (the formula of the template's own total for the i-th key) and the
    difference of the two."""
    s.put(row, 1, key_heading, f.HEADER_LEFT)
    s.put_row(row, 2, (f"Live {registry.function('COST').excel_name(runtime)}", total_heading, "Difference"),
              f.HEADER)
    for i, key in enumerate(keys):
        r = row + 1 + i
        s.put(r, 1, key, key_style)
        s.put(r, 2, Formula(live(r)), f.MONEY)
        s.put(r, 3, Formula(total(i)), f.MONEY)
        s.put(r, 4, Formula(f"=B{r}-C{r}"), f.MONEY)
