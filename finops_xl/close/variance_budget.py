"""The variance's constants and exact ratios, and the budget file it compares against (``variance``
re-exports them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from decimal import Context, Decimal, localcontext
from pathlib import Path

from finops_xl.close.reconciliation import (
    EXACT,
    as_month,
    parse_amount,
)
from finops_xl.close.reconciliation_model import amount_field
from finops_xl.inputs import InputError, csv_rows
from finops_xl.store.errors import Problem

ZERO = Decimal(0)
#: Service category of shared (pool) cost in budget-vs-actual.
SHARED = "Shared"
#: Precision of computed effects: the store's 12 decimals.
QUANTUM = Decimal("1e-12")
METRICS = ("EffectiveCost", "BilledCost")

#: Context for ratios (percentages, unit prices, coverage): 28 significant digits.
RATIO = Context(prec=28)

BUDGET_COLUMNS = ("owner", "service_category", "month", "amount")
BUDGET_OPTIONAL = ("quantity", "unit")


def _exact(fn):
    """Run ``fn`` with + and − exact on DECIMAL(38,12) amounts (see ``reconciliation.EXACT``)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with localcontext(EXACT):
            return fn(*args, **kwargs)
    return wrapper


def _ratio(part, whole) -> Decimal | None:
    """part ÷ whole to 28 significant digits (None when whole is 0 or missing)."""
    if not whole:
        return None
    with localcontext(RATIO):
        return Decimal(part or 0) / Decimal(whole)


# ---- budget file ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BudgetLine:
    """One budget cell.

    Attributes:
      owner, service_category: as the allocation names them (``SHARED`` for shared cost).
      month: first day of the month.  amount: budgeted cost (spend positive).
      quantity, unit: budgeted volume in a FOCUS PricingUnit (e.g. ``Hours``), or None.
      source: ``<file>, row N``.
    """

    owner: str
    service_category: str
    month: dt.date
    amount: Decimal
    quantity: Decimal | None = None
    unit: str | None = None
    source: str = ""


class BudgetError(InputError):
    """A budget file that cannot be used; ``problems`` names file, row and column of each."""

    what = "the budget"


def load_budget(path: str | Path) -> tuple[BudgetLine, ...]:
    """Budget lines from a CSV with ``owner, service_category, month, amount[, quantity, unit]``.

    ``month`` is ``YYYY-MM``; ``amount`` and ``quantity`` plain decimals (``1,234.50`` accepted);
    a quantity needs a unit and the other way round; quantity ≥ 0. One line per owner × category ×
    month. Raises BudgetError listing every problem with file, data row (1-based, header excluded)
    and column.
    """
    label = str(path)
    problems: list[Problem] = []
    lines: list[BudgetLine] = []
    seen: dict[tuple, int] = {}
    for i, val in csv_rows(path, BUDGET_COLUMNS, BUDGET_OPTIONAL, BudgetError):
        bad = len(problems)
        for c in ("owner", "service_category"):
            if not val[c]:
                problems.append(Problem(label, f"empty {c}", row=i, column=c))
        month = None
        if not re.fullmatch(r"\d{4}-\d{2}", val["month"]):
            problems.append(Problem(label, "month must be YYYY-MM", row=i, column="month",
                                    value=val["month"]))
        else:
            try:
                month = as_month(val["month"])
            except ValueError:
                problems.append(Problem(label, "month must be YYYY-MM", row=i, column="month",
                                        value=val["month"]))
        amount = amount_field(val, "amount", problems, label, i)
        quantity, unit = None, val.get("unit") or None
        if val.get("quantity"):
            quantity = parse_amount(val["quantity"])
            if quantity is None or quantity < 0:
                problems.append(Problem(label, "quantity must be a number ≥ 0", row=i,
                                        column="quantity", value=val["quantity"]))
            elif unit is None:
                problems.append(Problem(label, "a quantity needs its unit (a FOCUS PricingUnit, "
                                        "e.g. Hours)", row=i, column="unit"))
        elif unit is not None:
            problems.append(Problem(label, "a unit without a quantity", row=i, column="quantity"))
        key = (val["owner"], val["service_category"], month)
        if len(problems) == bad:
            if key in seen:
                problems.append(Problem(label, f"repeats the line of row {seen[key]} (same owner, "
                                        "service_category and month)", row=i, column="owner",
                                        value=val["owner"]))
                continue
            seen[key] = i
            lines.append(BudgetLine(val["owner"], val["service_category"], month, amount, quantity,
                                    unit, f"{label}, row {i}"))
    if problems:
        raise BudgetError(problems)
    return tuple(lines)
