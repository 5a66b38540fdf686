"""LibreOffice headless for the recalculation tests: recalculate workbooks, export them to PDF.

Each test session uses a private LibreOffice profile (``-env:UserInstallation``), so a LibreOffice
the user has open, or another test run, cannot lock it. The profile tells Calc to recalculate
every formula when it loads an .xlsx file, instead of trusting cached values.

Without ``soffice`` the tests that need it are skipped; under ``CI=true`` conftest turns such a
skip into a failure, because CI must run the recalculation layer.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

#: Calc settings: recalculate OOXML and ODF files on load, always (0 = always).
_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

_profile: Path | None = None


def soffice() -> str:
    """The LibreOffice executable; skips the test when there is none."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        pytest.skip("LibreOffice (soffice) is not installed: the recalculation tests need it "
                    "(apt-get install libreoffice-calc)")
    return found


def _profile_url() -> str:
    global _profile
    if _profile is None:
        _profile = Path(tempfile.mkdtemp(prefix="finops-xl-libreoffice-"))
        atexit.register(shutil.rmtree, _profile, ignore_errors=True)
        (_profile / "user").mkdir()
        (_profile / "user" / "registrymodifications.xcu").write_text(_SETTINGS, encoding="utf-8")
    return _profile.as_uri()


def convert(paths: list[Path], out_dir: Path, to: str = "xlsx", timeout: float = 240) -> list[Path]:
    """Open each file in LibreOffice Calc (recalculating it) and save it as ``to`` into
    ``out_dir`` (which must not be the files' folder); returns the new files' paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    assert all(p.parent.resolve() != out_dir.resolve() for p in paths), "out_dir must differ"
    command = [soffice(), f"-env:UserInstallation={_profile_url()}", "--headless", "--norestore",
               "--calc", "--convert-to", to, "--outdir", str(out_dir), *map(str, paths)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          check=False)
    results = [out_dir / f"{p.stem}.{to}" for p in paths]
    missing = [r for r in results if not r.is_file()]
    assert not missing, (f"LibreOffice did not write {missing} (exit {done.returncode}):\n"
                         f"{done.stdout}\n{done.stderr}")
    return results


def recalculate(path: Path, out_dir: Path) -> Path:
    """``path`` recalculated by LibreOffice, saved as .xlsx in ``out_dir``."""
    return convert([path], out_dir)[0]
