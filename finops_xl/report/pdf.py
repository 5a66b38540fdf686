"""The report's HTML printed to PDF by headless Chromium (Debian's ``chromium``): the page size,
margins and page breaks come from the HTML's print CSS; no new Python dependency."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from finops_xl.report import ReportError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def print_pdf(html_path: Path, pdf_path: Path, *, timeout: float = 120) -> Path:
    exe = browser()
    if exe is None:
        raise ReportError("no Chromium to print the PDF with: install it (apt-get install chromium) "
                          "or use --no-pdf")
    with tempfile.TemporaryDirectory(prefix="finops-xl-chromium-") as profile:
        done = subprocess.run(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--no-pdf-header-footer", "--hide-scrollbars",
             f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False)
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ReportError(f"Chromium did not print {pdf_path} (exit {done.returncode}: {last})")
    return pdf_path
