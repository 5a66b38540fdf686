"""The kinds of Azure export, by the format names the converters and their checks share."""

from __future__ import annotations

ACTUAL, AMORTIZED, PAIR = "azure-actual", "azure-amortized", "azure"
#: the legacy (pay-as-you-go, "v1") usage export: PreTaxCost, UsageDateTime, SubscriptionGuid, …
LEGACY = "azure-usage-legacy"
#: a cost-details file whose name and rows do not tell actual from amortized (loaded as actual)
UNKNOWN = "azure-unknown"
