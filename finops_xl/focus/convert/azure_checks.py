"""What an Azure conversion could not determine from its files, as notices (the load goes on).

- an **actual-cost export alone**: the EffectiveCost of usage covered by reservations or savings
  plans (billed 0; its amortized cost is not in the file), and the commitment purchases the file bills,
  which FOCUS gives EffectiveCost 0 and an amortized-cost export would spread onto that usage;
- an **amortized-cost export alone**: the commitment cost spread onto usage and unused commitment,
  billed 0 (the invoice bills the purchases, which this file leaves out);
- a **pair**: rows that pair with nothing although they should (anything but actual-only commitment
  purchases and amortized-only unused commitment), per export and currency, with their total;
- a file whose name and rows do not tell actual from amortized (loaded as actual);
- commitment purchases without a term (the close would otherwise assume one);
- the legacy usage export's billing account (the subscription).

Every count and amount comes from one set-based query over the group's FOCUS rows.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

from finops_xl.errors import Notice

_COMMITMENT = "x_PricingModel IN ('Reservation', 'SavingsPlan')"
_COVERED = f"(x_ChargeType = 'Usage' AND {_COMMITMENT})"
_UNUSED = "x_ChargeType IN ('UnusedReservation', 'UnusedSavingsPlan')"
_PURCHASE = f"(x_ChargeType = 'Purchase' AND {_COMMITMENT})"
#: what a matching row shares (azure._KEY, in words)
_SAME = ("same date, subscription, resource, meter, quantity, charge type, pricing model, benefit "
         "and tags")

GUESSED = (
    "Azure cost details whose name and rows do not tell whether it is the actual-cost or the "
    "amortized-cost export (its reservation and savings-plan rows, if any, fit neither or both): loaded "
    "as the actual-cost export, what the invoice bills. If it is the amortized-cost export, put "
    "'amortized' in the file name (or 'actual' to confirm this) and load it again; the new load "
    "replaces this one")
LEGACY = (
    "Azure legacy usage export: it names no billing account, so each subscription is its own billing "
    "account (a pay-as-you-go subscription is invoiced on its own) and the billing period is the "
    "calendar month of the usage")


def _fmt(n: int, one: str) -> str:
    return f"{n:,} {one if n == 1 else one + 's'}"


def _alone(export: str, other: str, missing: str, what: str) -> str:
    """What one export given without the other of its month is told: ``what`` it cannot tell, and
    how to complete ``missing``."""
    return (f"an {export}-cost export alone: {what}. Load this month's {other}-cost export together with "
            f"this file (one command) to complete {missing}; that load replaces this one")


def _unmatched(n: int, export: str, other: str, exempt: str, written: str) -> str:
    """What a pair's ``n`` rows of one export that match no row of the other, and are not ``exempt``
    (a kind that exists in one export only), are told."""
    return (f"{_fmt(n, 'row')} of the {export}-cost export, for the amount shown, with no matching row in "
            f"the {other}-cost export ({_SAME}) that are not {exempt}: their {written} is written as 0. "
            f"Check both exports cover the same scope and days")


def notices(con: duckdb.DuckDBPyConnection, group) -> list[Notice]:
    """Notices for one Azure group (``NativeGroup`` of format azure, azure-actual, azure-amortized
    or azure-usage-legacy)."""
    from finops_xl.focus.convert import azure_kinds as azure

    out = [Notice(label, GUESSED) for label in getattr(group, "guessed", ())]
    if group.format == azure.LEGACY:
        out.append(Notice(group.label, LEGACY))
    rows = con.sql(f"""
        SELECT BillingCurrency,
               count(*) FILTER (WHERE {_COVERED}),
               count(*) FILTER (WHERE {_PURCHASE}),
               coalesce(sum(BilledCost) FILTER (WHERE {_PURCHASE}), 0),
               count(*) FILTER (WHERE {_COVERED} OR {_UNUSED}),
               coalesce(sum(EffectiveCost) FILTER (WHERE {_COVERED} OR {_UNUSED}), 0),
               count(*) FILTER (WHERE x_CostBasis = 'actual' AND NOT coalesce({_PURCHASE}, false)),
               coalesce(sum(BilledCost) FILTER (WHERE x_CostBasis = 'actual'
                                                AND NOT coalesce({_PURCHASE}, false)), 0),
               count(*) FILTER (WHERE x_CostBasis = 'amortized' AND NOT coalesce({_UNUSED}, false)),
               coalesce(sum(EffectiveCost) FILTER (WHERE x_CostBasis = 'amortized'
                                                   AND NOT coalesce({_UNUSED}, false)), 0),
               count(*) FILTER (WHERE {_PURCHASE} AND (SkuPriceDetails IS NULL
                                OR json_extract_string(SkuPriceDetails, '$.x_Term') IS NULL))
        FROM ({group.focus_sql()})
        GROUP BY ALL ORDER BY ALL""").fetchall()
    for (currency, covered, purchases, bought, spread, spread_cost, actual_only, actual_only_cost,
         amortized_only, amortized_only_cost, no_term) in rows:
        # (the group's format, shown when, count, amount, message): each notice of the money concerned
        told = (
            (azure.ACTUAL, covered or purchases, covered, bought, _alone("actual", "amortized", "EffectiveCost", (
                f"{_fmt(covered, 'row')} of usage covered by a reservation or savings plan: EffectiveCost "
                f"unknown (Azure bills them 0; written as 0), and {_fmt(purchases, 'commitment purchase')} "
                f"billed for the amount shown: EffectiveCost 0, as FOCUS requires, so EffectiveCost lacks "
                f"the part of those purchases used this month"))),
            (azure.AMORTIZED, spread, spread, spread_cost, _alone("amortized", "actual", "BilledCost", (
                f"{_fmt(spread, 'row')} of reservation or savings-plan cost spread onto usage or unused "
                f"commitment, for the amount shown: BilledCost 0 (the invoice bills the commitment "
                f"purchases instead, and this export leaves them out), so BilledCost lacks this month's "
                f"commitment purchases"))),
            (azure.PAIR, actual_only, actual_only, actual_only_cost,
             _unmatched(actual_only, "actual", "amortized", "commitment purchases", "EffectiveCost")),
            (azure.PAIR, amortized_only, amortized_only, amortized_only_cost,
             _unmatched(amortized_only, "amortized", "actual", "unused commitment", "BilledCost")),
        )
        out.extend(Notice(group.label, message, count=n, amount=Decimal(amount), currency=currency)
                   for fmt, shown, n, amount, message in told if group.format == fmt and shown)
        if no_term:
            out.append(Notice(group.label, (
                f"{_fmt(no_term, 'commitment purchase')}: no term stated (no Term column value and none in "
                f"the product order name): the close assumes its default term for them; check the "
                f"reservation or savings plan in the Azure portal"), count=no_term))
    return out


def currency_problems(con: duckdb.DuckDBPyConnection, source, header) -> list:
    """A billing currency that is not an ISO 4217 code, named as the file names it: column, first
    data row (1-based, in file order), value and how many rows have it. The store keeps money per
    currency, so such rows cannot load."""
    from finops_xl.focus.convert.common import q
    from finops_xl.focus.columns import iso_currency_codes
    from finops_xl.errors import Problem
    from finops_xl.sources import sql_literal

    column = header.find("BillingCurrency", "BillingCurrencyCode", "Currency")
    if column is None:
        return []
    codes = ", ".join(sql_literal(c) for c in sorted(iso_currency_codes()))
    value = f"NULLIF(trim(CAST({q(column)} AS VARCHAR)), '')"
    rows = con.sql(f"""
        SELECT v, min(n), count(*) FROM (
            SELECT {value} AS v, row_number() OVER () AS n FROM {source.reader_sql()})
        WHERE v IS NOT NULL AND upper(v) NOT IN ({codes})
        GROUP BY v ORDER BY min(n)""").fetchall()
    return [Problem(source.label, (
        "is not an ISO 4217 currency code (Azure writes the billing currency here, e.g. USD or EUR); "
        "correct the value, or export the cost details again"), row=int(first), column=column,
        value=str(v), count=int(n)) for v, first, n in rows]
