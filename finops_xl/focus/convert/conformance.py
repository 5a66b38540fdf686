"""What the FinOps Foundation's focus-validator is asked, and which of its FOCUS 1.2 rules the
converted data is known to fail, per provider, with the reason.

The validator (``focus-validator`` 2.2.1, rule model ``model-1.2.0.1.json`` bundled with it) only
runs a conditional rule when the data's provider is declared to support the feature the rule is
about (its *applicability criteria*). Each provider below declares every criterion the provider's
billing data supports, so those rules run; the criteria left out are listed with the reason.

Exceptions are rule ids whose failure is expected, each with its reason. docs/focus-conformance.md
explains them for readers; the conformance test runs the validator on every converter's output and
fails on any failed rule that is not listed here, and on any listed rule that no longer fails.
"""

from __future__ import annotations

VALIDATOR = "focus-validator==2.2.1"
FOCUS_VERSION = "1.2"

_ALL_CRITERIA = (
    "ACCOUNT_NAMING_SUPPORTED", "AVAILABILITY_ZONE_SUPPORTED", "CAPACITY_RESERVATION_SUPPORTED",
    "COMMITMENT_DISCOUNT_SUPPORTED", "MULTIPLE_PRICING_CATEGORIES_SUPPORTED",
    "MULTIPLE_SUB_ACCOUNT_TYPES_SUPPORTED", "MULTIPLE_BILLING_ACCOUNT_TYPES_SUPPORTED",
    "NEGOTIATED_PRICING_SUPPORTED", "PUBLIC_PRICE_LIST_SUPPORTED", "USAGE_MEASUREMENT_SUPPORTED",
    "UNIT_PRICING_SUPPORTED", "SUB_ACCOUNT_SUPPORTED",
    "BILLING_BASED_ON_PROVISIONED_RESOURCES_SUPPORTED", "RESOURCE_TYPE_ASSIGNMENT_SUPPORTED",
    "PRICING_BILLING_CURRENCY_DIFFERENCES_SUPPORTED", "VIRTUAL_CURRENCY_SUPPORTED",
    "REGION_SUPPORTED", "TAGGING_SUPPORTED",
)

#: provider → applicability criteria NOT declared, with the reason (all others are declared).
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    "AWS": {
        "MULTIPLE_SUB_ACCOUNT_TYPES_SUPPORTED": "every AWS sub account is an account",
        "MULTIPLE_BILLING_ACCOUNT_TYPES_SUPPORTED": "the billing account is always the payer account",
        "PRICING_BILLING_CURRENCY_DIFFERENCES_SUPPORTED":
            "the CUR states cost in one currency (lineItem/CurrencyCode); prices are not given in "
            "another currency",
        "VIRTUAL_CURRENCY_SUPPORTED": "AWS does not price in a virtual currency",
    },
    "Microsoft": {
        "MULTIPLE_SUB_ACCOUNT_TYPES_SUPPORTED": "every sub account in cost details is a subscription",
        "VIRTUAL_CURRENCY_SUPPORTED": "Azure does not price in a virtual currency",
    },
    "Google Cloud": {
        "MULTIPLE_SUB_ACCOUNT_TYPES_SUPPORTED": "every sub account is a project",
        "MULTIPLE_BILLING_ACCOUNT_TYPES_SUPPORTED": "the billing account is the only billing scope",
        "PRICING_BILLING_CURRENCY_DIFFERENCES_SUPPORTED":
            "the export states cost in the billing currency only",
        "VIRTUAL_CURRENCY_SUPPORTED": "Google Cloud does not price in a virtual currency",
    },
    "Oracle": {
        "COMMITMENT_DISCOUNT_SUPPORTED":
            "OCI cost reports carry no commitment discounts: a Universal Credits subscription is drawn "
            "down as used, and its lines are ordinary usage",
        "CAPACITY_RESERVATION_SUPPORTED": "the cost report does not identify capacity reservations",
        "MULTIPLE_PRICING_CATEGORIES_SUPPORTED": "every line of a cost report is priced at the standard rate",
        "MULTIPLE_SUB_ACCOUNT_TYPES_SUPPORTED": "every sub account is a compartment",
        "MULTIPLE_BILLING_ACCOUNT_TYPES_SUPPORTED": "the billing account is always the tenancy",
        "PUBLIC_PRICE_LIST_SUPPORTED": "the cost report states the price paid, not the list price",
        "PRICING_BILLING_CURRENCY_DIFFERENCES_SUPPORTED":
            "the report states cost and price in one currency (cost/currencyCode)",
        "VIRTUAL_CURRENCY_SUPPORTED": "OCI does not price in a virtual currency",
    },
}


def criteria(provider: str) -> tuple[str, ...]:
    """Applicability criteria declared for ``provider`` (see :data:`NOT_APPLICABLE`)."""
    skip = NOT_APPLICABLE[provider]
    return tuple(c for c in _ALL_CRITERIA if c not in skip)


_MODEL_CONDITION = (
    "the bundled rule model states this rule's condition in a form the validator does not apply "
    "(CommitmentDiscountStatus-C-004-C tests 'CommitmentDiscountId is null' instead of 'not null and "
    "ChargeCategory Usage'; CapacityReservationStatus-C-004-C nests its two conditions under a bare "
    "'AND' key), so it demands a status on rows the spec exempts. The data meets the spec's text: "
    "the status is set exactly on Usage rows that carry a commitment (or capacity reservation)"
)
_INVOICE_PAIR = (
    "InvoiceId-C-004-C ('null when not invoiced') and InvoiceId-C-005-C ('not null when invoiced') "
    "are both encoded without their condition, so every dataset fails one of the two: one that "
    "carries invoice ids fails C-004, one without them fails C-005"
)

_COMMON = {
    "CommitmentDiscountStatus-C-004-C": _MODEL_CONDITION,
    "CommitmentDiscountStatus-C-002-C": "composite of CommitmentDiscountStatus-C-004-C (see there)",
    "CommitmentDiscountStatus-C-000-C": "composite of CommitmentDiscountStatus-C-002-C (see there)",
}
_CAPACITY = {
    "CapacityReservationStatus-C-004-C": _MODEL_CONDITION,
    "CapacityReservationStatus-C-002-C": "composite of CapacityReservationStatus-C-004-C (see there)",
    "CapacityReservationStatus-C-000-C": "composite of CapacityReservationStatus-C-002-C (see there)",
}

#: provider → {rule id: reason its failure is expected}.
EXCEPTIONS: dict[str, dict[str, str]] = {
    "AWS": {
        **_COMMON, **_CAPACITY,
        "InvoiceId-C-004-C": _INVOICE_PAIR + "; the CUR carries bill/InvoiceId",
    },
    "Microsoft": {
        **_COMMON, **_CAPACITY,
        "InvoiceId-C-004-C": _INVOICE_PAIR + "; cost details carry InvoiceId",
        "EffectiveCost-C-005-C": (
            "the spec requires EffectiveCost 0 on a Purchase 'intended to cover future eligible "
            "charges' (a commitment); the rule model checks every Purchase row. A Marketplace purchase "
            "is both billed and consumed in its month, so Azure's amortized cost (EffectiveCost) "
            "keeps it; commitment purchases do have EffectiveCost 0"),
        "EffectiveCost-C-000-M": "composite of EffectiveCost-C-005-C (see there)",
    },
    "Google Cloud": {
        **_COMMON, **_CAPACITY,
        "InvoiceId-C-005-C": _INVOICE_PAIR + "; the BigQuery export has the invoice month but no invoice "
                             "number, so InvoiceId is null",
        "EffectiveCost-C-005-C": (
            "committed-use-discount fees are billed monthly for the month they cover and are not "
            "prepayments for future charges, so EffectiveCost = BilledCost on the fee rows (Google's "
            "amortized cost is its billed cost); the rule model checks every Purchase row"),
        "EffectiveCost-C-000-M": "composite of EffectiveCost-C-005-C (see there)",
    },
    "Oracle": {
        "InvoiceId-C-005-C": _INVOICE_PAIR + "; OCI's cost and FOCUS reports carry no invoice number, so "
                             "InvoiceId is null",
    },
}
