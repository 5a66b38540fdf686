"""The shape of the sample's catalog: teams and their tag spellings, resource templates, sub-accounts,
regions, commitment and provider definitions. The three providers' catalogs fill it in
(``catalog_aws``, ``catalog_azure``, ``catalog_gcp``)."""

from __future__ import annotations

import dataclasses

_TEAMS = ("payments", "search", "data-platform", "ml", "web", "mobile", "platform")
_APP_TEAMS = (0, 1, 2, 3, 4, 5)
_TEAM_VARIANTS = {  # [Title, lower, lower-team, alias]
    "payments": ("Payments", "payments", "payments-team", "PAYMENTS"),
    "search": ("Search", "search", "search-team", "search-relevance"),
    "data-platform": ("Data Platform", "data-platform", "data-platform-team", "dataplatform"),
    "ml": ("ML", "ml", "ml-team", "machine-learning"),
    "web": ("Web", "web", "web-team", "frontend"),
    "mobile": ("Mobile", "mobile", "mobile-team", "mobile-apps"),
    "platform": ("Platform", "platform", "platform-team", "platform-eng"),
}
_COST_CENTERS = {"payments": 1001, "search": 1002, "data-platform": 1003, "ml": 1004, "web": 1005,
                 "mobile": 1006, "platform": 1007}
_ENVS = ("prod", "dev", "staging")
_ENV_VARIANTS = {  # [Title, short, long-lower, alias]
    "prod": ("Production", "prod", "production", "prd"),
    "dev": ("Development", "dev", "development", "dev"),
    "staging": ("Staging", "stg", "staging", "stage"),
}
# (team key, env key, cost-center key or None, cost-center format, team variant, env variant,
#  allowed variant indexes for values (Google labels must be lowercase))
_TAG_STYLES = (
    ("Team", "Environment", "CostCenter", "CC-{n}", 0, 0, (0, 1, 2, 3)),
    ("team", "env", "cost-center", "{n}", 1, 1, (0, 1, 2, 3)),
    ("owner-team", "environment", None, "", 2, 2, (0, 1, 2, 3)),
    ("owner_team", "Environment", "CostCenter", "CC{n}", 1, 1, (0, 1, 2, 3)),
    ("team", "env", "cost-center", "cc-{n}", 1, 1, (1, 2)),
    ("owner_team", "environment", "cost_center", "cc{n}", 2, 2, (1, 2)),
    ("Team", "env", "cost-center", "CC-{n}", 0, 1, (0, 1, 2, 3)),
)
_PROJECTS = ("llm-pretrain", "recsys", "fraud-model", "search-ranking")

_KIND = {"hours": 0, "storage": 1, "volume": 2, "count": 3}
_PCAT = ("Standard", "Dynamic", "Committed")


@dataclasses.dataclass(frozen=True)
class _Tmpl:
    key: str
    service: str
    category: str
    subcategory: str
    meter: str
    desc: str  # "{price}" is replaced with the regional list unit price
    punit: str
    cunit: str
    price: str
    kind: str
    weight: float
    roles: tuple[str, ...]
    rtype: str
    rid: str  # resource id pattern ({hex16}, {acct}, {region}, {az}, {name}, {seq}, ...)
    name: str = "{team}-{purpose}-{env}-{seq}"
    purpose: str = "app"
    base: float = 0.0  # median per-resource daily level (GB stored / GB moved / count per day)
    sigma: float = 0.0
    pq_div: int = 1  # PricingQuantity = ConsumedQuantity / pq_div
    disc: float = 0.0  # negotiated discount (ContractedUnitPrice = list * (1 - disc))
    pcat: int = 0  # index into _PCAT
    zonal: bool = False
    region: int = -1  # fixed region index or -1
    min_count: int = 0
    family: str = ""
    norm: int = 1
    gpu: int = 0
    k8s: bool = False
    autoscale: float = 0.0
    details: tuple = ()


def _vm(key, service, itype, price, weight, roles, *, cores, mem, rid, family="", norm=1, gpu=0, disc=0.0,
        purpose="app", k8s=False, name="{team}-{purpose}-{env}-{seq}", region=-1, autoscale=0.15, pcat=0,
        desc=None, meter="Compute Usage") -> _Tmpl:
    details = [("InstanceType", itype), ("CoreCount", cores), ("MemorySize", mem), ("OperatingSystem", "Linux")]
    if gpu:
        details.append(("GpuCount", gpu))
    if family:
        details.append(("Series", family))
    return _Tmpl(key=key, service=service, category="Compute", subcategory="Virtual Machines", meter=meter,
                 desc=desc or f"${{price}} per On Demand Linux {itype} Instance Hour", punit="Hours",
                 cunit="Hours", price=price, kind="hours", weight=weight, roles=roles, rtype="Virtual Machine",
                 rid=rid, name=name, purpose=purpose, disc=disc, pcat=pcat, zonal=True, region=region,
                 family=family, norm=norm, gpu=gpu, k8s=k8s, autoscale=autoscale, details=tuple(details))


_APP = ("app", "data", "sandbox")
_ALL = ("app", "data", "ml", "platform", "network", "security", "sandbox")


@dataclasses.dataclass(frozen=True)
class _Acct:
    id: str
    name: str
    role: str  # mgmt | app | data | ml | platform | network | security | sandbox
    team: int  # index into _TEAMS or -1
    env: int  # index into _ENVS
    style: int  # index into _TAG_STYLES
    untag: float  # probability that a resource carries no tags
    weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class _Region:
    id: str
    name: str
    weight: float
    mult: str  # list price multiplier vs. the home region
    zones: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class _CommitDef:
    key: str
    ctype: str  # CommitmentDiscountType
    category: str  # Usage | Spend
    term_years: int
    payment: str
    upfront_share: str  # share of the amortised rate paid upfront ("0", "0.5", "1")
    start_offset: int  # days after window start (negative = bought before the window)
    start_month: int  # if >= 0: bought on day `start_offset` of this window month (clamped to the window)
    families: tuple[str, ...]  # eligible template families (usage) / templates with these families (spend)
    region: int  # eligible region index or -1 (any)
    disc: float  # discount vs list of the amortised commitment rate
    frac: float  # sizing: share of eligible usage at the start that the commitment covers
    unit: str
    service: str
    category_svc: str
    subcategory_svc: str
    name: str
    id_pattern: str
    spend_templates: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class _ProviderDef:
    code: str  # file prefix / short name
    provider: str
    publisher: str
    issuer: str
    billing_account_id: str
    billing_account_name: str
    billing_account_type: str
    sub_account_type: str
    regions: tuple[_Region, ...]
    accounts: tuple[_Acct, ...]
    templates: tuple[_Tmpl, ...]
    commits: tuple[_CommitDef, ...]
    untagged: str | None  # representation of "no tags"
    k8s_tags: dict
    tax_rate: str
    sku_style: str
    invoice_fmt: str
    spike_template: str
    spike_share: float
    credit_account: str
    credit_share: str
    credit_desc: str
    credit_service: tuple[str, str, str]
    support_service: str
    correction_template: str
