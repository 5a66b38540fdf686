"""Data shipped with the package: the FinOps Foundation's FOCUS 1.0 sample (CC BY 4.0).

FOCUS™ is a project of the FinOps Foundation; see ``focus-sample-1.0/LICENSE.md`` and ``README.md``
beside the data for its source and licence.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def focus_sample_csv() -> Path:
    """Path of the bundled ``focus_sample.csv``: 1,000 anonymized real FOCUS 1.0 rows
    (AWS, Microsoft, Oracle; billing periods 2024-09 and 2024-10)."""
    return Path(str(resources.files(__package__) / "focus-sample-1.0" / "focus_sample.csv"))


def allocation_rules() -> Path:
    """Path of the demo allocation rules (for the data ``finops-xl sample`` generates)."""
    return Path(str(resources.files(__package__) / "allocation" / "demo-rules.yaml"))
