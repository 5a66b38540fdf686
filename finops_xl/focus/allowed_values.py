"""The closed value sets of the FOCUS Cost and Usage columns, versions 1.0 - 1.3, in the spec's spelling and
order (sources: see ``schema.py``). Identical in 1.0, 1.1, 1.2 and 1.3 unless a comment says otherwise;
should a later version add values, append them to the tuple (union) and say so in a comment.

Pure data: no I/O, no imports. ``schema.py`` attaches each set to its column.
"""

from __future__ import annotations

__all__ = [
    "CHARGE_CATEGORY",
    "CHARGE_CLASS",
    "CHARGE_FREQUENCY",
    "PRICING_CATEGORY",
    "COMMITMENT_DISCOUNT_CATEGORY",
    "COMMITMENT_DISCOUNT_STATUS",
    "CAPACITY_RESERVATION_STATUS",
    "SERVICE_CATEGORY",
    "SERVICE_SUBCATEGORIES",
    "SERVICE_SUBCATEGORY_PARENT",
    "SERVICE_SUBCATEGORY",
]

CHARGE_CATEGORY = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
CHARGE_CLASS = ("Correction",)
CHARGE_FREQUENCY = ("One-Time", "Recurring", "Usage-Based")
PRICING_CATEGORY = ("Standard", "Dynamic", "Committed", "Other")
COMMITMENT_DISCOUNT_CATEGORY = ("Spend", "Usage")
COMMITMENT_DISCOUNT_STATUS = ("Used", "Unused")
CAPACITY_RESERVATION_STATUS = ("Used", "Unused")  # 1.1+

# ServiceCategory, in the order of the spec's allowed-values table (note "Multicloud" sits
# between "Developer Tools" and "Identity" there; the table is not alphabetical).
SERVICE_CATEGORY = (
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
)

#: ServiceSubcategory allowed values (1.1+), keyed by their one parent ServiceCategory, in the
#: order of the spec's table. 82 values; the same table in 1.1, 1.2 and 1.3.
SERVICE_SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "AI and Machine Learning": (
        "AI Platforms",
        "Bots",
        "Generative AI",
        "Machine Learning",
        "Natural Language Processing",
        "Other (AI and Machine Learning)",
    ),
    "Analytics": (
        "Analytics Platforms",
        "Business Intelligence",
        "Data Processing",
        "Search",
        "Streaming Analytics",
        "Other (Analytics)",
    ),
    "Business Applications": (
        "Productivity and Collaboration",
        "Other (Business Applications)",
    ),
    "Compute": (
        "Containers",
        "End User Computing",
        "Quantum Compute",
        "Serverless Compute",
        "Virtual Machines",
        "Other (Compute)",
    ),
    "Databases": (
        "Caching",
        "Data Warehouses",
        "Ledger Databases",
        "NoSQL Databases",
        "Relational Databases",
        "Time Series Databases",
        "Other (Databases)",
    ),
    "Developer Tools": (
        "Developer Platforms",
        "Continuous Integration and Deployment",
        "Development Environments",
        "Source Code Management",
        "Quality Assurance",
        "Other (Developer Tools)",
    ),
    "Identity": (
        "Identity and Access Management",
        "Other (Identity)",
    ),
    "Integration": (
        "API Management",
        "Messaging",
        "Workflow Orchestration",
        "Other (Integration)",
    ),
    "Internet of Things": (
        "IoT Analytics",
        "IoT Platforms",
        "Other (Internet of Things)",
    ),
    "Management and Governance": (
        "Architecture",
        "Compliance",
        "Cost Management",
        "Data Governance",
        "Disaster Recovery",
        "Endpoint Management",
        "Observability",
        "Support",
        "Other (Management and Governance)",
    ),
    "Media": (
        "Content Creation",
        "Gaming",
        "Media Streaming",
        "Mixed Reality",
        "Other (Media)",
    ),
    "Migration": (
        "Data Migration",
        "Resource Migration",
        "Other (Migration)",
    ),
    "Mobile": ("Other (Mobile)",),
    "Multicloud": (
        "Multicloud Integration",
        "Other (Multicloud)",
    ),
    "Networking": (
        "Application Networking",
        "Content Delivery",
        "Network Connectivity",
        "Network Infrastructure",
        "Network Routing",
        "Network Security",
        "Other (Networking)",
    ),
    "Security": (
        "Secret Management",
        "Security Posture Management",
        "Threat Detection and Response",
        "Other (Security)",
    ),
    "Storage": (
        "Backup Storage",
        "Block Storage",
        "File Storage",
        "Object Storage",
        "Storage Platforms",
        "Other (Storage)",
    ),
    "Web": (
        "Application Platforms",
        "Other (Web)",
    ),
    "Other": ("Other (Other)",),
}

#: ServiceSubcategory -> its one parent ServiceCategory ("MUST have one and only one parent").
SERVICE_SUBCATEGORY_PARENT: dict[str, str] = {
    sub: cat for cat, subs in SERVICE_SUBCATEGORIES.items() for sub in subs
}

SERVICE_SUBCATEGORY = tuple(SERVICE_SUBCATEGORY_PARENT)
