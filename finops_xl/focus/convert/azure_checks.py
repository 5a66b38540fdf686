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
        money = {"currency": currency}
        if group.format == azure.ACTUAL and (covered or purchases):
            out.append(Notice(group.label, (
                f"an actual-cost export alone: {_fmt(covered, 'row')} of usage covered by a reservation "
                f"or savings plan: EffectiveCost unknown (Azure bills them 0; written as 0), and "
                f"{_fmt(purchases, 'commitment purchase')} billed for the amount shown: EffectiveCost "
                f"0, as FOCUS requires, so EffectiveCost lacks the part of those purchases used this month. "
                f"Load this month's amortized-cost export together with this file (one command) to "
                f"complete EffectiveCost; that load replaces this one"),
                count=covered, amount=Decimal(bought), **money))
        if group.format == azure.AMORTIZED and spread:
            out.append(Notice(group.label, (
                f"an amortized-cost export alone: {_fmt(spread, 'row')} of reservation or savings-plan "
                f"cost spread onto usage or unused commitment, for the amount shown: BilledCost 0 "
                f"(the invoice bills the commitment purchases instead, and this export leaves them "
                f"out), so BilledCost lacks this month's commitment purchases. Load this month's "
                f"actual-cost export together with this file (one command) to complete BilledCost; "
                f"that load replaces this one"),
                count=spread, amount=Decimal(spread_cost), **money))
        if group.format == azure.PAIR and actual_only:
            out.append(Notice(group.label, _unmatched(actual_only, "actual", "amortized",
                                                      "commitment purchases", "EffectiveCost"),
                              count=actual_only, amount=Decimal(actual_only_cost), **money))
        if group.format == azure.PAIR and amortized_only:
            out.append(Notice(group.label, _unmatched(amortized_only, "amortized", "actual",
                                                      "unused commitment", "BilledCost"),
                              count=amortized_only, amount=Decimal(amortized_only_cost), **money))
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
