"""Tests for finops_xl.focus.schema against the FOCUS spec and the real sample files.

Expected values come from the FOCUS specification (FOCUS_Spec CHANGELOG.md / column files) and
from the sample data in tests/data, never from the module under test:

* finops_xl/data/focus-sample-1.0/focus_sample.csv (bundled with the package) - FinOps Foundation
  FOCUS-Sample-Data, FOCUS 1.0 (CC BY 4.0, see its LICENSE.md);
* tests/data/focus-spec-1.2-examples/**.csv - FOCUS_Spec tag v1.2 specification/data examples
  (CC BY 4.0, see its LICENSE.md).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from finops_xl.data import focus_sample_csv
from finops_xl.focus import schema
from finops_xl.focus.schema import Kind

DATA = Path(__file__).parent / "data"
SAMPLE_10 = focus_sample_csv()
EXAMPLES_12 = DATA / "focus-spec-1.2-examples"
ALL_12_FILES = sorted(EXAMPLES_12.rglob("*.csv"))
ALL_FILES = [SAMPLE_10, *ALL_12_FILES]

# Null spellings seen in the files: "NULL" (1.0 sample), "null" (1.2 commitment examples), "".
NULL_LITERALS = {"", "null"}

# --- expectations taken from the spec --------------------------------------------------------

# FOCUS 1.0: the 43 Cost and Usage columns (the 1.0 sample carries exactly these plus "Id").
SPEC_10_COLUMNS = {
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
    "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
    "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory",
    "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountStatus",
    "CommitmentDiscountType", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceIssuerName", "ListCost", "ListUnitPrice",
    "PricingCategory", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
    "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory",
    "ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags",
}
# CHANGELOG.md "Added" lists.
SPEC_ADDED = {
    "1.1": {"CapacityReservationId", "CapacityReservationStatus", "CommitmentDiscountQuantity",
            "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails"},
    "1.2": {"BillingAccountType", "InvoiceId", "PricingCurrency",
            "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
            "PricingCurrencyListUnitPrice", "SubAccountType"},
    "1.3": {"AllocatedMethodDetails", "AllocatedMethodId", "AllocatedResourceId",
            "AllocatedResourceName", "AllocatedTags", "ContractApplied", "HostProviderName",
            "ServiceProviderName"},
}
# Feature level "Mandatory" in the 1.0 column files (unchanged through 1.2).
SPEC_MANDATORY_10 = {
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
    "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory",
    "ServiceName",
}
# 1.3 adds two Mandatory columns; ProviderName/PublisherName are deprecated but still MUST be
# present (requirements model CAU-CostAndUsage-D-038-M / D-021-M, status "Deprecated").
SPEC_MANDATORY_13 = SPEC_MANDATORY_10 | {"HostProviderName", "ServiceProviderName"}

SPEC_ALLOWED = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {"Correction"},
    "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
    "PricingCategory": {"Standard", "Dynamic", "Committed", "Other"},
    "CommitmentDiscountCategory": {"Spend", "Usage"},
    "CommitmentDiscountStatus": {"Used", "Unused"},
    "CapacityReservationStatus": {"Used", "Unused"},
    "ServiceCategory": {
        "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
        "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
        "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
        "Storage", "Web", "Other",
    },
}


# --- helpers ---------------------------------------------------------------------------------

def read_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh))


def read_raw_header(path: Path) -> list[str]:
    """Header as bytes decoded without BOM stripping (keeps quirks such as a leading BOM)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def canonicalise(col: str, value: str) -> str:
    key = value.strip().lower()
    return schema.VALUE_ALIASES.get(col, {}).get(key, value.strip())


# --- data files are present (plain-clone copies with attribution) ----------------------------

def test_data_files_and_attribution_present():
    assert SAMPLE_10.is_file()
    assert len(ALL_12_FILES) == 26
    for p in (DATA / "README.md", SAMPLE_10.parent / "LICENSE.md",
              SAMPLE_10.parent / "README.md", EXAMPLES_12 / "LICENSE.md"):
        assert p.is_file(), p


# --- version detection -----------------------------------------------------------------------

def test_detect_version_focus_10_sample():
    header = read_header(SAMPLE_10)
    assert "Id" in header  # a non-FOCUS extra column that must not disturb detection
    assert schema.detect_version(header) == "1.0"


@pytest.mark.parametrize("path", sorted(EXAMPLES_12.glob("saas_examples/virtual_currency_*.csv")),
                         ids=lambda p: p.name)
def test_detect_version_focus_12_examples(path):
    # These carry the 1.2-only PricingCurrency* columns (and a UTF-8 BOM).
    assert schema.detect_version(read_header(path)) == "1.2"
    assert schema.detect_version(read_raw_header(path)) == "1.2"


@pytest.mark.parametrize("path", [p for p in ALL_12_FILES if "virtual_currency" not in p.name],
                         ids=lambda p: p.name)
def test_detect_version_12_examples_without_12_only_columns(path):
    # The other 1.2 examples use no column introduced in 1.2, but all use a 1.1 one
    # (CommitmentDiscountQuantity/Unit, ServiceSubcategory, ...): their header is exactly
    # what a 1.1 file looks like, so the lowest consistent version is 1.1.
    header = read_header(path)
    assert not set(header) & SPEC_ADDED["1.2"]
    assert schema.detect_version(header) == "1.1"


def test_detect_version_13_columns():
    header = read_header(SAMPLE_10) + ["ServiceProviderName", "HostProviderName"]
    assert schema.detect_version(header) == "1.3"
    header = read_header(EXAMPLES_12 / "saas_examples" / "virtual_currency_pricing_model_a1.csv")
    assert schema.detect_version(header + ["ContractApplied"]) == "1.3"
    assert schema.detect_version(header + ["AllocatedTags", "x_Foo"]) == "1.3"


def test_detect_version_ignores_extra_columns_and_order():
    header = read_header(SAMPLE_10)
    assert schema.detect_version(["x_Foo", "Id", *reversed(header), "x_SkuMeter"]) == "1.0"
    # 1.1 header plus vendor extensions
    h11 = read_header(EXAMPLES_12 / "saas_examples" / "spend_agreements" / "saas_spend_agreements_a1.csv")
    assert schema.detect_version(h11 + ["x_ServiceProviderName", "Id"]) == "1.1"


def test_detect_version_tolerates_header_quirks():
    # "SkuPriceid" as published in the 1.2 commitment-discount-flexibility examples.
    assert "SkuPriceid" in read_header(
        EXAMPLES_12 / "commitment_discount_flexibility"
        / "one_hundred_percent_utilization_without_commitment_discount_flexibility.csv")
    assert schema.canonical_name("SkuPriceid") == "SkuPriceId"
    assert schema.canonical_name("\ufeffBilledCost") == "BilledCost"
    assert schema.canonical_name(' "ChargePeriodStart" ') == "ChargePeriodStart"
    assert schema.canonical_name("Id") is None
    assert schema.detect_version(["billedcost", "CHARGEPERIODSTART", "ChargePeriodEnd",
                                  "BillingCurrency", "serviceName"]) == "1.0"


@pytest.mark.parametrize(
    "header",
    [
        [],
        ["Id", "Name", "Cost", "Date", "Currency"],
        ["x_Foo", "x_Bar", "Id"],
        ["BilledCost", "Id", "x_Foo"],  # too few FOCUS columns
        ["ServiceName", "RegionName", "ResourceId", "ResourceName", "SubAccountId"],  # no core
        ["UsageDate", "Cost", "ServiceName", "MeterCategory", "ResourceGroup", "Tags"],
    ],
)
def test_detect_version_rejects_non_focus(header):
    with pytest.raises(ValueError, match="FOCUS"):
        schema.detect_version(header)


def test_distinguishing_columns_are_the_spec_additions():
    assert {v: set(cols) for v, cols in schema.DISTINGUISHING_COLUMNS.items()} == SPEC_ADDED


# --- column sets per version -----------------------------------------------------------------

def test_column_sets_per_version():
    names = {v: {c.name for c in schema.columns(v)} for v in schema.VERSIONS}
    assert names["1.0"] == SPEC_10_COLUMNS
    assert names["1.1"] == SPEC_10_COLUMNS | SPEC_ADDED["1.1"]
    assert names["1.2"] == names["1.1"] | SPEC_ADDED["1.2"]
    assert names["1.3"] == names["1.2"] | SPEC_ADDED["1.3"]
    assert [len(names[v]) for v in schema.VERSIONS] == [43, 50, 57, 65]
    assert {c.name for c in schema.COLUMNS} == names["1.3"]


def test_10_sample_header_is_exactly_the_10_columns_plus_id():
    assert set(read_header(SAMPLE_10)) == SPEC_10_COLUMNS | {"Id"}


def test_11_full_header_matches_spec_example():
    # The SaaS spend-agreement examples carry the complete 1.1 column set (50 columns).
    header = read_header(EXAMPLES_12 / "saas_examples" / "spend_agreements" / "saas_spend_agreements_b2.csv")
    assert set(header) == {c.name for c in schema.columns("1.1")}


def test_every_header_name_in_the_data_is_known():
    for path in ALL_FILES:
        for name in read_header(path):
            if name == "Id" or name.startswith("x_"):
                continue
            assert schema.canonical_name(name) is not None, (path.name, name)


def test_columns_in_spec_order_and_canonical():
    names = [c.name for c in schema.COLUMNS]
    assert names == sorted(names, key=str.casefold)  # spec presents columns alphabetically
    assert len(set(names)) == len(names)
    for v in schema.VERSIONS:
        sub = [c.name for c in schema.columns(v)]
        assert sub == [n for n in names if n in set(sub)]
    assert schema.CANONICAL_VERSION == "1.2"
    assert schema.canonical_columns() == schema.columns("1.2")


def test_mandatory_columns():
    for v in ("1.0", "1.1", "1.2"):
        assert set(schema.mandatory_columns(v)) == SPEC_MANDATORY_10
    assert set(schema.mandatory_columns("1.3")) == SPEC_MANDATORY_13
    # every mandatory 1.0 column is in the real 1.0 export
    assert set(schema.mandatory_columns("1.0")) <= set(read_header(SAMPLE_10))
    cc = schema.column("ChargeClass")
    assert cc.mandatory == frozenset(schema.VERSIONS) and cc.nullable  # Mandatory but nullable


def test_feature_levels():
    assert schema.feature_level("AvailabilityZone", "1.0") == "Recommended"
    assert schema.feature_level("ChargeFrequency", "1.2") == "Recommended"
    assert schema.feature_level("ServiceSubcategory", "1.1") == "Recommended"
    assert schema.feature_level("InvoiceId", "1.2") == "Recommended"
    assert schema.feature_level("SkuPriceId", "1.3") == "Conditional"
    assert schema.feature_level("ServiceSubcategory", "1.0") is None


def test_introduced_and_removed():
    for v, added in SPEC_ADDED.items():
        for name in added:
            assert schema.column(name).introduced == v
    for name in SPEC_10_COLUMNS:
        assert schema.column(name).introduced == "1.0"
    assert all(c.removed is None for c in schema.COLUMNS)


def test_lookup_errors():
    with pytest.raises(KeyError):
        schema.column("Nope")
    with pytest.raises(KeyError):
        schema.column("billedcost")  # exact spelling only; canonical_name() is case-insensitive
    with pytest.raises(ValueError):
        schema.columns("2.0")
    with pytest.raises(ValueError):
        schema.mandatory_columns("1.0-preview")


# --- kinds, SQL types, currencies ------------------------------------------------------------

def test_sql_types():
    assert schema.SQL_TYPES == {
        Kind.MONEY: "DECIMAL(38,12)", Kind.UNIT_PRICE: "DECIMAL(38,12)",
        Kind.QUANTITY: "DECIMAL(38,12)", Kind.DATETIME: "TIMESTAMP", Kind.CURRENCY: "VARCHAR",
        Kind.JSON: "JSON", Kind.STRING: "VARCHAR",
    }


@pytest.mark.parametrize(
    "name, kind",
    [
        ("BilledCost", Kind.MONEY), ("EffectiveCost", Kind.MONEY), ("ListCost", Kind.MONEY),
        ("ContractedCost", Kind.MONEY), ("PricingCurrencyEffectiveCost", Kind.MONEY),
        ("ListUnitPrice", Kind.UNIT_PRICE), ("ContractedUnitPrice", Kind.UNIT_PRICE),
        ("PricingCurrencyListUnitPrice", Kind.UNIT_PRICE),
        ("PricingCurrencyContractedUnitPrice", Kind.UNIT_PRICE),
        ("ConsumedQuantity", Kind.QUANTITY), ("PricingQuantity", Kind.QUANTITY),
        ("CommitmentDiscountQuantity", Kind.QUANTITY),
        ("BillingPeriodStart", Kind.DATETIME), ("BillingPeriodEnd", Kind.DATETIME),
        ("ChargePeriodStart", Kind.DATETIME), ("ChargePeriodEnd", Kind.DATETIME),
        ("BillingCurrency", Kind.CURRENCY), ("PricingCurrency", Kind.CURRENCY),
        ("Tags", Kind.JSON), ("SkuPriceDetails", Kind.JSON), ("AllocatedTags", Kind.JSON),
        ("AllocatedMethodDetails", Kind.JSON), ("ContractApplied", Kind.JSON),
        ("ChargeCategory", Kind.STRING), ("BillingAccountId", Kind.STRING),
        ("CommitmentDiscountUnit", Kind.STRING), ("PricingUnit", Kind.STRING),
    ],
)
def test_kinds(name, kind):
    assert schema.column(name).kind is kind


def test_currency_columns():
    assert schema.column("BillingCurrency").currency_iso_only is True
    # The 1.2 SaaS examples price in the virtual currency "Token".
    assert schema.column("PricingCurrency").currency_iso_only is False
    values = {r["PricingCurrency"] for p in EXAMPLES_12.rglob("virtual_currency_*.csv") for r in read_rows(p)}
    assert "Token" in values
    billing = {r["BillingCurrency"] for p in ALL_FILES for r in read_rows(p) if "BillingCurrency" in r}
    assert billing == {"USD"}


def test_nullability_matches_data_and_spec():
    # Mandatory non-nullable columns present in the 1.0 sample are never null there.
    # Known real-world deviation: the 7 Oracle rows leave ContractedCost NULL although the spec
    # says it MUST NOT be null; the schema keeps the spec's answer (not nullable).
    rows = read_rows(SAMPLE_10)
    for name in SPEC_MANDATORY_10:
        col = schema.column(name)
        if not col.nullable:
            nulls = [r for r in rows if r[name].strip().lower() in NULL_LITERALS]
            if name == "ContractedCost":
                assert len(nulls) == 7 and {r["ProviderName"] for r in nulls} == {"Oracle"}
            else:
                assert not nulls, name
    for name in ("BilledCost", "EffectiveCost", "BillingCurrency", "ChargeCategory",
                 "ServiceName", "ServiceCategory", "ChargePeriodStart", "ServiceProviderName"):
        assert schema.column(name).nullable is False, name
    for name in ("ChargeClass", "PricingQuantity", "PricingUnit", "ChargeDescription",
                 "BillingAccountName", "HostProviderName", "Tags", "ListUnitPrice"):
        assert schema.column(name).nullable is True, name


# --- allowed values --------------------------------------------------------------------------

def test_allowed_values_match_spec():
    for name, values in SPEC_ALLOWED.items():
        assert set(schema.column(name).allowed_values) == values, name
    enum_cols = {c.name for c in schema.COLUMNS if c.allowed_values is not None}
    assert enum_cols == set(SPEC_ALLOWED) | {"ServiceSubcategory"}
    for name in ("BillingAccountType", "SubAccountType", "CommitmentDiscountType", "PricingUnit"):
        assert schema.column(name).allowed_values is None, name


def test_service_subcategory_table():
    subs = schema.column("ServiceSubcategory").allowed_values
    assert len(subs) == len(set(subs)) == 82  # rows of the spec's table
    assert set(schema.SERVICE_SUBCATEGORIES) == SPEC_ALLOWED["ServiceCategory"]
    for cat, children in schema.SERVICE_SUBCATEGORIES.items():
        assert f"Other ({cat})" in children  # every category ends in its own "Other (...)"
    assert schema.SERVICE_SUBCATEGORY_PARENT["NoSQL Databases"] == "Databases"
    assert schema.SERVICE_SUBCATEGORY_PARENT["AI Platforms"] == "AI and Machine Learning"
    assert schema.SERVICE_SUBCATEGORY_PARENT["Other (Other)"] == "Other"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_enumerated_value_in_the_data_is_allowed(path):
    enum_cols = [c for c in schema.COLUMNS if c.allowed_values is not None]
    for row in read_rows(path):
        for col in enum_cols:
            raw = row.get(col.name)
            if raw is None or raw.strip().lower() in NULL_LITERALS:
                continue
            allowed = {v.lower() for v in col.allowed_values}
            assert canonicalise(col.name, raw).lower() in allowed, (col.name, raw)


def test_aliases_cover_the_known_deviations():
    # Each documented deviation really occurs in the data and is not a canonical value itself.
    seen = {
        ("ChargeFrequency", "Usage-based"): SAMPLE_10,
        ("ServiceCategory", "Database"): EXAMPLES_12 / "saas_examples" / "spend_agreements" / "saas_spend_agreements_a1.csv",
        ("ServiceSubcategory", "No-SQL DB"): EXAMPLES_12 / "saas_examples" / "spend_agreements" / "saas_spend_agreements_a1.csv",
    }
    for (name, raw), path in seen.items():
        assert raw in {r[name] for r in read_rows(path)}
        assert raw not in schema.column(name).allowed_values
    assert canonicalise("ChargeFrequency", "Usage-based") == "Usage-Based"
    assert canonicalise("ServiceCategory", "Database") == "Databases"
    assert canonicalise("ServiceSubcategory", "No-SQL DB") == "NoSQL Databases"
    assert canonicalise("PricingCategory", "On-Demand") == "Standard"  # 1.0-preview value


def test_value_aliases_are_well_formed():
    for name, mapping in schema.VALUE_ALIASES.items():
        allowed = schema.column(name).allowed_values
        assert allowed is not None, name
        for key, canonical in mapping.items():
            assert key == key.strip().lower(), key
            assert canonical in allowed, (name, canonical)


# --- renames / deprecations ------------------------------------------------------------------

def test_renamed_and_deprecated():
    assert schema.RENAMED == {"ProviderName": "ServiceProviderName"}
    assert schema.DEPRECATED == {"ProviderName": "1.3", "PublisherName": "1.3"}
    canonical = {c.name for c in schema.canonical_columns()}
    for old, new in {**schema.RENAMED, **schema.LEGACY_FILL}.items():
        assert old in canonical and new not in canonical
        assert schema.column(new).introduced == "1.3"
    # deprecated, still defined (and Mandatory) in 1.3
    assert {"ProviderName", "PublisherName"} <= {c.name for c in schema.columns("1.3")}
    for old, new in schema.PRE_1_0_RENAMED.items():
        assert schema.canonical_name(old) is None
        assert schema.column(new).introduced == "1.0"
