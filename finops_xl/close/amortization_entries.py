"""Journal entries of prepaid commitments: the purchase, each month's amortization, the current /
non-current reclass, a write-off and an exchange (``amortization`` re-exports them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from finops_xl.allocation.split import largest_remainder
from finops_xl.close.journal import Entry, LedgerMap, entry
from finops_xl.months import edate as add_months
from finops_xl.close.amortization_schedule import (
    DEFAULT_LEDGER, ZERO, Commitment, Exchange, Schedule, _money, _month, _month_end, _quantum,
)



# --------------------------------------------------------------------------------------------------
# Journal entries
# --------------------------------------------------------------------------------------------------

def _source(c: Commitment) -> str:
    return f"commitment:{c.id}"


def _removed(s: Schedule, m: dt.date) -> tuple[Decimal, Decimal, Decimal]:
    """Non-current part before month ``m``'s movements, and the non-current parts removed in ``m`` by
    the write-off and by the transfer out (the rest of each comes out of current)."""
    prev = s.period(add_months(m, -1))
    nc_prev = prev.noncurrent if prev is not None else s.purchase_noncurrent
    p = s.period(m)
    nc_wo = min(nc_prev, p.write_off)
    nc_tr = min(nc_prev - nc_wo, max(-p.transfers, ZERO))
    return nc_prev, nc_wo, nc_tr


def purchase_entry(s: Schedule, ledger: LedgerMap = DEFAULT_LEDGER, *, pay_from: str = "ap") -> Entry | None:
    """The purchase on the start date: Dr prepaid current (to be expensed in the 12 months from the
    start month) and Dr prepaid non-current (the rest) / Cr accounts payable (``pay_from="ap"``) or
    cash (``"cash"``). None when nothing is paid upfront. An exchanged commitment's purchase is
    :func:`exchange_entry`."""
    c = s.commitment
    if c.carried_in:
        raise ValueError(f"commitment {c.id} was bought by exchange: use exchange_entry")
    if not c.upfront:
        return None
    if pay_from not in ("ap", "cash"):
        raise ValueError(f"pay_from must be 'ap' or 'cash', not {pay_from!r}")
    credit = ledger.accounts_payable if pay_from == "ap" else ledger.cash
    nc = s.purchase_noncurrent
    memo = f"{c.type} {c.id}: upfront for {c.term_months} months from {c.start.isoformat()}"
    return entry(f"PREPAID-{c.id}", c.start, c.currency, "prepaid-purchase",
                 [(ledger.prepaid_current, "", c.upfront - nc, f"{memo} (current)", _source(c)),
                  (ledger.prepaid_noncurrent, "", nc, f"{memo} (non-current)", _source(c))],
                 [(credit, "", c.upfront, memo, _source(c))], memo)


def amortization_entry(s: Schedule, month: dt.date, ledger: LedgerMap = DEFAULT_LEDGER, *,
                       policy_owner: str, weights: Mapping[str, Decimal] | None = None,
                       unused: Decimal | None = None) -> Entry | None:
    """The month's amortization, on the last day of the month: Dr cloud expense by consuming owner /
    Cr prepaid current. None when nothing is amortized that month.

    Parameters
    ----------
    weights : mapping owner → weight, optional
        Either each owner's share of the commitment (fractions; then ``unused`` is left None and
        1 − Σ shares is the unused share) or each owner's Used EffectiveCost of the commitment in the
        month (then pass ``unused`` = the Unused EffectiveCost; :func:`used_by_owner` reads both).
        None: everything to ``policy_owner``.
    policy_owner : str
        The owner charged with the unused share (a named bucket, e.g. the platform team).
    unused : Decimal, optional
        The unused weight, in the units of ``weights``.

    Notes
    -----
    The amount is split with ``largest_remainder`` at the currency's minor unit, so the owners' lines
    add up to the credit exactly. An owner's cost center comes from ``ledger.cost_center(owner)``.
    """
    m = _month(month)
    p = s.period(m)
    if p is None or not p.amortization:
        return None
    c = s.commitment
    parts: dict[str, Decimal] = {}
    for owner, w in (weights or {}).items():
        if isinstance(w, float):
            raise TypeError(f"weight of {owner!r} must be Decimal, not float")
        parts[owner] = parts.get(owner, ZERO) + Decimal(w)
    if unused is None:
        unused = Decimal(1) - sum(parts.values(), ZERO) if parts else ZERO
        if unused < 0:
            raise ValueError(f"owner shares of {c.id} add up to more than 1: {sum(parts.values(), ZERO)} "
                             "(for EffectiveCost weights pass unused=, e.g. from used_by_owner)")
    parts[policy_owner] = parts.get(policy_owner, ZERO) + Decimal(unused)
    if sum(parts.values(), ZERO) == 0:
        parts = {policy_owner: Decimal(1)}
    owners = list(parts)
    split = largest_remainder(p.amortization, [parts[o] for o in owners], _quantum(c.currency))
    memo = f"Amortization {m:%Y-%m} of {c.type} {c.id}"
    debits = [(ledger.expense_account, ledger.cost_center(o), amt,
               f"{memo}: {o}{' (unused, policy owner)' if o == policy_owner else ''}", _source(c))
              for o, amt in zip(owners, split)]
    return entry(f"AMORT-{m:%Y-%m}-{c.id}", _month_end(m), c.currency, "amortization", debits,
                 [(ledger.prepaid_current, "", p.amortization, memo, _source(c))], memo)


def reclass_entry(s: Schedule, month: dt.date, ledger: LedgerMap = DEFAULT_LEDGER) -> Entry | None:
    """Month-end reclassification from non-current to current prepaid (Dr current / Cr non-current),
    so that after the month's entries the two accounts hold ``current_noncurrent(s, month)``. Negative
    after an extension (then it credits current). None when there is nothing to move."""
    m = _month(month)
    p = s.period(m)
    if p is None:
        return None
    nc_prev, nc_wo, nc_tr = _removed(s, m)
    amount = nc_prev - nc_wo - nc_tr - p.noncurrent
    if not amount:
        return None
    c = s.commitment
    memo = f"Reclass {m:%Y-%m} of {c.type} {c.id}: prepaid due within 12 months"
    return entry(f"RECLASS-{m:%Y-%m}-{c.id}", _month_end(m), c.currency, "prepaid-reclass",
                 [(ledger.prepaid_current, "", amount, memo, _source(c))],
                 [(ledger.prepaid_noncurrent, "", amount, memo, _source(c))], memo)


def write_off_entry(s: Schedule, ledger: LedgerMap = DEFAULT_LEDGER, *, policy_owner: str,
                    proceeds: Decimal = ZERO, refund: Decimal = ZERO) -> Entry | None:
    """The write-off of a terminated (or sold) commitment, on its event date: Dr cash (``proceeds`` of a
    sale, e.g. on the RI Marketplace), Dr receivable (``refund``: what the provider owes back for the
    unused term, e.g. a prorated refund of a returned reservation, until it is paid) and Dr cloud expense
    for the loss (balance − proceeds − refund; a gain credits it), cost center of ``policy_owner`` /
    Cr prepaid non-current and current (the balance). None when nothing is written off."""
    written = [p for p in s.periods if p.write_off]
    if not written:
        return None
    p, c = written[0], s.commitment
    _, nc_wo, _ = _removed(s, p.month)
    proceeds = _money(proceeds, "proceeds", c.currency)
    refund = _money(refund, "refund", c.currency)
    when = s.event_date or _month_end(p.month)
    memo = f"Write-off of {c.type} {c.id} ({s.note})"
    loss = p.write_off - proceeds - refund
    debits = [(ledger.cash, "", proceeds, f"{memo}: proceeds", _source(c)),
              (ledger.receivable, "", refund, f"{memo}: refund due from {c.provider}", _source(c)),
              (ledger.expense_account, ledger.cost_center(policy_owner), loss,
               f"{memo}: {'loss' if loss >= 0 else 'gain'}", _source(c))]
    return entry(f"WRITEOFF-{c.id}", when, c.currency, "write-off", debits,
                 [(ledger.prepaid_noncurrent, "", nc_wo, f"{memo} (non-current)", _source(c)),
                  (ledger.prepaid_current, "", p.write_off - nc_wo, f"{memo} (current)", _source(c))],
                 memo)


def exchange_entry(ex: Exchange, ledger: LedgerMap = DEFAULT_LEDGER, *, pay_from: str = "ap") -> Entry:
    """The exchange on its date: Dr prepaid current / non-current of the new commitment (its split at
    purchase) / Cr prepaid current / non-current of the old one (its balance carried) and Cr accounts
    payable (or cash) for the additional payment."""
    old, new = ex.old.commitment, ex.new.commitment
    m = _month(new.start)
    _, _, nc_tr = _removed(ex.old, m)
    credit = ledger.accounts_payable if pay_from == "ap" else ledger.cash
    nc_new = ex.new.purchase_noncurrent
    memo = f"Exchange of {old.type} {old.id} into {new.type} {new.id}"
    return entry(f"EXCHANGE-{old.id}", new.start, new.currency, "prepaid-exchange",
                 [(ledger.prepaid_current, "", new.upfront - nc_new, f"{memo} (new, current)", _source(new)),
                  (ledger.prepaid_noncurrent, "", nc_new, f"{memo} (new, non-current)", _source(new))],
                 [(ledger.prepaid_noncurrent, "", nc_tr, f"{memo} (old, non-current)", _source(old)),
                  (ledger.prepaid_current, "", ex.carried - nc_tr, f"{memo} (old, current)", _source(old)),
                  (credit, "", new.upfront - new.carried_in, f"{memo}: additional payment", _source(new))],
                 memo)
