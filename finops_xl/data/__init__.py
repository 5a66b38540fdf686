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


#: The sample input files that go with the generated data: name → path inside the package.
_SAMPLE_INPUTS = {
    "demo-rules.yaml": ("allocation", "demo-rules.yaml"),   # allocate --rules
    "demo-accounts.csv": ("allocation", "demo-accounts.csv"),  # the rules' account hierarchy
    "ledger-map.csv": ("inputs", "ledger-map.csv"),         # close --ledger
    "budget.csv": ("inputs", "budget.csv"),                 # close --budget (the Variance sheet)
    "drivers.csv": ("inputs", "drivers.csv"),               # workbook budget --drivers
    "unit-costs.csv": ("inputs", "unit-costs.csv"),         # workbook budget --unit-costs
    "business.csv": ("inputs", "business.csv"),             # report --business (unit economics)
}


def sample_inputs() -> dict[str, Path]:
    """The sample input files for the data ``finops-xl sample`` generates (teams, cost centers and
    service categories of the demo), by file name: allocation rules, a ledger map (owner → cost
    center, service category → GL account), a budget for its months (2025-01 to 2025-06) and
    business drivers with unit costs for the twelve months after (2025-07 to 2026-06). See
    ``inputs/README.md`` for their columns."""
    root = resources.files(__package__)
    return {name: Path(str(root.joinpath(*parts))) for name, parts in _SAMPLE_INPUTS.items()}


def write_sample_inputs(folder: str | Path) -> list[Path]:
    """Copy :func:`sample_inputs` into ``folder`` (created); returns the files written."""
    import shutil

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(path, folder / name)) for name, path in sample_inputs().items()]


def design_model() -> Path:
    """Path of the bundled design model: splitting a checkout monolith into six services, each
    with its own database, load balancer and per-service overhead, inter-service traffic between
    zones, a migration cost and a savings plan (``finops-xl design --model``)."""
    return Path(str(resources.files(__package__) / "design" / "monolith-to-services.yaml"))
