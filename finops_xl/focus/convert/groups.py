"""A group of native export files that converts together into one FOCUS file (``NativeGroup``),
and the reader over its files; the format modules' SQL does the converting."""

from __future__ import annotations

import dataclasses

from finops_xl.errors import Notice
from finops_xl.focus.convert import aws, azure, gcp, oci, oci_focus
from finops_xl.focus.convert.common import Header
from finops_xl.sources import SourceFile, reader_sql

#: single-file formats whose module's ``focus_sql(header, reader)`` converts them.
_SQL = {"gcp-billing": gcp, "oci-cost": oci, "oci-focus": oci_focus}


@dataclasses.dataclass(frozen=True)
class NativeGroup:
    """Native files that convert together into one FOCUS file.

    Attributes:
      format: a key of :data:`FORMATS` (``azure`` for an actual + amortized pair).
      sources: the files (for Azure: actual-cost files, then amortized-cost files).
      header: the columns of the first file.
      amortized: for Azure, how many of ``sources`` (from the end) are amortized-cost exports.
      amortized_header: for Azure, the columns of the first amortized-cost file.
      guessed: for Azure, the files whose name and rows did not tell actual from amortized cost
        (converted as actual cost; a notice says so).
      notes: notices the load adds about the group (e.g. the earlier companion export that completes
        a one-sided Azure month: ``store.companions``).
    """

    format: str
    sources: tuple[SourceFile, ...]
    header: Header
    amortized: int = 0
    amortized_header: Header | None = None
    guessed: tuple[str, ...] = ()
    notes: tuple[Notice, ...] = ()

    @property
    def label(self) -> str:
        return " + ".join(s.label for s in self.sources)

    def focus_sql(self) -> str:
        """SELECT producing the group's rows as canonical FOCUS 1.2 columns."""
        if self.format in ("aws-cur", "aws-cur-athena", "aws-cur2"):
            return aws.focus_sql(self.header, _reader(self.sources))
        if self.format in _SQL:
            return _SQL[self.format].focus_sql(self.header, _reader(self.sources))
        actual = self.sources[: len(self.sources) - self.amortized]
        amortized = self.sources[len(self.sources) - self.amortized :]
        return azure.focus_sql(self.header if actual else None, _reader(actual) if actual else None,
                               self.amortized_header, _reader(amortized) if amortized else None)


def _reader(sources) -> str:
    sources = list(sources)
    if sources[0].format in ("parquet", "jsonl"):
        return reader_sql(sources, union_by_name=True)
    return reader_sql(sources)


def _show_periods(keys: set[tuple[str, str]]) -> str:
    return ", ".join(f"{account} {month}" for account, month in sorted(keys)) or "none"
