"""Chargeback: journal entries moving each month's allocated cloud cost from the central cloud cost
center to the owners' cost centers.

Showback reports what each owner costs; chargeback books it in the owner's cost center. The mode is
chosen per owner (``load_modes``: a CSV ``owner, mode`` with mode ``chargeback`` or ``showback``;
the owner ``*`` sets the default, else ``showback``). For month M and each billing currency
(``chargeback_entries``): one entry (kind ``chargeback``, on M's last day) with, per chargeback
owner and allocation rule, Dr the cloud expense account at the owner's cost center / Cr the same
account at ``LedgerMap.central_cost_center``, both lines carrying the rule id (``source`` =
``chargeback:<rule id>``). Amounts are the allocation's EffectiveCost (amortized cost, as showback
statements show it) per owner and rule, rounded to the minor unit; a pool's shared cost carries the
pool id as its rule. Showback owners get no lines; ``chargeback_report`` lists every owner with its
mode and amount.
"""

from __future__ import annotations

import calendar
import csv
import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

from finops_xl.close.journal import Entry, LedgerMap, entry
from finops_xl.money import round_money

MODES = ("chargeback", "showback")


def load_modes(path: str | Path) -> dict[str, str]:
    """owner → mode from a CSV ``owner, mode`` (``*`` = every other owner)."""
    path = Path(path)
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"no chargeback modes at {path}") from None
    out = {}
    with fh:
        reader = csv.DictReader(fh)
        if not {"owner", "mode"} <= set(reader.fieldnames or ()):
            raise ValueError(f"{path}: line 1: the header needs the columns owner, mode")
        for row in reader:
            owner, mode = (row.get("owner") or "").strip(), (row.get("mode") or "").strip().lower()
            if mode not in MODES:
                raise ValueError(f"{path}: line {reader.line_num}: column mode: {row.get('mode')!r} must be "
                                 "chargeback or showback")
            out[owner] = mode
    return out


@dataclasses.dataclass(frozen=True)
class OwnerCharge:
    owner: str
    cost_center: str
    rule_id: str
    currency: str
    amount: Decimal
    mode: str


def _rows(con, month: dt.date, ledger: LedgerMap, modes) -> list[OwnerCharge]:
    rows = con.execute("""
        SELECT currency, coalesce(owner, 'UNALLOCATED'), cost_center,
               coalesce(rule_id, CASE WHEN pool_id IS NOT NULL THEN 'pool:' || pool_id END, kind, 'unallocated'),
               sum(EffectiveCost)
        FROM allocated_charges WHERE month = ? GROUP BY ALL ORDER BY ALL""", [month]).fetchall()
    out = []
    for cur, owner, cc, rule, amount in rows:
        mode = modes.get(owner, modes.get("*", "showback"))
        center = ledger.cost_centers.get(owner) or cc or ledger.default_cost_center
        out.append(OwnerCharge(owner, center, rule, cur, Decimal(amount or 0), mode))
    return out


def chargeback_report(con, month: dt.date, ledger: LedgerMap = LedgerMap(), modes=None) -> list[OwnerCharge]:
    """Every owner × rule of the month's allocation with its mode and amount (exact)."""
    return _rows(con, month.replace(day=1), ledger, modes or {})


def chargeback_entries(con, month: dt.date, ledger: LedgerMap = LedgerMap(), modes=None) -> tuple[Entry, ...]:
    """The month's chargeback entries (module docstring); none without a chargeback owner."""
    ms = month.replace(day=1)
    end = ms.replace(day=calendar.monthrange(ms.year, ms.month)[1])
    rows = [r for r in _rows(con, ms, ledger, modes or {}) if r.mode == "chargeback"]
    out = []
    currencies = sorted({r.currency for r in rows})
    for cur in currencies:
        debits, credits = [], []
        for r in (r for r in rows if r.currency == cur):
            amount = round_money(r.amount, cur)
            memo = f"Chargeback {ms:%Y-%m} to {r.owner}, rule {r.rule_id}"
            debits.append((ledger.expense_account, r.cost_center, amount, memo, f"chargeback:{r.rule_id}"))
            credits.append((ledger.expense_account, ledger.central_cost_center, amount, memo,
                            f"chargeback:{r.rule_id}"))
        suffix = f"-{cur}" if len(currencies) > 1 else ""
        out.append(entry(f"CHBK-{ms:%Y-%m}{suffix}", end, cur, "chargeback", debits, credits,
                         f"Chargeback of the {ms:%Y-%m} allocation to the owners' cost centers"))
    return tuple(out)
