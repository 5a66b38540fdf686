"""``finops-xl convert --to focus``: write native exports as FOCUS 1.2 files for use elsewhere.

Each group of native files that converts together (see ``native_groups``) becomes one file in the
output folder, named after its first input (``cur-2025-01.csv`` → ``cur-2025-01.focus.parquet``).
Every written file is then checked by the same FOCUS reader the store loads with, so what this
writes is what ``finops-xl ingest`` accepts.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb

from finops_xl.focus.convert import FORMATS, convert_group, native_groups
from finops_xl.focus.reader import FocusFile, check_files
from finops_xl.errors import IngestError
from finops_xl.sources import discover, sniff

#: Output file formats.
OUTPUT_FORMATS = ("parquet", "csv")


@dataclasses.dataclass(frozen=True)
class Converted:
    """One written FOCUS file.

    Attributes:
      inputs: the native files it was converted from (labels as given).
      native_format: their format (a key of ``FORMATS``, or ``azure`` for an actual + amortized pair).
      path: the FOCUS file written.  rows: its rows.
    """

    inputs: tuple[str, ...]
    native_format: str
    path: Path
    rows: int

    @property
    def description(self) -> str:
        if self.native_format == "azure":
            return "Azure cost details (actual + amortized cost)"
        return FORMATS[self.native_format][0]


def convert_exports(
    paths: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str], *, fmt: str = "parquet"
) -> tuple[list[Converted], list[str]]:
    """Convert the native exports among ``paths`` to FOCUS 1.2 files in ``out_dir``.

    Returns (the files written, the inputs skipped because they already are FOCUS exports). Raises
    IngestError, writing nothing, if any input is neither, or a converted file fails the FOCUS checks.
    """
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}, not {fmt!r}")
    out = Path(out_dir)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")  # the store's session setting
        focus, groups = native_groups(con, discover(list(paths)))
        focus_files = [FocusFile(con, s) for s in focus]  # raises for a file that is not FOCUS either
        out.mkdir(parents=True, exist_ok=True)
        written: list[Converted] = []
        for group in groups:
            stem = group.sources[0].path.name.split(".")[0]
            target = out / f"{stem}.focus.{fmt}"
            convert_group(con, group, target, fmt)
            written.append(Converted(tuple(s.label for s in group.sources), group.format, target, 0))
        checked = [FocusFile(con, sniff(c.path)) for c in written]
        problems = [p for found in check_files(con, checked) for p in found]
        if problems:
            for c in written:
                c.path.unlink(missing_ok=True)
            raise IngestError(problems)
        written = [dataclasses.replace(c, rows=f.rows or 0) for c, f in zip(written, checked)]
    finally:
        con.close()
    return written, [f.source.label for f in focus_files]
