"""Steps 1-4 of the accrual: the cut-off, the basis of actual cost to date, the projection of the
missing days, and the fixed fees still to be billed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal, localcontext

from finops_xl.close.accruals_model import (
    TRAILING_DAYS,
    ZERO,
    AccrualError,
    FixedFee,
    _days,
    _dec,
    _prior_month,
    _q,
    _ts,
    next_month,
)

# ---- step 1-3: cut-off, basis, projection ----------------------------------------------------

#: A basis key: (currency, provider, sub-account, service category).
_RUN_RATE = ("coalesce(ChargeFrequency, 'Usage-Based') = 'Usage-Based' "
             "AND coalesce(ChargeClass, '') <> 'Correction'")
_SUB_ACCOUNT = "coalesce(SubAccountId, BillingAccountId)"
#: A commitment's upfront purchase: a prepaid asset (``amortization.purchase_entry``), never expense,
#: so never accrued, invoiced against the accrual or trued up (its amortization is expensed instead).
_UPFRONT = ("coalesce(ChargeCategory, '') = 'Purchase' AND coalesce(ChargeFrequency, '') = 'One-Time' "
            "AND CommitmentDiscountId IS NOT NULL")


def _default_cutoff(con, ms: dt.date, nm: dt.date) -> dt.date:
    (last,) = con.execute(
        f"SELECT max(CAST(ChargePeriodStart AS DATE)) FROM charges "
        f"WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? AND {_RUN_RATE}",
        [_ts(ms), _ts(nm)]).fetchone()
    return ms if last is None else min(last + dt.timedelta(days=1), nm)


@dataclasses.dataclass
class _Basis:
    actual: Decimal = ZERO
    invoiced: Decimal = ZERO
    mtd: Decimal = ZERO           # run-rate, month before the cut-off
    trailing: Decimal = ZERO      # run-rate, trailing window
    prior_to_date: Decimal = ZERO  # run-rate, prior month's same elapsed days
    prior_rest: Decimal = ZERO    # run-rate, prior month's days matching the missing ones
    projected: Decimal = ZERO
    fees: Decimal = ZERO


def _basis(con, metric: str, ms: dt.date, cutoff: dt.date) -> tuple[dict[tuple, _Basis], dict]:
    """Per basis key, the sums every method needs (one scan); plus the windows used."""
    ps = _prior_month(ms)
    elapsed = (cutoff - ms).days
    p_len = _days(ps)
    prior_to = ps + dt.timedelta(days=min(elapsed, p_len))
    rest_from = ps + dt.timedelta(days=elapsed) if elapsed < p_len else ms - dt.timedelta(days=1)
    w0 = cutoff - dt.timedelta(days=TRAILING_DAYS)
    lo = min(ps, w0)
    rows = con.execute(f"""
        WITH r AS (
            SELECT BillingCurrency AS currency, ProviderName AS provider,
                   {_SUB_ACCOUNT} AS sub_account, ServiceCategory AS category,
                   CAST(ChargePeriodStart AS DATE) AS day, {metric} AS amount,
                   InvoiceId IS NOT NULL AS billed, {_RUN_RATE} AS run_rate
            FROM charges WHERE ChargePeriodStart >= $lo AND ChargePeriodStart < $cutoff
              AND NOT ({_UPFRONT}))
        SELECT currency, provider, sub_account, category,
               sum(amount) FILTER (WHERE day >= $ms),
               sum(amount) FILTER (WHERE day >= $ms AND billed),
               sum(amount) FILTER (WHERE run_rate AND day >= $ms),
               sum(amount) FILTER (WHERE run_rate AND day >= $w0),
               sum(amount) FILTER (WHERE run_rate AND day >= $ps AND day < $prior_to),
               sum(amount) FILTER (WHERE run_rate AND day >= $rest_from AND day < $ms)
        FROM r GROUP BY ALL
    """, {"lo": _ts(lo), "cutoff": _ts(cutoff), "ms": ms, "w0": w0, "ps": ps,
          "prior_to": prior_to, "rest_from": rest_from}).fetchall()
    basis = {}
    for cur, prov, sub, cat, *sums in rows:
        b = _Basis(*(_dec(s) for s in sums))
        basis[(cur, prov, sub, cat)] = b
    trailing_days = con.execute(f"""
        SELECT count(DISTINCT CAST(ChargePeriodStart AS DATE)) FROM charges
        WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? AND {_RUN_RATE}""",
        [_ts(w0), _ts(cutoff)]).fetchone()[0]
    prior_rows = con.execute(f"""
        SELECT count(*) FROM charges
        WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? AND {_RUN_RATE}""",
        [_ts(ps), _ts(ms)]).fetchone()[0]
    windows = {"elapsed": elapsed, "w0": w0, "trailing_days": int(trailing_days),
               "ps": ps, "prior_to": prior_to, "rest_from": rest_from,
               "rest_days": (ms - rest_from).days, "prior_rows": int(prior_rows)}
    return basis, windows


def _project(basis: dict[tuple, _Basis], windows: dict, method: str, ms: dt.date,
             cutoff: dt.date, missing: int) -> str:
    """Fill ``projected`` per basis key; returns the basis in words."""
    last = cutoff - dt.timedelta(days=1)
    span = (f"{missing} days projected ({cutoff.isoformat()} to "
            f"{(next_month(ms) - dt.timedelta(days=1)).isoformat()})") if missing else "no days missing"
    with localcontext() as ctx:
        ctx.prec = 60
        if method == "trailing_7d":
            n = windows["trailing_days"]
            if missing and n == 0:
                raise AccrualError(
                    f"trailing_7d needs usage in the {TRAILING_DAYS} days before the cut-off "
                    f"{cutoff.isoformat()} ({windows['w0'].isoformat()} to {last.isoformat()}); "
                    "the store has none: pass an earlier cutoff or method='prior_month'")
            for b in basis.values():
                b.projected = _q(b.trailing / n * missing) if missing else ZERO
            return (f"trailing_7d: average of {n} days with data, {windows['w0'].isoformat()} to "
                    f"{last.isoformat()}; {span}")
        if method == "month_to_date":
            k = windows["elapsed"]
            if missing and k == 0:
                raise AccrualError(f"month_to_date needs at least one day of {ms:%Y-%m} before the "
                                   f"cut-off {cutoff.isoformat()}: use method='prior_month'")
            for b in basis.values():
                b.projected = _q(b.mtd / k * missing) if missing else ZERO
            return f"month_to_date: average of the {k} days {ms.isoformat()} to {last.isoformat()}; {span}"
        # prior_month
        if missing and windows["prior_rows"] == 0:
            raise AccrualError(f"prior_month needs the prior month ({windows['ps']:%Y-%m}) in the "
                               "store; it has no usage rows for it: load it or use another method")
        growth = {}
        for cur in {k[0] for k in basis}:
            now = sum((b.mtd for k, b in basis.items() if k[0] == cur), ZERO)
            then = sum((b.prior_to_date for k, b in basis.items() if k[0] == cur), ZERO)
            growth[cur] = now / then if now and then else Decimal(1)
        for k, b in basis.items():
            b.projected = (_q(b.prior_rest / windows["rest_days"] * missing * growth[k[0]])
                           if missing else ZERO)
        g = ", ".join(f"{c} {growth[c].quantize(Decimal('1e-6'))}" for c in sorted(growth))
        return (f"prior_month: {windows['rest_from'].isoformat()} to "
                f"{(ms - dt.timedelta(days=1)).isoformat()} ({windows['rest_days']} days) scaled by "
                f"growth over {windows['ps'].isoformat()} to "
                f"{(windows['prior_to'] - dt.timedelta(days=1)).isoformat()} ({g or 'none'}); {span}")


# ---- step 4: fixed fees ----------------------------------------------------------------------

_FEE_KEY_SQL = (f"BillingCurrency, ProviderName, {_SUB_ACCOUNT}, ServiceName, ChargeCategory, "
                "CommitmentDiscountId")


def _present_fee_keys(con, ms: dt.date, cutoff: dt.date) -> set[tuple]:
    return set(con.execute(
        f"SELECT DISTINCT {_FEE_KEY_SQL} FROM charges WHERE ChargePeriodStart >= ? "
        "AND ChargePeriodStart < ? AND ChargeFrequency = 'Recurring'",
        [_ts(ms), _ts(cutoff)]).fetchall())


def _prior_fees(con, metric: str, ms: dt.date) -> list[FixedFee]:
    ps = _prior_month(ms)
    rows = con.execute(f"""
        SELECT {_FEE_KEY_SQL}, ServiceCategory, sum({metric})
        FROM charges
        WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? AND ChargeFrequency = 'Recurring'
          AND ChargePeriodEnd >= ?
        GROUP BY ALL ORDER BY ALL""", [_ts(ps), _ts(ms), _ts(ms)]).fetchall()
    return [FixedFee(cur, prov, sub, cat, svc, _dec(amount), charge_cat, cid, f"prior_month:{ps:%Y-%m}")
            for cur, prov, sub, svc, charge_cat, cid, cat, amount in rows if _dec(amount) != 0]


def _fees(con, metric, ms, cutoff, fixed_fees) -> tuple[FixedFee, ...]:
    if isinstance(fixed_fees, str):
        if fixed_fees == "none":
            return ()
        if fixed_fees != "prior_month":
            raise AccrualError("fixed_fees must be 'prior_month', 'none' or a list of FixedFee, "
                               f"not {fixed_fees!r}")
        candidates = _prior_fees(con, metric, ms)
    else:
        candidates = list(fixed_fees)
        for f in candidates:
            if not isinstance(f, FixedFee) or not isinstance(f.amount, Decimal):
                raise AccrualError(f"fixed_fees: {f!r} is not a FixedFee with a Decimal amount")
    present = _present_fee_keys(con, ms, cutoff)
    return tuple(f for f in candidates if f.key not in present)
