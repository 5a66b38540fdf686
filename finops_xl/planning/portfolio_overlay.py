"""The commitment overlay of a plan from the real portfolio: expiries, renewals, P&L and cash side by side.

The flat overlay of :mod:`finops_xl.planning.drivers` (``net = gross × (1 − coverage × discount)``) knows
nothing of when commitments end. Here each commitment of the inventory is carried month by month:

1. ``plan(inventory, actions, months)`` — per commitment and month: while its term runs, the
   **amortized** cost (P&L: recurring fee + upfront ÷ term months) and the **cash** paid (the upfront in
   the month of purchase, the fee every month), and the **savings** it earns (the action list's
   ``monthly_savings`` at today's size: what it saves against on demand). At its end the action list
   decides: ``renew`` / ``resize`` carry it on for another term at ``new_size_monthly`` (scaled from the
   same payment structure: a prepaid commitment is prepaid again, in the month it renews), ``let lapse``
   stops it (its usage goes back to on demand: no savings). A commitment without an action (not
   expiring within the action list's windows) runs to its end and stops. Months are prorated by days
   when a term starts or ends inside them.
2. ``overlay(gross, rows)`` — per month: the plan's gross (on-demand) cost, the portfolio's savings,
   net = gross − savings, and the amortized and cash commitment cost side by side.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from finops_xl.months import add_months

ZERO = Decimal(0)


@dataclasses.dataclass(frozen=True)
class PlanRow:
    month: dt.date
    commitment_id: str
    state: str  # "active", "renewed", "resized"
    amortized: Decimal
    cash: Decimal
    savings: Decimal


@dataclasses.dataclass(frozen=True)
class OverlayRow:
    month: dt.date
    gross: Decimal
    savings: Decimal
    net: Decimal
    amortized: Decimal
    cash: Decimal


def _share(month: dt.date, start: dt.date, end: dt.date) -> Decimal:
    """Share of ``month``'s days inside ``[start, end)``."""
    days = calendar.monthrange(month.year, month.month)[1]
    lo, hi = max(month, start), min(add_months(month, 1), end)
    return Decimal(max(0, (hi - lo).days)) / days


def plan(inventory: Iterable, actions: Iterable, months: Sequence[dt.date],
         savings: Mapping[str, Decimal] | None = None) -> tuple[PlanRow, ...]:
    """Step 1 (module notes). ``inventory``: :class:`~finops_xl.commitments.portfolio.InventoryRow`;
    ``actions``: :class:`~finops_xl.commitments.actions.Action` (the first per commitment counts);
    ``savings``: today's monthly savings per commitment (default: from its renew/resize action,
    ``monthly_savings − waste_avoided`` = on-demand equivalent − amortized cost; else 0)."""
    by_action = {}
    for a in actions:
        by_action.setdefault(a.commitment_id, a)
    savings = savings or {}
    out = []
    for c in inventory:
        term = c.term_months
        amort = c.recurring_monthly + c.upfront / term
        act = by_action.get(c.id)
        now_savings = savings.get(c.id, ZERO)
        if c.id not in savings and act is not None and act.action in ("renew", "resize"):
            now_savings = act.monthly_savings - act.waste_avoided  # L − A: what it saves at today's size
        renew_end = add_months(c.end, term)
        scale = (act.new_size_monthly / act.size_monthly
                 if act is not None and act.action in ("renew", "resize") and act.size_monthly else None)
        for m in months:
            s = _share(m, c.start, c.end)
            if s:
                cash = s * c.recurring_monthly + (c.upfront if c.start.replace(day=1) == m else ZERO)
                out.append(PlanRow(m, c.id, "active", s * amort, cash, s * now_savings))
            if scale is not None:
                r = _share(m, c.end, renew_end)
                if r:
                    cash = r * scale * c.recurring_monthly + (scale * c.upfront if c.end.replace(day=1) == m else ZERO)
                    out.append(PlanRow(m, c.id, "renewed" if act.action == "renew" else "resized",
                                       r * scale * amort, cash, r * act.monthly_savings))
    return tuple(sorted(out, key=lambda r: (r.month, r.commitment_id, r.state)))


def overlay(gross: Iterable[tuple[dt.date, Decimal]], rows: Iterable[PlanRow]) -> tuple[OverlayRow, ...]:
    """Step 2: one row per month of ``gross`` (month order)."""
    rows = list(rows)
    out = []
    for month, g in sorted(gross):
        these = [r for r in rows if r.month == month]
        sv = sum((r.savings for r in these), ZERO)
        out.append(OverlayRow(month, Decimal(g), sv, Decimal(g) - sv, sum((r.amortized for r in these), ZERO),
                              sum((r.cash for r in these), ZERO)))
    return tuple(out)
