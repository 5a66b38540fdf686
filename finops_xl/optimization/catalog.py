"""A small bundled catalog of common instance sizes: vCPUs, memory and list price per hour.

Prices are the providers' published on-demand list prices for Linux, in the home regions the sample
data uses (AWS us-east-1, Azure East US, Google Cloud us-central1), from the AWS EC2 On-Demand pricing
page, the Azure Linux Virtual Machines pricing page and the Compute Engine VM instance pricing page.
They are used only as *ratios* (a smaller size costs x % of the current one; a current generation
costs y % of the old one at the same size) applied to the resource's own billed cost, so negotiated
discounts and regional multipliers carry over. A size missing here is priced in proportion to its
vCPUs, which is how every family below is priced within itself.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

__all__ = ["Size", "SIZES", "PREVIOUS_GENERATION", "family_of", "sizes_in_family", "current_generation"]


@dataclasses.dataclass(frozen=True)
class Size:
    name: str
    family: str
    vcpu: int
    memory_gib: Decimal
    price: Decimal  # USD per hour, list, Linux


def _family(family: str, rows: list[tuple[str, int, str, str]]) -> list[Size]:
    return [Size(n, family, v, Decimal(m), Decimal(p)) for n, v, m, p in rows]


SIZES: dict[str, Size] = {s.name: s for s in [
    # AWS, us-east-1
    *_family("m4", [("m4.large", 2, "8", "0.10"), ("m4.xlarge", 4, "16", "0.20"), ("m4.2xlarge", 8, "32", "0.40"),
                    ("m4.4xlarge", 16, "64", "0.80")]),
    *_family("m5", [("m5.large", 2, "8", "0.096"), ("m5.xlarge", 4, "16", "0.192"),
                    ("m5.2xlarge", 8, "32", "0.384"), ("m5.4xlarge", 16, "64", "0.768")]),
    *_family("m6i", [("m6i.large", 2, "8", "0.096"), ("m6i.xlarge", 4, "16", "0.192"),
                     ("m6i.2xlarge", 8, "32", "0.384"), ("m6i.4xlarge", 16, "64", "0.768"),
                     ("m6i.8xlarge", 32, "128", "1.536")]),
    *_family("c4", [("c4.large", 2, "3.75", "0.10"), ("c4.xlarge", 4, "7.5", "0.199"),
                    ("c4.2xlarge", 8, "15", "0.398"), ("c4.4xlarge", 16, "30", "0.796")]),
    *_family("c6i", [("c6i.large", 2, "4", "0.085"), ("c6i.xlarge", 4, "8", "0.17"), ("c6i.2xlarge", 8, "16", "0.34"),
                     ("c6i.4xlarge", 16, "32", "0.68")]),
    *_family("r4", [("r4.large", 2, "15.25", "0.133"), ("r4.xlarge", 4, "30.5", "0.266"),
                    ("r4.2xlarge", 8, "61", "0.532")]),
    *_family("r6i", [("r6i.large", 2, "16", "0.126"), ("r6i.xlarge", 4, "32", "0.252"),
                     ("r6i.2xlarge", 8, "64", "0.504"), ("r6i.4xlarge", 16, "128", "1.008")]),
    *_family("t2", [("t2.medium", 2, "4", "0.0464"), ("t2.large", 2, "8", "0.0928"), ("t2.xlarge", 4, "16", "0.1856")]),
    *_family("t3", [("t3.medium", 2, "4", "0.0416"), ("t3.large", 2, "8", "0.0832"), ("t3.xlarge", 4, "16", "0.1664")]),
    # Azure, East US
    *_family("Dv2", [("Standard_D2_v2", 2, "7", "0.114"), ("Standard_D3_v2", 4, "14", "0.229"),
                     ("Standard_D4_v2", 8, "28", "0.458")]),
    *_family("Dsv5", [("Standard_D2s_v5", 2, "8", "0.096"), ("Standard_D4s_v5", 4, "16", "0.192"),
                      ("Standard_D8s_v5", 8, "32", "0.384"), ("Standard_D16s_v5", 16, "64", "0.768")]),
    *_family("Esv5", [("Standard_E2s_v5", 2, "16", "0.126"), ("Standard_E4s_v5", 4, "32", "0.252"),
                      ("Standard_E8s_v5", 8, "64", "0.504")]),
    # Google Cloud, us-central1
    *_family("n1-standard", [("n1-standard-2", 2, "7.5", "0.0949995"), ("n1-standard-4", 4, "15", "0.189999"),
                             ("n1-standard-8", 8, "30", "0.379998")]),
    *_family("n2-standard", [("n2-standard-2", 2, "8", "0.097118"), ("n2-standard-4", 4, "16", "0.194236"),
                             ("n2-standard-8", 8, "32", "0.388472"), ("n2-standard-16", 16, "64", "0.776944")]),
    *_family("e2-standard", [("e2-standard-2", 2, "8", "0.067006"), ("e2-standard-4", 4, "16", "0.134012"),
                             ("e2-standard-8", 8, "32", "0.268024")]),
]}

#: Previous-generation family → the current family that is cheaper at the same vCPU count.
PREVIOUS_GENERATION: dict[str, str] = {
    "m4": "m6i", "c4": "c6i", "r4": "r6i", "t2": "t3", "Dv2": "Dsv5", "n1-standard": "e2-standard",
}


def family_of(instance_type: str | None) -> str | None:
    size = SIZES.get(instance_type or "")
    return size.family if size else None


def sizes_in_family(family: str) -> list[Size]:
    """The family's sizes, smallest first."""
    return sorted((s for s in SIZES.values() if s.family == family), key=lambda s: (s.vcpu, s.memory_gib))


def current_generation(instance_type: str) -> Size | None:
    """The cheapest current-generation size with the same vCPUs and at least the memory, when it is
    cheaper than ``instance_type``; else None."""
    old = SIZES.get(instance_type)
    if old is None or old.family not in PREVIOUS_GENERATION:
        return None
    fits = [s for s in sizes_in_family(PREVIOUS_GENERATION[old.family])
            if s.vcpu == old.vcpu and s.memory_gib >= old.memory_gib and s.price < old.price]
    return min(fits, key=lambda s: s.price, default=None)
