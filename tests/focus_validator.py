"""Run the FinOps Foundation's focus-validator on a file and read its per-rule results.

The validator needs Python >= 3.12, so it lives in its own virtual environment (``.ci/run`` creates
``.venv-validator`` in the repository). ``$FOCUS_VALIDATOR`` may name its ``focus-validator``
executable instead. It runs fully offline on its bundled rule model (``--block-download``).

Its exit code is 0 even when rules fail, so the results are read from its JUnit XML report
(``--output-type unittest``): one ``testcase`` per rule, holding ``failure`` or ``skipped`` when the
rule failed or did not run.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def executable() -> Path | None:
    """The focus-validator executable, or None when it is not installed."""
    given = os.environ.get("FOCUS_VALIDATOR")
    path = Path(given) if given else REPO / ".venv-validator" / "bin" / "focus-validator"
    return path if path.is_file() else None


def _site_packages(exe: Path) -> Path:
    python = exe.parent / "python"
    out = subprocess.run(
        [str(python), "-c", "import focus_validator, os; "
                            "print(os.path.dirname(os.path.dirname(focus_validator.__file__)))"],
        check=True, capture_output=True, text=True,
    )
    return Path(out.stdout.strip())


def validate(data: Path, report: Path, *, version: str, criteria: tuple[str, ...]) -> dict[str, str]:
    """Run the validator on ``data``; returns rule id → "passed", "failed" or "skipped"."""
    exe = executable()
    assert exe is not None, "focus-validator is not installed"
    # the validator opens its bundled currency list by a path relative to its installation folder
    proc = subprocess.run(
        [str(exe), "--data-file", str(data), "--validate-version", version, "--block-download",
         "--applicability-criteria", ",".join(criteria), "--output-type", "unittest",
         "--output-destination", str(report)],
        cwd=_site_packages(exe), capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0 and report.is_file(), (
        f"focus-validator did not run (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    results: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        rule = case.get("name", "").split(" :: ")[0]
        if case.find("failure") is not None or case.find("error") is not None:
            results[rule] = "failed"
        elif case.find("skipped") is not None:
            results[rule] = "skipped"
        else:
            results[rule] = "passed"
    return results
