"""Step 5 of the accrual: who owns each projected amount (the allocation's owners, else the
account's), and their cost centers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

import duckdb

from finops_xl.allocation.rules import UNALLOCATED
from finops_xl.allocation.split import largest_remainder
from finops_xl.close.accruals_basis import (
    _SUB_ACCOUNT,
    _Basis,
)
from finops_xl.close.accruals_model import (
    OWNER_SOURCES,
    QUANTUM,
    ZERO,
    AccrualError,
    FixedFee,
    _dec,
    _prior_month,
    _q,
)
from finops_xl.close.journal import LedgerMap

# ---- step 5: owners --------------------------------------------------------------------------


def _has_allocation(con) -> bool:
    try:
        con.execute("SELECT 1 FROM allocation_groups LIMIT 0")
        con.execute("SELECT 1 FROM allocated_charges LIMIT 0")
        return True
    except duckdb.Error:
        return False


def _check_allocation_current(con) -> None:
    try:
        run = con.execute("SELECT run_id, last_load_id FROM allocation_runs "
                          "ORDER BY run_id DESC LIMIT 1").fetchall()
        load = con.execute("SELECT value FROM store_info WHERE key = 'last_load_id'").fetchall()
    except duckdb.Error:
        return  # not a store with run records (e.g. tables built by hand): nothing to compare
    if run and load and str(run[0][1]) != str(load[0][0]):
        raise AccrualError(
            f"the allocation (run {run[0][0]}, made after load {run[0][1]}) is older than the "
            f"store's last load ({load[0][0]}): allocate again so owners match the data")


class _Owners:
    """Owner weights per basis key (and per fee's service), from the allocation of two months."""

    def __init__(self, con, metric: str, months: tuple[dt.date, ...]):
        self.by_key: dict[tuple, dict[tuple, dict[str, Decimal]]] = {m: defaultdict(
            lambda: defaultdict(Decimal)) for m in months}
        self.by_service = {m: defaultdict(lambda: defaultdict(Decimal)) for m in months}
        marks = ", ".join("?" for _ in months)
        fractions: dict[tuple, dict[str, Decimal]] = defaultdict(dict)
        for month, cur, pool, owner, w in con.execute(f"""
            SELECT month, currency, pool_id, owner, sum(abs(BilledCost)) + sum(abs(EffectiveCost))
            FROM allocated_charges WHERE pool_id IS NOT NULL AND month IN ({marks})
            GROUP BY ALL ORDER BY ALL""", list(months)).fetchall():
            if w:
                fractions[(month, cur, pool)][owner] = Decimal(w)
        for month, cur, prov, sub, cat, svc, ccat, owner, pool, amount in con.execute(f"""
            SELECT month, currency, ProviderName, {_SUB_ACCOUNT}, ServiceCategory, ServiceName,
                   ChargeCategory, CASE WHEN pool_id IS NULL THEN coalesce(owner, '{UNALLOCATED}') END,
                   pool_id, sum({metric})
            FROM allocation_groups WHERE month IN ({marks})
            GROUP BY ALL ORDER BY ALL""", list(months)).fetchall():
            amount = _dec(amount)
            if amount == 0:
                continue
            if pool is None:
                parts = {owner: amount}
            else:
                frac = fractions.get((month, cur, pool))
                parts = _split(amount, frac) if frac else {UNALLOCATED: amount}
            for o, v in parts.items():
                self.by_key[month][(cur, prov, sub, cat)][o] += v
                self.by_service[month][(cur, prov, sub, cat, svc, ccat)][o] += v


def _split(amount: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """``amount`` split in proportion to non-negative ``weights`` at 1e-12, adding up exactly."""
    owners = sorted(weights)
    parts = largest_remainder(_q(amount), [weights[o] for o in owners], QUANTUM)
    return dict(zip(owners, parts))


def _spread(amount: Decimal, *candidates: Mapping[str, Decimal] | None) -> dict[str, Decimal]:
    """``amount`` over owners by the first candidate weights that have any non-zero weight: as
    they are when they already add up to ``amount``; else by their positive amounts (or their
    absolute amounts when none is positive). No weights: all to UNALLOCATED."""
    if amount == 0:
        return {}
    for weights in candidates:
        if not weights or not any(weights.values()):
            continue
        if sum(weights.values(), ZERO) == amount:
            return {o: v for o, v in weights.items() if v}
        pos = {o: v for o, v in weights.items() if v > 0}
        use = pos or {o: -v for o, v in weights.items() if v < 0}
        return _split(amount, use)
    return {UNALLOCATED: amount}


def allocation_cost_centers(con, months: tuple[dt.date, ...]) -> dict[str, str]:
    """Owner → the cost center the allocation gives it in ``months`` (the largest by cost)."""
    return _allocation_cost_centers(con, months)


def _allocation_cost_centers(con, months: tuple[dt.date, ...]) -> dict[str, str]:
    marks = ", ".join("?" for _ in months)
    centers: dict[str, str] = {}
    for owner, cc, _w in con.execute(f"""
        SELECT owner, cost_center, sum(abs(EffectiveCost)) + sum(abs(BilledCost)) AS w
        FROM allocated_charges WHERE cost_center IS NOT NULL AND month IN ({marks})
        GROUP BY ALL ORDER BY owner, w DESC, cost_center""", list(months)).fetchall():
        centers.setdefault(owner, cc)
    return centers


def _resolve_owner_source(con, owner_source: str) -> str:
    if owner_source not in OWNER_SOURCES:
        raise AccrualError(f"owner_source must be one of {', '.join(OWNER_SOURCES)}, "
                           f"not {owner_source!r}")
    present = _has_allocation(con)
    if owner_source == "allocation" and not present:
        raise AccrualError("owner_source='allocation' but the store has no allocation: run "
                           "`finops-xl allocate` (allocation.engine.allocate) first, or use "
                           "owner_source='none' for one line per sub-account")
    resolved = "allocation" if owner_source == "allocation" or (owner_source == "auto" and present) \
        else "none"
    if resolved == "allocation":
        _check_allocation_current(con)
    return resolved


def _owner_amounts(con, owner_source: str, metric: str, ms: dt.date, basis: dict[tuple, _Basis],
                   fees: Iterable[FixedFee], with_projection: bool = True):
    """(currency, owner, category) → [actual, projected, fixed, invoiced], and the owners' cost
    centers found in the allocation."""
    out: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])
    if owner_source == "none":
        for (cur, _prov, sub, cat), b in basis.items():
            row = out[(cur, sub or UNALLOCATED, cat)]
            for i, v in enumerate((b.actual, b.projected, ZERO, b.invoiced)):
                row[i] += v
        for f in fees:
            out[(f.currency, f.sub_account or UNALLOCATED, f.service_category)][2] += f.amount
        return out, {}
    ps = _prior_month(ms)
    owners = _Owners(con, metric, (ms, ps))
    for key, b in basis.items():
        cur, _prov, _sub, cat = key
        now, then = owners.by_key[ms].get(key), owners.by_key[ps].get(key)
        for i, v in enumerate((b.actual, b.projected, ZERO, b.invoiced)):
            for o, part in _spread(v, now, then).items():
                out[(cur, o, cat)][i] += part
    for f in fees:
        key = (f.currency, f.provider, f.sub_account, f.service_category)
        svc = key + (f.service_name, f.charge_category)
        for o, part in _spread(f.amount, owners.by_service[ps].get(svc), owners.by_service[ms].get(svc),
                               owners.by_key[ms].get(key), owners.by_key[ps].get(key)).items():
            out[(f.currency, o, f.service_category)][2] += part
    return out, _allocation_cost_centers(con, (ms, ps))


def _cost_center(owner: str, ledger: LedgerMap, found: Mapping[str, str]) -> str:
    if owner in ledger.cost_centers:
        return ledger.cost_centers[owner]
    return found.get(owner) or ledger.default_cost_center
