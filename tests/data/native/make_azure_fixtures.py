"""Write the Azure cost-details fixtures for tests/test_azure_exports.py (run from anywhere).

Written from Microsoft's documented cost-details columns (EA column set: ``CostInBillingCurrency``,
``BillingCurrencyCode``, ``ReservationId``/``ReservationName``, ``Term`` in months,
``ProductOrderId``/``ProductOrderName``, ``ServicePeriodStartDate``/``ServicePeriodEndDate``) and
their documented semantics:

- the **actual-cost** export bills a reservation purchase as a ``Purchase`` row (``PricingModel``
  Reservation; ``Frequency`` OneTime for an upfront payment) and the usage the reservation covers at
  cost 0;
- the **amortized-cost** export leaves the purchase out, spreads it onto the covered usage (cost > 0)
  and onto an ``UnusedReservation`` row for the hours nobody used.

``ea-3yr-{actual,amortized}-cost-2025-03.csv``: enrollment 7700123, March 2025, USD, with

- a 3-year reservation (``Term`` 36, "3 Years" only in ``ProductOrderName``, not in ``ProductName``),
  paid upfront (3,600.00) on 1 March 2025;
- three reservation-covered usage rows and three on-demand storage rows, each three with identical
  descriptive columns (Azure writes such rows; they differ only in quantity and cost);
- an on-demand bandwidth row that is in the amortized-cost export only (a pair that does not match);
- a Marketplace purchase in both.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent / "azure"

COLUMNS = [
    "InvoiceSectionName", "AccountName", "SubscriptionId", "SubscriptionName", "ResourceGroup",
    "ResourceLocation", "Date", "ProductName", "MeterCategory", "MeterSubCategory", "MeterId", "MeterName",
    "MeterRegion", "UnitOfMeasure", "Quantity", "EffectivePrice", "CostInBillingCurrency", "ResourceId",
    "Tags", "ResourceName", "ReservationId", "ReservationName", "UnitPrice", "ProductOrderId",
    "ProductOrderName", "Term", "PublisherType", "PublisherName", "ChargeType", "Frequency",
    "PricingModel", "BillingAccountId", "BillingAccountName", "BillingCurrencyCode",
    "BillingPeriodStartDate", "BillingPeriodEndDate", "BillingProfileId", "BillingProfileName",
    "PayGPrice", "ServicePeriodStartDate", "ServicePeriodEndDate", "AdditionalInfo", "InvoiceId",
]

SUB = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-app-01"
SA = f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/stapp01"
ORDER = "4d5e6f7a-0000-4b1c-9d2e-000000000036"
RI = f"/providers/Microsoft.Capacity/reservationOrders/{ORDER}/reservations/5e6f7a8b-0000-4c1d-8e2f-000000000036"
RI_NAME = "VM_RI_03-01-2025_3yr"
ORDER_NAME = "Reserved VM Instance, Standard_D4s_v3, West Europe, 3 Years"


def _row(**kw) -> dict:
    base = {c: "" for c in COLUMNS}
    base.update({
        "InvoiceSectionName": "Platform", "AccountName": "platform@contoso.example", "SubscriptionId": SUB,
        "SubscriptionName": "contoso-app", "BillingAccountId": "7700123",
        "BillingAccountName": "Contoso enrollment", "BillingCurrencyCode": "USD",
        "BillingPeriodStartDate": "2025-03-01", "BillingPeriodEndDate": "2025-03-31",
        "BillingProfileId": "7700123", "BillingProfileName": "Contoso enrollment",
        "PublisherType": "Azure", "PublisherName": "Microsoft", "ChargeType": "Usage",
        "Frequency": "UsageBased", "PricingModel": "OnDemand", "InvoiceId": "G098765432",
    })
    base.update(kw)
    return base


def _vm_usage(qty: str, cost: str, info: str) -> dict:
    return _row(Date="2025-03-10", ProductName="Virtual Machines DSv3 Series - D4s v3 - EU West",
                MeterCategory="Virtual Machines", MeterSubCategory="DSv3 Series",
                MeterId="b1c2d3e4-0001-0000-0000-000000000001", MeterName="D4s v3", MeterRegion="EU West",
                UnitOfMeasure="1 Hour", Quantity=qty, CostInBillingCurrency=cost, ResourceId=VM,
                ResourceGroup="rg-app", ResourceLocation="westeurope", ResourceName="vm-app-01",
                Tags='"team": "app"', ReservationId=RI, ReservationName=RI_NAME, Term="36",
                ProductOrderId=ORDER, ProductOrderName=ORDER_NAME, PricingModel="Reservation",
                PayGPrice="0.192", UnitPrice="0", AdditionalInfo=info)


def _storage(qty: str, cost: str, info: str) -> dict:
    return _row(Date="2025-03-12", ProductName="Storage - Hot LRS Data Stored", MeterCategory="Storage",
                MeterSubCategory="Tiered Block Blob", MeterId="b1c2d3e4-0002-0000-0000-000000000002",
                MeterName="Hot LRS Data Stored", MeterRegion="EU West", UnitOfMeasure="1 GB/Month",
                Quantity=qty, CostInBillingCurrency=cost, ResourceId=SA, ResourceGroup="rg-app",
                ResourceLocation="westeurope", ResourceName="stapp01", Tags='"team": "app"',
                PayGPrice="0.02", UnitPrice="0.02", EffectivePrice="0.02", AdditionalInfo=info)


def rows() -> tuple[list[dict], list[dict]]:
    """(actual-cost rows, amortized-cost rows)."""
    purchase = _row(Date="2025-03-01", ProductName="Reserved VM Instance, Standard_D4s_v3, West Europe",
                    UnitOfMeasure="1 Each", Quantity="1", CostInBillingCurrency="3600",
                    ReservationId=RI, ReservationName=RI_NAME, Term="36", ProductOrderId=ORDER,
                    ProductOrderName=ORDER_NAME, ChargeType="Purchase", Frequency="OneTime",
                    PricingModel="Reservation", ServicePeriodStartDate="2025-03-01",
                    ServicePeriodEndDate="2028-02-29")
    marketplace = _row(Date="2025-03-05", ProductName="Contoso Backup - Standard", UnitOfMeasure="1 Month",
                       Quantity="1", CostInBillingCurrency="49.99", ChargeType="Purchase",
                       Frequency="Recurring", PublisherType="Marketplace", PublisherName="Contoso Software")
    storage = [_storage("10", "0.2", '{"Tier": "a"}'), _storage("20", "0.4", '{"Tier": "b"}'),
               _storage("30", "0.6", '{"Tier": "c"}')]
    actual = ([purchase]
              + [_vm_usage(q, "0", info) for q, info in (("8", '{"Core": 1}'), ("8", '{"Core": 2}'),
                                                          ("6", '{"Core": 3}'))]
              + storage + [marketplace])
    bandwidth = _row(Date="2025-03-15", ProductName="Bandwidth - Data Transfer Out - Zone 1",
                     MeterCategory="Bandwidth", MeterId="b1c2d3e4-0003-0000-0000-000000000003",
                     MeterName="Standard Data Transfer Out", MeterRegion="Zone 1", UnitOfMeasure="1 GB",
                     Quantity="14.3678", CostInBillingCurrency="1.25", ResourceId=VM, ResourceGroup="rg-app",
                     ResourceLocation="westeurope", ResourceName="vm-app-01", Tags='"team": "app"',
                     PayGPrice="0.087", UnitPrice="0.087")
    # 3600 over 36 months: 100.00 in March, 0.10 an hour of the 22 hours used, the rest unused
    unused = _row(Date="2025-03-31", ProductName="Reserved VM Instance, Standard_D4s_v3, West Europe",
                  MeterCategory="Virtual Machines", MeterId="b1c2d3e4-0001-0000-0000-000000000001",
                  MeterName="D4s v3", UnitOfMeasure="1 Hour", Quantity="722", CostInBillingCurrency="97.8",
                  ReservationId=RI, ReservationName=RI_NAME, Term="36", ProductOrderId=ORDER,
                  ProductOrderName=ORDER_NAME, ChargeType="UnusedReservation", PricingModel="Reservation")
    amortized = ([_vm_usage(q, c, info) for q, c, info in (("8", "0.8", '{"Core": 1}'),
                                                           ("8", "0.8", '{"Core": 2}'),
                                                           ("6", "0.6", '{"Core": 3}'))]
                 + storage + [marketplace, bandwidth, unused])
    return actual, amortized


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for kind, data in zip(("actual", "amortized"), rows()):
        with (HERE / f"ea-3yr-{kind}-cost-2025-03.csv").open("w", newline="") as fh:
            w = csv.DictWriter(fh, COLUMNS)
            w.writeheader()
            w.writerows(data)


if __name__ == "__main__":
    main()
