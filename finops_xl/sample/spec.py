"""What a sample is asked for (:class:`SampleSpec`) and the schema of the FOCUS 1.2 files it writes,
with the fixed-point scales every generated number is an integer of."""

from __future__ import annotations

import dataclasses
import datetime

import pyarrow as pa


@dataclasses.dataclass(frozen=True)
class SampleSpec:
    rows: int = 100_000  # approximate total row count (±1%), across all months
    months: int = 3
    start: datetime.date = datetime.date(2025, 1, 1)  # first billing month (day 1)
    seed: int = 42
    plant_waste: bool = False  # add the known waste and healthy look-alikes of ``planted.py``


FOCUS_COLUMNS: tuple[str, ...] = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId",
    "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus",
    "CommitmentDiscountType", "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice",
    "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
    "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId",
    "SubAccountName", "SubAccountType", "Tags",
)

DECIMAL_COLUMNS: frozenset[str] = frozenset({
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice", "ContractedUnitPrice",
    "ConsumedQuantity", "PricingQuantity", "CommitmentDiscountQuantity", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice",
})
TIMESTAMP_COLUMNS: frozenset[str] = frozenset({
    "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
})
DECIMAL_TYPE = pa.decimal128(38, 12)
TIMESTAMP_TYPE = pa.timestamp("us")
SCHEMA: pa.Schema = pa.schema([
    pa.field(c, DECIMAL_TYPE if c in DECIMAL_COLUMNS else TIMESTAMP_TYPE if c in TIMESTAMP_COLUMNS else pa.string())
    for c in FOCUS_COLUMNS
])

# Fixed-point scales: prices in 1e-8 USD, quantities in 1e-4 units, money in 1e-12 USD.
_P8 = 10**8
_Q4 = 10**4
_R12 = 10**12
_DAY_Q4 = 24 * _Q4  # one day in hours, q4
