"""FOCUS (FinOps Open Cost and Usage Specification) column catalogue, versions 1.0 - 1.3.

Pure data plus a few lookup helpers: no I/O, no third-party imports. The ingest code uses it to
recognise a billing export's FOCUS version from its header, to type columns for storage
(:data:`SQL_TYPES`) and to validate / normalise the closed enumerations (their values are in
``allowed_values.py``; each :class:`FocusColumn` carries its own).

Scope
-----
Only the *Cost and Usage* dataset (the single FOCUS dataset up to 1.2, named "CostAndUsage" from
1.3 on). The separate *Contract Commitment* dataset that FOCUS 1.3 introduced
(ContractCommitmentId, ContractCommitmentCost, ...) is not described here.

Sources (github.com/FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec unless stated otherwise)
------------------------------------------------------------------------------------
* ``CHANGELOG.md`` sections v1.0 (June 2024), v1.1 (Nov 2024), v1.2 (June 2025), v1.3 (Dec 2025)
  and its "Columns History" table: which columns each version added, renamed or deprecated, and
  the 1.0 PricingCategory value renames ("On-Demand" -> "Standard", "Commitment-Based" ->
  "Committed").
* ``specification/columns/*.md`` (v1.0 - v1.2 layout; e.g. ``servicecategory.md``,
  ``pricingcategory.md``): the "Content Constraints" table of every column (feature level, allows
  nulls, data type, value format) and its allowed-values table.
* ``specification/datasets/cost_and_usage/columns/*.md`` (v1.3 layout; a concatenation of all
  1.3 Cost and Usage column files was used): the same tables for 1.3, including the
  82-value ServiceSubcategory table ("Introduced (version) 1.1") and the "Provider - DEPRECATED"
  / "Publisher - DEPRECATED" entries.
* ``specification/requirements_model/releases/1.3/model_rules/datasets/cost_and_usage/
  costandusage.json``: the machine-readable 1.3 presence rules (CAU-CostAndUsage-D-003 ... D-076),
  which confirm the 65-column 1.3 set and that ProviderName/PublisherName are still MUST-present
  (status "Deprecated") in 1.3; ``.../columns/servicesubcategory.json`` for the value list.
* Cross-checks: ``glassity/focus-mcp`` ``resources/specifications/columns.yaml`` (a 1.2 column
  table), FinOps Foundation ``focus_validator``, and the sample files under ``tests/data``
  (FOCUS-Sample-Data ``FOCUS-1.0/focus_sample.csv``; FOCUS_Spec tag v1.2
  ``specification/data/**.csv``).

Notes on how the spec was mapped onto :class:`FocusColumn`
----------------------------------------------------------
* ``introduced`` is clamped to :data:`VERSIONS`: columns that date from 0.5 or 1.0-preview say
  "1.0". Pre-1.0 renames are listed in :data:`PRE_1_0_RENAMED` for reference only.
* Feature levels did not change for any column between 1.0 and 1.3 (checked against the 1.0
  column files, the 1.2 table and the 1.3 files), so ``mandatory`` is "every version since
  ``introduced``" for the Mandatory columns; :data:`FEATURE_LEVELS` keeps the level itself.
* ``nullable`` follows the "Allows nulls" row of the Content Constraints table. Two 1.2 columns
  have a table that says ``True`` while the requirement text says "MUST NOT be null"
  (PricingCurrency, PricingCurrencyEffectiveCost); the table value (``True``) is used so that
  conformant files are never rejected.
* No closed value set changed between 1.0 and 1.3 (the CHANGELOG lists no value changes after
  1.0), so each ``allowed_values`` tuple is trivially the union over the four versions. Should a
  later version add values, append them to the tuple (union) and say so in a comment.
* Column order is the spec's order, which is alphabetical by column ID ("The Columns are
  presented in Alphabetical order", ``specification/columns/columns.mdpp``).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable

from finops_xl.focus.allowed_values import (
    CAPACITY_RESERVATION_STATUS,
    CHARGE_CATEGORY,
    CHARGE_CLASS,
    CHARGE_FREQUENCY,
    COMMITMENT_DISCOUNT_CATEGORY,
    COMMITMENT_DISCOUNT_STATUS,
    PRICING_CATEGORY,
    SERVICE_CATEGORY,
    SERVICE_SUBCATEGORIES,
    SERVICE_SUBCATEGORY,
    SERVICE_SUBCATEGORY_PARENT,
)

__all__ = [
    "VERSIONS",
    "CANONICAL_VERSION",
    "Kind",
    "SQL_TYPES",
    "FocusColumn",
    "COLUMNS",
    "column",
    "columns",
    "mandatory_columns",
    "canonical_columns",
    "canonical_name",
    "detect_version",
    "feature_level",
    "DISTINGUISHING_COLUMNS",
    "CORE_COLUMNS",
    "MIN_FOCUS_COLUMNS",
    "MIN_CORE_COLUMNS",
    "FEATURE_LEVELS",
    "DEPRECATED",
    "RENAMED",
    "LEGACY_FILL",
    "PRE_1_0_RENAMED",
    "VALUE_ALIASES",
    "SERVICE_SUBCATEGORIES",
    "SERVICE_SUBCATEGORY_PARENT",
]

VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2", "1.3")
CANONICAL_VERSION = "1.2"


class Kind(enum.Enum):
    """Storage kind of a FOCUS column."""

    MONEY = "money"
    UNIT_PRICE = "unit_price"
    QUANTITY = "quantity"
    DATETIME = "datetime"
    CURRENCY = "currency"
    JSON = "json"
    STRING = "string"


SQL_TYPES: dict[Kind, str] = {
    Kind.MONEY: "DECIMAL(38,12)",
    Kind.UNIT_PRICE: "DECIMAL(38,12)",
    Kind.QUANTITY: "DECIMAL(38,12)",
    Kind.DATETIME: "TIMESTAMP",
    Kind.CURRENCY: "VARCHAR",
    Kind.JSON: "JSON",
    Kind.STRING: "VARCHAR",
}


@dataclasses.dataclass(frozen=True)
class FocusColumn:
    name: str  # exactly as the spec spells it (column ID)
    kind: Kind
    introduced: str  # first version in VERSIONS defining it
    removed: str | None  # first version no longer defining it (None if still there)
    mandatory: frozenset[str]  # versions in which its feature level is Mandatory
    allowed_values: tuple[str, ...] | None  # closed value set, canonical spelling (None = free text)
    nullable: bool  # may be null per spec ("Allows nulls" in the Content Constraints table)
    currency_iso_only: bool = False  # CURRENCY kind: must be ISO 4217
    description: str = ""  # one line, from the spec's "Description" section


# ---------------------------------------------------------------------------------------------
# The column table
# ---------------------------------------------------------------------------------------------

_M, _C, _R = "Mandatory", "Conditional", "Recommended"

# (name, kind, introduced, feature level, allowed values, nullable, currency_iso_only, description)
_TABLE: tuple[tuple[str, Kind, str, str, tuple[str, ...] | None, bool, bool, str], ...] = (
    ("AllocatedMethodDetails", Kind.JSON, "1.3", _R, None, True, False,
     "Properties describing how cost was split in data generator-calculated split cost allocation."),
    ("AllocatedMethodId", Kind.STRING, "1.3", _C, None, True, False,
     "Identifier of the method used for data generator-calculated split cost allocation."),
    ("AllocatedResourceId", Kind.STRING, "1.3", _C, None, True, False,
     "Identifier of the object cost is allocated to in data generator-calculated split cost allocation."),
    ("AllocatedResourceName", Kind.STRING, "1.3", _C, None, True, False,
     "Display name of the object cost is allocated to in data generator-calculated split cost allocation."),
    ("AllocatedTags", Kind.JSON, "1.3", _C, None, True, False,
     "Tags applicable to allocated charges in data generator-calculated split cost allocation."),
    ("AvailabilityZone", Kind.STRING, "1.0", _R, None, True, False,
     "Provider-assigned identifier for a physically separated, isolated area within a region."),
    ("BilledCost", Kind.MONEY, "1.0", _M, None, False, False,
     "Charge serving as the basis for invoicing, after discounts, excluding amortization of upfront charges."),
    ("BillingAccountId", Kind.STRING, "1.0", _M, None, False, False,
     "Identifier assigned to a billing account by the invoice issuer."),
    ("BillingAccountName", Kind.STRING, "1.0", _M, None, True, False,
     "Display name assigned to a billing account."),
    # Free text (readable display value), not an enumeration.
    ("BillingAccountType", Kind.STRING, "1.2", _C, None, False, False,
     "Invoice-issuer-assigned name identifying the type of billing account."),
    ("BillingCurrency", Kind.CURRENCY, "1.0", _M, None, False, True,
     "Currency a charge was billed in (ISO 4217 national currency)."),
    ("BillingPeriodEnd", Kind.DATETIME, "1.0", _M, None, False, False,
     "Exclusive end bound of a billing period."),
    ("BillingPeriodStart", Kind.DATETIME, "1.0", _M, None, False, False,
     "Inclusive start bound of a billing period."),
    ("CapacityReservationId", Kind.STRING, "1.1", _C, None, True, False,
     "Identifier assigned to a capacity reservation by the service provider."),
    ("CapacityReservationStatus", Kind.STRING, "1.1", _C, CAPACITY_RESERVATION_STATUS, True, False,
     "Whether the charge consumes a capacity reservation or is its unused portion."),
    ("ChargeCategory", Kind.STRING, "1.0", _M, CHARGE_CATEGORY, False, False,
     "Highest-level classification of a charge based on the nature of how it is billed."),
    # Mandatory but nullable: null unless the row corrects a previously invoiced billing period.
    ("ChargeClass", Kind.STRING, "1.0", _M, CHARGE_CLASS, True, False,
     "Whether the row is a correction to a previously invoiced billing period."),
    ("ChargeDescription", Kind.STRING, "1.0", _M, None, True, False,
     "Self-contained summary of the charge's purpose and price."),
    ("ChargeFrequency", Kind.STRING, "1.0", _R, CHARGE_FREQUENCY, False, False,
     "How often a charge will occur."),
    ("ChargePeriodEnd", Kind.DATETIME, "1.0", _M, None, False, False,
     "Exclusive end bound of a charge period."),
    ("ChargePeriodStart", Kind.DATETIME, "1.0", _M, None, False, False,
     "Inclusive start bound of a charge period."),
    ("CommitmentDiscountCategory", Kind.STRING, "1.0", _C, COMMITMENT_DISCOUNT_CATEGORY, True, False,
     "Whether the commitment discount is based on usage quantity or cost (spend)."),
    ("CommitmentDiscountId", Kind.STRING, "1.0", _C, None, True, False,
     "Identifier assigned to a commitment discount by the service provider."),
    ("CommitmentDiscountName", Kind.STRING, "1.0", _C, None, True, False,
     "Display name assigned to a commitment discount."),
    ("CommitmentDiscountQuantity", Kind.QUANTITY, "1.1", _C, None, True, False,
     "Amount of a commitment discount purchased or accounted for, in CommitmentDiscountUnit."),
    ("CommitmentDiscountStatus", Kind.STRING, "1.0", _C, COMMITMENT_DISCOUNT_STATUS, True, False,
     "Whether the charge consumes a commitment discount or is the unused portion of the commitment."),
    # Free text (provider-assigned, e.g. "Savings Plan", "Reservation"), not an enumeration.
    ("CommitmentDiscountType", Kind.STRING, "1.0", _C, None, True, False,
     "Service-provider-assigned identifier for the type of commitment discount applied to the row."),
    ("CommitmentDiscountUnit", Kind.STRING, "1.1", _C, None, True, False,
     "Unit in which the provider measures CommitmentDiscountQuantity."),
    ("ConsumedQuantity", Kind.QUANTITY, "1.0", _C, None, True, False,
     "Volume of a metered SKU used, in ConsumedUnit."),
    ("ConsumedUnit", Kind.STRING, "1.0", _C, None, True, False,
     "Provider-specified unit in which usage of a metered SKU is measured."),
    ("ContractApplied", Kind.JSON, "1.3", _C, None, True, False,
     "Properties associating a charge with one or more contract commitments."),
    # Not nullable per spec, but observed NULL in the 7 Oracle rows of the FOCUS 1.0 sample.
    ("ContractedCost", Kind.MONEY, "1.0", _M, None, False, False,
     "ContractedUnitPrice multiplied by PricingQuantity."),
    ("ContractedUnitPrice", Kind.UNIT_PRICE, "1.0", _C, None, True, False,
     "Agreed unit price per PricingUnit including negotiated discounts, excluding commitment discounts."),
    ("EffectiveCost", Kind.MONEY, "1.0", _M, None, False, False,
     "Amortized cost of the charge after all discounts and the applicable share of prepaid purchases."),
    # Mandatory but nullable (e.g. professional services, taxes).
    ("HostProviderName", Kind.STRING, "1.3", _M, None, True, False,
     "Name of the entity providing the infrastructure the service provider's services run on."),
    ("InvoiceId", Kind.STRING, "1.2", _R, None, True, False,
     "Invoice-issuer-assigned identifier of the invoice covering the charge."),
    ("InvoiceIssuerName", Kind.STRING, "1.0", _M, None, False, False,
     "Name of the entity responsible for invoicing for the resources or services consumed."),
    ("ListCost", Kind.MONEY, "1.0", _M, None, False, False,
     "ListUnitPrice multiplied by PricingQuantity."),
    ("ListUnitPrice", Kind.UNIT_PRICE, "1.0", _C, None, True, False,
     "Provider-published unit price per PricingUnit, exclusive of any discounts."),
    ("PricingCategory", Kind.STRING, "1.0", _C, PRICING_CATEGORY, True, False,
     "Pricing model used for a charge at the time of use or purchase."),
    # National or *virtual* currency (e.g. "Token" in the 1.2 SaaS examples); the Content
    # Constraints table says nullable although the requirement text says MUST NOT be null.
    ("PricingCurrency", Kind.CURRENCY, "1.2", _C, None, True, False,
     "National or virtual currency denomination a resource or service was priced in."),
    ("PricingCurrencyContractedUnitPrice", Kind.UNIT_PRICE, "1.2", _C, None, True, False,
     "ContractedUnitPrice expressed in PricingCurrency."),
    # Table says nullable; requirement text says MUST NOT be null (see module docstring).
    ("PricingCurrencyEffectiveCost", Kind.MONEY, "1.2", _C, None, True, False,
     "EffectiveCost expressed in PricingCurrency."),
    ("PricingCurrencyListUnitPrice", Kind.UNIT_PRICE, "1.2", _C, None, True, False,
     "ListUnitPrice expressed in PricingCurrency."),
    # Mandatory but nullable (null for taxes / rows without a SKU price).
    ("PricingQuantity", Kind.QUANTITY, "1.0", _M, None, True, False,
     "Volume of a SKU used or purchased, in PricingUnit."),
    ("PricingUnit", Kind.STRING, "1.0", _M, None, True, False,
     "Provider-specified unit for determining unit prices."),
    # Deprecated in 1.3 ("Replaced by ServiceProviderName") but still MUST be present in 1.3.
    ("ProviderName", Kind.STRING, "1.0", _M, None, False, False,
     "Name of the entity that made the resources or services available for purchase (deprecated 1.3)."),
    # Deprecated in 1.3 without a named successor; still MUST be present in 1.3.
    ("PublisherName", Kind.STRING, "1.0", _M, None, False, False,
     "Name of the entity that produced the resources or services purchased (deprecated 1.3)."),
    ("RegionId", Kind.STRING, "1.0", _C, None, True, False,
     "Provider-assigned identifier of the geographic area where a resource or service is provided."),
    ("RegionName", Kind.STRING, "1.0", _C, None, True, False,
     "Name of the geographic area where a resource or service is provided."),
    ("ResourceId", Kind.STRING, "1.0", _C, None, True, False,
     "Identifier assigned to a resource by the provider."),
    ("ResourceName", Kind.STRING, "1.0", _C, None, True, False,
     "Display name assigned to a resource."),
    ("ResourceType", Kind.STRING, "1.0", _C, None, True, False,
     "Kind of resource the charge applies to."),
    ("ServiceCategory", Kind.STRING, "1.0", _M, SERVICE_CATEGORY, False, False,
     "Highest-level classification of a service based on its core function."),
    ("ServiceName", Kind.STRING, "1.0", _M, None, False, False,
     "Offering that can be purchased from a provider."),
    ("ServiceProviderName", Kind.STRING, "1.3", _M, None, False, False,
     "Name of the entity that made the resources or services available for purchase or consumption."),
    ("ServiceSubcategory", Kind.STRING, "1.1", _R, SERVICE_SUBCATEGORY, False, False,
     "Secondary classification of the ServiceCategory based on the service's core function."),
    ("SkuId", Kind.STRING, "1.0", _C, None, True, False,
     "Provider-specified unique identifier of a SKU."),
    ("SkuMeter", Kind.STRING, "1.1", _C, None, True, False,
     "Functionality being metered or measured by a SKU in a charge."),
    ("SkuPriceDetails", Kind.JSON, "1.1", _C, None, True, False,
     "Key-value properties of the SKU price identified by SkuPriceId."),
    ("SkuPriceId", Kind.STRING, "1.0", _C, None, True, False,
     "Provider-specified unique identifier of a SKU price."),
    ("SubAccountId", Kind.STRING, "1.0", _C, None, True, False,
     "Identifier of a grouping of resources or services, often used to manage access or cost."),
    ("SubAccountName", Kind.STRING, "1.0", _C, None, True, False,
     "Name of a grouping of resources or services, often used to manage access or cost."),
    # Free text (readable display value), not an enumeration.
    ("SubAccountType", Kind.STRING, "1.2", _C, None, True, False,
     "Provider-assigned name identifying the type of sub account."),
    ("Tags", Kind.JSON, "1.0", _C, None, True, False,
     "Finalized user- and provider-defined tags of the charge's tag sources (JSON object)."),
)


def _versions_from(introduced: str) -> tuple[str, ...]:
    return VERSIONS[VERSIONS.index(introduced):]


def _build() -> tuple[FocusColumn, ...]:
    out = []
    for name, kind, introduced, level, allowed, nullable, iso, desc in _TABLE:
        out.append(
            FocusColumn(
                name=name,
                kind=kind,
                introduced=introduced,
                removed=None,  # no Cost and Usage column was removed between 1.0 and 1.3
                mandatory=frozenset(_versions_from(introduced)) if level == _M else frozenset(),
                allowed_values=allowed,
                nullable=nullable,
                currency_iso_only=iso,
                description=desc,
            )
        )
    return tuple(out)


#: Every Cost and Usage column of every version 1.0 - 1.3, in the spec's (alphabetical) order.
COLUMNS: tuple[FocusColumn, ...] = _build()

#: Feature level of each column ("Mandatory", "Conditional" or "Recommended"); the same in every
#: version that defines the column.
FEATURE_LEVELS: dict[str, str] = {row[0]: row[3] for row in _TABLE}

#: Columns the spec marks as deprecated -> version that deprecated them. Deprecated columns are
#: still defined (and still Mandatory) in that version; "will be removed in a future release".
DEPRECATED: dict[str, str] = {"ProviderName": "1.3", "PublisherName": "1.3"}

#: Old/deprecated column -> its successor, where a version in VERSIONS replaced a column.
#: FOCUS 1.3: ProviderName is "Replaced by ServiceProviderName". PublisherName is deprecated
#: without a named successor (see LEGACY_FILL). HostProviderName is new, not a rename.
RENAMED: dict[str, str] = {"ProviderName": "ServiceProviderName"}

#: How to fill a deprecated canonical (1.2) column from 1.3 data when a file omits it.
#: A conforming 1.3 file still carries both deprecated columns; use their own values if present.
#: * ProviderName  <- ServiceProviderName: the spec's stated replacement.
#: * PublisherName <- ServiceProviderName: best available approximation. 1.2 PublisherName was
#:   "the entity that produced the resources or services"; 1.3 ServiceProviderName is that
#:   entity (in marketplace purchases it is the seller, not the marketplace operator). In 1.2
#:   marketplace rows ProviderName was the marketplace operator, so the two 1.3-derived values
#:   can differ from what a 1.2 exporter would have written for such rows.
LEGACY_FILL: dict[str, str] = {
    "ProviderName": "ServiceProviderName",
    "PublisherName": "ServiceProviderName",
}

#: Renames that happened *before* 1.0 (CHANGELOG "Columns History"); for reading 0.5 /
#: 1.0-preview exports only. Not part of RENAMED because those versions are outside VERSIONS.
PRE_1_0_RENAMED: dict[str, str] = {
    "AmortizedCost": "EffectiveCost",  # 0.5 -> 1.0-preview
    "ChargeType": "ChargeCategory",  # 0.5 -> 1.0-preview
    "UsageQuantity": "ConsumedQuantity",  # 1.0-preview -> 1.0
    "UsageUnit": "ConsumedUnit",  # 1.0-preview -> 1.0
    "Region": "RegionId",  # 0.5/1.0-preview -> 1.0
}

#: column -> {known real-world deviation (lower-case, stripped): canonical value}.
#: The ingest matches case-insensitively already; look values up here after lower-casing.
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "ChargeFrequency": {
        # Case-only deviation, kept explicit: 7 Oracle rows of the FinOps Foundation
        # FOCUS-Sample-Data FOCUS-1.0/focus_sample.csv say "Usage-based".
        "usage-based": "Usage-Based",
    },
    "PricingCategory": {
        # FOCUS 1.0-preview values renamed in 1.0 (FOCUS_Spec CHANGELOG.md, v1.0: 'Changed
        # "On-Demand" to "Standard"', 'Changed "Commitment-Based" to "Committed"').
        "on-demand": "Standard",
        "commitment-based": "Committed",
    },
    "ServiceCategory": {
        # FOCUS_Spec v1.2 specification/data/saas_examples/spend_agreements/
        # saas_spend_agreements_{a1,a2,b1,b2}.csv use "Database" (canonical "Databases").
        "database": "Databases",
    },
    "ServiceSubcategory": {
        # Same v1.2 spend-agreement example files use "No-SQL DB" (canonical "NoSQL Databases").
        "no-sql db": "NoSQL Databases",
    },
}

#: Columns whose presence in a header proves at least that version: the columns introduced in it.
#: 1.0 has no entry (it is the baseline). Computed from COLUMNS:
#:   1.1: CapacityReservationId, CapacityReservationStatus, CommitmentDiscountQuantity,
#:        CommitmentDiscountUnit, ServiceSubcategory, SkuMeter, SkuPriceDetails
#:   1.2: BillingAccountType, InvoiceId, PricingCurrency, PricingCurrencyContractedUnitPrice,
#:        PricingCurrencyEffectiveCost, PricingCurrencyListUnitPrice, SubAccountType
#:   1.3: AllocatedMethodDetails, AllocatedMethodId, AllocatedResourceId, AllocatedResourceName,
#:        AllocatedTags, ContractApplied, HostProviderName, ServiceProviderName
#: Since 1.1-1.3 added only Conditional/Recommended columns (except 1.3's two provider names), a
#: file that omits all of a version's new columns is detected as the previous version.
DISTINGUISHING_COLUMNS: dict[str, frozenset[str]] = {
    v: frozenset(c.name for c in COLUMNS if c.introduced == v) for v in VERSIONS[1:]
}

#: Columns that make a header look like FOCUS cost data (periods, costs, currency, category).
CORE_COLUMNS: frozenset[str] = frozenset(
    {
        "BilledCost",
        "EffectiveCost",
        "ListCost",
        "ContractedCost",
        "BillingCurrency",
        "BillingPeriodStart",
        "BillingPeriodEnd",
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "ChargeCategory",
    }
)
#: detect_version() needs at least this many recognised FOCUS column names ...
MIN_FOCUS_COLUMNS = 5
#: ... of which at least this many from CORE_COLUMNS. The smallest real file seen (a FOCUS 1.2
#: commitment-discount example, 13 columns) has 7 core columns.
MIN_CORE_COLUMNS = 3

_BY_NAME: dict[str, FocusColumn] = {c.name: c for c in COLUMNS}
_BY_FOLDED: dict[str, str] = {c.name.casefold(): c.name for c in COLUMNS}


def _check_version(version: str) -> str:
    if version not in VERSIONS:
        raise ValueError(f"unknown FOCUS version {version!r}; known versions: {', '.join(VERSIONS)}")
    return version


def column(name: str) -> FocusColumn:
    """The column with this exact spec name; KeyError if unknown (see canonical_name for headers)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"not a FOCUS column: {name!r}") from None


def columns(version: str) -> tuple[FocusColumn, ...]:
    """Columns defined in ``version``, in spec order. ValueError for an unknown version."""
    _check_version(version)
    i = VERSIONS.index(version)
    return tuple(
        c
        for c in COLUMNS
        if VERSIONS.index(c.introduced) <= i and (c.removed is None or VERSIONS.index(c.removed) > i)
    )


def mandatory_columns(version: str) -> tuple[str, ...]:
    """Names of the columns whose feature level is Mandatory in ``version``, in spec order."""
    return tuple(c.name for c in columns(version) if version in c.mandatory)


def canonical_columns() -> tuple[FocusColumn, ...]:
    """The columns of CANONICAL_VERSION (the store's schema)."""
    return columns(CANONICAL_VERSION)


def feature_level(name: str, version: str) -> str | None:
    """'Mandatory' / 'Conditional' / 'Recommended', or None if the column is not in ``version``."""
    col = column(name)
    if col not in columns(version):
        return None
    return FEATURE_LEVELS[name]


def _clean_header(name: object) -> str:
    s = str(name).replace("\ufeff", "").strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        s = s[1:-1].strip()
    return s


def canonical_name(name: str) -> str | None:
    """Spec spelling of a header name, matched case-insensitively after stripping whitespace,
    a UTF-8 BOM and surrounding quotes; None if it is not a FOCUS column.

    E.g. ``"SkuPriceid"`` (as spelled in the FOCUS 1.2 commitment-discount-flexibility example
    CSVs) -> ``"SkuPriceId"``; ``"\\ufeffBilledCost"`` -> ``"BilledCost"``.
    """
    return _BY_FOLDED.get(_clean_header(name).casefold())


def detect_version(names: Iterable[str]) -> str:
    """FOCUS version of a file from its header.

    Returns the highest version whose distinguishing columns (:data:`DISTINGUISHING_COLUMNS`)
    appear in the header, "1.0" if only 1.0 columns appear. Names are matched like
    :func:`canonical_name`; non-FOCUS columns (``Id``, ``x_Foo``, ...) are ignored. Raises
    ValueError if fewer than :data:`MIN_FOCUS_COLUMNS` FOCUS column names, or fewer than
    :data:`MIN_CORE_COLUMNS` of :data:`CORE_COLUMNS`, are present.

    The result is the *lowest* version consistent with the header: a 1.2 file that carries none
    of the seven 1.2-only (all Conditional/Recommended) columns is reported as "1.1".
    """
    raw = list(names)
    found = {c for c in (canonical_name(n) for n in raw) if c is not None}
    core = found & CORE_COLUMNS
    if len(found) < MIN_FOCUS_COLUMNS or len(core) < MIN_CORE_COLUMNS:
        shown = ", ".join(map(repr, raw[:12])) + (", ..." if len(raw) > 12 else "")
        raise ValueError(
            "header does not look like a FOCUS cost-and-usage export: "
            f"{len(found)} recognised FOCUS column(s) ({', '.join(sorted(found)) or 'none'}), "
            f"{len(core)} of them core; need at least {MIN_FOCUS_COLUMNS} FOCUS columns including "
            f"{MIN_CORE_COLUMNS} of {', '.join(sorted(CORE_COLUMNS))}. Header was: [{shown}]"
        )
    for version in reversed(VERSIONS[1:]):
        if found & DISTINGUISHING_COLUMNS[version]:
            return version
    return VERSIONS[0]
