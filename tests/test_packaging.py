"""Every package in the tree is in pyproject's explicit package list (else a wheel leaves it out)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "finops_xl").rglob("__init__.py")}
    found |= {"finops_udfs", "finops_workbooks"}
    assert found <= listed, sorted(found - listed)
    for name, where in config["package-dir"].items():
        assert (ROOT / where / "__init__.py").is_file(), name
