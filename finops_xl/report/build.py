"""Build the leader pack: gather, lay out, write the HTML and print it to PDF."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

from finops_xl.report.data import ReportData, gather
from finops_xl.report.html import render
from finops_xl.report.pdf import print_pdf


@dataclasses.dataclass(frozen=True)
class Written:
    data: ReportData
    html: Path
    pdf: Path | None


def build_report(store, month: dt.date, out: Path, *, owner: str | None = None, budget: Path | None = None,
                 business: Path | None = None, pdf: bool = True) -> Written:
    data = gather(store, month, owner=owner, budget=budget, business=business)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"leader-pack-{month:%Y-%m}" + (f"-{owner}" if owner else "")
    html_path = out / f"{stem}.html"
    tmp = html_path.with_name(html_path.name + ".tmp")
    tmp.write_text(render(data), encoding="utf-8")
    os.replace(tmp, html_path)
    pdf_path = print_pdf(html_path, out / f"{stem}.pdf") if pdf else None
    return Written(data, html_path, pdf_path)
