"""What cost can be filtered and grouped by: named dimensions over the store's daily cost cube.

A dimension is named the way an analyst would say it (``provider``, ``sub account``,
``service category``) or by its FOCUS column (``ProviderName``, ``SubAccountId``); matching ignores
case, spaces, ``_`` and ``-``. Any tag key is a dimension too: ``tag:team``, or the bare key when it
names no other dimension.
"""

from __future__ import annotations

import dataclasses
import re

from finops_xl.store.sources import json_key


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One way to slice cost.

    Attributes:
      name: the canonical name shown to users (``service_category``).
      sql: SQL over the cube producing the dimension's value.
      description: one line, for help texts and the Function Wizard.
      groupable_only: True for time dimensions (``month``, ``date``), which group but do not filter
        (the period arguments do that).
      alloc_sql: SQL over the allocation (``allocated_charges``) for the dimensions it has too.
      allocated: True for dimensions only the allocation has (owner, pool, …): questions naming
        one are answered from the allocation, which is monthly and carries no charge attributes.
    """

    name: str
    sql: str | None
    description: str
    groupable_only: bool = False
    alloc_sql: str | None = None
    allocated: bool = False


#: The standard dimensions, in the order they are listed to users.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("provider", '"ProviderName"', "cloud provider (FOCUS ProviderName)"),
    Dimension("billing_account", '"BillingAccountId"', "billing account id"),
    Dimension("billing_account_name", '"BillingAccountName"', "billing account name"),
    Dimension("sub_account", '"SubAccountId"', "sub-account id (AWS account, Azure subscription, GCP project)"),
    Dimension("sub_account_name", '"SubAccountName"', "sub-account name"),
    Dimension("service", '"ServiceName"', "service name (FOCUS ServiceName)"),
    Dimension("service_category", '"ServiceCategory"', "FOCUS service category (Compute, Storage, ...)"),
    Dimension("region", '"RegionId"', "region id"),
    Dimension("charge_category", '"ChargeCategory"', "Usage, Purchase, Tax, Credit or Adjustment"),
    Dimension("currency", '"BillingCurrency"', "billing currency (ISO 4217)", alloc_sql='"currency"'),
    Dimension("month", "strftime(\"ChargeDate\", '%Y-%m')", "month of the charge (YYYY-MM)", True,
              alloc_sql="strftime(\"month\", '%Y-%m')"),
    Dimension("date", "\"ChargeDate\"", "day of the charge", True),
    Dimension("owner", None, "owner after allocation (finops-xl allocate)", alloc_sql='"owner"',
              allocated=True),
    Dimension("business_unit", None, "owner's business unit, after allocation",
              alloc_sql='"business_unit"', allocated=True),
    Dimension("product", None, "owner's product, after allocation", alloc_sql='"product"',
              allocated=True),
    Dimension("cost_center", None, "owner's cost center, after allocation",
              alloc_sql='"cost_center"', allocated=True),
    Dimension("allocation", None, "how cost reached its owner: direct, shared or unallocated",
              alloc_sql='"kind"', allocated=True),
    Dimension("allocation_method", None, "tag, account_default, hierarchy, even, proportional, …",
              alloc_sql='"method"', allocated=True),
    Dimension("pool", None, "the shared-cost pool a share came from", alloc_sql='"pool_id"',
              allocated=True),
)

_FOCUS_COLUMNS = {
    "providername": "provider", "billingaccountid": "billing_account",
    "billingaccountname": "billing_account_name", "subaccountid": "sub_account",
    "subaccountname": "sub_account_name", "servicename": "service",
    "servicecategory": "service_category", "regionid": "region", "chargecategory": "charge_category",
    "billingcurrency": "currency", "account": "sub_account", "subscription": "sub_account",
    "project": "sub_account", "category": "service_category",
}

#: Cost measures: canonical name → cube column.
METRICS = {
    "EffectiveCost": "EffectiveCost",
    "BilledCost": "BilledCost",
    "ListCost": "ListCost",
    "ContractedCost": "ContractedCost",
}
DEFAULT_METRIC = "EffectiveCost"


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-]", "", text).lower()


_BY_FOLDED = {_fold(d.name): d for d in DIMENSIONS}
_BY_FOLDED.update({k: _BY_FOLDED[_fold(v)] for k, v in _FOCUS_COLUMNS.items()})


class UnknownName(ValueError):
    """A dimension or metric name that does not exist; the message lists the valid ones."""


def tag_dimension(key: str) -> Dimension:
    """The dimension of one tag key (values as text; untagged rows have none)."""
    return Dimension(f"tag:{key}", json_key('"Tags"', key), f"tag {key!r}")


def resolve_dimension(name: str, tag_keys: frozenset[str] | set[str] = frozenset()) -> Dimension:
    """The dimension called ``name``.

    Raises UnknownName listing the standard dimensions and (some of) the tag keys.
    """
    text = str(name).strip()
    if text.lower().startswith("tag:"):
        key = text[4:].strip()
        if key in tag_keys:
            return tag_dimension(key)
        raise UnknownName(f"no tag key {key!r} in the store; tag keys: {_some(tag_keys)}")
    found = _BY_FOLDED.get(_fold(text))
    if found is not None:
        return found
    if text in tag_keys:
        return tag_dimension(text)
    folded = {_fold(k): k for k in tag_keys}
    if _fold(text) in folded:
        return tag_dimension(folded[_fold(text)])
    names = ", ".join(d.name for d in DIMENSIONS)
    raise UnknownName(f"unknown dimension {text!r}: use one of {names}, or a tag key "
                      f"(tag:KEY); tag keys: {_some(tag_keys)}")


def resolve_metric(name: str | None) -> str:
    """The cube column for metric ``name`` (default EffectiveCost); accepts ``billed``, ``list``, …"""
    if name is None or str(name).strip() == "":
        return DEFAULT_METRIC
    folded = _fold(str(name)).removesuffix("cost")
    for metric in METRICS:
        if _fold(metric).removesuffix("cost") == folded:
            return metric
    raise UnknownName(f"unknown metric {name!r}: use one of {', '.join(METRICS)}")


def is_metric(name: str) -> bool:
    """True if ``name`` names a metric (see ``resolve_metric``)."""
    try:
        resolve_metric(name)
    except UnknownName:
        return False
    return True


def _some(keys, limit: int = 12) -> str:
    keys = sorted(keys)
    if not keys:
        return "(none)"
    shown = ", ".join(keys[:limit])
    return shown + (f", … ({len(keys)} in all)" if len(keys) > limit else "")
