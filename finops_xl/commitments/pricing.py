"""What each provider sells as a commitment, and the discount each term and payment option earns.

A commitment is bought from **one provider** for **one scope**; this module names the scopes each
provider sells (:data:`PRODUCTS`) and the discount from on-demand (``ListCost``) that every term and
payment option of a product typically earns (:data:`TYPICAL_DISCOUNTS`).

Kinds of scope
    ``spend`` — a spend commitment over all of the provider's compute (AWS Compute Savings Plan, Azure
    savings plan for compute, Google spend-based "flexible" committed-use discount): scope ``compute``.
    ``family`` — a commitment to one instance family in one region (AWS EC2 Instance Savings Plan or
    standard Reserved Instance, Azure reservation, Google resource-based committed-use discount): scope
    ``family:<series>@<region>`` (``SkuPriceDetails.Series`` and ``RegionId`` of the rows).

Discounts (an assumption: replace them with your quotes)
    The figures are typical list-price discounts, not quotes. AWS: the ratios of
    ``finops_workbooks.commitments_data.TYPICAL_PRICING`` (Cloudability's m4.large one-year quotes,
    typical three-year standard-RI levels) for the family products, about 8 points less for the Compute
    Savings Plan, which is more flexible. Azure: reservations about 40% (one year) and 60% (three
    years), the savings plan about 25% and 45%; Azure charges the same total monthly or upfront. Google:
    resource-based committed-use discounts 37% (one year) and 55% (three years) for general-purpose
    machine types, flexible (spend-based) committed-use discounts 28% and 46%, as the Compute Engine
    committed-use discount documentation states; Google bills them monthly (no upfront option).
    :func:`discounts` accepts an override table (the same shape) for real quotes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal

D = Decimal
NO_UPFRONT, PARTIAL_UPFRONT, ALL_UPFRONT = "no_upfront", "partial_upfront", "all_upfront"
#: Share of the term's commitment paid at purchase, by payment option.
UPFRONT_SHARE = {NO_UPFRONT: D(0), PARTIAL_UPFRONT: D("0.5"), ALL_UPFRONT: D(1)}


@dataclasses.dataclass(frozen=True)
class Product:
    """One commitment product: its provider, the scope kind it covers and its display name."""

    provider: str
    kind: str  # "spend" or "family"
    name: str


PRODUCTS: tuple[Product, ...] = (
    Product("AWS", "family", "EC2 Instance Savings Plan / Reserved Instance"),
    Product("AWS", "spend", "Compute Savings Plan"),
    Product("Microsoft", "family", "Azure reservation"),
    Product("Microsoft", "spend", "Azure savings plan for compute"),
    Product("Google Cloud", "family", "Resource-based committed use discount"),
    Product("Google Cloud", "spend", "Flexible (spend-based) committed use discount"),
)

#: (provider, kind) → {(term years, payment): discount from ListCost}.
TYPICAL_DISCOUNTS: dict[tuple[str, str], dict[tuple[int, str], Decimal]] = {
    ("AWS", "family"): {(1, NO_UPFRONT): D("0.365"), (1, PARTIAL_UPFRONT): D("0.413"), (1, ALL_UPFRONT): D("0.43"),
                        (3, NO_UPFRONT): D("0.55"), (3, PARTIAL_UPFRONT): D("0.60"), (3, ALL_UPFRONT): D("0.62")},
    ("AWS", "spend"): {(1, NO_UPFRONT): D("0.285"), (1, PARTIAL_UPFRONT): D("0.333"), (1, ALL_UPFRONT): D("0.35"),
                       (3, NO_UPFRONT): D("0.47"), (3, PARTIAL_UPFRONT): D("0.52"), (3, ALL_UPFRONT): D("0.54")},
    ("Microsoft", "family"): {(1, NO_UPFRONT): D("0.40"), (1, ALL_UPFRONT): D("0.40"),
                              (3, NO_UPFRONT): D("0.60"), (3, ALL_UPFRONT): D("0.60")},
    ("Microsoft", "spend"): {(1, NO_UPFRONT): D("0.25"), (1, ALL_UPFRONT): D("0.25"),
                             (3, NO_UPFRONT): D("0.45"), (3, ALL_UPFRONT): D("0.45")},
    ("Google Cloud", "family"): {(1, NO_UPFRONT): D("0.37"), (3, NO_UPFRONT): D("0.55")},
    ("Google Cloud", "spend"): {(1, NO_UPFRONT): D("0.28"), (3, NO_UPFRONT): D("0.46")},
}


def products(provider: str) -> tuple[Product, ...]:
    """The products ``provider`` sells, family products first (they are narrower and cheaper)."""
    return tuple(p for p in PRODUCTS if p.provider == provider)


def discounts(provider: str, kind: str,
              table: Mapping[tuple[str, str], Mapping[tuple[int, str], Decimal]] | None = None
              ) -> dict[tuple[int, str], Decimal]:
    """``{(term, payment): discount}`` of a product, from ``table`` (else :data:`TYPICAL_DISCOUNTS`)."""
    table = TYPICAL_DISCOUNTS if table is None else table
    out = dict(table.get((provider, kind), {}))
    for (term, payment), d in out.items():
        if payment not in UPFRONT_SHARE or term not in (1, 3) or not D(0) < d < D(1):
            raise ValueError(f"pricing for {provider} {kind}: ({term}, {payment!r}) → {d} is not a term of 1 or 3 "
                             f"years, a payment in {sorted(UPFRONT_SHARE)} and a discount in (0, 1)")
    return out
