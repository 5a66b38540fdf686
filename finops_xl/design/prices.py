"""The price book from the bill: the unit prices the company actually pays.

One row per provider × service × SKU (``SkuId``, ``SkuPriceId``) × region × pricing category ×
pricing unit × consumed unit × billing currency, over the store's usage rows
(``ChargeCategory = 'Usage'`` with a ``PricingQuantity`` above 0):

- **list unit price** — Σ (``ListUnitPrice`` × ``PricingQuantity``) ÷ Σ ``PricingQuantity``: the
  quantity-weighted ``ListUnitPrice`` (a row without one counts with its ``ListCost``);
- **contracted unit price** — the same with ``ContractedUnitPrice`` (else ``ContractedCost``);
- **effective unit price** — Σ ``EffectiveCost`` ÷ Σ ``PricingQuantity``: what a unit really costs
  after negotiated and commitment discounts, amortized (GLOSSARY: EffectiveCost);
- **months** — the calendar months of ``ChargePeriodStart`` the price was seen in, and the
  quantities (``PricingQuantity``, ``ConsumedQuantity``) and effective cost behind it.

The sums run in DuckDB over ``charges`` (DECIMAL(38,12)); the divisions run in Python ``Decimal``
with 34 significant digits on the small grouped result, so a unit price is the exact quotient, not
a float. A price the user states for a component the bill does not have is a :class:`Price` with
``source = "assumption"``: shown and labelled as such wherever it is used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from decimal import Decimal, localcontext

__all__ = ["ASSUMPTION", "BILL", "KINDS", "Price", "PriceBookRow", "assumed", "find", "price_book"]

BILL, ASSUMPTION = "bill", "assumption"
#: Which unit price :func:`find` returns.
KINDS = ("effective", "list", "contracted")
_PRECISION = 34


@dataclasses.dataclass(frozen=True)
class PriceBookRow:
    """One observed unit price (see the module docstring for each figure)."""

    provider: str
    service: str | None
    sku_id: str | None
    sku_price_id: str | None
    instance_type: str | None
    region: str | None
    pricing_category: str | None
    pricing_unit: str | None
    consumed_unit: str | None
    currency: str
    list_unit_price: Decimal | None
    contracted_unit_price: Decimal | None
    effective_unit_price: Decimal | None
    pricing_quantity: Decimal
    consumed_quantity: Decimal | None
    effective_cost: Decimal
    months: int
    first_month: str
    last_month: str
    rows: int

    HEADER = ("provider", "service", "sku_id", "sku_price_id", "instance_type", "region",
              "pricing_category", "pricing_unit", "consumed_unit", "currency", "list_unit_price",
              "contracted_unit_price", "effective_unit_price", "pricing_quantity",
              "consumed_quantity", "effective_cost", "months", "first_month", "last_month", "rows")

    def values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.HEADER)


_SQL = """
WITH usage AS (
    SELECT ProviderName, ServiceName, SkuId, SkuPriceId,
           json_extract_string(SkuPriceDetails, '$.InstanceType') AS InstanceType,
           RegionId, PricingCategory, PricingUnit, ConsumedUnit, BillingCurrency,
           PricingQuantity, ConsumedQuantity, EffectiveCost,
           ListUnitPrice * PricingQuantity AS list_priced,          -- DECIMAL(38,24): exact
           CASE WHEN ListUnitPrice IS NULL THEN ListCost END AS list_cost,
           ContractedUnitPrice * PricingQuantity AS contracted_priced,
           CASE WHEN ContractedUnitPrice IS NULL THEN ContractedCost END AS contracted_cost,
           strftime(date_trunc('month', ChargePeriodStart), '%Y-%m') AS month
    FROM charges
    WHERE ChargeCategory = 'Usage' AND PricingQuantity > 0 {where}
)
SELECT ProviderName, ServiceName, SkuId, SkuPriceId, any_value(InstanceType), RegionId,
       PricingCategory, PricingUnit, ConsumedUnit, BillingCurrency,
       sum(list_priced), sum(list_cost), count(list_priced) + count(list_cost),
       sum(contracted_priced), sum(contracted_cost), count(contracted_priced) + count(contracted_cost),
       sum(PricingQuantity), sum(ConsumedQuantity), sum(EffectiveCost),
       count(DISTINCT month), min(month), max(month), count(*)
FROM usage
GROUP BY ProviderName, ServiceName, SkuId, SkuPriceId, RegionId, PricingCategory, PricingUnit,
         ConsumedUnit, BillingCurrency
ORDER BY ProviderName, ServiceName, SkuId NULLS LAST, SkuPriceId NULLS LAST, RegionId NULLS LAST,
         PricingCategory NULLS LAST, PricingUnit NULLS LAST, BillingCurrency
"""


def _add(a, b) -> Decimal | None:
    if a is None and b is None:
        return None
    return Decimal(a or 0) + Decimal(b or 0)


def _ratio(amount, n: int, rows: int, quantity: Decimal) -> Decimal | None:
    """amount ÷ quantity, or None unless every row of the group had the amount."""
    if amount is None or n != rows or quantity == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return Decimal(amount) / quantity


def price_book(con, *, provider: str | None = None, service: str | None = None) -> tuple[PriceBookRow, ...]:
    """The unit prices in the store behind ``con`` (a ``CostStore.reader()`` connection).

    ``provider`` and ``service`` keep only rows whose ``ProviderName`` / ``ServiceName`` equal them
    (case-insensitive). Rows are ordered by provider, service, SKU, SKU price, region, pricing
    category and unit.
    """
    where, params = [], []
    for column, value in (("ProviderName", provider), ("ServiceName", service)):
        if value is not None:
            where.append(f"AND lower({column}) = lower(?)")
            params.append(value)
    found = con.execute(_SQL.format(where=" ".join(where)), params).fetchall()
    out = []
    for (prov, svc, sku, sku_price, itype, region, category, punit, cunit, currency,
         list_priced, list_cost, n_list, contracted_priced, contracted_cost, n_contracted,
         quantity, consumed, effective,
         months, first, last, rows) in found:
        quantity = Decimal(quantity)
        effective = Decimal(effective or 0)
        out.append(PriceBookRow(
            provider=prov, service=svc, sku_id=sku, sku_price_id=sku_price, instance_type=itype,
            region=region, pricing_category=category, pricing_unit=punit, consumed_unit=cunit,
            currency=currency,
            list_unit_price=_ratio(_add(list_priced, list_cost), n_list, rows, quantity),
            contracted_unit_price=_ratio(_add(contracted_priced, contracted_cost), n_contracted, rows, quantity),
            effective_unit_price=_ratio(effective, rows, rows, quantity),
            pricing_quantity=quantity,
            consumed_quantity=None if consumed is None else Decimal(consumed),
            effective_cost=effective, months=months, first_month=first, last_month=last, rows=rows,
        ))
    return tuple(out)


# ---- one price for a component ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Price:
    """The unit price a design component uses, and where it came from.

    ``source`` is :data:`BILL` (from the price book: ``matched`` rows of it, pooled) or
    :data:`ASSUMPTION` (stated by the user, because the bill has no such price or no store was
    given). ``key`` is what was asked for (a SKU, SKU price, instance type or service).
    """

    key: str
    unit_price: Decimal
    source: str
    unit: str | None = None
    region: str | None = None
    pricing: str | None = None
    currency: str | None = None
    kind: str = "effective"
    quantity: Decimal | None = None
    months: int | None = None
    matched: int = 0
    note: str = ""

    @property
    def is_assumption(self) -> bool:
        return self.source == ASSUMPTION


def assumed(key: str, unit_price, unit: str | None = None, note: str = "") -> Price:
    """A price the user states (no bill behind it), marked as an assumption."""
    return Price(key=key, unit_price=Decimal(str(unit_price)), source=ASSUMPTION, unit=unit,
                 note=note or "stated by the user: the bill has no price for it")


def _matches(row: PriceBookRow, key: str) -> bool:
    k = key.casefold()
    return any(v is not None and v.casefold() == k
               for v in (row.sku_id, row.sku_price_id, row.instance_type, row.service))


def find(book: Sequence[PriceBookRow] | Iterable[PriceBookRow], key: str, region: str | None = None,
         pricing: str | None = None, kind: str = "effective", unit: str | None = None) -> Price:
    """The unit price of ``key`` (a SkuId, SkuPriceId, instance type or service name) in ``book``.

    ``region`` (RegionId) and ``pricing`` (PricingCategory: Standard, Committed, Dynamic) narrow
    the match, as does ``unit`` (PricingUnit). Several matching rows are pooled: Σ amount ÷ Σ
    quantity over them, which is the price the company paid per unit across them. ``kind`` is
    ``effective`` (default), ``list`` or ``contracted``.

    Raises ValueError (one line naming what to add) when nothing matches, when the matches are in
    several pricing units or currencies (then a unit, region or SKU must be given), or when a
    matching row has no list or contracted price.
    """
    if kind not in KINDS:
        raise ValueError(f"price kind must be one of {', '.join(KINDS)}, not {kind!r}")
    rows = [r for r in book if _matches(r, key)
            and (region is None or (r.region or "").casefold() == region.casefold())
            and (pricing is None or (r.pricing_category or "").casefold() == pricing.casefold())
            and (unit is None or (r.pricing_unit or "").casefold() == unit.casefold())]
    where = "".join(f" {w} {v!r}" for w, v in (("in region", region), ("at pricing", pricing),
                                                 ("per", unit)) if v is not None)
    if not rows:
        raise ValueError(f"the bill has no price for {key!r}{where}: give a SKU, SKU price id, "
                         "instance type or service of `finops-xl prices`, or state the price "
                         "(it is then an assumption)")
    for label, values in (("pricing units", {r.pricing_unit for r in rows}),
                          ("currencies", {r.currency for r in rows})):
        if len(values) > 1:
            shown = ", ".join(sorted(str(v) for v in values))
            raise ValueError(f"{key!r}{where} has prices in several {label} ({shown}): give the "
                             "unit, region or a SKU so that one price applies")
    quantity = sum((r.pricing_quantity for r in rows), Decimal(0))
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if kind == "effective":
            amount = sum((r.effective_cost for r in rows), Decimal(0))
        else:
            prices = [getattr(r, f"{kind}_unit_price") for r in rows]
            if any(p is None for p in prices):
                raise ValueError(f"{key!r}{where}: the bill has no {kind} unit price on every row; "
                                 "use the effective price")
            amount = sum((p * r.pricing_quantity for p, r in zip(prices, rows)), Decimal(0))
        unit_price = amount / quantity
    months = {m for r in rows for m in (r.first_month, r.last_month)}
    return Price(key=key, unit_price=unit_price, source=BILL, unit=rows[0].pricing_unit,
                 region=region if region is not None else _one(r.region for r in rows),
                 pricing=pricing if pricing is not None else _one(r.pricing_category for r in rows),
                 currency=rows[0].currency, kind=kind, quantity=quantity,
                 months=max(r.months for r in rows), matched=len(rows),
                 note=f"{kind} unit price from the bill, {len(rows)} price book row(s), "
                      f"{min(months)} to {max(months)}")


def _one(values: Iterable[str | None]) -> str | None:
    found = set(values)
    return found.pop() if len(found) == 1 else None
